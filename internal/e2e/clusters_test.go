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

// TestSDKClusterLifecycle creates, changes and deletes clusters with the
// SDK's ClustersApi as a Go program would, every answer checked against
// the document: a replica set and a sharded cluster of one spec per shard,
// the status, a change of settings and version, a refused delete while
// termination protection is on, the delete, and the name created again.
func TestSDKClusterLifecycle(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	spec := func() admin.ReplicationSpec20240805 {
		return admin.ReplicationSpec20240805{RegionConfigs: &[]admin.CloudRegionConfig20240805{{
			ProviderName: admin.PtrString("AWS"), RegionName: admin.PtrString("EU_WEST_1"), Priority: admin.PtrInt(7),
			ElectableSpecs: &admin.HardwareSpec20240805{InstanceSize: admin.PtrString("M30"), NodeCount: admin.PtrInt(3)},
		}}}
	}

	created, _, err := c.ClustersApi.CreateCluster(ctx, g, &admin.ClusterDescription20240805{
		Name: admin.PtrString("sdk-rs"), ClusterType: admin.PtrString("REPLICASET"), MongoDBMajorVersion: admin.PtrString("7.0"),
		ReplicationSpecs: &[]admin.ReplicationSpec20240805{spec()}, TerminationProtectionEnabled: admin.PtrBool(true),
		Tags: &[]admin.ResourceTag{{Key: "team", Value: "data"}},
	}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if created.GetName() != "sdk-rs" || created.GetStateName() != "IDLE" || created.GetMongoDBVersion() != "7.0.0" ||
		!created.GetTerminationProtectionEnabled() || !created.GetBackupEnabled() || len(created.GetTags()) != 1 {
		t.Errorf("CreateCluster: %+v", created)
	}
	rc := created.GetReplicationSpecs()[0].GetRegionConfigs()[0]
	if rc.GetRegionName() != "EU_WEST_1" || rc.ElectableSpecs.GetInstanceSize() != "M30" {
		t.Errorf("CreateCluster's region: %+v", rc)
	}
	sharded, _, err := c.ClustersApi.CreateCluster(ctx, g, &admin.ClusterDescription20240805{
		Name: admin.PtrString("sdk-sharded"), ClusterType: admin.PtrString("SHARDED"),
		ReplicationSpecs: &[]admin.ReplicationSpec20240805{spec(), spec()},
	}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if sharded.GetClusterType() != "SHARDED" || len(sharded.GetReplicationSpecs()) != 2 {
		t.Errorf("CreateCluster(sharded): %+v", sharded)
	}
	_, _, err = c.ClustersApi.CreateCluster(ctx, g, &admin.ClusterDescription20240805{
		Name: admin.PtrString("sdk-rs"), ClusterType: admin.PtrString("REPLICASET"), ReplicationSpecs: &[]admin.ReplicationSpec20240805{spec()},
	}).Execute()
	wantAPIError(t, "CreateCluster(taken name)", err, http.StatusBadRequest, snapexport.CodeDuplicateClusterName, "sdk-rs", g)

	status, _, err := c.ClustersApi.GetClusterStatus(ctx, g, "sdk-rs").Execute()
	if err != nil || status.GetChangeStatus() != "APPLIED" {
		t.Errorf("GetClusterStatus: %+v, %v", status, err)
	}

	_, err = c.ClustersApi.DeleteCluster(ctx, g, "sdk-rs").Execute()
	wantAPIError(t, "DeleteCluster(protected)", err, http.StatusBadRequest, snapexport.CodeClusterTerminationProtected)
	updated, _, err := c.ClustersApi.UpdateCluster(ctx, g, "sdk-rs", &admin.ClusterDescription20240805{
		TerminationProtectionEnabled: admin.PtrBool(false), BackupEnabled: admin.PtrBool(false), MongoDBMajorVersion: admin.PtrString("8.0"),
		Labels: &[]admin.ComponentLabel{{Key: admin.PtrString("env"), Value: admin.PtrString("prod")}},
	}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetTerminationProtectionEnabled() || updated.GetBackupEnabled() || updated.GetMongoDBMajorVersion() != "8.0" ||
		len(updated.GetLabels()) != 1 || len(updated.GetTags()) != 1 {
		t.Errorf("UpdateCluster: %+v", updated)
	}
	_, _, err = c.ClustersApi.UpdateCluster(ctx, g, "sdk-rs", &admin.ClusterDescription20240805{Paused: admin.PtrBool(true)}).Execute()
	wantAPIError(t, "UpdateCluster(paused)", err, http.StatusBadRequest, snapexport.CodeAttributeReadOnly, "paused")

	res, err := c.ClustersApi.DeleteCluster(ctx, g, "sdk-rs").RetainBackups(false).Execute()
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("DeleteCluster: %v, %v", res, err)
	}
	_, _, err = c.ClustersApi.GetCluster(ctx, g, "sdk-rs").Execute()
	wantAPIError(t, "GetCluster(deleted)", err, http.StatusNotFound, snapexport.CodeClusterNotFound, "sdk-rs", g)
	again, _, err := c.ClustersApi.CreateCluster(ctx, g, &admin.ClusterDescription20240805{
		Name: admin.PtrString("sdk-rs"), ClusterType: admin.PtrString("REPLICASET"), ReplicationSpecs: &[]admin.ReplicationSpec20240805{spec()},
	}).Execute()
	if err != nil || again.GetId() == created.GetId() {
		t.Errorf("CreateCluster(name of a deleted one): %+v, %v", again, err)
	}
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
		len(got.GetLabels()) != 1 || got.GetLabels()[0].GetKey() != "env" || len(got.GetTags()) != 0 || len(got.GetReplicationSpecs()) != 1 ||
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
