package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
)

// Authenticator turns the credentials of a request into a Principal.
type Authenticator struct {
	Store snapexport.Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// NonceTTL bounds how long a digest challenge may be answered.
	NonceTTL time.Duration
	// TokenTTL is the lifetime of issued bearer tokens (Atlas: 3600 s).
	TokenTTL time.Duration

	// PrincipalTTL is how long the principal of credentials looked up in
	// the store is reused for the same credentials (see principalcache.go;
	// DefaultPrincipalTTL when zero, never when negative).
	PrincipalTTL time.Duration

	// OwnNonces keeps digest nonces to this Authenticator: they are sealed
	// with a key it makes instead of the store's, and the used ones are
	// kept in its memory instead of written to the store, so that a digest
	// response costs no write. For a store that no other process serves
	// (a SQLite data directory): an answer to a nonce another process, or
	// an earlier run of this one, issued gets a new challenge.
	OwnNonces bool

	// Hash is the parameters of the hash unknown client ids are checked
	// against, so that they cost what a known one does: set it to those
	// new secrets are hashed with (DefaultHashParams when zero).
	Hash HashParams

	checks     secretChecks
	keys       serverKeys
	principals principalCache
	own        ownNonces
}

const (
	DefaultNonceTTL = 5 * time.Minute
	DefaultTokenTTL = time.Hour
)

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) nonceTTL() time.Duration {
	if a.NonceTTL > 0 {
		return a.NonceTTL
	}
	return DefaultNonceTTL
}

func (a *Authenticator) hashParams() HashParams {
	if a.Hash != (HashParams{}) {
		return a.Hash
	}
	return DefaultHashParams
}

func (a *Authenticator) tokenTTL() time.Duration {
	if a.TokenTTL > 0 {
		return a.TokenTTL
	}
	return DefaultTokenTTL
}

// Failure is why a request was not authenticated. When Challenge is set the
// response is Atlas's digest challenge; otherwise it is Err.
type Failure struct {
	Challenge string
	Err       *snapexport.Error
	// Refused says why credentials the request carried were refused, for
	// the server's log; it names no secret. It is empty for a challenge to
	// a request that carried none, or to a correct response to an expired
	// nonce: steps of the digest protocol, not failures.
	Refused string
	cause   error // storage failure, never shown to the client
}

func (f *Failure) Error() string {
	if f.cause != nil {
		return f.cause.Error()
	}
	if f.Err != nil {
		return f.Err.Error()
	}
	return "digest challenge"
}

// Unwrap exposes the storage failure, if any.
func (f *Failure) Unwrap() error { return f.cause }

var errInvalidToken = snapexport.Errorf(snapexport.CodeUnauthorized, "The access token is invalid, expired or revoked.")

// Authenticate identifies the caller of r by a bearer token or a digest
// response. Every other request gets a fresh digest challenge, as Atlas
// answers unauthenticated calls.
func (a *Authenticator) Authenticate(r *http.Request) (*snapexport.Principal, *Failure) {
	ctx := r.Context()
	header := r.Header.Get("Authorization")
	if token, ok := strings.CutPrefix(header, "Bearer "); ok {
		return a.bearer(ctx, strings.TrimSpace(token))
	}
	if c, ok := parseDigest(header); ok {
		p, refused, stale, err := a.digest(ctx, c, r.Method, r.URL.RequestURI())
		if err != nil {
			return nil, &Failure{cause: err}
		}
		if p != nil {
			return p, nil
		}
		f := a.challenge(ctx, stale)
		f.Refused = refused
		return nil, f
	}
	f := a.challenge(ctx, false)
	if header != "" {
		// The header is not logged: it may hold a secret in clear.
		f.Refused = "credentials neither a digest response nor a bearer token"
	}
	return nil, f
}

func (a *Authenticator) challenge(ctx context.Context, stale bool) *Failure {
	nonce, err := a.newNonce(ctx, a.now())
	if err != nil {
		return &Failure{cause: err}
	}
	return &Failure{Challenge: digestChallenge(nonce, stale)}
}

