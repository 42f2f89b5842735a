package objectstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore/transport"
)

// PermissionCheckKey is the empty object written to prove write access,
// on bucket creation and at every export start. Atlas's documentation
// writes it with a leading slash; object keys here never have one, like the
// export prefixes.
const PermissionCheckKey = "exported_snapshots/.permissioncheck"

// Target names one bucket and the role through which it is reached.
type Target struct {
	Provider snapexport.CloudProvider
	// Bucket is the S3 bucket, Azure container or GCS bucket.
	Bucket string
	// Region is the S3 bucket's region when known (ExportBucket.Region);
	// looked up when empty.
	Region string
	// ServiceURL is the Azure storage-account blob endpoint
	// (ExportBucket.ServiceURL); a container path in it is ignored, Bucket
	// names the container.
	ServiceURL string
	// Role is the authorized cloud provider access role; needed in every
	// mode that acts for roles (AWS cloud or with STSEndpoint, Azure cloud,
	// GCP cloud or with IAMCredentialsEndpoint), ignored otherwise.
	Role *snapexport.CloudProviderAccessRole
	// PrivateNetworking routes an S3 bucket's traffic through the region's
	// configured VPC endpoint (cloud mode; see AWSConfig.PrivateEndpoints).
	PrivateNetworking bool
}

// Stores reaches the buckets of every provider as its Config says. It is
// safe for concurrent use; clients and temporary credentials are cached per
// role.
type Stores struct {
	cfg     Config
	clients *transport.Clients

	mu  sync.Mutex
	sdk sdkClients
}

// New validates cfg and returns Stores for it. It contacts nothing:
// credentials are looked up on first use.
func New(cfg Config) (*Stores, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkBuiltIn(cfg); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Stores{cfg: cfg, clients: transport.NewClients(cfg.Timeout), sdk: newSDKClients()}, nil
}

// checkBuiltIn refuses, in a build without the providers' SDKs, every
// mode but ModeLocal, naming the field and the build tag.
func checkBuiltIn(c Config) error {
	if SDKsBuiltIn {
		return nil
	}
	for _, p := range []struct {
		field string
		mode  Mode
	}{{"AWS.Mode", c.AWS.Mode}, {"Azure.Mode", c.Azure.Mode}, {"GCP.Mode", c.GCP.Mode}} {
		if m := p.mode.orLocal(); m != ModeLocal {
			return fmt.Errorf("objectstore: %s: %s is not built in: this binary was built with -tags %s, which keeps buckets in local folders only", p.field, m, LocalBucketsTag)
		}
	}
	return nil
}

// Close releases cached clients and idle connections.
func (s *Stores) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.sdk.close()
	s.clients.CloseIdleConnections()
	return err
}

// Mode reports the mode of provider p.
func (s *Stores) Mode(p snapexport.CloudProvider) Mode {
	switch p {
	case snapexport.AWS:
		return s.cfg.AWS.Mode
	case snapexport.Azure:
		return s.cfg.Azure.Mode
	case snapexport.GCP:
		return s.cfg.GCP.Mode
	}
	return ""
}

func roleID(r *snapexport.CloudProviderAccessRole) string {
	if r == nil {
		return ""
	}
	return r.ID
}

func checkTarget(t Target) error {
	switch t.Provider {
	case snapexport.AWS, snapexport.Azure, snapexport.GCP:
	default:
		return fmt.Errorf("objectstore: unknown cloud provider %q", string(t.Provider))
	}
	if t.Bucket == "" {
		return fmt.Errorf("objectstore: %s target without a bucket name", string(t.Provider))
	}
	if t.Role != nil && t.Role.Provider != "" && t.Role.Provider != t.Provider {
		return fmt.Errorf("objectstore: %s bucket %s with a %s role", string(t.Provider), t.Bucket, string(t.Role.Provider))
	}
	return nil
}

// Open returns the bucket for streaming reads and writes (multipart, block
// and resumable uploads come from the SDKs). The caller closes it. Opening
// assumes the role and, for S3 without a Region, looks the region up, within
// Config.Timeout; the returned bucket's operations are bounded by the
// caller's contexts and the SDKs' retries only.
func (s *Stores) Open(ctx context.Context, t Target) (*blob.Bucket, error) {
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	octx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, _, err := s.open(octx, t)
	return b, err
}

// open opens t's bucket and describes it for error messages.
func (s *Stores) open(ctx context.Context, t Target) (*blob.Bucket, op, error) {
	switch s.Mode(t.Provider) {
	case ModeLocal:
		return s.openLocal(ctx, t)
	}
	switch t.Provider {
	case snapexport.AWS:
		return s.openS3(ctx, t)
	case snapexport.Azure:
		return s.openAzure(ctx, t)
	default:
		return s.openGCS(ctx, t)
	}
}

