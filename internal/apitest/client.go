// Package apitest is the HTTP client of snapexport's own tests. It speaks
// to a server's Atlas Administration API the way Atlas clients do — HTTP
// Digest with an API key, answering the challenge as the Atlas SDK's digest
// transport does, or an OAuth bearer token obtained with client
// credentials — can check every answer against the project's OpenAPI
// document, and holds the assertions the tests make of Atlas's answers.
package apitest

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/openapi/openapitest"
)

// MediaType is the Accept value that asks for one dated version of a v2
// resource, e.g. MediaType("2023-01-01").
func MediaType(date string) string { return "application/vnd.atlas." + date + "+json" }

// Client calls the API of the snapexport server at BaseURL. It is safe for
// concurrent use once set up.
type Client struct {
	// BaseURL is the server's base URL, e.g. http://127.0.0.1:40123.
	BaseURL string
	// Auth is how requests authenticate unless a Request says otherwise;
	// the zero value sends no credentials.
	Auth Auth
	// HTTP sends the requests. When nil, a client that gives up after 30 s
	// and does not follow redirects, which would hide what the server
	// answered.
	HTTP *http.Client
	// Validate checks every answer against the OpenAPI document and
	// reports a mismatch as an error of the test.
	Validate bool
}

// At is a copy of the client for the server at another base URL, e.g.
// another replica or the same data served again after a restart.
func (c *Client) At(baseURL string) *Client {
	cp := *c
	cp.BaseURL = baseURL
	return &cp
}

var defaultHTTP = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type scheme int

const (
	schemeDefault scheme = iota // the Client's Auth
	schemeNone
	schemeDigest
	schemeBearer
	schemeAuthorization
)

// Auth says how a request authenticates.
type Auth struct {
	scheme       scheme
	user, secret string
}

// NoAuth sends no credentials.
var NoAuth = Auth{scheme: schemeNone}

// Digest authenticates with an API key: the request goes first without
// credentials, and the server's digest challenge is answered once.
func Digest(publicKey, privateKey string) Auth {
	return Auth{scheme: schemeDigest, user: publicKey, secret: privateKey}
}

// Bearer authenticates with an OAuth access token.
func Bearer(token string) Auth { return Auth{scheme: schemeBearer, secret: token} }

// Authorization sends header as the Authorization header, as it is.
func Authorization(header string) Auth { return Auth{scheme: schemeAuthorization, secret: header} }

// Request is one API call.
type Request struct {
	Method string // GET when empty
	Path   string // below the base URL, with any query
	Accept string // none when empty
	// Body is sent with ContentType, application/json when that is empty.
	Body        string
	ContentType string
	Header      http.Header
	Host        string // overrides the Host header
	Auth        Auth   // the Client's when zero
}

