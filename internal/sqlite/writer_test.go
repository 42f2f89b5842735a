package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// heldWriter holds the writer of db in the function of a write until
// release is called, so that the writes submitted meanwhile wait for one
// batch; done answers the holding write.
func heldWriter(t *testing.T, db *DB) (release func(), done <-chan error) {
	t.Helper()
	started, hold, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		result <- db.Write(context.Background(), func(snapexport.Tx) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	return sync.OnceFunc(func() { close(hold) }), result
}

// openTemp opens a database in a directory of the test's, closed at its end.
func openTemp(t *testing.T) *DB {
	t.Helper()
	db := open(t, filepath.Join(t.TempDir(), "snapexport.db"))
	t.Cleanup(func() { db.Close() })
	return db
}

// queueWrites submits n writes, the i-th running fn with i, and returns
// their results once all wait for the writer, which the caller holds.
func queueWrites(t *testing.T, db *DB, n int, fn func(i int, tx snapexport.Tx) error) []chan error {
	t.Helper()
	results := make([]chan error, n)
	for i := range results {
		results[i] = make(chan error, 1)
		go func() {
			results[i] <- db.Write(context.Background(), func(tx snapexport.Tx) error { return fn(i, tx) })
		}()
	}
	waitQueued(t, db, n)
	return results
}

// waitQueued waits until n writes wait for the writer of db.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(db.writer.requests) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", len(db.writer.requests), n)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func organization(i int) *snapexport.Organization {
	return &snapexport.Organization{ID: fmt.Sprintf("6500000000000000000%05d", i), Name: fmt.Sprintf("org %d", i), CreatedAt: time.Now()}
}

func createOrganization(ctx context.Context, db *DB, o *snapexport.Organization) error {
	return db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateOrganization(ctx, o) })
}

