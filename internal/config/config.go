// Package config reads the server's configuration file: where it listens,
// its data, how it runs export jobs, its rate limits and how it reaches
// each cloud's object storage. Command-line flags override the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v4"

	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/service"
)

// File is the configuration file, in YAML. Every field is optional.
type File struct {
	Listen string `yaml:"listen"`
	// MetricsListen is where the Prometheus metrics are served; none when
	// empty.
	MetricsListen string `yaml:"metricsListen"`
	// LogFormat is text (the default) or json.
	LogFormat string `yaml:"logFormat"`
	Data      string `yaml:"data"`
	// Database is a postgres:// URL; empty for SQLite in the data directory.
	Database  string   `yaml:"database"`
	Postgres  Postgres `yaml:"postgres"`
	PublicURL string   `yaml:"publicUrl"`
	// SnapshotStore is the blob URL of snapshots' data; empty for
	// <data>/snapshots.
	SnapshotStore string `yaml:"snapshotStore"`
	// SnapshotSweepInterval is how often expired snapshots are removed.
	SnapshotSweepInterval string `yaml:"snapshotSweepInterval"`
	// SchedulePollInterval is how often the backup schedules are looked
	// at for the snapshots they call for.
	SchedulePollInterval string `yaml:"schedulePollInterval"`
	// CaptureCollections is how many collections a snapshot of a bound
	// cluster reads at once from its deployment.
	CaptureCollections int `yaml:"captureCollections"`
	// ShutdownTimeout bounds the wait for requests in flight on shutdown.
	ShutdownTimeout string `yaml:"shutdownTimeout"`
	// TrustedProxies are the networks (CIDR, or a single address) of the
	// proxies whose X-Forwarded-For tells a client's address.
	TrustedProxies []string     `yaml:"trustedProxies"`
	Exports        Exports      `yaml:"exports"`
	RateLimits     RateLimits   `yaml:"rateLimits"`
	ObjectStores   ObjectStores `yaml:"objectStores"`

	// UploadTimeout bounds the whole of a snapshot upload.
	UploadTimeout string `yaml:"uploadTimeout"`

	// ClusterChangeDelay is how long a new cluster shows CREATING and a
	// deleted one DELETING.
	ClusterChangeDelay string `yaml:"clusterChangeDelay"`

	// SecretKeyFile names the file holding the server's secret key; the
	// key itself is never in this file.
	SecretKeyFile string `yaml:"secretKeyFile"`
}

// Exports is how this server runs export jobs. The numbers are pointers
// so that a 0 written in the file is refused, as the flags refuse it,
// rather than taken for a key left out.
type Exports struct {
	// Jobs is how many export jobs (replica sets) run at once.
	Jobs *int `yaml:"jobs"`
	// ParallelCollections is how many collections of one job are written
	// at once.
	ParallelCollections *int `yaml:"parallelCollections"`
	// ChunkBytes is the amount of Extended JSON per exported data object.
	ChunkBytes *int64 `yaml:"chunkBytes"`
	// Lease is how long a dead server's export job waits before another
	// server takes it over.
	Lease string `yaml:"lease"`
}

// MinExportLease is the shortest export lease, in the file as on the
// command line: a run renews its lease every third of it.
const MinExportLease = time.Second

// ExportConfig turns the file's exports section into the export runner's
// settings, leaving zero those the file leaves out.
func (f File) ExportConfig() (exportrunner.Config, error) {
	e := f.Exports
	var c exportrunner.Config
	var err error
	if c.MaxJobs, err = positive("exports.jobs", e.Jobs); err != nil {
		return c, err
	}
	if c.ParallelCollections, err = positive("exports.parallelCollections", e.ParallelCollections); err != nil {
		return c, err
	}
	if c.ChunkBytes, err = positive("exports.chunkBytes", e.ChunkBytes); err != nil {
		return c, err
	}
	if c.Lease, err = duration("exports.lease", e.Lease); err == nil && e.Lease != "" && c.Lease < MinExportLease {
		err = fmt.Errorf("exports.lease: %q is shorter than the least lease, %s", e.Lease, MinExportLease)
	}
	return c, err
}

// positive is a count of the file, 0 when the file leaves it out.
func positive[N int | int64](key string, n *N) (N, error) {
	switch {
	case n == nil:
		return 0, nil
	case *n < 1:
		return 0, fmt.Errorf("%s: %d is not a positive number", key, *n)
	}
	return *n, nil
}

