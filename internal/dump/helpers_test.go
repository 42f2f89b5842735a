package dump_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func fixture(opts dumptest.Options) *dumptest.Dataset {
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	return dumptest.Generate(opts)
}

// writeDump writes ds as a dump directory, gzipped or not, in a fresh
// directory and returns it.
func writeDump(t *testing.T, ds *dumptest.Dataset, gz bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := dumptest.WriteDir(dir, ds, gz); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openDir opens a dump directory, failing the test when it cannot.
func openDir(t *testing.T, dir string) dump.Source {
	t.Helper()
	src, err := dump.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// drain reads src to the end and returns the first error (io.EOF mapped to nil).
func drain(src dump.Source) (int, error) {
	n := 0
	for {
		_, _, err := src.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// checkAgainst reads every document of src and compares it byte for byte
// with the generated one, in per-namespace order; then it checks that
// Collections() matches the dataset (metadata, counts, sizes).
func checkAgainst(t *testing.T, src dump.Source, ds *dumptest.Dataset) {
	t.Helper()
	next := map[dump.Namespace]int{}
	byNS := map[dump.Namespace]*dumptest.Collection{}
	for _, c := range ds.Collections {
		byNS[dump.Namespace{DB: c.DB, Collection: c.Name}] = c
	}
	for {
		ns, doc, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		c := byNS[ns]
		if c == nil {
			t.Fatalf("document for unexpected namespace %v", ns)
		}
		i := next[ns]
		if i >= c.NumDocs {
			t.Fatalf("%v: more than %d documents", ns, c.NumDocs)
		}
		if want := c.Doc(i); !bytes.Equal(doc, want) {
			t.Fatalf("%v: document %d differs:\n got %v\nwant %v", ns, i, doc, bson.Raw(want))
		}
		next[ns] = i + 1
	}
	if _, _, err := src.Next(); err != io.EOF {
		t.Fatalf("Next after the end: %v, want io.EOF", err)
	}
	colls := src.Collections()
	if len(colls) != len(ds.Collections) {
		var names []string
		for _, c := range colls {
			names = append(names, c.Namespace.String())
		}
		t.Fatalf("Collections: %d (%v), want %d", len(colls), names, len(ds.Collections))
	}
	seen := map[dump.Namespace]bool{}
	for _, got := range colls {
		c := byNS[got.Namespace]
		if c == nil {
			t.Fatalf("unexpected collection %v", got.Namespace)
		}
		seen[got.Namespace] = true
		checkCollection(t, got, c)
		if next[got.Namespace] != c.NumDocs {
			t.Errorf("%v: read %d documents, want %d", got.Namespace, next[got.Namespace], c.NumDocs)
		}
	}
}

func checkCollection(t *testing.T, got dump.Collection, c *dumptest.Collection) {
	t.Helper()
	ns := got.Namespace
	md := got.Metadata
	if got.Count != int64(c.NumDocs) {
		t.Errorf("%v: Count %d, want %d", ns, got.Count, c.NumDocs)
	}
	if size := c.TotalSize(); got.Size != size {
		t.Errorf("%v: Size %d, want %d", ns, got.Size, size)
	}
	if !bytes.Equal(md.Options, c.Options) {
		t.Errorf("%v: options %v, want %v", ns, md.Options, c.Options)
	}
	if len(md.Indexes) != len(c.Indexes) {
		t.Errorf("%v: %d indexes, want %d", ns, len(md.Indexes), len(c.Indexes))
	} else {
		for i := range md.Indexes {
			if !bytes.Equal(md.Indexes[i], c.Indexes[i]) {
				t.Errorf("%v: index %d is %v, want %v", ns, i, md.Indexes[i], c.Indexes[i])
			}
		}
	}
	if md.UUID != c.UUID || md.CollectionName != c.Name || md.Type != c.Type {
		t.Errorf("%v: uuid %q name %q type %q, want %q %q %q", ns, md.UUID, md.CollectionName, md.Type, c.UUID, c.Name, c.Type)
	}
	if got.IsView() != (c.Type == dumptest.TypeView) || got.IsTimeseries() != (c.Type == dumptest.TypeTimeseries) {
		t.Errorf("%v: IsView %v IsTimeseries %v for type %q", ns, got.IsView(), got.IsTimeseries(), c.Type)
	}
	wantData := c.DataCollection()
	if c.Type == dumptest.TypeView {
		wantData = ""
	}
	if got.DataCollection != wantData {
		t.Errorf("%v: DataCollection %q, want %q", ns, got.DataCollection, wantData)
	}
	// the metadata converts back to exactly what mongodump wrote
	j, err := bson.MarshalExtJSON(md.Raw, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.MetadataJSON(); !bytes.Equal(j, want) {
		t.Errorf("%v: metadata round trip\n got %s\nwant %s", ns, j, want)
	}
}

// wantFormatError checks that err is a *FormatError naming file, with an
// offset in [lo, hi] and a reason containing every one of words.
func wantFormatError(t *testing.T, err error, file string, lo, hi int64, words ...string) *dump.FormatError {
	t.Helper()
	var fe *dump.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *dump.FormatError", err, err)
	}
	if fe.File != file {
		t.Errorf("error %q names file %q, want %q", fe, fe.File, file)
	}
	if fe.Offset < lo || fe.Offset > hi {
		t.Errorf("error %q has offset %d, want in [%d, %d]", fe, fe.Offset, lo, hi)
	}
	for _, w := range words {
		if !strings.Contains(fe.Error(), w) {
			t.Errorf("error %q does not mention %q", fe, w)
		}
	}
	return fe
}

// readArchive opens and drains an archive, returning the first error.
func readArchive(data []byte, name string) error {
	src, err := dump.OpenArchive(bytes.NewReader(data), name)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = drain(src)
	return err
}

func bsonElements(d []byte) ([]bson.RawElement, error) { return bson.Raw(d).Elements() }

func gzipReader(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
