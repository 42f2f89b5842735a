package snapshotstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

var importedAt = time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 3, Oplog: true, AdminSystemVersion: true})
	viewless := dumptest.Generate(dumptest.Options{Seed: 4, ViewlessTimeseries: true, ServerVersion: "8.3.0"})
	type input struct {
		name string
		ds   *dumptest.Dataset
		gz   bool
		open func(t *testing.T) dump.Source
	}
	archive := func(ds *dumptest.Dataset, gz, inter bool) func(t *testing.T) dump.Source {
		return func(t *testing.T) dump.Source { return openArchive(t, dumptest.ArchiveBytes(ds, gz, inter)) }
	}
	directory := func(ds *dumptest.Dataset, gz bool) func(t *testing.T) dump.Source {
		return func(t *testing.T) dump.Source {
			dir := filepath.Join(t.TempDir(), "dump")
			if err := dumptest.WriteDir(dir, ds, gz); err != nil {
				t.Fatal(err)
			}
			src, err := dump.OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { src.Close() })
			return src
		}
	}
	inputs := []input{
		{"archive", ds, false, archive(ds, false, false)},
		{"archive-interleaved", ds, false, archive(ds, false, true)},
		{"archive-gzip-interleaved", ds, true, archive(ds, true, true)},
		{"archive-viewless-timeseries", viewless, false, archive(viewless, false, true)},
		{"directory", ds, false, directory(ds, false)},
		{"directory-gzip", ds, true, directory(ds, true)},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			s, dir := newDirStore(t, snapshotstore.Options{Now: func() time.Time { return importedAt }})
			src := in.open(t)
			var wantOrder []string
			for _, c := range src.Collections() {
				if !c.IsView() {
					wantOrder = append(wantOrder, c.Namespace.String())
				}
			}
			var last snapshotstore.Progress
			calls := 0
			m, err := s.Import(context.Background(), loc, "rs0", src, func(p snapshotstore.Progress) { last = p; calls++ })
			if err != nil {
				t.Fatal(err)
			}
			checkManifest(t, m, in.ds, in.gz, wantOrder)
			if calls == 0 || last.Collections != len(m.Namespaces) || last.Documents != m.Documents() || last.Bytes != m.Size() {
				t.Errorf("last progress %+v after %d calls, want %d collections, %d documents, %d bytes", last, calls, len(m.Namespaces), m.Documents(), m.Size())
			}
			if notes := strings.Join(m.Notes, "\n"); !strings.Contains(notes, "skipping view analytics.clicks") {
				t.Errorf("notes do not mention the view: %s", notes)
			}

			stored, err := s.Manifest(context.Background(), loc)
			if err != nil {
				t.Fatal(err)
			}
			returned := *m
			returned.Notes = nil
			if !reflect.DeepEqual(stored, &returned) {
				t.Errorf("stored manifest differs from the returned one:\n%+v\n%+v", stored, &returned)
			}
			checkData(t, s, stored, in.ds)
			checkObjects(t, dir, stored)
		})
	}
}

func checkManifest(t *testing.T, m *snapshotstore.Manifest, ds *dumptest.Dataset, gz bool, wantOrder []string) {
	t.Helper()
	if m.FormatVersion != 1 || m.ProjectID != loc.ProjectID || m.SnapshotID != loc.SnapshotID || m.ReplicaSetName != "rs0" || !m.ImportedAt.Equal(importedAt) {
		t.Errorf("manifest header %d %s %s %s %s", m.FormatVersion, m.ProjectID, m.SnapshotID, m.ReplicaSetName, m.ImportedAt)
	}
	if m.Source.Gzip != gz || m.Source.ServerVersion != ds.ServerVersion || m.Source.ToolVersion != ds.ToolVersion {
		t.Errorf("source %+v", m.Source)
	}
	var order []string
	var size int64
	timeseries := 0
	for _, mc := range m.Namespaces {
		ns := mc.DB + "." + mc.Name
		order = append(order, ns)
		c := ds.Lookup(mc.DB, mc.Name)
		if c == nil {
			t.Errorf("%s is not in the dataset", ns)
			continue
		}
		if c.Type == dumptest.TypeView {
			t.Errorf("view %s is in the manifest", ns)
		}
		if mc.Type != c.Type || mc.UUID != c.UUID || mc.DataCollection != c.DataCollection() {
			t.Errorf("%s: type %q uuid %q data collection %q, want %q %q %q", ns, mc.Type, mc.UUID, mc.DataCollection, c.Type, c.UUID, c.DataCollection())
		}
		if mc.Type == dumptest.TypeTimeseries {
			timeseries++
		}
		if mc.Count != int64(c.NumDocs) || mc.Size != c.TotalSize() {
			t.Errorf("%s: %d documents of %d bytes, want %d of %d", ns, mc.Count, mc.Size, c.NumDocs, c.TotalSize())
		}
		if c.NumDocs == 0 && len(mc.Parts) != 0 {
			t.Errorf("%s: empty collection with parts %v", ns, mc.Parts)
		}
		for n, p := range mc.Parts {
			if want := fmt.Sprintf(".%d.bson", n); !strings.HasSuffix(p.Key, want) || !strings.HasPrefix(p.Key, loc.Prefix()+"data/") {
				t.Errorf("%s: part %d has key %s", ns, n, p.Key)
			}
		}
		want, err := dump.ParseMetadata(c.MetadataJSON())
		if err != nil {
			t.Fatal(err)
		}
		got, err := dump.ParseMetadata(mc.Metadata)
		if err != nil {
			t.Fatalf("%s: metadata %s: %v", ns, mc.Metadata, err)
		}
		if !bytes.Equal(got.Raw, want.Raw) {
			t.Errorf("%s: metadata\n got %s\nwant %s", ns, mc.Metadata, c.MetadataJSON())
		}
		size += mc.Size
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("collections %v, want %v", order, wantOrder)
	}
	if timeseries != 1 {
		t.Errorf("%d time-series collections, want 1", timeseries)
	}
	if m.Size() != size {
		t.Errorf("Size %d, want %d", m.Size(), size)
	}
	sc := m.Collections()
	if len(sc) != len(m.Namespaces) {
		t.Fatalf("Collections: %d, want %d", len(sc), len(m.Namespaces))
	}
	for i, c := range sc {
		mc := m.Namespaces[i]
		if c != (snapexport.SnapshotCollection{DB: mc.DB, Name: mc.Name, Type: mc.Type, UUID: mc.UUID, Count: mc.Count, Size: mc.Size}) {
			t.Errorf("Collections()[%d] = %+v", i, c)
		}
	}
}

