package export_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

var loc = snapshotstore.Location{ProjectID: "5f1a2b3c4d5e6f7a8b9c0d1e", SnapshotID: "6a0b1c2d3e4f5a6b7c8d9e0f"}

const testPrefix = "exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/cluster-989/2026-08-10T0327/1786332505"

// testDataset is dumptest's default dataset plus what Atlas's collection
// filter has to tell apart: admin.system.version, a <db>.system.js (kept),
// a <db>.system.profile and a config collection (skipped).
func testDataset(docs int) *dumptest.Dataset {
	ds := dumptest.Generate(dumptest.Options{Seed: 3, DocsPerCollection: docs, AdminSystemVersion: true})
	idIndex := mustRaw(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
	ds.Collections = append(ds.Collections,
		&dumptest.Collection{DB: "app", Name: "system.js", Type: dumptest.TypeCollection, NumDocs: 3,
			UUID: "0123456789abcdef0123456789abcdef", Indexes: []bson.Raw{idIndex}},
		&dumptest.Collection{DB: "app", Name: "system.profile", Type: dumptest.TypeCollection, NumDocs: 2,
			UUID:    "1123456789abcdef0123456789abcdef",
			Options: mustRaw(bson.D{{Key: "capped", Value: true}, {Key: "size", Value: int64(1 << 20)}})},
		&dumptest.Collection{DB: "config", Name: "settings", Type: dumptest.TypeCollection, NumDocs: 2,
			UUID: "2123456789abcdef0123456789abcdef", Indexes: []bson.Raw{idIndex}},
	)
	return ds
}

func mustRaw(v any) bson.Raw {
	b, err := bson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// importDataset imports ds, as an interleaved archive, into a fresh store.
func importDataset(t testing.TB, ds *dumptest.Dataset) export.Source {
	t.Helper()
	s, err := snapshotstore.OpenDir(context.Background(), filepath.Join(t.TempDir(), "snapshots"), snapshotstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	src, err := importInto(s, ds)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func importInto(s *snapshotstore.Store, ds *dumptest.Dataset) (export.Source, error) {
	src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(ds, false, true)), "test.archive")
	if err != nil {
		return export.Source{}, err
	}
	defer src.Close()
	m, err := s.Import(context.Background(), loc, "rs0", src, nil)
	if err != nil {
		return export.Source{}, err
	}
	return export.Source{Store: s, Location: loc, Manifest: m, ReplicaSetName: "atlas-abc-shard-0"}, nil
}

// newBucket opens a fileblob bucket in a fresh directory, with temporary
// files beside their objects so that leftovers show in the directory.
func newBucket(t testing.TB) (*blob.Bucket, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, dir
}

// gunzipLines decompresses a data object (one gzip member) and splits it
// into its lines, each checked to end with "\n".
func gunzipLines(t testing.TB, key string, data []byte) [][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	zr.Multistream(false)
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header has name %q, mtime %v", key, zr.Name, zr.ModTime)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		t.Fatalf("%s: empty or not newline-terminated", key)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return lines
}

// failingDriver is a bucket whose writers write through to real, a
// fileblob bucket, and fail once failAfter bytes of an object whose key
// is failKey have been written: a store that refuses a write halfway.
type failingDriver struct {
	driver.Bucket // nil: only what blob.Writer needs is implemented
	real          *blob.Bucket
	failKey       string
	failAfter     int
}

var errRefused = errors.New("storage refused the write")

func (d *failingDriver) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	w, err := d.real.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return nil, err
	}
	limit := -1
	if key == d.failKey {
		limit = d.failAfter
	}
	return &failingWriter{w: w, limit: limit}, nil
}

func (d *failingDriver) ErrorCode(error) gcerrors.ErrorCode { return gcerrors.Unknown }
func (d *failingDriver) ErrorAs(error, any) bool            { return false }
func (d *failingDriver) As(any) bool                        { return false }
func (d *failingDriver) Close() error                       { return nil }

type failingWriter struct {
	w       *blob.Writer
	limit   int
	written int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.limit >= 0 && w.written+len(p) > w.limit {
		return 0, errRefused
	}
	w.written += len(p)
	return w.w.Write(p)
}

func (w *failingWriter) Close() error { return w.w.Close() }
