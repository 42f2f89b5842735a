package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testservices"
)

// TestSDKExportCollidingNames exports collections whose keys differ only
// by "/.", "//" or "/.." segments to a local bucket and to each emulator,
// and reads every document of every collection back from its own objects.
func TestSDKExportCollidingNames(t *testing.T) {
	ds := dumptest.CollidingNames()
	archive := dumptest.ArchiveBytes(ds, true, true)
	azurite := testservices.Azurite(t)
	for _, provider := range []string{"LOCAL", "AWS", "AZURE", "GCP"} {
		t.Run(provider, func(t *testing.T) {
			cfg := objectstore.Config{LocalDir: t.TempDir()}
			var bucket func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest
			switch provider {
			case "LOCAL":
				bucket = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
					return awsBucket("local-exports", c.awsRole(t, g, true))
				}
			case "AWS":
				s3 := testservices.S3(t, "s3-exports")
				cfg.AWS = s3Compatible(s3.URL)
				bucket = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
					return awsBucket("s3-exports", c.awsRole(t, g, true))
				}
			case "AZURE":
				name := uniqueName("e2e-names")
				testservices.AzuriteContainer(t, azurite, name)
				cfg.Azure = azureCompatible(testservices.AzuriteAccountURL(azurite))
				bucket = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
					id, _ := c.azureRole(t, g, true)
					return azureBucket(azureServiceURL(name), id)
				}
			case "GCP":
				gcs := testservices.GCS(t, "gcs-exports")
				cfg.GCP = gcsCompatible(gcs.URL)
				bucket = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
					return gcpBucket("gcs-exports", c.gcpRole(t, g))
				}
			}
			c := storeServer(t, "digest", cfg)
			srv, g, ctx := c.srv, c.srv.GroupID, context.Background()
			if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
				t.Fatal(err)
			}
			res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0"}, bytes.NewReader(archive))
			if err != nil {
				t.Fatal(err)
			}
			b := c.createBucket(t, g, bucket(c, g))
			created, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "Cluster0", &admin.DiskBackupExportJobRequest{
				SnapshotId: res.Snapshot.ID, ExportBucketId: b.GetId()}).Execute()
			if err != nil {
				t.Fatal(err)
			}
			job := waitExport(t, srv, c.APIClient, g, "Cluster0", created.GetId(), "Successful")
			status := job.GetExportStatus()
			if got := status.GetTotalCollections(); got != len(ds.Collections) {
				t.Errorf("totalCollections %d, want %d", got, len(ds.Collections))
			}
			store := srv.OpenExportBucket(t, b.GetId())
			prefix := job.GetPrefix()
			all := exporttest.ListKeys(t, store, prefix+"/")
			var read []string
			for _, col := range ds.Collections {
				read = append(read, checkCollection(t, store, prefix, "Cluster0-shard-0", col, all)...)
			}
			rest := withoutComplete(prefix, all)
			slices.Sort(read)
			if !slices.Equal(read, rest) {
				t.Errorf("objects under the prefix:\n%q\nwant the collections' objects:\n%q", rest, read)
			}
			// read as TestSDKExportToEachCloud does: gofakes3 keeps times
			// to the second, too coarse for readComplete's ordering check
			var doc exporttest.Complete
			if err := json.Unmarshal(exporttest.ReadObject(t, store, prefix+"/.complete"), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.TotalFiles != len(rest) || len(rest) != len(all)-1 {
				t.Errorf(".complete totalFiles %d, want %d", doc.TotalFiles, len(rest))
			}
		})
	}
}
