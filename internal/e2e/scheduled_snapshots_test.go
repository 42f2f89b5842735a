package e2e_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/testserver"
)

// fakeClock is a server clock that tests set.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Set(t *testing.T, rfc3339 string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
	return at
}

// takeScheduled moves the clock of srv to at and takes the snapshots the
// schedules call for.
func takeScheduled(t *testing.T, srv *testserver.Server, clock *fakeClock, at string) {
	t.Helper()
	clock.Set(t, at)
	if _, err := srv.Server.TakeScheduledSnapshots(context.Background()); err != nil {
		t.Fatalf("TakeScheduledSnapshots at %s: %v", at, err)
	}
}

// scheduledServer is a test server whose clock starts at 2026-08-10
// 12:00 UTC and moves only when the test sets it, with a digest client.
func scheduledServer(t *testing.T) (*testserver.Server, *fakeClock, *admin.APIClient) {
	t.Helper()
	clock := &fakeClock{}
	clock.Set(t, "2026-08-10T12:00:00Z")
	srv := testserver.NewServer(t, testserver.Options{Now: clock.Now, SchedulePollInterval: time.Hour})
	return srv, clock, digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
}

// replicaSetSnapshots lists a cluster's snapshots through the API.
func replicaSetSnapshots(t *testing.T, c *admin.APIClient, groupID, cluster string) []admin.DiskBackupReplicaSet {
	t.Helper()
	list, _, err := c.CloudBackupsApi.ListBackupSnapshots(context.Background(), groupID, cluster).Execute()
	if err != nil {
		t.Fatal(err)
	}
	return list.GetResults()
}

