package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

func (s stateName) String() string {
	switch snapexport.NonceState(s) {
	case snapexport.NonceUnknown:
		return "NonceUnknown"
	case snapexport.NonceValid:
		return "NonceValid"
	case snapexport.NonceStale:
		return "NonceStale"
	}
	return fmt.Sprintf("NonceState(%d)", int(s))
}

type stateName snapexport.NonceState

func (e *env) issue(nonce string, expiresAt time.Time) {
	e.t.Helper()
	if err := e.store.Nonces().IssueNonce(e.ctx, nonce, expiresAt); err != nil {
		e.t.Fatalf("IssueNonce: %v", err)
	}
}

func (e *env) consume(what, nonce string, now time.Time, want snapexport.NonceState) {
	e.t.Helper()
	got, err := e.store.Nonces().ConsumeNonce(e.ctx, nonce, now)
	if err != nil {
		e.t.Fatalf("ConsumeNonce(%s): %v", what, err)
	}
	if got != want {
		e.t.Errorf("ConsumeNonce(%s) = %v, want %v", what, stateName(got), stateName(want))
	}
}

var nonceTests = []test{
	{"UnansweredSweptAsOthersAreIssued", func(t *testing.T, e *env) {
		// A nonce nobody answered, long expired, must not outlive a burst
		// of new challenges: unauthenticated traffic would otherwise grow
		// the table without bound.
		now := e.now()
		e.issue("abandoned", now.Add(-2*time.Hour))
		for i := range 200 {
			e.issue(fmt.Sprintf("fresh-%d", i), now.Add(5*time.Minute))
		}
		e.consume("abandoned nonce after 200 new ones", "abandoned", now, snapexport.NonceUnknown)
		e.consume("a fresh nonce", "fresh-199", now, snapexport.NonceValid)
	}},
	{"ConsumeOnce", func(t *testing.T, e *env) {
		now := e.now()
		e.issue("n1", now.Add(5*time.Minute))
		e.issue("n2", now.Add(5*time.Minute))
		e.consume("issued", "n1", now, snapexport.NonceValid)
		e.consume("already consumed", "n1", now, snapexport.NonceUnknown)
		// Consuming one nonce leaves the others alone.
		e.consume("other issued", "n2", now.Add(time.Minute), snapexport.NonceValid)
	}},
	{"Unknown", func(t *testing.T, e *env) {
		e.consume("never issued", "never-issued", e.now(), snapexport.NonceUnknown)
	}},
	{"Stale", func(t *testing.T, e *env) {
		now := e.now()
		e.issue("old", now.Add(-time.Minute))
		e.issue("later", now.Add(time.Minute))
		e.consume("expired", "old", now, snapexport.NonceStale)
		e.consume("expired, already consumed", "old", now, snapexport.NonceUnknown)
		e.consume("consumed after its expiry", "later", now.Add(2*time.Minute), snapexport.NonceStale)
	}},
	{"ConcurrentConsumers", func(t *testing.T, e *env) {
		const nonces, consumers = 10, 12
		now := e.now()
		for n := range nonces {
			e.issue(fmt.Sprintf("race-%d", n), now.Add(time.Minute))
		}
		var mu sync.Mutex
		valid := map[string]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for n := range nonces {
			for range consumers {
				wg.Go(func() {
					nonce := fmt.Sprintf("race-%d", n)
					<-start
					state, err := e.store.Nonces().ConsumeNonce(e.ctx, nonce, now)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Errorf("ConsumeNonce(%s): %v", nonce, err)
					case state == snapexport.NonceValid:
						valid[nonce]++
					case state != snapexport.NonceUnknown:
						t.Errorf("ConsumeNonce(%s) = %v, want NonceValid once, NonceUnknown otherwise", nonce, stateName(state))
					}
				})
			}
		}
		close(start)
		wg.Wait()
		for n := range nonces {
			nonce := fmt.Sprintf("race-%d", n)
			if valid[nonce] != 1 {
				t.Errorf("%d concurrent consumers of %s: %d got NonceValid, want exactly 1", consumers, nonce, valid[nonce])
			}
		}
	}},
	{"IndependentOfTransactions", func(t *testing.T, e *env) {
		// A failed Write does not take issued nonces with it.
		now := e.now()
		e.issue("kept", now.Add(time.Minute))
		e.wantWriteErr(t, "Write", errRollback, func(tx snapexport.Tx) error { return errRollback })
		e.consume("issued before a failed Write", "kept", now, snapexport.NonceValid)
	}},
}
