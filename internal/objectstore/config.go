package objectstore

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
)

// Mode says how the service reaches one provider's buckets.
type Mode string

const (
	// ModeCloud talks to the real cloud service with the server's own
	// identity acting for each cloud provider access role: AWS STS
	// AssumeRole, an Entra ID application signing in to the role's tenant,
	// or impersonation of the role's GCP service account.
	ModeCloud Mode = "cloud"
	// ModeS3Compatible talks to an S3-compatible server (MinIO, Ceph, …) at
	// AWSConfig.Endpoint with static credentials, or with credentials from
	// AssumeRole when AWSConfig.STSEndpoint is set.
	ModeS3Compatible Mode = "s3-compatible"
	// ModeAzureCompatible talks to an Azure Blob compatible server (Azurite,
	// …) at AzureConfig.Endpoint with a shared account key.
	ModeAzureCompatible Mode = "azure-compatible"
	// ModeGCSCompatible talks to a GCS JSON API compatible server
	// (fake-gcs-server, …) at GCPConfig.Endpoint, unauthenticated or with a
	// credentials file, impersonating the role's service account when
	// GCPConfig.IAMCredentialsEndpoint is set.
	ModeGCSCompatible Mode = "gcs-compatible"
	// ModeLocal keeps each bucket in a directory,
	// Config.LocalDir/<provider>/<bucket>. It is the mode of a provider whose
	// Mode is empty.
	ModeLocal Mode = "local"
)

// LocalBucketsTag is the build tag that leaves the providers' SDKs out of
// a binary: only ModeLocal is built in, and New refuses every other mode
// (SDKsBuiltIn is false). A test binary that keeps every bucket in local
// folders builds several times faster with it (docs/performance.md).
const LocalBucketsTag = "snapexport_localbuckets"

// Defaults applied by New to zero fields.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultMaxAttempts     = 4
	DefaultBaseDelay       = 200 * time.Millisecond
	DefaultMaxDelay        = 5 * time.Second
	DefaultAWSRegion       = "us-east-1"
	DefaultSessionDuration = time.Hour
	DefaultRefreshWindow   = 5 * time.Minute
	DefaultRoleSessionName = "snapexport"
)

// Config selects, per provider, where buckets live and with which identity
// the server reaches them. The zero Config keeps every bucket under LocalDir.
type Config struct {
	AWS   AWSConfig
	Azure AzureConfig
	GCP   GCPConfig
	// LocalDir holds the buckets of every provider in ModeLocal, one
	// directory per provider and bucket (aws/, azure/, gcp/). Required when
	// any provider is local; the server passes a directory under its data
	// directory.
	LocalDir string
	// LocalRequireExisting makes a local bucket exist only when its
	// directory does; by default the directory is created on first use.
	LocalRequireExisting bool
	// Timeout bounds each operation of Stores (region lookup, permission
	// check, role assumption) including its retries, and each HTTP
	// attempt's wait for response headers. Zero means DefaultTimeout.
	Timeout time.Duration
	// Retry is the one retry policy given to every SDK's retryer.
	Retry RetryPolicy
	// Logger receives the underlying cause of each failure (never secrets).
	// Nil discards.
	Logger *slog.Logger
}

// RetryPolicy says how transient faults (5xx, throttling, connection
// resets, timeouts of one attempt) are retried: at most MaxAttempts
// attempts in all, waiting a random time ("full jitter") up to
// min(MaxDelay, BaseDelay·2^retry) before each retry. Permanent faults
// (403, 404, bad credentials) are never retried. Zero fields take the
// defaults; MaxAttempts 1 turns retries off.
type RetryPolicy struct {
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
}

