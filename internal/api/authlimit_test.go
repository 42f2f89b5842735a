package api_test

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/ratelimit"
)

// failedAuthLimit allows three failed authentications per client address,
// one more each minute.
var failedAuthLimit = ratelimit.Policy{Name: "Failed Authentications", Capacity: 3, Refill: 1, Period: time.Minute}

// authLimitEnv is a server on a frozen clock whose client addresses may
// fail to authenticate three times.
func authLimitEnv(t *testing.T, trustedProxies ...netip.Prefix) *env {
	t.Helper()
	limits := api.DefaultLimits()
	limits.FailedAuthentications = failedAuthLimit
	return newEnv(t, envOptions{limits: &limits, clock: newClock(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)), trustedProxies: trustedProxies})
}

// fromAddress is a copy of c whose connections come from the loopback
// address ip (127.0.0.1 is the tests' usual one), skipping the test where
// the system cannot bind it.
func fromAddress(t *testing.T, c *apitest.Client, ip string) *apitest.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	probe, err := dialer.Dial("tcp", strings.TrimPrefix(c.BaseURL, "http://"))
	if err != nil {
		t.Skipf("cannot connect from %s: %v", ip, err)
	}
	probe.Close()
	transport := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(transport.CloseIdleConnections)
	cp := c.At(c.BaseURL)
	cp.HTTP = &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return cp
}

// wantAuthLimited checks Atlas's 429 for the request to path of an address
// that spent its failed authentications on the frozen clock: a token
// refills in 60 seconds.
func wantAuthLimited(t *testing.T, got *apitest.Response, path string) {
	t.Helper()
	apiErr := apitest.WantError(t, got, http.StatusTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET")
	if r := got.Header.Get("Retry-After"); r != "60" {
		t.Errorf("Retry-After %q, want 60", r)
	}
	resource := strings.TrimPrefix(path, "/")
	if want := []string{resource, "60", "3", "1", "60"}; !slices.Equal(apiErr.Params(), want) {
		t.Errorf("parameters: %q, want %q", apiErr.Params(), want)
	}
	want := fmt.Sprintf("Rate limit exceeded for %s. Please retry after 60 seconds. Request capacity: 3. Refill rate: 1 per 60 seconds.", resource)
	if apiErr.Detail != want {
		t.Errorf("detail: %q, want %q", apiErr.Detail, want)
	}
}

// TestFailedDigestAuthenticationsLimited: wrong digest responses from one
// address spend its budget; then every attempt from it, a correct one
// too, is answered 429 until a token refills, while another address
// authenticates and the first round trip, without credentials, still gets
// the challenge.
func TestFailedDigestAuthenticationsLimited(t *testing.T) {
	e := authLimitEnv(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	wrongKey := apitest.Digest(e.PublicKey, "wrong-private-key")
	unknownKey := apitest.Digest("unknownkey", e.PrivateKey)
	for i, a := range []apitest.Auth{wrongKey, unknownKey, wrongKey} {
		r := list
		r.Auth = a
		apitest.WantChallenge(t, e.Do(t, r), false)
		if i == 0 {
			// Failing again is no different until the budget is spent.
			apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
		}
	}
	for _, a := range []apitest.Auth{wrongKey, unknownKey, apitest.Digest(e.PublicKey, e.PrivateKey)} {
		r := list
		r.Auth = a
		wantAuthLimited(t, e.Do(t, r), list.Path)
	}
	// The unsigned first round trip is no attempt: it gets the challenge.
	apitest.WantChallenge(t, e.Send(t, list, ""), false)

	other := fromAddress(t, e.Client, "127.0.0.2")
	apitest.WantStatus(t, other.Do(t, list), http.StatusOK)
	wrong := list
	wrong.Auth = wrongKey
	apitest.WantChallenge(t, other.Do(t, wrong), false)

	e.Clock.Advance(time.Minute)
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
	wrong.Auth = wrongKey
	apitest.WantChallenge(t, e.Do(t, wrong), false)
	wantAuthLimited(t, e.Do(t, list), list.Path)
}

// TestInvalidBearerTokensLimited: invalid bearer tokens spend the budget
// of their address like wrong digest responses.
func TestInvalidBearerTokensLimited(t *testing.T) {
	e := authLimitEnv(t)
	token := e.token(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	for _, bad := range []string{"not-a-token", token + "x", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"} {
		r := list
		r.Auth = apitest.Bearer(bad)
		apitest.WantError(t, e.Do(t, r), http.StatusUnauthorized, "UNAUTHORIZED")
	}
	list.Auth = apitest.Bearer(token)
	wantAuthLimited(t, e.Do(t, list), list.Path)
	apitest.WantStatus(t, fromAddress(t, e.Client, "127.0.0.2").Do(t, list), http.StatusOK)
}

// TestFailedOAuthClientAuthenticationsLimited: wrong client secrets at the
// token endpoint spend their address's budget; then the token and revoke
// endpoints answer it 429, to the right secret too.
func TestFailedOAuthClientAuthenticationsLimited(t *testing.T) {
	e := authLimitEnv(t)
	token := e.token(t) // a success spends nothing
	for _, id := range []string{e.ClientID, e.ClientID, "mdb_sa_id_unknown"} {
		got := e.RequestToken(t, id, "wrong-secret")
		if got.Status != http.StatusUnauthorized || !strings.Contains(string(got.Body), `"invalid_client"`) {
			t.Fatalf("wrong secret: %s, want 401 invalid_client", got)
		}
	}
	wantAuthLimited(t, e.RequestToken(t, e.ClientID, e.ClientSecret), "/api/oauth/token")
	wantAuthLimited(t, e.RevokeToken(t, e.ClientID, e.ClientSecret, token), "/api/oauth/revoke")

	other := fromAddress(t, e.Client, "127.0.0.2")
	if got := other.RequestToken(t, e.ClientID, e.ClientSecret); got.Status != http.StatusOK {
		t.Errorf("token from another address: %s", got)
	}
	e.Clock.Advance(time.Minute)
	if got := e.RequestToken(t, e.ClientID, e.ClientSecret); got.Status != http.StatusOK {
		t.Errorf("token once a failure refilled: %s", got)
	}
}

// TestForwardedForIgnoredUnlessTrusted: without trusted proxies, a client
// cannot escape its budget by naming another address in X-Forwarded-For.
func TestForwardedForIgnoredUnlessTrusted(t *testing.T) {
	e := authLimitEnv(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Digest(e.PublicKey, "wrong")}
	for i := range 3 {
		list.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i)}}
		apitest.WantChallenge(t, e.Do(t, list), false)
	}
	list.Header = http.Header{"X-Forwarded-For": {"203.0.113.99"}}
	list.Auth = apitest.Auth{}
	wantAuthLimited(t, e.Do(t, list), list.Path)
}

