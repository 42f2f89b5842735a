package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

var small = Policy{Name: "small", Capacity: 10, Refill: 5, Period: time.Minute}

func TestDefaults(t *testing.T) {
	tests := []struct {
		got, want Policy
	}{
		{CloudBackups(), Policy{"Cloud Backups", 1200, 500, 60 * time.Second}},
		{CloudProviderAccess(), Policy{"Cloud Provider Access", 2000, 1000, 60 * time.Second}},
		{Clusters(), Policy{"Clusters", 10000, 5000, 60 * time.Second}},
		{Projects(), Policy{"Projects", 1200, 500, 60 * time.Second}},
		{FailedAuthentications(), Policy{"Failed Authentications", 100, 50, 60 * time.Second}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %+v, want %+v", tt.got, tt.want)
		}
		if err := tt.got.Validate(); err != nil {
			t.Errorf("%s: %v", tt.got.Name, err)
		}
	}
}

// TestExhaust takes Capacity tokens from a fresh bucket at a frozen clock,
// checking the countdown, then checks the refusal and its RetryAfter.
func TestExhaust(t *testing.T) {
	tests := []struct {
		policy     Policy
		retryAfter time.Duration
		header     int
	}{
		{CloudBackups(), 120 * time.Millisecond, 1},
		{CloudProviderAccess(), 60 * time.Millisecond, 1},
		{small, 12 * time.Second, 12},
		{Policy{"one", 1, 1, time.Hour}, time.Hour, 3600},
		{Policy{"odd", 3, 7, time.Second}, 142857143 * time.Nanosecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.policy.Name, func(t *testing.T) {
			ctx := context.Background()
			m := NewMemory()
			for i := range tt.policy.Capacity {
				d, err := m.Take(ctx, ProjectKey("p"), tt.policy, t0)
				if err != nil {
					t.Fatal(err)
				}
				want := Decision{Allowed: true, Limit: tt.policy.Capacity, Remaining: tt.policy.Capacity - 1 - i}
				if d != want {
					t.Fatalf("take %d: got %+v, want %+v", i, d, want)
				}
			}
			for range 3 {
				d, err := m.Take(ctx, ProjectKey("p"), tt.policy, t0)
				if err != nil {
					t.Fatal(err)
				}
				want := Decision{Allowed: false, Limit: tt.policy.Capacity, Remaining: 0, RetryAfter: tt.retryAfter}
				if d != want {
					t.Fatalf("refused take: got %+v, want %+v", d, want)
				}
				if got := d.RetryAfterSeconds(); got != tt.header {
					t.Errorf("RetryAfterSeconds = %d, want %d", got, tt.header)
				}
			}
			// Just before RetryAfter still refused, exactly at it allowed once.
			if d, _ := m.Take(ctx, ProjectKey("p"), tt.policy, t0.Add(tt.retryAfter-time.Nanosecond)); d.Allowed {
				t.Fatalf("allowed 1ns before RetryAfter: %+v", d)
			}
			at := t0.Add(tt.retryAfter)
			if d, _ := m.Take(ctx, ProjectKey("p"), tt.policy, at); !d.Allowed || d.Remaining != 0 {
				t.Fatalf("at RetryAfter: got %+v, want allowed with 0 remaining", d)
			}
			if d, _ := m.Take(ctx, ProjectKey("p"), tt.policy, at); d.Allowed {
				t.Fatalf("second take at RetryAfter allowed: %+v", d)
			}
		})
	}
}

func TestRefill(t *testing.T) {
	p := small // 10 tokens, 5 per minute: one token every 12s
	tests := []struct {
		name      string
		taken     int           // tokens taken at t0
		after     time.Duration // then one take at t0+after
		allowed   bool
		remaining int
	}{
		{"partial token not enough", 10, 11 * time.Second, false, 0},
		{"one token", 10, 12 * time.Second, true, 0},
		{"two and a half tokens", 10, 30 * time.Second, true, 1},
		{"back to full", 10, 2 * time.Minute, true, 9},
		{"capped at capacity", 10, 24 * time.Hour, true, 9},
		{"full bucket stays full", 0, time.Hour, true, 9},
		{"partially used", 4, 24 * time.Second, true, 7},
		{"partially used capped", 4, time.Minute, true, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			for range tt.taken {
				s, _ = Apply(s, p, t0)
			}
			s, d := Apply(s, p, t0.Add(tt.after))
			if d.Allowed != tt.allowed || d.Remaining != tt.remaining {
				t.Errorf("got %+v, want allowed %v remaining %d", d, tt.allowed, tt.remaining)
			}
			if s.Tokens > float64(p.Capacity) {
				t.Errorf("tokens %v above capacity", s.Tokens)
			}
		})
	}
}

