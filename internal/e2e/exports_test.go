package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// waitExport polls the job through the SDK, as `atlas backups exports
// jobs watch` does, until it ends; it fails the test unless it ended in
// want, telling the states of a sharded export's components, which the
// API does not show.
func waitExport(t *testing.T, srv *testserver.Server, c *admin.APIClient, groupID, cluster, id, want string) *admin.DiskBackupExportJob {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	seen := []string{}
	for {
		job, _, err := c.CloudBackupsApi.GetBackupExport(ctx, groupID, cluster, id).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if s := job.GetState(); len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		switch job.GetState() {
		case "Successful", "Failed", "Cancelled":
			if job.GetState() != want {
				r := job.GetStateReason()
				t.Fatalf("export %s ended %s (%s: %s), want %s; states seen %v", id, job.GetState(), r.GetErrorCode(), r.GetMessage(), want, seen)
			}
			t.Logf("export %s: states %v", id, seen)
			return job
		case "Queued", "InProgress":
		default:
			t.Fatalf("export %s: unknown state %q", id, job.GetState())
		}
		if time.Now().After(deadline) {
			var comps []string
			for _, comp := range job.GetComponents() {
				_ = srv.Server.Store.Read(ctx, func(tx snapexport.Tx) error {
					j, err := tx.ExportJob(ctx, groupID, comp.GetExportId())
					if err == nil {
						comps = append(comps, fmt.Sprintf("%s %s (own components %v)", j.ReplicaSetName, j.State, j.Components))
					}
					return err
				})
			}
			t.Fatalf("export %s still %s after 60 s (states seen %v; components %v)", id, job.GetState(), seen, comps)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writtenLast checks that key is the newest object under prefix. The
// times compared all come from the listing: a store's HEAD answers
// Last-Modified in whole seconds, its listing more finely.
func writtenLast(t *testing.T, b *blob.Bucket, prefix, key string) {
	t.Helper()
	var last, keyTime time.Time
	var lastKey string
	found := false
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case obj.Key == key:
			keyTime, found = obj.ModTime, true
		case !obj.ModTime.Before(last):
			last, lastKey = obj.ModTime, obj.Key
		}
	}
	if !found {
		t.Fatalf("no %s under %s", key, prefix)
	}
	if keyTime.Before(last) {
		t.Errorf("%s (%v) was written before %s (%v)", key, keyTime, lastKey, last)
	}
}

// withoutComplete is all, the keys under an export's prefix, but its
// .complete.
func withoutComplete(prefix string, all []string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(k string) bool { return k == prefix+"/.complete" })
}