// TestForwardedForFromTrustedProxy: behind a trusted proxy the client is
// the right-most untrusted hop of X-Forwarded-For, so hops the client
// wrote itself change nothing, and an IPv6 client is its /64.
func TestForwardedForFromTrustedProxy(t *testing.T) {
	e := authLimitEnv(t, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"))
	path := e.bucketsPath("v2")
	call := func(auth apitest.Auth, forwardedFor ...string) *apitest.Response {
		t.Helper()
		return e.Do(t, apitest.Request{Path: path, Accept: v20240530, Auth: auth, Header: http.Header{"X-Forwarded-For": forwardedFor}})
	}
	right, wrong := apitest.Digest(e.PublicKey, e.PrivateKey), apitest.Digest(e.PublicKey, "wrong")

	for _, forwarded := range [][]string{{"203.0.113.7"}, {"198.51.100.1, 203.0.113.7"}, {"203.0.113.7", "10.1.2.3"}} {
		apitest.WantChallenge(t, call(wrong, forwarded...), false)
	}
	for _, forwarded := range [][]string{
		{"203.0.113.7"},
		{"203.0.113.8, 203.0.113.7"},       // a hop the client forged
		{"203.0.113.7, 10.9.9.9"},          // through a second trusted proxy
		{"203.0.113.8", "203.0.113.7:443"}, // in two headers, with a port
	} {
		wantAuthLimited(t, call(right, forwarded...), path)
	}
	for _, forwarded := range [][]string{{"203.0.113.8"}, {"203.0.113.7, 203.0.113.8"}, {"::ffff:203.0.113.9"}} {
		apitest.WantStatus(t, call(right, forwarded...), http.StatusOK)
	}

	for i := range 3 {
		apitest.WantChallenge(t, call(wrong, fmt.Sprintf("2001:db8:1:2::%x", i+1)), false)
	}
	wantAuthLimited(t, call(right, "2001:db8:1:2:ffff:ffff:ffff:ffff"), path)
	apitest.WantStatus(t, call(right, "2001:db8:1:3::1"), http.StatusOK)
}

// TestFailedAuthenticationsUnlimitedWhenRateLimitsDisabled: turning rate
// limits off turns this one off too.
func TestFailedAuthenticationsUnlimitedWhenRateLimitsDisabled(t *testing.T) {
	limits := api.DefaultLimits()
	limits.FailedAuthentications, limits.Disabled = failedAuthLimit, true
	e := newEnv(t, envOptions{limits: &limits})
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Digest(e.PublicKey, "wrong")}
	for range 2 * failedAuthLimit.Capacity {
		apitest.WantChallenge(t, e.Do(t, list), false)
	}
	list.Auth = apitest.Auth{}
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
}
