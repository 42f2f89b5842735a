package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

type nonces struct {
	db   *sql.DB
	used *atomic.Int64
}

// sweepEvery is how many recorded nonces pass between sweeps of the ones
// whose time passed.
const sweepEvery = 64

func (n nonces) UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error {
	_, err := exec(ctx, n.db, `INSERT INTO digest_nonces (nonce, expires_at) VALUES (?, ?)`, nonce, keepUntil.UnixNano())
	if err != nil {
		return conflict(err)
	}
	if n.used.Add(1)%sweepEvery == 0 {
		_, err = exec(ctx, n.db, `DELETE FROM digest_nonces WHERE expires_at < ?`, now.UnixNano())
	}
	return err
}
