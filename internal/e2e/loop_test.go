package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// The whole Cloud Backup loop as a user lives it through Atlas's API: a
// cluster created with the SDK, its data loaded, an on-demand snapshot
// taken and watched until it completes, and the snapshot exported into a
// bucket and read back.

// loopChangeDelay is how long a cluster created through the API shows
// CREATING in these tests, so that they wait for IDLE as clients do.
const loopChangeDelay = 300 * time.Millisecond

// loopServer starts a server reaching the bucket's provider, whose
// clusters show CREATING for loopChangeDelay.
func loopServer(t *testing.T, cloud cloudBucket) *sdkClient {
	t.Helper()
	return storeServerWith(t, "digest", cloud.cfg, testserver.Options{ClusterChangeDelay: loopChangeDelay})
}

// createClusterWithSDK creates a cluster with ClustersApi.CreateCluster, a
// replica set or, with shards above one, a sharded cluster of that many
// shards, and waits until GetCluster shows it IDLE, as the Atlas CLI's
// and Terraform's waits do.
func createClusterWithSDK(t *testing.T, c *admin.APIClient, groupID, name string, shards int) *admin.ClusterDescription20240805 {
	t.Helper()
	ctx := context.Background()
	spec := admin.ReplicationSpec20240805{RegionConfigs: &[]admin.CloudRegionConfig20240805{{
		ProviderName: admin.PtrString("AWS"), RegionName: admin.PtrString("US_EAST_1"), Priority: admin.PtrInt(7),
		ElectableSpecs: &admin.HardwareSpec20240805{InstanceSize: admin.PtrString("M10"), NodeCount: admin.PtrInt(3)},
	}}}
	req := &admin.ClusterDescription20240805{Name: admin.PtrString(name), ClusterType: admin.PtrString("REPLICASET"),
		ReplicationSpecs: &[]admin.ReplicationSpec20240805{spec}}
	if shards > 1 {
		req.ClusterType = admin.PtrString("SHARDED")
		req.ReplicationSpecs = &[]admin.ReplicationSpec20240805{}
		for range shards {
			*req.ReplicationSpecs = append(*req.ReplicationSpecs, spec)
		}
	}
	created, _, err := c.ClustersApi.CreateCluster(ctx, groupID, req).Execute()
	if err != nil {
		t.Fatalf("CreateCluster(%s): %v", name, err)
	}
	if created.GetStateName() != "CREATING" {
		t.Errorf("CreateCluster(%s) answered %s, want CREATING while the change lasts", name, created.GetStateName())
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		got, _, err := c.ClustersApi.GetCluster(ctx, groupID, name).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetStateName() == "IDLE" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s still %s after a minute", name, got.GetStateName())
		}
	}
}

// loadData replaces the data of a cluster (of shard, when not empty) with
// a mongodump archive through PUT …/clusters/{name}/data, signed with the
// server's API key, and checks the answer.
func loadData(t *testing.T, srv *testserver.Server, cluster, shard string, ds *dumptest.Dataset) {
	t.Helper()
	path := "/api/snapexport/v1/groups/" + srv.GroupID + "/clusters/" + cluster + "/data"
	if shard != "" {
		path += "?shard=" + shard
	}
	c := &apitest.Client{BaseURL: srv.URL, Auth: apitest.Digest(srv.APIKey.PublicKey, srv.APIKey.PrivateKey), Validate: true}
	got := c.Do(t, apitest.Request{Method: "PUT", Path: path, Body: string(dumptest.ArchiveBytes(ds, true, true)),
		ContentType: "application/octet-stream"})
	apitest.WantStatus(t, got, http.StatusOK)
	var docs int
	for _, col := range ds.Collections {
		docs += col.NumDocs
	}
	if o := got.Object(t); o["clusterName"] != cluster || o["documents"] != float64(docs) {
		t.Fatalf("load of %s %s: %s, want %d documents", cluster, shard, got.Body, docs)
	}
}

