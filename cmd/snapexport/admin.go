package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
)

const adminUsage = `usage: snapexport admin <resource> <action> [flags]

  org create --name NAME                      org list
  project create --org ID --name NAME         project list --org ID
  apikey create --org ID [--description D] [--org-role ROLE]
  apikey list --org ID                        apikey delete --public-key KEY
  serviceaccount create --org ID --name NAME [--description D] [--org-role ROLE]
  serviceaccount list --org ID                serviceaccount delete --client-id ID
  role assign   (--public-key KEY | --client-id ID) [--project ID] --role ROLE
  role unassign (--public-key KEY | --client-id ID) [--project ID] --role ROLE
  role list     (--public-key KEY | --client-id ID)
  cluster create --group ID --name NAME [--shards rs0,rs1,…] [--mongodb-version V] [--label k=v …]
  cluster list --group ID

Every action takes --data DIR and --json. Roles on an organization: ORG_OWNER,
ORG_MEMBER; on a project: GROUP_OWNER, GROUP_BACKUP_MANAGER,
GROUP_BACKUP_CREATOR, GROUP_BACKUP_EXPORT_OPERATOR, GROUP_READ_ONLY.
`

// adminCmd is one admin action with its own flags.
type adminCmd struct {
	fs     *flag.FlagSet
	data   *string
	json   *bool
	stdout io.Writer
	run    func(ctx context.Context, srv *server.Server) (any, error)
	// text renders the result for a terminal.
	text func(w io.Writer, v any)
	// needed are the flags that must be given, checked before the store
	// is opened.
	needed []neededFlag
}

type neededFlag struct {
	name  string
	value *string
}

// need marks a string flag as required.
func (c *adminCmd) need(name string, value *string) {
	c.needed = append(c.needed, neededFlag{name, value})
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, adminUsage)
		return usageError{"admin needs a resource and an action"}
	}
	name := args[0] + " " + args[1]
	cmd := &adminCmd{fs: newFlags("admin "+name, stderr), stdout: stdout}
	cmd.data = cmd.fs.String("data", defaultDataDir, "data directory")
	cmd.json = cmd.fs.Bool("json", false, "print JSON")
	db := databaseFlag(cmd.fs)
	build, found := adminCommands[name]
	if !found {
		fmt.Fprint(stderr, adminUsage)
		return usageError{fmt.Sprintf("unknown admin action %q", name)}
	}
	build(cmd)
	if err := parse(cmd.fs, args[2:]); err != nil {
		return err
	}
	for _, f := range cmd.needed {
		if *f.value == "" {
			return usageError{"admin " + name + ": --" + f.name + " is required"}
		}
	}
	srv, err := openInstallation(ctx, server.Config{DataDir: *cmd.data}, database(*db, ""))
	if err != nil {
		return err
	}
	defer srv.Close()
	if initialized, err := srv.Initialized(ctx); err != nil {
		return err
	} else if !initialized {
		return errors.New("the database is not initialized; run snapexport init first")
	}
	v, err := cmd.run(ctx, srv)
	if err != nil {
		return apiFailure("admin "+name, err)
	}
	if *cmd.json || cmd.text == nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	cmd.text(stdout, v)
	return nil
}

// roleList collects repeated --org-role flags.
type roleList []snapexport.Role

func (r *roleList) String() string { return fmt.Sprint(*r) }
func (r *roleList) Set(s string) error {
	role := snapexport.Role(strings.ToUpper(s))
	if !snapexport.ValidOrgRole(role) {
		return fmt.Errorf("%s is not an organization role (%v)", s, snapexport.OrgRoles)
	}
	*r = append(*r, role)
	return nil
}

type orgJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Created string `json:"created"`
}

type projectJSON struct {
	ID      string `json:"id"`
	OrgID   string `json:"orgId"`
	Name    string `json:"name"`
	Created string `json:"created"`
}

type principalJSON struct {
	ID          string `json:"id"`
	OrgID       string `json:"orgId"`
	PublicKey   string `json:"publicKey,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description"`
	Created     string `json:"created"`
}

type roleJSON struct {
	OrgID     string `json:"orgId"`
	ProjectID string `json:"projectId,omitempty"`
	Role      string `json:"role"`
}

type clusterJSON struct {
	ID             string             `json:"id"`
	GroupID        string             `json:"groupId"`
	Name           string             `json:"name"`
	ClusterType    string             `json:"clusterType"`
	MongoDBVersion string             `json:"mongoDBVersion"`
	Shards         []snapexport.Shard `json:"shards"`
	Labels         []snapexport.Label `json:"labels"`
	Created        string             `json:"created"`
}

func newClusterJSON(c *snapexport.Cluster) clusterJSON {
	out := clusterJSON{c.ID, c.ProjectID, c.Name, string(c.Type), c.MongoDBVersion, c.Shards, c.Labels, ts(c.CreatedAt)}
	if out.Labels == nil {
		out.Labels = []snapexport.Label{}
	}
	return out
}

// labelList collects repeated --label k=v flags.
type labelList []snapexport.Label