// BucketRegion returns the bucket's region: for S3 the answer of
// GetBucketLocation (us-east-1 for an empty constraint, Config
// AWS.DefaultRegion for a compatible store that names none or does not
// implement the call), AWS.DefaultRegion for local buckets. Azure and GCS
// buckets have no region in the export API: "".
func (s *Stores) BucketRegion(ctx context.Context, t Target) (string, error) {
	if err := checkTarget(t); err != nil {
		return "", err
	}
	if t.Provider != snapexport.AWS {
		return "", nil
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.bucketRegion(ctx, t)
}

func (s *Stores) bucketRegion(ctx context.Context, t Target) (string, error) {
	if s.cfg.AWS.Mode == ModeLocal {
		b, _, err := s.openLocal(ctx, t)
		if err != nil {
			return "", err
		}
		_ = b.Close()
		return s.cfg.AWS.DefaultRegion, nil
	}
	return s.s3BucketRegion(ctx, t)
}

// CheckPermission writes the empty object PermissionCheckKey, as Atlas does
// when a bucket is created and when an export starts, within
// Config.Timeout.
func (s *Stores) CheckPermission(ctx context.Context, t Target) error {
	if err := checkTarget(t); err != nil {
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.checkPermission(ctx, t)
}

func (s *Stores) checkPermission(ctx context.Context, t Target) error {
	b, o, err := s.open(ctx, t)
	if err != nil {
		return err
	}
	defer b.Close()
	o.action = "PutObject " + PermissionCheckKey
	if t.Provider == snapexport.Azure {
		o.action = "Put Blob " + PermissionCheckKey
	} else if t.Provider == snapexport.GCP {
		o.action = "objects.insert " + PermissionCheckKey
	}
	if s.Mode(t.Provider) == ModeLocal {
		o.action = "write " + PermissionCheckKey
	}
	werr := b.WriteAll(ctx, PermissionCheckKey, nil, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if werr != nil {
		return s.fail(ctx, o, s.classify(t, werr), werr)
	}
	return nil
}

// PrivateLink tells whether S3 traffic needs an interface VPC endpoint to
// go private (cloud mode only: other modes are private by construction) and,
// if so, the configured endpoint URL for the AWS region ("" when none).
func (s *Stores) PrivateLink(region string) (needed bool, endpoint string) {
	if s.Mode(snapexport.AWS) != ModeCloud {
		return false, ""
	}
	return true, s.cfg.AWS.PrivateEndpoints[region]
}

// Verify does what bucket creation needs: it resolves the region (AWS) and
// runs the permission check, both within one Config.Timeout. It returns the
// region to store with the bucket ("" for Azure and GCS).
func (s *Stores) Verify(ctx context.Context, t Target) (string, error) {
	if err := checkTarget(t); err != nil {
		return "", err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	switch {
	case t.Provider != snapexport.AWS || t.Region != "":
	case s.cfg.AWS.Mode == ModeLocal:
		// The permission check opens the bucket's directory, failing as
		// bucketRegion would: one opening of it per create.
		t.Region = s.cfg.AWS.DefaultRegion
	default:
		r, err := s.bucketRegion(ctx, t)
		if err != nil {
			return "", err
		}
		t.Region = r
	}
	if err := s.checkPermission(ctx, t); err != nil {
		return "", err
	}
	return t.Region, nil
}

// AssumeRole proves the server can act for role, as authorizing a role
// does: AWS calls STS AssumeRole (in cloud mode, and in s3-compatible mode
// with an STSEndpoint) and caches the temporary credentials; Azure (cloud)
// gets a storage token in the role's tenant; GCP (cloud, or with an
// IAMCredentialsEndpoint) gets an impersonated token. In every other mode it
// returns nil without contacting anything. Failures are CANNOT_ASSUME_ROLE
// (parameter: the role ARN or service account) or
// CANNOT_AUTHENTICATE_SERVICE_PRINCIPAL, or the unreachable/timeout codes.
func (s *Stores) AssumeRole(ctx context.Context, role *snapexport.CloudProviderAccessRole) error {
	if role == nil {
		return errors.New("objectstore: AssumeRole without a role")
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	switch role.Provider {
	case snapexport.AWS:
		return s.assumeAWSRole(ctx, role)
	case snapexport.Azure:
		return s.authenticateAzure(ctx, role)
	case snapexport.GCP:
		return s.impersonateGCP(ctx, role)
	}
	return fmt.Errorf("objectstore: unknown cloud provider %q", string(role.Provider))
}

// Failure turns err, the failure of action (e.g. "write <key>") on t's
// bucket as Open returned it, into the Atlas error a client sees, whose
// kind tells whether trying again can help; it logs the cause. An err that
// already is a *snapexport.Error is returned as it is.
func (s *Stores) Failure(ctx context.Context, t Target, action string, err error) error {
	var e *snapexport.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	o := op{provider: t.Provider, bucket: t.Bucket, endpoint: s.endpointName(t), action: action, role: t.Role, roleRef: roleID(t.Role)}
	return s.fail(ctx, o, s.classify(t, err), err)
}

// endpointName names, for the log, where t's bucket is.
func (s *Stores) endpointName(t Target) string {
	if s.Mode(t.Provider) == ModeLocal {
		return "local directory " + s.localRoot(t.Provider)
	}
	switch t.Provider {
	case snapexport.AWS:
		return s.s3EndpointName(t.Region)
	case snapexport.Azure:
		account, err := s.azureAccountURL(t)
		if err != nil {
			return "Azure Storage"
		}
		return redactURL(account)
	default:
		return s.gcsEndpointName()
	}
}

// classify reduces a failure of a bucket operation to a fault.
func (s *Stores) classify(t Target, err error) fault {
	var f fault
	switch {
	case s.Mode(t.Provider) == ModeLocal:
		f = classifyLocal(err)
	case t.Provider == snapexport.AWS:
		f = classifyAWS(err)
	case t.Provider == snapexport.Azure:
		f = classifyAzure(err)
	default:
		f = classifyGCS(err)
	}
	if f.kind == kindOther && gcerrors.Code(err) == gcerrors.InvalidArgument {
		// Refused before it was sent: an object name the store cannot take.
		f.kind = kindRefused
	}
	return f
}
