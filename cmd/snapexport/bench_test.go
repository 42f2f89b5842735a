package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
)

// writeArchive writes a generated archive of about 1 GiB of documents
// (16 KiB documents of random bytes in one collection, plus the every-type
// fixture collections) and returns its path and size.
func writeArchive(b *testing.B, seed uint64, gz bool) (string, int64) {
	b.Helper()
	archive := filepath.Join(b.TempDir(), "dump.archive")
	f, err := os.Create(archive)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ds := dumptest.Generate(dumptest.Options{Seed: seed, DocsPerCollection: 20, BulkBytes: 1 << 30, BulkDocSize: 16 << 10})
	w := bufio.NewWriterSize(f, 1<<20)
	if err := dumptest.WriteArchive(w, ds, gz, true); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return archive, info.Size()
}

// benchInstallation initializes a data directory with the binary and
// registers the replica-set cluster "big" in it.
func benchInstallation(b *testing.B) (bin, dir, group string) {
	b.Helper()
	dir, bin = b.TempDir(), binary(b)
	out, err := exec.Command(bin, "init", "--data", dir, "--json").Output()
	if err != nil {
		b.Fatal(err)
	}
	var creds initCreds
	if err := json.Unmarshal(out, &creds); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command(bin, "admin", "cluster", "create", "--data", dir, "--group", creds.GroupID, "--name", "big").CombinedOutput(); err != nil {
		b.Fatalf("cluster create: %v\n%s", err, out)
	}
	return bin, dir, creds.GroupID
}

// runMeasured runs the binary and returns its peak resident memory in KiB.
// The page cache's dirty pages are written out first, untimed, so that a
// run does not pay for the writes of the one before.
func runMeasured(b *testing.B, bin string, args ...string) int64 {
	b.Helper()
	b.StopTimer()
	syscall.Sync()
	b.StartTimer()
	cmd := exec.Command(bin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("snapexport %v: %v\n%s", args, err, out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss // KiB on Linux
	}
	return 0
}

// BenchmarkImport1GiB imports a generated archive of 1 GiB of documents
// with the snapexport binary and reports the import's throughput (MB/s of
// archive) and the peak resident memory of the process.
//
//	go test -run '^$' -bench BenchmarkImport1GiB -benchtime 3x ./cmd/snapexport/
func BenchmarkImport1GiB(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			archive, size := writeArchive(b, 3, gz)
			bin, dir, group := benchInstallation(b)
			var peak int64
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				peak = max(peak, runMeasured(b, bin, "snapshot", "import", "--data", dir, "--group", group, "--cluster", "big",
					"--archive", archive, "--json"))
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}

// BenchmarkSnapshot1GiB measures a cluster holding 1 GiB of data:
//
//   - import: `snapshot import` of the archive, the baseline of this run;
//   - load: `admin cluster load` of the same archive into the cluster;
//   - unchanged: an on-demand snapshot of the loaded data, taken as its
//     job takes it (TakeSnapshot, then RunSnapshot), with the bytes the
//     snapshot store grew by;
//   - new-data: `admin cluster load` of another 1 GiB archive, then a
//     snapshot of it.
//
// Peak RSS is the load's or import's process's.
//
//	go test -run '^$' -bench BenchmarkSnapshot1GiB -benchtime 1x ./cmd/snapexport/
func BenchmarkSnapshot1GiB(b *testing.B) {
	first, size := writeArchive(b, 3, false)
	second, _ := writeArchive(b, 4, false)
	bin, dir, group := benchInstallation(b)
	loadArgs := func(archive string) []string {
		return []string{"admin", "cluster", "load", "--data", dir, "--group", group, "--cluster", "big", "--archive", archive, "--json"}
	}

	b.Run("import", func(b *testing.B) {
		var peak int64
		b.SetBytes(size)
		for b.Loop() {
			peak = max(peak, runMeasured(b, bin, "snapshot", "import", "--data", dir, "--group", group, "--cluster", "big",
				"--archive", first, "--json"))
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})
	b.Run("load", func(b *testing.B) {
		var peak int64
		b.SetBytes(size)
		for b.Loop() {
			peak = max(peak, runMeasured(b, bin, loadArgs(first)...))
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})

	ctx := context.Background()
	srv, err := server.Open(ctx, overSQLite(server.Config{DataDir: dir}))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	snapshot := func(b *testing.B) {
		snap, err := srv.Service.TakeSnapshot(ctx, group, "big", service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
			ExpiresAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Service.RunSnapshot(ctx, snapexport.SnapshotClaim{ProjectID: group, SnapshotID: snap.ID, Holder: "test"}); err != nil {
			b.Fatal(err)
		}
		if done, err := srv.Service.Snapshot(ctx, group, "big", snap.ID, ""); err != nil || done.StorageSizeBytes < size/2 {
			b.Fatalf("snapshot %+v, %v: want it completed with the loaded data", done, err)
		}
	}
	b.Run("unchanged", func(b *testing.B) {
		before := dirSize(b, filepath.Join(dir, "snapshots"))
		b.StopTimer()
		syscall.Sync()
		b.StartTimer()
		for b.Loop() {
			snapshot(b)
		}
		b.ReportMetric(float64(dirSize(b, filepath.Join(dir, "snapshots"))-before)/float64(b.N), "stored-B/snapshot")
	})
	b.Run("new-data", func(b *testing.B) {
		var peak int64
		archives := []string{second, first}
		b.SetBytes(size)
		i := 0
		for b.Loop() {
			peak = max(peak, runMeasured(b, bin, loadArgs(archives[i%2])...))
			snapshot(b)
			i++
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})
}

// dirSize is the size of the files under dir.
func dirSize(b *testing.B, dir string) int64 {
	b.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		n += info.Size()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
