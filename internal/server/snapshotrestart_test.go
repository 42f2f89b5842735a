package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// TestSnapshotsResumeAfterRestart: snapshots left queued and in progress
// by a server that stopped without taking them are taken by the next
// server that serves the same data, each with the cluster's data.
func TestSnapshotsResumeAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	first := openAt(t, dir, logger)
	boot, err := first.Init(ctx, "org", "project")
	if err != nil {
		t.Fatal(err)
	}
	group, svc := boot.Project.ID, first.Service
	src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(dumptest.Generate(dumptest.Options{Seed: 4, DocsPerCollection: 3}), false, true)), "fixture")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var loaded *service.LoadResult
	var ids []string
	for _, name := range []string{"queued", "started"} {
		if _, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: group, Name: name}); err != nil {
			t.Fatal(err)
		}
		if name == "queued" {
			if loaded, err = svc.LoadClusterData(ctx, service.LoadInput{ProjectID: group, ClusterName: name}, src, nil); err != nil {
				t.Fatal(err)
			}
		}
		snap, err := svc.TakeSnapshot(ctx, group, name, service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
			ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, snap.ID)
	}
	// The second was started when the server stopped.
	err = first.Store.Write(ctx, func(tx snapexport.Tx) error {
		s, err := tx.Snapshot(ctx, group, "", ids[1])
		if err != nil {
			return err
		}
		s.Status = snapexport.SnapshotInProgress
		return tx.RecordSnapshotState(ctx, s)
	})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := openAt(t, dir, logger)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	_, done := serve(t, serveCtx, second)
	sizes := []int64{loaded.Size, 0}
	for i, id := range ids {
		name := []string{"queued", "started"}[i]
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			s, err := second.Service.Snapshot(ctx, group, name, id, "")
			if err != nil {
				t.Fatal(err)
			}
			if s.Status == snapexport.SnapshotCompleted {
				if s.StorageSizeBytes != sizes[i] {
					t.Errorf("%s snapshot completed with %d bytes, want %d", name, s.StorageSizeBytes, sizes[i])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s snapshot still %s after the restart", name, s.Status)
			}
		}
	}
	stop()
	within(t, done, "context ended")
}

// TestSnapshotOfADeadRunnerTakenOver: a snapshot whose run died holding
// its lease (its server gone, on this database) and that no job queue
// holds any more is queued again by a serving server once the lease
// lapses, and taken.
func TestSnapshotOfADeadRunnerTakenOver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(ctx, server.Config{DataDir: dir, Limits: api.Limits{Disabled: true},
		Hash:    auth.HashParams{Time: 1, Memory: 64, Threads: 1},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Exports: exportrunner.Config{Lease: time.Second, PollInterval: 50 * time.Millisecond},
		Backend: func(ctx context.Context) (*backend.Backend, error) { return sqlite.OpenBackend(ctx, dir) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	boot, err := srv.Init(ctx, "org", "project")
	if err != nil {
		t.Fatal(err)
	}
	group := boot.Project.ID
	c, err := srv.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: group, Name: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	_, done := serve(t, serveCtx, srv)
	select {
	case <-srv.Ready(): // past the start's queueing of unfinished snapshots
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}

	// Written as the dead run left it: inProgress, its lease lasting a
	// little longer, and no job queued.
	now := time.Now()
	snap := &snapexport.Snapshot{ID: service.NewID(), ProjectID: group, ClusterID: c.ID, ClusterName: c.Name,
		Kind: snapexport.SnapshotReplicaSet, ReplicaSetName: c.Shards[0].ReplicaSetName, SnapshotType: "onDemand",
		FrequencyType: "ondemand", Status: snapexport.SnapshotInProgress, MongodVersion: c.MongoDBVersion,
		CloudProvider: snapexport.AWS, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	leaseEnd := now.Add(500 * time.Millisecond)
	err = srv.Store.Write(ctx, func(tx snapexport.Tx) error {
		if err := tx.CreateSnapshot(ctx, snap); err != nil {
			return err
		}
		_, err := tx.ClaimSnapshot(ctx, group, snap.ID, "dead-runner/1/1", now, leaseEnd)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s, err := srv.Service.Snapshot(ctx, group, c.Name, snap.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == snapexport.SnapshotCompleted {
			if time.Now().Before(leaseEnd) {
				t.Errorf("completed before the dead run's lease lapsed")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead run's snapshot still %s", s.Status)
		}
	}
	stop()
	within(t, done, "context ended")
}
