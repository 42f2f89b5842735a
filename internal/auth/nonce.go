package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"strings"
	"time"
)

// Digest nonces carry their own proof of origin, so that issuing one
// stores nothing and a flood of unauthenticated requests costs the
// database nothing. A nonce is 23 bytes written as 32 base-62 characters
// (the length and alphabet of Atlas's nonces): the issue time in Unix
// milliseconds (6 bytes), a random part that makes each nonce unique (5
// bytes), and the first 12 bytes of an HMAC-SHA256 of those 11 under a
// server secret every replica shares. A replica verifies a nonce any of
// them issued without asking the store; only a nonce that authenticated a
// request is recorded (NonceStore), so that it is accepted once.

// nonceKeyName is the server secret that authenticates digest nonces.
const nonceKeyName = "digest-nonce-key"

const (
	nonceTimeBytes   = 6
	nonceRandomBytes = 5
	nonceTagBytes    = 12
	nonceBytes       = nonceTimeBytes + nonceRandomBytes + nonceTagBytes
	nonceChars       = 32 // 62^32 > 2^(8·nonceBytes)
)

// nonceClockMargin is how long past its expiry a used nonce stays
// recorded: a replica whose clock lags the issuer's by less still refuses
// a replay of it.
const nonceClockMargin = time.Minute

// newNonce returns a nonce issued at now.
func (a *Authenticator) newNonce(ctx context.Context, now time.Time) (string, error) {
	key, err := a.serverKey(ctx, nonceKeyName)
	if err != nil {
		return "", err
	}
	return sealNonce(key, now), nil
}

// nonceIssuedAt returns the issue time of a nonce this server (or a
// replica sharing its store) issued; authentic is false for any other.
func (a *Authenticator) nonceIssuedAt(ctx context.Context, nonce string) (issuedAt time.Time, authentic bool, err error) {
	key, err := a.serverKey(ctx, nonceKeyName)
	if err != nil {
		return time.Time{}, false, err
	}
	issuedAt, authentic = openNonce(key, nonce)
	return issuedAt, authentic, nil
}

// sealNonce makes a nonce issued at now, authenticated by key.
func sealNonce(key []byte, now time.Time) string {
	var b [nonceBytes]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:nonceTimeBytes], ms[8-nonceTimeBytes:])
	rand.Read(b[nonceTimeBytes : nonceTimeBytes+nonceRandomBytes])
	copy(b[nonceTimeBytes+nonceRandomBytes:], nonceTag(key, b[:nonceTimeBytes+nonceRandomBytes]))
	text := new(big.Int).SetBytes(b[:]).Text(62)
	return strings.Repeat("0", nonceChars-len(text)) + text
}

// openNonce returns the issue time of a nonce sealed with key; authentic
// is false for any other string.
func openNonce(key []byte, nonce string) (issuedAt time.Time, authentic bool) {
	if len(nonce) != nonceChars || strings.Trim(nonce, alnum) != "" {
		return time.Time{}, false
	}
	n, ok := new(big.Int).SetString(nonce, 62)
	if !ok || n.BitLen() > 8*nonceBytes {
		return time.Time{}, false
	}
	var b [nonceBytes]byte
	n.FillBytes(b[:])
	signed, tag := b[:nonceTimeBytes+nonceRandomBytes], b[nonceTimeBytes+nonceRandomBytes:]
	if !hmac.Equal(tag, nonceTag(key, signed)) {
		return time.Time{}, false
	}
	var ms [8]byte
	copy(ms[8-nonceTimeBytes:], b[:nonceTimeBytes])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))), true
}

func nonceTag(key, signed []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(signed)
	return mac.Sum(nil)[:nonceTagBytes]
}
