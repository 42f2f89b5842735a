package objectstore_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/objectstore"
)

// Test-only static credentials; the failure tests check that no detail
// ever contains them.
const (
	testAccessKey = "AKIDSNAPEXPORTTEST"
	testSecretKey = "test-secret-key-never-shown"
)

// unusedLocalDir satisfies Validate in configs that use no local provider.
const unusedLocalDir = "/nonexistent/snapexport-objectstore-test"

// testRetry retries fast so that the tests stay quick.
var testRetry = objectstore.RetryPolicy{MaxAttempts: 4, BaseDelay: 5 * time.Millisecond, MaxDelay: 40 * time.Millisecond}

// request is what a recording handler saw of one request.
type request struct {
	Method, Path, Query string
	AccessKeyID         string
	SecurityToken       string
	Authorization       string
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// recorder wraps a handler and keeps every request it saw.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, SecurityToken: r.Header.Get("X-Amz-Security-Token"),
		Authorization: r.Header.Get("Authorization")}
	if m := credentialRE.FindStringSubmatch(q.Authorization); m != nil {
		q.AccessKeyID = m[1]
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, q)
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) requests() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.reqs...)
}

// s3Server is gofakes3 in-process on loopback, path-style.
type s3Server struct {
	URL     string
	backend *s3mem.Backend
	rec     *recorder
}

func startS3(t *testing.T, buckets ...string) *s3Server {
	t.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithTimeSkewLimit(0))
	rec := &recorder{next: faker.Server()}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	return &s3Server{URL: srv.URL, backend: backend, rec: rec}
}

// objectSize returns the size of key in bucket, failing the test when the
// object is missing.
func (s *s3Server) objectSize(t *testing.T, bucket, key string) int64 {
	t.Helper()
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		t.Fatalf("object %s/%s: %v", bucket, key, err)
	}
	return obj.Size
}

func s3Config(endpoint string) objectstore.Config {
	return objectstore.Config{
		AWS: objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: endpoint,
			AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		Timeout: 5 * time.Second,
		Retry:   testRetry,
		// Only used by providers left local.
		LocalDir: unusedLocalDir,
	}
}

func newStores(t *testing.T, cfg objectstore.Config) *objectstore.Stores {
	t.Helper()
	s, err := objectstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// requireCode fails unless err is a *snapexport.Error with the code and
// status, and returns it. Its detail must name no secret.
func requireCode(t *testing.T, err error, status int, code string) *snapexport.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	e, ok := err.(*snapexport.Error)
	if !ok {
		t.Fatalf("error %T %v, want *snapexport.Error %s", err, err, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("error %d %s (%s), want %d %s", e.Status, e.Code, e.Detail, status, code)
	}
	for _, secret := range []string{testSecretKey, azuriteKey} {
		if strings.Contains(e.Detail, secret) || strings.Contains(strings.Join(e.Params, " "), secret) {
			t.Fatalf("detail names a secret: %s", e.Detail)
		}
	}
	return e
}

func requireDetail(t *testing.T, e *snapexport.Error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(e.Detail, p) {
			t.Errorf("detail %q does not contain %q", e.Detail, p)
		}
	}
}

// action is what the fault proxy does with one request.
type action int

const (
	forward action = iota
	drop           // close the connection without answering
	answer         // answer with the given status, headers and body
)

type verdict struct {
	action action
	status int
	header map[string]string
	body   string
}

// faultProxy is a reverse proxy in front of a test server that injects
// faults as decide says, counting requests.
type faultProxy struct {
	URL    string
	mu     sync.Mutex
	n      int
	decide func(n int, r *http.Request) verdict
}

func startFaultProxy(t *testing.T, target string, decide func(n int, r *http.Request) verdict) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	p := &faultProxy{decide: decide}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		n := p.n
		p.n++
		p.mu.Unlock()
		v := p.decide(n, r)
		switch v.action {
		case drop:
			// Read the request first, as a server that dies mid-request
			// would have.
			_, _ = io.Copy(io.Discard, r.Body)
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("no hijacker")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				_ = conn.Close()
			}
		case answer:
			_, _ = io.Copy(io.Discard, r.Body)
			for k, val := range v.header {
				w.Header().Set(k, val)
			}
			w.WriteHeader(v.status)
			_, _ = io.WriteString(w, v.body)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *faultProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func s3Error(status int, code string) verdict {
	return verdict{action: answer, status: status, header: map[string]string{"Content-Type": "application/xml"},
		body: fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message><RequestId>1</RequestId></Error>`, code)}
}

// deadEndpoint is a loopback URL nothing listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// slowEndpoint accepts connections and never answers.
func slowEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// timed runs f and returns its error and duration.
func timed(f func() error) (error, time.Duration) {
	start := time.Now()
	err := f()
	return err, time.Since(start)
}

func bg() context.Context { return context.Background() }
