package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/pgtest"
)

// TestSharedRead checks the reads of one context under a SharedRead on a
// pool of one connection: they share one snapshot, and a nonce, a listing
// or a write of the same context (each needing the pool) neither waits
// for the connection the shared read holds nor is missed by the reads
// after it.
func TestSharedRead(t *testing.T) {
	db := open(t, pgtest.Schema(t, pgtest.URL(t)), Options{MaxConns: 1})
	bg := context.Background()
	org := func(i int) *snapexport.Organization {
		return &snapexport.Organization{ID: fmt.Sprintf("6500000000000000000%05d", i), Name: fmt.Sprintf("org %d", i), CreatedAt: time.Now()}
	}
	create := func(ctx context.Context, o *snapexport.Organization) {
		t.Helper()
		if err := db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
			t.Fatal(err)
		}
	}
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
	create(bg, org(1))
	ctx, shared := snapexport.WithSharedRead(bg)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !has(ctx, org(1).ID) || !has(ctx, org(1).ID) {
		t.Fatal("shared reads: organization 1 not found")
	}
	now := time.Now()
	if err := db.Nonces().UseNonce(ctx, "shared", now.Add(time.Minute), now); err != nil {
		t.Fatalf("UseNonce beside a shared read on a pool of one: %v", err)
	}
	if !has(ctx, org(1).ID) {
		t.Fatal("a shared read after a nonce: organization 1 not found")
	}
	if err := db.Listings().SaveListing(ctx, &snapexport.Listing{Key: "k", ExpiresAt: now.Add(time.Minute)}, now); err != nil {
		t.Fatalf("SaveListing beside a shared read on a pool of one: %v", err)
	}
	create(ctx, org(2))
	if !has(ctx, org(2).ID) {
		t.Error("a shared read after a write of its context misses it")
	}
	shared.End()
	create(bg, org(3))
	if !has(ctx, org(3).ID) {
		t.Error("after End, a read of the context misses a committed write")
	}
}
