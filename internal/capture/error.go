package capture

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// What a capture failed on, as errors.Is finds it in an *Error.
var (
	ErrUnreachable    = errors.New("the deployment cannot be reached")
	ErrAuthentication = errors.New("authentication refused")
	ErrTLS            = errors.New("TLS handshake failed")
	ErrUnauthorized   = errors.New("not authorized")
	// ErrRefused is a deployment that a capture does not read: a mongos
	// router, or, for a point in time, one without snapshot reads.
	ErrRefused = errors.New("the deployment cannot be captured")
	// ErrSnapshotTooOld is a point in time whose history the server let go
	// before the capture had read everything.
	ErrSnapshotTooOld = errors.New("the point in time is no longer kept")
	// ErrSnapshotUnavailable is a collection created or changed after the
	// point in time, which the server cannot read at it.
	ErrSnapshotUnavailable = errors.New("a collection cannot be read at the point in time")
)

// MongoDB's error codes that tell why a command was refused.
const (
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
	codeCommandNotFound      = 59
	codeSnapshotTooOld       = 239
	codeSnapshotUnavailable  = 246
)

// noSnapshotCodes tell that a server refused a read with readConcern
// snapshot at a cluster time: InvalidOptions, CommandNotSupported,
// NotImplemented.
var noSnapshotCodes = []int{72, 115, 238}

// transientCodes are failures that a read repeated a moment later, on the
// same server or on a newly elected primary, gets past: HostUnreachable,
// HostNotFound, CursorNotFound, NetworkTimeout, ShutdownInProgress,
// PrimarySteppedDown, SocketException, NotWritablePrimary,
// InterruptedAtShutdown, InterruptedDueToReplStateChange,
// NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
var transientCodes = []int{6, 7, 43, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436}

// Error is a failed capture: what it was doing (Op: "connecting to
// mongodb://user@host/", "reading database app", ...), why (Reason, one of
// the Err* values or nil when none fits) and the driver's own message with
// any password of the URI taken out.
type Error struct {
	Op     string
	Reason error
	Detail string
	cause  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("capture: ")
	b.WriteString(e.Op)
	if e.Reason != nil {
		b.WriteString(": ")
		b.WriteString(e.Reason.Error())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap gives the reason and the driver's error, so that errors.Is finds
// context.Canceled as well as ErrUnauthorized.
func (e *Error) Unwrap() []error {
	if e.Reason == nil {
		return []error{e.cause}
	}
	return []error{e.Reason, e.cause}
}

// classify wraps a driver error of op, naming the reason when it is known.
// password is the URI's, which must not show in the message.
func classify(op, password string, err error) *Error {
	e := &Error{Op: op, Reason: reason(err), Detail: err.Error(), cause: err}
	if password != "" {
		e.Detail = strings.ReplaceAll(e.Detail, password, "xxxxx")
		if escaped := url.QueryEscape(password); escaped != password {
			e.Detail = strings.ReplaceAll(e.Detail, escaped, "xxxxx")
		}
	}
	return e
}

func reason(err error) error {
	// Why no server could be chosen is in each server's last error.
	var selection topology.ServerSelectionError
	if errors.As(err, &selection) {
		for _, s := range selection.Desc.Servers {
			if s.LastError != nil {
				if r := reason(s.LastError); r != nil && r != ErrUnreachable {
					return r
				}
			}
		}
		return ErrUnreachable
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		record           tls.RecordHeaderError
		alert            tls.AlertError
	)
	switch {
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verification), errors.As(err, &record), errors.As(err, &alert):
		return ErrTLS
	case hasCode(err, codeAuthenticationFailed), strings.Contains(err.Error(), "auth error"):
		return ErrAuthentication
	case hasCode(err, codeUnauthorized):
		return ErrUnauthorized
	case mongo.IsNetworkError(err):
		return ErrUnreachable
	}
	return nil
}

func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, code := range codes {
		if se.HasErrorCode(code) {
			return true
		}
	}
	return false
}

// hasName tells whether the server named its error name (codeName).
func hasName(err error, name string) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Name == name
}

// transient tells whether err is a failure that reading again at the same
// point in time may get past.
func transient(err error) bool {
	// A pool cleared by another read's network failure fails the reads
	// waiting on it too.
	var pool driver.RetryablePoolError
	return mongo.IsNetworkError(err) || hasCode(err, transientCodes...) || (errors.As(err, &pool) && pool.Retryable())
}

// refusesSnapshots tells whether err is a server's refusal of readConcern
// snapshot or of atClusterTime.
func refusesSnapshots(err error) bool {
	if hasCode(err, noSnapshotCodes...) {
		return true
	}
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	msg := strings.ToLower(se.Error())
	return strings.Contains(msg, "readconcern") || strings.Contains(msg, "atclustertime")
}
