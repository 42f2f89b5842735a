package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// use records nonce as used and wants err (nil, or ErrConflict for a
// nonce recorded before).
func (e *env) use(what, nonce string, keepUntil, now time.Time, want error) {
	e.t.Helper()
	err := e.store.Nonces().UseNonce(e.ctx, nonce, keepUntil, now)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		e.t.Errorf("UseNonce(%s) = %v, want %v", what, err, want)
	}
}

var nonceTests = []test{
	{"UseOnce", func(t *testing.T, e *env) {
		now := e.now()
		e.use("first use", "n1", now.Add(5*time.Minute), now, nil)
		e.use("second use", "n1", now.Add(5*time.Minute), now, snapexport.ErrConflict)
		// Recording one nonce leaves the others alone.
		e.use("another nonce", "n2", now.Add(5*time.Minute), now, nil)
	}},
	{"ForgottenOnceTheirTimePassed", func(t *testing.T, e *env) {
		// Records whose time passed do not pile up: they are swept as
		// others are recorded, while the ones still kept stay.
		now := e.now()
		e.use("a nonce kept a minute", "old", now.Add(time.Minute), now, nil)
		e.use("a nonce kept an hour", "kept", now.Add(time.Hour), now, nil)
		later := now.Add(2 * time.Minute)
		for i := range 200 {
			e.use("a fresh nonce", fmt.Sprintf("fresh-%d", i), later.Add(5*time.Minute), later, nil)
		}
		e.use("the nonce whose time passed, after 200 others", "old", later.Add(5*time.Minute), later, nil)
		e.use("the nonce still kept, after 200 others", "kept", later.Add(5*time.Minute), later, snapexport.ErrConflict)
	}},
	{"ConcurrentUsers", func(t *testing.T, e *env) {
		const nonces, users = 10, 12
		now := e.now()
		var mu sync.Mutex
		used := map[string]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for n := range nonces {
			for range users {
				wg.Go(func() {
					nonce := fmt.Sprintf("race-%d", n)
					<-start
					err := e.store.Nonces().UseNonce(e.ctx, nonce, now.Add(time.Minute), now)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						used[nonce]++
					case !errors.Is(err, snapexport.ErrConflict):
						t.Errorf("UseNonce(%s): %v; want nil once, ErrConflict otherwise", nonce, err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		for n := range nonces {
			nonce := fmt.Sprintf("race-%d", n)
			if used[nonce] != 1 {
				t.Errorf("%d concurrent users of %s: %d recorded it, want exactly 1", users, nonce, used[nonce])
			}
		}
	}},
	{"IndependentOfTransactions", func(t *testing.T, e *env) {
		// A failed Write does not take recorded nonces with it.
		now := e.now()
		e.use("before a failed Write", "kept", now.Add(time.Minute), now, nil)
		e.wantWriteErr(t, "Write", errRollback, func(tx snapexport.Tx) error { return errRollback })
		e.use("again after a failed Write", "kept", now.Add(time.Minute), now, snapexport.ErrConflict)
	}},
}
