package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// sdkExportBucket creates an authorized AWS role and a bucket on it.
func sdkExportBucket(t *testing.T, c *admin.APIClient, groupID, name string) string {
	t.Helper()
	ctx := context.Background()
	role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, groupID, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iam::123456789012:role/export"
	if _, _, err := c.CloudProviderAccessApi.AuthorizeProviderAccessRole(ctx, groupID, role.GetRoleId(),
		&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute(); err != nil {
		t.Fatal(err)
	}
	b, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		BucketName: admin.PtrString(name), CloudProvider: "AWS", IamRoleId: admin.PtrString(role.GetRoleId())}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	return b.GetId()
}

// TestSDKClusters reads clusters and reads and patches their backup
// schedules with the SDK, every response checked against the document.
func TestSDKClusters(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID

	list, _, err := c.ClustersApi.ListClusters(ctx, g).Execute()
	if err != nil || list.GetTotalCount() != 0 || len(list.GetResults()) != 0 {
		t.Fatalf("ListClusters on an empty project: %v, %+v", err, list)
	}
	rs, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: g, Name: "cluster-989", MongoDBVersion: "8.0.29",
		Labels: []snapexport.Label{{Key: "env", Value: "prod"}}})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: g, Name: "sharded", Shards: []string{"rs0", "rs1"}})
	if err != nil {
		t.Fatal(err)
	}

	list, _, err = c.ClustersApi.ListClusters(ctx, g).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if res := list.GetResults(); list.GetTotalCount() != 2 || len(res) != 2 || res[0].GetName() != "cluster-989" || res[1].GetId() != sh.ID {
		t.Errorf("ListClusters: %+v", list)
	}
	got, _, err := c.ClustersApi.GetCluster(ctx, g, "cluster-989").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if got.GetId() != rs.ID || got.GetGroupId() != g || got.GetClusterType() != "REPLICASET" || got.GetMongoDBVersion() != "8.0.29" ||
		got.GetMongoDBMajorVersion() != "8.0" || got.GetStateName() != "IDLE" || !got.GetBackupEnabled() || got.GetPaused() ||
		len(got.GetLabels()) != 1 || got.GetLabels()[0].GetKey() != "env" || len(got.GetTags()) != 1 || len(got.GetReplicationSpecs()) != 1 ||
		!got.GetCreateDate().Equal(rs.CreatedAt.Truncate(1e9)) {
		t.Errorf("GetCluster: %+v", got)
	}
	got, _, err = c.ClustersApi.GetCluster(ctx, g, "sharded").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if specs := got.GetReplicationSpecs(); got.GetClusterType() != "SHARDED" || len(specs) != 2 || specs[1].GetId() != sh.Shards[1].ID || specs[0].GetZoneName() != "Zone 1" {
		t.Errorf("GetCluster(sharded): %+v", got)
	}
	_, _, err = c.ClustersApi.GetCluster(ctx, g, "cluster-990").Execute()
	wantAPIError(t, "GetCluster(unknown)", err, http.StatusNotFound, snapexport.CodeClusterNotFound, "cluster-990", g)

	// Schedules.
	sched, _, err := c.CloudBackupsApi.GetBackupSchedule(ctx, g, "cluster-989").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if sched.GetClusterId() != rs.ID || sched.GetClusterName() != "cluster-989" || sched.GetAutoExportEnabled() || sched.HasExport() {
		t.Errorf("GetBackupSchedule: %+v", sched)
	}
	bucket := sdkExportBucket(t, c, g, "auto-export")
	update := &admin.DiskBackupSnapshotSchedule20240805{
		AutoExportEnabled:                 admin.PtrBool(true),
		Export:                            &admin.AutoExportPolicy{ExportBucketId: admin.PtrString(bucket), FrequencyType: admin.PtrString("monthly")},
		UseOrgAndGroupNamesInExportPrefix: admin.PtrBool(true),
	}
	sched, _, err = c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "cluster-989", update).Execute()
	if err != nil {
		t.Fatal(err)
	}
	export := sched.GetExport()
	if !sched.GetAutoExportEnabled() || export.GetExportBucketId() != bucket || export.GetFrequencyType() != "monthly" ||
		!sched.GetUseOrgAndGroupNamesInExportPrefix() {
		t.Errorf("UpdateBackupSchedule: %+v", sched)
	}
	_, _, err = c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "sharded", &admin.DiskBackupSnapshotSchedule20240805{
		Export: &admin.AutoExportPolicy{ExportBucketId: admin.PtrString(bucket), FrequencyType: admin.PtrString("yearly")}}).Execute()
	wantAPIError(t, "UpdateBackupSchedule without autoExportEnabled", err, http.StatusBadRequest, snapexport.CodeInvalidBackupPolicy)
	_, _, err = c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "sharded", &admin.DiskBackupSnapshotSchedule20240805{AutoExportEnabled: admin.PtrBool(false),
		Export: &admin.AutoExportPolicy{ExportBucketId: admin.PtrString("0123456789abcdef01234567"), FrequencyType: admin.PtrString("yearly")}}).Execute()
	wantAPIError(t, "UpdateBackupSchedule to an unknown bucket", err, http.StatusNotFound, snapexport.CodeExportBucketNotFound)
	_, _, err = c.CloudBackupsApi.GetBackupSchedule(ctx, g, "cluster-990").Execute()
	wantAPIError(t, "GetBackupSchedule(unknown)", err, http.StatusNotFound, snapexport.CodeClusterNotFound)

	// A bucket a schedule auto-exports to cannot be deleted.
	_, err = c.CloudBackupsApi.DeleteExportBucket(ctx, g, bucket).Execute()
	wantAPIError(t, "DeleteExportBucket(in use)", err, http.StatusBadRequest, snapexport.CodeExportBucketInUse)
	if _, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "cluster-989", &admin.DiskBackupSnapshotSchedule20240805{AutoExportEnabled: admin.PtrBool(false)}).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CloudBackupsApi.DeleteExportBucket(ctx, g, bucket).Execute(); err != nil {
		t.Fatalf("DeleteExportBucket once automatic export is off: %v", err)
	}
	terraformBucketDeleted(t, c, g, bucket)
}

