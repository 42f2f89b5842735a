package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/snapexport/snapexport"
)

// maxBatch bounds the writes that share one transaction.
const maxBatch = 128

// errClosed answers the writes submitted to, or pending in, a closed store.
var errClosed = errors.New("sqlite: database closed")

// writer runs every write of the store on one connection, in batches that
// form while the previous commit runs: the writes waiting when a batch
// begins share its transaction (BEGIN IMMEDIATE), each function within a
// savepoint of its own (one that fails or panics is rolled back alone), and
// one commit, one fsync, makes them durable. A write is acknowledged only
// once its batch committed. Functions run in their callers' goroutines, one
// at a time, while the writer waits; the job queue's own connection
// (River's) is the one other writer of the file, which SQLite's busy
// handler serializes with this one.
type writer struct {
	c *conn
	// store is the store whose shared reads a write interrupts.
	store    any
	requests chan *writeRequest
	// finished carries the outcome of the function whose turn it is.
	finished chan writeOutcome
	// commits counts the batches committed, for the tests of batching;
	// lazyCommits those of them that skipped the fsync.
	commits, lazyCommits atomic.Int64
	// lazy is whether the connection commits without an fsync (PRAGMA
	// synchronous=NORMAL) rather than with one (FULL, as opened).
	lazy bool

	mu      sync.RWMutex // closed, and sends on requests
	closed  bool
	closing chan struct{}
	stopped chan struct{}
}

// States of a writeRequest: a request whose context ends while it waits
// its turn is abandoned, by its caller or by the writer when the turn
// comes; otherwise the writer gives it its turn (running).
const (
	waiting int32 = iota
	running
	abandoned
)

type writeRequest struct {
	ctx context.Context
	// lazy marks a write that may be lost in a crash of the machine (not
	// of the process): a batch of such writes alone commits without
	// waiting for the disk.
	lazy  bool
	state atomic.Int32
	// turn hands the transaction's connection to the caller.
	turn chan *conn
	// result answers a caller without a turn (the store closed, the batch
	// failed to begin) or with a function run: the batch's commit.
	result chan error
}

type writeOutcome struct {
	ok bool // the function's writes are kept, released into the batch
	// broken is the error that rolled back the whole transaction: the
	// writes before are lost.
	broken error
}

func newWriter(c *conn, store any) *writer {
	w := &writer{c: c, store: store, requests: make(chan *writeRequest, maxBatch), finished: make(chan writeOutcome),
		closing: make(chan struct{}), stopped: make(chan struct{})}
	go w.loop()
	return w
}

// write runs fn in the transaction of the next batch and returns once that
// committed, with fn's error, fn's panic re-raised, or the commit's error.
// A caller whose ctx ends before fn's turn gets ctx.Err() and fn never
// runs; once fn ran, the caller waits for the commit whatever ctx says, so
// that no write is reported failed and then committed. fn must not write
// through the store itself (Write, UseNonce, SaveListing): the batch waits
// for fn, which would wait for a later batch.
func (w *writer) write(ctx context.Context, fn func(*tx) error) error {
	return w.submit(ctx, false, fn)
}

// writeLazily is write for a write that may be lost in a crash of the
// machine, though not of the process: when the batch holds no other kind,
// its commit does not wait for the disk (SQLite's WAL at synchronous
// NORMAL), and the next durable commit makes it durable too.
func (w *writer) writeLazily(ctx context.Context, fn func(*tx) error) error {
	return w.submit(ctx, true, fn)
}