// organizationsIn reports which of ids db holds an organization of.
func organizationsIn(t *testing.T, db *DB, ids ...string) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	ctx := context.Background()
	err := db.Read(ctx, func(tx snapexport.Tx) error {
		for _, id := range ids {
			_, err := tx.Organization(ctx, id)
			if err != nil && !errors.Is(err, snapexport.ErrNotFound) {
				return err
			}
			found[id] = err == nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// wantStored checks that db holds, or not, an organization of each of ids.
func wantStored(t *testing.T, db *DB, stored bool, ids ...string) {
	t.Helper()
	for id, ok := range organizationsIn(t, db, ids...) {
		if ok != stored {
			t.Errorf("organization %s stored = %v, want %v", id, ok, stored)
		}
	}
}

func TestConcurrentWritesAcknowledgedAndVisible(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	const writers, each = 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				o := organization(w*each + i)
				if err := createOrganization(ctx, db, o); err != nil {
					errs <- err
					continue
				}
				// Read your writes: an acknowledged write is visible.
				if !organizationsIn(t, db, o.ID)[o.ID] {
					errs <- fmt.Errorf("organization %s acknowledged but not read back", o.ID)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var ids []string
	for i := range writers * each {
		ids = append(ids, organization(i).ID)
	}
	wantStored(t, db, true, ids...)
}

func TestFailingWriteLeavesItsBatch(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	release, held := heldWriter(t, db)
	failure := errors.New("refused")
	results := queueWrites(t, db, 5, func(i int, tx snapexport.Tx) error {
		if err := tx.CreateOrganization(ctx, organization(i)); err != nil {
			return err
		}
		if i == 2 {
			return failure
		}
		return nil
	})
	before := db.writer.commits.Load()
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		err := <-r
		if i == 2 && !errors.Is(err, failure) {
			t.Errorf("failing write = %v, want its own error", err)
		}
		if i != 2 && err != nil {
			t.Errorf("write %d beside a failing one = %v", i, err)
		}
	}
	if c := db.writer.commits.Load() - before; c != 2 {
		t.Errorf("%d commits for the held write and the 5 queued, want 2", c)
	}
	for i := range results {
		if got := organizationsIn(t, db, organization(i).ID)[organization(i).ID]; got != (i != 2) {
			t.Errorf("organization %d stored = %v, want %v", i, got, i != 2)
		}
	}
}

func TestPanickingWriteLeavesItsBatch(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	release, held := heldWriter(t, db)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		db.Write(ctx, func(tx snapexport.Tx) error {
			if err := tx.CreateOrganization(ctx, organization(1)); err != nil {
				return err
			}
			panic("write panics")
		})
	}()
	other := make(chan error, 1)
	go func() { other <- createOrganization(ctx, db, organization(2)) }()
	waitQueued(t, db, 2)
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if p := <-panicked; p != "write panics" {
		t.Errorf("Write's caller recovered %v, want the function's panic", p)
	}
	if err := <-other; err != nil {
		t.Errorf("write beside a panicking one = %v", err)
	}
	got := organizationsIn(t, db, organization(1).ID, organization(2).ID)
	if got[organization(1).ID] || !got[organization(2).ID] {
		t.Errorf("stored %v: want the panicking write's organization absent, the other's present", got)
	}
	// The writer goes on.
	if err := createOrganization(ctx, db, organization(3)); err != nil {
		t.Errorf("write after a panic: %v", err)
	}
}

func TestWriteCancelledBeforeItsTurn(t *testing.T) {
	db := openTemp(t)
	release, held := heldWriter(t, db)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	result := make(chan error, 1)
	go func() {
		result <- db.Write(ctx, func(tx snapexport.Tx) error {
			ran <- struct{}{}
			return tx.CreateOrganization(ctx, organization(1))
		})
	}()
	waitQueued(t, db, 1)
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("Write cancelled before its turn = %v, want context.Canceled", err)
	}
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	// The next write commits after any batch the cancelled one was in.
	if err := createOrganization(context.Background(), db, organization(2)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("the function of a write cancelled before its turn ran")
	default:
	}
	if organizationsIn(t, db, organization(1).ID)[organization(1).ID] {
		t.Error("the write cancelled before its turn was stored")
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := createOrganization(done, db, organization(3)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with an ended context = %v, want context.Canceled", err)
	}
}

// A caller whose context ends once its function ran waits for the commit:
// its write is reported as it ends.
func TestWriteCancelledAfterItsTurnReportsTheCommit(t *testing.T) {
	db := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := db.Write(ctx, func(tx snapexport.Tx) error {
		if err := tx.CreateOrganization(ctx, organization(1)); err != nil {
			return err
		}
		cancel()
		// Statements after the cancellation still run: they share the
		// batch's transaction.
		return tx.CreateOrganization(ctx, organization(2))
	})
	if err != nil {
		t.Fatalf("Write whose context ended during its function = %v, want its commit's nil", err)
	}
	wantStored(t, db, true, organization(1).ID, organization(2).ID)
}

func TestCommitFailureFailsTheBatch(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	release, held := heldWriter(t, db)
	results := queueWrites(t, db, 4, func(i int, t snapexport.Tx) error {
		if i == 0 {
			// A project of no organization: the deferred foreign key
			// fails the COMMIT, not the statement.
			if _, err := exec(ctx, t.(*tx).tx, `PRAGMA defer_foreign_keys = ON`); err != nil {
				return err
			}
			return t.CreateProject(ctx, &snapexport.Project{ID: "6500000000000000000000b9", OrgID: "none", Name: "orphan", CreatedAt: time.Now()})
		}
		return t.CreateOrganization(ctx, organization(i))
	})
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, r := range results {
		if err := <-r; !strings.Contains(fmt.Sprint(err), "FOREIGN KEY") {
			t.Errorf("write %d of a batch whose commit failed = %v, want the commit's error", i, err)
		}
		ids = append(ids, organization(i).ID)
	}
	wantStored(t, db, false, ids...)
	if err := createOrganization(ctx, db, organization(9)); err != nil {
		t.Errorf("write after a failed commit: %v", err)
	}
}

func TestCloseAnswersPendingWrites(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "snapexport.db"))
	ctx := context.Background()
	release, held := heldWriter(t, db)
	results := queueWrites(t, db, 3, func(i int, tx snapexport.Tx) error { return tx.CreateOrganization(ctx, organization(i)) })
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	// Close waits for the batch under way.
	for !db.writer.isClosed() {
		runtime.Gosched()
	}
	release()
	if err := <-held; err != nil {
		t.Errorf("the write under way at Close = %v, want its commit", err)
	}
	for i, r := range results {
		if err := <-r; !errors.Is(err, errClosed) {
			t.Errorf("write %d pending at Close = %v, want %v", i, err, errClosed)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := createOrganization(ctx, db, organization(5)); !errors.Is(err, errClosed) {
		t.Errorf("Write after Close = %v, want %v", err, errClosed)
	}
	select {
	case <-db.writer.stopped:
	default:
		t.Error("the writer goes on after Close")
	}
}

func TestNoncesAndListingsShareBatches(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	release, held := heldWriter(t, db)
	nonces := make(chan error, 2)
	for range 2 {
		go func() { nonces <- db.Nonces().UseNonce(ctx, "once", now.Add(time.Hour), now) }()
	}
	listing := &snapexport.Listing{Key: "pass", Mark: snapexport.ListMark{Removals: "3", Buckets: 4}, ExpiresAt: now.Add(time.Hour)}
	saved := make(chan error, 1)
	go func() { saved <- db.Listings().SaveListing(ctx, listing, now) }()
	org := make(chan error, 1)
	go func() { org <- createOrganization(ctx, db, organization(1)) }()
	waitQueued(t, db, 4)
	before := db.writer.commits.Load()
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	first, second := <-nonces, <-nonces
	if (first == nil) == (second == nil) || !errors.Is(errors.Join(first, second), snapexport.ErrConflict) {
		t.Errorf("UseNonce twice in one batch = %v, %v; want nil once and ErrConflict once", first, second)
	}
	if err := <-saved; err != nil {
		t.Errorf("SaveListing: %v", err)
	}
	if err := <-org; err != nil {
		t.Errorf("Write beside nonces and a listing: %v", err)
	}
	if c := db.writer.commits.Load() - before; c != 2 {
		t.Errorf("%d commits for the held write, the nonces, the listing and the write, want 2", c)
	}
	got, err := db.Listings().Listing(ctx, "pass", now)
	if err != nil || got.Mark != listing.Mark {
		t.Errorf("Listing(pass) = %+v, %v; want the saved mark %+v", got, err, listing.Mark)
	}
	if err := db.Nonces().UseNonce(ctx, "once", now.Add(time.Hour), now); !errors.Is(err, snapexport.ErrConflict) {
		t.Errorf("UseNonce of a used nonce = %v, want ErrConflict", err)
	}
}

func (w *writer) isClosed() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.closed
}

// synchronousOfWriter is the writer connection's PRAGMA synchronous as a
// write of a batch sees it: 1 NORMAL, 2 FULL.
func synchronousOfWriter(t *testing.T, db *DB, lazy bool) int {
	t.Helper()
	ctx := context.Background()
	var level int
	submit := db.writer.write
	if lazy {
		submit = db.writer.writeLazily
	}
	err := submit(ctx, func(t *tx) error {
		return queryRow(ctx, t.tx, "PRAGMA synchronous").Scan(&level)
	})
	if err != nil {
		t.Fatal(err)
	}
	return level
}

// TestNoncesAloneCommitLazily checks that a batch of used nonces alone,
// or of listings alone, commits without an fsync (synchronous NORMAL) and
// that any batch with another write commits with one (FULL), nonces
// included.
func TestNoncesAloneCommitLazily(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	if got := synchronousOfWriter(t, db, false); got != 2 {
		t.Fatalf("a durable write commits at synchronous %d, want 2 (FULL)", got)
	}
	before := db.writer.lazyCommits.Load()
	if err := db.Nonces().UseNonce(ctx, "alone", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if got := db.writer.lazyCommits.Load() - before; got != 1 {
		t.Errorf("a nonce alone: %d commits without an fsync, want 1", got)
	}
	before = db.writer.lazyCommits.Load()
	if err := db.Listings().SaveListing(ctx, &snapexport.Listing{Key: "alone", ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if got := db.writer.lazyCommits.Load() - before; got != 1 {
		t.Errorf("a listing alone: %d commits without an fsync, want 1", got)
	}
	if got := synchronousOfWriter(t, db, true); got != 1 {
		t.Errorf("a lazy write alone commits at synchronous %d, want 1 (NORMAL)", got)
	}
	if got := synchronousOfWriter(t, db, false); got != 2 {
		t.Errorf("a durable write after lazy ones commits at synchronous %d, want 2 (FULL)", got)
	}

	// A nonce in the batch of another write commits durably with it.
	release, held := heldWriter(t, db)
	nonce := make(chan error, 1)
	go func() { nonce <- db.Nonces().UseNonce(ctx, "beside", now.Add(time.Hour), now) }()
	org := make(chan error, 1)
	go func() { org <- createOrganization(ctx, db, organization(1)) }()
	waitQueued(t, db, 2)
	before = db.writer.lazyCommits.Load()
	release()
	for _, err := range []error{<-held, <-nonce, <-org} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := db.writer.lazyCommits.Load() - before; got != 0 {
		t.Errorf("a nonce beside a durable write: %d commits without an fsync, want 0", got)
	}
	if err := db.Nonces().UseNonce(ctx, "beside", now.Add(time.Hour), now); !errors.Is(err, snapexport.ErrConflict) {
		t.Errorf("UseNonce of the nonce used beside a write = %v, want ErrConflict", err)
	}
}
