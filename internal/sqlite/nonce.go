package sqlite

import (
	"context"
	"sync/atomic"
	"time"
)

// nonces records used nonces through the store's writer: a nonce shares
// the commit of the writes around it, and a batch of nonces alone commits
// without waiting for the disk (writer.writeLazily). A crash of the
// process loses none; a crash of the machine may lose those of the last
// moments before it, whose digest responses could then be answered again
// until their nonces expire (docs/compatibility.md). A server over a data
// directory keeps its nonces in memory instead (auth.Authenticator's
// OwnNonces): this is the store's for an Authenticator without them.
type nonces struct {
	w    *writer
	used *atomic.Int64
}

// sweepEvery is how many recorded nonces pass between sweeps of the ones
// whose time passed.
const sweepEvery = 64

func (n nonces) UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error {
	return n.w.writeLazily(ctx, func(t *tx) error { return useNonce(ctx, t.tx, n.used, nonce, keepUntil, now) })
}

// useNonce records nonce through q, sweeping when used says it is time.
func useNonce(ctx context.Context, q querier, used *atomic.Int64, nonce string, keepUntil, now time.Time) error {
	_, err := exec(ctx, q, `INSERT INTO digest_nonces (nonce, expires_at) VALUES (?, ?)`, nonce, keepUntil.UnixNano())
	if err != nil {
		return conflict(err)
	}
	if used.Add(1)%sweepEvery == 0 {
		_, err = exec(ctx, q, `DELETE FROM digest_nonces WHERE expires_at < ?`, now.UnixNano())
	}
	return err
}
