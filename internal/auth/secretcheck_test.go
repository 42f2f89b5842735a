package auth

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// fillLane takes every turn of lane and returns the function that gives
// one back.
func fillLane(t *testing.T, c *secretChecks, lane int) func() {
	t.Helper()
	for range laneSlots(lane) {
		if err := c.acquire(context.Background(), lane); err != nil {
			t.Fatal(err)
		}
	}
	return func() { c.release(lane) }
}

// waitQueued waits until n checks wait in lane.
func waitQueued(c *secretChecks, lane, n int) {
	for c.queued(lane) != n {
		runtime.Gosched()
	}
}

// startsAtOnce reports whether a check of lane starts without waiting: a
// check whose context has ended gets a turn only if one is free.
func startsAtOnce(c *secretChecks, lane int) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return c.acquire(ctx, lane) == nil
}

func TestSecretChecksBounded(t *testing.T) {
	for _, lane := range []int{trustedLane, suspectLane} {
		var c secretChecks
		release := fillLane(t, &c, lane)
		order := make(chan int, 2)
		for i := range 2 {
			go func() {
				c.acquire(context.Background(), lane)
				order <- i
			}()
			waitQueued(&c, lane, i+1)
		}
		select {
		case <-order:
			t.Fatalf("lane %d: a check started beyond the %d that may run at once", lane, laneSlots(lane))
		default:
		}
		release()
		first := <-order
		release()
		if second := <-order; first != 0 || second != 1 {
			t.Errorf("lane %d: checks started in the order %d, %d; want the order of arrival", lane, first, second)
		}
	}
}

func TestSecretChecksSuspectsTakeOneSlotOfTheirOwn(t *testing.T) {
	if n := laneSlots(suspectLane); n != 1 {
		t.Fatalf("suspects have %d slots, want 1", n)
	}
	var c secretChecks
	fillLane(t, &c, suspectLane)
	go c.acquire(context.Background(), suspectLane)
	waitQueued(&c, suspectLane, 1)
	for i := range checkSlots() {
		if !startsAtOnce(&c, trustedLane) {
			t.Fatalf("trusted check %d waits while suspects' checks run and wait", i+1)
		}
	}
	// With the trusted slots taken, suspects still get no more than theirs.
	if startsAtOnce(&c, suspectLane) {
		t.Errorf("a second suspect's check started at once")
	}
}

func TestSecretChecksCanceledWhileWaiting(t *testing.T) {
	var c secretChecks
	release := fillLane(t, &c, suspectLane)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.acquire(ctx, suspectLane) }()
	waitQueued(&c, suspectLane, 1)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("acquire with its context canceled = %v, want context.Canceled", err)
	}
	if n := c.queued(suspectLane); n != 0 {
		t.Errorf("%d canceled checks still waiting", n)
	}
	// Its turn is not lost: the next check takes the one given back.
	release()
	if err := c.acquire(context.Background(), suspectLane); err != nil {
		t.Fatal(err)
	}
}

func TestSecretChecksSuspicion(t *testing.T) {
	var c secretChecks
	now := time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC)
	c.refused("192.0.2.1", now)
	if !c.suspect("192.0.2.1", now.Add(time.Second)) {
		t.Errorf("an address that just sent a wrong secret is not suspected")
	}
	if c.suspect("192.0.2.2", now.Add(time.Second)) {
		t.Errorf("another address is suspected")
	}
	if c.suspect("192.0.2.1", now.Add(suspicionPeriod)) {
		t.Errorf("an address is still suspected %v after its wrong secret", suspicionPeriod)
	}
	// A flood from ever new addresses leaves the memory bounded, keeping
	// the latest.
	for i := range 3 * maxSuspects {
		c.refused(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(c.refusedAt); n > maxSuspects {
		t.Errorf("%d addresses remembered, want at most %d", n, maxSuspects)
	}
	last := 3*maxSuspects - 1
	if !c.suspect(fmt.Sprintf("10.%d.%d.%d", last>>16, last>>8&0xff, last&0xff), now.Add(time.Duration(last)*time.Millisecond)) {
		t.Errorf("the latest address to send a wrong secret is forgotten")
	}
}