// Timings returns the file's snapshotSweepInterval and shutdownTimeout,
// zero when the file leaves them out.
func (f File) Timings() (snapshotSweepInterval, shutdownTimeout time.Duration, err error) {
	if snapshotSweepInterval, err = duration("snapshotSweepInterval", f.SnapshotSweepInterval); err != nil {
		return
	}
	if f.SnapshotSweepInterval != "" && snapshotSweepInterval == 0 {
		return 0, 0, fmt.Errorf("snapshotSweepInterval: %q is not a positive duration", f.SnapshotSweepInterval)
	}
	shutdownTimeout, err = duration("shutdownTimeout", f.ShutdownTimeout)
	return
}

// SchedulePoll returns the file's schedulePollInterval, zero when the file
// leaves it out.
func (f File) SchedulePoll() (time.Duration, error) {
	d, err := duration("schedulePollInterval", f.SchedulePollInterval)
	if err == nil && f.SchedulePollInterval != "" && d == 0 {
		err = fmt.Errorf("schedulePollInterval: %q is not a positive duration", f.SchedulePollInterval)
	}
	return d, err
}

// UploadLimit returns the file's uploadTimeout, zero when the file leaves
// it out.
func (f File) UploadLimit() (time.Duration, error) {
	d, err := duration("uploadTimeout", f.UploadTimeout)
	if err == nil && f.UploadTimeout != "" && d == 0 {
		err = fmt.Errorf("uploadTimeout: %q is not a positive duration", f.UploadTimeout)
	}
	return d, err
}

// ClusterDelay returns the file's clusterChangeDelay, zero when the file
// leaves it out.
func (f File) ClusterDelay() (time.Duration, error) {
	return duration("clusterChangeDelay", f.ClusterChangeDelay)
}

// Postgres tunes the PostgreSQL pool and transactions.
type Postgres struct {
	MaxConns         int32  `yaml:"maxConns"`
	StatementTimeout string `yaml:"statementTimeout"`
	MaxRetries       int    `yaml:"maxRetries"`
}

// PostgresOptions turns the file's postgres section into postgres.Options.
func (f File) PostgresOptions() (postgres.Options, error) {
	timeout, err := duration("postgres.statementTimeout", f.Postgres.StatementTimeout)
	return postgres.Options{MaxConns: f.Postgres.MaxConns, StatementTimeout: timeout, MaxRetries: f.Postgres.MaxRetries}, err
}

// RateLimits are the token buckets of Atlas's endpoint sets, as
// CAPACITY:REFILL/PERIOD: per project, but Projects per organization.
type RateLimits struct {
	CloudBackups        string `yaml:"cloudBackups"`
	CloudProviderAccess string `yaml:"cloudProviderAccess"`
	Clusters            string `yaml:"clusters"`
	Projects            string `yaml:"projects"`
	// FailedAuthentications is the budget of failed authentications per
	// client address.
	FailedAuthentications string `yaml:"failedAuthentications"`
	Disabled              bool   `yaml:"disabled"`
}

// Policies are the rate-limit policies of the endpoint sets and of failed
// authentications.
type Policies struct {
	CloudBackups, CloudProviderAccess, Clusters, Projects, FailedAuthentications ratelimit.Policy
}

// ObjectStores says how each provider's buckets are reached.
type ObjectStores struct {
	// LocalDir holds the buckets of providers in local mode; default
	// <data>/buckets.
	LocalDir string `yaml:"localDir"`
	// LocalRequireExisting refuses local buckets whose folder is missing.
	LocalRequireExisting bool   `yaml:"localRequireExisting"`
	Timeout              string `yaml:"timeout"`
	Retry                Retry  `yaml:"retry"`
	AWS                  AWS    `yaml:"aws"`
	Azure                Azure  `yaml:"azure"`
	GCP                  GCP    `yaml:"gcp"`
}

// Retry is the policy for transient object-store faults.
type Retry struct {
	MaxAttempts int    `yaml:"maxAttempts"`
	BaseDelay   string `yaml:"baseDelay"`
	MaxDelay    string `yaml:"maxDelay"`
}

// AWS configures S3 and STS.
type AWS struct {
	Mode               string `yaml:"mode"`
	Endpoint           string `yaml:"endpoint"`
	VirtualHostedStyle bool   `yaml:"virtualHostedStyle"`
	AccessKeyID        string `yaml:"accessKeyId"`
	SecretAccessKey    string `yaml:"secretAccessKey"`
	SessionToken       string `yaml:"sessionToken"`
	Region             string `yaml:"region"`
	STSEndpoint        string `yaml:"stsEndpoint"`
	SessionDuration    string `yaml:"sessionDuration"`
	// PrivateEndpoints maps a bucket region (us-east-1) to the URL of the
	// interface VPC endpoint for S3 there, used in cloud mode for buckets
	// that require private networking.
	PrivateEndpoints map[string]string `yaml:"privateEndpoints"`
	// AccountARN is the server's AWS principal, shown to customers as
	// atlasAWSAccountArn for their roles' trust policies.
	AccountARN string `yaml:"accountArn"`
}

