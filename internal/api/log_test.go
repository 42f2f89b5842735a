package api_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestRequestLogOfAuthentication: the digest challenge every digest
// client gets first is an ordinary request line at DEBUG, with no warning
// and no word of failure, and the call it precedes an INFO line naming
// the caller; credentials refused are a warning saying why, naming no
// secret.
func TestRequestLogOfAuthentication(t *testing.T) {
	var logs testserver.LogBuffer
	clock := newClock(time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{logger: slog.New(logs.JSONHandler(slog.LevelDebug)), clock: clock})
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	uri := apitest.RequestURI(t, list.Path)
	wrongPassword := "wrong-" + e.PrivateKey
	unknownUser := "secret-in-the-user-field"

	// requestLines runs calls and returns the request lines they logged.
	seen := 0
	requestLines := func(t *testing.T, calls func()) []testserver.LogRecord {
		t.Helper()
		calls()
		records, err := logs.Records()
		if err != nil {
			t.Fatal(err)
		}
		var out []testserver.LogRecord
		for _, r := range records[seen:] {
			if r.Msg() == "request" {
				out = append(out, r)
			}
		}
		seen = len(records)
		return out
	}
	var token string
	requestLines(t, func() { token = e.token(t) })
	// wantLine checks a request line's level and its attributes ("" for
	// one that must be absent).
	wantLine := func(t *testing.T, r testserver.LogRecord, level string, status int, attrs map[string]string) {
		t.Helper()
		if r.Level() != level || r.Str("status") != strconv.Itoa(status) {
			t.Errorf("request line at %s with status %s, want %s and %d: %v", r.Level(), r.Str("status"), level, status, r)
		}
		for k, want := range attrs {
			if got := r.Str(k); got != want {
				t.Errorf("request line's %s = %q, want %q: %v", k, got, want, r)
			}
		}
	}

	t.Run("digest client", func(t *testing.T) {
		lines := requestLines(t, func() { apitest.WantStatus(t, e.Do(t, list), http.StatusOK) })
		if len(lines) != 2 {
			t.Fatalf("%d request lines for a digest call, want the challenge's and the call's: %v", len(lines), lines)
		}
		wantLine(t, lines[0], "DEBUG", 401, map[string]string{"auth": "digest challenge", "authFailure": "", "principal": ""})
		wantLine(t, lines[1], "INFO", 200, map[string]string{"principal": e.PublicKey, "auth": "", "authFailure": ""})
		for _, l := range lines {
			if text := strings.ToLower(fmt.Sprint(l)); strings.Contains(text, "fail") || strings.Contains(text, "error") {
				t.Errorf("a digest call's line speaks of failure: %v", l)
			}
		}
	})
	t.Run("stale nonce", func(t *testing.T) {
		lines := requestLines(t, func() {
			challenge := e.Challenge(t, list)
			clock.Advance(10 * time.Minute)
			apitest.WantChallenge(t, e.Send(t, list, apitest.SignDigest(t, challenge, "GET", uri, e.PublicKey, e.PrivateKey)), true)
		})
		if len(lines) != 2 {
			t.Fatalf("%d request lines for a challenge and a response to it once stale, want 2: %v", len(lines), lines)
		}
		for _, l := range lines {
			wantLine(t, l, "DEBUG", 401, map[string]string{"auth": "digest challenge", "authFailure": ""})
		}
	})
	t.Run("bearer", func(t *testing.T) {
		lines := requestLines(t, func() {
			apitest.WantStatus(t, e.Do(t, apitest.Request{Path: list.Path, Accept: list.Accept, Auth: apitest.Bearer(token)}), http.StatusOK)
		})
		wantLine(t, lines[0], "INFO", 200, map[string]string{"principal": e.ClientID})
	})

	refusals := []struct {
		name string
		call func(t *testing.T)
		why  string
	}{
		{"wrong password", func(t *testing.T) {
			apitest.WantChallenge(t, e.Send(t, list, apitest.SignDigest(t, e.Challenge(t, list), "GET", uri, e.PublicKey, wrongPassword)), false)
		}, "wrong digest response for API key " + e.PublicKey},
		{"unknown API key", func(t *testing.T) {
			apitest.WantChallenge(t, e.Send(t, list, apitest.SignDigest(t, e.Challenge(t, list), "GET", uri, unknownUser, e.PrivateKey)), false)
		}, "digest response of an unknown API key"},
		{"replayed response", func(t *testing.T) {
			h := apitest.SignDigest(t, e.Challenge(t, list), "GET", uri, e.PublicKey, e.PrivateKey)
			e.Send(t, list, h)
			apitest.WantChallenge(t, e.Send(t, list, h), false)
		}, "digest response to a used nonce"},
		{"nonce not issued", func(t *testing.T) {
			h := apitest.DigestHeader(e.PublicKey, e.PrivateKey, auth.Realm, strings.Repeat("a", 32), "GET", uri)
			apitest.WantChallenge(t, e.Send(t, list, h), false)
		}, "digest response to a nonce this server did not issue"},
		{"basic credentials", func(t *testing.T) {
			apitest.WantChallenge(t, e.Send(t, list, apitest.BasicAuth(e.PublicKey, e.PrivateKey)), false)
		}, "credentials neither a digest response nor a bearer token"},
		{"revoked token", func(t *testing.T) {
			apitest.WantStatus(t, e.RevokeToken(t, e.ClientID, e.ClientSecret, token), http.StatusOK)
			apitest.WantError(t, e.Send(t, list, "Bearer "+token), http.StatusUnauthorized, "UNAUTHORIZED")
		}, "invalid, expired or revoked access token"},
		{"wrong client secret", func(t *testing.T) {
			got := e.PostForm(t, "/api/oauth/token", apitest.BasicAuth(e.ClientID, "wrong-"+e.ClientSecret), url.Values{"grant_type": {"client_credentials"}})
			apitest.WantStatus(t, got, http.StatusUnauthorized)
		}, "invalid client credentials"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			lines := requestLines(t, func() { c.call(t) })
			last := lines[len(lines)-1]
			wantLine(t, last, "WARN", 401, map[string]string{"authFailure": c.why, "principal": ""})
			for _, l := range lines[:len(lines)-1] {
				if l.Level() == "WARN" {
					t.Errorf("a request before the refused one is a warning: %v", l)
				}
			}
		})
	}

	logged := logs.String()
	for _, r := range mustRecords(t, &logs) {
		if r.Level() == "ERROR" {
			t.Errorf("an ERROR line: %v", r)
		}
		if r.Level() == "WARN" && r.Str("authFailure") == "" {
			t.Errorf("a warning that is no refusal of credentials: %v", r)
		}
	}
	for name, s := range map[string]string{"API private key": e.PrivateKey, "client secret": e.ClientSecret, "access token": token,
		"wrong password": wrongPassword, "user name of no API key": unknownUser} {
		if strings.Contains(logged, s) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

func mustRecords(t *testing.T, logs *testserver.LogBuffer) []testserver.LogRecord {
	t.Helper()
	records, err := logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

// TestRequestIDs: every answer carries X-Request-Id and the request's log
// line the same request_id: the client's own when it sent a usable one,
// else one made for the request, never the same twice; an id that could
// forge a log line, or is too long, is replaced.
func TestRequestIDs(t *testing.T) {
	var logs testserver.LogBuffer
	e := newEnv(t, envOptions{logger: slog.New(logs.JSONHandler(slog.LevelDebug))})
	path := e.bucketsPath("v2")
	made := map[string]bool{}
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"", false},
		{"0d8c6a6e-5b7e-4f58-9a65-7a3f0a8c1e2b", true},
		{"ci-run:42.retry_1", true},
		{"two words", false},
		{"a\tb msg=forged", false},
		{`quote"d`, false},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
	} {
		req, err := http.NewRequest(http.MethodGet, e.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", v20240530)
		if tc.sent != "" {
			req.Header["X-Request-Id"] = []string{tc.sent}
		}
		resp, err := http.DefaultClient.Do(req) // no credentials: the digest challenge
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		switch {
		case tc.kept && got != tc.sent:
			t.Errorf("sent X-Request-Id %q, answered %q: want it kept", tc.sent, got)
		case !tc.kept && (got == tc.sent || len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" || made[got]):
			t.Errorf("sent X-Request-Id %q, answered %q: want a new id of 32 hexadecimal digits", tc.sent, got)
		}
		made[got] = true
		records, err := logs.Records()
		if err != nil {
			t.Fatal(err)
		}
		// River's own lines (leader elections and the like) may follow.
		var last testserver.LogRecord
		for i := len(records) - 1; i >= 0; i-- {
			if records[i].Msg() == "request" {
				last = records[i]
				break
			}
		}
		if last == nil || last.Str("request_id") != got {
			t.Errorf("last request line %v, want request_id %q", last, got)
		}
	}
}
