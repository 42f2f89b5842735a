package auth

import (
	"sync"
	"time"

	"github.com/snapexport/snapexport"
)

// A request's credentials are looked up in the store (the token or API
// key, its owner, their roles) once, then found in a small in-process
// cache for PrincipalTTL: a client sending requests back to back pays
// for one lookup per TTL instead of one per request. What the cache may
// miss is bounded: changes made through this process (a token revoked
// with /api/oauth/revoke, a role assigned or taken away, a key or
// service account deleted through the service) empty it at once (Forget);
// changes made by another process (a replica sharing the PostgreSQL
// database, `snapexport admin` on the same data directory) show within
// PrincipalTTL. A token's own expiry is checked at every request.

// DefaultPrincipalTTL is how long a looked-up principal is reused.
const DefaultPrincipalTTL = time.Second

// maxCachedPrincipals bounds the cache; past it, it starts again empty.
const maxCachedPrincipals = 10_000

type principalCache struct {
	mu      sync.Mutex
	entries map[string]cachedPrincipal
	// generation counts the forgets: a lookup that began before one is
	// not kept, as it may have read what the change replaced.
	generation uint64
}

// cachedPrincipal is a principal found by its credentials: a bearer
// token (expiresAt is the token's expiry) or an API key (ha1 is what its
// digest responses are checked against).
type cachedPrincipal struct {
	principal *snapexport.Principal
	expiresAt time.Time
	ha1       string
	// until is when the entry is looked up in the store again.
	until time.Time
}

// cache keys: a token's hash, an API key's public key, kept apart.
func tokenCacheKey(tokenHash string) string { return "t:" + tokenHash }
func keyCacheKey(publicKey string) string   { return "k:" + publicKey }

// get returns the entry of key while it holds, or the generation to put
// the store's answer with.
func (c *principalCache) get(key string, now time.Time) (e cachedPrincipal, ok bool, generation uint64) {
	c.mu.Lock()
	e, ok = c.entries[key]
	generation = c.generation
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return cachedPrincipal{}, false, generation
	}
	// Callers may keep and change the principal they are given.
	p := *e.principal
	e.principal = &p
	return e, true, generation
}

func (c *principalCache) put(key string, e cachedPrincipal, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedPrincipals {
		c.entries = map[string]cachedPrincipal{}
	}
	p := *e.principal
	e.principal = &p
	c.entries[key] = e
}

func (c *principalCache) forget() {
	c.mu.Lock()
	c.entries = nil
	c.generation++
	c.mu.Unlock()
}

// Forget drops every principal looked up so far, so that a change of
// credentials or roles made through this process holds from the next
// request on.
func (a *Authenticator) Forget() { a.principals.forget() }

func (a *Authenticator) principalTTL() time.Duration {
	if a.PrincipalTTL != 0 {
		return a.PrincipalTTL
	}
	return DefaultPrincipalTTL
}