// digest verifies a digest response; refused says why one that is not
// accepted was refused, or stale is true when it was right but for an
// expired nonce. A nonce is recorded once it authenticated a request, so
// that a captured response is never accepted again.
func (a *Authenticator) digest(ctx context.Context, c digestCredentials, method, requestURI string) (p *snapexport.Principal, refused string, stale bool, err error) {
	issuedAt, authentic, err := a.nonceIssuedAt(ctx, c.Nonce)
	if err != nil {
		return nil, "", false, err
	}
	if !authentic {
		return nil, "digest response to a nonce this server did not issue", false, nil
	}
	if c.Realm != Realm || !sameURI(c.URI, requestURI) {
		return nil, "digest response for another realm or uri", false, nil
	}
	known, err := a.apiKey(ctx, c.Username)
	if errors.Is(err, snapexport.ErrNotFound) {
		// The user name is not logged: it may be a secret typed in the
		// wrong field.
		return nil, "digest response of an unknown API key", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	if !c.verify(known.ha1, method) {
		return nil, "wrong digest response for API key " + known.principal.Name, false, nil
	}
	// A correct response to an expired nonce asks the client to retry
	// with a fresh one rather than to prompt for new credentials.
	now := a.now()
	if now.After(issuedAt.Add(a.nonceTTL())) {
		return nil, "", true, nil
	}
	err = a.useNonce(ctx, c.Nonce, issuedAt, now)
	if errors.Is(err, snapexport.ErrConflict) {
		return nil, "digest response to a used nonce", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	return known.principal, "", false, nil
}

// apiKey returns the principal of the API key publicKey, with the HA1 its
// digest responses are checked against.
func (a *Authenticator) apiKey(ctx context.Context, publicKey string) (cachedPrincipal, error) {
	now := a.now()
	cached, ok, generation := a.principals.get(keyCacheKey(publicKey), now)
	if ok {
		return cached, nil
	}
	var key *snapexport.APIKey
	var roles []snapexport.RoleAssignment
	err := a.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		if key, err = tx.APIKeyByPublicKey(ctx, publicKey); err != nil {
			return err
		}
		roles, err = tx.ListRoles(ctx, key.ID)
		return err
	})
	if err != nil {
		return cachedPrincipal{}, err
	}
	found := cachedPrincipal{ha1: key.HA1, until: now.Add(a.principalTTL()),
		principal: &snapexport.Principal{ID: key.ID, Kind: snapexport.PrincipalAPIKey, Name: key.PublicKey, OrgID: key.OrgID, Roles: roles}}
	if a.principalTTL() > 0 {
		a.principals.put(keyCacheKey(publicKey), found, generation)
	}
	return found, nil
}

// sameURI compares the digest uri with the request target, tolerating the
// escaping differences of clients.
func sameURI(digestURI, requestURI string) bool {
	if digestURI == requestURI {
		return true
	}
	a, err1 := url.ParseRequestURI(digestURI)
	b, err2 := url.ParseRequestURI(requestURI)
	return err1 == nil && err2 == nil && a.Path == b.Path && a.Query().Encode() == b.Query().Encode()
}

func (a *Authenticator) bearer(ctx context.Context, token string) (*snapexport.Principal, *Failure) {
	hash := TokenHash(token)
	now := a.now()
	cached, ok, generation := a.principals.get(tokenCacheKey(hash), now)
	if ok {
		// The same token was verified and found valid in the store.
		if !now.Before(cached.expiresAt) {
			return nil, &Failure{Err: errInvalidToken, Refused: "expired access token"}
		}
		return cached.principal, nil
	}
	var subject string
	if isJWT(token) {
		var refused string
		var err error
		if subject, refused, err = a.verifyToken(ctx, token); err != nil {
			return nil, &Failure{cause: err}
		}
		if refused != "" {
			return nil, &Failure{Err: errInvalidToken, Refused: refused}
		}
	}
	var sa *snapexport.ServiceAccount
	var roles []snapexport.RoleAssignment
	var expiresAt time.Time
	err := a.Store.Read(ctx, func(tx snapexport.Tx) error {
		t, err := tx.AccessToken(ctx, hash)
		if err != nil {
			return err
		}
		if t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
			return snapexport.ErrNotFound
		}
		expiresAt = t.ExpiresAt
		if sa, err = tx.ServiceAccount(ctx, t.ServiceAccountID); err != nil {
			return err
		}
		if subject != "" && subject != sa.ClientID {
			return snapexport.ErrNotFound
		}
		roles, err = tx.ListRoles(ctx, sa.ID)
		return err
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, &Failure{Err: errInvalidToken, Refused: "invalid, expired or revoked access token"}
	}
	if err != nil {
		return nil, &Failure{cause: err}
	}
	p := &snapexport.Principal{ID: sa.ID, Kind: snapexport.PrincipalServiceAccount, Name: sa.ClientID, OrgID: sa.OrgID, Roles: roles}
	if a.principalTTL() > 0 {
		a.principals.put(tokenCacheKey(hash), cachedPrincipal{principal: p, expiresAt: expiresAt, until: now.Add(a.principalTTL())}, generation)
	}
	return p, nil
}

