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
	"syscall"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore/transport"
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
	// kindRefused: the store refused the request itself (a key too long
	// or invalid); sent again, it is refused again.
	kindRefused
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
	endpoint string // redacted; for logs only: it may be an internal host or a server directory
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
	where := s.place(o.provider)
	switch f.kind {
	case kindRole:
		if o.provider == snapexport.Azure {
			sp := ""
			if o.role != nil {
				sp = o.role.ServicePrincipalID
			}
			return snapexport.Errorf(snapexport.CodeCannotAuthenticateServicePrincipal,
				"Atlas cannot authenticate with the service principal (%s).", sp)
		}
		return snapexport.Errorf(snapexport.CodeCannotAssumeRole, "Atlas cannot assume the specified role (%s).", o.roleRef)
	case kindNotFound:
		return snapexport.Errorf(snapexport.CodeBucketNotFound,
			"The bucket %s does not exist at %s (tried %s).", o.bucket, where, o.action)
	case kindDenied:
		return snapexport.Errorf(snapexport.CodeBucketAccessDenied,
			"Access to bucket %s at %s was denied (tried %s"+storeSays(f)+").", o.bucket, where, o.action)
	case kindCredentials:
		code, name := snapexport.CodeInvalidAWSCredentials, "AWS"
		switch o.provider {
		case snapexport.Azure:
			code, name = snapexport.CodeInvalidAzureCredentials, "Azure"
		case snapexport.GCP:
			code, name = snapexport.CodeInvalidGoogleCloudCredentials, "Google Cloud"
		}
		if o.bucket == "" {
			return snapexport.Errorf(code,
				"Invalid "+name+" credentials: %s rejected the server's credentials (tried %s"+storeSays(f)+").",
				where, o.action)
		}
		return snapexport.Errorf(code,
			"Invalid "+name+" credentials: %s rejected the credentials used for bucket %s (tried %s"+storeSays(f)+").",
			where, o.bucket, o.action)
	case kindTimeout:
		if o.bucket == "" {
			return snapexport.Errorf(snapexport.CodeObjectStoreTimeout,
				"No answer from %s within %s (tried %s).", where, s.cfg.Timeout.String(), o.action)
		}
		return snapexport.Errorf(snapexport.CodeObjectStoreTimeout,
			"No answer from %s for bucket %s within %s (tried %s).", where, o.bucket, s.cfg.Timeout.String(), o.action)
	case kindUnreachable:
		if o.bucket == "" {
			return snapexport.Errorf(snapexport.CodeObjectStoreUnreachable,
				"Cannot reach %s (tried %s).", where, o.action)
		}
		return snapexport.Errorf(snapexport.CodeObjectStoreUnreachable,
			"Cannot reach %s for bucket %s (tried %s).", where, o.bucket, o.action)
	case kindRefused:
		if o.bucket == "" {
			return snapexport.Errorf(snapexport.CodeObjectStoreRefused,
				"A request to %s was refused (tried %s"+storeSays(f)+").", where, o.action)
		}
		return snapexport.Errorf(snapexport.CodeObjectStoreRefused,
			"A request to %s for bucket %s was refused (tried %s"+storeSays(f)+").", where, o.bucket, o.action)
	default:
		if o.bucket == "" {
			return snapexport.Errorf(snapexport.CodeObjectStoreError,
				"A request to %s failed (tried %s"+storeSays(f)+").", where, o.action)
		}
		return snapexport.Errorf(snapexport.CodeObjectStoreError,
			"A request to %s for bucket %s failed (tried %s"+storeSays(f)+").", where, o.bucket, o.action)
	}
}

// place names the store of provider in an error detail: what kind of
// store it is, never its address, which may be an internal host or the
// server's directory (the log has it).
func (s *Stores) place(provider snapexport.CloudProvider) string {
	switch s.Mode(provider) {
	case ModeLocal:
		return "the local bucket storage"
	case ModeS3Compatible:
		return "the S3-compatible store"
	case ModeAzureCompatible:
		return "the Azure-compatible store"
	case ModeGCSCompatible:
		return "the GCS-compatible store"
	}
	switch provider {
	case snapexport.Azure:
		return "Azure Storage"
	case snapexport.GCP:
		return "Google Cloud Storage"
	}
	return "AWS"
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

// statusKind classifies an HTTP answer; permanent is false for an answer
// that another attempt may change.
func statusKind(status int) (k kind, permanent bool) {
	switch a := transport.Classify(status); a {
	case transport.NotFound:
		return kindNotFound, true
	case transport.Denied:
		return kindDenied, true
	case transport.BadCredentials:
		return kindCredentials, true
	case transport.Refused:
		return kindRefused, true
	default:
		return kindOther, a.Permanent()
	}
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