// Azure configures Blob Storage and the server's Entra ID application.
type Azure struct {
	Mode                  string `yaml:"mode"`
	Endpoint              string `yaml:"endpoint"`
	AccountName           string `yaml:"accountName"`
	AccountKey            string `yaml:"accountKey"`
	ClientID              string `yaml:"clientId"`
	ClientSecret          string `yaml:"clientSecret"`
	ClientCertificateFile string `yaml:"clientCertificateFile"`
	AuthorityHost         string `yaml:"authorityHost"`
}

// GCP configures Cloud Storage and service-account impersonation.
type GCP struct {
	Mode                   string `yaml:"mode"`
	Endpoint               string `yaml:"endpoint"`
	CredentialsFile        string `yaml:"credentialsFile"`
	IAMCredentialsEndpoint string `yaml:"iamCredentialsEndpoint"`
	// ProjectSuffix is the p-<24 characters> project part of the service
	// accounts made for GCP roles.
	ProjectSuffix string `yaml:"projectSuffix"`
}

// Load reads and checks the file at path; errors name the file and field.
func Load(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkKeys(&doc); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.check(); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// check reports the first value of the file that its settings refuse.
func (f File) check() error {
	if _, err := f.ObjectStoreConfig(); err != nil {
		return err
	}
	if _, err := f.Limits(); err != nil {
		return err
	}
	if _, err := ParseTrustedProxies("trustedProxies", f.TrustedProxies); err != nil {
		return err
	}
	if _, err := f.PostgresOptions(); err != nil {
		return err
	}
	if _, err := f.ExportConfig(); err != nil {
		return err
	}
	if _, err := f.UploadLimit(); err != nil {
		return err
	}
	if _, err := f.ClusterDelay(); err != nil {
		return err
	}
	if _, err := f.SchedulePoll(); err != nil {
		return err
	}
	_, _, err := f.Timings()
	return err
}

func duration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a duration such as 30s or 5m", field, s)
	}
	return d, nil
}

// ObjectStoreConfig turns the file's objectStores into objectstore.Config
// (LocalDir left empty when the file names none).
func (f File) ObjectStoreConfig() (objectstore.Config, error) {
	o := f.ObjectStores
	c := objectstore.Config{
		LocalDir:             o.LocalDir,
		LocalRequireExisting: o.LocalRequireExisting,
		AWS: objectstore.AWSConfig{Mode: objectstore.Mode(o.AWS.Mode), Endpoint: o.AWS.Endpoint, VirtualHostedStyle: o.AWS.VirtualHostedStyle,
			AccessKeyID: o.AWS.AccessKeyID, SecretAccessKey: o.AWS.SecretAccessKey, SessionToken: o.AWS.SessionToken,
			DefaultRegion: o.AWS.Region, STSEndpoint: o.AWS.STSEndpoint, PrivateEndpoints: o.AWS.PrivateEndpoints},
		Azure: objectstore.AzureConfig{Mode: objectstore.Mode(o.Azure.Mode), Endpoint: o.Azure.Endpoint, AccountName: o.Azure.AccountName,
			AccountKey: o.Azure.AccountKey, ClientID: o.Azure.ClientID, ClientSecret: o.Azure.ClientSecret,
			ClientCertificateFile: o.Azure.ClientCertificateFile, AuthorityHost: o.Azure.AuthorityHost},
		GCP: objectstore.GCPConfig{Mode: objectstore.Mode(o.GCP.Mode), Endpoint: o.GCP.Endpoint, CredentialsFile: o.GCP.CredentialsFile,
			IAMCredentialsEndpoint: o.GCP.IAMCredentialsEndpoint},
		Retry: objectstore.RetryPolicy{MaxAttempts: o.Retry.MaxAttempts},
	}
	var err error
	for _, d := range []struct {
		field string
		value string
		dst   *time.Duration
	}{
		{"objectStores.timeout", o.Timeout, &c.Timeout},
		{"objectStores.retry.baseDelay", o.Retry.BaseDelay, &c.Retry.BaseDelay},
		{"objectStores.retry.maxDelay", o.Retry.MaxDelay, &c.Retry.MaxDelay},
		{"objectStores.aws.sessionDuration", o.AWS.SessionDuration, &c.AWS.SessionDuration},
	} {
		if *d.dst, err = duration(d.field, d.value); err != nil {
			return c, err
		}
	}
	if c.LocalDir == "" {
		// Validated with a placeholder: the server fills in <data>/buckets.
		probe := c
		probe.LocalDir = "buckets"
		return c, prefixed(probe.Validate())
	}
	return c, prefixed(c.Validate())
}

