package testservices

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync"
	"testing"
)

// Request is what a recording server saw of one request.
type Request struct {
	Method, Path, Query string
	// AccessKeyID is the key of an AWS Signature Version 4 Authorization
	// header, "" when the request was not signed that way.
	AccessKeyID string
	// SecurityToken is X-Amz-Security-Token (temporary credentials).
	SecurityToken string
	Authorization string
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

func newRequest(r *http.Request) Request {
	q := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, SecurityToken: r.Header.Get("X-Amz-Security-Token"),
		Authorization: r.Header.Get("Authorization")}
	if m := credentialRE.FindStringSubmatch(q.Authorization); m != nil {
		q.AccessKeyID = m[1]
	}
	return q
}

// recorder keeps every request a server saw.
type recorder struct {
	mu   sync.Mutex
	reqs []Request
}

func (rec *recorder) add(q Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, q)
	rec.mu.Unlock()
}

func (rec *recorder) requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Request(nil), rec.reqs...)
}

// Action is what a FaultProxy does with one request.
type Action int

const (
	// Forward passes the request on to the proxied server.
	Forward Action = iota
	// Drop reads the request and closes the connection without answering.
	Drop
	// Answer answers with Verdict's status, headers and body.
	Answer
)

// Verdict is a FaultProxy's decision about one request; the zero Verdict
// forwards it.
type Verdict struct {
	Action Action
	Status int
	Header map[string]string
	Body   string
}

// S3Error is an S3 error answer (<Error><Code>…).
func S3Error(status int, code string) Verdict {
	return Verdict{Action: Answer, Status: status, Header: map[string]string{"Content-Type": "application/xml"},
		Body: fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message><RequestId>1</RequestId></Error>`, code)}
}

// AzureError is an Azure Storage error answer (x-ms-error-code).
func AzureError(status int, code string) Verdict {
	return Verdict{Action: Answer, Status: status, Header: map[string]string{"x-ms-error-code": code, "Content-Type": "application/xml"},
		Body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code><Message>injected</Message></Error>`}
}

// GCSError is a Google JSON API error answer.
func GCSError(status int, reason string) Verdict {
	return Verdict{Action: Answer, Status: status, Header: map[string]string{"Content-Type": "application/json"},
		Body: fmt.Sprintf(`{"error":{"code":%d,"message":"injected","errors":[{"reason":%q,"message":"injected"}]}}`, status, reason)}
}

// FaultProxy is a reverse proxy in front of a test server that injects
// faults as its decide function says, counting requests.
type FaultProxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:N.
	URL    string
	mu     sync.Mutex
	n      int
	decide func(n int, r *http.Request) Verdict
}

// StartFaultProxy starts a proxy to target (a base URL) that asks decide,
// with the number of requests seen before, what to do with each request.
// It stops when the test ends.
func StartFaultProxy(t testing.TB, target string, decide func(n int, r *http.Request) Verdict) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	p := &FaultProxy{decide: decide}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		n := p.n
		p.n++
		p.mu.Unlock()
		v := p.decide(n, r)
		switch v.Action {
		case Drop:
			// Read the request first, as a server that dies mid-request
			// would have.
			_, _ = io.Copy(io.Discard, r.Body)
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("testservices: no http.Hijacker")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				_ = conn.Close()
			}
		case Answer:
			_, _ = io.Copy(io.Discard, r.Body)
			for k, val := range v.Header {
				w.Header().Set(k, val)
			}
			w.WriteHeader(v.Status)
			_, _ = io.WriteString(w, v.Body)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Count returns the number of requests the proxy received.
func (p *FaultProxy) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// DeadEndpoint returns a loopback URL nothing listens on: connecting to it
// is refused at once. On Linux the port stays reserved until the test
// ends, so that a server started meanwhile (by a parallel test) cannot
// take it.
func DeadEndpoint(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("http://127.0.0.1:%d", reservedClosedPort(t))
}

// SlowEndpoint returns a loopback URL that accepts connections and never
// answers; the connections are closed when the test ends.
func SlowEndpoint(t testing.TB) string {
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
