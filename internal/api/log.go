package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport"
)

type notesKey struct{}

// requestNotes is what the steps of a request tell its log line: the
// caller once the operation has authenticated it, or how authentication
// went otherwise.
type requestNotes struct {
	// requestID names the request in the log, its span and X-Request-Id
	// (see requestID).
	requestID string
	principal *snapexport.Principal
	// challenge is true when the request was answered a digest
	// challenge: without refused, an ordinary step of digest
	// authentication (a request without credentials, or a right
	// response to an expired nonce).
	challenge bool
	// refused says why credentials the request carried were refused.
	refused string
	// operation is the id of the operation that served the request (none
	// when none did), version its API version as negotiated (none for
	// snapexport's own operations and the paths outside the API).
	operation, version string
	// rateLimited names the rate limit that refused the request.
	rateLimited string
}

// RequestID is requestID, for the console's requests to be named as the
// API's are.
func RequestID(sent string) string { return requestID(sent) }

// requestID is the id of a request whose X-Request-Id header is sent:
// sent itself when it is 1 to 128 letters, digits and ._:- (a log line
// takes it as it is), else a new random one of 32 hexadecimal digits.
func requestID(sent string) string {
	usable := sent != "" && len(sent) <= 128
	for i := 0; usable && i < len(sent); i++ {
		c := sent[i]
		usable = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._:-", c) >= 0
	}
	if usable {
		return sent
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Observer is told of each request once answered, for metrics. Every
// value it is given comes from a small set: an operation id, an API
// version, a status, an authentication scheme (digest, bearer, client,
// other), the name of a rate limit.
type Observer interface {
	ObserveRequest(operation, version string, status int, d time.Duration)
	AuthenticationFailed(scheme string)
	RateLimited(limit string)
}

// noteOperation records the operation serving r and the API version its
// path is of: v1, or v2 until a dated version is negotiated.
func noteOperation(r *http.Request, id, apiVersion string) {
	n := notesOf(r)
	n.operation = id
	switch apiVersion {
	case v1:
		n.version = "v1"
	case v2:
		n.version = "v2"
	}
}

// named is h, which serves the operation called name outside Atlas's API
// paths.
func named(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		notesOf(r).operation = name
		h(w, r)
	}
}

// authScheme is the scheme of the credentials r carries, for metrics:
// never more of the header than its scheme.
func authScheme(r *http.Request) string {
	switch h := r.Header.Get("Authorization"); {
	case strings.HasPrefix(h, "Digest "):
		return "digest"
	case strings.HasPrefix(h, "Bearer "):
		return "bearer"
	case strings.HasPrefix(r.URL.Path, "/api/oauth/"):
		return "client"
	}
	return "other"
}

func notesOf(r *http.Request) *requestNotes {
	if n, ok := r.Context().Value(notesKey{}).(*requestNotes); ok {
		return n
	}
	return &requestNotes{} // a request that did not go through logRequests
}

func setPrincipal(r *http.Request, p *snapexport.Principal) { notesOf(r).principal = p }

// setPrincipalName names a caller that has no Principal (an OAuth client).
func setPrincipalName(r *http.Request, name string) {
	setPrincipal(r, &snapexport.Principal{Name: name})
}

// noteUnauthenticated records how a request was not authenticated:
// whether it was answered a digest challenge, and why credentials it
// carried were refused, if it carried any.
func noteUnauthenticated(r *http.Request, challenge bool, refused string) {
	n := notesOf(r)
	n.challenge, n.refused = challenge, refused
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection through the
// recorder: the upload pushes its read deadline forward that way.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// logRequests logs one line per request: never headers or bodies, which
// carry credentials, and the path without its query. The digest challenge
// that precedes every digest client's call is DEBUG; credentials refused
// are a warning naming why.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header.Get("X-Request-Id"))
		notes := &requestNotes{requestID: id}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), notesKey{}, notes)
		// A span of its own, in the trace of the client's traceparent
		// when it sent one; named by the operation once it is known.
		var span trace.Span
		if s.Tracing != nil {
			ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
			ctx, span = s.Tracing.Tracer("github.com/snapexport/snapexport/internal/api").Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
		}
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		level := slog.LevelInfo
		attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", took)}
		switch {
		case notes.principal != nil:
			attrs = append(attrs, slog.String("principal", notes.principal.Name))
		case notes.refused != "":
			level = slog.LevelWarn
			attrs = append(attrs, slog.String("authFailure", notes.refused))
		case notes.challenge:
			level = slog.LevelDebug
			attrs = append(attrs, slog.String("auth", "digest challenge"))
		}
		s.logger().LogAttrs(r.Context(), level, "request", attrs...)
		status := cmp.Or(rec.status, http.StatusOK) // a handler that wrote nothing was answered 200
		operation := cmp.Or(notes.operation, "none")
		if span != nil && span.IsRecording() {
			span.SetName(operation)
			span.SetAttributes(attribute.String("snapexport.request_id", id), attribute.String("snapexport.operation", operation),
				attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path),
				attribute.Int("http.response.status_code", status))
			if notes.version != "" {
				span.SetAttributes(attribute.String("snapexport.api_version", notes.version))
			}
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		}
		if s.Observer != nil {
			s.Observer.ObserveRequest(operation, cmp.Or(notes.version, "none"), status, took)
			if notes.refused != "" {
				s.Observer.AuthenticationFailed(authScheme(r))
			}
			if notes.rateLimited != "" {
				s.Observer.RateLimited(notes.rateLimited)
			}
		}
	})
}
