package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport/internal/ratelimit"
)

// Limiter returns the rate limiter whose buckets are rows of the database,
// so that every replica sharing the database draws on one budget per
// (policy name, scope, key).
//
// Each Take runs ratelimit.Apply in a short READ COMMITTED transaction on the
// bucket's row, locked with SELECT … FOR UPDATE (created by INSERT … ON
// CONFLICT DO NOTHING when missing): Takes of one bucket are serialized, so
// concurrent replicas never spend the same token twice, and Takes of
// different buckets do not wait for each other. Buckets that have refilled
// are deleted now and then (a missing bucket is a full one).
//
// Tolerance. Time is the now that each replica passes to Take, so the
// replicas' clocks must agree. The bucket's time only moves forward (Apply
// neither refills nor moves Updated back for a now before it), so a replica
// whose clock runs δ ahead of the others refills the shared bucket δ early:
// over any interval the buckets admit at most Refill·δ/Period requests more
// than one exact bucket would (with the default policies and δ = 100ms,
// under one request), and a replica whose clock lags sees no refill until
// its clock passes the last Take's, so it may refuse for up to δ longer.
// Keep the replicas' clocks synchronized (NTP) to well under a second.
// The buckets live in an unlogged table: a crash of the database server,
// or a failover to a standby, resets them to full.
func (db *DB) Limiter() ratelimit.Limiter { return db.limiter }

type limiter struct {
	db    *DB
	calls atomic.Uint64
}

// sweepEvery is the number of Takes, per DB, between two deletions of the
// buckets that are full again.
const sweepEvery = 1024

// Take implements ratelimit.Limiter.
func (l *limiter) Take(ctx context.Context, key ratelimit.Key, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
	if err := ctx.Err(); err != nil {
		return ratelimit.Decision{}, err
	}
	if err := p.Validate(); err != nil {
		return ratelimit.Decision{}, err
	}
	d, err := l.take(ctx, key, p, now)
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("postgres: rate limit %q: %w", p.Name, err)
	}
	if l.calls.Add(1)%sweepEvery == 0 {
		// Best effort: a bucket left behind is swept next time.
		l.db.conns(ctx).Exec(ctx, `DELETE FROM rate_limit_buckets WHERE full_at_ns <= $1`, now.UnixNano())
	}
	return d, nil
}

// Peek implements ratelimit.Limiter with one read of the bucket's row,
// which it neither locks nor changes.
func (l *limiter) Peek(ctx context.Context, key ratelimit.Key, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
	if err := p.Validate(); err != nil {
		return ratelimit.Decision{}, err
	}
	var state ratelimit.State
	var tokens float64
	var updated int64
	err := l.db.conns(ctx).QueryRow(ctx, `SELECT tokens, updated_ns FROM rate_limit_buckets WHERE policy = $1 AND scope = $2 AND key = $3`,
		p.Name, string(key.Scope), key.ID).Scan(&tokens, &updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // a full bucket
	case err != nil:
		return ratelimit.Decision{}, fmt.Errorf("postgres: rate limit %q: %w", p.Name, err)
	default:
		state = ratelimit.State{Tokens: tokens, Updated: time.Unix(0, updated)}
	}
	return ratelimit.Available(state, p, now), nil
}

func (l *limiter) take(ctx context.Context, key ratelimit.Key, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
	ptx, err := l.db.begin(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return ratelimit.Decision{}, err
	}
	defer rollback(ctx, ptx)
	// A bucket found missing but inserted by another Take before this one
	// could insert it is found, and locked, the second time round (unless
	// a sweep deleted it again in between).
	for range 3 {
		var tokens float64
		var updated int64
		err := ptx.QueryRow(ctx, `SELECT tokens, updated_ns FROM rate_limit_buckets WHERE policy = $1 AND scope = $2 AND key = $3 FOR UPDATE`,
			p.Name, string(key.Scope), key.ID).Scan(&tokens, &updated)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			s, d := ratelimit.Apply(ratelimit.State{}, p, now)
			tag, err := ptx.Exec(ctx, `INSERT INTO rate_limit_buckets (policy, scope, key, tokens, updated_ns, full_at_ns)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
				p.Name, string(key.Scope), key.ID, s.Tokens, s.Updated.UnixNano(), fullAtNs(s, p))
			if err != nil {
				return ratelimit.Decision{}, err
			}
			if tag.RowsAffected() == 0 {
				continue // inserted concurrently: lock that row
			}
			return d, ptx.Commit(ctx)
		case err != nil:
			return ratelimit.Decision{}, err
		}
		state := ratelimit.State{Tokens: tokens, Updated: time.Unix(0, updated)}
		s, d := ratelimit.Apply(state, p, now)
		if d.Allowed { // a refusal leaves the bucket as it was
			_, err := ptx.Exec(ctx, `UPDATE rate_limit_buckets SET tokens = $4, updated_ns = $5, full_at_ns = $6 WHERE policy = $1 AND scope = $2 AND key = $3`,
				p.Name, string(key.Scope), key.ID, s.Tokens, s.Updated.UnixNano(), fullAtNs(s, p))
			if err != nil {
				return ratelimit.Decision{}, err
			}
		}
		return d, ptx.Commit(ctx)
	}
	return ratelimit.Decision{}, errors.New("bucket created and deleted concurrently, repeatedly")
}

// fullAtNs is s.FullAt(p) in Unix nanoseconds, saturated for buckets that
// take centuries to refill.
func fullAtNs(s ratelimit.State, p ratelimit.Policy) int64 {
	t := s.FullAt(p)
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return t.UnixNano()
}