func TestClockBackwards(t *testing.T) {
	p := small
	var s State
	for range p.Capacity {
		s, _ = Apply(s, p, t0)
	}
	tests := []struct {
		name       string
		at         time.Time
		allowed    bool
		retryAfter time.Duration
	}{
		// Refused; the wait counts from the caller's (earlier) now.
		{"an hour back", t0.Add(-time.Hour), false, time.Hour + 12*time.Second},
		{"a second back", t0.Add(-time.Second), false, 13 * time.Second},
		// Going back did not reset Updated, so no time is counted twice.
		{"11s after t0", t0.Add(11 * time.Second), false, time.Second},
		{"12s after t0", t0.Add(12 * time.Second), true, 0},
		{"back again", t0, false, 24 * time.Second},
	}
	for _, tt := range tests {
		var d Decision
		s, d = Apply(s, p, tt.at)
		if d.Allowed != tt.allowed || d.RetryAfter != tt.retryAfter {
			t.Errorf("%s: got %+v, want allowed %v retry after %v", tt.name, d, tt.allowed, tt.retryAfter)
		}
		if s.Updated.Before(t0) {
			t.Errorf("%s: Updated moved back to %v", tt.name, s.Updated)
		}
	}
}

// TestRetryAfterProperty checks over random traffic that a refused request
// repeated exactly RetryAfter later is allowed, and 1ns earlier is not.
func TestRetryAfterProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	policies := []Policy{CloudBackups(), CloudProviderAccess(), small, {"odd", 7, 3, 7 * time.Second}}
	for _, p := range policies {
		var s State
		now := t0
		for range 20000 {
			now = now.Add(time.Duration(r.Int64N(int64(p.Period) / int64(p.Refill) / 2)))
			var d Decision
			s, d = Apply(s, p, now)
			if s.Tokens > float64(p.Capacity) || s.Tokens < 0 {
				t.Fatalf("%s: tokens %v out of range", p.Name, s.Tokens)
			}
			if d.Allowed {
				continue
			}
			if _, early := Apply(s, p, now.Add(d.RetryAfter-1)); early.Allowed {
				t.Fatalf("%s: allowed before RetryAfter %v from %+v", p.Name, d.RetryAfter, s)
			}
			if _, on := Apply(s, p, now.Add(d.RetryAfter)); !on.Allowed {
				t.Fatalf("%s: refused at RetryAfter %v from %+v", p.Name, d.RetryAfter, s)
			}
		}
	}
}

