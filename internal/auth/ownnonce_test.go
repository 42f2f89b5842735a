package auth_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// TestOwnNonces: with OwnNonces a digest answer is accepted once, and its
// nonce is kept by the Authenticator, not written to the store; a nonce is
// accepted by the Authenticator that issued it alone, not by another one
// over the same store (another process, or a later run of this one),
// which answers with a new challenge; a used nonce stays refused for as
// long as it could be answered, and an expired one gets stale=true.
func TestOwnNonces(t *testing.T) {
	ctx := context.Background()
	b, err := sqlite.OpenBackend(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	boot, err := (&service.Service{Store: b.Store}).Init(ctx, "org", "project", auth.HashParams{Time: 1, Memory: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	own := &auth.Authenticator{Store: b.Store, Now: now, OwnNonces: true}

	const uri = "/api/atlas/v2/groups/6b15c3e396ad6a291682e78c/backup/exportBuckets"
	challenge := func(a *auth.Authenticator) string {
		t.Helper()
		_, f := a.Authenticate(httptest.NewRequest("GET", uri, nil))
		if f == nil || f.Challenge == "" {
			t.Fatalf("a request without credentials: %v, want a challenge", f)
		}
		return f.Challenge
	}
	answer := func(a *auth.Authenticator, challenge string) (*snapexport.Principal, *auth.Failure) {
		t.Helper()
		r := httptest.NewRequest("GET", uri, nil)
		r.Header.Set("Authorization", apitest.SignDigest(t, challenge, "GET", uri, boot.APIKey.PublicKey, boot.APIKey.PrivateKey))
		return a.Authenticate(r)
	}
	wantChallenge := func(what string, p *snapexport.Principal, f *auth.Failure, stale bool) {
		t.Helper()
		if p != nil || f == nil || f.Challenge == "" {
			t.Errorf("%s: principal %v, failure %v; want a new challenge", what, p, f)
			return
		}
		if got := apitest.ParseChallenge(t, f.Challenge)["stale"]; got != map[bool]string{true: "true", false: "false"}[stale] {
			t.Errorf("%s: stale=%s, want %t", what, got, stale)
		}
	}

	first := challenge(own)
	if p, f := answer(own, first); p == nil {
		t.Fatalf("a right answer: %v", f)
	}
	p, f := answer(own, first)
	wantChallenge("the same answer again", p, f, false)
	nonce := apitest.ParseChallenge(t, first)["nonce"]
	if err := b.Store.Nonces().UseNonce(ctx, nonce, clock.Add(time.Hour), clock); errors.Is(err, snapexport.ErrConflict) {
		t.Errorf("the used nonce is in the store: its uses are to be kept in memory")
	} else if err != nil {
		t.Fatal(err)
	}

	others := map[string]*auth.Authenticator{
		"another Authenticator with its own nonces":     {Store: b.Store, Now: now, OwnNonces: true},
		"an Authenticator with the store's shared ones": {Store: b.Store, Now: now},
	}
	for name, other := range others {
		p, f := answer(other, challenge(own))
		wantChallenge(name+", answered a nonce the first issued", p, f, false)
		if f != nil && !strings.Contains(f.Refused, "did not issue") {
			t.Errorf("%s: refused as %q, want a nonce it did not issue", name, f.Refused)
		}
	}

	// A nonce used at its fourth minute is still refused at its fifth,
	// and stale once its five minutes passed.
	later := challenge(own)
	clock = clock.Add(4 * time.Minute)
	if p, f := answer(own, later); p == nil {
		t.Fatalf("a right answer at the nonce's fourth minute: %v", f)
	}
	clock = clock.Add(59 * time.Second)
	p, f = answer(own, later)
	wantChallenge("the answer again before the nonce expired", p, f, false)
	clock = clock.Add(2 * time.Second)
	p, f = answer(own, later)
	wantChallenge("the answer again after the nonce expired", p, f, true)
	if p, f := answer(own, challenge(own)); p == nil {
		t.Errorf("a fresh nonce after an hour of the clock: %v", f)
	}
}
