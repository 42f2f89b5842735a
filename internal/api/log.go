package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/snapexport/snapexport"
)

type notesKey struct{}

// requestNotes is what the steps of a request tell its log line: the
// caller once the operation has authenticated it, or how authentication
// went otherwise.
type requestNotes struct {
	principal *snapexport.Principal
	// challenge is true when the request was answered a digest
	// challenge: without refused, an ordinary step of digest
	// authentication (a request without credentials, or a right
	// response to an expired nonce).
	challenge bool
	// refused says why credentials the request carried were refused.
	refused string
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
		notes := &requestNotes{}
		r = r.WithContext(context.WithValue(r.Context(), notesKey{}, notes))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start))}
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
	})
}