// readComplete checks that all, the keys under an export's prefix, hold
// one .complete, written after every other object, and reads it.
func readComplete(t *testing.T, b *blob.Bucket, prefix string, all []string) exporttest.Complete {
	t.Helper()
	complete := prefix + "/.complete"
	if len(withoutComplete(prefix, all)) != len(all)-1 {
		t.Fatalf("no single %s among %q", complete, all)
	}
	writtenLast(t, b, prefix+"/", complete)
	var doc exporttest.Complete
	if err := json.Unmarshal(exporttest.ReadObject(t, b, complete), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// checkCollection reads the data objects of one collection written by
// replica set rs and compares every document, in order, with the
// dataset's; it returns the keys it read (data objects and metadata.json).
func checkCollection(t *testing.T, b *blob.Bucket, prefix, rs string, c *dumptest.Collection, all []string) []string {
	t.Helper()
	dir := prefix + "/" + c.DB + "/" + c.Name + "/"
	var read []string
	i := 0
	for n := 0; ; n++ {
		key := fmt.Sprintf("%s%s.%d.json.gz", dir, rs, n)
		if !slices.Contains(all, key) {
			break
		}
		read = append(read, key)
		for _, raw := range exporttest.ReadDocuments(t, b, key) {
			if i >= c.NumDocs {
				t.Fatalf("%s: more than %d documents", c.Namespace(), c.NumDocs)
			}
			if want := c.Doc(i); !exporttest.SameDocument(raw, want) {
				t.Errorf("%s document %d differs:\n got %x\nwant %x", c.Namespace(), i, []byte(raw), []byte(want))
			}
			i++
		}
	}
	if i != c.NumDocs {
		t.Errorf("%s from %s: %d documents exported, want %d", c.Namespace(), rs, i, c.NumDocs)
	}
	meta := dir + "metadata.json"
	if !slices.Contains(all, meta) {
		t.Errorf("%s: no %s", c.Namespace(), meta)
		return read
	}
	var m struct {
		CollectionName string `json:"collectionName"`
	}
	if err := json.Unmarshal(exporttest.ReadObject(t, b, meta), &m); err != nil || m.CollectionName != c.Name {
		t.Errorf("%s: %v, collectionName %q", meta, err, m.CollectionName)
	}
	return append(read, meta)
}

// TestSDKExportReplicaSet exports an imported snapshot holding every BSON
// type through the SDK, as the Atlas CLI's jobs create and watch do, and
// reads the bucket back: every document, metadata.json, and .complete
// last with the cluster's labels and the job's custom data.
func TestSDKExportReplicaSet(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	labels := []snapexport.Label{{Key: "env", Value: "prod"}, {Key: "team", Value: "data & <ops>"}}
	cl, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: g, Name: "Cluster0", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 7, DocsPerCollection: 30})
	res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0"}, bytes.NewReader(dumptest.ArchiveBytes(ds, true, true)))
	if err != nil {
		t.Fatal(err)
	}
	bucketID := sdkExportBucket(t, c, g, "export-bucket")

	custom := []admin.BackupLabel{{Key: admin.PtrString("ticket"), Value: admin.PtrString("OPS-1")}, {Key: admin.PtrString("by"), Value: admin.PtrString("e2e")}}
	created, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: res.Snapshot.ID, ExportBucketId: bucketID, CustomData: &custom}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if created.GetState() != "Queued" || created.GetSnapshotId() != res.Snapshot.ID || created.GetExportBucketId() != bucketID ||
		len(created.GetCustomData()) != 2 || created.HasFinishedAt() || created.HasComponents() || created.HasLinks() {
		t.Errorf("CreateBackupExport = %+v", created)
	}
	// A second export of the snapshot while the first is active.
	if created2, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: res.Snapshot.ID, ExportBucketId: bucketID}).Execute(); err == nil {
		t.Logf("second export accepted (the first had already ended): %s", created2.GetState())
	} else if !admin.IsErrorCode(err, snapexport.CodeExportAlreadyInProgress) {
		t.Errorf("second export while the first is active: %v", err)
	}

	job := waitExport(t, srv, c, g, "Cluster0", created.GetId(), "Successful")
	cols := exporttest.ExportedCollections(ds)
	if !job.HasFinishedAt() || job.GetFinishedAt().Before(job.GetCreatedAt()) || job.GetPrefix() != created.GetPrefix() ||
		job.ExportStatus.GetTotalCollections() != len(cols) || job.ExportStatus.GetExportedCollections() != len(cols) {
		t.Errorf("finished job = %+v (exportStatus %+v), want %d collections", job, job.GetExportStatus(), len(cols))
	}
	list, _, err := c.CloudBackupsApi.ListBackupExports(ctx, g, "Cluster0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if list.GetTotalCount() < 1 || list.GetResults()[0].GetId() != job.GetId() || list.GetResults()[0].GetState() != "Successful" {
		t.Errorf("ListBackupExports = %+v", list)
	}

	b := srv.OpenExportBucket(t, bucketID)
	prefix := job.GetPrefix()
	if want := fmt.Sprintf("exported_snapshots/%s/%s/Cluster0/%s/%d", srv.OrgID, g, res.Snapshot.CreatedAt.UTC().Format("2006-01-02T1504"),
		job.GetCreatedAt().Unix()); prefix != want {
		t.Errorf("prefix %q, want %q", prefix, want)
	}
	all := exporttest.ListKeys(t, b, prefix+"/")
	var read []string
	for _, col := range cols {
		read = append(read, checkCollection(t, b, prefix, "Cluster0-shard-0", col, all)...)
	}
	rest := withoutComplete(prefix, all)
	slices.Sort(read)
	if !slices.Equal(read, rest) {
		t.Errorf("objects under the prefix:\n%q\nwant the collections' objects:\n%q", rest, read)
	}
	doc := readComplete(t, b, prefix, all)
	wantCustom := []snapexport.Label{{Key: "ticket", Value: "OPS-1"}, {Key: "by", Value: "e2e"}}
	if doc.TotalFiles != len(rest) || doc.OrgID != srv.OrgID || doc.GroupID != g || doc.ClusterName != "Cluster0" ||
		doc.ClusterUniqueID != cl.ID || !slices.Equal(doc.Labels, labels) || !slices.Equal(doc.CustomData, wantCustom) ||
		doc.SnapshotInitiationDate != res.Snapshot.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf(".complete = %+v, want totalFiles %d, labels %v, customData %v", doc, len(rest), labels, wantCustom)
	}
	if _, err := b.Attributes(ctx, "exported_snapshots/.permissioncheck"); err != nil {
		t.Errorf("permission check object: %v", err)
	}
}

