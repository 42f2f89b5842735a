package snapshotstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// corruptCase is an input that Import must refuse.
type corruptCase struct {
	name string
	data []byte
}

// importMustFail imports each case with the same store and checks that it
// fails with a *dump.FormatError and leaves no file in the store's
// directory, temporary files included. It returns how many cases failed
// after Import had written documents, so that callers can check that
// cleanup of written parts was exercised and not only early failures.
func importMustFail(t *testing.T, cases []corruptCase) (afterWrites int) {
	t.Helper()
	// two open parts at most, so that parts are completed throughout the
	// import and cleanup has committed objects to remove
	s, dir := newDirStore(t, snapshotstore.Options{MaxOpenParts: 2})
	for _, c := range cases {
		src, err := dump.OpenArchive(bytes.NewReader(c.data), c.name)
		if err == nil {
			cs := &countingSource{Source: src}
			_, err = s.Import(context.Background(), loc, "rs0", cs, nil)
			src.Close()
			if err == nil {
				t.Fatalf("%s: Import succeeded", c.name)
			}
			if cs.docs > 0 {
				afterWrites++
			}
		}
		var fe *dump.FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: error %v (%T) is not a *dump.FormatError", c.name, err, err)
		}
		if fe.File != c.name {
			t.Errorf("%s: error names file %q", c.name, fe.File)
		}
		if files := filesUnder(t, dir); len(files) > 0 {
			t.Fatalf("%s: Import failed with %v but left %q", c.name, err, files)
		}
		if _, err := s.Manifest(context.Background(), loc); !errors.Is(err, snapshotstore.ErrNotFound) {
			t.Fatalf("%s: Manifest after a failed import: %v", c.name, err)
		}
	}
	return afterWrites
}

func TestImportTruncatedArchive(t *testing.T) {
	data, secs := smallArchive(t)
	var cases []corruptCase
	for _, s := range secs {
		// at the start of every section (a well-formed prefix when the
		// previous one is a terminator) and inside it
		for _, cut := range []int{s.Offset, s.Offset + s.Len/2} {
			if cut > 0 {
				cases = append(cases, corruptCase{fmt.Sprintf("cut-%d-in-%v-of-%s", cut, s.Kind, s.Namespace), dumptest.Truncate(data, cut)})
			}
		}
	}
	cases = append(cases, corruptCase{"cut-last-byte", dumptest.Truncate(data, len(data)-1)})
	if n := importMustFail(t, cases); n < len(cases)/2 {
		t.Errorf("only %d of %d truncated archives failed after documents were written", n, len(cases))
	}
	t.Logf("%d truncated archives", len(cases))
}

func TestImportTruncatedGzipArchive(t *testing.T) {
	raw := dumptest.ArchiveBytes(smallDataset(), false, true)
	gz := dumptest.Gzip(raw)
	var cases []corruptCase
	for cut := 1; cut < len(gz); cut += max(1, len(gz)/40) {
		cases = append(cases, corruptCase{fmt.Sprintf("gz-cut-%d", cut), gz[:cut]})
	}
	cases = append(cases, corruptCase{"gz-of-a-cut-archive", dumptest.Gzip(raw[:len(raw)*3/4])})
	importMustFail(t, cases)
}

func TestImportFlippedByte(t *testing.T) {
	data, secs := smallArchive(t)
	var cases []corruptCase
	seen := map[dumptest.SectionKind]int{}
	for _, s := range secs {
		switch s.Kind {
		case dumptest.SectionMagic, dumptest.SectionNamespaceHeader, dumptest.SectionDocument, dumptest.SectionTerminator,
			dumptest.SectionEOFHeader, dumptest.SectionEOFTerminator, dumptest.SectionPreludeTerminator:
		default:
			continue // the prelude's strings have no checksum
		}
		if seen[s.Kind]++; seen[s.Kind] > 6 {
			continue
		}
		for _, off := range []int{s.Offset, s.Offset + s.Len/2, s.End() - 1} {
			cases = append(cases, corruptCase{fmt.Sprintf("flip-%d-in-%v-of-%s", off, s.Kind, s.Namespace), dumptest.FlipByte(data, off)})
		}
	}
	gz := dumptest.Gzip(data)
	cases = append(cases, corruptCase{"gz-flip", dumptest.FlipByte(gz, len(gz)/2)})
	importMustFail(t, cases)
}