func (l *labelList) String() string { return fmt.Sprint(*l) }
func (l *labelList) Set(s string) error {
	k, v, found := strings.Cut(s, "=")
	if !found || k == "" {
		return fmt.Errorf("label %q is not of the form key=value", s)
	}
	*l = append(*l, snapexport.Label{Key: k, Value: v})
	return nil
}

func ts(t interface{ Format(string) string }) string { return t.Format("2006-01-02T15:04:05Z") }

// principalFlags adds --public-key and --client-id.
func principalFlags(c *adminCmd) *service.PrincipalRef {
	ref := &service.PrincipalRef{}
	c.fs.StringVar(&ref.PublicKey, "public-key", "", "API key, by public key")
	c.fs.StringVar(&ref.ClientID, "client-id", "", "service account, by client id")
	return ref
}

var adminCommands = map[string]func(*adminCmd){
	"org create": func(c *adminCmd) {
		name := c.fs.String("name", "", "organization name")
		c.need("name", name)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			o, err := srv.Service.CreateOrganization(ctx, *name)
			if err != nil {
				return nil, err
			}
			return orgJSON{o.ID, o.Name, ts(o.CreatedAt)}, nil
		}
		c.text = func(w io.Writer, v any) {
			o := v.(orgJSON)
			fmt.Fprintf(w, "organization %s %q created\n", o.ID, o.Name)
		}
	},
	"org list": func(c *adminCmd) {
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			orgs, err := srv.Service.Organizations(ctx)
			out := []orgJSON{}
			for _, o := range orgs {
				out = append(out, orgJSON{o.ID, o.Name, ts(o.CreatedAt)})
			}
			return out, err
		}
		c.text = func(w io.Writer, v any) {
			for _, o := range v.([]orgJSON) {
				fmt.Fprintf(w, "%s  %s\n", o.ID, o.Name)
			}
		}
	},
	"project create": func(c *adminCmd) {
		org := c.fs.String("org", "", "organization id")
		name := c.fs.String("name", "", "project name")
		c.need("org", org)
		c.need("name", name)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			p, err := srv.Service.CreateProject(ctx, nil, *org, *name)
			if err != nil {
				return nil, err
			}
			return projectJSON{p.ID, p.OrgID, p.Name, ts(p.CreatedAt)}, nil
		}
		c.text = func(w io.Writer, v any) {
			p := v.(projectJSON)
			fmt.Fprintf(w, "project %s %q created\n", p.ID, p.Name)
		}
	},
	"project list": func(c *adminCmd) {
		org := c.fs.String("org", "", "organization id")
		c.need("org", org)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			ps, err := srv.Service.OrgProjects(ctx, *org)
			out := []projectJSON{}
			for _, p := range ps {
				out = append(out, projectJSON{p.ID, p.OrgID, p.Name, ts(p.CreatedAt)})
			}
			return out, err
		}
		c.text = func(w io.Writer, v any) {
			for _, p := range v.([]projectJSON) {
				fmt.Fprintf(w, "%s  %s\n", p.ID, p.Name)
			}
		}
	},
	"cluster create": func(c *adminCmd) {
		group := c.fs.String("group", "", "project id")
		name := c.fs.String("name", "", "cluster name")
		shards := c.fs.String("shards", "", "comma-separated shard replica-set names of a sharded cluster; none for a replica set")
		version := c.fs.String("mongodb-version", service.DefaultMongoDBVersion, "MongoDB version (x.y.z)")
		var labels labelList
		c.fs.Var(&labels, "label", "label key=value (repeatable)")
		c.need("group", group)
		c.need("name", name)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			in := service.ClusterInput{ProjectID: *group, Name: *name, MongoDBVersion: *version, Labels: labels}
			if *shards != "" {
				in.Shards = strings.Split(*shards, ",")
			}
			cl, err := srv.Service.CreateCluster(ctx, in)
			if err != nil {
				return nil, err
			}
			return newClusterJSON(cl), nil
		}
		c.text = func(w io.Writer, v any) {
			cl := v.(clusterJSON)
			fmt.Fprintf(w, "cluster %s %q (%s, %d shard(s)) created\n", cl.ID, cl.Name, cl.ClusterType, len(cl.Shards))
		}
	},
	"cluster list": func(c *adminCmd) {
		group := c.fs.String("group", "", "project id")
		c.need("group", group)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			if _, err := srv.Service.Project(ctx, *group); err != nil {
				return nil, err
			}
			cls, _, err := srv.Service.Clusters(ctx, *group, snapexport.Page{})
			out := []clusterJSON{}
			for _, cl := range cls {
				out = append(out, newClusterJSON(cl))
			}
			return out, err
		}
		c.text = func(w io.Writer, v any) {
			for _, cl := range v.([]clusterJSON) {
				fmt.Fprintf(w, "%s  %s  %s  %s\n", cl.ID, cl.Name, cl.ClusterType, cl.MongoDBVersion)
			}
		}
	},
	"apikey create": func(c *adminCmd) {
		org := c.fs.String("org", "", "organization id")
		desc := c.fs.String("description", "", "description")
		var roles roleList
		c.fs.Var(&roles, "org-role", "organization role (repeatable); give project roles with `admin role assign`")
		c.need("org", org)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			return srv.Service.CreateAPIKey(ctx, *org, *desc, roles)
		}
		c.text = func(w io.Writer, v any) {
			k := v.(service.Credentials)
			fmt.Fprintf(w, "API key created; the private key is shown once.\n  public key:  %s\n  private key: %s\n", k.PublicKey, k.PrivateKey)
		}
	},
	"apikey list": func(c *adminCmd) {
		org := c.fs.String("org", "", "organization id")
		c.need("org", org)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			keys, err := srv.Service.APIKeys(ctx, *org)
			out := []principalJSON{}
			for _, k := range keys {
				out = append(out, principalJSON{ID: k.ID, OrgID: k.OrgID, PublicKey: k.PublicKey, Description: k.Description, Created: ts(k.CreatedAt)})
			}
			return out, err
		}
		c.text = printPrincipals
	},
	"apikey delete": func(c *adminCmd) {
		ref := &service.PrincipalRef{}
		c.fs.StringVar(&ref.PublicKey, "public-key", "", "public key of the API key")
		c.need("public-key", &ref.PublicKey)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			return map[string]bool{"deleted": true}, srv.Service.DeletePrincipal(ctx, *ref)
		}
		c.text = func(w io.Writer, v any) { fmt.Fprintln(w, "API key deleted") }
	},
	"serviceaccount create": func(c *adminCmd) {
		org := c.fs.String("org", "", "organization id")
		name := c.fs.String("name", "", "name")
		desc := c.fs.String("description", "", "description")
		var roles roleList
		c.fs.Var(&roles, "org-role", "organization role (repeatable); give project roles with `admin role assign`")
		c.need("org", org)
		c.need("name", name)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			return srv.CreateServiceAccount(ctx, *org, *name, *desc, roles)
		}
		c.text = func(w io.Writer, v any) {
			k := v.(service.Credentials)
			fmt.Fprintf(w, "Service account created; the secret is shown once.\n  client id:     %s\n  client secret: %s\n", k.ClientID, k.ClientSecret)
		}
	},
	"serviceaccount list": func(c *adminCmd) {
		org := c.fs.String("org", "", "organization id")
		c.need("org", org)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			sas, err := srv.Service.ServiceAccounts(ctx, *org)
			out := []principalJSON{}
			for _, sa := range sas {
				out = append(out, principalJSON{ID: sa.ID, OrgID: sa.OrgID, ClientID: sa.ClientID, Name: sa.Name, Description: sa.Description, Created: ts(sa.CreatedAt)})
			}
			return out, err
		}
		c.text = printPrincipals
	},
	"serviceaccount delete": func(c *adminCmd) {
		ref := &service.PrincipalRef{}
		c.fs.StringVar(&ref.ClientID, "client-id", "", "client id of the service account")
		c.need("client-id", &ref.ClientID)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			return map[string]bool{"deleted": true}, srv.Service.DeletePrincipal(ctx, *ref)
		}
		c.text = func(w io.Writer, v any) { fmt.Fprintln(w, "service account deleted") }
	},
	"role assign":   func(c *adminCmd) { roleChange(c, true) },
	"role unassign": func(c *adminCmd) { roleChange(c, false) },
	"role list": func(c *adminCmd) {
		ref := principalFlags(c)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) { return listRoles(ctx, srv, *ref) }
		c.text = printRoles
	},
}