// AWSConfig selects how S3 buckets are reached.
type AWSConfig struct {
	Mode Mode
	// Endpoint is the S3 endpoint URL (s3-compatible only), e.g.
	// http://127.0.0.1:9000.
	Endpoint string
	// VirtualHostedStyle addresses buckets as <bucket>.<endpoint host>
	// instead of the default <endpoint>/<bucket> (s3-compatible only).
	VirtualHostedStyle bool
	// AccessKeyID, SecretAccessKey and SessionToken are the server's own
	// static credentials. In s3-compatible mode they sign S3 calls, or the
	// STS calls when STSEndpoint is set. In cloud mode they replace the
	// standard credential chain (environment, shared files, IMDS, …).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// DefaultRegion is the region of the server's own AWS calls (STS,
	// GetBucketLocation) and the region reported for buckets whose store
	// names none (local buckets, most S3-compatible servers). Default
	// us-east-1.
	DefaultRegion string
	// PrivateEndpoints maps an AWS region (us-east-1) to the URL of the
	// interface VPC endpoint for S3 there
	// (https://bucket.vpce-….s3.us-east-1.vpce.amazonaws.com). In cloud mode
	// buckets that require private networking are reached only through it.
	PrivateEndpoints map[string]string
	// STSEndpoint overrides the STS endpoint. In s3-compatible mode setting
	// it turns on role assumption: S3 calls then carry each role's
	// temporary credentials.
	STSEndpoint string
	// SessionDuration is the DurationSeconds asked of AssumeRole. Default 1h.
	SessionDuration time.Duration
	// RefreshWindow is how long before their expiry temporary credentials
	// are renewed. Default 5m.
	RefreshWindow time.Duration
	// RoleSessionName prefixes the RoleSessionName of AssumeRole calls
	// (followed by "-" and the role id). Default "snapexport".
	RoleSessionName string
}

// AzureConfig selects how Azure Blob containers are reached.
type AzureConfig struct {
	Mode Mode
	// Endpoint is the blob service URL of one storage account
	// (azure-compatible only), e.g. Azurite's
	// http://127.0.0.1:10000/devstoreaccount1. The account of a bucket's
	// serviceUrl is not used in this mode: every container lives there.
	Endpoint string
	// AccountName and AccountKey are the shared key of that account
	// (azure-compatible only).
	AccountName string
	AccountKey  string
	// ClientID is the server's own Entra ID application (cloud only); with
	// ClientSecret or ClientCertificateFile it signs in to each role's
	// tenant. With neither, the default Azure credential chain is used,
	// allowed to act in the role's tenant.
	ClientID              string
	ClientSecret          string
	ClientCertificateFile string
	// AuthorityHost overrides the Entra ID host (sovereign clouds).
	AuthorityHost string
}

// GCPConfig selects how GCS buckets are reached.
type GCPConfig struct {
	Mode Mode
	// Endpoint is the JSON API base URL (gcs-compatible only), e.g.
	// http://127.0.0.1:4443/storage/v1/; "/storage/v1/" is appended when
	// the URL has no path.
	Endpoint string
	// CredentialsFile is a JSON credentials file holding the server's own
	// Google identity. Empty means Application Default Credentials in cloud
	// mode and no authentication in gcs-compatible mode.
	CredentialsFile string
	// IAMCredentialsEndpoint overrides the IAM Credentials API used to
	// impersonate service accounts. In gcs-compatible mode setting it turns
	// on impersonation of each role's service account.
	IAMCredentialsEndpoint string
}

func (m Mode) orLocal() Mode {
	if m == "" {
		return ModeLocal
	}
	return m
}

