package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Access tokens are JWTs, as Atlas's are, so that clients which read the
// token they hold (the Atlas CLI reads its subject and expiry, unverified,
// to reuse it across runs) find what they expect: header {"alg":"HS256",
// "typ":"JWT"}, claims sub (the client id), iat, exp and a unique jti.
// The signature proves the server issued the token; the store still
// decides whether it is valid, by the hash of the whole token, so that a
// token can be revoked and expires as recorded.

// signingKeyName is the server secret that signs access tokens.
const signingKeyName = "access-token-signing-key"

// signToken returns a signed access token for clientID, issued at
// issuedAt and valid until expiresAt, both in whole seconds.
func (a *Authenticator) signToken(ctx context.Context, clientID string, issuedAt, expiresAt time.Time) (string, error) {
	key, err := a.serverKey(ctx, signingKeyName)
	if err != nil {
		return "", err
	}
	claims := jwt.RegisteredClaims{Subject: clientID, IssuedAt: jwt.NewNumericDate(issuedAt),
		ExpiresAt: jwt.NewNumericDate(expiresAt), ID: NewTokenID()}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}

// isJWT tells a token shaped as a JWT from the opaque tokens issued before
// tokens were JWTs, which the store alone still accepts until they expire.
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

// verifyToken checks a JWT access token's signature and expiry and returns
// its subject; refused says why a token was refused, for the log.
func (a *Authenticator) verifyToken(ctx context.Context, token string) (subject, refused string, err error) {
	key, err := a.serverKey(ctx, signingKeyName)
	if err != nil {
		return "", "", err
	}
	// iat is not checked: a replica whose clock lags the issuer's by a
	// fraction of a second would see it in the future.
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now))
	var claims jwt.RegisteredClaims
	_, err = parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", "expired access token", nil
	case err != nil:
		return "", "access token not signed by this server or malformed", nil
	case claims.Subject == "":
		return "", "access token without a subject", nil
	}
	return claims.Subject, "", nil
}

// tokenTimes are the issue and expiry times of a token issued at now: iat
// in whole seconds, exp rounded up to one, so that the token lasts at
// least the TTL the answer's expires_in announces.
func tokenTimes(now time.Time, ttl time.Duration) (issuedAt, expiresAt time.Time) {
	issuedAt = now.Truncate(time.Second)
	expiresAt = now.Add(ttl)
	if t := expiresAt.Truncate(time.Second); !t.Equal(expiresAt) {
		expiresAt = t.Add(time.Second)
	}
	return issuedAt, expiresAt
}
