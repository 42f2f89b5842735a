package export_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// benchSources are snapshots imported once for every benchmark into
// benchDir, which TestMain removes: "bulk" has bulk.data, about 64 MiB of
// documents of mostly binary data (cheap to convert, hard to compress);
// "types" has app.types, about 63 MiB of documents holding every BSON
// type (costly to convert).
var (
	benchDir     string
	benchSources = map[string]func() (export.Source, error){
		"bulk": sync.OnceValues(func() (export.Source, error) {
			return benchImport("bulk", dumptest.Options{Seed: 1, DocsPerCollection: 1, BulkBytes: 64 << 20})
		}),
		"types": sync.OnceValues(func() (export.Source, error) {
			return benchImport("types", dumptest.Options{Seed: 1, DocsPerCollection: 60000})
		}),
	}
	benchNames = map[string][2]string{"bulk": {"bulk", "data"}, "types": {"app", "types"}}
	benchMu    sync.Mutex
)

func benchImport(name string, opts dumptest.Options) (export.Source, error) {
	benchMu.Lock()
	defer benchMu.Unlock()
	if benchDir == "" {
		dir, err := os.MkdirTemp("", "export-bench")
		if err != nil {
			return export.Source{}, err
		}
		benchDir = dir
	}
	s, err := snapshotstore.OpenDir(context.Background(), filepath.Join(benchDir, name), snapshotstore.Options{})
	if err != nil {
		return export.Source{}, err
	}
	return importInto(s, dumptest.Generate(opts))
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchCollection(b *testing.B, name string) (export.Source, int) {
	b.Helper()
	src, err := benchSources[name]()
	if err != nil {
		b.Fatal(err)
	}
	ns := benchNames[name]
	i := slices.IndexFunc(src.Manifest.Namespaces, func(c snapshotstore.Collection) bool { return c.DB == ns[0] && c.Name == ns[1] })
	if i < 0 {
		b.Fatalf("no %s.%s", ns[0], ns[1])
	}
	return src, i
}

// BenchmarkExport exports a collection of about 64 MiB of BSON (see
// benchSources) into a fileblob bucket; MB/s is of BSON read. workers=1 shows what pipelining
// alone gives, the levels what compression costs.
func BenchmarkExport(b *testing.B) {
	for _, data := range []string{"bulk", "types"} {
		b.Run(data, func(b *testing.B) { benchmarkExport(b, data) })
	}
}

func benchmarkExport(b *testing.B, data string) {
	src, i := benchCollection(b, data)
	for _, tc := range []struct{ workers, level int }{{1, 0}, {0, 0}, {0, 1}, {0, 6}, {0, 9}} {
		name := "workers=default"
		if tc.workers > 0 {
			name = fmt.Sprintf("workers=%d", tc.workers)
		}
		if tc.level != 0 {
			name += fmt.Sprintf("/level=%d", tc.level)
		}
		b.Run(name, func(b *testing.B) {
			bucket, _ := newBucket(b)
			b.SetBytes(src.Manifest.Namespaces[i].Size)
			b.ReportAllocs()
			var res export.Result
			report := peakRSS(b)
			defer report()
			for b.Loop() {
				var err error
				res, err = export.ExportCollection(context.Background(), bucket, testPrefix, src, i, export.Options{MarshalWorkers: tc.workers, GzipLevel: tc.level}, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.CompressedBytes)/float64(res.JSONBytes), "gzip-ratio")
		})
	}
}

// BenchmarkReference is the straightforward pipeline the export is
// measured against: the same documents, read from the same store, through
// bson.MarshalExtJSON and compress/gzip in one goroutine into a file.
func BenchmarkReference(b *testing.B) {
	for _, data := range []string{"bulk", "types"} {
		b.Run(data, func(b *testing.B) { benchmarkReference(b, data) })
	}
}

func benchmarkReference(b *testing.B, data string) {
	src, i := benchCollection(b, data)
	path := filepath.Join(b.TempDir(), "reference.json.gz")
	b.SetBytes(src.Manifest.Namespaces[i].Size)
	b.ReportAllocs()
	var jsonBytes, gzBytes int64
	report := peakRSS(b)
	defer report()
	for b.Loop() {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		zw := gzip.NewWriter(bw)
		cr, err := src.Store.OpenCollection(context.Background(), src.Location, src.Manifest, i)
		if err != nil {
			b.Fatal(err)
		}
		jsonBytes = 0
		for {
			doc, err := cr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			js, err := bson.MarshalExtJSON(doc, true, false)
			if err != nil {
				b.Fatal(err)
			}
			js = append(js, '\n')
			jsonBytes += int64(len(js))
			if _, err := zw.Write(js); err != nil {
				b.Fatal(err)
			}
		}
		cr.Close()
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		st, _ := f.Stat()
		gzBytes = st.Size()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(gzBytes)/float64(jsonBytes), "gzip-ratio")
}
