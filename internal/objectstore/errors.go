package objectstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/snapexport/snapexport"
)

// Atlas errorCodes of object-store failures. CANNOT_ASSUME_ROLE,
// CANNOT_AUTHENTICATE_SERVICE_PRINCIPAL and the INVALID_*_CREDENTIALS codes
// are Atlas's own; the others are this service's, for failures Atlas
// documents no code for.
const (
	// CodeCannotAssumeRole (400): AWS STS refused AssumeRole for the role,
	// or GCP refused to impersonate the role's service account. Detail is
	// Atlas's "Atlas cannot assume the specified role (%s).".
	CodeCannotAssumeRole = "CANNOT_ASSUME_ROLE"
	// CodeCannotAuthenticateServicePrincipal (400): Entra ID refused to
	// sign the server's application in to the role's tenant.
	CodeCannotAuthenticateServicePrincipal = "CANNOT_AUTHENTICATE_SERVICE_PRINCIPAL"
	// CodeBucketNotFound (400): the bucket or container does not exist in
	// the object store.
	CodeBucketNotFound = "BUCKET_NOT_FOUND"
	// CodeBucketAccessDenied (400): the store refused the operation to the
	// identity used (missing s3:PutObject, role assignment, …).
	CodeBucketAccessDenied = "BUCKET_ACCESS_DENIED"
	// CodeInvalidAWSCredentials, CodeInvalidAzureCredentials and
	// CodeInvalidGoogleCloudCredentials (400): the store did not accept the
	// credentials at all (unknown key, bad signature, expired token).
	CodeInvalidAWSCredentials         = "INVALID_AWS_CREDENTIALS"
	CodeInvalidAzureCredentials       = "INVALID_AZURE_CREDENTIALS"
	CodeInvalidGoogleCloudCredentials = "INVALID_GOOGLE_CLOUD_CREDENTIALS"
	// CodeObjectStoreUnreachable (502): no HTTP answer: connection refused
	// or reset, name not resolved, TLS failure; after retries.
	CodeObjectStoreUnreachable = "OBJECT_STORE_UNREACHABLE"
	// CodeObjectStoreTimeout (504): no answer within Config.Timeout.
	CodeObjectStoreTimeout = "OBJECT_STORE_TIMEOUT"
	// CodeObjectStoreError (502): the store kept answering with an error
	// that is none of the above (5xx after every retry, an unexpected 4xx).
	CodeObjectStoreError = "OBJECT_STORE_ERROR"
)

// kind is what a failure means, whichever store produced it.
type kind int

const (
	kindOther kind = iota
	kindNotFound
	kindDenied
	kindCredentials
	kindRole
	kindTimeout
	kindUnreachable
)

// fault is a store failure reduced to what the error mapping needs.
type fault struct {
	kind   kind
	status int    // HTTP status, when the store answered
	code   string // the store's own error code, when it gave one
}

// op describes what was tried, for error details and logs.
type op struct {
	provider snapexport.CloudProvider
	bucket   string
	endpoint string // redacted
	action   string // e.g. "PutObject exported_snapshots/.permissioncheck"
	role     *snapexport.CloudProviderAccessRole
	roleRef  string // parameter of CANNOT_ASSUME_ROLE: role id or ARN
}

// fail turns err into the *snapexport.Error a client sees, logging the
// cause. ctx is the operation's context: its expiry makes a timeout.
func (s *Stores) fail(ctx context.Context, o op, f fault, err error) error {
	if f.kind == kindOther || f.kind == kindUnreachable {
		// An operation cut short by its deadline is a timeout, whatever
		// error the last attempt left behind.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
			f.kind = kindTimeout
		}
	}
	if f.kind == kindOther && f.status == 0 && isNetError(err) {
		f.kind = kindUnreachable
	}
	e := s.apiError(o, f)
	s.cfg.Logger.Warn("object store operation failed", "provider", string(o.provider), "bucket", o.bucket,
		"endpoint", o.endpoint, "operation", o.action, "errorCode", e.Code, "status", f.status, "storeCode", f.code, "cause", err)
	return e
}

