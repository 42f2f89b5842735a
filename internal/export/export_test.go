package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

func TestCollections(t *testing.T) {
	ds := testDataset(4)
	src := importDataset(t, ds)
	var got []string
	for _, i := range export.Collections(src.Manifest) {
		c := src.Manifest.Namespaces[i]
		got = append(got, c.DB+"."+c.Name)
	}
	var want []string
	for _, c := range exporttest.ExportedCollections(ds) {
		want = append(want, c.Namespace())
	}
	// the import keeps dump order, which the archive writer sets
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Collections:\n got %q\nwant %q", got, want)
	}
	for _, must := range []string{"app.system.js", "analytics.metrics"} {
		if !slices.Contains(got, must) {
			t.Errorf("%s not exported", must)
		}
	}
	for _, not := range []string{"app.system.profile", "admin.system.version", "config.settings", "analytics.clicks"} {
		if slices.Contains(got, not) {
			t.Errorf("%s exported", not)
		}
	}
}

// TestRoundTrip exports every collection in small chunks and reads the
// bucket back: keys as the layout says, documents byte for byte in order
// across chunks, chunks no larger than ChunkBytes and no smaller than
// needed, metadata as mongodump writes it.
func TestRoundTrip(t *testing.T) {
	for _, viewless := range []bool{false, true} {
		t.Run(fmt.Sprintf("viewlessTimeseries=%v", viewless), func(t *testing.T) {
			ds := testDataset(40)
			if viewless {
				ds = dumptest.Generate(dumptest.Options{Seed: 3, DocsPerCollection: 40, ViewlessTimeseries: true})
			}
			testRoundTrip(t, ds)
		})
	}
}