// checkData reads every collection back and compares it with the dataset.
func checkData(t *testing.T, s *snapshotstore.Store, m *snapshotstore.Manifest, ds *dumptest.Dataset) {
	t.Helper()
	for i, mc := range m.Namespaces {
		docs, err := readCollection(t, s, m, i)
		if err != nil {
			t.Fatalf("%s.%s: %v", mc.DB, mc.Name, err)
		}
		c := ds.Lookup(mc.DB, mc.Name)
		if len(docs) != c.NumDocs {
			t.Fatalf("%s: %d documents, want %d", c.Namespace(), len(docs), c.NumDocs)
		}
		for j, d := range docs {
			if !bytes.Equal(d, c.Doc(j)) {
				t.Fatalf("%s: document %d differs", c.Namespace(), j)
			}
		}
	}
}

// checkObjects checks that the bucket holds the manifest and the parts it
// lists, and nothing else.
func checkObjects(t *testing.T, dir string, m *snapshotstore.Manifest) {
	t.Helper()
	want := []string{loc.ManifestKey()}
	for _, mc := range m.Namespaces {
		for _, p := range mc.Parts {
			want = append(want, p.Key)
		}
	}
	slices.Sort(want)
	b, err := blob.OpenBucket(context.Background(), "file://"+filepath.ToSlash(dir)+"?metadata=skip")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := exporttest.ListKeys(t, b, ""); !slices.Equal(got, want) {
		t.Errorf("objects\n%q\nwant\n%q", got, want)
	}
}

// Parts stay small when only one can be open: an interleaved archive then
// gives several parts per collection, read back in order.
func TestOnePartOpenAtATime(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 60})
	s, dir := newDirStore(t, snapshotstore.Options{MaxOpenParts: 1})
	m, err := s.Import(context.Background(), loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, true)), nil)
	if err != nil {
		t.Fatal(err)
	}
	multi := 0
	for _, mc := range m.Namespaces {
		if len(mc.Parts) > 1 {
			multi++
		}
	}
	if multi < 3 {
		t.Errorf("only %d collections have more than one part", multi)
	}
	checkData(t, s, m, ds)
	checkObjects(t, dir, m)
}

// A memblob bucket behaves like a directory.
func TestMemBucket(t *testing.T) {
	ds := smallDataset()
	b := memblob.OpenBucket(nil)
	defer b.Close()
	s := snapshotstore.New(b, snapshotstore.Options{MaxOpenParts: 2})
	m, err := s.Import(context.Background(), loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, true, true)), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkData(t, s, m, ds)
	if err := s.Delete(context.Background(), loc); err != nil {
		t.Fatal(err)
	}
	if keys := exporttest.ListKeys(t, b, ""); len(keys) != 0 {
		t.Errorf("left after Delete: %q", keys)
	}
}

func TestDeleteAndNotFound(t *testing.T) {
	s, dir := newDirStore(t, snapshotstore.Options{})
	ctx := context.Background()
	if _, err := s.Manifest(ctx, loc); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Fatalf("Manifest of nothing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, loc); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	ds := smallDataset()
	if _, err := s.Import(ctx, loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, true)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, true)), nil); !errors.Is(err, snapshotstore.ErrExists) {
		t.Fatalf("second import: %v, want ErrExists", err)
	}
	other := snapshotstore.Location{ProjectID: loc.ProjectID, SnapshotID: "other"}
	if _, err := s.Import(ctx, other, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, false)), nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Delete(ctx, loc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Manifest(ctx, loc); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Fatalf("Manifest after Delete: %v, want ErrNotFound", err)
	}
	for _, f := range filesUnder(t, dir) {
		if !strings.Contains(f, "/other/") {
			t.Errorf("left after Delete: %s", f)
		}
	}
	if _, err := s.Manifest(ctx, other); err != nil {
		t.Errorf("the other snapshot is gone: %v", err)
	}
}

func TestInvalidLocation(t *testing.T) {
	s, _ := newDirStore(t, snapshotstore.Options{})
	for _, l := range []snapshotstore.Location{{"", "x"}, {"p", ""}, {"..", "x"}, {"p", "a/b"}, {"p", ".hidden"}, {"p", "é"}} {
		if _, err := s.Manifest(context.Background(), l); !errors.Is(err, snapshotstore.ErrInvalidLocation) {
			t.Errorf("Manifest(%+v): %v, want ErrInvalidLocation", l, err)
		}
		if err := s.Delete(context.Background(), l); !errors.Is(err, snapshotstore.ErrInvalidLocation) {
			t.Errorf("Delete(%+v): %v, want ErrInvalidLocation", l, err)
		}
	}
}
