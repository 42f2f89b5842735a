package postgres

import (
	"context"
	"time"
)

// nonces runs each operation as one statement outside any transaction of
// Write: a nonce is recorded by a single INSERT, which exactly one of any
// number of concurrent users, on any replica, sees succeed.
type nonces struct{ db *DB }

// nonceSweepEvery is how many recorded nonces pass between sweeps of the
// ones whose time passed.
const nonceSweepEvery = 64

func (n nonces) UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error {
	_, err := n.db.conns(ctx).Exec(ctx, `INSERT INTO digest_nonces (nonce, expires_at) VALUES ($1, $2)`, nonce, keepUntil)
	if err != nil {
		return conflict(err)
	}
	if n.db.noncesUsed.Add(1)%nonceSweepEvery == 0 {
		_, err = n.db.conns(ctx).Exec(ctx, `DELETE FROM digest_nonces WHERE expires_at < $1`, now)
	}
	return err
}