// Response is a buffered answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// Do makes the call r and returns the final answer, failing the test when
// the server cannot be reached or, for a digest call, when the unsigned
// request is not answered with the challenge.
func (c *Client) Do(t testing.TB, r Request) *Response {
	t.Helper()
	got, err := c.call(t, r, true)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Try is Do for calls that may fail without ending the test (a server
// going away, calls from other goroutines): it returns the transport's
// errors, and a digest call's first answer when it is not a challenge, as
// the SDK's digest transport does.
func (c *Client) Try(t testing.TB, r Request) (*Response, error) {
	if c.Validate {
		t.Helper()
	}
	return c.call(t, r, false)
}

// The exchanges below report only a mismatch with the OpenAPI document by
// themselves, so they mark themselves as helpers only when they validate:
// a benchmark's requests, which do not, pay nothing for it.

func (c *Client) call(t testing.TB, r Request, wantChallenge bool) (*Response, error) {
	if c.Validate {
		t.Helper()
	}
	a := r.Auth
	if a.scheme == schemeDefault {
		a = c.Auth
	}
	switch a.scheme {
	case schemeDigest:
		first, err := c.send(t, r, "")
		if err != nil {
			return nil, err
		}
		challenge := first.Header.Get("Www-Authenticate")
		if first.Status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Digest ") {
			if wantChallenge {
				return nil, fmt.Errorf("%s %s without credentials: want the 401 digest challenge, got %s", method(r), r.Path, first)
			}
			return first, nil
		}
		uri, err := requestURI(r.Path)
		if err != nil {
			return nil, err
		}
		authorization, err := signDigest(challenge, method(r), uri, a.user, a.secret)
		if err != nil {
			return nil, err
		}
		return c.send(t, r, authorization)
	case schemeBearer:
		return c.send(t, r, "Bearer "+a.secret)
	case schemeAuthorization:
		return c.send(t, r, a.secret)
	default:
		return c.send(t, r, "")
	}
}

// Send makes exactly one exchange of r with the given Authorization header
// (none when empty), whatever r.Auth says.
func (c *Client) Send(t testing.TB, r Request, authorization string) *Response {
	t.Helper()
	got, err := c.send(t, r, authorization)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (c *Client) send(t testing.TB, r Request, authorization string) (*Response, error) {
	if c.Validate {
		t.Helper()
	}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	hr, err := http.NewRequest(method(r), c.BaseURL+r.Path, body)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	if r.Body != "" {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if r.Accept != "" {
		hr.Header.Set("Accept", r.Accept)
	}
	if authorization != "" {
		hr.Header.Set("Authorization", authorization)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if r.Host != "" {
		hr.Host = r.Host
	}
	return c.RoundTrip(t, hr)
}

// RoundTrip sends a request the test built itself (a streamed body, a
// length of its own) and buffers the answer, checked against the OpenAPI
// document when the Client validates.
func (c *Client) RoundTrip(t testing.TB, hr *http.Request) (*Response, error) {
	if c.Validate {
		t.Helper()
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", hr.Method, hr.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", hr.Method, hr.URL, err)
	}
	if c.Validate {
		if err := validator(t).ValidateResponse(hr, resp.StatusCode, resp.Header, data); err != nil {
			t.Errorf("response does not match the OpenAPI document: %v\nbody: %s", err, data)
		}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

func method(r Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// Challenge sends r without credentials, checks that the answer is a
// digest challenge and returns its WWW-Authenticate header.
func (c *Client) Challenge(t testing.TB, r Request) string {
	t.Helper()
	got := c.Send(t, r, "")
	if got.Status != http.StatusUnauthorized || !strings.HasPrefix(got.Header.Get("Www-Authenticate"), "Digest ") {
		t.Fatalf("want a digest challenge, got %s (WWW-Authenticate %q)", got, got.Header.Get("Www-Authenticate"))
	}
	return got.Header.Get("Www-Authenticate")
}

// PostForm posts an urlencoded form to an OAuth endpoint (path below the
// base URL) with the given Authorization header, none when empty.
func (c *Client) PostForm(t testing.TB, path, authorization string, values url.Values) *Response {
	t.Helper()
	got, err := c.postForm(t, path, authorization, values)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (c *Client) postForm(t testing.TB, path, authorization string, values url.Values) (*Response, error) {
	if c.Validate {
		t.Helper()
	}
	hr, err := http.NewRequest(http.MethodPost, c.BaseURL+path, strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		hr.Header.Set("Authorization", authorization)
	}
	return c.RoundTrip(t, hr)
}

// BasicAuth is the client authentication of the token endpoint: each part
// form-encoded, then joined and base64-encoded (RFC 6749 §2.3.1).
func BasicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// RequestToken asks the token endpoint for a service account's access
// token with the client-credentials grant.
func (c *Client) RequestToken(t testing.TB, clientID, secret string) *Response {
	t.Helper()
	return c.PostForm(t, "/api/oauth/token", BasicAuth(clientID, secret), url.Values{"grant_type": {"client_credentials"}})
}

// Token obtains a service account's access token, failing the test when
// the endpoint does not grant one.
func (c *Client) Token(t testing.TB, clientID, secret string) string {
	t.Helper()
	got := c.RequestToken(t, clientID, secret)
	if got.Status != http.StatusOK {
		t.Fatalf("token: %s", got)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	got.Decode(t, &tok)
	if tok.AccessToken == "" {
		t.Fatalf("token: no access_token in %s", got.Body)
	}
	return tok.AccessToken
}

// RevokeToken revokes an access token as the service account that holds it.
func (c *Client) RevokeToken(t testing.TB, clientID, secret, token string) *Response {
	t.Helper()
	return c.PostForm(t, "/api/oauth/revoke", BasicAuth(clientID, secret),
		url.Values{"token": {token}, "token_type_hint": {"access_token"}})
}

func requestURI(path string) (string, error) {
	u, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", path, err)
	}
	return u.RequestURI(), nil
}

// RequestURI is the URI a digest answer signs for a path below the base URL.
func RequestURI(t testing.TB, path string) string {
	t.Helper()
	uri, err := requestURI(path)
	if err != nil {
		t.Fatal(err)
	}
	return uri
}

var (
	validatorOnce sync.Once
	validatorDoc  *openapitest.Validator
	validatorErr  error
)

// validator is the OpenAPI document's validator, built once per test
// binary.
func validator(t testing.TB) *openapitest.Validator {
	t.Helper()
	validatorOnce.Do(func() { validatorDoc, validatorErr = openapitest.NewValidator() })
	if validatorErr != nil {
		t.Fatalf("openapitest.NewValidator: %v", validatorErr)
	}
	return validatorDoc
}

// Validating returns a transport that sends through base
// (http.DefaultTransport when nil) and checks every answer against the
// OpenAPI document, reporting a mismatch as an error of t: for clients the
// tests do not build themselves, such as the Atlas SDK's.
func Validating(t testing.TB, base http.RoundTripper) http.RoundTripper {
	t.Helper()
	return validator(t).Transport(t, base)
}