func testRoundTrip(t *testing.T, ds *dumptest.Dataset) {
	src := importDataset(t, ds)
	bucket, dir := newBucket(t)
	const chunk = 3000
	opts := export.Options{ChunkBytes: chunk, Parallel: 3, MarshalWorkers: 2}

	var mu sync.Mutex
	var progDocs, progBytes int64
	var doneOrder []int
	results, err := export.Export(context.Background(), bucket, testPrefix, src, opts,
		func(d, b int64) { progDocs += d; progBytes += b },
		func(r export.Result) { mu.Lock(); doneOrder = append(doneOrder, r.Index); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	if want := export.Collections(src.Manifest); !slices.Equal(doneOrder, want) {
		t.Errorf("done order %v, want %v", doneOrder, want)
	}
	var sumDocs int64
	for _, r := range results {
		sumDocs += r.Documents
	}
	if progDocs != sumDocs || progBytes != sumBytes(results) || sumDocs == 0 {
		t.Errorf("progress reported %d documents, %d bytes", progDocs, progBytes)
	}

	var allKeys []string
	byName := map[string]export.Result{}
	for _, r := range results {
		allKeys = append(allKeys, r.Keys...)
		byName[r.DB+"."+r.Name] = r
	}
	slices.Sort(allKeys)
	if got := exporttest.ListKeys(t, bucket, ""); !slices.Equal(got, allKeys) {
		t.Fatalf("bucket holds\n%q\nresults list\n%q", got, allKeys)
	}
	assertNoTempFiles(t, dir)

	multi := 0
	for _, c := range exporttest.ExportedCollections(ds) {
		r, ok := byName[c.Namespace()]
		if !ok {
			t.Errorf("%s: not exported", c.Namespace())
			continue
		}
		if r.Documents != int64(c.NumDocs) || r.Bytes != c.TotalSize() {
			t.Errorf("%s: result counts %d documents of %d bytes, want %d of %d", c.Namespace(), r.Documents, r.Bytes, c.NumDocs, c.TotalSize())
		}
		dataKeys := r.Keys[:len(r.Keys)-1]
		for n, key := range dataKeys {
			want := testPrefix + "/" + c.DB + "/" + c.Name + "/atlas-abc-shard-0." + fmt.Sprint(n) + ".json.gz"
			if key != want {
				t.Errorf("data key %q, want %q", key, want)
			}
		}
		if got, want := r.Keys[len(r.Keys)-1], testPrefix+"/"+c.DB+"/"+c.Name+"/metadata.json"; got != want {
			t.Errorf("last key %q, want %q", got, want)
		}
		if c.NumDocs == 0 && len(dataKeys) != 0 {
			t.Errorf("%s: empty collection has data objects %q", c.Namespace(), dataKeys)
		}
		if len(dataKeys) > 1 {
			multi++
		}

		// documents, in order, across objects
		i := 0
		var jsonBytes int64
		var objects [][][]byte
		for _, key := range dataKeys {
			lines := gunzipLines(t, key, exporttest.ReadObject(t, bucket, key))
			objects = append(objects, lines)
			size := 0
			for _, line := range lines {
				size += len(line) + 1
				jsonBytes += int64(len(line) + 1)
				var raw bson.Raw
				if err := bson.UnmarshalExtJSON(line, true, &raw); err != nil {
					t.Fatalf("%s line %d: %v\n%s", key, i, err, line)
				}
				if i >= c.NumDocs {
					t.Fatalf("%s: more than %d documents", c.Namespace(), c.NumDocs)
				}
				want := c.Doc(i)
				if js, _ := bson.MarshalExtJSON(want, true, false); !bytes.Equal(line, js) {
					t.Errorf("%s document %d: line is not the driver's canonical Extended JSON:\n got %s\nwant %s", c.Namespace(), i, line, js)
				}
				if !exporttest.SameDocument(raw, want) {
					t.Errorf("%s document %d differs:\n got %x\nwant %x", c.Namespace(), i, []byte(raw), []byte(want))
				}
				i++
			}
			if size > chunk && len(lines) > 1 {
				t.Errorf("%s: %d bytes of JSON in %d lines, more than %d", key, size, len(lines), chunk)
			}
		}
		if i != c.NumDocs {
			t.Errorf("%s: %d documents exported, want %d", c.Namespace(), i, c.NumDocs)
		}
		if jsonBytes != r.JSONBytes {
			t.Errorf("%s: %d JSON bytes read back, result says %d", c.Namespace(), jsonBytes, r.JSONBytes)
		}
		// an object ends only when the next document would not fit
		for k := 0; k+1 < len(objects); k++ {
			size := 0
			for _, line := range objects[k] {
				size += len(line) + 1
			}
			if next := len(objects[k+1][0]) + 1; size+next <= chunk {
				t.Errorf("%s object %d: %d bytes, the next document (%d bytes) would have fit", c.Namespace(), k, size, next)
			}
		}

		// metadata.json is mongodump's file, except that Atlas's has no
		// "type":"collection" (see MetadataJSON)
		meta := exporttest.ReadObject(t, bucket, r.Keys[len(r.Keys)-1])
		want := bytes.Replace(c.MetadataJSON(), []byte(`,"type":"collection"`), nil, 1)
		if !bytes.Equal(meta, want) {
			t.Errorf("%s metadata.json:\n got %s\nwant %s", c.Namespace(), meta, want)
		}
		if _, err := dump.ParseMetadata(meta); err != nil {
			t.Errorf("%s metadata.json: %v", c.Namespace(), err)
		}
	}
	if multi < 3 {
		t.Errorf("only %d collections span several objects: ChunkBytes too large for the test", multi)
	}
	if r, ok := byName["analytics.metrics"]; !ok || r.Documents == 0 {
		t.Errorf("time-series collection not exported with its buckets: %+v", r)
	}
}

func sumBytes(rs []export.Result) int64 {
	var n int64
	for _, r := range rs {
		n += r.Bytes
	}
	return n
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tmp") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

// TestDeterministic exports collections twice, with different
// parallelism, into two buckets, and once more over the first: the same
// keys and bytes each time.
func TestDeterministic(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 11, DocsPerCollection: 300})
	src := importDataset(t, ds)
	b1, _ := newBucket(t)
	b2, _ := newBucket(t)
	ctx := context.Background()
	for _, i := range export.Collections(src.Manifest) {
		if _, err := export.ExportCollection(ctx, b1, testPrefix, src, i, export.Options{ChunkBytes: 20000, MarshalWorkers: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := export.Export(ctx, b2, testPrefix, src, export.Options{ChunkBytes: 20000, MarshalWorkers: 4, Parallel: 4}, nil, nil); err != nil {
		t.Fatal(err)
	}
	snapshot := func(b *blob.Bucket) map[string][]byte {
		m := map[string][]byte{}
		for _, k := range exporttest.ListKeys(t, b, "") {
			m[k] = exporttest.ReadObject(t, b, k)
		}
		return m
	}
	first := snapshot(b1)
	if len(first) < 10 {
		t.Fatalf("only %d objects", len(first))
	}
	compare := func(what string, other map[string][]byte) {
		if len(other) != len(first) {
			t.Errorf("%s: %d objects, first export %d", what, len(other), len(first))
		}
		for k, v := range first {
			if !bytes.Equal(other[k], v) {
				t.Errorf("%s: %s differs", what, k)
			}
		}
	}
	compare("second bucket", snapshot(b2))
	// a re-run after a crash overwrites with the same bytes
	if _, err := export.Export(ctx, b1, testPrefix, src, export.Options{ChunkBytes: 20000}, nil, nil); err != nil {
		t.Fatal(err)
	}
	compare("re-run", snapshot(b1))
}

// TestWriteFailure makes the store refuse the third data object of
// app.orders halfway: the error names the key, that object is not
// committed, no metadata.json is written for the collection, and nothing
// temporary is left.
func TestWriteFailure(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 200})
	src := importDataset(t, ds)
	real, dir := newBucket(t)
	failKey := testPrefix + "/app/orders/atlas-abc-shard-0.2.json.gz"
	bucket := blob.NewBucket(&failingDriver{real: real, failKey: failKey, failAfter: 100})
	defer bucket.Close()
	i := slices.IndexFunc(src.Manifest.Namespaces, func(c snapshotstore.Collection) bool { return c.DB == "app" && c.Name == "orders" })
	_, err := export.ExportCollection(context.Background(), bucket, testPrefix, src, i, export.Options{ChunkBytes: 4000, GzipLevel: 1}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), failKey) {
		t.Errorf("error %q does not name %s or wrap the store's error", err, failKey)
	}
	got := exporttest.ListKeys(t, real, "")
	want := []string{
		testPrefix + "/app/orders/atlas-abc-shard-0.0.json.gz",
		testPrefix + "/app/orders/atlas-abc-shard-0.1.json.gz",
	}
	if !slices.Equal(got, want) {
		t.Errorf("bucket holds %q, want %q", got, want)
	}
	assertNoTempFiles(t, dir)

	// a failing small object (metadata.json, .complete) is not committed
	// either
	metaKey := export.MetadataKey(testPrefix, "app", "orders")
	bucket2 := blob.NewBucket(&failingDriver{real: real, failKey: metaKey, failAfter: 10})
	defer bucket2.Close()
	_, err = export.ExportCollection(context.Background(), bucket2, testPrefix, src, i, export.Options{ChunkBytes: 4000}, nil)
	if err == nil || !strings.Contains(err.Error(), metaKey) {
		t.Errorf("error %v does not name %s", err, metaKey)
	}
	if ok, _ := real.Exists(context.Background(), metaKey); ok {
		t.Errorf("%s committed", metaKey)
	}
	assertNoTempFiles(t, dir)
}

// TestReadFailure damages a part of the snapshot: the export fails with
// the reader's error, and the object holding the part's documents is
// not committed.
func TestReadFailure(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 50})
	src := importDataset(t, ds)
	i := slices.IndexFunc(src.Manifest.Namespaces, func(c snapshotstore.Collection) bool { return c.DB == "app" && c.Name == "types" })
	c := &src.Manifest.Namespaces[i]
	if len(c.Parts) != 1 {
		t.Fatalf("%d parts", len(c.Parts))
	}
	// the manifest now expects another checksum: the part reads as damaged
	// only once its last document is read
	c.Parts[0].SHA256 = strings.Repeat("0", 64)
	bucket, dir := newBucket(t)
	_, err := export.ExportCollection(context.Background(), bucket, testPrefix, src, i, export.Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "app.types") {
		t.Fatalf("error %v", err)
	}
	if keys := exporttest.ListKeys(t, bucket, ""); len(keys) != 0 {
		t.Errorf("bucket holds %q", keys)
	}
	assertNoTempFiles(t, dir)
}

