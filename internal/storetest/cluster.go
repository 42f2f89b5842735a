package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/snapexport/snapexport"
)

func (e *env) newCluster(projectID, name string) *snapexport.Cluster {
	return &snapexport.Cluster{ID: e.id(), ProjectID: projectID, Name: name, Type: snapexport.ClusterSharded,
		MongoDBVersion: "8.0.29", Provider: snapexport.GCP, Region: "WESTERN_EUROPE", InstanceSize: "M40_NVME",
		Labels: []snapexport.Label{{Key: "env", Value: "prod"}, {Key: "team", Value: "data ✓"}},
		Tags:   []snapexport.Label{{Key: "cost-center", Value: "42"}},
		Shards: []snapexport.Shard{{ID: e.id(), ReplicaSetName: "rs0"}, {ID: e.id(), ReplicaSetName: "rs1"}}, CreatedAt: e.now(), ReadyAt: e.now(),
		BackupEnabled: true, TerminationProtectionEnabled: true,
		Schedule: snapexport.BackupSchedule{PolicyID: e.id(), PolicyItems: snapexport.DefaultPolicyItems(e.id),
			ReferenceHourOfDay: 3, ReferenceMinuteOfHour: 16, RestoreWindowDays: snapexport.DefaultRestoreWindowDays}}
}

