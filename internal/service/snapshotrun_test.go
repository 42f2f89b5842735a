package service_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// interruptedData fails the first Capture after it wrote the snapshot's
// manifest, as a server killed there would leave it.
type interruptedData struct {
	*snapshotstore.Store
	captures int
}

func (d *interruptedData) Capture(ctx context.Context, dl snapshotstore.DataLocation, loc snapshotstore.Location, within time.Duration) (*snapshotstore.Manifest, error) {
	m, err := d.Store.Capture(ctx, dl, loc, within)
	if d.captures++; d.captures == 1 && err == nil {
		return nil, errors.New("killed")
	}
	return m, err
}

func (e *snapshotEnv) load(t *testing.T, cluster, shard string) *service.LoadResult {
	t.Helper()
	src, err := dump.OpenArchive(bytesReader(e.archive), "fixture")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := e.svc.LoadClusterData(context.Background(), service.LoadInput{ProjectID: e.group, ClusterName: cluster, Shard: shard}, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *snapshotEnv) stored(t *testing.T, cluster, id string) *snapexport.Snapshot {
	t.Helper()
	s, err := e.svc.Snapshot(context.Background(), e.group, cluster, id, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTakeSnapshotScheduled: what the scheduler asks for is recorded, the
// snapshot is completed by a run that was interrupted once, and its
// expiry counts from its completion.
func TestTakeSnapshotScheduled(t *testing.T) {
	e := newSnapshotEnv(t)
	ctx := context.Background()
	loaded := e.load(t, "rs", "")
	data := &interruptedData{Store: e.data}
	e.svc.SnapshotData = data
	requested := e.clock.Now()
	items := []string{service.NewID(), service.NewID()}
	snap, err := e.svc.TakeSnapshot(ctx, e.group, "rs", service.SnapshotRequest{SnapshotType: "scheduled", FrequencyType: "daily",
		PolicyItemIDs: items, Description: "nightly", ExpiresAt: requested.Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != snapexport.SnapshotQueued || snap.SnapshotType != "scheduled" || snap.FrequencyType != "daily" ||
		!slices.Equal(snap.PolicyItems, items) || snap.Kind != snapexport.SnapshotReplicaSet || snap.ReplicaSetName != "rs-shard-0" {
		t.Fatalf("TakeSnapshot: %+v", snap)
	}

	e.clock.Add(time.Minute)
	if err := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"}); err == nil {
		t.Fatal("RunSnapshot interrupted after the copy: no error")
	}
	if s := e.stored(t, "rs", snap.ID); s.Status != snapexport.SnapshotInProgress || s.MongodVersion == "" {
		t.Fatalf("after an interrupted run: %s %q, want inProgress with its mongodVersion", s.Status, s.MongodVersion)
	}
	e.clock.Add(time.Minute)
	if err := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"}); err != nil {
		t.Fatal(err)
	}
	done := e.stored(t, "rs", snap.ID)
	if done.Status != snapexport.SnapshotCompleted || done.StorageSizeBytes != loaded.Size || !slices.Equal(done.PolicyItems, items) ||
		!done.CreatedAt.Equal(e.clock.Now()) || !done.ExpiresAt.Equal(e.clock.Now().Add(7*24*time.Hour)) {
		t.Errorf("completed snapshot: %+v; want %d bytes, taken and expiring from %s", done, loaded.Size, e.clock.Now())
	}
	if !slices.Equal(done.Collections, loaded.Collections) {
		t.Errorf("collections %v, want the loaded %v", done.Collections, loaded.Collections)
	}
	// A later run leaves the completed snapshot alone.
	if err := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"}); err != nil || e.stored(t, "rs", snap.ID).Status != snapexport.SnapshotCompleted {
		t.Errorf("a second run: %v", err)
	}
}

// TestTakeSnapshotRefusals: the request's values, and a second snapshot
// while one is being taken.
func TestTakeSnapshotRefusals(t *testing.T) {
	e := newSnapshotEnv(t)
	ctx := context.Background()
	later := e.clock.Now().Add(time.Hour)
	for _, c := range []struct {
		req  service.SnapshotRequest
		code string
	}{
		{service.SnapshotRequest{SnapshotType: "fallback", FrequencyType: "ondemand", ExpiresAt: later}, snapexport.CodeInvalidEnumValue},
		{service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "minutely", ExpiresAt: later}, snapexport.CodeInvalidEnumValue},
		{service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand", ExpiresAt: e.clock.Now()}, snapexport.CodeRetentionValueInvalid},
	} {
		if _, err := e.svc.TakeSnapshot(ctx, e.group, "rs", c.req); snapexport.ErrorCode(err) != c.code {
			t.Errorf("TakeSnapshot(%+v): %v, want %s", c.req, err, c.code)
		}
	}
	req := service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand", ExpiresAt: later}
	if _, err := e.svc.TakeSnapshot(ctx, e.group, "none", req); snapexport.ErrorCode(err) != snapexport.CodeClusterNotFound {
		t.Errorf("TakeSnapshot of a missing cluster: %v", err)
	}
	if _, err := e.svc.TakeSnapshot(ctx, service.NewID(), "rs", req); snapexport.ErrorCode(err) != snapexport.CodeGroupNotFound {
		t.Errorf("TakeSnapshot in a missing project: %v", err)
	}
	first, err := e.svc.TakeSnapshot(ctx, e.group, "rs", req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TakeSnapshot(ctx, e.group, "rs", req); snapexport.ErrorCode(err) != snapexport.CodeUnfinishedSnapshot {
		t.Errorf("a second snapshot while one is queued: %v", err)
	}
	if err := e.svc.FailSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: first.ID, Holder: "test"}, "test"); err != nil {
		t.Fatal(err)
	}
	if s := e.stored(t, "rs", first.ID); s.Status != snapexport.SnapshotFailed || e.hasData(t, first.ID) {
		t.Errorf("failed snapshot: %s, data kept %v", s.Status, e.hasData(t, first.ID))
	}
	if _, err := e.svc.TakeSnapshot(ctx, e.group, "rs", req); err != nil {
		t.Errorf("a snapshot after one failed: %v", err)
	}
}

// TestTakeShardedSnapshot: one member per shard, each with its shard's
// data (none for a shard never loaded).
func TestTakeShardedSnapshot(t *testing.T) {
	e := newSnapshotEnv(t)
	ctx := context.Background()
	s0 := e.load(t, "sh", "s0")
	s2 := e.load(t, "sh", "s2")
	snap, err := e.svc.TakeSnapshot(ctx, e.group, "sh", service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
		ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Kind != snapexport.SnapshotShardedCluster || len(snap.Members) != 3 {
		t.Fatalf("sharded take: %+v", snap)
	}
	if err := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"}); err != nil {
		t.Fatal(err)
	}
	done := e.stored(t, "sh", snap.ID)
	if done.Status != snapexport.SnapshotCompleted || done.StorageSizeBytes != s0.Size+s2.Size {
		t.Errorf("sharded snapshot %s of %d bytes, want completed with %d", done.Status, done.StorageSizeBytes, s0.Size+s2.Size)
	}
	want := map[string]int64{"s0": s0.Size, "s1": 0, "s2": s2.Size}
	for _, m := range done.Members {
		member, err := e.data.Manifest(ctx, snapshotstore.Location{ProjectID: e.group, SnapshotID: m.ID})
		if err != nil || member.Size() != want[m.ReplicaSetName] || member.ReplicaSetName != m.ReplicaSetName {
			t.Errorf("member %s: %v, %v; want %d bytes", m.ReplicaSetName, member, err, want[m.ReplicaSetName])
		}
	}
}

// TestTakeSnapshotBackupDisabled: a cluster whose backup is disabled takes
// no snapshot, as Atlas's has no backup configuration; enabled, it does.
func TestTakeSnapshotBackupDisabled(t *testing.T) {
	e := newSnapshotEnv(t)
	ctx := context.Background()
	req := service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand", ExpiresAt: e.clock.Now().Add(time.Hour)}
	for _, enabled := range []bool{false, true} {
		if _, err := e.svc.UpdateCluster(ctx, e.group, "rs", service.ClusterChange{BackupEnabled: &enabled}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.TakeSnapshot(ctx, e.group, "rs", req)
		if enabled && err != nil {
			t.Errorf("TakeSnapshot with backup enabled: %v", err)
		}
		if !enabled && snapexport.ErrorCode(err) != snapexport.CodeBackupConfigNotFound {
			t.Errorf("TakeSnapshot with backup disabled: %v, want %s", err, snapexport.CodeBackupConfigNotFound)
		}
	}
}

// TestDeleteClusterDropsItsData: a deleted cluster's loaded data goes with
// it (a cluster made again under its name starts empty), while a snapshot
// it kept (retainBackups) still reads its own.
func TestDeleteClusterDropsItsData(t *testing.T) {
	e := newSnapshotEnv(t)
	ctx := context.Background()
	loaded := e.load(t, "rs", "")
	c, err := e.svc.Cluster(ctx, e.group, "rs")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.svc.TakeSnapshot(ctx, e.group, "rs", service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
		ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteCluster(ctx, e.group, "rs", true); err != nil {
		t.Fatal(err)
	}
	d := snapshotstore.DataLocation{ProjectID: e.group, ClusterID: c.ID, ReplicaSetName: c.Shards[0].ReplicaSetName}
	if _, err := e.data.ClusterData(ctx, d); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Errorf("the deleted cluster's data: %v, want ErrNotFound", err)
	}
	m, err := e.data.Manifest(ctx, snapshotstore.Location{ProjectID: e.group, SnapshotID: snap.ID})
	if err != nil || len(m.Namespaces) != len(loaded.Collections) {
		t.Errorf("the retained snapshot's data: %v, %v; want the %d loaded collections", m, err, len(loaded.Collections))
	}
}

// dyingStore is a store whose writes fail once completed reports true,
// as those of a server that died right then.
type dyingStore struct {
	snapexport.Store
	completed func() bool
	dead      bool
}

func (s *dyingStore) Write(ctx context.Context, fn func(snapexport.Tx) error) error {
	if s.dead {
		return errors.New("the server died")
	}
	err := s.Store.Write(ctx, fn)
	s.dead = err == nil && s.completed()
	return err
}

// TestAutoExportRecordedWithTheCompletion: the export a schedule asks for
// of a snapshot is recorded with the snapshot's completion, so that a
// server dying once the snapshot is completed has not lost it.
func TestAutoExportRecordedWithTheCompletion(t *testing.T) {
	e := newSnapshotEnv(t)
	ctx := context.Background()
	e.load(t, "rs", "")
	role, err := e.svc.CreateRole(ctx, e.group, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthorizeRole(ctx, e.group, role.ID, service.RoleInput{Provider: snapexport.AWS, IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/x"}); err != nil {
		t.Fatal(err)
	}
	bucket, err := e.svc.CreateBucket(ctx, e.group, service.BucketInput{Provider: snapexport.AWS, BucketName: "auto", RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	enabled := true
	if _, err := e.svc.UpdateBackupSchedule(ctx, e.group, "rs", service.ScheduleInput{AutoExportEnabled: &enabled,
		Export: &service.ExportPolicyInput{BucketID: bucket.ID, FrequencyType: "daily"}}); err != nil {
		t.Fatal(err)
	}
	snap, err := e.svc.TakeSnapshot(ctx, e.group, "rs", service.SnapshotRequest{SnapshotType: "scheduled", FrequencyType: "daily",
		ExpiresAt: e.clock.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	store := &dyingStore{Store: e.svc.Store}
	store.completed = func() bool {
		s, err := snapexport.ReadValue(ctx, store.Store, func(tx snapexport.Tx) (*snapexport.Snapshot, error) {
			return tx.Snapshot(ctx, e.group, "", snap.ID)
		})
		return err == nil && s.Status == snapexport.SnapshotCompleted
	}
	e.svc.Store = store
	runErr := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"})
	e.svc.Store = store.Store
	if s := e.stored(t, "rs", snap.ID); s.Status != snapexport.SnapshotCompleted {
		t.Fatalf("snapshot %s (run: %v), want completed", s.Status, runErr)
	}
	jobs, _, err := e.svc.ExportJobs(ctx, e.group, "rs", snapexport.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].SnapshotID != snap.ID || jobs[0].ExportBucketID != bucket.ID || jobs[0].State != snapexport.ExportQueued {
		t.Errorf("export jobs of the completed daily snapshot: %+v, want one queued into %s", jobs, bucket.ID)
	}
}
