package dump_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Servers from 8.3 on have time-series collections without a view: the
// buckets are dumped under the collection's own name.
func TestViewlessTimeseries(t *testing.T) {
	ds := fixture(dumptest.Options{ViewlessTimeseries: true, ServerVersion: "8.3.0"})
	for _, inter := range []bool{false, true} {
		src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(ds, false, inter)), "a")
		if err != nil {
			t.Fatal(err)
		}
		checkAgainst(t, src, ds)
	}
	dir := writeDump(t, ds, false)
	if _, err := os.Stat(filepath.Join(dir, "analytics", "metrics.bson")); err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, openDir(t, dir), ds)
}

func openAndDrain(t *testing.T, dir string) (dump.Source, map[dump.Namespace]int) {
	t.Helper()
	src := openDir(t, dir)
	counts := map[dump.Namespace]int{}
	for {
		ns, _, err := src.Next()
		if err == io.EOF {
			return src, counts
		}
		if err != nil {
			t.Fatal(err)
		}
		counts[ns]++
	}
}

func collection(t *testing.T, src dump.Source, db, name string) dump.Collection {
	t.Helper()
	for _, c := range src.Collections() {
		if c.DB == db && c.Collection == name {
			return c
		}
	}
	t.Fatalf("no collection %s.%s", db, name)
	return dump.Collection{}
}

func TestDirSpecialFiles(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 3})
	dir := writeDump(t, ds, false)
	app := filepath.Join(dir, "app")
	types := ds.Lookup("app", "types")
	var typesBSON []byte
	for _, d := range types.Docs() {
		typesBSON = append(typesBSON, d...)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// skipped like mongorestore does, with a note
	must(os.WriteFile(filepath.Join(app, "$admin.system.users.bson"), typesBSON, 0o644))
	must(os.WriteFile(filepath.Join(app, "system.profile.bson"), typesBSON, 0o644))
	must(os.WriteFile(filepath.Join(app, "system.indexes.bson"), typesBSON, 0o644))
	must(os.WriteFile(filepath.Join(app, "README.txt"), []byte("hi"), 0o644))
	must(os.Mkdir(filepath.Join(app, "sub"), 0o755))
	must(os.Mkdir(filepath.Join(dir, ".hidden"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644))
	// a collection without metadata, and an empty metadata file
	must(os.Remove(filepath.Join(app, "log.metadata.json")))
	must(os.WriteFile(filepath.Join(app, "orders.metadata.json"), nil, 0o644))
	// a gzipped file in a plain dump, without the .gz suffix; and with it
	must(os.WriteFile(filepath.Join(dir, "edge", "onedoc.bson"), dumptest.Gzip(ds.Lookup("edge", "onedoc").Doc(0)), 0o644))
	dotted, err := os.ReadFile(filepath.Join(dir, "edge", "dotted.name.bson"))
	must(err)
	must(os.Remove(filepath.Join(dir, "edge", "dotted.name.bson")))
	must(os.WriteFile(filepath.Join(dir, "edge", "dotted.name.bson.gz"), dumptest.Gzip(dotted), 0o644))

	src, counts := openAndDrain(t, dir)
	notes := strings.Join(src.Notes(), "\n")
	for _, w := range []string{"$admin.system.users", "system.profile", "system.indexes", "README.txt", "sub", ".hidden", "notes.txt", "no metadata file for app.log"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes do not mention %s:\n%s", w, notes)
		}
	}
	for _, c := range src.Collections() {
		if strings.HasPrefix(c.Collection, "$") || strings.HasPrefix(c.Collection, "system.") {
			t.Errorf("unexpected collection %v", c.Namespace)
		}
	}
	if c := collection(t, src, "app", "log"); c.Metadata.Raw != nil || c.Count != int64(ds.Lookup("app", "log").NumDocs) {
		t.Errorf("app.log without metadata: %+v", c)
	}
	if c := collection(t, src, "app", "orders"); c.Metadata.Raw != nil || c.Count != int64(ds.Lookup("app", "orders").NumDocs) {
		t.Errorf("app.orders with empty metadata: %+v", c)
	}
	for _, name := range []string{"onedoc", "dotted.name"} {
		ns := dump.Namespace{DB: "edge", Collection: name}
		if counts[ns] != ds.Lookup("edge", name).NumDocs {
			t.Errorf("%v: %d documents", ns, counts[ns])
		}
	}
	if !src.Info().Gzip {
		t.Error("Info().Gzip false although some files are gzipped")
	}
}