// prefixed names objectstore fields as the file spells them:
// "objectstore: AWS.Endpoint: …" becomes "objectStores.aws.endpoint: …".
func prefixed(err error) error {
	if err == nil {
		return nil
	}
	msg, ok := strings.CutPrefix(err.Error(), "objectstore: ")
	field, rest, ok2 := strings.Cut(msg, ": ")
	if !ok || !ok2 || strings.ContainsAny(field, " \t") {
		return fmt.Errorf("objectStores: %w", err)
	}
	parts := strings.Split(field, ".")
	for i, p := range parts {
		parts[i] = yamlName(p)
	}
	return fmt.Errorf("objectStores.%s: %s", strings.Join(parts, "."), rest)
}

// yamlName is the file's key for an objectstore field name: lower camel
// case, with acronyms as words (STSEndpoint → stsEndpoint, ClientID →
// clientId) and DefaultRegion, the one field named otherwise, as region.
func yamlName(goName string) string {
	if goName == "DefaultRegion" {
		return "region"
	}
	if strings.HasSuffix(goName, "ID") {
		goName = strings.TrimSuffix(goName, "ID") + "Id"
	}
	r := []rune(goName)
	// Lower the leading capitals, but not the one that starts the next
	// word (the C of IAMCredentials).
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n > 1 && n < len(r) {
		n--
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// Identities are the service's own cloud identities, defaults filled in.
func (f File) Identities() service.Identities {
	id := service.DefaultIdentities
	o := f.ObjectStores
	if o.AWS.AccountARN != "" {
		id.AWSAccountARN = o.AWS.AccountARN
	}
	if o.AWS.Region != "" {
		id.DefaultAWSRegion = o.AWS.Region
	}
	if o.Azure.ClientID != "" {
		id.AzureAppID = o.Azure.ClientID
	}
	if o.GCP.ProjectSuffix != "" {
		id.GCPProjectSuffix = o.GCP.ProjectSuffix
	}
	return id
}

// Limits returns the rate-limit policies: the file's, else Atlas's.
func (f File) Limits() (Policies, error) {
	p := Policies{CloudBackups: ratelimit.CloudBackups(), CloudProviderAccess: ratelimit.CloudProviderAccess(),
		Clusters: ratelimit.Clusters(), Projects: ratelimit.Projects(), FailedAuthentications: ratelimit.FailedAuthentications()}
	for _, set := range []struct {
		field, value string
		policy       *ratelimit.Policy
	}{
		{"rateLimits.cloudBackups", f.RateLimits.CloudBackups, &p.CloudBackups},
		{"rateLimits.cloudProviderAccess", f.RateLimits.CloudProviderAccess, &p.CloudProviderAccess},
		{"rateLimits.clusters", f.RateLimits.Clusters, &p.Clusters},
		{"rateLimits.projects", f.RateLimits.Projects, &p.Projects},
		{"rateLimits.failedAuthentications", f.RateLimits.FailedAuthentications, &p.FailedAuthentications},
	} {
		if set.value == "" {
			continue
		}
		parsed, err := ParsePolicy(set.field, set.policy.Name, set.value)
		if err != nil {
			return Policies{}, err
		}
		*set.policy = parsed
	}
	return p, nil
}

// ParsePolicy reads CAPACITY:REFILL/PERIOD, e.g. 1200:500/1m; field names
// the setting in errors.
func ParsePolicy(field, name, s string) (ratelimit.Policy, error) {
	bad := fmt.Errorf("%s: %q is not CAPACITY:REFILL/PERIOD, e.g. 1200:500/1m", field, s)
	capStr, rest, ok1 := strings.Cut(s, ":")
	refillStr, periodStr, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return ratelimit.Policy{}, bad
	}
	capacity, err1 := strconv.Atoi(capStr)
	refill, err2 := strconv.Atoi(refillStr)
	period, err3 := time.ParseDuration(periodStr)
	p := ratelimit.Policy{Name: name, Capacity: capacity, Refill: refill, Period: period}
	if err1 != nil || err2 != nil || err3 != nil || p.Validate() != nil {
		return ratelimit.Policy{}, bad
	}
	return p, nil
}

// ParseTrustedProxies reads networks in CIDR notation (192.0.2.0/24,
// 2001:db8::/32) or single addresses (192.0.2.7, the /32); field names the
// setting in errors.
func ParseTrustedProxies(field string, list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			addr, addrErr := netip.ParseAddr(s)
			if addrErr != nil || addr.Zone() != "" {
				return nil, fmt.Errorf("%s: %q is not a network such as 10.0.0.0/8 or fd00::/8, nor an address", field, s)
			}
			p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// Client addresses are compared unmapped: 192.0.2.1, not
			// ::ffff:192.0.2.1.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