func TestImportWrongCRC(t *testing.T) {
	data := dumptest.ArchiveBytes(smallDataset(), false, true)
	var cases []corruptCase
	for _, ns := range []string{"app.types", "app.orders", "analytics.system.buckets.metrics", "edge.onedoc"} {
		bad, _, err := dumptest.WrongCRC(data, ns)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, corruptCase{"crc-" + ns, bad}, corruptCase{"crc-gz-" + ns, dumptest.Gzip(bad)})
	}
	if n := importMustFail(t, cases); n != len(cases) {
		t.Errorf("%d of %d wrong CRCs failed after documents were written", n, len(cases))
	}
}

func TestImportOversizeDocument(t *testing.T) {
	ds := smallDataset()
	data := dumptest.ArchiveBytes(ds, false, true)
	secs, err := dumptest.Layout(data)
	if err != nil {
		t.Fatal(err)
	}
	var cases []corruptCase
	for _, s := range secs {
		if s.Kind == dumptest.SectionDocument && s.Namespace == "app.orders" {
			cases = append(cases, corruptCase{"length", dumptest.SetUint32(data, s.Offset, dump.MaxDocumentSize+1)})
			break
		}
	}
	big := dumptest.WithOversizeDocument(ds, dump.MaxDocumentSize+1)
	cases = append(cases, corruptCase{"oversize", dumptest.ArchiveBytes(big, false, true)})
	importMustFail(t, cases)
}

// A dump directory's files have no checksum, but a truncated one or bad
// metadata is still bad input.
func TestImportBadDirectory(t *testing.T) {
	ds := smallDataset()
	s, store := newDirStore(t, snapshotstore.Options{MaxOpenParts: 2})
	for _, tc := range []struct {
		name  string
		spoil func(dir string) error
	}{
		{"truncated-last-collection", func(dir string) error {
			path := filepath.Join(dir, "edge", "onedoc.bson")
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			return dumptest.TruncateFile(path, fi.Size()-3)
		}},
		{"bad-length", func(dir string) error {
			return dumptest.FlipFileByte(filepath.Join(dir, "edge", "onedoc.bson"), 3)
		}},
	} {
		dir := filepath.Join(t.TempDir(), tc.name)
		if err := dumptest.WriteDir(dir, ds, false); err != nil {
			t.Fatal(err)
		}
		if err := tc.spoil(dir); err != nil {
			t.Fatal(err)
		}
		src, err := dump.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		cs := &countingSource{Source: src}
		_, err = s.Import(context.Background(), loc, "rs0", cs, nil)
		src.Close()
		var fe *dump.FormatError
		if !errors.As(err, &fe) || !strings.HasSuffix(fe.File, "onedoc.bson") {
			t.Fatalf("%s: %v, want a *dump.FormatError naming onedoc.bson", tc.name, err)
		}
		if cs.docs == 0 {
			t.Errorf("%s: failed before any document", tc.name)
		}
		if files := filesUnder(t, store); len(files) > 0 {
			t.Fatalf("%s: left %q", tc.name, files)
		}
	}
}

func TestImportCancelled(t *testing.T) {
	data := dumptest.ArchiveBytes(dumptest.Generate(dumptest.Options{Seed: 9, DocsPerCollection: 100}), true, true)
	s, dir := newDirStore(t, snapshotstore.Options{MaxOpenParts: 3})
	for _, at := range []int{1, 50, 300} {
		ctx, cancel := context.WithCancel(context.Background())
		cs := &countingSource{Source: openArchive(t, data), at: at, after: cancel}
		_, err := s.Import(ctx, loc, "rs0", cs, nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d documents: %v, want context.Canceled", at, err)
		}
		if cs.docs != at {
			t.Errorf("Import read %d documents after the cancellation at %d", cs.docs, at)
		}
		if files := filesUnder(t, dir); len(files) > 0 {
			t.Fatalf("cancelled after %d documents: left %q", at, files)
		}
	}
	// already cancelled
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Import(ctx, loc, "rs0", openArchive(t, data), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Import with a cancelled context: %v", err)
	}
}

