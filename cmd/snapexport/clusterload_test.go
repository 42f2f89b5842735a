package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
)

// TestClusterLoad loads dumps into clusters with `admin cluster load`,
// refuses bad ones without losing the data, and takes a snapshot of what
// was loaded.
func TestClusterLoad(t *testing.T) {
	f := newImportFixture(t)
	load := func(extra ...string) []string {
		return append([]string{"admin", "cluster", "load", "--data", f.dir, "--group", f.group}, extra...)
	}
	var want int64
	for _, c := range f.ds.Collections {
		want += c.TotalSize()
	}
	for _, source := range [][]string{{"--archive", f.archive}, {"--dir", f.dumpDir}} {
		var got api.LoadView
		mustJSON(t, &got, load(append([]string{"--cluster", "Cluster0"}, source...)...)...)
		if got.ClusterName != "Cluster0" || got.ReplicaSetName != "Cluster0-shard-0" || got.GroupID != f.group || got.StorageSizeBytes != want ||
			len(got.Collections) == 0 {
			t.Errorf("load %v: %+v, want %d bytes of Cluster0-shard-0", source, got, want)
		}
	}
	var shard api.LoadView
	mustJSON(t, &shard, load("--cluster", "sharded", "--shard", "rs1", "--archive", f.archive)...)
	if shard.ReplicaSetName != "rs1" {
		t.Errorf("load of shard rs1: %+v", shard)
	}

	mustFail(t, 1, []string{"admin cluster load", "cluster sharded is sharded", "rs0"}, load("--cluster", "sharded", "--archive", f.archive)...)
	mustFail(t, 1, []string{"no shard rs9"}, load("--cluster", "sharded", "--shard", "rs9", "--archive", f.archive)...)
	mustFail(t, 1, []string{"Cluster9"}, load("--cluster", "Cluster9", "--archive", f.archive)...)
	mustFail(t, 2, []string{"--cluster is required"}, load("--archive", f.archive)...)
	mustFail(t, 2, []string{"--archive FILE"}, load("--cluster", "Cluster0")...)
	mustFail(t, 2, []string{"--archive FILE"}, load("--cluster", "Cluster0", "--archive", f.archive, "--dir", f.dumpDir)...)
	data, err := os.ReadFile(f.archive)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.archive.gz")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{cut}, load("--cluster", "Cluster0", "--archive", cut)...)

	// A snapshot copies what the last load that completed left.
	ctx := context.Background()
	srv, err := server.Open(ctx, overSQLite(server.Config{DataDir: f.dir}))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	snap, err := srv.Service.TakeSnapshot(ctx, f.group, "Cluster0", service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
		ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Service.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: f.group, SnapshotID: snap.ID, Holder: "test"}); err != nil {
		t.Fatal(err)
	}
	done, err := srv.Service.Snapshot(ctx, f.group, "Cluster0", snap.ID, "")
	if err != nil || done.Status != snapexport.SnapshotCompleted || done.StorageSizeBytes != want {
		t.Errorf("snapshot of the loaded cluster: %+v, %v; want completed with %d bytes", done, err, want)
	}
}
