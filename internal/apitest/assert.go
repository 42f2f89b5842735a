package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"testing"
)

// Decode unmarshals the JSON body into v, failing the test when it cannot.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Object is the body as a JSON object.
func (r *Response) Object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// Field is a string field of the body's top-level object, "" when absent
// or not a string.
func (r *Response) Field(t testing.TB, name string) string {
	t.Helper()
	s, _ := r.Object(t)[name].(string)
	return s
}

// WantStatus fails the test unless r has the status.
func WantStatus(t testing.TB, r *Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status: want %d, got %s", status, r)
	}
}

// APIError is Atlas's ApiError as a client reads it.
type APIError struct {
	Detail     string    `json:"detail"`
	Error      int       `json:"error"`
	ErrorCode  string    `json:"errorCode"`
	Parameters *[]string `json:"parameters"`
	Reason     string    `json:"reason"`
}

// Params is the parameters array, nil when there is none.
func (e APIError) Params() []string {
	if e.Parameters == nil {
		return nil
	}
	return *e.Parameters
}

// WantError checks an Atlas error answer: status, errorCode, the
// application/json type, the X-Error-Code header, a compact body with keys
// in alphabetical order, "error" repeating the status, "reason" the HTTP
// reason phrase, a "parameters" array and a detail.
func WantError(t testing.TB, r *Response, status int, code string) APIError {
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
	if err := CheckCompact(r.Body); err != nil {
		t.Errorf("error body: %v", err)
	}
	if err := CheckSortedKeys(r.Body); err != nil {
		t.Errorf("error body: %v", err)
	}
	var e APIError
	r.Decode(t, &e)
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

// CheckCompact reports a body that is not JSON without insignificant
// whitespace.
func CheckCompact(body []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), body) {
		return fmt.Errorf("not compact: %s", body)
	}
	return nil
}

// KeyOrders walks body with a token decoder and returns, for every object
// in document order, its keys in the order they appear.
func KeyOrders(body []byte) ([][]string, error) {
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

// KeyOrders is KeyOrders of the body, failing the test when it is not JSON.
func (r *Response) KeyOrders(t testing.TB) [][]string {
	t.Helper()
	orders, err := KeyOrders(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return orders
}

// TopKeys is the key order of the top-level object.
func TopKeys(t testing.TB, body []byte) []string {
	t.Helper()
	orders, err := KeyOrders(body)
	if err != nil || len(orders) == 0 {
		t.Fatalf("not a JSON object: %s (%v)", body, err)
	}
	return orders[0]
}

// CheckSortedKeys reports an object whose keys are not in alphabetical
// order, as Atlas orders them, but for the one exception Atlas makes: a
// cluster's hardware specification starts with instanceSize.
func CheckSortedKeys(body []byte) error {
	orders, err := KeyOrders(body)
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	for _, keys := range orders {
		if len(keys) > 0 && keys[0] == "instanceSize" {
			keys = keys[1:]
		}
		if !sort.StringsAreSorted(keys) {
			return fmt.Errorf("keys not in alphabetical order: %v in %s", keys, body)
		}
	}
	return nil
}

// WantSuccessBody checks a success body is compact and alphabetically keyed.
func WantSuccessBody(t testing.TB, r *Response) {
	t.Helper()
	if err := CheckCompact(r.Body); err != nil {
		t.Errorf("success body: %v", err)
	}
	if err := CheckSortedKeys(r.Body); err != nil {
		t.Errorf("success body: %v", err)
	}
}

// WantEnvelope checks an envelope=true success answer, a compact
// {"content", "status"} repeating the HTTP status, and returns its content.
func WantEnvelope(t testing.TB, r *Response, status int) json.RawMessage {
	t.Helper()
	WantStatus(t, r, status)
	WantSuccessBody(t, r)
	var env struct {
		Content json.RawMessage `json:"content"`
		Status  int             `json:"status"`
	}
	r.Decode(t, &env)
	if keys := TopKeys(t, r.Body); !slices.Equal(keys, []string{"content", "status"}) || env.Status != status {
		t.Errorf("envelope %s: want content and status %d", r.Body, status)
	}
	return env.Content
}

// ChallengePattern is Atlas's digest challenge; its groups are the nonce
// and the stale flag.
var ChallengePattern = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="([A-Za-z0-9]{32})", algorithm=MD5, qop="auth", stale=(true|false)$`)

// ChallengeBody is Atlas's challenge body, byte for byte.
const ChallengeBody = `{
  "error" : 401,
  "reason" : "Unauthorized",
  "detail" : "You are not authorized for this resource.",
  "errorCode" : "UNEXPECTED_ERROR"
}`

// WantChallenge checks r is Atlas's digest challenge with the given stale
// flag and returns its nonce.
func WantChallenge(t testing.TB, r *Response, stale bool) string {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("want the 401 digest challenge, got %s", r)
	}
	h := r.Header.Get("Www-Authenticate")
	m := ChallengePattern.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("WWW-Authenticate: got %q, want Atlas's digest challenge", h)
	}
	if m[2] != fmt.Sprint(stale) {
		t.Errorf("WWW-Authenticate: want stale=%v, got %q", stale, h)
	}
	if string(r.Body) != ChallengeBody {
		t.Errorf("challenge body:\n got %s\nwant %s", r.Body, ChallengeBody)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("challenge Content-Type: want application/json, got %q", ct)
	}
	if xe := r.Header.Get("X-Error-Code"); xe != "" {
		t.Errorf("challenge: want no X-Error-Code (Atlas sends none), got %q", xe)
	}
	return m[1]
}