// TestImportTakenOver: an import whose run lost the location to another
// import (its context cancelled with ErrTakenOver) stops without deleting
// anything, so that the other import's data, written meanwhile, stays
// whole and readable.
func TestImportTakenOver(t *testing.T) {
	data := dumptest.ArchiveBytes(dumptest.Generate(dumptest.Options{Seed: 9, DocsPerCollection: 100}), true, true)
	s, _ := newDirStore(t, snapshotstore.Options{MaxOpenParts: 3})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var taken *snapshotstore.Manifest
	stale := &countingSource{Source: openArchive(t, data), at: 50, after: func() {
		// The other import runs to its end while the stale one waits, as
		// when the stale one's process stood still past its lease.
		var err error
		if taken, err = s.Import(context.Background(), loc, "rs0", openArchive(t, data), nil); err != nil {
			t.Fatalf("the import taking the location over: %v", err)
		}
		cancel(snapshotstore.ErrTakenOver)
	}}
	if _, err := s.Import(ctx, loc, "rs0", stale, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("the import taken over: %v, want context.Canceled", err)
	}
	m, err := s.Manifest(context.Background(), loc)
	if err != nil {
		t.Fatalf("the other import's manifest after the stale import stopped: %v", err)
	}
	if m.Size() != taken.Size() || len(m.Namespaces) != len(taken.Namespaces) {
		t.Errorf("manifest of %d bytes in %d collections, want the other import's %d in %d", m.Size(), len(m.Namespaces), taken.Size(), len(taken.Namespaces))
	}
	for i := range m.Namespaces {
		cr, err := s.OpenCollection(context.Background(), loc, m, i)
		if err != nil {
			t.Fatalf("collection %d: %v", i, err)
		}
		for {
			if _, err := cr.Next(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("collection %d of the other import: %v", i, err)
			}
		}
		cr.Close()
	}
}

// Leftovers of an import that died (no manifest) are replaced.
func TestImportReplacesLeftovers(t *testing.T) {
	ds := smallDataset()
	s, dir := newDirStore(t, snapshotstore.Options{})
	stale := filepath.Join(dir, filepath.FromSlash(loc.Prefix()), "data", "app", "types.7.bson")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := s.Import(context.Background(), loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, true)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale part still there: %v", err)
	}
	checkData(t, s, m, ds)
}

// A data object changed after the import makes reading fail, naming it.
func TestTamperedData(t *testing.T) {
	ds := smallDataset()
	for _, tc := range []struct {
		name   string
		spoil  func(path string, size int64) error
		reason string
	}{
		{"flipped-payload", func(path string, size int64) error { return dumptest.FlipFileByte(path, size-10) }, "SHA-256"},
		{"flipped-length", func(path string, size int64) error { return dumptest.FlipFileByte(path, 3) }, "invalid document length"},
		{"truncated", func(path string, size int64) error { return dumptest.TruncateFile(path, size-1) }, "bytes, the manifest says"},
		{"removed", func(path string, size int64) error { return os.Remove(path) }, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := newDirStore(t, snapshotstore.Options{})
			m, err := s.Import(context.Background(), loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, true)), nil)
			if err != nil {
				t.Fatal(err)
			}
			i := collectionIndex(t, m, "app", "orders")
			part := m.Namespaces[i].Parts[len(m.Namespaces[i].Parts)-1]
			if err := tc.spoil(filepath.Join(dir, filepath.FromSlash(part.Key)), part.Size); err != nil {
				t.Fatal(err)
			}
			_, err = readCollection(t, s, m, i)
			if err == nil {
				t.Fatal("read a tampered collection without error")
			}
			if !errors.Is(err, snapshotstore.ErrCorrupt) || !strings.Contains(err.Error(), part.Key) || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q: want ErrCorrupt naming %s and saying %q", err, part.Key, tc.reason)
			}
		})
	}
}

func TestTamperedManifest(t *testing.T) {
	ds := smallDataset()
	s, dir := newDirStore(t, snapshotstore.Options{})
	if _, err := s.Import(context.Background(), loc, "rs0", openArchive(t, dumptest.ArchiveBytes(ds, false, false)), nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.FromSlash(loc.ManifestKey()))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(string) string{
		"version": func(s string) string { return strings.Replace(s, `"formatVersion":1`, `"formatVersion":2`, 1) },
		"count":   func(s string) string { return strings.Replace(s, `"count":8`, `"count":9`, 1) },
		"escape": func(s string) string {
			return strings.Replace(s, `data/app/types.0.bson`, `data/../../../x.bson`, 1)
		},
		"project":    func(s string) string { return strings.Replace(s, loc.ProjectID, "000000000000000000000000", 1) },
		"truncated":  func(s string) string { return s[:len(s)/2] },
		"bad-sha256": func(s string) string { return strings.Replace(s, `"sha256":"`, `"sha256":"zz`, 1) },
	} {
		if err := os.WriteFile(path, []byte(spoil(string(orig))), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Manifest(context.Background(), loc); !errors.Is(err, snapshotstore.ErrCorrupt) || !strings.Contains(err.Error(), loc.ManifestKey()) {
			t.Errorf("%s: Manifest: %v, want ErrCorrupt naming the manifest", name, err)
		}
	}
}

func collectionIndex(t *testing.T, m *snapshotstore.Manifest, db, name string) int {
	t.Helper()
	for i, c := range m.Namespaces {
		if c.DB == db && c.Name == name {
			return i
		}
	}
	t.Fatalf("%s.%s is not in the manifest", db, name)
	return -1
}
