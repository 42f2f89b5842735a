package api_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/openapi/openapitest"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/testserver"
)

// Media types of the two export-bucket versions.
const (
	v20230101 = "application/vnd.atlas.2023-01-01+json"
	v20240530 = "application/vnd.atlas.2024-05-30+json"
)

// ---------------------------------------------------------------- validator

var (
	validatorOnce sync.Once
	validator     *openapitest.Validator
	validatorErr  error
)

func docValidator(t testing.TB) *openapitest.Validator {
	t.Helper()
	validatorOnce.Do(func() { validator, validatorErr = openapitest.NewValidator() })
	if validatorErr != nil {
		t.Fatalf("openapitest.NewValidator: %v", validatorErr)
	}
	return validator
}

// ---------------------------------------------------------------- clock

// fakeClock is a settable clock shared by the authenticator, the API and
// the service of a server built with newEnv(…, envOptions{clock: …}).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ---------------------------------------------------------------- log buffer

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf.Bytes())
}

// ---------------------------------------------------------------- environment

// env is a running server, its bootstrap credentials and an HTTP client.
type env struct {
	URL          string
	OrgID        string
	GroupID      string
	PublicKey    string
	PrivateKey   string
	ClientID     string
	ClientSecret string
	// Server is the assembled server, for adding principals and projects.
	Server *server.Server
	// Clock is set when the server runs on a fake clock.
	Clock *fakeClock
	// test is the test server, which names its PostgreSQL
	// schema when it has one.
	test *testserver.Server

	hc *http.Client
}

type envOptions struct {
	limits *api.Limits
	// clock is the clock of the server (authenticator, API and service).
	clock   *fakeClock
	logger  *slog.Logger
	dataDir string
	// noExports leaves export jobs queued; exports tunes the runner
	// otherwise.
	noExports bool
	exports   *exportrunner.Config
}

// testHash keeps client-secret hashing cheap, as the test server does.
var testHash = auth.HashParams{Time: 1, Memory: 64, Threads: 1}

// newEnv starts a test server: on SQLite, or on PostgreSQL
// when SNAPEXPORTTEST_DATABASE names a database.
func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	e := &env{hc: &http.Client{
		Timeout: 30 * time.Second,
		// Redirects would hide what the server answered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	so := testserver.Options{Limits: o.limits, Logger: o.logger, DataDir: o.dataDir, NoExports: o.noExports, Exports: o.exports}
	if o.clock != nil {
		so.Now = o.clock.Now
		e.Clock = o.clock
	}
	srv := testserver.NewServer(t, so)
	e.URL, e.OrgID, e.GroupID, e.Server, e.test = srv.URL, srv.OrgID, srv.GroupID, srv.Server, srv
	e.PublicKey, e.PrivateKey = srv.APIKey.PublicKey, srv.APIKey.PrivateKey
	e.ClientID, e.ClientSecret = srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret
	return e
}

// ---------------------------------------------------------------- requests

type authKind int

const (
	authDigest authKind = iota // the zero value: digest with the env's API key
	authNone
	authBearer
	authRaw
)

// credentials says how a request authenticates.
type credentials struct {
	kind       authKind
	user, pass string // digest; empty means the env's API key
	value      string // bearer token or raw Authorization header
}

var noAuth = credentials{kind: authNone}

func bearer(token string) credentials   { return credentials{kind: authBearer, value: token} }
func rawAuth(header string) credentials { return credentials{kind: authRaw, value: header} }
func digestAs(user, pass string) credentials {
	return credentials{kind: authDigest, user: user, pass: pass}
}

// req is one API call.
type req struct {
	method string
	path   string // below the base URL, with any query
	accept string // Accept header; none when empty
	body   string // sent with contentType (application/json by default)
	// contentType overrides application/json.
	contentType string
	auth        credentials
	host        string // overrides the Host header
	header      http.Header
}

// res is a buffered response.
type res struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *res) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// do sends r the way Atlas clients do and returns the final response. With
// digest credentials it first sends the request unsigned, as the SDK's
// digest transport does, expects the challenge and answers it once.
// Every response is checked against the OpenAPI document.
func (e *env) do(t testing.TB, r req) *res {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	switch r.auth.kind {
	case authDigest:
		first := e.send(t, r, "")
		if first.Status != http.StatusUnauthorized {
			t.Fatalf("%s %s without credentials: want the 401 digest challenge, got %s", r.method, r.path, first)
		}
		user, pass := r.auth.user, r.auth.pass
		if user == "" && pass == "" {
			user, pass = e.PublicKey, e.PrivateKey
		}
		challenge := first.Header.Get("Www-Authenticate")
		return e.send(t, r, signDigest(t, challenge, r.method, requestURI(t, r.path), user, pass))
	case authBearer:
		return e.send(t, r, "Bearer "+r.auth.value)
	case authRaw:
		return e.send(t, r, r.auth.value)
	default:
		return e.send(t, r, "")
	}
}

