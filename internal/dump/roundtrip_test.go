package dump_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

func fullFixture() *dumptest.Dataset {
	return fixture(dumptest.Options{Oplog: true, AdminSystemVersion: true})
}

func TestArchiveRoundTrip(t *testing.T) {
	ds := fullFixture()
	for _, gz := range []bool{false, true} {
		for _, inter := range []bool{false, true} {
			t.Run(fmt.Sprintf("gzip=%v/interleave=%v", gz, inter), func(t *testing.T) {
				data := dumptest.ArchiveBytes(ds, gz, inter)
				src, err := dump.OpenArchive(bytes.NewReader(data), "test.archive")
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				info := src.Info()
				if info.Format != "archive" || info.Gzip != gz || info.FormatVersion != "0.1" ||
					info.ServerVersion != ds.ServerVersion || info.ToolVersion != ds.ToolVersion || info.ConcurrentCollections != 4 {
					t.Errorf("Info %+v", info)
				}
				checkAgainst(t, src, ds)
				if notes := strings.Join(src.Notes(), "\n"); !strings.Contains(notes, "oplog") {
					t.Errorf("notes do not mention the oplog: %s", notes)
				}
			})
		}
	}
}

func TestArchiveInterleaves(t *testing.T) {
	ds := fixture(dumptest.Options{})
	for _, inter := range []bool{false, true} {
		secs, err := dumptest.Layout(dumptest.ArchiveBytes(ds, false, inter))
		if err != nil {
			t.Fatal(err)
		}
		headers, eofs := 0, 0
		switches := 0
		last := ""
		for _, s := range secs {
			switch s.Kind {
			case dumptest.SectionNamespaceHeader:
				headers++
			case dumptest.SectionEOFHeader:
				eofs++
			case dumptest.SectionDocument:
				if last != "" && s.Namespace != last {
					switches++
				}
				last = s.Namespace
			}
		}
		if eofs != len(ds.Collections) {
			t.Errorf("interleave=%v: %d EOF blocks, want %d", inter, eofs, len(ds.Collections))
		}
		if !inter && headers != len(ds.Collections) {
			t.Errorf("sequential archive has %d namespace headers, want %d", headers, len(ds.Collections))
		}
		if inter && (headers < 3*len(ds.Collections) || switches < 3*len(ds.Collections)) {
			t.Errorf("interleaved archive has only %d headers and %d namespace switches", headers, switches)
		}
	}
}

func TestDirRoundTrip(t *testing.T) {
	ds := fullFixture()
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			dir := writeDump(t, ds, gz)
			sfx := ""
			if gz {
				sfx = ".gz"
			}
			// the layout mongodump produces
			for _, p := range []string{
				"prelude.json" + sfx, "oplog.bson" + sfx,
				"app/types.bson" + sfx, "app/types.metadata.json" + sfx,
				"analytics/system.buckets.metrics.bson" + sfx, "analytics/metrics.metadata.json" + sfx,
				"analytics/clicks.metadata.json" + sfx,
				"edge/empty.bson" + sfx,
				"edge/weird%2Fname%20%C3%A9%20%25%3F%20%E6%97%A5%E6%9C%AC.bson" + sfx,
				"admin/system.version.bson" + sfx,
			} {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Errorf("missing %s: %v", p, err)
				}
			}
			for _, p := range []string{"analytics/clicks.bson" + sfx, "analytics/metrics.bson" + sfx} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("unexpected %s", p)
				}
			}
			long := ds.Lookup("edge", "très-long-"+strings.Repeat("é", 80)+"-end")
			stem := dumptest.FileStem(long.Name)
			if len(stem) != 238 || !strings.Contains(stem, "%24") {
				t.Fatalf("long name stem %q is not hashed", stem)
			}
			if _, err := os.Stat(filepath.Join(dir, "edge", stem+".bson"+sfx)); err != nil {
				t.Error(err)
			}

			src := openDir(t, dir)
			defer src.Close()
			info := src.Info()
			if info.Format != "directory" || info.Gzip != gz || info.ServerVersion != ds.ServerVersion || info.ToolVersion != ds.ToolVersion {
				t.Errorf("Info %+v", info)
			}
			checkAgainst(t, src, ds)
			notes := strings.Join(src.Notes(), "\n")
			for _, w := range []string{"oplog", "prelude.json"} {
				if !strings.Contains(notes, w) {
					t.Errorf("notes do not mention %s: %s", w, notes)
				}
			}
		})
	}
}

// Open picks the right reader.
func TestOpen(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 3})
	dir := t.TempDir()
	if err := dumptest.WriteDir(filepath.Join(dir, "d"), ds, false); err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(dir, "a.gz")
	if err := os.WriteFile(arch, dumptest.ArchiveBytes(ds, true, true), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "d"), arch} {
		src, err := dump.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainst(t, src, ds)
		if err := src.Close(); err != nil {
			t.Error(err)
		}
	}
}

// Sequential reads of the same namespace see the documents in dump order,
// even when namespaces interleave, and counts grow as documents are read.
func TestCountsGrowWhileReading(t *testing.T) {
	ds := fixture(dumptest.Options{DocsPerCollection: 5})
	src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(ds, false, true)), "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range src.Collections() {
		if c.Count != 0 || c.Size != 0 {
			t.Fatalf("%v: Count %d Size %d before reading", c.Namespace, c.Count, c.Size)
		}
	}
	ns, doc, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range src.Collections() {
		if c.Namespace == ns && (c.Count != 1 || c.Size != int64(len(doc))) {
			t.Fatalf("%v: Count %d Size %d after one document", ns, c.Count, c.Size)
		}
	}
}

// The generator is deterministic, and seeds matter.
func TestGeneratorDeterministic(t *testing.T) {
	a := dumptest.ArchiveBytes(fixture(dumptest.Options{}), true, true)
	b := dumptest.ArchiveBytes(fixture(dumptest.Options{}), true, true)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different archives")
	}
	c := dumptest.ArchiveBytes(dumptest.Generate(dumptest.Options{Seed: 7}), true, true)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same archive")
	}
}

// The all-types collection really has every BSON type.
func TestGeneratorCoversEveryType(t *testing.T) {
	ds := fixture(dumptest.Options{})
	c := ds.Lookup("app", "types")
	seen := map[byte]bool{}
	subtypes := map[byte]bool{}
	var walk func(d []byte)
	walk = func(d []byte) {
		elems, err := bsonElements(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range elems {
			seen[byte(e.Value().Type)] = true
			switch e.Value().Type {
			case 0x03, 0x04:
				walk(e.Value().Value)
			case 0x05:
				st, _ := e.Value().Binary()
				subtypes[st] = true
			}
		}
	}
	for _, d := range c.Docs() {
		walk(d)
	}
	for _, typ := range []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x7F, 0xFF} {
		if !seen[typ] {
			t.Errorf("no element of type 0x%02x", typ)
		}
	}
	for _, st := range []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80} {
		if !subtypes[st] {
			t.Errorf("no binary of subtype 0x%02x", st)
		}
	}
}
