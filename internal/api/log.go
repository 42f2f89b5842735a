package api

import (
	"context"
	"net/http"
	"time"

	"github.com/snapexport/snapexport"
)

type principalKey struct{}

// principalHolder lets the request log name the caller once the operation
// has authenticated it.
type principalHolder struct{ p *snapexport.Principal }

func setPrincipal(r *http.Request, p *snapexport.Principal) {
	if h, ok := r.Context().Value(principalKey{}).(*principalHolder); ok {
		h.p = p
	}
}

// setPrincipalName names a caller that has no Principal (an OAuth client).
func setPrincipalName(r *http.Request, name string) {
	setPrincipal(r, &snapexport.Principal{Name: name})
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
// carry credentials, and the path without its query.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		holder := &principalHolder{}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, holder))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start)}
		if holder.p != nil {
			attrs = append(attrs, "principal", holder.p.Name)
		}
		s.logger().InfoContext(r.Context(), "request", attrs...)
	})
}