// terraformBucketDeleted is what the Terraform provider polls after
// deleting a bucket (atlas-facts §13.3): the cluster list, then each
// cluster's schedule, until none names the bucket.
func terraformBucketDeleted(t *testing.T, c *admin.APIClient, groupID, bucketID string) {
	t.Helper()
	ctx := context.Background()
	clusters, _, err := c.ClustersApi.ListClusters(ctx, groupID).Execute()
	if err != nil {
		t.Fatalf("ListClusters after deleting a bucket: %v", err)
	}
	for _, cl := range clusters.GetResults() {
		s, _, err := c.CloudBackupsApi.GetBackupSchedule(ctx, groupID, cl.GetName()).Execute()
		if err != nil {
			t.Fatalf("GetBackupSchedule(%s) after deleting a bucket: %v", cl.GetName(), err)
		}
		if export := s.GetExport(); export.GetExportBucketId() == bucketID {
			t.Errorf("the schedule of %s still names deleted bucket %s: Terraform would wait", cl.GetName(), bucketID)
		}
	}
}

// TestSDKTerraformBucketDelete: the same wait on a project without
// clusters answers an empty list rather than 404.
func TestSDKTerraformBucketDelete(t *testing.T) {
	srv := testserver.NewServer(t)
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	bucket := sdkExportBucket(t, c, srv.GroupID, "tf-bucket")
	if _, err := c.CloudBackupsApi.DeleteExportBucket(context.Background(), srv.GroupID, bucket).Execute(); err != nil {
		t.Fatal(err)
	}
	terraformBucketDeleted(t, c, srv.GroupID, bucket)
}