var clusterTests = []test{
	{"CreateGetList", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		sharded := e.newCluster(p.ID, "cluster-0")
		plain := &snapexport.Cluster{ID: e.id(), ProjectID: p.ID, Name: "Cluster1", Type: snapexport.ClusterReplicaSet,
			MongoDBVersion: "7.0.12", Provider: snapexport.AWS, Region: "US_EAST_1", InstanceSize: "M10",
			Shards: []snapexport.Shard{{ID: e.id(), ReplicaSetName: "atlas-abc-shard-0"}}, CreatedAt: e.now(), ReadyAt: e.now()}
		third := e.newCluster(p.ID, "c")
		made := []*snapexport.Cluster{sharded, plain, third}
		for _, c := range made {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
		}
		e.mustRead(func(tx snapexport.Tx) error {
			for _, want := range made {
				e.wantItem(t, tx, "Cluster", want)
			}
			missing(t, "Cluster(another project's)")(tx.Cluster(e.ctx, other.ID, sharded.Name))
			missing(t, "Cluster(other case)")(tx.Cluster(e.ctx, p.ID, "CLUSTER-0"))

			paged(t, "ListClusters", 3, made, func(c *snapexport.Cluster) string { return c.ID })(tx.ListClusters(e.ctx, p.ID, snapexport.Page{}))
			page, _, err := tx.ListClusters(e.ctx, p.ID, snapexport.Page{Offset: 1, Limit: 1})
			noErr(t, "ListClusters(page)", err)
			sameOrder(t, "ListClusters(offset 1, limit 1)", page, made[1:2], func(c *snapexport.Cluster) string { return c.ID })
			none, total, err := tx.ListClusters(e.ctx, other.ID, snapexport.Page{})
			noErr(t, "ListClusters(empty project)", err)
			if total != 0 || len(none) != 0 {
				t.Errorf("ListClusters(empty project) = %d of %d, want none", len(none), total)
			}
			return nil
		})

		dup := e.newCluster(p.ID, sharded.Name)
		e.wantWriteErr(t, "CreateCluster(duplicate name)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, dup) })
		dup = e.newCluster(other.ID, "fresh")
		dup.ID = sharded.ID
		e.wantWriteErr(t, "CreateCluster(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, dup) })
		// The same name in another project is fine.
		e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, e.newCluster(other.ID, sharded.Name)) })
	}},
	{"UpdateRemove", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, kept := e.newCluster(p.ID, "changing"), e.newCluster(p.ID, "kept")
		for _, c := range []*snapexport.Cluster{c, kept} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
		}
		c.Labels, c.Tags = nil, []snapexport.Label{{Key: "a", Value: "b"}, {Key: "c", Value: ""}}
		c.MongoDBVersion, c.BackupEnabled, c.TerminationProtectionEnabled, c.ReadyAt = "8.1.0", false, false, e.now()
		until := e.now()
		c.DeletingUntil, c.RetainBackups = &until, true
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateCluster(e.ctx, c) })
		e.wantStored(t, "Cluster after UpdateCluster", c)
		e.wantStored(t, "the other cluster after UpdateCluster", kept)
		theirs := *c
		theirs.ProjectID = other.ID
		e.wantWriteErr(t, "UpdateCluster(another project's)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateCluster(e.ctx, &theirs) })

		c.Removed = true
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateCluster(e.ctx, c) })
		e.wantWriteErr(t, "UpdateCluster(removed)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateCluster(e.ctx, c) })
		// Its name is free once it is removed, and the removed one is
		// still found as such.
		again := e.newCluster(p.ID, c.Name)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, again) })
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "Cluster(name reused)", again)
			found(t, "RemovedCluster", c)(tx.RemovedCluster(e.ctx, p.ID, c.Name))
			missing(t, "RemovedCluster(never removed)")(tx.RemovedCluster(e.ctx, p.ID, kept.Name))
			missing(t, "RemovedCluster(another project's)")(tx.RemovedCluster(e.ctx, other.ID, c.Name))
			paged(t, "ListClusters after a removal", 2, []*snapexport.Cluster{kept, again}, func(c *snapexport.Cluster) string { return c.ID })(tx.ListClusters(e.ctx, p.ID, snapexport.Page{}))
			return nil
		})
		e.wantWriteErr(t, "CreateCluster(name of one not removed)", snapexport.ErrConflict,
			func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, e.newCluster(p.ID, c.Name)) })
		// The last one removed of a name is the one found.
		again.Removed = true
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateCluster(e.ctx, again) })
		e.mustRead(func(tx snapexport.Tx) error {
			found(t, "RemovedCluster(two removed)", again)(tx.RemovedCluster(e.ctx, p.ID, c.Name))
			missing(t, "Cluster(removed)")(tx.Cluster(e.ctx, p.ID, c.Name))
			return nil
		})
	}},
	{"Deployment", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		bound, unbound := e.newCluster(p.ID, "bound"), e.newCluster(p.ID, "unbound")
		// Bytes of every value, a zero among them, as a sealed value has.
		bound.Deployment = &snapexport.Deployment{SealedURI: []byte{0, 1, 0xfe, 0xff, 'x', 0}, PublicURI: "mongodb://db0:27017,db1:27018/?replicaSet=rs0",
			Hosts: []string{"db0:27017", "db1:27018"}, Consistency: snapexport.ConsistencyPointInTime}
		for _, c := range []*snapexport.Cluster{bound, unbound} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
		}
		e.wantStored(t, "bound Cluster", bound)
		e.wantStored(t, "unbound Cluster", unbound)

		// UpdateCluster binds, rebinds and unbinds.
		unbound.Deployment = &snapexport.Deployment{SealedURI: []byte("sealed"), PublicURI: "mongodb+srv://db.example.com",
			Hosts: []string{"db.example.com"}, Consistency: snapexport.ConsistencyNone}
		bound.Deployment = nil
		for _, c := range []*snapexport.Cluster{bound, unbound} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateCluster(e.ctx, c) })
		}
		e.wantStored(t, "Cluster unbound by UpdateCluster", bound)
		e.wantStored(t, "Cluster bound by UpdateCluster", unbound)
	}},
	{"Schedule", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		b := e.bucket(e.role(p.ID, snapexport.AWS))
		c1, c2, c3 := e.newCluster(p.ID, "one"), e.newCluster(p.ID, "two"), e.newCluster(other.ID, "one")
		for _, c := range []*snapexport.Cluster{c1, c2, c3} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
		}
		// Every part of a schedule is written: the export settings, the
		// policy's items (changed, some removed), reference time and window.
		c1.Schedule = snapexport.BackupSchedule{AutoExportEnabled: true, ExportBucketID: b.ID, ExportFrequencyType: "monthly", UseOrgAndGroupNamesInExportPrefix: true,
			PolicyID: c1.Schedule.PolicyID, PolicyItems: []snapexport.PolicyItem{
				{ID: c1.Schedule.PolicyItems[0].ID, FrequencyType: "hourly", FrequencyInterval: 12, RetentionUnit: "days", RetentionValue: 3},
				{ID: e.id(), FrequencyType: "monthly", FrequencyInterval: 15, RetentionUnit: "months", RetentionValue: 2}},
			ReferenceHourOfDay: 23, ReferenceMinuteOfHour: 59, RestoreWindowDays: 2}
		c2.Schedule = snapexport.BackupSchedule{ExportBucketID: b.ID, ExportFrequencyType: "yearly", PolicyID: c2.Schedule.PolicyID}
		c3.Schedule = snapexport.BackupSchedule{ExportBucketID: b.ID, ExportFrequencyType: "daily"}
		for _, c := range []*snapexport.Cluster{c1, c2, c3} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, c) })
		}
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "Cluster after UpdateClusterSchedule", c1)
			e.wantItem(t, tx, "Cluster after UpdateClusterSchedule removed every policy item", c2)
			listed(t, "ClustersExportingTo", []*snapexport.Cluster{c1, c2}, func(c *snapexport.Cluster) string { return c.ID })(tx.ClustersExportingTo(e.ctx, p.ID, b.ID))
			none, err := tx.ClustersExportingTo(e.ctx, p.ID, e.id())
			noErr(t, "ClustersExportingTo(unused)", err)
			if len(none) != 0 {
				t.Errorf("ClustersExportingTo(unused bucket) = %d clusters, want none", len(none))
			}
			return nil
		})
		c2.Schedule = snapexport.BackupSchedule{}
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, c2) })
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "ClustersExportingTo after clearing", []*snapexport.Cluster{c1}, func(c *snapexport.Cluster) string { return c.ID })(tx.ClustersExportingTo(e.ctx, p.ID, b.ID))
			return nil
		})
		missing := e.newCluster(p.ID, "missing")
		e.wantWriteErr(t, "UpdateClusterSchedule(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, missing) })
		c3.ProjectID = p.ID
		e.wantWriteErr(t, "UpdateClusterSchedule(another project's)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, c3) })
	}},
}

