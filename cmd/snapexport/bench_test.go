package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/snapexport/snapexport/internal/dumptest"
)

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
			archive := filepath.Join(b.TempDir(), "dump.archive")
			f, err := os.Create(archive)
			if err != nil {
				b.Fatal(err)
			}
			ds := dumptest.Generate(dumptest.Options{Seed: 3, DocsPerCollection: 20, BulkBytes: 1 << 30, BulkDocSize: 16 << 10})
			w := bufio.NewWriterSize(f, 1<<20)
			if err := dumptest.WriteArchive(w, ds, gz, true); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			info, _ := f.Stat()
			f.Close()

			dir := b.TempDir()
			bin := binary(b)
			run := func(args ...string) {
				b.Helper()
				out, err := exec.Command(bin, args...).CombinedOutput()
				if err != nil {
					b.Fatalf("snapexport %v: %v\n%s", args, err, out)
				}
			}
			out, err := exec.Command(bin, "init", "--data", dir, "--json").Output()
			if err != nil {
				b.Fatal(err)
			}
			var creds initCreds
			if err := json.Unmarshal(out, &creds); err != nil {
				b.Fatal(err)
			}
			run("admin", "cluster", "create", "--data", dir, "--group", creds.GroupID, "--name", "big")
			group := creds.GroupID

			var peak int64
			b.SetBytes(info.Size())
			b.ResetTimer()
			for b.Loop() {
				cmd := exec.Command(bin, "snapshot", "import", "--data", dir, "--group", group, "--cluster", "big",
					"--archive", archive, "--json")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("import: %v\n%s", err, out)
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peak {
					peak = ru.Maxrss // KiB on Linux
				}
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}
