package storetest

import (
	"testing"

	"github.com/snapexport/snapexport"
)

func (e *env) newCluster(projectID, name string) *snapexport.Cluster {
	return &snapexport.Cluster{ID: e.id(), ProjectID: projectID, Name: name, Type: snapexport.ClusterSharded,
		MongoDBVersion: "8.0.29", Labels: []snapexport.Label{{Key: "env", Value: "prod"}, {Key: "team", Value: "data ✓"}},
		Shards: []snapexport.Shard{{ID: e.id(), ReplicaSetName: "rs0"}, {ID: e.id(), ReplicaSetName: "rs1"}}, CreatedAt: e.now()}
}

var clusterTests = []test{
	{"CreateGetList", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		sharded := e.newCluster(p.ID, "cluster-0")
		plain := &snapexport.Cluster{ID: e.id(), ProjectID: p.ID, Name: "Cluster1", Type: snapexport.ClusterReplicaSet,
			MongoDBVersion: "7.0.12", Shards: []snapexport.Shard{{ID: e.id(), ReplicaSetName: "atlas-abc-shard-0"}}, CreatedAt: e.now()}
		third := e.newCluster(p.ID, "c")
		made := []*snapexport.Cluster{sharded, plain, third}
		for _, c := range made {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
		}
		e.mustRead(func(tx snapexport.Tx) error {
			for _, want := range made {
				got, err := tx.Cluster(e.ctx, p.ID, want.Name)
				noErr(t, "Cluster", err)
				same(t, "Cluster", got, want)
			}
			_, err := tx.Cluster(e.ctx, other.ID, sharded.Name)
			wantErr(t, "Cluster(another project's)", err, snapexport.ErrNotFound)
			_, err = tx.Cluster(e.ctx, p.ID, "CLUSTER-0")
			wantErr(t, "Cluster(other case)", err, snapexport.ErrNotFound)

			all, total, err := tx.ListClusters(e.ctx, p.ID, snapexport.Page{})
			noErr(t, "ListClusters", err)
			if total != 3 {
				t.Errorf("ListClusters total = %d, want 3", total)
			}
			sameOrder(t, "ListClusters", all, made, func(c *snapexport.Cluster) string { return c.ID })
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
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, dup) })
		wantErr(t, "CreateCluster(duplicate name)", err, snapexport.ErrConflict)
		dup = e.newCluster(other.ID, "fresh")
		dup.ID = sharded.ID
		err = e.write(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, dup) })
		wantErr(t, "CreateCluster(duplicate id)", err, snapexport.ErrConflict)
		// The same name in another project is fine.
		e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, e.newCluster(other.ID, sharded.Name)) })
	}},
	{"Schedule", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		b := e.bucket(e.role(p.ID, snapexport.AWS))
		c1, c2, c3 := e.newCluster(p.ID, "one"), e.newCluster(p.ID, "two"), e.newCluster(other.ID, "one")
		for _, c := range []*snapexport.Cluster{c1, c2, c3} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
		}
		c1.Schedule = snapexport.BackupSchedule{AutoExportEnabled: true, ExportBucketID: b.ID, ExportFrequencyType: "monthly", UseOrgAndGroupNamesInExportPrefix: true}
		c2.Schedule = snapexport.BackupSchedule{ExportBucketID: b.ID, ExportFrequencyType: "yearly"}
		c3.Schedule = snapexport.BackupSchedule{ExportBucketID: b.ID, ExportFrequencyType: "daily"}
		for _, c := range []*snapexport.Cluster{c1, c2, c3} {
			e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, c) })
		}
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Cluster(e.ctx, p.ID, "one")
			noErr(t, "Cluster", err)
			same(t, "Cluster after UpdateClusterSchedule", got, c1)
			using, err := tx.ClustersExportingTo(e.ctx, p.ID, b.ID)
			noErr(t, "ClustersExportingTo", err)
			sameOrder(t, "ClustersExportingTo", using, []*snapexport.Cluster{c1, c2}, func(c *snapexport.Cluster) string { return c.ID })
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
			using, err := tx.ClustersExportingTo(e.ctx, p.ID, b.ID)
			noErr(t, "ClustersExportingTo", err)
			sameOrder(t, "ClustersExportingTo after clearing", using, []*snapexport.Cluster{c1}, func(c *snapexport.Cluster) string { return c.ID })
			return nil
		})
		missing := e.newCluster(p.ID, "missing")
		err := e.write(func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, missing) })
		wantErr(t, "UpdateClusterSchedule(missing)", err, snapexport.ErrNotFound)
		c3.ProjectID = p.ID
		err = e.write(func(tx snapexport.Tx) error { return tx.UpdateClusterSchedule(e.ctx, c3) })
		wantErr(t, "UpdateClusterSchedule(another project's)", err, snapexport.ErrNotFound)
	}},
}