// WantDefaultSchedules fails the test unless each named cluster of the
// project has the schedule a store migrated from before backup policies
// gives it: Atlas's default policy with ids of their own, anchored at the
// hour and minute of the cluster's creation, with the default restore
// window.
func WantDefaultSchedules(t testing.TB, store snapexport.Store, projectID string, names ...string) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	for _, name := range names {
		err := store.Read(ctx, func(tx snapexport.Tx) error {
			c, err := tx.Cluster(ctx, projectID, name)
			if err == nil {
				wantDefaultSchedule(t, c, seen)
			}
			return err
		})
		if err != nil {
			t.Fatalf("cluster %s: %v", name, err)
		}
	}
}

// wantDefaultSchedule checks one cluster for WantDefaultSchedules; seen
// holds the ids of the clusters checked before, to which c's are added.
func wantDefaultSchedule(t testing.TB, c *snapexport.Cluster, seen map[string]bool) {
	t.Helper()
	s := c.Schedule
	want := snapexport.DefaultPolicyItems(func() string { return "" })
	var items []snapexport.PolicyItem
	ids := []string{s.PolicyID}
	for _, it := range s.PolicyItems {
		ids = append(ids, it.ID)
		it.ID = ""
		items = append(items, it)
	}
	if !slices.Equal(items, want) {
		t.Errorf("cluster %s: policy items %+v, want Atlas's default %+v", c.Name, items, want)
	}
	for _, id := range ids {
		if !snapexport.IsObjectID(id) || seen[id] {
			t.Errorf("cluster %s: id %q is not a 24-hex id of its own", c.Name, id)
		}
		seen[id] = true
	}
	created := c.CreatedAt.UTC()
	if s.ReferenceHourOfDay != created.Hour() || s.ReferenceMinuteOfHour != created.Minute() || s.RestoreWindowDays != snapexport.DefaultRestoreWindowDays {
		t.Errorf("cluster %s created at %s: reference %02d:%02d, restore window %d days; want %02d:%02d and %d",
			c.Name, created, s.ReferenceHourOfDay, s.ReferenceMinuteOfHour, s.RestoreWindowDays, created.Hour(), created.Minute(), snapexport.DefaultRestoreWindowDays)
	}
}

// WantMigratedClusters fails the test unless each named cluster of the
// project, made before clusters had a life of their own, reads back as
// ready since its creation, with backups on, termination protection off,
// no tags and no deletion asked for, and keeps its name to itself.
func WantMigratedClusters(t testing.TB, store snapexport.Store, projectID string, names ...string) {
	t.Helper()
	ctx := context.Background()
	for _, name := range names {
		var c *snapexport.Cluster
		err := store.Read(ctx, func(tx snapexport.Tx) error {
			var err error
			c, err = tx.Cluster(ctx, projectID, name)
			return err
		})
		if err != nil {
			t.Fatalf("cluster %s: %v", name, err)
		}
		if !c.ReadyAt.Equal(c.CreatedAt) || !c.BackupEnabled || c.TerminationProtectionEnabled || c.Tags != nil ||
			c.DeletingUntil != nil || c.RetainBackups || c.Removed {
			t.Errorf("cluster %s after the migration: %+v", name, c)
		}
		twin := *c
		twin.ID = "6500000000000000000000ff"
		err = store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateCluster(ctx, &twin) })
		if !errors.Is(err, snapexport.ErrConflict) {
			t.Errorf("a second cluster named %s after the migration: %v, want ErrConflict", name, err)
		}
	}
}
