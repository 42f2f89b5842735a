package service_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type snapshotEnv struct {
	svc     *service.Service
	data    *snapshotstore.Store
	clock   *clock
	group   string
	archive []byte
}

func newSnapshotEnv(t *testing.T) *snapshotEnv {
	t.Helper()
	ctx := context.Background()
	svc, group, _ := newService(t, &cloudAWS{})
	e := &snapshotEnv{svc: svc, group: group, clock: &clock{now: time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)}}
	var err error
	e.data, err = snapshotstore.OpenDir(ctx, filepath.Join(t.TempDir(), "snapshots"), snapshotstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.data.Close() })
	svc.SnapshotData, svc.Now = e.data, e.clock.Now
	for _, in := range []service.ClusterInput{
		{ProjectID: group, Name: "rs"},
		{ProjectID: group, Name: "sh", Shards: []string{"s0", "s1", "s2"}},
	} {
		if _, err := svc.CreateCluster(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	e.archive = dumptest.ArchiveBytes(dumptest.Generate(dumptest.Options{Seed: 11, DocsPerCollection: 5}), false, false)
	return e
}

func (e *snapshotEnv) importArchive(t *testing.T, in service.ImportInput) (*service.ImportResult, error) {
	t.Helper()
	src, err := dump.OpenArchive(bytesReader(e.archive), "fixture")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	in.ProjectID = e.group
	return e.svc.ImportSnapshot(context.Background(), in, src, nil)
}

func (e *snapshotEnv) hasData(t *testing.T, id string) bool {
	t.Helper()
	_, err := e.data.Manifest(context.Background(), snapshotstore.Location{ProjectID: e.group, SnapshotID: id})
	if err != nil && !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestSnapshotExpiryAndSweep(t *testing.T) {
	ctx := context.Background()
	e := newSnapshotEnv(t)
	short, err := e.importArchive(t, service.ImportInput{ClusterName: "rs", Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	long, err := e.importArchive(t, service.ImportInput{ClusterName: "rs", Retention: 3 * time.Hour, FrequencyType: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	if long.Snapshot.SnapshotType != "scheduled" || short.Snapshot.SnapshotType != "onDemand" {
		t.Errorf("snapshot types %s, %s", short.Snapshot.SnapshotType, long.Snapshot.SnapshotType)
	}
	// Moving the short one's expiry out keeps it past the sweep.
	kept, err := e.svc.ChangeSnapshotExpiry(ctx, e.group, "rs", short.Snapshot.ID, "DAYS", 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().AddDate(0, 0, 1); !kept.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt after 1 DAYS = %s, want %s", kept.ExpiresAt, want)
	}
	e.clock.Add(4 * time.Hour)
	n, err := e.svc.SweepExpiredSnapshots(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want 1", n, err)
	}
	if _, err := e.svc.Snapshot(ctx, e.group, "rs", long.Snapshot.ID, ""); snapexport.ErrorCode(err) != snapexport.CodeSnapshotNotFound {
		t.Errorf("expired snapshot: %v, want SNAPSHOT_NOT_FOUND", err)
	}
	if e.hasData(t, long.Snapshot.ID) || !e.hasData(t, short.Snapshot.ID) {
		t.Errorf("data after sweep: expired %v, kept %v", e.hasData(t, long.Snapshot.ID), e.hasData(t, short.Snapshot.ID))
	}
	if n, err := e.svc.SweepExpiredSnapshots(ctx); err != nil || n != 0 {
		t.Errorf("second sweep removed %d (%v)", n, err)
	}

	for _, tc := range []struct {
		unit  string
		value int
		code  string
	}{{"DAYS", 0, snapexport.CodeRetentionValueInvalid}, {"HOURS", 1, snapexport.CodeInvalidEnumValue}} {
		if _, err := e.svc.ChangeSnapshotExpiry(ctx, e.group, "rs", short.Snapshot.ID, tc.unit, tc.value); snapexport.ErrorCode(err) != tc.code {
			t.Errorf("expiry %d %s: %v, want %s", tc.value, tc.unit, err, tc.code)
		}
	}
}

func TestShardedSnapshot(t *testing.T) {
	ctx := context.Background()
	e := newSnapshotEnv(t)
	taken := e.clock.Now().Add(-time.Hour)
	var members []*snapexport.Snapshot
	for i, shard := range []string{"s2", "s0", "s1"} {
		res, err := e.importArchive(t, service.ImportInput{ClusterName: "sh", Shard: shard, TakenAt: taken, Retention: time.Duration(i+1) * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, res.Snapshot)
		list, total, err := e.svc.Snapshots(ctx, e.group, "sh", snapexport.SnapshotShardedCluster, snapexport.Page{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 && (res.Sharded != nil || total != 0) {
			t.Fatalf("after %d of 3 shards: sharded %v, list %d", i+1, res.Sharded, total)
		}
		if i == 2 {
			if res.Sharded == nil || total != 1 || list[0].ID != res.Sharded.ID {
				t.Fatalf("after the last shard: sharded %v, list %v", res.Sharded, list)
			}
			sh := list[0]
			// Members in the cluster's shard order, whatever the import order.
			if len(sh.Members) != 3 || sh.Members[0].ID != members[1].ID || sh.Members[1].ID != members[2].ID || sh.Members[2].ID != members[0].ID {
				t.Errorf("members = %+v", sh.Members)
			}
			if !sh.CreatedAt.Equal(taken) || !sh.ExpiresAt.Equal(e.clock.Now().Add(3*time.Hour)) {
				t.Errorf("sharded createdAt %s expiresAt %s", sh.CreatedAt, sh.ExpiresAt)
			}
		}
	}
	// Shards' own snapshots are reached only through the sharded one.
	if _, err := e.svc.Snapshot(ctx, e.group, "sh", members[0].ID, ""); snapexport.ErrorCode(err) != snapexport.CodeSnapshotNotFound {
		t.Errorf("member by id: %v", err)
	}
	// A fourth import for a shard at the same time is refused, and leaves
	// no data.
	if _, err := e.importArchive(t, service.ImportInput{ClusterName: "sh", Shard: "s0", TakenAt: taken}); snapexport.ErrorCode(err) != snapexport.CodeInvalidSnapshotImport {
		t.Errorf("second s0 import: %v", err)
	}

	// The sharded snapshot expires as a whole: members go with it.
	e.clock.Add(2 * time.Hour)
	if n, err := e.svc.SweepExpiredSnapshots(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the sharded snapshot expires removed %d (%v)", n, err)
	}
	for _, m := range members {
		if !e.hasData(t, m.ID) {
			t.Errorf("member %s lost its data before its snapshot expired", m.ID)
		}
	}
	e.clock.Add(2 * time.Hour)
	if n, err := e.svc.SweepExpiredSnapshots(ctx); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the sharded snapshot", n, err)
	}
	for _, m := range members {
		if e.hasData(t, m.ID) {
			t.Errorf("member %s kept its data after its snapshot expired", m.ID)
		}
	}
}

// TestConcurrentShardImports imports the same shard twice at once: one
// import wins, the other fails and leaves no data.
func TestConcurrentShardImports(t *testing.T) {
	e := newSnapshotEnv(t)
	taken := e.clock.Now()
	var wg sync.WaitGroup
	results := make([]*service.ImportResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = e.importArchive(t, service.ImportInput{ClusterName: "sh", Shard: "s1", TakenAt: taken})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if !e.hasData(t, results[i].Snapshot.ID) {
				t.Errorf("the winning import has no data")
			}
		case snapexport.ErrorCode(err) != snapexport.CodeInvalidSnapshotImport:
			t.Errorf("losing import: %v, want INVALID_SNAPSHOT_IMPORT", err)
		}
	}
	if won != 1 {
		t.Errorf("%d imports of the same shard and time succeeded, want 1", won)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// TestSweepOrphanedSnapshotData: the data of an import that died before
// storing its snapshot is removed once old enough; a stored snapshot's
// data and recent writes are left alone.
func TestSweepOrphanedSnapshotData(t *testing.T) {
	ctx := context.Background()
	e := newSnapshotEnv(t)
	owned, err := e.importArchive(t, service.ImportInput{ClusterName: "rs"})
	if err != nil {
		t.Fatal(err)
	}
	orphan := snapshotstore.Location{ProjectID: e.group, SnapshotID: service.NewID()}
	src, err := dump.OpenArchive(bytesReader(e.archive), "orphan")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.data.Import(ctx, orphan, "rs-shard-0", src, nil); err != nil {
		t.Fatal(err)
	}
	src.Close()

	e.clock.now = time.Now().Add(time.Hour)
	if n, err := e.svc.SweepOrphanedSnapshotData(ctx, 2*time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep within the grace removed %d (%v)", n, err)
	}
	e.clock.now = time.Now().Add(3 * time.Hour)
	if n, err := e.svc.SweepOrphanedSnapshotData(ctx, 2*time.Hour); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the orphan", n, err)
	}
	if e.hasData(t, orphan.SnapshotID) || !e.hasData(t, owned.Snapshot.ID) {
		t.Errorf("after the sweep: orphan kept %v, owned kept %v", e.hasData(t, orphan.SnapshotID), e.hasData(t, owned.Snapshot.ID))
	}
	if folders, err := e.data.Folders(ctx); err != nil || len(folders) != 1 || folders[0].SnapshotID != owned.Snapshot.ID {
		t.Errorf("folders left: %v (%v)", folders, err)
	}
}
