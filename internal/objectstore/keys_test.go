package objectstore_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/objectstore"
)

const keysPrefix = "exported_snapshots/o/g/Cluster0/2026-08-10T0327/1786332505/"

// collidingKeys are the objects an export writes for collections whose
// names a file system would fold onto one another (x.y, x.y/., x.y//,
// x.y/.., ...) or refuse (a 253-byte name, which escaping lengthens), or
// that hold what some store cannot keep as it is (", #, ?, \, control
// characters, CR and LF) or what reads like an escape ("__0x2f__", "%5C"),
// as keys relative to keysPrefix.
func collidingKeys() []string {
	var keys []string
	for _, coll := range []string{"y", "y/.", "y//", "y/..", "y/../z", "/y", "y%2E", "y.", "y %", "__0x2f__y",
		strings.Repeat("c", 253), strings.Repeat("%", 84), `y"#?\`, "y\t\x7f", "y\r\n", "y%5C%0A%25"} {
		keys = append(keys, "x/"+coll+"/rs0.0.json.gz", "x/"+coll+"/rs0.1.json.gz", "x/"+coll+"/metadata.json")
	}
	return append(keys, ".complete")
}

// content is what key i holds: its own bytes, after i+1 bytes that give
// every object its own size.
func content(i int, key string) []byte {
	return []byte(strings.Repeat("#", i+1) + key)
}

// writeDistinctKeys writes every key of collidingKeys under keysPrefix
// and checks that each reads back with its own content and that listing
// gives exactly those keys.
func writeDistinctKeys(t *testing.T, b *blob.Bucket) []string {
	t.Helper()
	keys := collidingKeys()
	for i, k := range keys {
		if err := b.WriteAll(bg(), keysPrefix+k, content(i, k), nil); err != nil {
			t.Fatalf("write %q: %v", k, err)
		}
	}
	for i, k := range keys {
		got, err := b.ReadAll(bg(), keysPrefix+k)
		if err != nil {
			t.Errorf("read %q: %v", k, err)
			continue
		}
		if !bytes.Equal(got, content(i, k)) {
			t.Errorf("%q holds %q, want %q", k, got, content(i, k))
		}
	}
	var listed []string
	for _, k := range exporttest.ListKeys(t, b, keysPrefix) {
		listed = append(listed, strings.TrimPrefix(k, keysPrefix))
	}
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(listed, want) {
		t.Errorf("listed %q\nwant %q", listed, want)
	}
	return keys
}

// openDistinctKeys opens target's bucket until the test ends and writes
// collidingKeys into it with writeDistinctKeys.
func openDistinctKeys(t *testing.T, stores *objectstore.Stores, target objectstore.Target) (*blob.Bucket, []string) {
	t.Helper()
	b, err := stores.Open(bg(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, writeDistinctKeys(t, b)
}

func TestLocalBucketKeepsEveryKeyApart(t *testing.T) {
	dir := t.TempDir()
	b, _ := openDistinctKeys(t, newStores(t, objectstore.Config{LocalDir: dir}), awsTarget("b1"))

	// listing with a delimiter and in pages sees the same keys
	it := b.List(&blob.ListOptions{Prefix: keysPrefix + "x/", Delimiter: "/"})
	var dirs []string
	for {
		obj, err := it.Next(bg())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !obj.IsDir {
			t.Errorf("%q listed as an object under x/", obj.Key)
		}
		dirs = append(dirs, strings.TrimPrefix(obj.Key, keysPrefix+"x/"))
	}
	wantDirs := []string{"/", "__0x2f__y/", strings.Repeat("c", 253) + "/", "y %/", "y%2E/", "y./", "y/",
		`y"#?\/`, "y\t\x7f/", "y\r\n/", "y%5C%0A%25/"}
	wantDirs = append(wantDirs, strings.Repeat("%", 84)+"/")
	slices.Sort(wantDirs)
	if !slices.Equal(dirs, wantDirs) {
		t.Errorf("directories under x/: %q\nwant %q", dirs, wantDirs)
	}
	var paged []string
	var token = blob.FirstPageToken
	for token != nil {
		page, next, err := b.ListPage(bg(), token, 5, &blob.ListOptions{Prefix: keysPrefix})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			paged = append(paged, strings.TrimPrefix(o.Key, keysPrefix))
		}
		token = next
	}
	if want := slices.Sorted(slices.Values(collidingKeys())); !slices.Equal(paged, want) {
		t.Errorf("paged listing %q\nwant %q", paged, want)
	}

	// an ordinary key is a plain file at its own path
	if _, err := os.Stat(filepath.Join(dir, "aws", "b1", filepath.FromSlash(keysPrefix), "x", "y", "rs0.0.json.gz")); err != nil {
		t.Error(err)
	}
	// a key below another key's file cannot be written: an error, not a
	// mix of the two
	if err := b.WriteAll(bg(), keysPrefix+"x/y/metadata.json/metadata.json", []byte("{}"), nil); err == nil {
		t.Error("wrote an object below the file of x/y/metadata.json")
	}
	// deleting one object leaves its neighbours
	if err := b.Delete(bg(), keysPrefix+"x/y/./metadata.json"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Exists(bg(), keysPrefix+"x/y/metadata.json"); !ok {
		t.Error("deleting x/y/./metadata.json removed x/y/metadata.json")
	}
}