// authenticateClient returns the service account whose credentials are
// given, or ErrInvalidClient. An unknown client id costs the same Argon2id
// check as a known one, so that the time of the answer does not tell
// which ids exist.
func (a *Authenticator) authenticateClient(ctx context.Context, client Client) (*snapexport.ServiceAccount, error) {
	sa, err := snapexport.ReadValue(ctx, a.Store, func(tx snapexport.Tx) (*snapexport.ServiceAccount, error) {
		return tx.ServiceAccountByClientID(ctx, client.ID)
	})
	var hash string
	switch {
	case errors.Is(err, snapexport.ErrNotFound):
		sa, hash = nil, a.checks.unknownClientHash(a.hashParams())
	case err != nil:
		return nil, err
	default:
		hash = sa.SecretHash
	}
	ok, err := a.checks.verify(ctx, client.Secret, hash, client.Address, a.now())
	if err != nil {
		return nil, err
	}
	if sa == nil || !ok {
		a.checks.refused(client.Address, a.now())
		return nil, ErrInvalidClient
	}
	return sa, nil
}

// Client is the client of a token or revoke request: its credentials and
// the network address the request came from (the host of its remote
// address), by which wrong secrets are remembered.
type Client struct {
	ID, Secret, Address string
}

// Token is a freshly issued bearer token.
type Token struct {
	AccessToken string
	ExpiresIn   int
}

// ErrInvalidClient means the client id or secret is wrong.
var ErrInvalidClient = errors.New("invalid client credentials")

// IssueToken checks a service account's credentials and issues a bearer
// token: a JWT signed by the server (see token.go), stored as the hash of
// the whole token.
func (a *Authenticator) IssueToken(ctx context.Context, client Client) (*Token, error) {
	sa, err := a.authenticateClient(ctx, client)
	if err != nil {
		return nil, err
	}
	ttl := a.tokenTTL()
	issuedAt, expiresAt := tokenTimes(a.now(), ttl)
	token, err := a.signToken(ctx, sa.ClientID, issuedAt, expiresAt)
	if err != nil {
		return nil, err
	}
	err = a.Store.Write(ctx, func(tx snapexport.Tx) error {
		return tx.CreateAccessToken(ctx, &snapexport.AccessToken{Hash: TokenHash(token), ServiceAccountID: sa.ID, IssuedAt: issuedAt, ExpiresAt: expiresAt})
	})
	if err != nil {
		return nil, err
	}
	return &Token{AccessToken: token, ExpiresIn: int(ttl / time.Second)}, nil
}

// RevokeToken revokes token if it was issued to the service account whose
// credentials are given. Revoking an unknown or foreign token succeeds
// silently (RFC 7009 §2.2), so it tells nothing about other clients' tokens.
func (a *Authenticator) RevokeToken(ctx context.Context, client Client, token string) error {
	sa, err := a.authenticateClient(ctx, client)
	if err != nil {
		return err
	}
	return a.revoke(ctx, token, func(t *snapexport.AccessToken) bool { return t.ServiceAccountID == sa.ID })
}

// revoke revokes token when it is known and ours says so of it.
func (a *Authenticator) revoke(ctx context.Context, token string, ours func(*snapexport.AccessToken) bool) error {
	err := a.Store.Write(ctx, func(tx snapexport.Tx) error {
		t, err := tx.AccessToken(ctx, TokenHash(token))
		if errors.Is(err, snapexport.ErrNotFound) || err == nil && !ours(t) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.RevokeAccessToken(ctx, t.Hash, a.now())
	})
	// Once committed: a lookup under way kept nothing it read before.
	a.Forget()
	return err
}

// APIKeyPrincipal returns the principal of the API key publicKey with its
// roles as they are now (or as cached for PrincipalTTL), without checking
// any secret: for a session that checked the key's private key when it
// began. snapexport.ErrNotFound when the key no longer exists.
func (a *Authenticator) APIKeyPrincipal(ctx context.Context, publicKey string) (*snapexport.Principal, error) {
	found, err := a.apiKey(ctx, publicKey)
	if err != nil {
		return nil, err
	}
	return found.principal, nil
}

// TokenPrincipal returns the principal of a bearer token still valid,
// or a Failure as Authenticate gives for it.
func (a *Authenticator) TokenPrincipal(ctx context.Context, token string) (*snapexport.Principal, *Failure) {
	return a.bearer(ctx, token)
}

// DropToken revokes token on behalf of whoever holds it, as a console
// session does when it signs out: holding a token is what using it needs,
// so it is enough to end it. An unknown or revoked token is left alone.
func (a *Authenticator) DropToken(ctx context.Context, token string) error {
	return a.revoke(ctx, token, func(t *snapexport.AccessToken) bool { return t.RevokedAt == nil })
}
