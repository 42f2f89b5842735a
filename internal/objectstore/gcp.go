//go:build !snapexport_localbuckets

package objectstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"gocloud.dev/blob"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iamcredentials/v1"
	"google.golang.org/api/option"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore/transport"
)

const (
	gcsScope           = "https://www.googleapis.com/auth/devstorage.read_write"
	cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
	gcsCloudEndpoint   = "https://storage.googleapis.com/storage/v1/"
	// impersonationRefresh is how long before expiry an impersonated token
	// is renewed.
	impersonationRefresh = 5 * time.Minute
)

// impersonates reports whether GCS calls carry a token of each role's
// service account.
func (s *Stores) impersonates() bool {
	return s.cfg.GCP.Mode == ModeCloud || s.cfg.GCP.IAMCredentialsEndpoint != ""
}

// gcsEndpoint is the JSON API base URL.
func (s *Stores) gcsEndpoint() string {
	if s.cfg.GCP.Mode != ModeGCSCompatible {
		return gcsCloudEndpoint
	}
	e := s.cfg.GCP.Endpoint
	if u, err := url.Parse(e); err == nil && (u.Path == "" || u.Path == "/") {
		e = strings.TrimRight(e, "/") + "/storage/v1/"
	}
	if !strings.HasSuffix(e, "/") {
		e += "/"
	}
	return e
}

func (s *Stores) gcsEndpointName() string {
	if s.cfg.GCP.Mode == ModeGCSCompatible {
		return redactURL(s.cfg.GCP.Endpoint)
	}
	return "Google Cloud Storage"
}

// tokenContext carries the server's HTTP client to oauth2 token fetches and
// outlives the operation that created a cached token source.
func (s *Stores) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, s.clients.Client())
}

// gcpBaseTokenSource is the server's own Google identity, or nil for an
// unauthenticated gcs-compatible store.
func (s *Stores) gcpBaseTokenSource(ctx context.Context, scope string) (oauth2.TokenSource, error) {
	ctx = s.tokenContext(ctx)
	if f := s.cfg.GCP.CredentialsFile; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("objectstore: GCP.CredentialsFile: %w", err)
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("objectstore: GCP.CredentialsFile %s: %w", f, err)
		}
		creds, err := google.CredentialsFromJSONWithType(ctx, data, google.CredentialsType(head.Type), scope)
		if err != nil {
			return nil, fmt.Errorf("objectstore: GCP.CredentialsFile %s: %w", f, err)
		}
		return creds.TokenSource, nil
	}
	if s.cfg.GCP.Mode == ModeGCSCompatible && !s.impersonates() {
		return nil, nil
	}
	creds, err := google.FindDefaultCredentials(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("objectstore: Google Application Default Credentials: %w", err)
	}
	return creds.TokenSource, nil
}

// impersonationError marks a failure to get the role's token.
type impersonationError struct {
	serviceAccount string
	err            error
}

func (e *impersonationError) Error() string {
	return "impersonating " + e.serviceAccount + ": " + e.err.Error()
}
func (e *impersonationError) Unwrap() error { return e.err }

// impersonatedSource gets access tokens of a service account from the IAM
// Credentials API (generateAccessToken), as the server's own identity.
type impersonatedSource struct {
	svc            *iamcredentials.Service
	serviceAccount string
	timeout        time.Duration
}

func (i *impersonatedSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), i.timeout)
	defer cancel()
	return i.token(ctx)
}

func (i *impersonatedSource) token(ctx context.Context) (*oauth2.Token, error) {
	resp, err := i.svc.Projects.ServiceAccounts.GenerateAccessToken("projects/-/serviceAccounts/"+i.serviceAccount,
		&iamcredentials.GenerateAccessTokenRequest{Scope: []string{gcsScope}, Lifetime: "3600s"}).Context(ctx).Do()
	if err != nil {
		return nil, &impersonationError{serviceAccount: i.serviceAccount, err: err}
	}
	expiry, err := time.Parse(time.RFC3339, resp.ExpireTime)
	if err != nil {
		return nil, &impersonationError{serviceAccount: i.serviceAccount, err: fmt.Errorf("expireTime %q: %w", resp.ExpireTime, err)}
	}
	return &oauth2.Token{AccessToken: resp.AccessToken, TokenType: "Bearer", Expiry: expiry}, nil
}

var errNoServiceAccount = errors.New("objectstore: the GCP role has no service account")

func (s *Stores) impersonatedSource(ctx context.Context, role *snapexport.CloudProviderAccessRole) (*impersonatedSource, error) {
	if role == nil || role.GCPServiceAccount == "" {
		return nil, errNoServiceAccount
	}
	base, err := s.gcpBaseTokenSource(ctx, cloudPlatformScope)
	if err != nil {
		return nil, err
	}
	opts := []option.ClientOption{option.WithHTTPClient(s.clients.Authorized(base))}
	if e := s.cfg.GCP.IAMCredentialsEndpoint; e != "" {
		opts = append(opts, option.WithEndpoint(e))
	}
	svc, err := iamcredentials.NewService(s.tokenContext(ctx), opts...)
	if err != nil {
		return nil, err
	}
	return &impersonatedSource{svc: svc, serviceAccount: role.GCPServiceAccount, timeout: s.cfg.Timeout}, nil
}

