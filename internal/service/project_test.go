package service_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// readCounter is a store that counts its read transactions.
type readCounter struct {
	snapexport.Store
	reads atomic.Int64
}

func (c *readCounter) Read(ctx context.Context, fn func(snapexport.Tx) error) error {
	c.reads.Add(1)
	return c.Store.Read(ctx, fn)
}

// TestProjectKept: a project found is kept (projects never change), so
// finding it again reads no database, and what a caller changes in the
// copy it gets stays its own; a project not found is not kept, so it is
// found once it exists.
func TestProjectKept(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &readCounter{Store: db}
	svc := &service.Service{Store: store}
	b, err := svc.Init(ctx, "org", "project", auth.HashParams{Time: 1, Memory: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := b.Project.ID

	before := store.reads.Load()
	first, err := svc.Project(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	first.Name = "changed by the caller"
	again, err := svc.Project(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.reads.Load() - before; got != 1 {
		t.Errorf("finding a project twice read the store %d times, want once", got)
	}
	if again.Name != "project" || again.ID != id || again.OrgID != b.Org.ID {
		t.Errorf("the project found again: %+v, want the stored one", again)
	}

	const later = "6b16bf73cda0e0f02587fcba"
	if _, err := svc.Project(ctx, later); snapexport.ErrorCode(err) != snapexport.CodeGroupNotFound {
		t.Fatalf("a project that does not exist: %v, want %s", err, snapexport.CodeGroupNotFound)
	}
	err = db.Write(ctx, func(tx snapexport.Tx) error {
		return tx.CreateProject(ctx, &snapexport.Project{ID: later, OrgID: b.Org.ID, Name: "later", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.Project(ctx, later); err != nil || p.Name != "later" {
		t.Errorf("a project created after it was not found: %v, %v", p, err)
	}
}
