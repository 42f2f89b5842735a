package snapexporttest_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/snapexporttest"
)

// TestTakeSnapshotWithTheSDK loads a dump into a cluster, takes an
// on-demand snapshot with the SDK, waits for it to complete and exports it
// to a local bucket, whose documents must be the dump's, one by one.
func TestTakeSnapshotWithTheSDK(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := snapexporttest.NewServer(t, snapexporttest.Options{Buckets: &snapexporttest.Buckets{LocalDir: dir}})
	c := digestClient(t, srv, srv.APIKey)
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 12, DocsPerCollection: 40})
	loaded, err := srv.LoadCluster(ctx, "Cluster0", "", bytes.NewReader(dumptest.ArchiveBytes(ds, true, true)))
	if err != nil {
		t.Fatal(err)
	}

	snap, _, err := c.CloudBackupsApi.TakeSnapshots(ctx, srv.GroupID, "Cluster0", &admin.DiskBackupOnDemandSnapshotRequest{
		Description: admin.PtrString("sdk"), RetentionInDays: admin.PtrInt(3)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if snap.GetStatus() != "queued" || snap.GetSnapshotType() != "onDemand" || snap.GetFrequencyType() != "ondemand" {
		t.Fatalf("TakeSnapshots: %s %s %s, want queued onDemand ondemand", snap.GetStatus(), snap.GetSnapshotType(), snap.GetFrequencyType())
	}
	var rs *admin.DiskBackupReplicaSet
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if rs, _, err = c.CloudBackupsApi.GetClusterBackupSnapshot(ctx, srv.GroupID, "Cluster0", snap.GetId()).Execute(); err != nil {
			t.Fatal(err)
		}
		if s := rs.GetStatus(); s != "queued" && s != "inProgress" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot still %s after a minute", rs.GetStatus())
		}
	}
	if rs.GetStatus() != "completed" || rs.GetStorageSizeBytes() != loaded.Size || rs.GetCreatedAt().IsZero() {
		t.Fatalf("snapshot %s with %d bytes (createdAt %s), want completed with the loaded %d", rs.GetStatus(), rs.GetStorageSizeBytes(), rs.GetCreatedAt(), loaded.Size)
	}
	if d := rs.GetExpiresAt().Sub(rs.GetCreatedAt()); d < 71*time.Hour || d > 73*time.Hour {
		t.Errorf("expiresAt %s, createdAt %s: want three days apart", rs.GetExpiresAt(), rs.GetCreatedAt())
	}

	job, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, srv.GroupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: snap.GetId(), ExportBucketId: exportsBucket(t, c, srv.GroupID)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); job.GetState() != "Successful"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) || job.GetState() == "Failed" || job.GetState() == "Cancelled" {
			t.Fatalf("export ended %s (%+v)", job.GetState(), job.GetStateReason())
		}
		if job, _, err = c.CloudBackupsApi.GetBackupExport(ctx, srv.GroupID, "Cluster0", job.GetId()).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	// The bucket as the server reaches it: local folders map keys to paths.
	stores, err := objectstore.New(objectstore.Config{LocalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	exported, err := stores.Open(ctx, objectstore.Target{Provider: snapexport.AWS, Bucket: "exports"})
	if err != nil {
		t.Fatal(err)
	}
	defer exported.Close()
	for _, coll := range exporttest.ExportedCollections(ds) {
		wantExported(t, exported, job.GetPrefix(), coll)
	}
}

// wantExported compares the documents exported of one collection with
// the dump's, in order.
func wantExported(t *testing.T, b *blob.Bucket, prefix string, c *dumptest.Collection) {
	t.Helper()
	i := 0
	for n := 0; ; n++ {
		key := export.DataKey(prefix, c.DB, c.Name, "Cluster0-shard-0", n)
		if ok, err := b.Exists(context.Background(), key); err != nil || !ok {
			break
		}
		data := exporttest.ReadObject(t, b, key)
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 64<<20)
		for ; sc.Scan(); i++ {
			var raw bson.Raw
			if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &raw); err != nil {
				t.Fatalf("%s document %d: %v", c.Namespace(), i, err)
			}
			if i >= c.NumDocs || !exporttest.SameDocument(raw, c.Doc(i)) {
				t.Fatalf("%s document %d differs from the dump's", c.Namespace(), i)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if i != c.NumDocs {
		t.Errorf("%s: %d documents exported, want %d", c.Namespace(), i, c.NumDocs)
	}
}
