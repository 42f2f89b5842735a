package auth

import (
	"context"
	"crypto/rand"
	"runtime"
	"slices"
	"sync"
	"time"
)

// secretChecks runs the Argon2id checks of client secrets. Each takes its
// hash's memory (19 MiB by default) and a CPU for tens of milliseconds, so
// the checks that run at once are bounded: a flood of token requests waits
// rather than exhausting memory. Checks from addresses that sent a wrong
// secret lately (suspects) have one slot of their own, busy at most half
// the time, and never take the others' (checkSlots, half the CPUs): a
// flood of wrong secrets keeps at most half a CPU busy, and a client that
// sends right ones never waits behind a suspect's check. Each lane starts its checks in order of
// arrival.
type secretChecks struct {
	mu      sync.Mutex
	running [2]int
	// waiting holds each lane's waiting checks in order of arrival.
	waiting [2][]chan struct{}
	// refusedAt is when each address last sent a wrong secret.
	refusedAt map[string]time.Time

	unknownOnce sync.Once
	unknown     string
}

const (
	trustedLane = iota
	suspectLane
)

const (
	// suspicionPeriod is how long an address that sent a wrong secret
	// waits in the suspects' lane.
	suspicionPeriod = time.Minute
	// maxSuspects bounds the addresses remembered; beyond it the oldest is
	// forgotten.
	maxSuspects = 4096
)

// checkSlots is how many checks of the trusted lane run at once: half the
// CPUs the process uses, at least one.
func checkSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// laneSlots is how many checks of lane run at once.
func laneSlots(lane int) int {
	if lane == suspectLane {
		return 1
	}
	return checkSlots()
}

// verify checks secret against hash when its turn comes.
func (c *secretChecks) verify(ctx context.Context, secret, hash, address string, now time.Time) (bool, error) {
	lane := trustedLane
	if c.suspect(address, now) {
		lane = suspectLane
	}
	if err := c.acquire(ctx, lane); err != nil {
		return false, err
	}
	defer c.release(lane)
	start := time.Now()
	ok := VerifySecret(secret, hash)
	if lane == suspectLane {
		// The suspects' slot rests as long as it worked, so that their
		// checks take at most half a CPU, whatever else runs.
		rest := time.NewTimer(time.Since(start))
		defer rest.Stop()
		select {
		case <-rest.C:
		case <-ctx.Done():
		}
	}
	return ok, nil
}

// acquire waits for a check's turn in lane.
func (c *secretChecks) acquire(ctx context.Context, lane int) error {
	c.mu.Lock()
	if c.running[lane] < laneSlots(lane) {
		c.running[lane]++
		c.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	c.waiting[lane] = append(c.waiting[lane], turn)
	c.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.waiting[lane], turn); i >= 0 {
			c.waiting[lane] = slices.Delete(c.waiting[lane], i, i+1)
			return ctx.Err()
		}
		// The turn came as the context ended: pass it on.
		c.releaseLocked(lane)
		return ctx.Err()
	}
}

// release ends a check of lane, handing its turn to the lane's first
// waiting check.
func (c *secretChecks) release(lane int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.releaseLocked(lane)
}

func (c *secretChecks) releaseLocked(lane int) {
	if len(c.waiting[lane]) > 0 {
		turn := c.waiting[lane][0]
		c.waiting[lane] = slices.Delete(c.waiting[lane], 0, 1)
		close(turn)
		return
	}
	c.running[lane]--
}

// queued is how many checks wait in lane.
func (c *secretChecks) queued(lane int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting[lane])
}

// refused remembers that address sent a wrong secret at now.
func (c *secretChecks) refused(address string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refusedAt == nil {
		c.refusedAt = map[string]time.Time{}
	}
	if _, known := c.refusedAt[address]; !known && len(c.refusedAt) >= maxSuspects {
		c.forgetOldest(now)
	}
	c.refusedAt[address] = now
}

// forgetOldest forgets the addresses whose suspicion ended, or else the one
// suspected longest.
func (c *secretChecks) forgetOldest(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for addr, at := range c.refusedAt {
		if now.Sub(at) >= suspicionPeriod {
			delete(c.refusedAt, addr)
		} else if oldest == "" || at.Before(oldestAt) {
			oldest, oldestAt = addr, at
		}
	}
	if len(c.refusedAt) >= maxSuspects {
		delete(c.refusedAt, oldest)
	}
}

func (c *secretChecks) suspect(address string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.refusedAt[address]
	return ok && now.Sub(at) < suspicionPeriod
}

// unknownClientHash is the hash the secrets of unknown client ids are
// checked against: made with the parameters of new secrets, so that the
// check costs what a known id's does, and matched by no secret.
func (c *secretChecks) unknownClientHash(p HashParams) string {
	c.unknownOnce.Do(func() {
		salt, key := make([]byte, 16), make([]byte, 32)
		rand.Read(salt)
		rand.Read(key)
		c.unknown = phcHash(p, salt, key)
	})
	return c.unknown
}
