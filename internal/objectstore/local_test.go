package objectstore_test

import (
	"net/http"
	"os"
	"path/filepath"
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
	requireDetail(t, e, "missing", filepath.Join(dir, "gcp"))

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
