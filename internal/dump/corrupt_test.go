package dump_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

// smallArchive is interleaved and holds every kind of section; small
// enough to try many corruptions of it.
func smallArchive(t *testing.T) ([]byte, []dumptest.Section) {
	t.Helper()
	ds := fixture(dumptest.Options{DocsPerCollection: 4, Oplog: true})
	data := dumptest.ArchiveBytes(ds, false, true)
	secs, err := dumptest.Layout(data)
	if err != nil {
		t.Fatal(err)
	}
	return data, secs
}

// samples picks offsets inside a section: its first and last bytes, the
// byte after its first and a middle byte.
func samples(s dumptest.Section) []int {
	offs := []int{s.Offset, s.Offset + 1, s.Offset + s.Len/2, s.End() - 1}
	var out []int
	seen := map[int]bool{}
	for _, o := range offs {
		if o >= s.Offset && o < s.End() && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// bySection keeps up to n sections of each kind, spread over the archive.
func bySection(secs []dumptest.Section, n int) []dumptest.Section {
	count := map[dumptest.SectionKind]int{}
	for _, s := range secs {
		count[s.Kind]++
	}
	var out []dumptest.Section
	idx := map[dumptest.SectionKind]int{}
	for _, s := range secs {
		i := idx[s.Kind]
		idx[s.Kind]++
		step := max(count[s.Kind]/n, 1)
		if i%step == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Truncating the archive anywhere, in every section, fails with an error
// pointing at or before the cut.
func TestArchiveTruncated(t *testing.T) {
	data, secs := smallArchive(t)
	kinds := map[dumptest.SectionKind]int{}
	for _, s := range bySection(secs, 6) {
		for _, cut := range samples(s) {
			if cut == 0 {
				continue
			}
			kinds[s.Kind]++
			name := fmt.Sprintf("cut-%d.archive", cut)
			err := readArchive(dumptest.Truncate(data, cut), name)
			if err == nil {
				t.Fatalf("archive cut at %d (in %v of %s) read without error", cut, s.Kind, s.Namespace)
			}
			fe := wantFormatError(t, err, name, 0, int64(cut), "truncated")
			if t.Failed() {
				t.Fatalf("cut at %d in %v: %v", cut, s.Kind, fe)
			}
		}
	}
	// cutting exactly between two blocks leaves a well-formed prefix: the
	// missing EOF blocks must still be noticed
	for _, s := range secs {
		if (s.Kind == dumptest.SectionTerminator || s.Kind == dumptest.SectionEOFTerminator || s.Kind == dumptest.SectionPreludeTerminator) && s.End() < len(data) {
			kinds[-1]++
			err := readArchive(dumptest.Truncate(data, s.End()), "x")
			if err == nil {
				t.Fatalf("archive cut after the %v at %d read without error", s.Kind, s.End())
			}
			wantFormatError(t, err, "x", int64(s.End()), int64(s.End()), "truncated")
		}
	}
	if len(kinds) != 10 {
		t.Errorf("tried sections %v, want all 9 kinds and block boundaries", kinds)
	}
	if err := readArchive(nil, "empty"); err == nil {
		t.Error("empty input read without error")
	} else {
		wantFormatError(t, err, "empty", 0, 0, "empty")
	}
}

// A gzipped archive cut anywhere fails too (in the compressed stream, or
// because the decompressed archive ends early).
func TestArchiveGzipTruncated(t *testing.T) {
	data, _ := smallArchive(t)
	gz := dumptest.Gzip(data)
	for cut := 1; cut < len(gz); cut += max(1, len(gz)/97) {
		err := readArchive(gz[:cut], "a.gz")
		if err == nil {
			t.Fatalf("gzip archive cut at %d read without error", cut)
		}
		fe := wantFormatError(t, err, "a.gz", 0, int64(len(data)))
		if fe.Offset > 0 && !fe.Uncompressed {
			t.Errorf("error %q in a gzip stream does not say its offset is uncompressed", fe)
		}
	}
	// cut inside the decompressed archive, then compressed properly
	err := readArchive(dumptest.Gzip(data[:len(data)/2]), "b.gz")
	fe := wantFormatError(t, err, "b.gz", 0, int64(len(data)/2), "truncated", "gunzipped")
	if !fe.Uncompressed {
		t.Error("offset not marked as uncompressed")
	}
}

// Flipping a byte of a document, a header or a terminator fails; flipping
// a byte of the prelude either fails or changes nothing that is read
// (the prelude has no checksum: a flipped letter of a version string is
// undetectable), but never panics or returns other documents.
func TestArchiveFlippedBytes(t *testing.T) {
	data, secs := smallArchive(t)
	ds := fixture(dumptest.Options{DocsPerCollection: 4, Oplog: true})
	mustFail := map[dumptest.SectionKind]bool{
		dumptest.SectionMagic: true, dumptest.SectionPreludeTerminator: true,
		dumptest.SectionNamespaceHeader: true, dumptest.SectionDocument: true, dumptest.SectionTerminator: true,
		dumptest.SectionEOFHeader: true, dumptest.SectionEOFTerminator: true,
	}
	want := expectedDocs(ds)
	tried := 0
	for _, s := range bySection(secs, 8) {
		offs := samples(s)
		if s.Kind == dumptest.SectionNamespaceHeader || s.Kind == dumptest.SectionEOFHeader || s.Kind == dumptest.SectionDocument {
			offs = nil // every byte of a few of them
			for o := s.Offset; o < s.End(); o++ {
				offs = append(offs, o)
			}
		}
		for _, off := range offs {
			tried++
			bad := dumptest.FlipByte(data, off)
			src, err := dump.OpenArchive(bytes.NewReader(bad), "f")
			mismatch := false
			if err == nil {
				mismatch, err = compareWhileReading(src, want)
			}
			if err == nil {
				if mustFail[s.Kind] || mismatch {
					t.Fatalf("flipped byte %d (in %v of %s) read without error (documents differ: %v)", off, s.Kind, s.Namespace, mismatch)
				}
				continue
			}
			wantFormatError(t, err, "f", 0, int64(len(data)))
		}
	}
	t.Logf("%d flipped archives", tried)
}

// A flipped byte in a gzipped archive is caught by gzip's CRC-32 or
// deflate, except in the gzip header fields that no checksum covers
// (MTIME, XFL, OS: bytes 4-9).
func TestArchiveGzipFlippedBytes(t *testing.T) {
	data, _ := smallArchive(t)
	gz := dumptest.Gzip(data)
	for off := 10; off < len(gz); off += max(1, len(gz)/151) {
		err := readArchive(dumptest.FlipByte(gz, off), "f.gz")
		if err == nil {
			t.Fatalf("flipped compressed byte %d read without error", off)
		}
		wantFormatError(t, err, "f.gz", 0, int64(len(data)))
	}
}

// compareWhileReading reads src to its end or first error and reports
// whether any document differed from the generated one. Documents are
// provisional until the end (a CRC is checked at the namespace's EOF
// block), so a corrupt document may be returned, but then an error must
// follow.
func compareWhileReading(src dump.Source, want map[dump.Namespace][][]byte) (mismatch bool, err error) {
	defer src.Close()
	next := map[dump.Namespace]int{}
	for {
		ns, doc, err := src.Next()
		if err == io.EOF {
			return mismatch, nil
		}
		if err != nil {
			return mismatch, err
		}
		docs := want[ns]
		if next[ns] >= len(docs) || !bytes.Equal(doc, docs[next[ns]]) {
			mismatch = true
		}
		next[ns]++
	}
}

func expectedDocs(ds *dumptest.Dataset) map[dump.Namespace][][]byte {
	m := map[dump.Namespace][][]byte{}
	for _, c := range ds.Collections {
		ns := dump.Namespace{DB: c.DB, Collection: c.Name}
		m[ns] = [][]byte{}
		for _, d := range c.Docs() {
			m[ns] = append(m[ns], d)
		}
	}
	return m
}

func TestArchiveWrongCRC(t *testing.T) {
	data, _ := smallArchive(t)
	for _, gz := range []bool{false, true} {
		bad, at, err := dumptest.WrongCRC(data, "app.orders")
		if err != nil {
			t.Fatal(err)
		}
		if gz {
			bad = dumptest.Gzip(bad)
		}
		err = readArchive(bad, "crc")
		fe := wantFormatError(t, err, "crc", int64(at), int64(at), "CRC mismatch")
		if fe.Namespace != "app.orders" || fe.Uncompressed != gz {
			t.Errorf("error %q: namespace %q uncompressed %v", fe, fe.Namespace, fe.Uncompressed)
		}
	}
	// an empty namespace has CRC 0
	bad, at, err := dumptest.WrongCRC(data, "edge.empty")
	if err != nil {
		t.Fatal(err)
	}
	wantFormatError(t, readArchive(bad, "crc"), "crc", int64(at), int64(at), "CRC mismatch", "edge.empty")
}

func TestArchiveOversizeDocument(t *testing.T) {
	ds := dumptest.WithOversizeDocument(fixture(dumptest.Options{DocsPerCollection: 2}), dump.MaxDocumentSize+1)
	data := dumptest.ArchiveBytes(ds, false, false)
	secs, err := dumptest.Layout(data)
	if err != nil {
		t.Fatal(err)
	}
	var at int
	for _, s := range secs {
		if s.Kind == dumptest.SectionDocument && s.Namespace == "oversize.big" {
			at = s.Offset
		}
	}
	wantFormatError(t, readArchive(data, "big"), "big", int64(at), int64(at), "larger than the maximum", "oversize.big")

	// only the length says so
	data, secs = smallArchive(t)
	for _, s := range secs {
		if s.Kind == dumptest.SectionDocument {
			bad := dumptest.SetUint32(data, s.Offset, 0x7fff0000)
			wantFormatError(t, readArchive(bad, "len"), "len", int64(s.Offset), int64(s.Offset), "larger than the maximum")
			bad = dumptest.SetUint32(data, s.Offset, dump.MaxBSONSize+1)
			wantFormatError(t, readArchive(bad, "len"), "len", int64(s.Offset), int64(s.Offset), "truncated")
			break
		}
	}
}

// A document of exactly the maximum size is accepted.
func TestMaxSizeDocumentAccepted(t *testing.T) {
	ds := dumptest.WithOversizeDocument(fixture(dumptest.Options{DocsPerCollection: 1}), dump.MaxDocumentSize)
	src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(ds, false, false)), "max")
	if err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, src, ds)
}

func TestUnknownFormats(t *testing.T) {
	bsonDoc := fixture(dumptest.Options{}).Lookup("app", "types").Doc(0)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"zip":        {[]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip file"), "ZIP"},
		"text":       {[]byte("hello, this is not an archive\n"), "text"},
		"json":       {[]byte(`{"db": "app", "collection": "x"}`), "text"},
		"bson":       {append(append([]byte(nil), bsonDoc...), bsonDoc...), "raw BSON"},
		"zstd":       {[]byte("\x28\xb5\x2f\xfd\x00\x00\x00\x00"), "zstd"},
		"short":      {[]byte{0x6d, 0xe2}, "too short"},
		"binary":     {[]byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02}, "magic number"},
		"gzip-text":  {dumptest.Gzip([]byte("some gzipped text, not an archive")), "magic number"},
		"gzip-bad":   {[]byte{0x1f, 0x8b, 0x08, 0xff, 0, 0, 0}, "gzip"},
		"gzip-none":  {dumptest.Gzip(nil), "truncated"},
		"magic-only": {[]byte{0x6d, 0xe2, 0x99, 0x81}, "truncated"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := readArchive(c.data, name)
			if err == nil {
				t.Fatal("no error")
			}
			wantFormatError(t, err, name, 0, 4, c.want)
		})
	}
}

