// Package transport is the HTTP side of reaching the object stores: the
// clients every SDK sends its requests through, the attempt limit of GCS
// uploads, and what the HTTP status of a store's answer means.
package transport

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Clients hands out the HTTP clients of the stores, which share one pool
// of connections.
type Clients struct {
	base *http.Client
}

// NewClients returns Clients whose attempts time out: connecting within
// timeout (10 s at most), response headers within timeout.
func NewClients(timeout time.Duration) *Clients {
	connect := min(timeout, 10*time.Second)
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	return &Clients{base: &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
		// One attempt that gets no response headers within the timeout is a
		// timeout; the operation's own deadline bounds all of them.
		ResponseHeaderTimeout: timeout,
	}}}
}

// Client is the plain client, for SDKs that sign their own requests.
func (c *Clients) Client() *http.Client { return c.base }

// Authorized is the client authorizing each request with a token of ts;
// the plain client when ts is nil.
func (c *Clients) Authorized(ts oauth2.TokenSource) *http.Client {
	if ts == nil {
		return c.base
	}
	return &http.Client{Transport: &oauth2.Transport{Source: ts, Base: c.base.Transport}}
}

// AttemptLimited is Authorized with at most maxAttempts attempts per GCS
// call: an attempt beyond them fails with *RetriesExhausted.
func (c *Clients) AttemptLimited(ts oauth2.TokenSource, maxAttempts int) *http.Client {
	base := c.base.Transport
	if ts != nil {
		base = &oauth2.Transport{Source: ts, Base: base}
	}
	return &http.Client{Transport: &attemptLimiter{base: base, max: maxAttempts, seen: map[string]*attempts{}}}
}

// CloseIdleConnections closes the pool's idle connections.
func (c *Clients) CloseIdleConnections() { c.base.CloseIdleConnections() }

// idempotencyHeader is the same on every attempt of one GCS call.
const idempotencyHeader = "X-Goog-Gcs-Idempotency-Token"

// attemptLimiter enforces the attempt limit on GCS uploads: the storage
// library retries media uploads until their deadline, not a number of
// attempts. It counts the attempts of each call by its idempotency token
// and refuses one more with RetriesExhausted, which is never retried.
type attemptLimiter struct {
	base http.RoundTripper
	max  int
	mu   sync.Mutex
	seen map[string]*attempts
}

type attempts struct {
	n      int
	last   time.Time
	status int   // of the last failed attempt, or
	err    error // its transport error
}

// RetriesExhausted is the answer to an attempt beyond the limit; it wraps
// the last attempt's failure, an error or an HTTP status.
type RetriesExhausted struct {
	Attempts int
	Status   int
	Err      error
}

func (e *RetriesExhausted) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Err)
	}
	return fmt.Sprintf("gave up after %d attempts: HTTP %d", e.Attempts, e.Status)
}
func (e *RetriesExhausted) Unwrap() error { return e.Err }

func (l *attemptLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	tok := req.Header.Get(idempotencyHeader)
	if tok == "" {
		return l.base.RoundTrip(req)
	}
	now := time.Now()
	l.mu.Lock()
	a := l.seen[tok]
	if a == nil {
		a = &attempts{}
		l.seen[tok] = a
	}
	a.n++
	a.last = now
	n, status, prevErr := a.n, a.status, a.err
	for k, v := range l.seen {
		if now.Sub(v.last) > time.Hour {
			delete(l.seen, k)
		}
	}
	l.mu.Unlock()
	if n > l.max {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &RetriesExhausted{Attempts: n - 1, Status: status, Err: prevErr}
	}
	resp, err := l.base.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		a.err, a.status = err, 0
	case Classify(resp.StatusCode) == Transient:
		a.err, a.status = nil, resp.StatusCode
	default:
		delete(l.seen, tok)
	}
	return resp, err
}

// Answer is what the HTTP status of a store's answer means.
type Answer int

const (
	// NoError: no answer (status 0), or a status below 400.
	NoError Answer = iota
	// Transient: 408, 429 or 5xx; another attempt may succeed.
	Transient
	// NotFound: 404.
	NotFound
	// Denied: 403, the identity may not do this.
	Denied
	// BadCredentials: 401, the credentials were not accepted.
	BadCredentials
	// Refused: any other 4xx; another attempt fails the same way.
	Refused
)

// Classify tells what status means.
func Classify(status int) Answer {
	switch {
	case status < 400:
		return NoError
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusForbidden:
		return Denied
	case status == http.StatusUnauthorized:
		return BadCredentials
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return Transient
	}
	return Refused
}

// Permanent reports an answer that no retry changes.
func (a Answer) Permanent() bool { return a >= NotFound }

// NotImplemented reports the answer of a store that lacks the operation.
func NotImplemented(status int) bool { return status == http.StatusNotImplemented }