// TestSDKExportShardedCluster exports a sharded-cluster snapshot: the
// job reports one component per shard, each shard writes its own data
// objects, and one .complete counts them all.
func TestSDKExportShardedCluster(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	if _, err := srv.CreateCluster(ctx, "sharded", "rs0", "rs1"); err != nil {
		t.Fatal(err)
	}
	taken := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	shards := map[string]*dumptest.Dataset{
		"rs0": dumptest.Generate(dumptest.Options{Seed: 10, DocsPerCollection: 12}),
		"rs1": dumptest.Generate(dumptest.Options{Seed: 11, DocsPerCollection: 20}),
	}
	var sharded *snapexport.Snapshot
	for _, rs := range []string{"rs0", "rs1"} {
		res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "sharded", Shard: rs, TakenAt: taken},
			bytes.NewReader(dumptest.ArchiveBytes(shards[rs], true, true)))
		if err != nil {
			t.Fatal(err)
		}
		sharded = res.Sharded
	}
	if sharded == nil {
		t.Fatal("importing both shards made no sharded-cluster snapshot")
	}
	bucketID := sdkExportBucket(t, c, g, "sharded-exports")
	created, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "sharded", &admin.DiskBackupExportJobRequest{
		SnapshotId: sharded.ID, ExportBucketId: bucketID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	comps := created.GetComponents()
	if len(comps) != 2 || comps[0].GetReplicaSetName() != "rs0" || comps[1].GetReplicaSetName() != "rs1" ||
		comps[0].GetExportId() == comps[1].GetExportId() || comps[0].GetExportId() == created.GetId() {
		t.Fatalf("components %+v", comps)
	}
	if len(created.GetCustomData()) != 0 || created.CustomData == nil {
		t.Errorf("customData %v, want []", created.CustomData)
	}
	// A component is not a job of its own in the API.
	if _, _, err := c.CloudBackupsApi.GetBackupExport(ctx, g, "sharded", comps[0].GetExportId()).Execute(); !admin.IsErrorCode(err, snapexport.CodeExportJobNotFound) {
		t.Errorf("GetBackupExport of a component: %v", err)
	}

	job := waitExport(t, srv, c, g, "sharded", created.GetId(), "Successful")
	n := len(exporttest.ExportedCollections(shards["rs0"]))
	if st := job.ExportStatus; st.GetTotalCollections() != 2*n || st.GetExportedCollections() != 2*n || len(job.GetComponents()) != 2 {
		t.Errorf("finished sharded job: exportStatus %+v, components %+v; want %d collections (both shards)", st, job.GetComponents(), 2*n)
	}
	list, _, err := c.CloudBackupsApi.ListBackupExports(ctx, g, "sharded").Execute()
	if err != nil || list.GetTotalCount() != 1 || len(list.GetResults()) != 1 || list.GetResults()[0].GetId() != job.GetId() {
		t.Errorf("ListBackupExports = %+v, %v; want the sharded job alone", list, err)
	}

	b := srv.OpenExportBucket(t, bucketID)
	prefix := job.GetPrefix()
	all := exporttest.ListKeys(t, b, prefix+"/")
	for _, k := range []string{prefix + "/app/types/rs0.0.json.gz", prefix + "/app/types/rs1.0.json.gz"} {
		if !slices.Contains(all, k) {
			t.Errorf("no %s among %q", k, all)
		}
	}
	var data []string
	for _, rs := range []string{"rs0", "rs1"} {
		for _, col := range exporttest.ExportedCollections(shards[rs]) {
			for _, k := range checkCollection(t, b, prefix, rs, col, all) {
				if strings.HasSuffix(k, ".json.gz") {
					data = append(data, k)
				}
			}
		}
	}
	rest := withoutComplete(prefix, all)
	doc := readComplete(t, b, prefix, all)
	// Both shards write a collection's metadata.json to the same key, so
	// the prefix holds one per collection; totalFiles counts the objects
	// there, as for a replica set.
	if metadata := len(rest) - len(data); metadata != n {
		t.Errorf("%d metadata.json objects, want %d", metadata, n)
	}
	if doc.TotalFiles != len(rest) {
		t.Errorf(".complete totalFiles %d, want the %d objects under the prefix (%d data objects, %d metadata.json)",
			doc.TotalFiles, len(rest), len(data), len(rest)-len(data))
	}
	if doc.ClusterName != "sharded" || doc.SnapshotInitiationDate != "2026-08-10T03:27:08.000Z" {
		t.Errorf(".complete = %+v", doc)
	}
}
