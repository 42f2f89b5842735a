package dump_test

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

var (
	benchOnce  sync.Once
	benchDir   string
	benchFiles = map[string]string{}
	benchSize  int64 // uncompressed archive size
	benchErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchArchives writes the ~64 MiB benchmark archive (plain and gzipped,
// interleaved) to temporary files, once.
func benchArchives(b *testing.B) {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "dump-bench-")
		if benchErr != nil {
			return
		}
		ds := dumptest.Generate(dumptest.Options{Seed: 1, BulkBytes: 64 << 20})
		for _, gz := range []bool{false, true} {
			name := map[bool]string{false: "plain", true: "gzip"}[gz]
			path := filepath.Join(benchDir, name+".archive")
			f, err := os.Create(path)
			if err != nil {
				benchErr = err
				return
			}
			w := bufio.NewWriter(f)
			if err = dumptest.WriteArchive(w, ds, gz, true); err == nil {
				err = w.Flush()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				benchErr = err
				return
			}
			benchFiles[name] = path
			if !gz {
				fi, _ := os.Stat(path)
				benchSize = fi.Size()
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
}

// BenchmarkReadArchive reads a generated ~64 MiB interleaved archive from a
// temporary file: MB/s is of the uncompressed archive.
func BenchmarkReadArchive(b *testing.B) {
	benchArchives(b)
	for _, name := range []string{"plain", "gzip"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			var docs int
			for b.Loop() {
				f, err := os.Open(benchFiles[name])
				if err != nil {
					b.Fatal(err)
				}
				src, err := dump.OpenArchive(f, name)
				if err != nil {
					b.Fatal(err)
				}
				if docs, err = drain(src); err != nil {
					b.Fatal(err)
				}
				src.Close()
				f.Close()
			}
			b.ReportMetric(float64(docs), "docs/op")
		})
	}
}

// A 1 GiB archive is read with bounded memory: it is generated on the fly
// into a pipe and never held in memory, so the heap only holds the
// reader's buffers (and the generator's).
func TestReadArchiveMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB import; skipped with -short")
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 3, DocsPerCollection: 20, BulkBytes: 1 << 30, BulkDocSize: 16 << 10})
	pr, pw := io.Pipe()
	written := make(chan int64, 1)
	go func() {
		cw := &countingWriter{w: pw}
		err := dumptest.WriteArchive(cw, ds, false, true)
		written <- cw.n
		pw.CloseWithError(err)
	}()
	start := time.Now()
	src, err := dump.OpenArchive(pr, "pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bulk := ds.Lookup("bulk", "data")
	var peak uint64
	var ms runtime.MemStats
	n, seen := 0, 0
	for {
		ns, doc, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if ns.DB == "bulk" {
			if seen%5000 == 0 {
				if want := bulk.Doc(seen); string(doc) != string(want) {
					t.Fatalf("bulk document %d differs", seen)
				}
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			seen++
		}
	}
	if seen != bulk.NumDocs {
		t.Fatalf("read %d bulk documents, want %d", seen, bulk.NumDocs)
	}
	for _, c := range src.Collections() {
		if c.Namespace.DB == "bulk" && c.Size < 1<<30 {
			t.Errorf("bulk size %d < 1 GiB", c.Size)
		}
	}
	total := <-written
	t.Logf("read %d documents, %d MiB in %v; peak heap in use %.1f MiB", n, total>>20, time.Since(start).Round(time.Millisecond), float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("peak heap in use %d MiB, want < 64 MiB", peak>>20)
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
