package service_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/fakemongo"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// boundEnv is a snapshotEnv whose cluster "rs" is bound to a replica set
// played by fakemongo, holding shop.orders (n documents), whose reading
// pauses for pause at its first dropped connection, after half of them.
func boundEnv(t *testing.T, n int, pause time.Duration) (*snapshotEnv, *fakemongo.Server) {
	t.Helper()
	e := newSnapshotEnv(t)
	fake, err := fakemongo.Start(fakemongo.Config{Kind: fakemongo.ReplicaSet, BatchSize: 500,
		MajorityOpTime: bson.Timestamp{T: uint32(e.clock.Now().Add(-time.Minute).Unix()), I: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	var docs []bson.D
	for i := range n {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "pad", Value: "some text to read"}})
	}
	if err := fake.Add("shop", "orders", docs...); err != nil {
		t.Fatal(err)
	}
	fake.DropConnection("shop", "orders", n/2, 1)
	key, _ := service.NewRandomSecretKey()
	if err := e.svc.UseSecretKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	e.svc.Capture.RetryBackoff, e.svc.ProgressInterval = pause, time.Millisecond
	if _, err := e.svc.BindCluster(context.Background(), e.group, "rs", &service.DeploymentInput{URI: fake.URI()}); err != nil {
		t.Fatal(err)
	}
	return e, fake
}

// waitProgress runs RunSnapshot in the background and waits until the
// snapshot, still being taken, records having read documents; it returns
// that state and the run's result channel.
func waitProgress(t *testing.T, e *snapshotEnv, ctx context.Context, id string) (*snapexport.Snapshot, <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		done <- e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: id, Holder: "test"})
	}()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		snap := e.stored(t, "rs", id)
		if snap.Progress != nil && snap.Progress.Documents > 0 {
			return snap, done
		}
	}
	t.Fatal("no progress recorded within 30s")
	return nil, nil
}

