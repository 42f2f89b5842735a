package e2e_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// storeShardedSnapshot writes one snapshot per shard of c and the
// sharded-cluster snapshot that groups them.
func storeShardedSnapshot(t *testing.T, srv *testserver.Server, c *snapexport.Cluster, createdAt time.Time) *snapexport.Snapshot {
	t.Helper()
	sharded := snapexport.Snapshot{ID: service.NewID(), Kind: snapexport.SnapshotShardedCluster, CreatedAt: createdAt,
		SnapshotType: "scheduled", FrequencyType: "daily"}
	for _, sh := range c.Shards {
		m := srv.StoreSnapshot(t, c, snapexport.Snapshot{ParentID: sharded.ID, ReplicaSetName: sh.ReplicaSetName, CreatedAt: createdAt,
			SnapshotType: "scheduled", FrequencyType: "daily", StorageSizeBytes: 1 << 20})
		sharded.Members = append(sharded.Members, snapexport.SnapshotMember{ID: m.ID, ReplicaSetName: m.ReplicaSetName})
		sharded.StorageSizeBytes += m.StorageSizeBytes
	}
	return srv.StoreSnapshot(t, c, sharded)
}

// TestSDKSnapshots drives every snapshot operation through the SDK's
// CloudBackupsApi, with both kinds of credentials: the lists and their
// paging, both shapes of one snapshot, expiry changes and deletes, and
// the errors users meet, as admin.IsErrorCode sees them.
func TestSDKSnapshots(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		srv, g := c.srv.Server, c.srv.GroupID
		api := c.CloudBackupsApi
		rs, err := srv.Service.CreateCluster(sdkCtx, service.ClusterInput{ProjectID: g, Name: "cluster-989", MongoDBVersion: "8.0.29"})
		if err != nil {
			t.Fatal(err)
		}
		sh, err := srv.Service.CreateCluster(sdkCtx, service.ClusterInput{ProjectID: g, Name: "sharded", Shards: []string{"rs0", "rs1"}})
		if err != nil {
			t.Fatal(err)
		}

		list, resp, err := api.ListBackupSnapshots(sdkCtx, g, "cluster-989").Execute()
		wantStatus(t, "ListBackupSnapshots (empty)", resp, err, http.StatusOK)
		if list.GetTotalCount() != 0 || len(list.GetResults()) != 0 {
			t.Errorf("ListBackupSnapshots on a cluster without snapshots: %+v", list)
		}
		created := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
		var snaps []*snapexport.Snapshot
		for i := range 3 {
			snaps = append(snaps, c.srv.StoreSnapshot(t, rs, snapexport.Snapshot{Description: "test-snapshot",
				CreatedAt: created.AddDate(0, 0, i), StorageSizeBytes: 1574477824}))
		}
		sharded := storeShardedSnapshot(t, c.srv, sh, created)

		// Paging, as users page with the SDK's request builder.
		list, resp, err = api.ListBackupSnapshots(sdkCtx, g, "cluster-989").ItemsPerPage(2).PageNum(2).Execute()
		wantStatus(t, "ListBackupSnapshots page 2", resp, err, http.StatusOK)
		if res := list.GetResults(); list.GetTotalCount() != 3 || len(res) != 1 || res[0].GetId() != snaps[2].ID {
			t.Errorf("ListBackupSnapshots page 2: %+v", list)
		}
		list, resp, err = api.ListBackupSnapshotsWithParams(sdkCtx, &admin.ListBackupSnapshotsApiParams{GroupId: g, ClusterName: "cluster-989",
			PointInTimeUtcSeconds: admin.PtrInt64(created.AddDate(0, 0, 1).Unix() + 60)}).Execute()
		wantStatus(t, "ListBackupSnapshots at a point in time", resp, err, http.StatusOK)
		if res := list.GetResults(); len(res) != 1 || res[0].GetId() != snaps[1].ID {
			t.Errorf("ListBackupSnapshots at a point in time: %+v", list)
		}
		list, resp, err = api.ListBackupSnapshots(sdkCtx, g, "cluster-989").Execute()
		wantStatus(t, "ListBackupSnapshots", resp, err, http.StatusOK)
		if res := list.GetResults(); list.GetTotalCount() != 3 || len(res) != 3 || res[0].GetId() != snaps[0].ID {
			t.Fatalf("ListBackupSnapshots: %+v", list)
		}

		// One replica-set snapshot, every field the SDK models.
		got, resp, err := api.GetClusterBackupSnapshot(sdkCtx, g, "cluster-989", snaps[0].ID).Execute()
		wantStatus(t, "GetClusterBackupSnapshot", resp, err, http.StatusOK)
		links := got.GetLinks()
		clusterURL := c.srv.URL + "/api/atlas/v2/groups/" + g + "/clusters/cluster-989"
		if got.GetId() != snaps[0].ID || got.GetType() != "replicaSet" || got.GetStatus() != "completed" || got.GetCloudProvider() != "AWS" ||
			got.GetReplicaSetName() != "cluster-989" || got.GetMongodVersion() != "8.0.29" || got.GetDescription() != "test-snapshot" ||
			got.GetSnapshotType() != "onDemand" || got.GetFrequencyType() != "ondemand" || got.GetStorageSizeBytes() != 1574477824 ||
			!got.GetCreatedAt().Equal(created) || !got.GetExpiresAt().Equal(created.Add(24*time.Hour)) ||
			!got.HasCopyRegions() || len(got.GetCopyRegions()) != 0 || !got.HasPolicyItems() || len(got.GetPolicyItems()) != 0 ||
			len(links) != 2 || links[0].GetRel() != "self" || links[0].GetHref() != clusterURL+"/backup/snapshots/"+snaps[0].ID ||
			links[1].GetRel() != "https://cloud.mongodb.com/cluster" || links[1].GetHref() != clusterURL {
			t.Errorf("GetClusterBackupSnapshot: %+v", got)
		}

		// The sharded-cluster snapshot.
		shList, resp, err := api.ListBackupShardedClusters(sdkCtx, g, "sharded").Execute()
		wantStatus(t, "ListBackupShardedClusters", resp, err, http.StatusOK)
		if res := shList.GetResults(); shList.GetTotalCount() != 1 || len(res) != 1 || res[0].GetId() != sharded.ID {
			t.Fatalf("ListBackupShardedClusters: %+v", shList)
		}
		one, resp, err := api.GetBackupShardedCluster(sdkCtx, g, "sharded", sharded.ID).Execute()
		wantStatus(t, "GetBackupShardedCluster", resp, err, http.StatusOK)
		members := one.GetMembers()
		if one.GetType() != "shardedCluster" || one.GetConfigServerType() != "EMBEDDED" || one.GetStorageSizeBytes() != 2<<20 ||
			len(members) != 2 || members[0].GetId() != sharded.Members[0].ID || members[1].GetReplicaSetName() != "rs1" ||
			members[0].GetCloudProvider() != "AWS" || !slices.Equal(one.GetSnapshotIds(), []string{sharded.Members[0].ID, sharded.Members[1].ID}) ||
			one.GetLinks()[0].GetHref() != c.srv.URL+"/api/atlas/v2/groups/"+g+"/clusters/sharded/backup/snapshots/shardedCluster/"+sharded.ID {
			t.Errorf("GetBackupShardedCluster: %+v", one)
		}
		// The replica-set call finds it too; the SDK's replica-set model
		// reads the fields both shapes share.
		viaRS, resp, err := api.GetClusterBackupSnapshot(sdkCtx, g, "sharded", sharded.ID).Execute()
		wantStatus(t, "GetClusterBackupSnapshot(sharded)", resp, err, http.StatusOK)
		if viaRS.GetId() != sharded.ID || viaRS.GetType() != "shardedCluster" {
			t.Errorf("GetClusterBackupSnapshot(sharded): %+v", viaRS)
		}

		// Errors.
		_, _, err = api.GetClusterBackupSnapshot(sdkCtx, g, "sharded", sharded.Members[0].ID).Execute()
		wantAPIError(t, "GetClusterBackupSnapshot(shard's snapshot)", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound, sharded.Members[0].ID, "sharded")
		_, _, err = api.GetBackupShardedCluster(sdkCtx, g, "cluster-989", snaps[0].ID).Execute()
		wantAPIError(t, "GetBackupShardedCluster(replica-set snapshot)", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)
		_, _, err = api.GetClusterBackupSnapshot(sdkCtx, g, "cluster-989", "nope").Execute()
		wantAPIError(t, "GetClusterBackupSnapshot(nope)", err, http.StatusNotFound, snapexport.CodeInvalidSnapshotID, "nope")
		_, _, err = api.GetClusterBackupSnapshot(sdkCtx, g, "cluster-989", unknownID()).Execute()
		wantAPIError(t, "GetClusterBackupSnapshot(unknown)", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)
		_, _, err = api.ListBackupSnapshots(sdkCtx, g, "cluster-990").Execute()
		wantAPIError(t, "ListBackupSnapshots(unknown cluster)", err, http.StatusNotFound, snapexport.CodeClusterNotFound, "cluster-990", g)
		_, _, err = api.ListBackupShardedClusters(sdkCtx, g, "cluster-990").Execute()
		wantAPIError(t, "ListBackupShardedClusters(unknown cluster)", err, http.StatusNotFound, snapexport.CodeClusterNotFound)

		// Expiry: counted from now.
		before := time.Now().UTC().Truncate(time.Second)
		upd, resp, err := api.UpdateBackupSnapshot(sdkCtx, g, "cluster-989", snaps[0].ID,
			&admin.BackupSnapshotRetention{RetentionUnit: "WEEKS", RetentionValue: 2}).Execute()
		wantStatus(t, "UpdateBackupSnapshot", resp, err, http.StatusOK)
		after := time.Now().UTC()
		if exp := upd.GetExpiresAt(); upd.GetId() != snaps[0].ID || exp.Before(before.AddDate(0, 0, 14)) || exp.After(after.AddDate(0, 0, 14)) {
			t.Errorf("UpdateBackupSnapshot: expiresAt %v, want 14 days after %v", exp, before)
		}
		if again, _, err := api.GetClusterBackupSnapshot(sdkCtx, g, "cluster-989", snaps[0].ID).Execute(); err != nil || !again.GetExpiresAt().Equal(upd.GetExpiresAt()) {
			t.Errorf("GetClusterBackupSnapshot after the update: %v, %+v", err, again)
		}
		_, _, err = api.UpdateBackupSnapshot(sdkCtx, g, "cluster-989", snaps[0].ID, &admin.BackupSnapshotRetention{RetentionUnit: "DAYS"}).Execute()
		wantAPIError(t, "UpdateBackupSnapshot(retentionValue 0)", err, http.StatusBadRequest, snapexport.CodeRetentionValueInvalid)
		_, _, err = api.UpdateBackupSnapshot(sdkCtx, g, "cluster-989", snaps[0].ID, &admin.BackupSnapshotRetention{RetentionUnit: "HOURS", RetentionValue: 3}).Execute()
		wantAPIError(t, "UpdateBackupSnapshot(HOURS)", err, http.StatusBadRequest, snapexport.CodeInvalidEnumValue, "HOURS")
		_, _, err = api.UpdateBackupSnapshot(sdkCtx, g, "cluster-989", snaps[0].ID, &admin.BackupSnapshotRetention{RetentionValue: 3}).Execute()
		wantAPIError(t, "UpdateBackupSnapshot(no unit)", err, http.StatusBadRequest, snapexport.CodeMissingAttribute, "retentionUnit")
		_, _, err = api.UpdateBackupSnapshot(sdkCtx, g, "cluster-989", unknownID(), &admin.BackupSnapshotRetention{RetentionUnit: "DAYS", RetentionValue: 3}).Execute()
		wantAPIError(t, "UpdateBackupSnapshot(unknown)", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)

		// Deletes.
		resp, err = api.DeleteClusterBackupSnapshot(sdkCtx, g, "cluster-989", snaps[1].ID).Execute()
		wantStatus(t, "DeleteClusterBackupSnapshot", resp, err, http.StatusNoContent)
		_, _, err = api.GetClusterBackupSnapshot(sdkCtx, g, "cluster-989", snaps[1].ID).Execute()
		wantAPIError(t, "GetClusterBackupSnapshot after delete", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)
		_, err = api.DeleteClusterBackupSnapshot(sdkCtx, g, "cluster-989", snaps[1].ID).Execute()
		wantAPIError(t, "DeleteClusterBackupSnapshot again", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)
		_, err = api.DeleteBackupShardedCluster(sdkCtx, g, "sharded", sharded.Members[1].ID).Execute()
		wantAPIError(t, "DeleteBackupShardedCluster(shard's snapshot)", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)
		resp, err = api.DeleteBackupShardedCluster(sdkCtx, g, "sharded", sharded.ID).Execute()
		wantStatus(t, "DeleteBackupShardedCluster", resp, err, http.StatusNoContent)
		for _, id := range []string{sharded.ID, sharded.Members[0].ID, sharded.Members[1].ID} {
			if c.srv.SnapshotStored(t, sh, id) {
				t.Errorf("DeleteBackupShardedCluster left snapshot %s", id)
			}
		}
		_, _, err = api.GetBackupShardedCluster(sdkCtx, g, "sharded", sharded.ID).Execute()
		wantAPIError(t, "GetBackupShardedCluster after delete", err, http.StatusNotFound, snapexport.CodeSnapshotNotFound)
		if shList, _, err := api.ListBackupShardedClusters(sdkCtx, g, "sharded").Execute(); err != nil || shList.GetTotalCount() != 0 {
			t.Errorf("ListBackupShardedClusters after delete: %v, %+v", err, shList)
		}
		if list, _, err := api.ListBackupSnapshots(sdkCtx, g, "cluster-989").Execute(); err != nil || list.GetTotalCount() != 2 {
			t.Errorf("ListBackupSnapshots after delete: %v, %+v", err, list)
		}
	})
}