// send makes one HTTP exchange with the given Authorization header.
func (e *env) send(t testing.TB, r req, authorization string) *res {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(method, e.URL+r.path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if r.accept != "" {
		hr.Header.Set("Accept", r.accept)
	}
	if authorization != "" {
		hr.Header.Set("Authorization", authorization)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if r.host != "" {
		hr.Host = r.host
	}
	return e.roundTrip(t, hr)
}

// roundTrip sends hr, buffers the answer and validates it against the
// OpenAPI document.
func (e *env) roundTrip(t testing.TB, hr *http.Request) *res {
	t.Helper()
	resp, err := e.hc.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", hr.Method, hr.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", hr.Method, hr.URL, err)
	}
	if err := docValidator(t).ValidateResponse(hr, resp.StatusCode, resp.Header, data); err != nil {
		t.Errorf("response does not match the OpenAPI document: %v\nbody: %s", err, data)
	}
	return &res{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func requestURI(t testing.TB, path string) string {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatalf("parse %q: %v", path, err)
	}
	return u.RequestURI()
}

// ---------------------------------------------------------------- digest signer

// parseChallenge reads the parameters of a `Digest …` challenge the way
// the SDK's digest transport does: split on `", "`… but tolerant of the
// unquoted algorithm and stale values.
func parseChallenge(t testing.TB, challenge string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(challenge, "Digest ")
	if !ok {
		t.Fatalf("not a digest challenge: %q", challenge)
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			t.Fatalf("challenge %q: bad parameter %q", challenge, part)
		}
		out[k] = strings.Trim(v, `"`)
	}
	return out
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// signDigest answers a digest challenge with qop=auth and nc=00000001, in
// the header shape of github.com/mongodb-forks/digest.
func signDigest(t testing.TB, challenge, method, uri, user, pass string) string {
	t.Helper()
	c := parseChallenge(t, challenge)
	return digestHeader(user, pass, c["realm"], c["nonce"], method, uri)
}

func digestHeader(user, pass, realm, nonce, method, uri string) string {
	b := make([]byte, 8)
	rand.Read(b)
	cnonce := hex.EncodeToString(b)
	const nc = "00000001"
	ha1 := md5hex(user + ":" + realm + ":" + pass)
	ha2 := md5hex(method + ":" + uri)
	response := md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="%s"`,
		user, realm, nonce, uri, response, nc, cnonce)
}

// challenge sends r without credentials and returns the challenge header.
func (e *env) challenge(t testing.TB, r req) string {
	t.Helper()
	got := e.send(t, r, "")
	if got.Status != http.StatusUnauthorized || !strings.HasPrefix(got.Header.Get("Www-Authenticate"), "Digest ") {
		t.Fatalf("want a digest challenge, got %s (WWW-Authenticate %q)", got, got.Header.Get("Www-Authenticate"))
	}
	return got.Header.Get("Www-Authenticate")
}

// ---------------------------------------------------------------- OAuth

// basicAuth is the client authentication of the token endpoint: each part
// form-encoded, then joined and base64-encoded (RFC 6749 §2.3.1).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// form posts an urlencoded form to an OAuth endpoint.
func (e *env) form(t testing.TB, path, authorization string, values url.Values) *res {
	t.Helper()
	hr, err := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(values.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		hr.Header.Set("Authorization", authorization)
	}
	return e.roundTrip(t, hr)
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// tokenFor obtains a bearer token for a service account.
func (e *env) tokenFor(t testing.TB, id, secret string) string {
	t.Helper()
	got := e.form(t, "/api/oauth/token", basicAuth(id, secret), url.Values{"grant_type": {"client_credentials"}})
	if got.Status != http.StatusOK {
		t.Fatalf("token: %s", got)
	}
	var tok tokenResponse
	got.decode(t, &tok)
	if tok.AccessToken == "" {
		t.Fatalf("token: no access_token in %s", got.Body)
	}
	return tok.AccessToken
}

func (e *env) token(t testing.TB) string {
	t.Helper()
	return e.tokenFor(t, e.ClientID, e.ClientSecret)
}

// ---------------------------------------------------------------- resources

func (e *env) bucketsPath(apiVersion string) string {
	return "/api/atlas/" + apiVersion + "/groups/" + e.GroupID + "/backup/exportBuckets"
}

func (e *env) rolesPath() string {
	return "/api/atlas/v2/groups/" + e.GroupID + "/cloudProviderAccess"
}

// role creates a cloud provider access role and, when authorize is set,
// authorizes it; it returns the role id.
func (e *env) role(t testing.TB, provider string, authorize bool) string {
	t.Helper()
	create := map[string]string{
		"AWS":   `{"providerName":"AWS"}`,
		"AZURE": `{"providerName":"AZURE","atlasAzureAppId":"9f2deb0d-be22-4524-a403-df531868bac0","servicePrincipalId":"6ab3b2d5-9f2c-4a3e-8f7e-1c2d3e4f5a6b","tenantId":"91402ab4-3bd5-4bd1-8b2a-0123456789ab"}`,
		"GCP":   `{"providerName":"GCP"}`,
	}[provider]
	got := e.do(t, req{method: "POST", path: e.rolesPath(), accept: v20230101, body: create})
	if got.Status != http.StatusOK {
		t.Fatalf("create %s role: %s", provider, got)
	}
	var v struct {
		ID     string `json:"_id"`
		RoleID string `json:"roleId"`
	}
	got.decode(t, &v)
	id := v.RoleID
	if provider == "AZURE" {
		id = v.ID
	}
	if id == "" {
		t.Fatalf("create %s role: no id in %s", provider, got.Body)
	}
	if !authorize || provider == "GCP" {
		return id
	}
	patch := map[string]string{
		"AWS":   `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/atlas-export"}`,
		"AZURE": create,
	}[provider]
	got = e.do(t, req{method: "PATCH", path: e.rolesPath() + "/" + id, accept: v20230101, body: patch})
	if got.Status != http.StatusOK {
		t.Fatalf("authorize %s role: %s", provider, got)
	}
	return id
}