// Archives with structural problems that a correct writer never produces.
func TestArchiveStructureErrors(t *testing.T) {
	data, secs := smallArchive(t)
	find := func(k dumptest.SectionKind, from int) dumptest.Section {
		for _, s := range secs {
			if s.Kind == k && s.Offset >= from {
				return s
			}
		}
		t.Fatalf("no %v", k)
		return dumptest.Section{}
	}
	splice := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	term := []byte{0xff, 0xff, 0xff, 0xff}

	// a document right after an EOF header
	eof := find(dumptest.SectionEOFHeader, 0)
	doc := find(dumptest.SectionDocument, 0)
	bad := splice(data[:eof.End()], data[doc.Offset:doc.End()], data[eof.End():])
	wantFormatError(t, readArchive(bad, "s"), "s", int64(eof.End()), int64(eof.End()), "after the namespace's EOF header")

	// a block after the namespace's EOF block
	var hdr dumptest.Section
	for _, s := range secs {
		if s.Kind == dumptest.SectionNamespaceHeader && s.Namespace == eof.Namespace {
			hdr = s
			break
		}
	}
	bad = splice(data, data[hdr.Offset:hdr.End()], term)
	wantFormatError(t, readArchive(bad, "s"), "s", int64(len(data)), int64(len(data)), "after the namespace's EOF block")

	// consecutive terminators
	bad = splice(data, term)
	wantFormatError(t, readArchive(bad, "s"), "s", int64(len(data)), int64(len(data)), "consecutive terminators")

	// trailing garbage
	bad = splice(data, []byte("garbage!"))
	wantFormatError(t, readArchive(bad, "s"), "s", int64(len(data)), int64(len(data)))

	// a namespace the prelude does not list
	other := []byte(strings.Replace(string(data[hdr.Offset:hdr.End()]), hdr.Namespace[strings.Index(hdr.Namespace, ".")+1:], strings.Repeat("z", len(hdr.Namespace)-strings.Index(hdr.Namespace, ".")-1), 1))
	bad = splice(data[:hdr.Offset], other, data[hdr.End():])
	wantFormatError(t, readArchive(bad, "s"), "s", int64(hdr.Offset), int64(hdr.Offset), "not in the archive prelude")

	// a prelude without a header
	bad = splice(data[:4], term)
	wantFormatError(t, readArchive(bad, "s"), "s", 4, 4, "prelude header")
}

