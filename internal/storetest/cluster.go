package storetest

import (
	"testing"

	"github.com/snapexport/snapexport"
)

func (e *env) newCluster(projectID, name string) *snapexport.Cluster {
	return &snapexport.Cluster{ID: e.id(), ProjectID: projectID, Name: name, Type: snapexport.ClusterSharded,
		MongoDBVersion: "8.0.29", Provider: snapexport.GCP, Region: "WESTERN_EUROPE", InstanceSize: "M40_NVME",
		Labels: []snapexport.Label{{Key: "env", Value: "prod"}, {Key: "team", Value: "data ✓"}},
		Shards: []snapexport.Shard{{ID: e.id(), ReplicaSetName: "rs0"}, {ID: e.id(), ReplicaSetName: "rs1"}}, CreatedAt: e.now()}
}

var clusterTests = []test{
	{"CreateGetList", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		sharded := e.newCluster(p.ID, "cluster-0")
		plain := &snapexport.Cluster{ID: e.id(), ProjectID: p.ID, Name: "Cluster1", Type: snapexport.ClusterReplicaSet,
			MongoDBVersion: "7.0.12", Provider: snapexport.AWS, Region: "US_EAST_1", InstanceSize: "M10",
			Shards: []snapexport.Shard{{ID: e.id(), ReplicaSetName: "atlas-abc-shard-0"}}, CreatedAt: e.now()}
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
			e.wantItem(t, tx, "Cluster after UpdateClusterSchedule", c1)
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