// takeSnapshotWithSDK takes an on-demand snapshot with TakeSnapshots and
// reads it, as `atlas backups snapshots watch` does, until it is no longer
// queued or in progress; it fails the test unless it completed, and
// returns its id and creation time.
func takeSnapshotWithSDK(t *testing.T, c *admin.APIClient, groupID, cluster string, sharded bool) (string, time.Time) {
	t.Helper()
	ctx := context.Background()
	snap, _, err := c.CloudBackupsApi.TakeSnapshots(ctx, groupID, cluster, &admin.DiskBackupOnDemandSnapshotRequest{
		Description: admin.PtrString("loop"), RetentionInDays: admin.PtrInt(2)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if snap.GetStatus() != "queued" {
		t.Errorf("TakeSnapshots answered %s, want queued", snap.GetStatus())
	}
	seen := []string{snap.GetStatus()}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var status string
		var createdAt time.Time
		if sharded {
			got, _, err := c.CloudBackupsApi.GetBackupShardedCluster(ctx, groupID, cluster, snap.GetId()).Execute()
			if err != nil {
				t.Fatal(err)
			}
			status, createdAt = got.GetStatus(), got.GetCreatedAt()
			if status == "completed" && len(got.GetMembers()) != 2 {
				t.Errorf("sharded snapshot %s: members %+v, want one per shard", snap.GetId(), got.GetMembers())
			}
		} else {
			got, _, err := c.CloudBackupsApi.GetClusterBackupSnapshot(ctx, groupID, cluster, snap.GetId()).Execute()
			if err != nil {
				t.Fatal(err)
			}
			status, createdAt = got.GetStatus(), got.GetCreatedAt()
		}
		if seen[len(seen)-1] != status {
			seen = append(seen, status)
		}
		switch status {
		case "queued", "inProgress":
		case "completed":
			if createdAt.IsZero() {
				t.Errorf("completed snapshot %s has no createdAt", snap.GetId())
			}
			return snap.GetId(), createdAt
		default:
			t.Fatalf("snapshot %s ended %s; statuses seen %v", snap.GetId(), status, seen)
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %s still %s after a minute", snap.GetId(), status)
		}
	}
}

// exportWithSDK exports a snapshot into a bucket with CreateBackupExport,
// waits for the job to succeed and returns its prefix.
func exportWithSDK(t *testing.T, c *sdkClient, cluster, snapshotID, bucketID string) string {
	t.Helper()
	g := c.srv.GroupID
	created, _, err := c.CloudBackupsApi.CreateBackupExport(context.Background(), g, cluster, &admin.DiskBackupExportJobRequest{
		SnapshotId: snapshotID, ExportBucketId: bucketID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	return waitExport(t, c.srv, c.APIClient, g, cluster, created.GetId(), "Successful").GetPrefix()
}

// wantExport reads an export back: every document of every collection of
// each replica set's dataset, in order, from that replica set's objects;
// each collection's metadata.json; nothing else under the prefix but
// .complete, written last, counting the objects and naming the cluster and
// the snapshot's time.
func wantExport(t *testing.T, b *blob.Bucket, groupID, prefix, cluster string, snapshotTime time.Time, datasets map[string]*dumptest.Dataset) {
	t.Helper()
	all := exporttest.ListKeys(t, b, prefix+"/")
	var read []string
	for rs, ds := range datasets {
		for _, col := range exporttest.ExportedCollections(ds) {
			read = append(read, checkCollection(t, b, prefix, rs, col, all)...)
		}
	}
	// The replica sets of a sharded cluster write a collection's
	// metadata.json to the same key.
	slices.Sort(read)
	read = slices.Compact(read)
	rest := withoutComplete(prefix, all)
	if !slices.Equal(read, rest) {
		t.Errorf("objects under %s:\n%q\nwant the collections' objects:\n%q", prefix, rest, read)
	}
	doc := readComplete(t, b, prefix, all)
	initiated, err := time.Parse("2006-01-02T15:04:05.000Z", doc.SnapshotInitiationDate)
	if err != nil || doc.TotalFiles != len(rest) || doc.ClusterName != cluster || doc.GroupID != groupID ||
		!initiated.Truncate(time.Second).Equal(snapshotTime.Truncate(time.Second)) {
		t.Errorf(".complete = %+v, want totalFiles %d of cluster %s, snapshot taken at %s", doc, len(rest), cluster, snapshotTime)
	}
}

// TestCloudBackupLoop runs the loop into a bucket of every provider: a
// local folder, S3 (gofakes3), Azure Blob (Azurite) and GCS
// (fake-gcs-server). A second, changed dump is then loaded and taken: its
// export holds the new data, and the first snapshot still exports the
// old.
func TestCloudBackupLoop(t *testing.T) {
	before := dumptest.Generate(dumptest.Options{Seed: 31, DocsPerCollection: 12})
	after := dumptest.Generate(dumptest.Options{Seed: 32, DocsPerCollection: 7})
	azurite := testservices.Azurite(t)
	for _, provider := range []string{"LOCAL", "AWS", "AZURE", "GCP"} {
		t.Run(provider, func(t *testing.T) {
			cloud := newCloudBucket(t, provider, azurite)
			c := loopServer(t, cloud)
			g := c.srv.GroupID
			createClusterWithSDK(t, c.APIClient, g, "Cluster0", 1)
			bucketID := c.createBucket(t, g, cloud.request(c, g)).GetId()
			b := c.srv.OpenExportBucket(t, bucketID)
			const rs = "Cluster0-shard-0"

			loadData(t, c.srv, "Cluster0", "", before)
			first, firstAt := takeSnapshotWithSDK(t, c.APIClient, g, "Cluster0", false)
			prefix := exportWithSDK(t, c, "Cluster0", first, bucketID)
			if cloud.stored != nil && len(cloud.stored(prefix+"/")) == 0 {
				t.Errorf("the %s store holds nothing under %s", provider, prefix)
			}
			wantExport(t, b, g, prefix, "Cluster0", firstAt, map[string]*dumptest.Dataset{rs: before})

			loadData(t, c.srv, "Cluster0", "", after)
			second, secondAt := takeSnapshotWithSDK(t, c.APIClient, g, "Cluster0", false)
			secondPrefix := exportWithSDK(t, c, "Cluster0", second, bucketID)
			wantExport(t, b, g, secondPrefix, "Cluster0", secondAt, map[string]*dumptest.Dataset{rs: after})
			again := exportWithSDK(t, c, "Cluster0", first, bucketID)
			// Each export is read from objects of its own.
			if again == prefix || again == secondPrefix || prefix == secondPrefix {
				t.Fatalf("exports share a prefix: %s, %s, %s", prefix, secondPrefix, again)
			}
			wantExport(t, b, g, again, "Cluster0", firstAt, map[string]*dumptest.Dataset{rs: before})
		})
	}
}

// TestCloudBackupLoopSharded runs the loop of a sharded cluster of two
// shards, each loaded with its own dump, into an S3 bucket: the export
// holds each shard's documents from that shard's objects.
func TestCloudBackupLoopSharded(t *testing.T) {
	cloud := newCloudBucket(t, "AWS", "")
	c := loopServer(t, cloud)
	g := c.srv.GroupID
	cl := createClusterWithSDK(t, c.APIClient, g, "Sharded0", 2)
	if specs := cl.GetReplicationSpecs(); cl.GetClusterType() != "SHARDED" || len(specs) != 2 {
		t.Fatalf("created cluster: %s with %d replication specs", cl.GetClusterType(), len(specs))
	}
	shards := map[string]*dumptest.Dataset{
		"Sharded0-shard-0": dumptest.Generate(dumptest.Options{Seed: 41, DocsPerCollection: 9}),
		"Sharded0-shard-1": dumptest.Generate(dumptest.Options{Seed: 42, DocsPerCollection: 14}),
	}
	for rs, ds := range shards {
		loadData(t, c.srv, "Sharded0", rs, ds)
	}
	snap, at := takeSnapshotWithSDK(t, c.APIClient, g, "Sharded0", true)
	bucketID := c.createBucket(t, g, cloud.request(c, g)).GetId()
	prefix := exportWithSDK(t, c, "Sharded0", snap, bucketID)
	wantExport(t, c.srv.OpenExportBucket(t, bucketID), g, prefix, "Sharded0", at, shards)
}