// Validate reports the first bad field, named as in Config (e.g.
// "AWS.Endpoint").
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("objectstore: %s: %s", field, fmt.Sprintf(format, args...))
	}
	anyLocal := false
	check := func(p string, m Mode, compatible Mode, endpoint string) error {
		switch m.orLocal() {
		case ModeLocal:
			anyLocal = true
			if endpoint != "" {
				return bad(p+".Endpoint", "not used in mode %s", ModeLocal)
			}
		case ModeCloud:
			if endpoint != "" {
				return bad(p+".Endpoint", "not used in mode %s; use %s", ModeCloud, compatible)
			}
		case compatible:
			if endpoint == "" {
				return bad(p+".Endpoint", "required in mode %s", compatible)
			}
			if err := checkURL(endpoint); err != nil {
				return bad(p+".Endpoint", "%v", err)
			}
		default:
			return bad(p+".Mode", "%q is not one of %s, %s, %s", string(m), ModeCloud, compatible, ModeLocal)
		}
		return nil
	}
	if err := check("AWS", c.AWS.Mode, ModeS3Compatible, c.AWS.Endpoint); err != nil {
		return err
	}
	if (c.AWS.AccessKeyID == "") != (c.AWS.SecretAccessKey == "") {
		return bad("AWS.SecretAccessKey", "AccessKeyID and SecretAccessKey go together")
	}
	if c.AWS.SessionToken != "" && c.AWS.AccessKeyID == "" {
		return bad("AWS.SessionToken", "needs AccessKeyID and SecretAccessKey")
	}
	if c.AWS.Mode == ModeS3Compatible && c.AWS.AccessKeyID == "" && c.AWS.STSEndpoint == "" {
		return bad("AWS.AccessKeyID", "required in mode %s", ModeS3Compatible)
	}
	if c.AWS.STSEndpoint != "" {
		if m := c.AWS.Mode.orLocal(); m == ModeLocal {
			return bad("AWS.STSEndpoint", "not used in mode %s", m)
		}
		if err := checkURL(c.AWS.STSEndpoint); err != nil {
			return bad("AWS.STSEndpoint", "%v", err)
		}
	}
	if d := c.AWS.SessionDuration; d != 0 && (d < 15*time.Minute || d > 12*time.Hour) {
		return bad("AWS.SessionDuration", "%s is outside 15m..12h", d)
	}
	if c.AWS.RefreshWindow < 0 {
		return bad("AWS.RefreshWindow", "negative")
	}
	if r := c.AWS.DefaultRegion; r != "" && !regionLike(r) {
		return bad("AWS.DefaultRegion", "%q is not a region name", r)
	}

	if err := check("Azure", c.Azure.Mode, ModeAzureCompatible, c.Azure.Endpoint); err != nil {
		return err
	}
	if c.Azure.Mode == ModeAzureCompatible {
		if c.Azure.AccountName == "" {
			return bad("Azure.AccountName", "required in mode %s", ModeAzureCompatible)
		}
		if c.Azure.AccountKey == "" {
			return bad("Azure.AccountKey", "required in mode %s", ModeAzureCompatible)
		}
	}
	if c.Azure.ClientSecret != "" && c.Azure.ClientCertificateFile != "" {
		return bad("Azure.ClientCertificateFile", "give either ClientSecret or ClientCertificateFile")
	}
	if (c.Azure.ClientSecret != "" || c.Azure.ClientCertificateFile != "") && c.Azure.ClientID == "" {
		return bad("Azure.ClientID", "required with a client secret or certificate")
	}
	if c.Azure.AuthorityHost != "" {
		if err := checkURL(c.Azure.AuthorityHost); err != nil {
			return bad("Azure.AuthorityHost", "%v", err)
		}
	}

	if err := check("GCP", c.GCP.Mode, ModeGCSCompatible, c.GCP.Endpoint); err != nil {
		return err
	}
	if c.GCP.IAMCredentialsEndpoint != "" {
		if c.GCP.Mode.orLocal() == ModeLocal {
			return bad("GCP.IAMCredentialsEndpoint", "not used in mode %s", ModeLocal)
		}
		if err := checkURL(c.GCP.IAMCredentialsEndpoint); err != nil {
			return bad("GCP.IAMCredentialsEndpoint", "%v", err)
		}
	}

	if anyLocal && c.LocalDir == "" {
		return bad("LocalDir", "required when a provider is in mode %s", ModeLocal)
	}
	if c.Timeout < 0 {
		return bad("Timeout", "negative")
	}
	if c.Retry.MaxAttempts < 0 {
		return bad("Retry.MaxAttempts", "negative")
	}
	if c.Retry.BaseDelay < 0 {
		return bad("Retry.BaseDelay", "negative")
	}
	if c.Retry.MaxDelay < 0 {
		return bad("Retry.MaxDelay", "negative")
	}
	if c.Retry.MaxDelay != 0 && c.Retry.BaseDelay > c.Retry.MaxDelay {
		return bad("Retry.MaxDelay", "smaller than BaseDelay")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", redactURL(s))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", redactURL(s))
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", redactURL(s))
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials do not belong in the URL", redactURL(s))
	}
	return nil
}