func TestDirCorrupt(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 6})
	for _, gz := range []bool{false, true} {
		sfx := map[bool]string{false: "", true: ".gz"}[gz]
		fresh := func(t *testing.T) string { return writeDump(t, ds, gz) }
		readDir := func(dir string) error {
			src, err := dump.OpenDir(dir)
			if err != nil {
				return err
			}
			defer src.Close()
			_, err = drain(src)
			return err
		}
		t.Run("truncated"+sfx, func(t *testing.T) {
			c := ds.Lookup("app", "orders")
			var bounds []int
			off := 0
			for _, d := range c.Docs() {
				bounds = append(bounds, off)
				off += len(d)
			}
			total := off
			for _, cut := range []int{1, 3, 4, 5, bounds[1] + 2, bounds[3] + 17, total - 1} {
				dir := fresh(t)
				path := filepath.Join(dir, "app", "orders.bson"+sfx)
				if gz {
					raw, _ := os.ReadFile(path)
					plain := decompress(t, raw)
					if err := os.WriteFile(path, dumptest.Gzip(plain[:cut]), 0o644); err != nil {
						t.Fatal(err)
					}
				} else if err := dumptest.TruncateFile(path, int64(cut)); err != nil {
					t.Fatal(err)
				}
				start := 0
				for _, b := range bounds {
					if b <= cut {
						start = b
					}
				}
				fe := wantFormatError(t, readDir(dir), path, int64(start), int64(start), "truncated")
				if fe.Namespace != "app.orders" || fe.Uncompressed != gz {
					t.Errorf("error %q: namespace %q, uncompressed %v", fe, fe.Namespace, fe.Uncompressed)
				}
			}
		})
		t.Run("flipped"+sfx, func(t *testing.T) {
			// structural bytes: a length, an element type, a document terminator
			first := ds.Lookup("app", "types").Doc(0)
			for _, off := range []int{0, 3, 4, len(first) - 1} {
				dir := fresh(t)
				path := filepath.Join(dir, "app", "types.bson"+sfx)
				if gz {
					raw, _ := os.ReadFile(path)
					if err := os.WriteFile(path, dumptest.Gzip(dumptest.FlipByte(decompress(t, raw), off)), 0o644); err != nil {
						t.Fatal(err)
					}
				} else if err := dumptest.FlipFileByte(path, int64(off)); err != nil {
					t.Fatal(err)
				}
				wantFormatError(t, readDir(dir), path, 0, int64(len(first)+256))
			}
		})
		t.Run("metadata"+sfx, func(t *testing.T) {
			dir := fresh(t)
			path := filepath.Join(dir, "app", "types.metadata.json"+sfx)
			content := []byte(`{"options":{},"indexes":[}`)
			if gz {
				content = dumptest.Gzip(content)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := dump.OpenDir(dir)
			wantFormatError(t, err, path, 24, 26, "metadata")
		})
	}
	t.Run("oversize", func(t *testing.T) {
		big := dumptest.WithOversizeDocument(fixture(dumptest.Options{DocsPerCollection: 1}), dump.MaxDocumentSize+1)
		dir := writeDump(t, big, false)
		_, err := drain(openDir(t, dir))
		wantFormatError(t, err, filepath.Join(dir, "oversize", "big.bson"), 0, 0, "larger than the maximum")
	})
	t.Run("gzip-checksum", func(t *testing.T) {
		dir := writeDump(t, ds, true)
		path := filepath.Join(dir, "app", "orders.bson.gz")
		fi, _ := os.Stat(path)
		// the CRC-32 in the gzip trailer
		if err := dumptest.FlipFileByte(path, fi.Size()-6); err != nil {
			t.Fatal(err)
		}
		_, err := drain(openDir(t, dir))
		wantFormatError(t, err, path, 0, ds.Lookup("app", "orders").TotalSize(), "gzip")
	})
	t.Run("hashed-name-without-metadata", func(t *testing.T) {
		dir := writeDump(t, ds, false)
		stem := dumptest.FileStem("très-long-" + strings.Repeat("é", 80) + "-end")
		if err := os.Remove(filepath.Join(dir, "edge", stem+".metadata.json")); err != nil {
			t.Fatal(err)
		}
		_, err := dump.OpenDir(dir)
		wantFormatError(t, err, filepath.Join(dir, "edge", stem+".bson"), -1, -1, "truncated file name")
	})
	t.Run("bad-db-name", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "bad$db"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := dump.OpenDir(dir)
		wantFormatError(t, err, filepath.Join(dir, "bad$db"), -1, -1, "invalid database")
	})
	t.Run("not-a-dir", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, []byte("x"), 0o644)
		_, err := dump.OpenDir(f)
		wantFormatError(t, err, f, -1, -1, "not a directory")
	})
}

func decompress(t *testing.T, gz []byte) []byte {
	t.Helper()
	src, err := gzipReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