func TestDirViewsAsCollections(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 3})
	dir := writeDump(t, ds, false)
	a := filepath.Join(dir, "analytics")
	// mongodump --viewsAsCollections: type view, viewOn and pipeline removed, data dumped
	if err := os.WriteFile(filepath.Join(a, "clicks.metadata.json"), []byte(`{"indexes":[],"collectionName":"clicks","type":"view"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := ds.Lookup("analytics", "events").Doc(0)
	if err := os.WriteFile(filepath.Join(a, "clicks.bson"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	src, counts := openAndDrain(t, dir)
	c := collection(t, src, "analytics", "clicks")
	if c.IsView() || c.Count != 1 || counts[c.Namespace] != 1 || c.DataCollection != "clicks" {
		t.Errorf("%+v", c)
	}

	// a real view with a data file is an error
	dir = writeDump(t, ds, false)
	if err := os.WriteFile(filepath.Join(dir, "analytics", "clicks.bson"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := dump.OpenDir(dir)
	wantFormatError(t, err, filepath.Join(dir, "analytics", "clicks.bson"), -1, -1, "view")
}

func TestDirDuplicateFiles(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 3})
	dir := writeDump(t, ds, false)
	p := filepath.Join(dir, "app", "orders.bson")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p+".gz", dumptest.Gzip(b), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := dump.OpenDir(dir)
	wantFormatError(t, err, p+".gz", -1, -1, "two files")
}

// archive builds an archive from parts: prelude collection documents, then
// blocks.
type archive struct{ b []byte }

func newArchive(t *testing.T, cms ...dumptest.CollectionMetadata) *archive {
	a := &archive{}
	a.u32(dumptest.MagicNumber)
	a.doc(t, dumptest.ArchiveHeader{ConcurrentCollections: 1, FormatVersion: "0.1", ServerVersion: "7.0.16", ToolVersion: "100.10.0"})
	for _, cm := range cms {
		a.doc(t, cm)
	}
	a.u32(dumptest.Terminator)
	return a
}

func (a *archive) u32(v uint32) *archive { a.b = binary.LittleEndian.AppendUint32(a.b, v); return a }

func (a *archive) doc(t *testing.T, v any) *archive {
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	a.b = append(a.b, b...)
	return a
}

func (a *archive) segment(t *testing.T, db, coll string, docs ...[]byte) *archive {
	a.doc(t, dumptest.NamespaceHeader{Database: db, Collection: coll})
	for _, d := range docs {
		a.b = append(a.b, d...)
	}
	return a.u32(dumptest.Terminator)
}

func (a *archive) eof(t *testing.T, db, coll string, docs ...[]byte) *archive {
	a.doc(t, dumptest.NamespaceHeader{Database: db, Collection: coll, EOF: true, CRC: dumptest.CRC(docs...)})
	return a.u32(dumptest.Terminator)
}

func TestArchiveSpecialCases(t *testing.T) {
	meta := `{"indexes":[],"collectionName":"c","type":"collection"}`
	cm := dumptest.CollectionMetadata{Database: "db", Collection: "c", Metadata: meta, Type: "collection"}
	view := dumptest.CollectionMetadata{Database: "db", Collection: "v", Type: "view",
		Metadata: `{"options":{"viewOn":"c","pipeline":[]},"indexes":[],"collectionName":"v","type":"view"}`}
	doc := fixture(dumptest.Options{}).Lookup("app", "types").Doc(1)

	t.Run("ok", func(t *testing.T) {
		a := newArchive(t, cm, view).segment(t, "db", "c", doc).segment(t, "db", "v").eof(t, "db", "v").segment(t, "db", "c", doc).eof(t, "db", "c", doc, doc)
		src, err := dump.OpenArchive(bytes.NewReader(a.b), "ok")
		if err != nil {
			t.Fatal(err)
		}
		n, err := drain(src)
		if err != nil || n != 2 {
			t.Fatalf("%d documents, %v", n, err)
		}
		if c := collection(t, src, "db", "v"); !c.IsView() || c.DataCollection != "" || c.Count != 0 {
			t.Errorf("view %+v", c)
		}
	})
	t.Run("views-as-collections", func(t *testing.T) {
		vac := dumptest.CollectionMetadata{Database: "db", Collection: "v", Type: "view", Metadata: `{"indexes":[],"collectionName":"v","type":"view"}`}
		a := newArchive(t, vac).segment(t, "db", "v", doc).eof(t, "db", "v", doc)
		src, err := dump.OpenArchive(bytes.NewReader(a.b), "vac")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := drain(src); err != nil || n != 1 {
			t.Fatalf("%d documents, %v", n, err)
		}
		if c := collection(t, src, "db", "v"); c.IsView() || c.Count != 1 {
			t.Errorf("%+v", c)
		}
	})
	for name, c := range map[string]struct {
		a    *archive
		want string
	}{
		"missing view blocks": {newArchive(t, cm, view).segment(t, "db", "c", doc).eof(t, "db", "c", doc), "before any block"},
		"documents in a view": {newArchive(t, view).segment(t, "db", "v", doc).eof(t, "db", "v", doc), "view"},
		"duplicate prelude":   {newArchive(t, cm, cm), "listed twice"},
		"bad metadata":        {newArchive(t, dumptest.CollectionMetadata{Database: "db", Collection: "c", Metadata: "{nope"}), "metadata"},
		"no collection":       {newArchive(t, dumptest.CollectionMetadata{Database: "db"}), "without a collection name"},
		"header extra field": {newArchive(t, cm).doc(t, bson.D{{Key: "db", Value: "db"}, {Key: "collection", Value: "c"}, {Key: "EOF", Value: false}, {Key: "CRC", Value: int64(0)}, {Key: "x", Value: 1}}).u32(dumptest.Terminator),
			"unexpected field"},
		"header missing field": {newArchive(t, cm).doc(t, bson.D{{Key: "db", Value: "db"}, {Key: "collection", Value: "c"}, {Key: "CRC", Value: int64(0)}}).u32(dumptest.Terminator),
			"needs the fields"},
		"header wrong type": {newArchive(t, cm).doc(t, bson.D{{Key: "db", Value: "db"}, {Key: "collection", Value: "c"}, {Key: "EOF", Value: int32(0)}, {Key: "CRC", Value: int64(0)}}).u32(dumptest.Terminator),
			"has type"},
		"CRC in a segment header": {newArchive(t, cm).doc(t, dumptest.NamespaceHeader{Database: "db", Collection: "c", CRC: 5}).u32(dumptest.Terminator),
			"not an EOF header"},
		"prelude header type": {func() *archive {
			a := &archive{}
			a.u32(dumptest.MagicNumber).doc(t, bson.D{{Key: "concurrent_collections", Value: "four"}}).u32(dumptest.Terminator)
			return a
		}(), "prelude header"},
	} {
		t.Run(name, func(t *testing.T) {
			err := readArchive(c.a.b, name)
			if err == nil {
				t.Fatal("no error")
			}
			wantFormatError(t, err, name, 0, int64(len(c.a.b)), c.want)
		})
	}
}

// Errors are sticky, Close is safe, and Next after Close fails.
func TestSourceLifecycle(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 3})
	data := dumptest.ArchiveBytes(ds, false, false)
	bad, _, _ := dumptest.WrongCRC(data, "app.types")
	src, err := dump.OpenArchive(bytes.NewReader(bad), "x")
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := drain(src)
	_, _, err2 := src.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v then %v", err1, err2)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func() (dump.Source, error){
		func() (dump.Source, error) { return dump.OpenArchive(bytes.NewReader(data), "y") },
		func() (dump.Source, error) { return dump.OpenDir(writeDump(t, ds, true)) },
	} {
		src, err := open()
		if err != nil {
			t.Fatal(err)
		}
		src.Next()
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := src.Next(); err == nil {
			t.Error("Next after Close succeeded")
		}
		if err := src.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
}
