package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testservices"
)

// TestSDKExportToEachCloud exports a snapshot with every BSON type into
// an S3 bucket (gofakes3), an Azure container (Azurite) and a GCS bucket
// (fake-gcs-server) through the SDK, and reads each back: Atlas's layout,
// every document, metadata.json per collection, .complete last.
func TestSDKExportToEachCloud(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 17, DocsPerCollection: 40})
	archive := dumptest.ArchiveBytes(ds, true, true)
	azurite := testservices.Azurite(t)
	for _, provider := range []string{"AWS", "AZURE", "GCP"} {
		t.Run(provider, func(t *testing.T) {
			store, _, job := exportTo(t, provider, azurite, archive)
			prefix := job.GetPrefix()
			all := exporttest.ListKeys(t, store, prefix+"/")
			var read []string
			for _, col := range exporttest.ExportedCollections(ds) {
				read = append(read, checkCollection(t, store, prefix, "Cluster0-shard-0", col, all)...)
			}
			complete := prefix + "/.complete"
			rest := withoutComplete(prefix, all)
			slices.Sort(read)
			if !slices.Equal(read, rest) || len(rest) != len(all)-1 {
				t.Errorf("objects under the prefix:\n%q\nwant the collections' objects and .complete:\n%q", all, read)
			}
			var doc exporttest.Complete
			if err := json.Unmarshal(exporttest.ReadObject(t, store, complete), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.TotalFiles != len(rest) {
				t.Errorf(".complete totalFiles %d, want %d", doc.TotalFiles, len(rest))
			}
		})
	}
}

// exportTo imports archive into a test server whose provider's buckets
// are a local folder (provider "LOCAL", an AWS bucket) or an emulator
// (AWS: gofakes3, AZURE: Azurite at azurite, GCP: fake-gcs-server),
// exports the snapshot through the SDK and waits for success; it returns
// the bucket, opened as the export runner opens it, the names the store
// holds under a prefix, as any of its readers sees them (nil for a local
// folder, whose paths are escaped), and the job.
func exportTo(t *testing.T, provider, azurite string, archive []byte) (*blob.Bucket, func(prefix string) []string, *admin.DiskBackupExportJob) {
	t.Helper()
	cloud := newCloudBucket(t, provider, azurite)
	c := storeServer(t, "digest", cloud.cfg)
	srv, g, ctx := c.srv, c.srv.GroupID, context.Background()
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0"}, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	b := c.createBucket(t, g, cloud.request(c, g))
	created, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: res.Snapshot.ID, ExportBucketId: b.GetId()}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	job := waitExport(t, srv, c.APIClient, g, "Cluster0", created.GetId(), "Successful")
	return srv.OpenExportBucket(t, b.GetId()), cloud.stored, job
}

// cloudBucket is a bucket of one provider for a test server: how the
// server reaches the provider, the export bucket to create through the
// SDK, and the names the store holds under a prefix, as any of its
// readers sees them (nil for a local folder, whose paths are escaped).
type cloudBucket struct {
	cfg     objectstore.Config
	request func(c *sdkClient, groupID string) *admin.DiskBackupSnapshotExportBucketRequest
	stored  func(prefix string) []string
}

// newCloudBucket sets up a bucket of provider: "LOCAL" (an AWS bucket in a
// local folder), "AWS" (gofakes3), "AZURE" (Azurite at azurite) or "GCP"
// (fake-gcs-server).
func newCloudBucket(t *testing.T, provider, azurite string) cloudBucket {
	t.Helper()
	b := cloudBucket{cfg: objectstore.Config{LocalDir: t.TempDir()}}
	switch provider {
	case "LOCAL":
		b.request = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
			return awsBucket("local-exports", c.awsRole(t, g, true))
		}
	case "AWS":
		s3 := testservices.S3(t, "s3-exports")
		b.cfg.AWS = s3Compatible(s3.URL)
		b.stored = func(prefix string) []string { return s3.Keys(t, "s3-exports", prefix) }
		b.request = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
			return awsBucket("s3-exports", c.awsRole(t, g, true))
		}
	case "AZURE":
		name := uniqueName("e2e-export")
		container := testservices.AzuriteContainer(t, azurite, name)
		b.stored = func(prefix string) []string { return testservices.BlobNames(t, container, prefix) }
		b.cfg.Azure = azureCompatible(testservices.AzuriteAccountURL(azurite))
		b.request = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
			id, _ := c.azureRole(t, g, true)
			return azureBucket(azureServiceURL(name), id)
		}
	case "GCP":
		gcs := testservices.GCS(t, "gcs-exports")
		b.cfg.GCP = gcsCompatible(gcs.URL)
		b.stored = func(prefix string) []string { return gcs.Keys(t, "gcs-exports", prefix) }
		b.request = func(c *sdkClient, g string) *admin.DiskBackupSnapshotExportBucketRequest {
			return gcpBucket("gcs-exports", c.gcpRole(t, g))
		}
	default:
		t.Fatalf("unknown provider %q", provider)
	}
	return b
}
