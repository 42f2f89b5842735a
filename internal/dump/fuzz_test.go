package dump_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

// FuzzOpenArchive: any input either reads to io.EOF or fails with a
// *FormatError naming the archive and an offset inside the input (of the
// gunzipped stream for a gzipped one), the same error again on later
// calls; it never panics, every document handed out is valid BSON, the
// collections' counts and sizes add up to the documents read, and the
// reader allocates in proportion to the input, not to the lengths it
// claims.
func FuzzOpenArchive(f *testing.F) {
	ds := fixture(dumptest.Options{DocsPerCollection: 2, Oplog: true})
	plain := dumptest.ArchiveBytes(ds, false, true)
	f.Add(plain)
	f.Add(dumptest.ArchiveBytes(ds, false, false))
	f.Add(dumptest.ArchiveBytes(ds, true, true))
	f.Add(plain[:len(plain)/2])
	f.Add([]byte{0x6d, 0xe2, 0x99, 0x81})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		streamLen := int64(len(data))
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b, 8}) {
			streamLen = gunzippedLen(data)
		}
		checkFormatError := func(op string, err error) {
			t.Helper()
			var fe *dump.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("%s: %v (%T) is not a *FormatError", op, err, err)
			}
			if fe.File != "fuzz" {
				t.Fatalf("%s: %v names %q, not the archive", op, err, fe.File)
			}
			if fe.Offset < 0 || fe.Offset > streamLen {
				t.Fatalf("%s: %v: offset %d outside the %d bytes of the input", op, err, fe.Offset, streamLen)
			}
		}
		before := totalAlloc()
		src, err := dump.OpenArchive(bytes.NewReader(data), "fuzz")
		if err != nil {
			checkFormatError("OpenArchive", err)
			return
		}
		defer src.Close()
		var docs, size int64
		readDocuments(t, src, checkFormatError, func(doc bson.Raw) {
			docs++
			size += int64(len(doc))
		})
		if allocated, bound := totalAlloc()-before, allocationBound(streamLen); allocated > bound {
			t.Fatalf("reading %d bytes allocated %d bytes, more than %d", streamLen, allocated, bound)
		}
		var counted, sized int64
		for _, c := range src.Collections() {
			counted += c.Count
			sized += c.Size
		}
		if counted != docs || sized != size {
			t.Fatalf("collections count %d documents of %d bytes, Next returned %d of %d bytes", counted, sized, docs, size)
		}
	})
}

// FuzzOpenDir reads a dump directory of one collection, db/coll, whose
// metadata.json and .bson files hold the input: it either reads, handing
// out exactly the bytes of the .bson file document by document, or fails
// with a *FormatError naming one of the two files. A metadata error points
// at the byte of the file a JSON parser stops at; a data error at an
// offset inside the .bson file.
func FuzzOpenDir(f *testing.F) {
	ds := fixture(dumptest.Options{DocsPerCollection: 3})
	for _, c := range ds.Collections {
		var data []byte
		for _, d := range c.Docs() {
			data = append(data, d...)
		}
		f.Add(c.MetadataJSON(), data)
	}
	plain := dumptest.Plain("db", "coll", 2)
	var docs []byte
	for _, d := range plain.Docs() {
		docs = append(docs, d...)
	}
	f.Add(plain.MetadataJSON(), docs[:len(docs)-3])
	f.Add([]byte(" \n\t{\"indexes\": [}"), docs)
	f.Add([]byte(`{"collectionName":"coll","type":"view","options":{"viewOn":"x","pipeline":[]}}`), docs)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, meta, data []byte) {
		dir := t.TempDir()
		dbDir := filepath.Join(dir, "db")
		metaPath := filepath.Join(dbDir, "coll.metadata.json")
		dataPath := filepath.Join(dbDir, "coll.bson")
		if err := os.Mkdir(dbDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(metaPath, meta, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dataPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		gzipped := bytes.HasPrefix(data, []byte{0x1f, 0x8b, 8})
		checkFormatError := func(op string, err error) {
			t.Helper()
			var fe *dump.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("%s: %v (%T) is not a *FormatError", op, err, err)
			}
			switch fe.File {
			case metaPath:
				var v any
				var syntax *json.SyntaxError
				if errors.As(json.Unmarshal(meta, &v), &syntax) && fe.Offset != max(syntax.Offset-1, 0) {
					t.Fatalf("%s: %v: offset %d, but the JSON syntax error is at byte %d of the file", op, err, fe.Offset, max(syntax.Offset-1, 0))
				}
				if fe.Offset > int64(len(meta)) {
					t.Fatalf("%s: %v: offset %d past the %d bytes of the file", op, err, fe.Offset, len(meta))
				}
			case dataPath:
				if !gzipped && fe.Offset > int64(len(data)) {
					t.Fatalf("%s: %v: offset %d past the %d bytes of the file", op, err, fe.Offset, len(data))
				}
			default:
				t.Fatalf("%s: %v names %q, neither %s nor %s", op, err, fe.File, metaPath, dataPath)
			}
		}
		src, err := dump.OpenDir(dir)
		if err != nil {
			checkFormatError("OpenDir", err)
			return
		}
		defer src.Close()
		var read []byte
		if !readDocuments(t, src, checkFormatError, func(doc bson.Raw) { read = append(read, doc...) }) {
			return
		}
		if !gzipped && !bytes.Equal(read, data) {
			t.Fatalf("read %d bytes of documents, the .bson file holds %d others", len(read), len(data))
		}
	})
}

// readDocuments hands each document of src, which the driver must find
// valid, to each, until io.EOF (it returns true) or an error, which check
// judges and which Next must return again.
func readDocuments(t *testing.T, src dump.Source, check func(op string, err error), each func(bson.Raw)) bool {
	t.Helper()
	for {
		_, doc, err := src.Next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			check("Next", err)
			if _, _, again := src.Next(); again != err {
				t.Fatalf("Next after an error returned %v, want the same error", again)
			}
			return false
		}
		if err := bson.Raw(doc).Validate(); err != nil {
			t.Fatalf("document that the driver rejects: %v", err)
		}
		each(doc)
	}
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// allocationBound is what reading a stream of n bytes may allocate: the
// reader's fixed buffers and a few copies of what it read.
func allocationBound(n int64) uint64 {
	return 2<<20 + 4*uint64(n)
}

// gunzippedLen is the length of data gunzipped, as far as it gunzips.
func gunzippedLen(data []byte) int64 {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	n, _ := io.Copy(io.Discard, zr)
	return n
}
