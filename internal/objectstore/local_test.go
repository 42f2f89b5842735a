package objectstore_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
)

func TestLocalModeIsTheDefault(t *testing.T) {
	dir := t.TempDir()
	stores := newStores(t, objectstore.Config{LocalDir: dir})
	for _, p := range snapexport.CloudProviders {
		region, err := stores.Verify(bg(), objectstore.Target{Provider: p, Bucket: "export-bucket"})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want := ""
		if p == snapexport.AWS {
			want = objectstore.DefaultAWSRegion
		}
		if region != want {
			t.Errorf("%s: region %q, want %q", p, region, want)
		}
		file := filepath.Join(dir, map[snapexport.CloudProvider]string{snapexport.AWS: "aws", snapexport.Azure: "azure", snapexport.GCP: "gcp"}[p],
			"export-bucket", "exported_snapshots", ".permissioncheck")
		info, err := os.Stat(file)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if info.Size() != 0 {
			t.Errorf("%s: %d bytes", p, info.Size())
		}
	}
	// Nothing but the objects: no sidecar metadata files.
	entries, _ := os.ReadDir(filepath.Join(dir, "aws", "export-bucket", "exported_snapshots"))
	if len(entries) != 1 {
		t.Errorf("entries %v", entries)
	}
	for _, line := range stores.Describe() {
		t.Log(line)
	}
}

func TestLocalRegionFromConfig(t *testing.T) {
	stores := newStores(t, objectstore.Config{LocalDir: t.TempDir(), AWS: objectstore.AWSConfig{DefaultRegion: "eu-west-3"}})
	region, err := stores.BucketRegion(bg(), awsTarget("b1"))
	if err != nil || region != "eu-west-3" {
		t.Fatalf("region %q %v", region, err)
	}
}

func TestLocalRequireExisting(t *testing.T) {
	dir := t.TempDir()
	stores := newStores(t, objectstore.Config{LocalDir: dir, LocalRequireExisting: true})
	err := stores.CheckPermission(bg(), gcsTarget("missing"))
	e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	requireDetail(t, e, "missing", "the local bucket storage")

	if err := os.MkdirAll(filepath.Join(dir, "gcp", "present"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := stores.CheckPermission(bg(), gcsTarget("present")); err != nil {
		t.Fatal(err)
	}
}

func TestLocalBucketNamesStayInside(t *testing.T) {
	stores := newStores(t, objectstore.Config{LocalDir: t.TempDir()})
	for _, name := range []string{"..", ".", "a/b", `a\b`} {
		err := stores.CheckPermission(bg(), awsTarget(name))
		requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	}
}

func TestLocalReadOnlyDirectoryIsDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "aws", "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	stores := newStores(t, objectstore.Config{LocalDir: dir})
	err := stores.CheckPermission(bg(), awsTarget("ro"))
	requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketAccessDenied)
}

func TestLocalStreamingRoundTrip(t *testing.T) {
	stores := newStores(t, objectstore.Config{LocalDir: t.TempDir()})
	b, err := stores.Open(bg(), awsTarget("b1"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.WriteAll(bg(), "p/db/c/metadata.json", []byte(`{"collectionName":"c"}`), nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadAll(bg(), "p/db/c/metadata.json")
	if err != nil || string(got) != `{"collectionName":"c"}` {
		t.Fatalf("%q %v", got, err)
	}
}

// TestLocalRefusedNameIsPermanent: a key whose file path is too long for
// the file system is refused for good, and the error names the object
// but not the server's directory.
func TestLocalRefusedNameIsPermanent(t *testing.T) {
	dir := t.TempDir()
	stores := newStores(t, objectstore.Config{LocalDir: dir})
	target := awsTarget("long-names")
	b, err := stores.Open(bg(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	key := strings.Repeat(strings.Repeat("k", 190)+"/", 30) + "object.json.gz"
	werr := b.WriteAll(bg(), key, []byte("{}"), nil)
	if werr == nil {
		t.Fatal("a key of 5,700 bytes was written to a local bucket")
	}
	err = stores.Failure(bg(), target, "write "+key[:20], werr)
	var e *snapexport.Error
	if !errors.As(err, &e) || e.Code != snapexport.CodeObjectStoreRefused || !e.Permanent() {
		t.Fatalf("Failure = %v, want a permanent %s", err, snapexport.CodeObjectStoreRefused)
	}
	if strings.Contains(e.Detail, dir) || !strings.Contains(e.Detail, key[:20]) {
		t.Errorf("detail %q: want the object named, the directory %s not", e.Detail, dir)
	}
}

// TestLocalErrorsNameNoDirectory: a missing local bucket's error does not
// reveal where the server keeps its buckets.
func TestLocalErrorsNameNoDirectory(t *testing.T) {
	dir := t.TempDir()
	stores := newStores(t, objectstore.Config{LocalDir: dir, LocalRequireExisting: true})
	err := stores.CheckPermission(bg(), gcsTarget("missing"))
	e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	if strings.Contains(e.Detail, dir) || strings.Contains(strings.Join(e.Params, " "), dir) {
		t.Errorf("detail %q, parameters %q name the directory %s", e.Detail, e.Params, dir)
	}
}
