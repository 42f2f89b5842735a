package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestSDKBackupSchedule reads, changes and empties a cluster's backup
// policy with the SDK (version 2024-08-05), as the Terraform provider's
// cloud_backup_schedule resource does: it indexes policies[0], sends the
// items back with their ids, and deletes the schedule on destroy. Every
// answer is checked against the document.
func TestSDKBackupSchedule(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	cl, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: g, Name: "cluster-989"})
	if err != nil {
		t.Fatal(err)
	}

	before := time.Now().UTC()
	sched, _, err := c.CloudBackupsApi.GetBackupSchedule(ctx, g, cl.Name).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if len(sched.Policies) != 1 {
		t.Fatalf("GetBackupSchedule: %d policies, want 1", len(sched.Policies))
	}
	policy := sched.Policies[0]
	items := policy.PolicyItems
	if len(items) != 5 || items[0].FrequencyType != "hourly" || items[0].FrequencyInterval != 6 || items[3].FrequencyInterval != snapexport.LastDayOfMonth ||
		items[4].RetentionUnit != "years" || sched.GetRestoreWindowDays() != 7 || sched.GetClusterId() != cl.ID || len(sched.GetLinks()) != 2 {
		t.Errorf("GetBackupSchedule: %+v", sched)
	}
	// The default policy takes a snapshot every 6 hours.
	if next := sched.GetNextSnapshot(); !next.After(before.Add(-time.Minute)) || next.After(before.Add(6*time.Hour)) {
		t.Errorf("nextSnapshot %v, want within 6 hours of %v", next, before)
	}
	for _, it := range items {
		wantObjectID(t, "policy item id", it.GetId())
	}

	// Items sent back with their ids are changed, those left out removed,
	// one without an id added.
	hourly := items[0]
	hourly.FrequencyInterval = 4
	weekly := admin.DiskBackupApiPolicyItem{FrequencyType: "weekly", FrequencyInterval: 7, RetentionUnit: "weeks", RetentionValue: 2}
	update := &admin.DiskBackupSnapshotSchedule20240805{
		ReferenceHourOfDay: admin.PtrInt(1), ReferenceMinuteOfHour: admin.PtrInt(45), RestoreWindowDays: admin.PtrInt(3),
		UpdateSnapshots: admin.PtrBool(true), CopySettings: &[]admin.DiskBackupCopySetting20240805{},
		Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{Id: policy.Id, PolicyItems: []admin.DiskBackupApiPolicyItem{weekly, hourly, items[1]}}},
	}
	sched, _, err = c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, cl.Name, update).Execute()
	if err != nil {
		t.Fatal(err)
	}
	got := sched.Policies[0].PolicyItems
	if sched.Policies[0].GetId() != policy.GetId() || len(got) != 3 || got[0].GetId() != hourly.GetId() || got[0].FrequencyInterval != 4 ||
		got[1].GetId() != items[1].GetId() || got[2].FrequencyType != "weekly" || got[2].GetId() == "" ||
		sched.GetReferenceHourOfDay() != 1 || sched.GetReferenceMinuteOfHour() != 45 || sched.GetRestoreWindowDays() != 3 {
		t.Errorf("UpdateBackupSchedule: %+v", sched)
	}
	if next := sched.GetNextSnapshot(); next.UTC().Minute() != 45 || next.UTC().Hour()%4 != 1 {
		t.Errorf("nextSnapshot %v, want hh:45 every 4 hours from 01:45", next)
	}

	_, _, err = c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, cl.Name, &admin.DiskBackupSnapshotSchedule20240805{
		Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{PolicyItems: []admin.DiskBackupApiPolicyItem{
			{FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 14},
			{FrequencyType: "weekly", FrequencyInterval: 1, RetentionUnit: "weeks", RetentionValue: 1}}}}}).Execute()
	wantAPIError(t, "UpdateBackupSchedule keeping weekly snapshots less than daily ones", err, http.StatusBadRequest, snapexport.CodeInvalidBackupPolicy,
		"the weekly policy item keeps snapshots 1 weeks, less than the daily policy item's 14 days.")

	sched, _, err = c.CloudBackupsApi.DeleteClusterBackupSchedule(ctx, g, cl.Name).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if len(sched.Policies) != 1 || len(sched.Policies[0].PolicyItems) != 0 || sched.HasNextSnapshot() || sched.GetRestoreWindowDays() != 3 {
		t.Errorf("DeleteClusterBackupSchedule: %+v", sched)
	}
	sched, _, err = c.CloudBackupsApi.GetBackupSchedule(ctx, g, cl.Name).Execute()
	if err != nil || len(sched.Policies) != 1 || len(sched.Policies[0].PolicyItems) != 0 {
		t.Errorf("GetBackupSchedule after delete: %v, %+v", err, sched)
	}
	_, _, err = c.CloudBackupsApi.DeleteClusterBackupSchedule(ctx, g, "cluster-990").Execute()
	wantAPIError(t, "DeleteClusterBackupSchedule(unknown)", err, http.StatusNotFound, snapexport.CodeClusterNotFound, "cluster-990", g)
}
