package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/snapexport/snapexport"
)

// Digest nonces carry their own proof of origin, so that issuing one
// stores nothing and a flood of unauthenticated requests costs the
// database nothing. A nonce is 23 bytes written as 32 base-62 characters
// (the length and alphabet of Atlas's nonces): the issue time in Unix
// milliseconds (6 bytes), a random part that makes each nonce unique (5
// bytes), and the first 12 bytes of an HMAC-SHA256 of those 11 under a
// server secret every replica shares. A replica verifies a nonce any of
// them issued without asking the store; only a nonce that authenticated a
// request is recorded (NonceStore), so that it is accepted once. A server
// that owns its store alone keeps its nonces to itself (OwnNonces).

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
	key, err := a.nonceKey(ctx)
	if err != nil {
		return "", err
	}
	return sealNonce(key, now), nil
}

// nonceIssuedAt returns the issue time of a nonce this server (or a
// replica sharing its store) issued; authentic is false for any other.
func (a *Authenticator) nonceIssuedAt(ctx context.Context, nonce string) (issuedAt time.Time, authentic bool, err error) {
	key, err := a.nonceKey(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	issuedAt, authentic = openNonce(key, nonce)
	return issuedAt, authentic, nil
}

// nonceKey is the key nonces are sealed with: the Authenticator's own
// with OwnNonces, else the one every server sharing the store reads.
func (a *Authenticator) nonceKey(ctx context.Context) ([]byte, error) {
	if a.OwnNonces {
		return a.own.sealKey(), nil
	}
	return a.serverKey(ctx, nonceKeyName)
}

// useNonce records that nonce, issued at issuedAt, authenticated a
// request; ErrConflict if one did before.
func (a *Authenticator) useNonce(ctx context.Context, nonce string, issuedAt, now time.Time) error {
	if a.OwnNonces {
		return a.own.use(nonce, a.nonceTTL()+nonceClockMargin, now)
	}
	return a.Store.Nonces().UseNonce(ctx, nonce, issuedAt.Add(a.nonceTTL()+nonceClockMargin), now)
}

// ownNonces are the nonces of an Authenticator with OwnNonces: sealed
// with a key made at its first nonce and kept nowhere else, so that no
// other process, nor a later run of this one, accepts them; the used ones
// are kept in memory, in two generations of a window at least as long as
// a nonce can be answered: a generation is dropped a window after it
// stopped taking nonces, when every nonce it holds has expired. Windows
// are measured on the monotonic clock; their margin covers a wall clock
// (which dates nonces) set back by less than it.
type ownNonces struct {
	keyOnce sync.Once
	key     []byte

	mu                sync.Mutex
	since             time.Time // when current began taking nonces
	current, previous map[[nonceChars]byte]struct{}
}

func (o *ownNonces) sealKey() []byte {
	o.keyOnce.Do(func() {
		o.key = make([]byte, 32)
		rand.Read(o.key)
	})
	return o.key
}

func (o *ownNonces) use(nonce string, window time.Duration, now time.Time) error {
	if len(nonce) != nonceChars {
		return snapexport.ErrConflict // openNonce accepts no other
	}
	id := [nonceChars]byte([]byte(nonce))
	o.mu.Lock()
	defer o.mu.Unlock()
	if age := now.Sub(o.since); o.current == nil || age >= window {
		o.previous = o.current
		if age >= 2*window {
			o.previous = nil // it took its last nonce over a window ago
		}
		o.current, o.since = map[[nonceChars]byte]struct{}{}, now
	}
	if _, used := o.previous[id]; used {
		return snapexport.ErrConflict
	}
	if _, used := o.current[id]; used {
		return snapexport.ErrConflict
	}
	o.current[id] = struct{}{}
	return nil
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
