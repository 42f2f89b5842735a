package e2e_test

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
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

// serveReplica opens a server over the PostgreSQL schema of srv and with
// its data directory (so its snapshot store and local buckets), serves it
// on a loopback port, running snapshot and export jobs, until the test
// ends.
func serveReplica(t *testing.T, srv *testserver.Server, dataDir string, clock *fakeClock) *server.Server {
	t.Helper()
	ctx := context.Background()
	replica, err := server.Open(ctx, server.Config{DataDir: dataDir, Now: clock.Now, Logger: slog.New(slog.DiscardHandler),
		Exports:              exportrunner.Config{PollInterval: 50 * time.Millisecond, RetryDelay: 100 * time.Millisecond},
		SchedulePollInterval: time.Hour, SweepInterval: time.Hour, SweepDelay: time.Hour,
		Backend: func(ctx context.Context) (*backend.Backend, error) {
			return postgres.OpenBackend(ctx, srv.Database, postgres.Options{Schema: srv.Schema, MaxConns: 2})
		}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- replica.Serve(ctx, ln) }()
	t.Cleanup(func() {
		replica.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("replica: %v", err)
		}
		replica.Close()
	})
	return replica
}

// TestScheduledSnapshotsWithReplicas: servers sharing a PostgreSQL
// database, each following the same clock and all ticking at once, take
// each instant's snapshot of a loaded cluster once between them, its job
// run by any of them, the one that claimed the instant or another; the daily snapshots are exported automatically,
// each with the data the cluster held at its instant; past the hourly
// retention, the sweep removes the hourly snapshots and keeps the daily
// ones.
func TestScheduledSnapshotsWithReplicas(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(t, "2026-08-10T12:00:00Z")
	dataDir := t.TempDir()
	// The first server runs no jobs: the snapshots it claims are taken by
	// the others.
	srv := testserver.NewServer(t, testserver.Options{Now: clock.Now, SchedulePollInterval: time.Hour, DataDir: dataDir, NoExports: true})
	if srv.Schema == "" {
		t.Skip("replicas share a PostgreSQL database: set " + testserver.EnvDatabase)
	}
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	servers := []*server.Server{srv.Server, serveReplica(t, srv, dataDir, clock), serveReplica(t, srv, dataDir, clock)}

	cl, err := srv.CreateCluster(ctx, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	first := dumptest.Generate(dumptest.Options{Seed: 61, DocsPerCollection: 8})
	second := dumptest.Generate(dumptest.Options{Seed: 62, DocsPerCollection: 5})
	load := func(ds *dumptest.Dataset) {
		t.Helper()
		if _, err := srv.LoadCluster(ctx, service.LoadInput{ClusterName: "Cluster0"}, bytes.NewReader(dumptest.ArchiveBytes(ds, true, true))); err != nil {
			t.Fatal(err)
		}
	}
	load(first)
	bucketID := sdkExportBucket(t, c, g, "replica-exports")
	sched, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
		ReferenceHourOfDay: admin.PtrInt(18), ReferenceMinuteOfHour: admin.PtrInt(0),
		AutoExportEnabled: admin.PtrBool(true),
		Export:            &admin.AutoExportPolicy{ExportBucketId: &bucketID, FrequencyType: admin.PtrString("daily")},
		Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{PolicyItems: []admin.DiskBackupApiPolicyItem{
			{FrequencyType: "hourly", FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: 1},
			{FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7},
		}}}}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	items := sched.Policies[0].GetPolicyItems()
	hourly, daily := items[0].GetId(), items[1].GetId()

	// Every replica ticks at each time; a time within an instant already
	// taken takes nothing more.
	var mu sync.Mutex
	takenAt := map[string][]*snapexport.Snapshot{}
	tick := func(at string) {
		t.Helper()
		clock.Set(t, at)
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Go(func() {
				taken, err := s.TakeScheduledSnapshots(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, snap := range taken {
					k := snap.CreatedAt.UTC().Format(time.RFC3339)
					takenAt[k] = append(takenAt[k], snap)
				}
			})
		}
		wg.Wait()
	}
	tick("2026-08-10T18:00:00Z")
	load(second)
	for _, at := range []string{"2026-08-11T00:00:00Z", "2026-08-11T00:00:30Z", "2026-08-11T06:00:00Z", "2026-08-11T12:00:00Z", "2026-08-11T18:00:00Z"} {
		tick(at)
	}
	dailyAt := []string{"2026-08-10T18:00:00Z", "2026-08-11T18:00:00Z"}
	hourlyAt := []string{"2026-08-11T00:00:00Z", "2026-08-11T06:00:00Z", "2026-08-11T12:00:00Z"}
	for _, at := range slices.Concat(dailyAt, hourlyAt) {
		snaps := takenAt[at]
		if len(snaps) != 1 {
			t.Errorf("%d snapshots taken at %s, want one", len(snaps), at)
			continue
		}
		wantItems, frequency := []string{hourly}, "hourly"
		if slices.Contains(dailyAt, at) {
			wantItems, frequency = []string{hourly, daily}, "daily"
		}
		if s := snaps[0]; s.Status != snapexport.SnapshotCompleted || s.StorageSizeBytes == 0 || s.FrequencyType != frequency ||
			!slices.Equal(s.PolicyItems, wantItems) {
			t.Errorf("snapshot of %s: %s of %d bytes, %s for %v; want completed with the loaded data, %s for %v",
				at, s.Status, s.StorageSizeBytes, s.FrequencyType, s.PolicyItems, frequency, wantItems)
		}
	}
	if len(takenAt) != 5 {
		t.Errorf("snapshots taken at %v, want one at each of %v and %v", slices.Sorted(maps.Keys(takenAt)), dailyAt, hourlyAt)
	}

	// The daily snapshots are exported, each with its instant's data.
	jobs, _, err := c.CloudBackupsApi.ListBackupExports(ctx, g, "Cluster0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]string{}
	for _, j := range jobs.GetResults() {
		job := waitExport(t, srv, c, g, "Cluster0", j.GetId(), "Successful")
		exported[job.GetSnapshotId()] = job.GetPrefix()
	}
	b := srv.OpenExportBucket(t, bucketID)
	rs := cl.Shards[0].ReplicaSetName
	for i, at := range dailyAt {
		if len(takenAt[at]) != 1 {
			continue
		}
		snap := takenAt[at][0]
		prefix, ok := exported[snap.ID]
		if !ok {
			t.Errorf("daily snapshot of %s not exported (exports: %v)", at, exported)
			continue
		}
		wantExport(t, b, g, prefix, "Cluster0", snap.CreatedAt, map[string]*dumptest.Dataset{rs: []*dumptest.Dataset{first, second}[i]})
	}
	if len(exported) != len(dailyAt) {
		t.Errorf("%d snapshots exported, want the %d daily ones", len(exported), len(dailyAt))
	}

	// Past the hourly retention, a day, the hourly snapshots go.
	clock.Set(t, "2026-08-12T12:00:01Z")
	if _, err := srv.Server.Service.SweepExpiredSnapshots(ctx); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, s := range replicaSetSnapshots(t, c, g, "Cluster0") {
		kept = append(kept, s.GetCreatedAt().UTC().Format(time.RFC3339))
	}
	slices.Sort(kept)
	if !slices.Equal(kept, dailyAt) {
		t.Errorf("snapshots after the sweep taken at %v, want the daily ones %v", kept, dailyAt)
	}
	for _, at := range hourlyAt {
		for _, snap := range takenAt[at] {
			if srv.SnapshotStored(t, cl, snap.ID) {
				t.Errorf("hourly snapshot of %s kept past its retention", at)
			}
		}
	}
}
