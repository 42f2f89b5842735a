// Package console serves the web console at /console/: pages for people
// who would rather look than read JSON. It is a client of the API in the
// same process: every page and action is one or more API requests made
// as the signed-in principal, so the console shows and allows what the
// API does for that principal's roles, and its errors are the API's.
package console

import (
	"cmp"
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// DefaultSessionTTL is how long a session lasts: the lifetime of the
// access token a service account's session holds.
const DefaultSessionTTL = auth.DefaultTokenTTL

// DefaultProgressInterval is how often a page showing an export is told
// of its progress: each time is a read of the API, counted against the
// project's Cloud Backups rate limit (60 a minute of its 500).
const DefaultProgressInterval = time.Second

// Server is the console.
type Server struct {
	// API is the API's handler, which the console calls in process.
	API http.Handler
	// Auth resolves the principal of a session at each request, so that a
	// revoked token, a deleted key or a changed role applies at once.
	Auth *auth.Authenticator
	// Organizations lists the organizations, whose names the console
	// shows beside the ids of the projects a principal sees.
	Organizations func(context.Context) ([]*snapexport.Organization, error)
	// PublicURL, when it is https, makes the session cookie Secure even
	// when TLS ends at a proxy before this server.
	PublicURL string
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SessionTTL bounds a session (DefaultSessionTTL when zero); a service
	// account's ends with its access token at the latest.
	SessionTTL time.Duration
	// ProgressInterval is how often an export's page is sent its progress
	// (DefaultProgressInterval when zero).
	ProgressInterval time.Duration

	sessions sessions

	streamsMu sync.Mutex
	// streamsEnd is closed by EndStreams.
	streamsEnd chan struct{}
}

// pages are the console's pages, parsed on first use: parsing takes
// milliseconds that every start of the binary would otherwise spend.
var pages = sync.OnceValue(parsePages)

// streamsEnded is closed once EndStreams was called.
func (s *Server) streamsEnded() <-chan struct{} {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	return s.streamsEndLocked()
}

func (s *Server) streamsEndLocked() chan struct{} {
	if s.streamsEnd == nil {
		s.streamsEnd = make(chan struct{})
	}
	return s.streamsEnd
}

// EndStreams ends every progress stream, now and from now on: for a
// server shutting down, whose graceful wait would otherwise last until
// the exports they follow end.
func (s *Server) EndStreams() {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	ch := s.streamsEndLocked()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return DefaultSessionTTL
}

func (s *Server) progressInterval() time.Duration {
	if s.ProgressInterval > 0 {
		return s.ProgressInterval
	}
	return DefaultProgressInterval
}

// maxFormBytes bounds a form's body: the console's forms are a few fields.
const maxFormBytes = 64 << 10

// contentSecurityPolicy allows the console's own scripts, styles and
// images and nothing else: no inline script or style, no other origin,
// no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler serves the console under Prefix.
func (s *Server) Handler() http.Handler {
	static, _ := fs.Sub(staticFiles, "static")
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+Prefix+"{$}", s.home)
	mux.HandleFunc("GET "+Prefix+"signin", s.signInPage)
	mux.HandleFunc("POST "+Prefix+"signin", s.signIn)
	mux.HandleFunc("POST "+Prefix+"signout", s.signedIn(s.signOut))
	mux.HandleFunc("GET "+Prefix+"projects", s.signedIn(s.projectsPage))
	project := Prefix + "projects/{groupId}"
	mux.HandleFunc("GET "+project, s.signedIn(s.projectPage))
	mux.HandleFunc("GET "+project+"/buckets", s.signedIn(s.bucketsPage))
	mux.HandleFunc("GET "+project+"/exports", s.signedIn(s.exportsPage))
	cluster := project + "/clusters/{clusterName}"
	mux.HandleFunc("POST "+cluster+"/snapshots", s.signedIn(s.takeSnapshot))
	mux.HandleFunc("POST "+cluster+"/snapshots/{snapshotId}/expiry", s.signedIn(s.changeExpiry))
	mux.HandleFunc("POST "+cluster+"/exports", s.signedIn(s.startExport))
	mux.HandleFunc("GET "+cluster+"/exports/{exportId}", s.signedIn(s.exportPage))
	mux.HandleFunc("GET "+cluster+"/exports/{exportId}/events", s.signedIn(s.exportEvents))
	mux.HandleFunc("POST "+cluster+"/exports/{exportId}/cancel", s.signedIn(s.cancelExport))
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		// The request's id names it in the log and is sent on with the
		// API requests it makes, whose log lines then carry it too.
		id := api.RequestID(r.Header.Get("X-Request-Id"))
		r.Header.Set("X-Request-Id", id)
		notes := &requestNotes{}
		r = r.WithContext(context.WithValue(r.Context(), notesKey{}, notes))
		rec := &statusWriter{ResponseWriter: w}
		w = rec
		defer func() {
			level := slog.LevelInfo
			if strings.HasPrefix(r.URL.Path, Prefix+"static/") {
				level = slog.LevelDebug
			}
			attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", cmp.Or(rec.status, http.StatusOK)), slog.Duration("duration", s.now().Sub(start))}
			if notes.principal != "" {
				attrs = append(attrs, slog.String("principal", notes.principal))
			}
			s.logger().LogAttrs(r.Context(), level, "console request", attrs...)
		}()
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
			h.Set("Cache-Control", "no-store")
		}
		mux.ServeHTTP(w, r)
	})
}

type notesKey struct{}

// requestNotes is what the steps of a request tell its log line.
type requestNotes struct {
	principal string
}

func notesOf(ctx context.Context) *requestNotes {
	if n, ok := ctx.Value(notesKey{}).(*requestNotes); ok {
		return n
	}
	return &requestNotes{}
}

// statusWriter remembers the status of an answer for the log; Unwrap lets
// http.ResponseController reach the connection (a progress stream's
// flushes and deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// home sends a signed-in visitor to the projects, anyone else to sign in.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if sess, _ := s.session(r); sess != nil {
		http.Redirect(w, r, Prefix+"projects", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}
