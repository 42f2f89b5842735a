package ratelimit

import (
	"context"
	"sync"
	"time"
)

// defaultSweepEvery is the minimum number of Take calls between two sweeps.
const defaultSweepEvery = 1024

// Memory is a Limiter holding its buckets in process memory; it suits a
// single replica. Buckets that have refilled to full are dropped by a sweep
// run from Take (a missing bucket is a full one), so memory is bounded by
// the keys that are active within a refill period.
type Memory struct {
	mu      sync.Mutex
	buckets map[bucketKey]entry
	// calls counts Take calls since the last sweep; a sweep runs when it
	// reaches both sweepEvery and the number of buckets the last sweep
	// kept, which keeps its cost amortised O(1) per call however many keys
	// are active, and the map below twice that.
	calls      int
	kept       int
	sweepEvery int
}

type bucketKey struct {
	policy string
	key    Key
}

type entry struct {
	state  State
	fullAt time.Time
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty in-memory Limiter.
func NewMemory() *Memory {
	return &Memory{buckets: make(map[bucketKey]entry), sweepEvery: defaultSweepEvery}
}

// Take implements Limiter. It fails only when ctx is done or p is invalid.
func (m *Memory) Take(ctx context.Context, key Key, p Policy, now time.Time) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	if err := p.Validate(); err != nil {
		return Decision{}, err
	}
	k := bucketKey{p.Name, key}

	m.mu.Lock()
	defer m.mu.Unlock()
	s, d := Apply(m.buckets[k].state, p, now)
	m.buckets[k] = entry{state: s, fullAt: s.FullAt(p)}
	m.calls++
	if m.calls >= m.sweepEvery && m.calls >= m.kept {
		m.sweep(now)
	}
	return d, nil
}

// Peek implements Limiter. It fails only when ctx is done or p is invalid.
func (m *Memory) Peek(ctx context.Context, key Key, p Policy, now time.Time) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	if err := p.Validate(); err != nil {
		return Decision{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return Available(m.buckets[bucketKey{p.Name, key}].state, p, now), nil
}

// sweep drops the buckets that are full at now. m.mu must be held.
func (m *Memory) sweep(now time.Time) {
	m.calls = 0
	for k, e := range m.buckets {
		if !e.fullAt.After(now) {
			delete(m.buckets, k)
		}
	}
	m.kept = len(m.buckets)
}

// Len is the number of buckets held, for metrics and tests.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