func regionLike(r string) bool {
	if len(r) < 2 || len(r) > 40 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// redactURL keeps scheme, host and path: user info and query strings (SAS
// tokens) never reach a message.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if i := strings.IndexAny(s, "?@"); i >= 0 {
			return s[:i]
		}
		return s
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	c.AWS.Mode = c.AWS.Mode.orLocal()
	c.Azure.Mode = c.Azure.Mode.orLocal()
	c.GCP.Mode = c.GCP.Mode.orLocal()
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.Retry.BaseDelay == 0 {
		c.Retry.BaseDelay = DefaultBaseDelay
	}
	if c.Retry.MaxDelay == 0 {
		c.Retry.MaxDelay = max(DefaultMaxDelay, c.Retry.BaseDelay)
	}
	if c.AWS.DefaultRegion == "" {
		c.AWS.DefaultRegion = DefaultAWSRegion
	}
	if c.AWS.SessionDuration == 0 {
		c.AWS.SessionDuration = DefaultSessionDuration
	}
	if c.AWS.RefreshWindow == 0 {
		c.AWS.RefreshWindow = DefaultRefreshWindow
	}
	if c.AWS.RoleSessionName == "" {
		c.AWS.RoleSessionName = DefaultRoleSessionName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Describe says, one line per provider, where its buckets are reached; for
// the startup log. It names no secret.
func (s *Stores) Describe() []string {
	c := s.cfg
	var out []string
	switch c.AWS.Mode {
	case ModeCloud:
		id := "the standard AWS credential chain"
		if c.AWS.AccessKeyID != "" {
			id = "static credentials " + c.AWS.AccessKeyID
		}
		sts := "STS"
		if c.AWS.STSEndpoint != "" {
			sts = "STS at " + redactURL(c.AWS.STSEndpoint)
		}
		out = append(out, fmt.Sprintf("AWS: cloud: Amazon S3, assuming each role through %s with %s (home region %s)", sts, id, c.AWS.DefaultRegion))
	case ModeS3Compatible:
		style := "path-style"
		if c.AWS.VirtualHostedStyle {
			style = "virtual-hosted-style"
		}
		auth := "static credentials " + c.AWS.AccessKeyID
		if c.AWS.STSEndpoint != "" {
			base := "the standard AWS credential chain"
			if c.AWS.AccessKeyID != "" {
				base = "static credentials " + c.AWS.AccessKeyID
			}
			auth = fmt.Sprintf("each role assumed through STS at %s with %s", redactURL(c.AWS.STSEndpoint), base)
		}
		out = append(out, fmt.Sprintf("AWS: s3-compatible: %s (%s), %s, default region %s", redactURL(c.AWS.Endpoint), style, auth, c.AWS.DefaultRegion))
	default:
		out = append(out, fmt.Sprintf("AWS: local: %s (region %s)", s.localRoot(snapexport.AWS), c.AWS.DefaultRegion))
	}
	switch c.Azure.Mode {
	case ModeCloud:
		id := "the default Azure credential chain"
		switch {
		case c.Azure.ClientSecret != "":
			id = "application " + c.Azure.ClientID + " (client secret)"
		case c.Azure.ClientCertificateFile != "":
			id = "application " + c.Azure.ClientID + " (client certificate)"
		}
		out = append(out, fmt.Sprintf("AZURE: cloud: each bucket's serviceUrl, signed in to each role's tenant as %s", id))
	case ModeAzureCompatible:
		out = append(out, fmt.Sprintf("AZURE: azure-compatible: %s, shared key of account %s", redactURL(c.Azure.Endpoint), c.Azure.AccountName))
	default:
		out = append(out, fmt.Sprintf("AZURE: local: %s", s.localRoot(snapexport.Azure)))
	}
	switch c.GCP.Mode {
	case ModeCloud:
		id := "Application Default Credentials"
		if c.GCP.CredentialsFile != "" {
			id = "credentials file " + c.GCP.CredentialsFile
		}
		out = append(out, fmt.Sprintf("GCP: cloud: Google Cloud Storage, impersonating each role's service account with %s", id))
	case ModeGCSCompatible:
		auth := "unauthenticated"
		if c.GCP.CredentialsFile != "" {
			auth = "credentials file " + c.GCP.CredentialsFile
		}
		if c.GCP.IAMCredentialsEndpoint != "" {
			auth += ", impersonating each role's service account through " + redactURL(c.GCP.IAMCredentialsEndpoint)
		}
		out = append(out, fmt.Sprintf("GCP: gcs-compatible: %s, %s", redactURL(s.gcsEndpoint()), auth))
	default:
		out = append(out, fmt.Sprintf("GCP: local: %s", s.localRoot(snapexport.GCP)))
	}
	return out
}