// TestConcurrent hammers one key from many goroutines at a frozen clock:
// exactly Capacity takes may succeed.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	for _, p := range []Policy{CloudBackups(), CloudProviderAccess()} {
		m := NewMemory()
		m.sweepEvery = 1 // sweep constantly; must not drop the live bucket
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				for range 100 {
					d, err := m.Take(ctx, ProjectKey("p"), p, t0)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
					// Another key, to exercise sweeps concurrently.
					m.Take(ctx, ProjectKey(fmt.Sprint("other", g)), p, t0)
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != int64(p.Capacity) {
			t.Errorf("%s: %d takes allowed, want %d", p.Name, got, p.Capacity)
		}
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	p := small // a taken token refills in 12s; an emptied bucket in 2m
	m := NewMemory()
	m.sweepEvery = 100

	for i := range 50 {
		m.Take(ctx, ProjectKey(fmt.Sprint("idle", i)), p, t0)
	}
	for range p.Capacity {
		m.Take(ctx, ProjectKey("busy"), p, t0)
	}
	if got := m.Len(); got != 51 {
		t.Fatalf("Len = %d, want 51", got)
	}

	// 40 more calls at t0+12s reach 100 and sweep: the idle buckets are full
	// again and dropped, the emptied one is not.
	for range 40 {
		m.Take(ctx, ProjectKey("busy"), p, t0.Add(12*time.Second))
	}
	if got := m.Len(); got != 1 {
		t.Fatalf("after sweep Len = %d, want 1", got)
	}
	// Dropping the idle buckets is invisible: they come back full.
	if d, _ := m.Take(ctx, ProjectKey("idle0"), p, t0.Add(12*time.Second)); d.Remaining != p.Capacity-1 {
		t.Fatalf("idle0 after sweep: %+v", d)
	}
	// The busy bucket kept its state: one token refilled at 12s and taken.
	if d, _ := m.Take(ctx, ProjectKey("busy"), p, t0.Add(12*time.Second)); d.Allowed {
		t.Fatalf("busy bucket was reset by the sweep: %+v", d)
	}

	// An hour later everything is full: the next sweep (within 100 calls)
	// keeps only the bucket those calls exhaust.
	for range 100 {
		m.Take(ctx, ProjectKey("last"), p, t0.Add(time.Hour))
	}
	if got := m.Len(); got != 1 {
		t.Fatalf("after idle hour Len = %d, want 1", got)
	}
	if d, _ := m.Take(ctx, ProjectKey("last"), p, t0.Add(time.Hour)); d.Allowed {
		t.Fatalf("sweep dropped the exhausted bucket: %+v", d)
	}
}

// TestSweepBounded checks memory stays bounded by the keys active within a
// refill period under a stream of distinct keys.
func TestSweepBounded(t *testing.T) {
	ctx := context.Background()
	p := CloudBackups() // one token refills in 120ms
	m := NewMemory()
	now := t0
	maxLen := 0
	for i := range 100000 {
		now = now.Add(time.Millisecond) // ~120 keys active at any time
		m.Take(ctx, ProjectKey(fmt.Sprint(i)), p, now)
		maxLen = max(maxLen, m.Len())
	}
	if limit := 2*defaultSweepEvery + 120; maxLen > limit {
		t.Fatalf("map grew to %d buckets, want at most %d", maxLen, limit)
	}
}

