package auth

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// fillChecks takes every turn of c and returns the function that gives one
// back.
func fillChecks(t *testing.T, c *secretChecks) func() {
	t.Helper()
	for range checkSlots() {
		if err := c.acquire(context.Background(), trustedLane); err != nil {
			t.Fatal(err)
		}
	}
	return c.release
}

// waitQueued waits until n checks wait in lane.
func waitQueued(c *secretChecks, lane, n int) {
	for c.queued(lane) != n {
		runtime.Gosched()
	}
}

func TestSecretChecksBounded(t *testing.T) {
	var c secretChecks
	release := fillChecks(t, &c)
	started := make(chan struct{})
	go func() {
		c.acquire(context.Background(), trustedLane)
		close(started)
	}()
	waitQueued(&c, trustedLane, 1)
	select {
	case <-started:
		t.Fatalf("a check started beyond the %d that may run at once", checkSlots())
	default:
	}
	release()
	<-started
}

func TestSecretChecksTrustedFirst(t *testing.T) {
	var c secretChecks
	release := fillChecks(t, &c)
	order := make(chan string, 4)
	wait := func(name string, lane int) {
		if err := c.acquire(context.Background(), lane); err != nil {
			t.Error(err)
		}
		order <- name
	}
	go wait("suspect 1", suspectLane)
	waitQueued(&c, suspectLane, 1)
	go wait("suspect 2", suspectLane)
	waitQueued(&c, suspectLane, 2)
	go wait("trusted 1", trustedLane)
	waitQueued(&c, trustedLane, 1)
	go wait("trusted 2", trustedLane)
	waitQueued(&c, trustedLane, 2)
	var got []string
	for range 4 {
		release()
		got = append(got, <-order)
	}
	if fmt.Sprint(got) != "[trusted 1 trusted 2 suspect 1 suspect 2]" {
		t.Errorf("checks started in the order %q; want the trusted ones first, each lane in order of arrival", got)
	}
}

func TestSecretChecksCanceledWhileWaiting(t *testing.T) {
	var c secretChecks
	release := fillChecks(t, &c)
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
	if err := c.acquire(context.Background(), trustedLane); err != nil {
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
