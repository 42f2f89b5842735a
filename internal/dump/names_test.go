package dump_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

// Namespaces MongoDB refuses on Linux, each with words its error must hold.
var invalidNamespaces = []struct {
	db, coll string
	words    []string
}{
	{"a/b", "c", []string{"invalid namespace", `"a/b.c"`, "database name", `'/'`}},
	{"a.b", "c", []string{"invalid namespace", "database name", `'.'`}},
	{"a b", "c", []string{"invalid namespace", "database name", `' '`}},
	{`a"b`, "c", []string{"invalid namespace", "database name"}},
	{"a$b", "c", []string{"invalid namespace", "database name", `'$'`}},
	{`a\b`, "c", []string{"invalid namespace", "database name"}},
	{"a\x00b", "c", []string{"invalid namespace", "database name"}},
	{strings.Repeat("d", 64), "c", []string{"invalid namespace", "database name", "63 bytes"}},
	{"db\xff", "c", []string{"invalid namespace", "database name", "UTF-8"}},
	{"x", "", []string{"without a collection name"}},
	{"x", "a$b", []string{"invalid namespace", "collection name", `'$'`}},
	{"x", "a\x00b", []string{"invalid namespace", "collection name"}},
	{"x", ".hidden", []string{"invalid namespace", "collection name", `starts with "."`}},
	{"x", "bad\xfe", []string{"invalid namespace", "collection name", "UTF-8"}},
	{"x", "system.foo", []string{"invalid namespace", "system."}},
	{"x", "system.buckets.", []string{"invalid namespace", "system."}},
	{"x", strings.Repeat("c", 254), []string{"invalid namespace", "256 bytes", "255"}},
}

// Namespaces MongoDB allows, among them collection names that are not
// file names ("/", "." and ".." segments).
var validNamespaces = []dump.Namespace{
	{DB: "x", Collection: "y"},
	{DB: "x", Collection: "y/."},
	{DB: "x", Collection: "y//"},
	{DB: "x", Collection: "y/.."},
	{DB: "x", Collection: "y/../z"},
	{DB: "x", Collection: "/y"},
	{DB: "x", Collection: "a b:c*?<>|\\ é 日本 %25 %"},
	{DB: "x", Collection: "system.js"},
	{DB: "x", Collection: "system.buckets.m"},
	{DB: "admin", Collection: "system.version"},
	{DB: strings.Repeat("d", 63), Collection: "c"},
	{DB: "x", Collection: strings.Repeat("c", 253)},
}

func TestValidateNamespace(t *testing.T) {
	for _, c := range invalidNamespaces {
		ns := dump.Namespace{DB: c.db, Collection: c.coll}
		if err := dump.ValidateNamespace(ns); err == nil {
			t.Errorf("ValidateNamespace(%q) accepted it", ns)
		}
	}
	for _, ns := range validNamespaces {
		if err := dump.ValidateNamespace(ns); err != nil {
			t.Errorf("ValidateNamespace(%q): %v", ns, err)
		}
	}
}

// An archive whose prelude lists a namespace MongoDB refuses is refused
// at that prelude entry, plain or gzipped, and the error names it.
func TestArchiveInvalidNamespace(t *testing.T) {
	for _, c := range invalidNamespaces {
		ds := &dumptest.Dataset{ServerVersion: "7.0.16", ToolVersion: "100.10.0", ConcurrentCollections: 1,
			Collections: []*dumptest.Collection{dumptest.Plain("ok", "first", 2), dumptest.Plain(c.db, c.coll, 2)}}
		plain := dumptest.ArchiveBytes(ds, false, false)
		sections, err := dumptest.Layout(plain)
		if err != nil {
			t.Fatal(err)
		}
		var entry dumptest.Section
		for _, s := range sections {
			if s.Kind == dumptest.SectionPreludeCollection {
				entry = s // the last one: the invalid namespace
			}
		}
		for _, gz := range []bool{false, true} {
			data := plain
			if gz {
				data = dumptest.Gzip(plain)
			}
			err := readArchive(data, "names.archive")
			fe := wantFormatError(t, err, "names.archive", int64(entry.Offset), int64(entry.Offset), c.words...)
			if fe != nil && fe.Uncompressed != gz {
				t.Errorf("%q: Uncompressed = %v for gzip %v", c.db+"."+c.coll, fe.Uncompressed, gz)
			}
		}
	}
}

// A dump directory is held to the same rules: its database directories
// and the collection names of its files.
func TestDirInvalidNamespace(t *testing.T) {
	for _, c := range invalidNamespaces {
		if strings.ContainsAny(c.db, "/\x00") || strings.HasPrefix(c.coll, "$") {
			continue // not a directory name; "$" files are skipped
		}
		dir := t.TempDir()
		ds := &dumptest.Dataset{ServerVersion: "7.0.16", ToolVersion: "100.10.0",
			Collections: []*dumptest.Collection{dumptest.Plain(c.db, c.coll, 2)}}
		if err := dumptest.WriteDir(dir, ds, false); err != nil {
			t.Fatal(err)
		}
		_, err := dump.OpenDir(dir)
		var fe *dump.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%q: OpenDir: %v, want a *dump.FormatError", c.db+"."+c.coll, err)
			continue
		}
		if !strings.HasPrefix(fe.File, filepath.Join(dir, c.db)) {
			t.Errorf("%q: error %q names file %q", c.db+"."+c.coll, fe, fe.File)
		}
		if !strings.Contains(fe.Error(), "invalid") {
			t.Errorf("%q: error %q", c.db+"."+c.coll, fe)
		}
	}
}

// Valid names come out as they went in, from an archive and from a
// directory, each collection with its own documents.
func TestValidNamespacesRoundTrip(t *testing.T) {
	ds := &dumptest.Dataset{ServerVersion: "7.0.16", ToolVersion: "100.10.0", ConcurrentCollections: 4}
	for i, ns := range validNamespaces {
		ds.Collections = append(ds.Collections, dumptest.Plain(ns.DB, ns.Collection, i+1))
	}
	for _, inter := range []bool{false, true} {
		src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(ds, false, inter)), "valid.archive")
		if err != nil {
			t.Fatal(err)
		}
		checkAgainst(t, src, ds)
	}
	dir := t.TempDir()
	if err := dumptest.WriteDir(dir, ds, false); err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, openDir(t, dir), ds)
}

// mongodump --dumpDbUsersAndRoles puts a database's users, roles and auth
// version in the archive as <db>.$admin.system.*: skipped with a note, as
// mongorestore skips them in a full restore and as directories skip their
// files.
func TestArchiveSkipsUsersAndRoles(t *testing.T) {
	keep := dumptest.Plain("app", "orders", 3)
	ds := &dumptest.Dataset{ServerVersion: "7.0.16", ToolVersion: "100.10.0", ConcurrentCollections: 1,
		Collections: []*dumptest.Collection{keep, dumptest.Plain("app", "$admin.system.users", 2)}}
	src, err := dump.OpenArchive(bytes.NewReader(dumptest.ArchiveBytes(ds, false, false)), "users.archive")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	checkAgainst(t, src, &dumptest.Dataset{ServerVersion: ds.ServerVersion, ToolVersion: ds.ToolVersion,
		ConcurrentCollections: 1, Collections: []*dumptest.Collection{keep}})
	if notes := strings.Join(src.Notes(), "\n"); !strings.Contains(notes, "app.$admin.system.users") {
		t.Errorf("notes %q do not mention app.$admin.system.users", notes)
	}
}
