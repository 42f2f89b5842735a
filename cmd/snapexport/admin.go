package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
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
  cluster create --group ID --name NAME [--shards rs0,rs1,…] [--mongodb-version V] [--provider AWS|AZURE|GCP] [--region R] [--instance-size S] [--label k=v …]
                 [--mongodb-uri URI | --mongodb-uri-file FILE] [--consistency none|pointInTime]
  cluster update --group ID --name NAME (--mongodb-uri URI | --mongodb-uri-file FILE | --no-mongodb-uri) [--consistency none|pointInTime]
  cluster list --group ID
  cluster load --group ID --cluster NAME (--archive FILE|- | --dir DIR) [--shard RS] [--snapshot-store URL]

Every action takes --data DIR, --database URL, --secret-key-file FILE and --json. Roles on an
organization: ORG_OWNER, ORG_MEMBER; on a project: GROUP_OWNER,
GROUP_BACKUP_MANAGER, GROUP_BACKUP_CREATOR, GROUP_BACKUP_EXPORT_OPERATOR,
GROUP_READ_ONLY. Run "snapexport admin <resource> <action> -h" for an
action's flags.
`

// adminCmd is one admin action with its own flags.
type adminCmd struct {
	fs     *flag.FlagSet
	data   *string
	json   *bool
	stdout io.Writer
	// stderr shows progress; snapshotStore, when the action adds the
	// flag, names the snapshot store.
	stderr        io.Writer
	snapshotStore *string
	run           func(ctx context.Context, srv *server.Server) (any, error)
	// text renders the result for a terminal.
	text func(w io.Writer, v any)
	// needed are the flags that must be given, checked before the store
	// is opened.
	needed []neededFlag
	// check, when set, checks the flags' values before the store is
	// opened.
	check func() error
}

type neededFlag struct {
	name  string
	value *string
}

// need marks a string flag as required.
func (c *adminCmd) need(name string, value *string) {
	c.needed = append(c.needed, neededFlag{name, value})
}

// required adds a string flag that must be given.
func (c *adminCmd) required(name, usage string) *string {
	v := c.fs.String(name, "", usage+" (required)")
	c.need(name, v)
	return v
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) || len(args) > 1 && isHelp(args[1]) {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, adminUsage)
		return usageError{"admin needs a resource and an action"}
	}
	name := args[0] + " " + args[1]
	build, found := adminCommands[name]
	if !found {
		fmt.Fprint(stderr, adminUsage)
		return usageError{fmt.Sprintf("unknown admin action %q", name)}
	}
	return named("admin "+name, runAdminAction(ctx, "admin "+name, build, args[2:], stdout, stderr))
}

// runAdminAction runs the action name that build sets up: an admin action,
// or a snapshot action that reads or changes the store only.
func runAdminAction(ctx context.Context, name string, build func(*adminCmd), args []string, stdout, stderr io.Writer) error {
	cmd := &adminCmd{fs: newFlags(name, stderr), stdout: stdout, stderr: stderr}
	cmd.data = cmd.fs.String("data", defaultDataDir, "data directory")
	cmd.json = cmd.fs.Bool("json", false, "print the result as JSON")
	db := databaseFlag(cmd.fs)
	keyFile := secretKeyFlag(cmd.fs)
	build(cmd)
	if err := parse(cmd.fs, args); err != nil {
		return err
	}
	for _, f := range cmd.needed {
		if *f.value == "" {
			return usageError{"--" + f.name + " is required"}
		}
	}
	if cmd.check != nil {
		if err := cmd.check(); err != nil {
			return err
		}
	}
	key, err := secretKey(*keyFile, "", *cmd.data)
	if err != nil {
		return err
	}
	cfg := server.Config{DataDir: *cmd.data, SecretKey: key}
	if cmd.snapshotStore != nil {
		cfg.SnapshotStore = snapshotStoreURL(*cmd.snapshotStore, "")
	}
	srv, err := openInstallation(ctx, cfg, database(*db, ""))
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
		return apiFailure(err)
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

func newOrgJSON(o *snapexport.Organization) orgJSON { return orgJSON{o.ID, o.Name, ts(o.CreatedAt)} }

type projectJSON struct {
	ID      string `json:"id"`
	OrgID   string `json:"orgId"`
	Name    string `json:"name"`
	Created string `json:"created"`
}

func newProjectJSON(p *snapexport.Project) projectJSON {
	return projectJSON{p.ID, p.OrgID, p.Name, ts(p.CreatedAt)}
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

func apiKeyPrincipalJSON(k *snapexport.APIKey) principalJSON {
	return principalJSON{ID: k.ID, OrgID: k.OrgID, PublicKey: k.PublicKey, Description: k.Description, Created: ts(k.CreatedAt)}
}

func serviceAccountPrincipalJSON(sa *snapexport.ServiceAccount) principalJSON {
	return principalJSON{ID: sa.ID, OrgID: sa.OrgID, ClientID: sa.ClientID, Name: sa.Name, Description: sa.Description, Created: ts(sa.CreatedAt)}
}

type roleJSON struct {
	OrgID     string `json:"orgId"`
	ProjectID string `json:"projectId,omitempty"`
	Role      string `json:"role"`
}

// deploymentJSON is what the admin commands show of a cluster's
// deployment: never its connection string.
type deploymentJSON struct {
	Hosts       []string `json:"hosts"`
	Consistency string   `json:"consistency"`
}

type clusterJSON struct {
	ID             string             `json:"id"`
	GroupID        string             `json:"groupId"`
	Name           string             `json:"name"`
	ClusterType    string             `json:"clusterType"`
	MongoDBVersion string             `json:"mongoDBVersion"`
	ProviderName   string             `json:"providerName"`
	RegionName     string             `json:"regionName"`
	InstanceSize   string             `json:"instanceSize"`
	Shards         []snapexport.Shard `json:"shards"`
	Labels         []snapexport.Label `json:"labels"`
	Created        string             `json:"created"`
	// Deployment is the deployment the cluster is bound to; left out when
	// none.
	Deployment *deploymentJSON `json:"deployment,omitempty"`
}

func newClusterJSON(c *snapexport.Cluster) clusterJSON {
	out := clusterJSON{ID: c.ID, GroupID: c.ProjectID, Name: c.Name, ClusterType: string(c.Type), MongoDBVersion: c.MongoDBVersion,
		ProviderName: string(c.Provider), RegionName: c.Region, InstanceSize: c.InstanceSize, Shards: c.Shards, Labels: c.Labels, Created: ts(c.CreatedAt)}
	if out.Labels == nil {
		out.Labels = []snapexport.Label{}
	}
	if d := c.Deployment; d != nil {
		out.Deployment = &deploymentJSON{Hosts: d.Hosts, Consistency: string(d.Consistency)}
	}
	return out
}

// boundTo tells the deployment a cluster is bound to, for a terminal.
func (c clusterJSON) boundTo() string {
	if c.Deployment == nil {
		return "bound to no deployment"
	}
	return fmt.Sprintf("bound to %s (%s)", strings.Join(c.Deployment.Hosts, ","), c.Deployment.Consistency)
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

// jsonList converts what a command lists; an empty list prints as [].
func jsonList[T, J any](items []T, convert func(T) J) []J {
	out := make([]J, 0, len(items))
	for _, item := range items {
		out = append(out, convert(item))
	}
	return out
}

// principalFlags adds --public-key and --client-id.
func principalFlags(c *adminCmd) *service.PrincipalRef {
	ref := &service.PrincipalRef{}
	c.fs.StringVar(&ref.PublicKey, "public-key", "", "the API key, by its public key (this or --client-id)")
	c.fs.StringVar(&ref.ClientID, "client-id", "", "the service account, by its client id (this or --public-key)")
	return ref
}

var adminCommands = map[string]func(*adminCmd){
	"org create": func(c *adminCmd) {
		name := c.required("name", "organization name")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			o, err := srv.Service.CreateOrganization(ctx, *name)
			if err != nil {
				return nil, err
			}
			return newOrgJSON(o), nil
		}
		c.text = func(w io.Writer, v any) {
			o := v.(orgJSON)
			fmt.Fprintf(w, "organization %s %q created\n", o.ID, o.Name)
		}
	},
	"org list": func(c *adminCmd) {
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			orgs, err := srv.Service.Organizations(ctx)
			return jsonList(orgs, newOrgJSON), err
		}
		c.text = func(w io.Writer, v any) {
			for _, o := range v.([]orgJSON) {
				fmt.Fprintf(w, "%s  %s\n", o.ID, o.Name)
			}
		}
	},
	"project create": func(c *adminCmd) {
		org := c.required("org", "organization id")
		name := c.required("name", "project name")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			p, err := srv.Service.CreateProject(ctx, nil, *org, *name)
			if err != nil {
				return nil, err
			}
			return newProjectJSON(p), nil
		}
		c.text = func(w io.Writer, v any) {
			p := v.(projectJSON)
			fmt.Fprintf(w, "project %s %q created\n", p.ID, p.Name)
		}
	},
	"project list": func(c *adminCmd) {
		org := c.required("org", "organization id")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			ps, err := srv.Service.OrgProjects(ctx, *org)
			return jsonList(ps, newProjectJSON), err
		}
		c.text = func(w io.Writer, v any) {
			for _, p := range v.([]projectJSON) {
				fmt.Fprintf(w, "%s  %s\n", p.ID, p.Name)
			}
		}
	},
	"cluster create": func(c *adminCmd) {
		group := c.required("group", "project id")
		name := c.required("name", "cluster name")
		shards := c.fs.String("shards", "", "comma-separated shard replica-set names of a sharded cluster; none for a replica set")
		version := c.fs.String("mongodb-version", service.DefaultMongoDBVersion, "MongoDB version (x.y.z)")
		provider := c.fs.String("provider", string(service.DefaultClusterProvider), "cloud provider the cluster runs on: AWS, AZURE or GCP")
		region := c.fs.String("region", service.DefaultClusterRegion, "region the cluster runs in, as Atlas names it (US_EAST_1, EUROPE_WEST_3, …)")
		instanceSize := c.fs.String("instance-size", service.DefaultClusterInstanceSize, "cluster tier, M10 or larger (M10, M30, R40, M40_NVME, …)")
		var labels labelList
		c.fs.Var(&labels, "label", "cluster label `key=value` (repeatable)")
		bind := deploymentFlags(c, false)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			in := service.ClusterInput{ProjectID: *group, Name: *name, MongoDBVersion: *version, Labels: labels,
				Provider: snapexport.CloudProvider(*provider), Region: *region, InstanceSize: *instanceSize, Deployment: bind.input}
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
			fmt.Fprintf(w, "cluster %s %q (%s, %d shard(s), %s %s %s) created, %s\n", cl.ID, cl.Name, cl.ClusterType, len(cl.Shards), cl.ProviderName, cl.RegionName, cl.InstanceSize,
				cl.boundTo())
		}
	},
	"cluster update": func(c *adminCmd) {
		group := c.required("group", "project id")
		name := c.required("name", "cluster name")
		bind := deploymentFlags(c, true)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			cl, err := srv.Service.BindCluster(ctx, *group, *name, bind.input)
			if err != nil {
				return nil, err
			}
			return newClusterJSON(cl), nil
		}
		c.text = func(w io.Writer, v any) {
			cl := v.(clusterJSON)
			fmt.Fprintf(w, "cluster %s %q %s\n", cl.ID, cl.Name, cl.boundTo())
		}
	},
	"cluster list": func(c *adminCmd) {
		group := c.required("group", "project id")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			if _, err := srv.Service.Project(ctx, *group); err != nil {
				return nil, err
			}
			cls, _, err := srv.Service.Clusters(ctx, *group, snapexport.Page{})
			return jsonList(cls, newClusterJSON), err
		}
		c.text = func(w io.Writer, v any) {
			for _, cl := range v.([]clusterJSON) {
				fmt.Fprintf(w, "%s  %s  %s  %s  %s\n", cl.ID, cl.Name, cl.ClusterType, cl.MongoDBVersion, cl.boundTo())
			}
		}
	},
	"cluster load": func(c *adminCmd) {
		group := c.required("group", "project id")
		cluster := c.required("cluster", "cluster name")
		archive := c.fs.String("archive", "", "mongodump archive `file`, gzipped or not; - for standard input (this or --dir)")
		dir := c.fs.String("dir", "", "`folder` mongodump --out wrote, holding a folder per database (this or --archive)")
		shard := c.fs.String("shard", "", "replica set the dump is loaded into (required for a sharded cluster; default: the replica set of a replica-set cluster)")
		c.snapshotStore = c.fs.String("snapshot-store", "", "blob URL of the snapshot store (default $SNAPEXPORT_SNAPSHOT_STORE, else DIR/snapshots)")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			if (*archive == "") == (*dir == "") {
				return nil, usageError{"give one of --archive FILE (or -) and --dir DIR"}
			}
			src, size, err := openDump(*archive, *dir)
			if err != nil {
				return nil, err
			}
			defer src.Close()
			bar := newImportProgress(c.stderr, size)
			res, err := srv.Service.LoadClusterData(ctx, service.LoadInput{ProjectID: *group, ClusterName: *cluster, Shard: *shard},
				src.Source, bar.update(src))
			bar.finish(err == nil)
			if err != nil {
				return nil, err
			}
			return api.NewLoadView(res), nil
		}
		c.text = func(w io.Writer, v any) {
			l := v.(api.LoadView)
			fmt.Fprintf(w, "data of %s (%s) loaded: %d collections, %d documents, %d bytes\n",
				l.ClusterName, l.ReplicaSetName, len(l.Collections), l.Documents, l.StorageSizeBytes)
		}
	},
	"apikey create": func(c *adminCmd) {
		org, desc, roles := newPrincipalFlags(c)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			return srv.Service.CreateAPIKey(ctx, *org, *desc, *roles)
		}
		c.text = func(w io.Writer, v any) {
			k := v.(service.Credentials)
			fmt.Fprintf(w, "API key created; the private key is shown once.\n  public key:  %s\n  private key: %s\n", k.PublicKey, k.PrivateKey)
		}
	},
	"apikey list": func(c *adminCmd) { listPrincipals(c, (*service.Service).APIKeys, apiKeyPrincipalJSON) },
	"apikey delete": func(c *adminCmd) {
		var ref service.PrincipalRef
		deletePrincipal(c, &ref, &ref.PublicKey, "public-key", "API key", "public key of the API key")
	},
	"serviceaccount create": func(c *adminCmd) {
		org, desc, roles := newPrincipalFlags(c)
		name := c.required("name", "name")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			return srv.CreateServiceAccount(ctx, *org, *name, *desc, *roles)
		}
		c.text = func(w io.Writer, v any) {
			k := v.(service.Credentials)
			fmt.Fprintf(w, "Service account created; the secret is shown once.\n  client id:     %s\n  client secret: %s\n", k.ClientID, k.ClientSecret)
		}
	},
	"serviceaccount list": func(c *adminCmd) {
		listPrincipals(c, (*service.Service).ServiceAccounts, serviceAccountPrincipalJSON)
	},
	"serviceaccount delete": func(c *adminCmd) {
		var ref service.PrincipalRef
		deletePrincipal(c, &ref, &ref.ClientID, "client-id", "service account", "client id of the service account")
	},
	"role assign":   func(c *adminCmd) { roleChange(c, true) },
	"role unassign": func(c *adminCmd) { roleChange(c, false) },
	"role list": func(c *adminCmd) {
		ref := principalFlags(c)
		c.run = func(ctx context.Context, srv *server.Server) (any, error) { return listRoles(ctx, srv, *ref) }
		c.text = printRoles
	},
}

// newPrincipalFlags adds the flags of a new API key or service account:
// its organization (required), description and organization roles.
func newPrincipalFlags(c *adminCmd) (org, desc *string, roles *roleList) {
	org = c.required("org", "organization id")
	desc = c.fs.String("description", "", "description")
	roles = &roleList{}
	c.fs.Var(roles, "org-role", "organization `role` (repeatable): "+roleNames(snapexport.OrgRoles)+"; give project roles with admin role assign")
	return org, desc, roles
}

// listPrincipals sets c up to list an organization's API keys or service
// accounts.
func listPrincipals[T any](c *adminCmd, list func(*service.Service, context.Context, string) ([]T, error), convert func(T) principalJSON) {
	org := c.required("org", "organization id")
	c.run = func(ctx context.Context, srv *server.Server) (any, error) {
		items, err := list(srv.Service, ctx, *org)
		return jsonList(items, convert), err
	}
	c.text = printPrincipals
}

// deletePrincipal sets c up to delete the API key or service account that
// the required flag, which sets key (a field of ref), names.
func deletePrincipal(c *adminCmd, ref *service.PrincipalRef, key *string, flagName, noun, usage string) {
	c.fs.StringVar(key, flagName, "", usage+" (required)")
	c.need(flagName, key)
	c.run = func(ctx context.Context, srv *server.Server) (any, error) {
		return map[string]bool{"deleted": true}, srv.Service.DeletePrincipal(ctx, *ref)
	}
	c.text = func(w io.Writer, v any) { fmt.Fprintln(w, noun+" deleted") }
}

func roleChange(c *adminCmd, assign bool) {
	ref := principalFlags(c)
	project := c.fs.String("project", "", "project `id` of a project role (omit for an organization role)")
	role := c.required("role", "`name` of the role: "+roleNames(snapexport.OrgRoles)+" on the organization; "+roleNames(snapexport.ProjectRoles)+" on a --project")
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
	return jsonList(ras, func(ra snapexport.RoleAssignment) roleJSON { return roleJSON{ra.OrgID, ra.ProjectID, string(ra.Role)} }), err
}

// roleNames lists roles for a flag's description.
func roleNames(roles []snapexport.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
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

// deploymentBinding is what the deployment flags of a cluster say, once
// checked: input is nil for no deployment.
type deploymentBinding struct {
	input *service.DeploymentInput
}

// deploymentFlags adds the flags binding a cluster to a deployment:
// --mongodb-uri, --mongodb-uri-file and --consistency, and for an update
// --no-mongodb-uri, one of the three being required. The connection
// string is checked before the store is opened, and never shown.
func deploymentFlags(c *adminCmd, update bool) *deploymentBinding {
	uri := c.fs.String("mongodb-uri", "", "connection string of the MongoDB deployment the cluster is bound to (this or --mongodb-uri-file)")
	uriFile := c.fs.String("mongodb-uri-file", "", "`file` holding the connection string, kept out of the shell's history (this or --mongodb-uri)")
	consistency := c.fs.String("consistency", string(snapexport.ConsistencyPointInTime),
		"how snapshots read the deployment: pointInTime (snapshot reads), or none for a deployment without snapshot reads")
	var unbind *bool
	if update {
		unbind = c.fs.Bool("no-mongodb-uri", false, "bind the cluster to no deployment")
	}
	b := &deploymentBinding{}
	c.check = func() error {
		given := 0
		for _, set := range []bool{*uri != "", *uriFile != "", unbind != nil && *unbind} {
			if set {
				given++
			}
		}
		switch {
		case given > 1 && update:
			return usageError{"give one of --mongodb-uri, --mongodb-uri-file and --no-mongodb-uri"}
		case given > 1:
			return usageError{"give one of --mongodb-uri and --mongodb-uri-file"}
		case given == 0 && update:
			return usageError{"give one of --mongodb-uri URI, --mongodb-uri-file FILE and --no-mongodb-uri"}
		}
		mode := snapexport.Consistency(*consistency)
		if !slices.Contains(snapexport.Consistencies, mode) {
			return usageError{fmt.Sprintf("--consistency %q: want none or pointInTime", *consistency)}
		}
		flagName, value := "--mongodb-uri", *uri
		if *uriFile != "" {
			text, err := os.ReadFile(*uriFile)
			if err != nil {
				return fmt.Errorf("--mongodb-uri-file: %w", err)
			}
			flagName, value = "--mongodb-uri-file "+*uriFile, strings.TrimSpace(string(text))
			if value == "" {
				return usageError{flagName + ": the file is empty"}
			}
		}
		if value == "" {
			return nil
		}
		if _, err := service.ParseMongoDBURI(value); err != nil {
			return usageError{flagName + ": " + err.Error()}
		}
		b.input = &service.DeploymentInput{URI: value, Consistency: mode}
		return nil
	}
	return b
}
