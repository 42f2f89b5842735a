package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/snapexport/snapexport"
)

type nonces struct{ db *sql.DB }

func (n nonces) IssueNonce(ctx context.Context, nonce string, expiresAt time.Time) error {
	_, err := n.db.ExecContext(ctx, `INSERT INTO digest_nonces (nonce, expires_at) VALUES (?, ?)`, nonce, expiresAt.UnixNano())
	return conflict(err)
}

func (n nonces) ConsumeNonce(ctx context.Context, nonce string, now time.Time) (snapexport.NonceState, error) {
	var expires int64
	err := n.db.QueryRowContext(ctx, `DELETE FROM digest_nonces WHERE nonce = ? RETURNING expires_at`, nonce).Scan(&expires)
	if errors.Is(err, sql.ErrNoRows) {
		return snapexport.NonceUnknown, nil
	}
	if err != nil {
		return snapexport.NonceUnknown, err
	}
	// Stale nonces of clients that never came back are swept as others are used.
	if _, err := n.db.ExecContext(ctx, `DELETE FROM digest_nonces WHERE expires_at < ?`, now.Add(-time.Hour).UnixNano()); err != nil {
		return snapexport.NonceUnknown, err
	}
	if now.UnixNano() > expires {
		return snapexport.NonceStale, nil
	}
	return snapexport.NonceValid, nil
}
