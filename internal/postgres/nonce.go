package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport"
)

// nonces runs each operation as one statement outside any transaction of
// Write: a nonce is consumed by a single DELETE … RETURNING, which exactly
// one of any number of concurrent consumers, on any replica, sees return
// the row.
type nonces struct{ db *DB }

// staleSweep is how long after its expiry a nonce that was never consumed is
// deleted, by whichever ConsumeNonce comes along.
const staleSweep = time.Hour

func (n nonces) IssueNonce(ctx context.Context, nonce string, expiresAt time.Time) error {
	_, err := n.db.pool.Exec(ctx, `INSERT INTO digest_nonces (nonce, expires_at) VALUES ($1, $2)`, nonce, expiresAt)
	if err != nil {
		return conflict(err)
	}
	// Unanswered challenges are swept as they are issued too, so that
	// unauthenticated traffic cannot grow the table without bound.
	if n.db.noncesIssued.Add(1)%nonceSweepEvery == 0 {
		_, err = n.db.pool.Exec(ctx, `DELETE FROM digest_nonces WHERE expires_at < $1`, expiresAt.Add(-staleSweep))
	}
	return err
}

// nonceSweepEvery is how many issued nonces pass between sweeps.
const nonceSweepEvery = 64

func (n nonces) ConsumeNonce(ctx context.Context, nonce string, now time.Time) (snapexport.NonceState, error) {
	// The same statement sweeps the nonces of clients that never came back.
	rows, err := n.db.pool.Query(ctx, `DELETE FROM digest_nonces WHERE nonce = $1 OR expires_at < $2 RETURNING nonce, expires_at`,
		nonce, now.Add(-staleSweep))
	if err != nil {
		return snapexport.NonceUnknown, err
	}
	state := snapexport.NonceUnknown
	var got string
	var expires time.Time
	_, err = pgx.ForEachRow(rows, []any{&got, &expires}, func() error {
		if got != nonce {
			return nil // swept
		}
		if now.After(expires) {
			state = snapexport.NonceStale
		} else {
			state = snapexport.NonceValid
		}
		return nil
	})
	if err != nil {
		return snapexport.NonceUnknown, err
	}
	return state, nil
}