func TestFullAt(t *testing.T) {
	p := small
	tests := []struct {
		s    State
		want time.Time
	}{
		{State{}, time.Time{}},
		{State{Tokens: 10, Updated: t0}, t0},
		{State{Tokens: 9, Updated: t0}, t0.Add(12 * time.Second)},
		{State{Tokens: 0, Updated: t0}, t0.Add(2 * time.Minute)},
		{State{Tokens: 9.5, Updated: t0}, t0.Add(6 * time.Second)},
	}
	for _, tt := range tests {
		if got := tt.s.FullAt(p); !got.Equal(tt.want) {
			t.Errorf("FullAt(%+v) = %v, want %v", tt.s, got, tt.want)
		}
		if tt.s.Updated.IsZero() {
			continue
		}
		// At FullAt the bucket is indistinguishable from a fresh one.
		_, got := Apply(tt.s, p, tt.s.FullAt(p))
		_, fresh := Apply(State{}, p, t0)
		if got != fresh {
			t.Errorf("at FullAt(%+v): %+v, fresh %+v", tt.s, got, fresh)
		}
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, p := range []Policy{
		{Name: "zero"},
		{"no capacity", 0, 1, time.Second},
		{"no refill", 1, 0, time.Second},
		{"no period", 1, 1, 0},
	} {
		if _, err := m.Take(ctx, ProjectKey("k"), p, t0); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: err = %v, want ErrInvalidPolicy", p.Name, err)
		}
		if _, d := Apply(State{}, p, t0); d.Allowed {
			t.Errorf("%s: Apply allowed", p.Name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Take(cancelled, ProjectKey("k"), small, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
	if m.Len() != 0 {
		t.Errorf("failed takes created buckets")
	}
}

func TestHTTPValues(t *testing.T) {
	tests := []struct {
		d       Decision
		seconds int
		headers map[string]string
	}{
		{Decision{Allowed: true, Limit: 1200, Remaining: 1199}, 0,
			map[string]string{"Ratelimit-Limit": "1200", "Ratelimit-Remaining": "1199", "Retry-After": ""}},
		{Decision{Limit: 1200, RetryAfter: 120 * time.Millisecond}, 1,
			map[string]string{"Ratelimit-Limit": "1200", "Ratelimit-Remaining": "0", "Retry-After": "1"}},
		{Decision{Limit: 10, RetryAfter: 1}, 1, map[string]string{"Retry-After": "1"}},
		{Decision{Limit: 10, RetryAfter: 12 * time.Second}, 12, map[string]string{"Retry-After": "12"}},
		{Decision{Limit: 10, RetryAfter: 54*time.Second + 1}, 55, map[string]string{"Retry-After": "55"}},
	}
	for _, tt := range tests {
		if got := tt.d.RetryAfterSeconds(); got != tt.seconds {
			t.Errorf("%+v: RetryAfterSeconds = %d, want %d", tt.d, got, tt.seconds)
		}
		h := http.Header{}
		tt.d.SetHeaders(h)
		for k, v := range tt.headers {
			if got := h.Get(k); got != v {
				t.Errorf("%+v: %s = %q, want %q", tt.d, k, got, v)
			}
		}
	}

	d := Decision{Limit: 10, RetryAfter: 54*time.Second + 300*time.Millisecond}
	want := "Rate limit exceeded for api/atlas/v2/groups/{id}/backup/exportBuckets. Please retry after 55 seconds. Request capacity: 10. Refill rate: 5 per 60 seconds."
	if got := small.ExceededDetail("api/atlas/v2/groups/{id}/backup/exportBuckets", d); got != want {
		t.Errorf("ExceededDetail:\n got %q\nwant %q", got, want)
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	ctx := context.Background()
	p := CloudBackups()
	for _, keys := range []int{1, 1000} {
		b.Run(fmt.Sprint("keys=", keys), func(b *testing.B) {
			m := NewMemory()
			names := make([]string, keys)
			for i := range names {
				names[i] = fmt.Sprint("project", i)
			}
			var seq atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1))
				for pb.Next() {
					i++
					// The clock advances so buckets keep refilling.
					now := t0.Add(time.Duration(i) * time.Microsecond)
					if _, err := m.Take(ctx, ProjectKey(names[i%keys]), p, now); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestPeek: Peek reports the bucket as Take finds it (a missing bucket is
// full, tokens refill with time) and never spends a token.
func TestPeek(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	peek := func(at time.Time) Decision {
		t.Helper()
		d, err := m.Peek(ctx, ProjectKey("k"), small, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := peek(t0); !d.Allowed || d.Limit != 10 || d.Remaining != 10 {
		t.Errorf("Peek of a new bucket = %+v, want 10 of 10", d)
	}
	for range 10 {
		if _, err := m.Take(ctx, ProjectKey("k"), small, t0); err != nil {
			t.Fatal(err)
		}
	}
	d := peek(t0)
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 12*time.Second {
		t.Errorf("Peek of an empty bucket = %+v, want refused with RetryAfter 12s", d)
	}
	if d := peek(t0.Add(24 * time.Second)); !d.Allowed || d.Remaining != 2 {
		t.Errorf("Peek 24s later = %+v, want 2 remaining", d)
	}
	// The peeks spent nothing: the refill gives exactly what it would.
	if d, _ := m.Take(ctx, ProjectKey("k"), small, t0.Add(12*time.Second)); !d.Allowed || d.Remaining != 0 {
		t.Errorf("Take after peeks = %+v, want allowed with 0 remaining", d)
	}
	if d := peek(t0.Add(time.Hour)); d.Remaining != 10 {
		t.Errorf("Peek once refilled = %+v, want 10 (never above capacity)", d)
	}
	h := http.Header{}
	peek(t0.Add(12 * time.Second)).SetQuotaHeaders(h)
	if h.Get("Ratelimit-Limit") != "10" || h.Get("Ratelimit-Remaining") != "0" || h.Get("Retry-After") != "" {
		t.Errorf("quota headers %v", h)
	}
}
