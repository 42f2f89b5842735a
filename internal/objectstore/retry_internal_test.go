package objectstore

import (
	"testing"
	"time"
)

func TestDelayIsJitteredAndCapped(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for retry := 0; retry < 8; retry++ {
		ceiling := min(p.BaseDelay<<retry, p.MaxDelay)
		seen := map[time.Duration]bool{}
		for i := 0; i < 200; i++ {
			d := p.delay(retry)
			if d < 0 || d > ceiling {
				t.Fatalf("retry %d: delay %s outside [0, %s]", retry, d, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("retry %d: only %d distinct delays: no jitter", retry, len(seen))
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://acct.blob.core.windows.net/c?sv=2020&sig=SECRET": "https://acct.blob.core.windows.net/c",
		"http://user:pass@127.0.0.1:9000":                         "http://127.0.0.1:9000",
		"not a url?sig=SECRET":                                    "not a url",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
