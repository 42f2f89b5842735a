package capture_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/internal/capture"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

// benchBytes is the size of the benchmarks' data: dumptest's bulk
// collection (ObjectId, int64, string, date and binary fields, all of
// which FerretDB stores) of 4 KiB documents.
const benchBytes = 32 << 20

// BenchmarkCapture stores the same collection into a snapshot twice: read
// from FerretDB by a capture, and read from a mongodump archive file by
// the archive reader, as snapshot import does. MB/s is of BSON; peak RSS is
// this process's high-water mark during the loop (FerretDB's own memory
// is not counted), on Linux only.
func BenchmarkCapture(b *testing.B) {
	ds := dumptest.Generate(dumptest.Options{Seed: 1, BulkBytes: benchBytes})
	bulk := ds.Lookup("bulk", "data")
	if bulk == nil {
		b.Fatal("dumptest generated no bulk collection")
	}
	size := bulk.TotalSize()

	b.Run("ferretdb", func(b *testing.B) {
		uri, client, prefix := connect(b)
		coll := client.Database(prefix + "_bulk").Collection("data")
		var batch []any
		for _, doc := range bulk.Docs() {
			batch = append(batch, bson.Raw(bytes.Clone(doc)))
			if len(batch) == 500 {
				insert(b, coll, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			insert(b, coll, batch...)
		}
		benchImport(b, size, func() dump.Source {
			src, err := capture.Open(context.Background(), uri, capture.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return src
		})
	})

	b.Run("archive", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "bulk.archive")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		one := &dumptest.Dataset{ServerVersion: ds.ServerVersion, ToolVersion: ds.ToolVersion, ConcurrentCollections: 1,
			Collections: []*dumptest.Collection{bulk}}
		if err := dumptest.WriteArchive(w, one, false, false); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		benchImport(b, size, func() dump.Source {
			src, err := dump.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			return src
		})
	})
}

// benchImport imports what open returns into a folder store once per
// iteration and reports MB/s and the peak RSS.
func benchImport(b *testing.B, size int64, open func() dump.Source) {
	store, _ := newStore(b)
	ctx := context.Background()
	resetPeakRSS()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		src := open()
		m, err := store.Import(ctx, loc, "rs0", src, nil)
		if err != nil {
			b.Fatal(err)
		}
		src.Close()
		if m.Size() < size {
			b.Fatalf("imported %d bytes, want at least %d", m.Size(), size)
		}
		b.StopTimer()
		if err := store.Delete(ctx, loc); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	if peak, ok := peakRSS(); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}

// resetPeakRSS returns the memory the set-up freed and resets the
// process's RSS high-water mark (Linux: writing 5 to clear_refs), so that
// peakRSS tells the loop's own.
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads VmHWM, the RSS high-water mark, in bytes.
func peakRSS() (int64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib << 10, err == nil
		}
	}
	return 0, false
}