func (s *Stores) apiError(o op, f fault) *snapexport.Error {
	switch f.kind {
	case kindRole:
		if o.provider == snapexport.Azure {
			sp := ""
			if o.role != nil {
				sp = o.role.ServicePrincipalID
			}
			return snapexport.Errorf(http.StatusBadRequest, CodeCannotAuthenticateServicePrincipal,
				"Atlas cannot authenticate with the service principal (%s).", sp)
		}
		return snapexport.Errorf(http.StatusBadRequest, CodeCannotAssumeRole, "Atlas cannot assume the specified role (%s).", o.roleRef)
	case kindNotFound:
		return snapexport.Errorf(http.StatusBadRequest, CodeBucketNotFound,
			"The bucket %s does not exist at %s (tried %s).", o.bucket, o.endpoint, o.action)
	case kindDenied:
		return snapexport.Errorf(http.StatusBadRequest, CodeBucketAccessDenied,
			"Access to bucket %s at %s was denied (tried %s"+storeSays(f)+").", o.bucket, o.endpoint, o.action)
	case kindCredentials:
		code, name := CodeInvalidAWSCredentials, "AWS"
		switch o.provider {
		case snapexport.Azure:
			code, name = CodeInvalidAzureCredentials, "Azure"
		case snapexport.GCP:
			code, name = CodeInvalidGoogleCloudCredentials, "Google Cloud"
		}
		if o.bucket == "" {
			return snapexport.Errorf(http.StatusBadRequest, code,
				"Invalid "+name+" credentials: %s rejected the server's credentials (tried %s"+storeSays(f)+").",
				o.endpoint, o.action)
		}
		return snapexport.Errorf(http.StatusBadRequest, code,
			"Invalid "+name+" credentials: %s rejected the credentials used for bucket %s (tried %s"+storeSays(f)+").",
			o.endpoint, o.bucket, o.action)
	case kindTimeout:
		if o.bucket == "" {
			return snapexport.Errorf(http.StatusGatewayTimeout, CodeObjectStoreTimeout,
				"No answer from %s within %s (tried %s).", o.endpoint, s.cfg.Timeout.String(), o.action)
		}
		return snapexport.Errorf(http.StatusGatewayTimeout, CodeObjectStoreTimeout,
			"No answer from %s for bucket %s within %s (tried %s).", o.endpoint, o.bucket, s.cfg.Timeout.String(), o.action)
	case kindUnreachable:
		if o.bucket == "" {
			return snapexport.Errorf(http.StatusBadGateway, CodeObjectStoreUnreachable,
				"Cannot reach %s (tried %s).", o.endpoint, o.action)
		}
		return snapexport.Errorf(http.StatusBadGateway, CodeObjectStoreUnreachable,
			"Cannot reach %s for bucket %s (tried %s).", o.endpoint, o.bucket, o.action)
	default:
		if o.bucket == "" {
			return snapexport.Errorf(http.StatusBadGateway, CodeObjectStoreError,
				"%s failed (tried %s"+storeSays(f)+").", o.endpoint, o.action)
		}
		return snapexport.Errorf(http.StatusBadGateway, CodeObjectStoreError,
			"%s failed for bucket %s (tried %s"+storeSays(f)+").", o.endpoint, o.bucket, o.action)
	}
}

// storeSays renders the store's answer for a detail: status and code only,
// never the store's message (which may echo request material).
func storeSays(f fault) string {
	switch {
	case f.status != 0 && f.code != "":
		return fmt.Sprintf("; the store answered HTTP %d %s", f.status, sanitizeCode(f.code))
	case f.status != 0:
		return fmt.Sprintf("; the store answered HTTP %d", f.status)
	case f.code != "":
		return "; the store answered " + sanitizeCode(f.code)
	}
	return ""
}

// sanitizeCode keeps an error code printable and short; it also keeps
// '%' out of a detail built as a format.
func sanitizeCode(c string) string {
	out := make([]rune, 0, len(c))
	for _, r := range c {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			out = append(out, r)
		}
		if len(out) == 64 {
			break
		}
	}
	return string(out)
}

// statusKind classifies a permanent HTTP answer; 0 means "not permanent".
func statusKind(status int) (kind, bool) {
	switch status {
	case http.StatusNotFound:
		return kindNotFound, true
	case http.StatusForbidden:
		return kindDenied, true
	case http.StatusUnauthorized:
		return kindCredentials, true
	}
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		return kindOther, true
	}
	return kindOther, false
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isNetError reports a failure to get any HTTP answer.
func isNetError(err error) bool {
	var (
		opErr   *net.OpError
		dnsErr  *net.DNSError
		tlsErr  *tls.RecordHeaderError
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
	)
	switch {
	case errors.As(err, &opErr), errors.As(err, &dnsErr), errors.As(err, &tlsErr), errors.As(err, &certErr), errors.As(err, &unkAuth):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	return false
}

// withTimeout gives an operation its deadline.
func (s *Stores) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

// delay is the one backoff of every retryer: full jitter over an
// exponential ceiling.
func (p RetryPolicy) delay(retry int) time.Duration {
	ceiling := p.BaseDelay
	for i := 0; i < retry && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}
