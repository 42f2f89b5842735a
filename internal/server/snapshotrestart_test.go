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
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/service"
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