func (w *writer) submit(ctx context.Context, lazy bool, fn func(*tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s := snapexport.SharedReadOf(ctx); s != nil {
		// The reads after the write see it.
		s.Interrupt(w.store)
	}
	r := &writeRequest{ctx: ctx, lazy: lazy, turn: make(chan *conn, 1), result: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.requests <- r:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	done := ctx.Done()
	for {
		select {
		case c := <-r.turn:
			return w.run(c, r, fn)
		case err := <-r.result:
			return err
		case <-done:
			if r.state.CompareAndSwap(waiting, abandoned) {
				return ctx.Err()
			}
			done = nil // its turn came: fn runs
		}
	}
}

// run runs fn within a savepoint of the batch's transaction on c, reports
// the outcome to the writer, and waits for the commit when fn succeeded.
func (w *writer) run(c *conn, r *writeRequest, fn func(*tx) error) (err error) {
	ctx := context.Background()
	if err := c.exec(ctx, "SAVEPOINT write"); err != nil {
		w.finished <- writeOutcome{broken: err}
		return err
	}
	released := false
	// Undoes fn's writes alone when it fails, panics or exits its goroutine.
	defer func() {
		if released {
			return
		}
		rerr := c.exec(ctx, "ROLLBACK TO write")
		if rerr == nil {
			rerr = c.exec(ctx, "RELEASE write")
		}
		w.finished <- writeOutcome{broken: rerr}
	}()
	if err := fn(&tx{tx: connQuerier{c: c, detached: true}}); err != nil {
		return err
	}
	if err := c.exec(ctx, "RELEASE write"); err != nil {
		return err
	}
	released = true
	w.finished <- writeOutcome{ok: true}
	return <-r.result
}

func (w *writer) loop() {
	defer close(w.stopped)
	var batch []*writeRequest
	for {
		if len(batch) == 0 {
			// Closing comes first: the requests pending then are answered.
			select {
			case <-w.closing:
				w.drain()
				return
			default:
			}
			select {
			case r := <-w.requests:
				batch = append(batch, r)
			case <-w.closing:
				w.drain()
				return
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-w.requests:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		batch = append(batch[:0], w.commit(batch)...)
	}
}

// commit runs batch in one transaction and answers each request, but those
// left after a function broke the transaction, which it returns.
func (w *writer) commit(batch []*writeRequest) (left []*writeRequest) {
	ctx := context.Background()
	// SQLite changes the safety level outside transactions only.
	lazy := !slices.ContainsFunc(batch, func(r *writeRequest) bool { return !r.lazy })
	var err error
	switch {
	case lazy && !w.lazy:
		// When the switch fails the batch commits durably all the same.
		w.lazy = w.c.exec(ctx, "PRAGMA synchronous=NORMAL") == nil
	case !lazy && w.lazy:
		if err = w.c.exec(ctx, "PRAGMA synchronous=FULL"); err == nil {
			w.lazy = false
		}
	}
	if err == nil {
		err = w.c.exec(ctx, "BEGIN IMMEDIATE")
	}
	if err != nil {
		for _, r := range batch {
			if r.state.CompareAndSwap(waiting, running) {
				r.result <- err
			}
		}
		return nil
	}
	var kept []*writeRequest
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil && r.state.CompareAndSwap(waiting, abandoned) {
			r.result <- err
			continue
		}
		if !r.state.CompareAndSwap(waiting, running) {
			continue
		}
		r.turn <- w.c
		o := <-w.finished
		if o.broken != nil {
			w.c.exec(ctx, "ROLLBACK") // an error tells it is done already
			for _, k := range kept {
				k.result <- fmt.Errorf("sqlite: a write of the same transaction rolled it back: %w", o.broken)
			}
			return batch[i+1:]
		}
		if o.ok {
			kept = append(kept, r)
		}
	}
	err = w.c.exec(ctx, "COMMIT")
	if err == nil {
		w.commits.Add(1)
		if w.lazy {
			w.lazyCommits.Add(1)
		}
	} else {
		// A failed COMMIT can leave the transaction open (SQLITE_BUSY, a
		// deferred constraint): nothing of it is kept.
		w.c.exec(ctx, "ROLLBACK")
	}
	for _, r := range kept {
		r.result <- err
	}
	return nil
}

// drain answers the requests pending at close.
func (w *writer) drain() {
	for {
		select {
		case r := <-w.requests:
			r.result <- errClosed
		default:
			return
		}
	}
}

// close answers the pending requests with errClosed and ends the loop,
// after the batch under way.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.closing)
	}
	w.mu.Unlock()
	<-w.stopped
}
