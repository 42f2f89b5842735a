package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"

	"github.com/snapexport/snapexport"
)

type nonces struct {
	db     *sql.DB
	issued *atomic.Int64
}

// sweepEvery is how many issued nonces pass between sweeps of the ones
// nobody answered: unauthenticated requests each issue one, so the table
// is bounded by sweeping as they are issued, not only as they are consumed.
const sweepEvery = 64

func (n nonces) IssueNonce(ctx context.Context, nonce string, expiresAt time.Time) error {
	_, err := exec(ctx, n.db, `INSERT INTO digest_nonces (nonce, expires_at) VALUES (?, ?)`, nonce, expiresAt.UnixNano())
	if err != nil {
		return conflict(err)
	}
	if n.issued.Add(1)%sweepEvery == 0 {
		// expiresAt is now plus the nonce lifetime (minutes): an hour
		// more is well past every nonce still worth answering.
		_, err = exec(ctx, n.db, `DELETE FROM digest_nonces WHERE expires_at < ?`, expiresAt.Add(-time.Hour).UnixNano())
	}
	return err
}

func (n nonces) ConsumeNonce(ctx context.Context, nonce string, now time.Time) (snapexport.NonceState, error) {
	var expires int64
	err := queryRow(ctx, n.db, `DELETE FROM digest_nonces WHERE nonce = ? RETURNING expires_at`, nonce).Scan(&expires)
	if errors.Is(err, sql.ErrNoRows) {
		return snapexport.NonceUnknown, nil
	}
	if err != nil {
		return snapexport.NonceUnknown, err
	}
	// Stale nonces of clients that never came back are swept as others are used.
	if _, err := exec(ctx, n.db, `DELETE FROM digest_nonces WHERE expires_at < ?`, now.Add(-time.Hour).UnixNano()); err != nil {
		return snapexport.NonceUnknown, err
	}
	if now.UnixNano() > expires {
		return snapexport.NonceStale, nil
	}
	return snapexport.NonceValid, nil
}