func roleChange(c *adminCmd, assign bool) {
	ref := principalFlags(c)
	project := c.fs.String("project", "", "project id (omit for an organization role)")
	role := c.fs.String("role", "", "role name")
	c.need("role", role)
	c.run = func(ctx context.Context, srv *server.Server) (any, error) {
		r := snapexport.Role(strings.ToUpper(*role))
		var err error
		if assign {
			err = srv.Service.AssignRole(ctx, *ref, *project, r)
		} else {
			err = srv.Service.UnassignRole(ctx, *ref, *project, r)
		}
		if err != nil {
			return nil, err
		}
		return listRoles(ctx, srv, *ref)
	}
	c.text = printRoles
}

func listRoles(ctx context.Context, srv *server.Server, ref service.PrincipalRef) (any, error) {
	ras, err := srv.Service.Roles(ctx, ref)
	out := []roleJSON{}
	for _, ra := range ras {
		out = append(out, roleJSON{ra.OrgID, ra.ProjectID, string(ra.Role)})
	}
	return out, err
}

func printRoles(w io.Writer, v any) {
	for _, r := range v.([]roleJSON) {
		scope := "organization " + r.OrgID
		if r.ProjectID != "" {
			scope = "project " + r.ProjectID
		}
		fmt.Fprintf(w, "%-30s %s\n", r.Role, scope)
	}
}

func printPrincipals(w io.Writer, v any) {
	for _, p := range v.([]principalJSON) {
		fmt.Fprintf(w, "%s  %s%s  %s\n", p.ID, p.PublicKey, p.ClientID, p.Description)
	}
}
