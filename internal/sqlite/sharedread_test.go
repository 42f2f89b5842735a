package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// TestSharedRead checks the reads of one context under a SharedRead: they
// see the snapshot of the first (a write made meanwhile by another context
// is not seen), a write with the context is seen by the reads after it,
// a read inside a read runs in a transaction of its own, and End gives the
// connection back.
func TestSharedRead(t *testing.T) {
	db := openTemp(t)
	bg := context.Background()
	if err := createOrganization(bg, db, organization(1)); err != nil {
		t.Fatal(err)
	}
	ctx, shared := snapexport.WithSharedRead(bg)
	has := func(ctx context.Context, id string) bool {
		t.Helper()
		var found bool
		err := db.Read(ctx, func(tx snapexport.Tx) error {
			_, err := tx.Organization(ctx, id)
			found = err == nil
			if errors.Is(err, snapexport.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	if !has(ctx, organization(1).ID) {
		t.Fatal("first shared read: organization 1 not found")
	}
	if err := createOrganization(bg, db, organization(2)); err != nil {
		t.Fatal(err)
	}
	if has(ctx, organization(2).ID) {
		t.Error("a shared read sees a write committed after the first read of its context")
	}
	if !has(bg, organization(2).ID) {
		t.Error("a read of its own misses a committed write")
	}
	if err := createOrganization(ctx, db, organization(3)); err != nil {
		t.Fatal(err)
	}
	if !has(ctx, organization(3).ID) || !has(ctx, organization(2).ID) {
		t.Error("the reads after a write of the context do not see what was committed")
	}
	// Nested: the inner read cannot use the transaction the outer holds.
	err := db.Read(ctx, func(snapexport.Tx) error {
		if !has(ctx, organization(3).ID) {
			t.Error("a read inside a shared read misses a committed write")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	shared.End()
	if err := createOrganization(bg, db, organization(4)); err != nil {
		t.Fatal(err)
	}
	if !has(ctx, organization(4).ID) {
		t.Error("after End, a read of the context sees the snapshot of the shared read")
	}
	// Every reader connection is back: as many reads as the pool holds
	// can run at once.
	held := make([]*conn, 0, cap(db.readers.idle))
	for range cap(db.readers.idle) {
		c, err := db.readers.get(bg, false)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		db.readers.put(c)
	}
}

// TestSharedReadsHoldingEveryConnection: requests that each hold a shared
// read, as many as the pool has connections, and then read once more
// outside it (a nested read) or read a pass's listing all go on, where
// each used to wait for a connection another held, for ever. Each kind
// runs with every connection held, so that none is given back meanwhile.
func TestSharedReadsHoldingEveryConnection(t *testing.T) {
	db := openTemp(t)
	bg := context.Background()
	if err := createOrganization(bg, db, organization(1)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.Listings().SaveListing(bg, &snapexport.Listing{Key: "pass", ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	read := func(ctx context.Context) error {
		return db.Read(ctx, func(tx snapexport.Tx) error {
			_, err := tx.Organization(ctx, organization(1).ID)
			return err
		})
	}
	n := cap(db.readers.idle)
	ctxs := make([]context.Context, n)
	for i := range ctxs {
		var shared *snapexport.SharedRead
		ctxs[i], shared = snapexport.WithSharedRead(bg)
		defer shared.End()
		if err := read(ctxs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		what string
		read func(ctx context.Context) error
	}{
		{"a read inside a read of the shared transaction", func(ctx context.Context) error {
			return db.Read(ctx, func(snapexport.Tx) error { return read(ctx) })
		}},
		{"a pass's listing", func(ctx context.Context) error {
			_, err := db.Listings().Listing(ctx, "pass", now)
			return err
		}},
	} {
		if len(db.readers.idle) != 0 {
			t.Fatalf("%d reader connections idle with %d shared reads held, want none", len(db.readers.idle), n)
		}
		done := make(chan error, n)
		for _, ctx := range ctxs {
			go func() { done <- step.read(ctx) }()
		}
		timeout := time.After(10 * time.Second)
		for range n {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", step.what, err)
				}
			case <-timeout:
				t.Fatalf("%s, in requests that hold every reader connection, still waits after 10 s", step.what)
			}
		}
	}
}