// foreignRole creates a second project and an authorized AWS role in it,
// and returns the role id.
func (e *env) foreignRole(t testing.TB) string {
	t.Helper()
	got := e.do(t, req{method: "POST", path: "/api/atlas/v2/groups", accept: v20230101,
		body: `{"name":"other-` + strings.ToLower(auth.RandomString(6, "abcdefghij")) + `","orgId":"` + e.OrgID + `"}`})
	if got.Status != http.StatusOK {
		t.Fatalf("create project: %s", got)
	}
	var p struct {
		ID string `json:"id"`
	}
	got.decode(t, &p)
	other := *e
	other.GroupID = p.ID
	return other.role(t, "AWS", true)
}

// awsBucketBody is the seed create body.
func awsBucketBody(name, roleID string) string {
	return fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q,"requirePrivateNetworking":true}`, name, roleID)
}

// createBucket registers a bucket through v2 2024-05-30 and returns its id.
func (e *env) createBucket(t testing.TB, body string) string {
	t.Helper()
	got := e.do(t, req{method: "POST", path: e.bucketsPath("v2"), accept: v20240530, body: body})
	if got.Status != http.StatusOK {
		t.Fatalf("create bucket %s: %s", body, got)
	}
	var v struct {
		ID string `json:"_id"`
	}
	got.decode(t, &v)
	return v.ID
}

// bucketCount is the totalCount of the v2 2024-05-30 list (every provider).
func (e *env) bucketCount(t testing.TB) int {
	t.Helper()
	got := e.do(t, req{path: e.bucketsPath("v2"), accept: v20240530})
	if got.Status != http.StatusOK {
		t.Fatalf("list buckets: %s", got)
	}
	var v struct {
		TotalCount *int `json:"totalCount"`
	}
	got.decode(t, &v)
	if v.TotalCount == nil {
		t.Fatalf("list buckets: no totalCount in %s", got.Body)
	}
	return *v.TotalCount
}

// bucketIDs lists the ids of every bucket of the project (v2 2024-05-30,
// one page of up to 500).
func (e *env) bucketIDs(t testing.TB) []string {
	t.Helper()
	got := e.do(t, req{path: e.bucketsPath("v2") + "?itemsPerPage=500", accept: v20240530})
	if got.Status != http.StatusOK {
		t.Fatalf("list buckets: %s", got)
	}
	var page struct {
		Results []struct {
			ID string `json:"_id"`
		} `json:"results"`
	}
	got.decode(t, &page)
	ids := []string{}
	for _, b := range page.Results {
		ids = append(ids, b.ID)
	}
	return ids
}

// ---------------------------------------------------------------- assertions

func (r *res) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r *res) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

func wantStatus(t testing.TB, r *res, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status: want %d, got %s", status, r)
	}
}

// apiErrorBody is the ApiError as a client reads it.
type apiErrorBody struct {
	Detail     string    `json:"detail"`
	Error      int       `json:"error"`
	ErrorCode  string    `json:"errorCode"`
	Parameters *[]string `json:"parameters"`
	Reason     string    `json:"reason"`
}

// wantError checks an Atlas error answer: status, errorCode, the
// application/json type, the X-Error-Code header, a compact body with keys
// in alphabetical order, "error" repeating the status, "reason" the HTTP
// reason phrase and a "parameters" array.
func wantError(t testing.TB, r *res, status int, code string) apiErrorBody {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status: want %d %s, got %s", status, code, r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type: want application/json, got %q", ct)
	}
	if got := r.Header.Get("X-Error-Code"); got != code {
		t.Errorf("X-Error-Code: want %q, got %q", code, got)
	}
	if err := checkCompact(r.Body); err != nil {
		t.Errorf("error body: %v", err)
	}
	if err := checkSortedKeys(r.Body); err != nil {
		t.Errorf("error body: %v", err)
	}
	var e apiErrorBody
	r.decode(t, &e)
	if e.ErrorCode != code {
		t.Errorf("errorCode: want %q, got %q (%s)", code, e.ErrorCode, r.Body)
	}
	if e.Error != status {
		t.Errorf(`"error": want %d, got %d`, status, e.Error)
	}
	if e.Reason != http.StatusText(status) {
		t.Errorf("reason: want %q, got %q", http.StatusText(status), e.Reason)
	}
	if e.Parameters == nil {
		t.Errorf("parameters: want an array, got none or null in %s", r.Body)
	}
	if e.Detail == "" {
		t.Errorf("detail is empty in %s", r.Body)
	}
	return e
}

func (e apiErrorBody) params() []string {
	if e.Parameters == nil {
		return nil
	}
	return *e.Parameters
}

// checkCompact reports whether body is JSON without insignificant whitespace.
func checkCompact(body []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), body) {
		return fmt.Errorf("not compact: %s", body)
	}
	return nil
}

// keyOrders walks body with a token decoder and returns, for every object
// in document order, its keys in the order they appear.
func keyOrders(body []byte) ([][]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out [][]string
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			idx := len(out)
			out = append(out, []string{})
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				out[idx] = append(out[idx], k.(string))
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token() // }
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token() // ]
			return err
		}
		return nil
	}
	if err := walk(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return out, nil
}

// topKeys is the key order of the top-level object.
func topKeys(t testing.TB, body []byte) []string {
	t.Helper()
	orders, err := keyOrders(body)
	if err != nil || len(orders) == 0 {
		t.Fatalf("not a JSON object: %s (%v)", body, err)
	}
	return orders[0]
}

// checkSortedKeys reports an object whose keys are not in alphabetical order.
func checkSortedKeys(body []byte) error {
	orders, err := keyOrders(body)
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	for _, keys := range orders {
		if !sort.StringsAreSorted(keys) {
			return fmt.Errorf("keys not in alphabetical order: %v in %s", keys, body)
		}
	}
	return nil
}

// wantSuccessBody checks a success body is compact and alphabetically keyed.
func wantSuccessBody(t testing.TB, r *res) {
	t.Helper()
	if err := checkCompact(r.Body); err != nil {
		t.Errorf("success body: %v", err)
	}
	if err := checkSortedKeys(r.Body); err != nil {
		t.Errorf("success body: %v", err)
	}
}

// wantEnvelope checks an envelope=true success answer, a compact
// {"content", "status"} repeating the HTTP status, and returns its content.
func wantEnvelope(t testing.TB, r *res, status int) json.RawMessage {
	t.Helper()
	wantStatus(t, r, status)
	wantSuccessBody(t, r)
	var env struct {
		Content json.RawMessage `json:"content"`
		Status  int             `json:"status"`
	}
	r.decode(t, &env)
	if keys := topKeys(t, r.Body); !slices.Equal(keys, []string{"content", "status"}) || env.Status != status {
		t.Errorf("envelope %s: want content and status %d", r.Body, status)
	}
	return env.Content
}

var challengePattern = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="([A-Za-z0-9]{32})", algorithm=MD5, qop="auth", stale=(true|false)$`)

// digestChallengeBody is Atlas's challenge body, byte for byte.
const digestChallengeBody = `{
  "error" : 401,
  "reason" : "Unauthorized",
  "detail" : "You are not authorized for this resource.",
  "errorCode" : "UNEXPECTED_ERROR"
}`

// wantChallenge checks r is Atlas's digest challenge with the given stale
// flag and returns its nonce.
func wantChallenge(t testing.TB, r *res, stale bool) string {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("want the 401 digest challenge, got %s", r)
	}
	h := r.Header.Get("Www-Authenticate")
	m := challengePattern.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("WWW-Authenticate: got %q, want Atlas's digest challenge", h)
	}
	if m[2] != fmt.Sprint(stale) {
		t.Errorf("WWW-Authenticate: want stale=%v, got %q", stale, h)
	}
	if string(r.Body) != digestChallengeBody {
		t.Errorf("challenge body:\n got %s\nwant %s", r.Body, digestChallengeBody)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("challenge Content-Type: want application/json, got %q", ct)
	}
	if xe := r.Header.Get("X-Error-Code"); xe != "" {
		t.Errorf("challenge: want no X-Error-Code (Atlas sends none), got %q", xe)
	}
	return m[1]
}