func TestCancel(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 50})
	src := importDataset(t, ds)
	bucket, dir := newBucket(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := export.Export(ctx, bucket, testPrefix, src, export.Options{Parallel: 2}, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	if keys := exporttest.ListKeys(t, bucket, ""); len(keys) != 0 {
		t.Errorf("bucket holds %q", keys)
	}
	assertNoTempFiles(t, dir)
}

func TestPrefix(t *testing.T) {
	created := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	job := time.Date(2026, 8, 10, 3, 28, 25, 0, time.UTC)
	paris := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		org, group, cluster string
		snap, job           time.Time
		want                string
	}{
		// the recorded job (atlas-facts §8.3)
		{"a0123456789abcdef012345a", "b0123456789abcdef012345b", "cluster-989", created, job,
			"exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/cluster-989/2026-08-10T0327/1786332505"},
		// other zones are converted to UTC; seconds are cut, not rounded
		{"a0123456789abcdef012345a", "b0123456789abcdef012345b", "c", created.In(paris).Add(51 * time.Second), job.In(paris),
			"exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/c/2026-08-10T0327/1786332505"},
		// names
		{"My Org", "Project: Alpha/Beta", "Cluster0", created, job,
			"exported_snapshots/My_Org/Project_AlphaBeta/Cluster0/2026-08-10T0327/1786332505"},
	}
	for _, tt := range tests {
		if got := export.Prefix(tt.org, tt.group, tt.cluster, tt.snap, tt.job); got != tt.want {
			t.Errorf("Prefix(%q, %q, %q) = %q, want %q", tt.org, tt.group, tt.cluster, got, tt.want)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a0123456789abcdef012345a", "a0123456789abcdef012345a"},
		{"My Project", "My_Project"},
		{"  two  spaces ", "__two__spaces_"},
		{"keep-these_chars.0-9!*()", "keep-these_chars.0-9!*()"},
		// special handling: & $ @ = ; / : + , ?
		{"a&b$c@d=e;f/g:h+i,j?k", "abcdefghijk"},
		// to avoid: \ { ^ } % ` ] " ' > [ ~ < # |
		{`a\b{c^d}e%f` + "`" + `g]h"i'j>k[l~m<n#o|p`, "abcdefghijklmnop"},
		// control characters and DEL
		{"tab\there\nnl\x00nul\x1fus\x7fdel", "tabherenlnulusdel"},
		// outside ASCII
		{"Société Générale 日本", "Socit_Gnrale_"},
		{"bad\xffutf8", "badutf8"},
		{"", ""},
		{"&&&", ""},
	}
	for _, tt := range tests {
		if got := export.SanitizeName(tt.in); got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriteComplete(t *testing.T) {
	bucket, _ := newBucket(t)
	c := export.Complete{
		OrgID: "a0123456789abcdef012345a", OrgName: "Org <&>",
		GroupID: "b0123456789abcdef012345b", GroupName: "Project",
		ClusterUniqueID: "c0123456789abcdef012345c", ClusterName: "cluster-989",
		SnapshotInitiationDate: time.Date(2020, 4, 3, 7, 50, 29, 321_999_999, time.FixedZone("", 2*3600)),
		TotalFiles:             7,
		Labels:                 []snapexport.Label{{Key: "env", Value: "prod"}},
		CustomData:             []snapexport.Label{{Key: "exported by", Value: "ops"}, {Key: "k", Value: "v"}},
	}
	if err := export.WriteComplete(context.Background(), bucket, testPrefix, c); err != nil {
		t.Fatal(err)
	}
	got := exporttest.ReadObject(t, bucket, testPrefix+"/.complete")
	want := `{"orgId":"a0123456789abcdef012345a","orgName":"Org <&>","groupId":"b0123456789abcdef012345b","groupName":"Project",` +
		`"clusterUniqueId":"c0123456789abcdef012345c","clusterName":"cluster-989","snapshotInitiationDate":"2020-04-03T05:50:29.321Z",` +
		`"totalFiles":7,"labels":[{"key":"env","value":"prod"}],"customData":[{"key":"exported by","value":"ops"},{"key":"k","value":"v"}]}`
	if string(got) != want {
		t.Errorf(".complete:\n got %s\nwant %s", got, want)
	}

	// empty lists are [], never null
	if err := export.WriteComplete(context.Background(), bucket, testPrefix+"/", export.Complete{SnapshotInitiationDate: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	got = exporttest.ReadObject(t, bucket, testPrefix+"/.complete")
	want = `{"orgId":"","orgName":"","groupId":"","groupName":"","clusterUniqueId":"","clusterName":"","snapshotInitiationDate":"1970-01-01T00:00:00.000Z","totalFiles":0,"labels":[],"customData":[]}`
	if string(got) != want {
		t.Errorf(".complete:\n got %s\nwant %s", got, want)
	}
}

func TestWritePermissionCheck(t *testing.T) {
	bucket, dir := newBucket(t)
	for range 2 {
		if err := export.WritePermissionCheck(context.Background(), bucket); err != nil {
			t.Fatal(err)
		}
	}
	if got := exporttest.ListKeys(t, bucket, ""); !slices.Equal(got, []string{"exported_snapshots/.permissioncheck"}) {
		t.Errorf("bucket holds %q", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "exported_snapshots", ".permissioncheck")); err != nil || fi.Size() != 0 {
		t.Errorf("permission check object: %v, %v", fi, err)
	}
}

// TestCancelMidCollection cancels while the first (and only) data object
// of a collection is being written: nothing is committed, however far
// the reader got.
func TestCancelMidCollection(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 1, BulkBytes: 3 << 20})
	src := importDataset(t, ds)
	i := slices.IndexFunc(src.Manifest.Namespaces, func(c snapshotstore.Collection) bool { return c.DB == "bulk" })
	for range 5 {
		bucket, dir := newBucket(t)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := export.ExportCollection(ctx, bucket, testPrefix, src, i, export.Options{}, func(int64, int64) { cancel() })
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v", err)
		}
		if keys := exporttest.ListKeys(t, bucket, ""); len(keys) != 0 {
			t.Errorf("bucket holds %q", keys)
		}
		assertNoTempFiles(t, dir)
	}
}
