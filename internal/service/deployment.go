package service

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/snapexport/snapexport"
)

// DeploymentInput binds a cluster to a running MongoDB: its connection
// string (credentials included) and how its snapshots read it
// (ConsistencyPointInTime when empty).
type DeploymentInput struct {
	URI         string
	Consistency snapexport.Consistency
}

// secretOptions are the connection-string options whose values are
// secrets, in lower case: they are left out of the public form.
var secretOptions = []string{"authmechanismproperties", "tlscertificatekeyfilepassword", "sslclientcertificatekeypassword"}

// MongoDBURI is a checked connection string.
type MongoDBURI struct {
	// Public is the connection string without credentials or the options
	// that hold secrets.
	Public string
	// Hosts are its host:port pairs, or the one host name of a
	// mongodb+srv URI.
	Hosts []string
}

// ParseMongoDBURI checks a connection string with the MongoDB driver's
// parser. Its error tells what is wrong without the credentials or the
// values of secret options. The DNS records of a mongodb+srv URI are not
// looked up: they are when the deployment is read.
func ParseMongoDBURI(uri string) (*MongoDBURI, error) {
	parts := splitMongoDBURI(uri)
	checked := uri
	if parts.scheme == connstring.SchemeMongoDBSRV {
		// The driver's parser looks an SRV URI's records up: its options
		// are checked in a standard URI of the same host, less those
		// only SRV URIs take, which are checked here.
		hosts := strings.Split(parts.hosts, ",")
		if len(hosts) != 1 || strings.Contains(hosts[0], ":") {
			return nil, uriError("a mongodb+srv URI names one host, without a port")
		}
		checked = connstring.SchemeMongoDB + "://" + parts.userInfoAt + parts.hosts + parts.path + joinQuery(parts.query, "srvservicename", "srvmaxhosts")
	}
	cs, err := connstring.ParseAndValidate(checked)
	if err != nil {
		return nil, uriError(parseFailure(err, parts))
	}
	if len(cs.Hosts) == 0 {
		return nil, uriError("it names no host")
	}
	public := parts.scheme + "://" + parts.hosts
	if tail := parts.path + joinQuery(parts.query, secretOptions...); tail != "/" {
		public += tail
	}
	out := &MongoDBURI{Public: public, Hosts: cs.Hosts}
	if parts.scheme == connstring.SchemeMongoDBSRV {
		out.Hosts = []string{parts.hosts}
	}
	return out, nil
}

func uriError(reason string) error {
	return fmt.Errorf("the MongoDB connection string is invalid: %s", reason)
}

// mongoDBURIParts are the pieces of a connection string as the driver
// splits them: scheme, user info (with its @), hosts, path (/database) and
// the query's key=value pairs.
type mongoDBURIParts struct {
	scheme, userInfoAt, hosts, path string
	query                           []string
}

func splitMongoDBURI(uri string) mongoDBURIParts {
	var p mongoDBURIParts
	scheme, rest, _ := strings.Cut(uri, "://")
	p.scheme = scheme
	if i := strings.Index(rest, "@"); i >= 0 {
		p.userInfoAt, rest = rest[:i+1], rest[i+1:]
	}
	p.hosts = rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		p.hosts, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	path, query, _ := strings.Cut(rest, "?")
	p.path = path
	if p.path == "" {
		p.path = "/"
	}
	if query != "" {
		p.query = strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' })
	}
	return p
}

// joinQuery is the query of pairs without the options named (lower case),
// with its ?; empty when none is left.
func joinQuery(pairs []string, without ...string) string {
	var kept []string
	for _, pair := range pairs {
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if !slices.Contains(without, strings.ToLower(key)) {
			kept = append(kept, pair)
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return "?" + strings.Join(kept, "&")
}

// secrets are the values of a connection string that are never shown:
// its user info and password, and the values of secret options, raw and
// unescaped.
func (p mongoDBURIParts) secrets() []string {
	var out []string
	add := func(s string) {
		out = append(out, s)
		if u, err := url.QueryUnescape(s); err == nil {
			out = append(out, u)
		}
	}
	if info := strings.TrimSuffix(p.userInfoAt, "@"); info != "" {
		add(info)
		if _, password, ok := strings.Cut(info, ":"); ok {
			add(password)
		}
	}
	for _, pair := range p.query {
		key, value, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil && slices.Contains(secretOptions, strings.ToLower(k)) {
			add(value)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// escapeFragment is the part of a bad escape the url package quotes,
// which may be a piece of a secret.
var escapeFragment = regexp.MustCompile(`invalid URL escape "[^"]*"`)

// parseFailure is what the driver's parser found wrong, less the secrets
// of the connection string.
func parseFailure(err error, p mongoDBURIParts) string {
	reason := err.Error()
	for _, prefix := range []string{"error parsing uri: ", "error validating uri: "} {
		reason = strings.TrimPrefix(reason, prefix)
	}
	if strings.Contains(reason, "password") {
		return "the password must be URL-encoded (percent-encode ':', '/', '@' and '%' in it)"
	}
	reason = escapeFragment.ReplaceAllString(reason, "invalid URL escape")
	for _, secret := range p.secrets() {
		if secret != "" {
			reason = strings.ReplaceAll(reason, secret, "(secret)")
		}
	}
	return reason
}

// newDeployment checks in and seals its connection string for the
// cluster with id.
func (s *Service) newDeployment(clusterID string, in DeploymentInput) (*snapexport.Deployment, error) {
	if in.Consistency == "" {
		in.Consistency = snapexport.ConsistencyPointInTime
	}
	if !slices.Contains(snapexport.Consistencies, in.Consistency) {
		return nil, ClusterInvalid("consistency %s is not one of none and pointInTime.", string(in.Consistency))
	}
	uri, err := ParseMongoDBURI(in.URI)
	if err != nil {
		return nil, ClusterInvalid("%s.", err.Error())
	}
	key, err := s.sealing()
	if err != nil {
		return nil, err
	}
	return &snapexport.Deployment{SealedURI: key.Seal(clusterID, []byte(in.URI)), PublicURI: uri.Public,
		Hosts: uri.Hosts, Consistency: in.Consistency}, nil
}

// BindCluster binds a cluster to the deployment in describes, in place of
// any it was bound to; nil unbinds it.
func (s *Service) BindCluster(ctx context.Context, projectID, name string, in *DeploymentInput) (*snapexport.Cluster, error) {
	return s.changeCluster(ctx, projectID, name, func(c *snapexport.Cluster) error {
		c.Deployment = nil
		if in == nil {
			return nil
		}
		var err error
		c.Deployment, err = s.newDeployment(c.ID, *in)
		return err
	})
}

// DeploymentURI is the connection string of the deployment c is bound to,
// credentials included, for the engines that read it; never to be shown.
func (s *Service) DeploymentURI(c *snapexport.Cluster) (string, error) {
	if c.Deployment == nil {
		return "", ClusterInvalid("cluster %s is bound to no deployment.", c.Name)
	}
	key, err := s.sealing()
	if err != nil {
		return "", err
	}
	uri, err := key.Open(c.ID, c.Deployment.SealedURI)
	return string(uri), err
}
