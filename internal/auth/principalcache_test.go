package auth_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
)

// clock is a settable clock for an Authenticator.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// bearerRequest authenticates a GET carrying token.
func bearerRequest(a *auth.Authenticator, token string) (*snapexport.Principal, *auth.Failure) {
	r := httptest.NewRequest("GET", "/api/atlas/v2/groups", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return a.Authenticate(r)
}

// TestPrincipalReuse checks what the reuse of a looked-up principal may
// and may not miss: a token revoked by another process (the store changed
// behind the authenticator's back) is refused once PrincipalTTL has
// passed, a token revoked through the authenticator at once, and an
// expired token at its expiry whatever the cache holds.
func TestPrincipalReuse(t *testing.T) {
	ctx := context.Background()
	p := auth.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}
	a, client := newClientAuth(t, p)
	c := &clock{now: time.Now()}
	a.Now = c.Now
	const ttl = 2 * time.Second
	a.PrincipalTTL = ttl

	wantAccepted := func(what, token string) {
		t.Helper()
		got, f := bearerRequest(a, token)
		if f != nil {
			t.Fatalf("%s: refused: %v", what, f)
		}
		if got.Name != client.ID {
			t.Fatalf("%s: principal %q, want the service account %q", what, got.Name, client.ID)
		}
	}
	wantRefused := func(what, token string) {
		t.Helper()
		if got, f := bearerRequest(a, token); f == nil || f.Err == nil || f.Err.Code != snapexport.CodeUnauthorized {
			t.Fatalf("%s: want 401 UNAUTHORIZED, got %+v, %+v", what, got, f)
		}
	}

	// issue returns a fresh token, accepted once so that it is kept.
	issue := func() string {
		t.Helper()
		tok, err := a.IssueToken(ctx, client)
		if err != nil {
			t.Fatal(err)
		}
		wantAccepted("fresh token", tok.AccessToken)
		return tok.AccessToken
	}
	// revokeInStore revokes token as another process would: in the store,
	// behind the authenticator's back.
	revokeInStore := func(token string) {
		t.Helper()
		err := a.Store.Write(ctx, func(tx snapexport.Tx) error {
			return tx.RevokeAccessToken(ctx, auth.TokenHash(token), c.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("revoked by another process", func(t *testing.T) {
		token := issue()
		revokeInStore(token)
		c.add(ttl - time.Millisecond)
		wantAccepted("within the TTL of its lookup", token)
		c.add(time.Millisecond)
		wantRefused("the TTL passed", token)
	})

	t.Run("revoked through the authenticator", func(t *testing.T) {
		token := issue()
		if err := a.RevokeToken(ctx, client, token); err != nil {
			t.Fatal(err)
		}
		wantRefused("right after the revocation", token)
	})

	t.Run("forgotten", func(t *testing.T) {
		token := issue()
		revokeInStore(token)
		a.Forget()
		wantRefused("after Forget", token)
	})

	t.Run("expired", func(t *testing.T) {
		a.TokenTTL = 3 * time.Second
		defer func() { a.TokenTTL = 0 }()
		tok, err := a.IssueToken(ctx, client)
		if err != nil {
			t.Fatal(err)
		}
		c.add(2 * time.Second)
		// Looked up 1 to 2 s before its expiry: the entry would hold past it.
		wantAccepted("before its expiry", tok.AccessToken)
		c.add(2 * time.Second)
		wantRefused("past its expiry", tok.AccessToken)
	})

	t.Run("no reuse", func(t *testing.T) {
		a.PrincipalTTL = -1
		defer func() { a.PrincipalTTL = ttl }()
		token := issue()
		revokeInStore(token)
		wantRefused("revoked, with a negative PrincipalTTL", token)
	})
}