// TestSDKScheduledSnapshots: a cluster's backup policy takes its
// snapshots as the server's clock reaches its instants, one per instant,
// listing the items it was taken for, labelled with the least frequent
// of them and kept as long as the longest of their retentions; the
// schedule shows the next one; updateSnapshots gives the snapshots the
// items' new retention, a change without it leaves them alone; expired
// snapshots go; and a snapshot of the export policy's frequency is
// exported.
func TestSDKScheduledSnapshots(t *testing.T) {
	srv, clock, c := scheduledServer(t)
	ctx := context.Background()
	g := srv.GroupID
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	bucketID := sdkExportBucket(t, c, g, "scheduled-exports")
	sched, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
		ReferenceHourOfDay: admin.PtrInt(18), ReferenceMinuteOfHour: admin.PtrInt(30),
		Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{PolicyItems: []admin.DiskBackupApiPolicyItem{
			{FrequencyType: "hourly", FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: 2},
			{FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7},
			{FrequencyType: "monthly", FrequencyInterval: snapexport.LastDayOfMonth, RetentionUnit: "months", RetentionValue: 12},
		}}}}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	items := sched.Policies[0].GetPolicyItems()
	hourly, daily, monthly := items[0].GetId(), items[1].GetId(), items[2].GetId()
	if next := sched.GetNextSnapshot(); !next.Equal(clock.Set(t, "2026-08-10T12:30:00Z")) {
		t.Errorf("nextSnapshot %v, want 12:30", next)
	}
	clock.Set(t, "2026-08-10T12:00:00Z")

	takeScheduled(t, srv, clock, "2026-08-10T12:30:00Z")
	takeScheduled(t, srv, clock, "2026-08-10T18:30:00Z")
	takeScheduled(t, srv, clock, "2026-08-10T18:31:00Z") // the same instant: nothing more
	snaps := replicaSetSnapshots(t, c, g, "Cluster0")
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots after two instants, want 2: %+v", len(snaps), snaps)
	}
	byTime := map[string]admin.DiskBackupReplicaSet{}
	for _, s := range snaps {
		byTime[s.GetCreatedAt().UTC().Format(time.RFC3339)] = s
	}
	first, second := byTime["2026-08-10T12:30:00Z"], byTime["2026-08-10T18:30:00Z"]
	if first.GetSnapshotType() != "scheduled" || first.GetFrequencyType() != "hourly" || !slices.Equal(first.GetPolicyItems(), []string{hourly}) ||
		first.GetExpiresAt().UTC().Format(time.RFC3339) != "2026-08-12T12:30:00Z" || first.GetStatus() != "completed" {
		t.Errorf("12:30 snapshot: %+v", first)
	}
	if second.GetFrequencyType() != "daily" || !slices.Equal(second.GetPolicyItems(), []string{hourly, daily}) ||
		second.GetExpiresAt().UTC().Format(time.RFC3339) != "2026-08-17T18:30:00Z" {
		t.Errorf("18:30 snapshot: %+v", second)
	}
	got, _, err := c.CloudBackupsApi.GetBackupSchedule(ctx, g, "Cluster0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if got.GetNextSnapshot().UTC().Format(time.RFC3339) != "2026-08-11T00:30:00Z" {
		t.Errorf("nextSnapshot %v, want 2026-08-11T00:30:00Z", got.GetNextSnapshot())
	}

	// A longer hourly retention, first without updateSnapshots, then with.
	patch := func(days int, update bool) {
		t.Helper()
		_, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
			UpdateSnapshots: admin.PtrBool(update),
			Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{Id: sched.Policies[0].Id, PolicyItems: []admin.DiskBackupApiPolicyItem{
				{Id: &hourly, FrequencyType: "hourly", FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: days},
				items[1], items[2],
			}}}}).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
	patch(3, false)
	expiries := func() map[string]string {
		out := map[string]string{}
		for _, s := range replicaSetSnapshots(t, c, g, "Cluster0") {
			out[s.GetCreatedAt().UTC().Format(time.RFC3339)] = s.GetExpiresAt().UTC().Format(time.RFC3339)
		}
		return out
	}
	if e := expiries(); e["2026-08-10T12:30:00Z"] != "2026-08-12T12:30:00Z" {
		t.Errorf("expiries after a change without updateSnapshots: %v", e)
	}
	patch(3, true)
	if e := expiries(); e["2026-08-10T12:30:00Z"] != "2026-08-13T12:30:00Z" || e["2026-08-10T18:30:00Z"] != "2026-08-17T18:30:00Z" {
		t.Errorf("expiries after updateSnapshots: %v", e)
	}

	// Automatic export of the monthly snapshots; the month's last day
	// comes, and the 12:30 snapshot has expired by then.
	if _, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
		AutoExportEnabled: admin.PtrBool(true),
		Export:            &admin.AutoExportPolicy{ExportBucketId: &bucketID, FrequencyType: admin.PtrString("monthly")},
	}).Execute(); err != nil {
		t.Fatal(err)
	}
	takeScheduled(t, srv, clock, "2026-08-31T06:30:00Z") // hourly only: not exported
	takeScheduled(t, srv, clock, "2026-08-31T18:30:00Z")
	if _, err := srv.Server.Service.SweepExpiredSnapshots(ctx); err != nil {
		t.Fatal(err)
	}
	e := expiries()
	if len(e) != 2 || e["2026-08-31T06:30:00Z"] != "2026-09-03T06:30:00Z" || e["2026-08-31T18:30:00Z"] != "2027-08-31T18:30:00Z" {
		t.Errorf("snapshots at the month's end, expired ones swept: %v", e)
	}
	var monthEnd admin.DiskBackupReplicaSet
	for _, s := range replicaSetSnapshots(t, c, g, "Cluster0") {
		if s.GetFrequencyType() == "monthly" {
			monthEnd = s
		}
	}
	if !slices.Equal(monthEnd.GetPolicyItems(), []string{hourly, daily, monthly}) {
		t.Errorf("month's end snapshot: %+v", monthEnd)
	}
	jobs, _, err := c.CloudBackupsApi.ListBackupExports(ctx, g, "Cluster0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(jobs.GetResults()); n != 1 || jobs.GetResults()[0].GetSnapshotId() != monthEnd.GetId() || jobs.GetResults()[0].GetExportBucketId() != bucketID {
		t.Errorf("export jobs: %+v, want one of snapshot %s", jobs.GetResults(), monthEnd.GetId())
	}
}