// gcsShouldRetry is storage.ShouldRetry looking through wrapping (a dropped
// connection reaches it wrapped), never past the attempt limit.
func gcsShouldRetry(err error) bool {
	var rx *transport.RetriesExhausted
	if errors.As(err, &rx) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if storage.ShouldRetry(e) {
			return true
		}
	}
	return isNetError(err) && !isDNSNotFound(err)
}

func isDNSNotFound(err error) bool {
	var d *net.DNSError
	return errors.As(err, &d) && d.IsNotFound
}

// gcsClient returns the storage client for role, with the retry policy.
func (s *Stores) gcsClient(ctx context.Context, role *snapexport.CloudProviderAccessRole) (*storage.Client, error) {
	key := ""
	if s.impersonates() {
		if role == nil || role.GCPServiceAccount == "" {
			return nil, errNoServiceAccount
		}
		key = role.GCPServiceAccount
	}
	s.mu.Lock()
	c, ok := s.sdk.gcsClients[key]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	var ts oauth2.TokenSource
	if s.impersonates() {
		src, err := s.impersonatedSource(ctx, role)
		if err != nil {
			return nil, err
		}
		ts = oauth2.ReuseTokenSourceWithExpiry(nil, src, impersonationRefresh)
	} else {
		var err error
		if ts, err = s.gcpBaseTokenSource(ctx, gcsScope); err != nil {
			return nil, err
		}
	}
	opts := []option.ClientOption{option.WithHTTPClient(s.clients.AttemptLimited(ts, s.cfg.Retry.MaxAttempts))}
	if s.cfg.GCP.Mode == ModeGCSCompatible {
		opts = append(opts, option.WithEndpoint(s.gcsEndpoint()))
	}
	client, err := storage.NewClient(s.tokenContext(ctx), opts...)
	if err != nil {
		return nil, err
	}
	p := s.cfg.Retry
	// Every write of the service overwrites a key it owns, so retrying
	// uploads is safe: RetryAlways rather than only idempotent calls.
	client.SetRetry(
		storage.WithBackoff(gax.Backoff{Initial: max(p.BaseDelay, time.Millisecond), Max: p.MaxDelay, Multiplier: 2}),
		storage.WithMaxAttempts(p.MaxAttempts),
		storage.WithPolicy(storage.RetryAlways),
		storage.WithErrorFunc(gcsShouldRetry),
	)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sdk.gcsClients[key]; ok {
		_ = client.Close()
		return c, nil
	}
	s.sdk.gcsClients[key] = client
	return client, nil
}

func (s *Stores) openGCS(ctx context.Context, t Target) (*blob.Bucket, op, error) {
	o := op{provider: snapexport.GCP, bucket: t.Bucket, endpoint: s.gcsEndpointName(), action: "open", role: t.Role, roleRef: roleID(t.Role)}
	client, err := s.gcsClient(ctx, t.Role)
	if errors.Is(err, errNoServiceAccount) {
		return nil, o, s.fail(ctx, o, fault{kind: kindRole}, err)
	}
	if err != nil {
		// The server's own identity is missing or unreadable.
		return nil, o, s.fail(ctx, o, fault{kind: kindCredentials}, err)
	}
	return newGCSBucket(client, t.Bucket), o, nil
}

// impersonateGCP gets a fresh token of the role's service account.
func (s *Stores) impersonateGCP(ctx context.Context, role *snapexport.CloudProviderAccessRole) error {
	if !s.impersonates() {
		return nil
	}
	endpoint := "IAM Credentials API"
	if e := s.cfg.GCP.IAMCredentialsEndpoint; e != "" {
		endpoint = redactURL(e)
	}
	o := op{provider: snapexport.GCP, endpoint: endpoint, action: "generateAccessToken " + role.GCPServiceAccount,
		role: role, roleRef: role.GCPServiceAccount}
	src, err := s.impersonatedSource(ctx, role)
	if errors.Is(err, errNoServiceAccount) {
		o.roleRef = role.ID
		return s.fail(ctx, o, fault{kind: kindRole}, err)
	}
	if err != nil {
		return s.fail(ctx, o, fault{kind: kindCredentials}, err)
	}
	if _, err := src.token(ctx); err != nil {
		return s.fail(ctx, o, classifyGCS(err), err)
	}
	return nil
}

func classifyGCS(err error) fault {
	var f fault
	var gerr *googleapi.Error
	hasStatus := errors.As(err, &gerr)
	if hasStatus {
		f.status = gerr.Code
		if len(gerr.Errors) > 0 {
			f.code = gerr.Errors[0].Reason
		}
	}
	var rx *transport.RetriesExhausted
	if errors.As(err, &rx) && rx.Status != 0 && f.status == 0 {
		f.status = rx.Status
	}
	var ie *impersonationError
	if errors.As(err, &ie) {
		switch {
		case transport.Classify(f.status) == transport.BadCredentials:
			f.kind = kindCredentials // the server's own identity
		case hasStatus:
			if _, permanent := statusKind(f.status); permanent {
				f.kind = kindRole
			}
		}
		return f
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The server's own identity could not get a token.
		f.kind = kindCredentials
		if re.Response != nil {
			f.status = re.Response.StatusCode
		}
		return f
	}
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		f.kind = kindNotFound
	default:
		f.kind, _ = statusKind(f.status)
	}
	return f
}
