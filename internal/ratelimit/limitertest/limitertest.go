// Package limitertest is the conformance suite of ratelimit.Limiter that
// every implementation runs: the in-memory one and the PostgreSQL one.
package limitertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/ratelimit"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// small refills one token every 12 seconds.
var small = ratelimit.Policy{Name: "small", Capacity: 10, Refill: 5, Period: time.Minute}

// Run runs the suite against the limiters newLimiter returns, each with no
// buckets yet.
func Run(t *testing.T, newLimiter func(t *testing.T) ratelimit.Limiter) {
	t.Run("BucketsPerPolicyScopeAndID", func(t *testing.T) { testBuckets(t, newLimiter(t)) })
	t.Run("Refill", func(t *testing.T) { testRefill(t, newLimiter(t)) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, newLimiter(t)) })
}

// decider is Limiter.Take or Limiter.Peek.
type decider func(context.Context, ratelimit.Key, ratelimit.Policy, time.Time) (ratelimit.Decision, error)

// must wraps decide so that an error fails the test.
func must(t *testing.T, decide decider) func(ratelimit.Key, ratelimit.Policy, time.Time) ratelimit.Decision {
	return func(key ratelimit.Key, p ratelimit.Policy, at time.Time) ratelimit.Decision {
		t.Helper()
		d, err := decide(context.Background(), key, p, at)
		if err != nil {
			t.Fatalf("%+v, %s: %v", key, p.Name, err)
		}
		return d
	}
}

// testBuckets empties one bucket and checks that every other policy, scope
// or id has a bucket of its own, full.
func testBuckets(t *testing.T, l ratelimit.Limiter) {
	take, peek := must(t, l.Take), must(t, l.Peek)
	emptied := ratelimit.ProjectKey("a0123456789abcdef012345a")
	for i := range small.Capacity {
		if d := take(emptied, small, t0); !d.Allowed || d.Remaining != small.Capacity-1-i {
			t.Fatalf("take %d: %+v, want allowed with %d remaining", i, d, small.Capacity-1-i)
		}
	}
	if d := take(emptied, small, t0); d.Allowed || d.Remaining != 0 || d.RetryAfter != 12*time.Second {
		t.Fatalf("take past the capacity: %+v, want refused for 12s", d)
	}
	if d := peek(emptied, small, t0); d.Allowed || d.Remaining != 0 {
		t.Errorf("Peek of the emptied bucket: %+v, want refused with 0 remaining", d)
	}
	others := []struct {
		name   string
		key    ratelimit.Key
		policy ratelimit.Policy
	}{
		{"another project", ratelimit.ProjectKey("b0123456789abcdef012345b"), small},
		{"the same id as an organization", ratelimit.OrganizationKey(emptied.ID), small},
		{"the same id as a client address", ratelimit.AddressKey(emptied.ID), small},
		{"another client address", ratelimit.AddressKey("2001:db8:1:2::/64"), small},
		{"another policy", emptied, ratelimit.Policy{Name: "other", Capacity: 10, Refill: 5, Period: time.Minute}},
	}
	for _, o := range others {
		if d := peek(o.key, o.policy, t0); !d.Allowed || d.Remaining != 10 {
			t.Errorf("%s: Peek = %+v, want a full bucket", o.name, d)
		}
		if d := take(o.key, o.policy, t0); !d.Allowed || d.Remaining != 9 {
			t.Errorf("%s: Take = %+v, want a fresh bucket", o.name, d)
		}
	}
	// Taking from the others left the emptied bucket empty.
	if d := take(emptied, small, t0); d.Allowed {
		t.Errorf("emptied bucket after the others: %+v, want refused", d)
	}
}

// testRefill checks that an emptied bucket gains one token per
// Period/Refill, never more than its capacity, and that Peek spends none.
func testRefill(t *testing.T, l ratelimit.Limiter) {
	take, peek := must(t, l.Take), must(t, l.Peek)
	key := ratelimit.OrganizationKey("c0123456789abcdef012345c")
	for range small.Capacity {
		take(key, small, t0)
	}
	if d := take(key, small, t0.Add(12*time.Second-time.Nanosecond)); d.Allowed {
		t.Errorf("1ns before a token refills: %+v, want refused", d)
	}
	if d := peek(key, small, t0.Add(24*time.Second)); !d.Allowed || d.Remaining != 2 {
		t.Errorf("Peek 24s later: %+v, want 2 remaining", d)
	}
	if d := take(key, small, t0.Add(12*time.Second)); !d.Allowed || d.Remaining != 0 {
		t.Errorf("once a token refilled: %+v, want allowed with 0 remaining", d)
	}
	if d := peek(key, small, t0.Add(time.Hour)); d.Remaining != small.Capacity {
		t.Errorf("Peek once refilled: %+v, want %d (never above the capacity)", d, small.Capacity)
	}
}

func testErrors(t *testing.T, l ratelimit.Limiter) {
	ctx := context.Background()
	key := ratelimit.ProjectKey("d0123456789abcdef012345d")
	invalid := ratelimit.Policy{Name: "no refill", Capacity: 1, Period: time.Second}
	if _, err := l.Take(ctx, key, invalid, t0); !errors.Is(err, ratelimit.ErrInvalidPolicy) {
		t.Errorf("Take(invalid policy) = %v, want ErrInvalidPolicy", err)
	}
	if _, err := l.Peek(ctx, key, invalid, t0); !errors.Is(err, ratelimit.ErrInvalidPolicy) {
		t.Errorf("Peek(invalid policy) = %v, want ErrInvalidPolicy", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Take(cancelled, key, small, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Take(cancelled) = %v, want context.Canceled", err)
	}
	if _, err := l.Peek(cancelled, key, small, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Peek(cancelled) = %v, want context.Canceled", err)
	}
	// The failed takes spent nothing.
	if d := must(t, l.Take)(key, small, t0); !d.Allowed || d.Remaining != small.Capacity-1 {
		t.Errorf("Take after failures: %+v, want a fresh bucket", d)
	}
}