// TestScheduledSnapshotsOfAShardedCluster: a sharded cluster's scheduled
// snapshot has one member per shard, and expires with them.
func TestScheduledSnapshotsOfAShardedCluster(t *testing.T) {
	srv, clock, c := scheduledServer(t)
	ctx := context.Background()
	g := srv.GroupID
	cl, err := srv.CreateCluster(ctx, "Sharded0", "shard-0", "shard-1")
	if err != nil {
		t.Fatal(err)
	}
	// Registered at 12:00, the default policy's first instant is 18:00,
	// of its item every 6 hours kept 7 days.
	takeScheduled(t, srv, clock, "2026-08-10T18:00:00Z")
	list, _, err := c.CloudBackupsApi.ListBackupShardedClusters(ctx, g, "Sharded0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetResults()) != 1 {
		t.Fatalf("%d sharded snapshots, want 1", len(list.GetResults()))
	}
	snap := list.GetResults()[0]
	members := snap.GetMembers()
	if snap.GetFrequencyType() != "hourly" || len(snap.GetPolicyItems()) != 1 || len(members) != 2 || members[0].GetReplicaSetName() != "shard-0" ||
		snap.GetExpiresAt().UTC().Format(time.RFC3339) != "2026-08-17T18:00:00Z" {
		t.Errorf("sharded snapshot: %s %v %+v expires %v", snap.GetFrequencyType(), snap.GetPolicyItems(), members, snap.GetExpiresAt())
	}
	clock.Set(t, "2026-08-17T18:00:01Z")
	if _, err := srv.Server.Service.SweepExpiredSnapshots(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{snap.GetId(), members[0].GetId(), members[1].GetId()} {
		if srv.SnapshotStored(t, cl, id) {
			t.Errorf("snapshot %s kept after the sharded snapshot expired", id)
		}
	}
}

// TestScheduledSnapshotsWithReplicas: servers sharing a PostgreSQL
// database, each following the same clock, take each instant's snapshot
// once between them.
func TestScheduledSnapshotsWithReplicas(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(t, "2026-08-10T12:00:00Z")
	srv := testserver.NewServer(t, testserver.Options{Now: clock.Now, SchedulePollInterval: time.Hour})
	if srv.Schema == "" {
		t.Skip("replicas share a PostgreSQL database: set " + testserver.EnvDatabase)
	}
	ctx := context.Background()
	servers := []*server.Server{srv.Server}
	for range 2 {
		replica, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), Now: clock.Now, NoExports: true,
			Backend: func(ctx context.Context) (*backend.Backend, error) {
				return postgres.OpenBackend(ctx, srv.Database, postgres.Options{Schema: srv.Schema, MaxConns: 2})
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { replica.Close() })
		servers = append(servers, replica)
	}
	cl, err := srv.CreateCluster(ctx, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"2026-08-10T18:00:00Z", "2026-08-11T00:00:00Z", "2026-08-11T00:00:30Z", "2026-08-11T06:00:00Z"} {
		clock.Set(t, at)
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Go(func() {
				if _, err := s.TakeScheduledSnapshots(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	snaps, _, err := srv.Server.Service.Snapshots(ctx, srv.GroupID, cl.Name, snapexport.SnapshotReplicaSet, snapexport.Page{}, "")
	if err != nil {
		t.Fatal(err)
	}
	var taken []string
	for _, s := range snaps {
		taken = append(taken, s.CreatedAt.UTC().Format(time.RFC3339))
	}
	slices.Sort(taken)
	want := []string{"2026-08-10T18:00:00Z", "2026-08-11T00:00:00Z", "2026-08-11T06:00:00Z"}
	if !slices.Equal(taken, want) {
		t.Errorf("snapshots taken at %v, want one at each of %v", taken, want)
	}
}
