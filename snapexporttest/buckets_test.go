//go:build !snapexport_localbuckets

package snapexporttest_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
	"github.com/snapexport/snapexport/snapexporttest"
)

func TestMain(m *testing.M) { testservices.Main(m) }

// TestBucketsOnEmulators creates an export bucket of each provider through
// the SDK on a server whose Buckets option names an emulator (gofakes3,
// Azurite, fake-gcs-server), and finds the permission check that creating
// a bucket writes in the emulator.
func TestBucketsOnEmulators(t *testing.T) {
	ctx := context.Background()
	t.Run("S3", func(t *testing.T) {
		s3 := testservices.S3(t, "s3-exports")
		srv := snapexporttest.NewServer(t, snapexporttest.Options{Buckets: &snapexporttest.Buckets{S3: &snapexporttest.S3Compatible{
			Endpoint: s3.URL, AccessKeyID: "AKIDSNAPEXPORTTEST", SecretAccessKey: "s3-secret", Region: "eu-west-3"}}})
		c := digestClient(t, srv, srv.APIKey)
		roleID := authorizedAWSRole(t, c, srv.GroupID, "arn:aws:iam::123456789012:role/atlas-export")
		b, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, srv.GroupID, &admin.DiskBackupSnapshotExportBucketRequest{
			CloudProvider: "AWS", BucketName: admin.PtrString("s3-exports"), IamRoleId: admin.PtrString(roleID)}).Execute()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := c.CloudBackupsApi.GetExportBucket(ctx, srv.GroupID, b.GetId()).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetRegion() != "eu-west-3" {
			t.Errorf("region %q, want S3Compatible.Region eu-west-3 (the emulator names none)", got.GetRegion())
		}
		if !s3.HasObject("s3-exports", objectstore.PermissionCheckKey) {
			t.Error("no permission check in the S3 bucket")
		}
	})
	t.Run("Azure", func(t *testing.T) {
		azurite := testservices.Azurite(t)
		name := "snapexporttest-" + uuid.NewString()[:8]
		container := testservices.AzuriteContainer(t, azurite, name)
		srv := snapexporttest.NewServer(t, snapexporttest.Options{Buckets: &snapexporttest.Buckets{Azure: &snapexporttest.AzureCompatible{
			Endpoint: testservices.AzuriteAccountURL(azurite), AccountName: testservices.AzuriteAccount, AccountKey: testservices.AzuriteKey}}})
		c := digestClient(t, srv, srv.APIKey)
		appID, principalID, tenantID := uuid.NewString(), uuid.NewString(), uuid.NewString()
		role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, srv.GroupID, &admin.CloudProviderAccessRoleRequest{
			ProviderName: "AZURE", AtlasAzureAppId: &appID, ServicePrincipalId: &principalID, TenantId: &tenantID}).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.CloudProviderAccessApi.AuthorizeProviderAccessRole(ctx, srv.GroupID, role.GetId(), &admin.CloudProviderAccessRoleRequestUpdate{
			ProviderName: "AZURE", AtlasAzureAppId: &appID, ServicePrincipalId: &principalID, TenantId: &tenantID}).Execute(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, srv.GroupID, &admin.DiskBackupSnapshotExportBucketRequest{
			CloudProvider: "AZURE", ServiceUrl: admin.PtrString("https://examplestorageaccount.blob.core.windows.net/" + name),
			RoleId: admin.PtrString(role.GetId())}).Execute(); err != nil {
			t.Fatal(err)
		}
		if _, ok := testservices.BlobSize(t, container, objectstore.PermissionCheckKey); !ok {
			t.Error("no permission check in the Azurite container")
		}
	})
	t.Run("GCS", func(t *testing.T) {
		gcs := testservices.GCS(t, "gcs-exports")
		srv := snapexporttest.NewServer(t, snapexporttest.Options{Buckets: &snapexporttest.Buckets{GCS: &snapexporttest.GCSCompatible{
			Endpoint: gcs.URL}}})
		c := digestClient(t, srv, srv.APIKey)
		role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, srv.GroupID,
			&admin.CloudProviderAccessRoleRequest{ProviderName: "GCP"}).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, srv.GroupID, &admin.DiskBackupSnapshotExportBucketRequest{
			CloudProvider: "GCP", BucketName: admin.PtrString("gcs-exports"), RoleId: admin.PtrString(role.GetRoleId())}).Execute(); err != nil {
			t.Fatal(err)
		}
		if !gcs.HasObject("gcs-exports", objectstore.PermissionCheckKey) {
			t.Error("no permission check in the GCS bucket")
		}
	})
}