// takeOnDemand asks for an on-demand snapshot of e's bound cluster.
func takeOnDemand(t *testing.T, e *snapshotEnv) *snapexport.Snapshot {
	t.Helper()
	snap, err := e.svc.TakeSnapshot(context.Background(), e.group, "rs", service.SnapshotRequest{SnapshotType: "onDemand",
		FrequencyType: "ondemand", ExpiresAt: e.clock.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// wantWhole wants snapshot id completed, with a manifest of n documents
// that all read back against their parts' checksums.
func wantWhole(t *testing.T, e *snapshotEnv, what, id string, n int) {
	t.Helper()
	ctx := context.Background()
	loc := snapshotstore.Location{ProjectID: e.group, SnapshotID: id}
	got := e.stored(t, "rs", id)
	m, err := e.data.Manifest(ctx, loc)
	if err != nil || got.Status != snapexport.SnapshotCompleted || m.Namespaces[0].Count != int64(n) {
		t.Fatalf("%s: status %s, manifest %v; want completed with %d documents", what, got.Status, err, n)
	}
	cr, err := e.data.OpenCollection(ctx, loc, m, 0)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer cr.Close()
	read := 0
	for ; ; read++ {
		if _, err := cr.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: reading document %d: %v", what, read, err)
		}
	}
	if read != n {
		t.Fatalf("%s: %d documents read back, want %d", what, read, n)
	}
}

// TestSnapshotRunThatLostItsLease: a run that stands still past its lease
// (here, waiting to read again after its connection dropped) while another
// run takes the snapshot over and completes it stops once it finds the
// lease lost, and leaves the other run's data whole.
func TestSnapshotRunThatLostItsLease(t *testing.T) {
	const n = 3000
	// The stale run reads half, loses its connection and waits 10 s to
	// read again; it renews its lease every 2 s.
	e, _ := boundEnv(t, n, 10*time.Second)
	ctx := context.Background()
	snap := takeOnDemand(t, e)
	stale := snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "stale", Lease: 6 * time.Second}
	done := make(chan error, 1)
	go func() { done <- e.svc.RunSnapshot(ctx, stale) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if p := e.stored(t, "rs", snap.ID).Progress; p != nil && p.Documents >= n/3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale run read no third of the documents within 30s")
		}
	}
	time.Sleep(300 * time.Millisecond) // to where its connection drops
	// Its lease is taken as though it had lapsed, and the snapshot taken.
	later := time.Now().Add(time.Hour)
	if err := e.svc.Store.Write(ctx, func(tx snapexport.Tx) error {
		_, err := tx.ClaimSnapshot(ctx, e.group, snap.ID, "other", later, later.Add(time.Minute))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "other"}); err != nil {
		t.Fatalf("the run taking the snapshot over: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, snapexport.ErrSnapshotLeaseHeld) {
			t.Errorf("the stale run ended with %v, want ErrSnapshotLeaseHeld", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stale run did not stop within 30s of losing its lease")
	}
	wantWhole(t, e, "after the stale run stopped", snap.ID, n)
}

// TestCaptureRecordsProgress: while a bound cluster's snapshot reads its
// deployment, the snapshot is inProgress with the point in time as its
// time and how far the reading has gone; once complete it counts all.
func TestCaptureRecordsProgress(t *testing.T) {
	const n = 3000
	e, _ := boundEnv(t, n, 2*time.Second)
	ctx := context.Background()
	snap := takeOnDemand(t, e)
	during, done := waitProgress(t, e, ctx, snap.ID)
	p := during.Progress
	if during.Status != snapexport.SnapshotInProgress || p.Collections != 1 || p.Documents >= n || p.Bytes == 0 ||
		!during.CreatedAt.Equal(e.clock.Now().Add(-time.Minute)) || during.Consistency != snapexport.ConsistencyPointInTime {
		t.Errorf("while reading: status %s, time %v, consistency %q, progress %+v; want inProgress at the point in time, pointInTime, part of %d documents",
			during.Status, during.CreatedAt, during.Consistency, p, n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := e.stored(t, "rs", snap.ID)
	if after.Status != snapexport.SnapshotCompleted || after.Progress.Documents != n || after.Progress.CollectionsStarted != 1 ||
		!after.CreatedAt.Equal(during.CreatedAt) {
		t.Errorf("completed: status %s, time %v, progress %+v; want completed at %v with %d documents", after.Status, after.CreatedAt,
			after.Progress, during.CreatedAt, n)
	}
}

// TestCaptureStoppedMidway: a run stopped while it reads (the server
// shutting down) leaves the snapshot inProgress with nothing stored, and
// the next run takes it whole.
func TestCaptureStoppedMidway(t *testing.T) {
	const n = 3000
	e, _ := boundEnv(t, n, 5*time.Second)
	snap, err := e.svc.TakeSnapshot(context.Background(), e.group, "rs", service.SnapshotRequest{SnapshotType: "onDemand",
		FrequencyType: "ondemand", ExpiresAt: e.clock.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, done := waitProgress(t, e, ctx, snap.ID)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunSnapshot stopped midway = %v, want context.Canceled", err)
	}
	if got := e.stored(t, "rs", snap.ID); got.Status != snapexport.SnapshotInProgress || e.hasData(t, snap.ID) {
		t.Fatalf("after the stop: status %s, data stored %v; want inProgress with no data", got.Status, e.hasData(t, snap.ID))
	}
	if err := e.svc.RunSnapshot(context.Background(), snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "test"}); err != nil {
		t.Fatal(err)
	}
	got := e.stored(t, "rs", snap.ID)
	m, err := e.data.Manifest(context.Background(), snapshotstore.Location{ProjectID: e.group, SnapshotID: snap.ID})
	if err != nil || got.Status != snapexport.SnapshotCompleted || m.Namespaces[0].Count != int64(n) {
		t.Fatalf("taken again: status %s, manifest %v; want completed with %d documents", got.Status, err, n)
	}
}

// TestSnapshotTakenByOneRunAtATime: a second run of a snapshot being taken
// (queued again when a server starts, say) neither reads it again nor ends
// it while the first holds its lease; the first completes it whole. A run
// whose server died holds it until its lease lapses; then another run
// takes it.
func TestSnapshotTakenByOneRunAtATime(t *testing.T) {
	const n = 3000
	e, _ := boundEnv(t, n, time.Second)
	ctx := context.Background()
	take := func() *snapexport.Snapshot { return takeOnDemand(t, e) }
	complete := func(what, id string) { wantWhole(t, e, what, id, n) }

	snap := take()
	_, done := waitProgress(t, e, ctx, snap.ID)
	other := snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "other"}
	if err := e.svc.RunSnapshot(ctx, other); !errors.Is(err, snapexport.ErrSnapshotLeaseHeld) {
		t.Errorf("a second run while the first reads = %v, want ErrSnapshotLeaseHeld", err)
	}
	if err := e.svc.FailSnapshot(ctx, other, "refused"); !errors.Is(err, snapexport.ErrSnapshotLeaseHeld) {
		t.Errorf("FailSnapshot by a second run = %v, want ErrSnapshotLeaseHeld", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	complete("taken while a second run was refused", snap.ID)
	if err := e.svc.RunSnapshot(ctx, other); err != nil {
		t.Errorf("the second run once the snapshot completed = %v, want nil (nothing to do)", err)
	}

	// A run that died holding the lease: refused until it lapses.
	snap = take()
	dead := snapexport.SnapshotClaim{ProjectID: e.group, SnapshotID: snap.ID, Holder: "dead"}
	until := time.Now().Add(2 * time.Second)
	err := e.svc.Store.Write(ctx, func(tx snapexport.Tx) error {
		_, err := tx.ClaimSnapshot(ctx, e.group, snap.ID, dead.Holder, time.Now(), until)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	other.SnapshotID = snap.ID
	if err := e.svc.RunSnapshot(ctx, other); !errors.Is(err, snapexport.ErrSnapshotLeaseHeld) {
		t.Errorf("a run while a dead run's lease lasts = %v, want ErrSnapshotLeaseHeld", err)
	}
	if lapsed, err := e.svc.LapsedSnapshots(ctx, 10); err != nil || len(lapsed) != 0 {
		t.Errorf("LapsedSnapshots before the lease lapses = %v, %v; want none", lapsed, err)
	}
	time.Sleep(time.Until(until) + 10*time.Millisecond)
	if lapsed, err := e.svc.LapsedSnapshots(ctx, 10); err != nil || len(lapsed) != 1 || lapsed[0].ID != snap.ID {
		t.Errorf("LapsedSnapshots once the lease lapsed = %v, %v; want %s", lapsed, err, snap.ID)
	}
	if err := e.svc.RunSnapshot(ctx, other); err != nil {
		t.Fatalf("a run once the dead run's lease lapsed = %v", err)
	}
	complete("taken over", snap.ID)
	if lapsed, err := e.svc.LapsedSnapshots(ctx, 10); err != nil || len(lapsed) != 0 {
		t.Errorf("LapsedSnapshots once completed = %v, %v; want none", lapsed, err)
	}
}
