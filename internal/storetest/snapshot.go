package storetest

import (
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

func (e *env) cluster(projectID, name string) *snapexport.Cluster {
	e.t.Helper()
	c := e.newCluster(projectID, name)
	e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateCluster(e.ctx, c) })
	return c
}

// newSnapshot returns a snapshot of c with every field its kind uses set:
// collections for a replica-set snapshot, members for a sharded one. The
// size is past 32 bits and the times are in two zones.
func (e *env) newSnapshot(c *snapexport.Cluster, kind snapexport.SnapshotKind) *snapexport.Snapshot {
	created := e.now()
	s := &snapexport.Snapshot{ID: e.id(), ProjectID: c.ProjectID, ClusterID: c.ID, ClusterName: c.Name, Kind: kind,
		Description: "nightly ✓ " + e.id()[:6], SnapshotType: "scheduled", FrequencyType: "daily", Status: snapexport.SnapshotCompleted,
		MongodVersion: "8.0.29", CloudProvider: snapexport.AWS, StorageSizeBytes: 5<<32 + 7,
		CreatedAt: created, ExpiresAt: created.In(otherZone).Add(7*24*time.Hour + 3*time.Microsecond), ImportedAt: e.now()}
	switch kind {
	case snapexport.SnapshotReplicaSet:
		s.ReplicaSetName = c.Shards[0].ReplicaSetName
		s.Collections = []snapexport.SnapshotCollection{
			{DB: "shop", Name: "orders", Type: "collection", UUID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Count: 12345, Size: 1<<33 + 1},
			{DB: "shop", Name: "recent orders", Type: "view"},
			{DB: "metrics", Name: "cpu", Type: "timeseries", UUID: "11111111-2222-3333-4444-555555555555", Count: 3, Size: 99},
		}
	case snapexport.SnapshotShardedCluster:
		for _, sh := range c.Shards {
			s.Members = append(s.Members, snapexport.SnapshotMember{ID: e.id(), ReplicaSetName: sh.ReplicaSetName})
		}
	}
	return s
}

func (e *env) snapshot(s *snapexport.Snapshot) *snapexport.Snapshot {
	e.t.Helper()
	e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateSnapshot(e.ctx, s) })
	return s
}

func snapshotID(s *snapexport.Snapshot) string { return s.ID }

// wantNilLists checks what diff cannot: a list left empty reads back nil,
// not as an empty slice.
func wantNilLists(t *testing.T, what string, got, want *snapexport.Snapshot) {
	t.Helper()
	if want.Members == nil && got.Members != nil {
		t.Errorf("%s: Members = %#v, want nil", what, got.Members)
	}
	if want.Collections == nil && got.Collections != nil {
		t.Errorf("%s: Collections = %#v, want nil", what, got.Collections)
	}
}

var snapshotTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, c2, oc := e.cluster(p.ID, "c0"), e.cluster(p.ID, "c1"), e.cluster(other.ID, "c0")

		rs := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		sharded := e.newSnapshot(c, snapexport.SnapshotShardedCluster)
		// A member of sharded, and one with nothing optional set.
		member := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		member.ParentID, member.ReplicaSetName = sharded.ID, c.Shards[1].ReplicaSetName
		sharded.Members[1].ID = member.ID
		bare := &snapexport.Snapshot{ID: e.id(), ProjectID: p.ID, ClusterID: c.ID, ClusterName: c.Name, Kind: snapexport.SnapshotReplicaSet,
			SnapshotType: "onDemand", FrequencyType: "ondemand", Status: snapexport.SnapshotFailed, MongodVersion: "7.0.12",
			CloudProvider: snapexport.GCP, CreatedAt: e.now(), ExpiresAt: e.now(), ImportedAt: e.now()}
		made := []*snapexport.Snapshot{rs, sharded, member, bare}
		for _, s := range made {
			e.snapshot(s)
		}
		e.mustRead(func(tx snapexport.Tx) error {
			for _, want := range made {
				got, err := tx.Snapshot(e.ctx, p.ID, c.ID, want.ID)
				noErr(t, "Snapshot", err)
				same(t, "Snapshot("+want.ID+")", got, want)
				wantNilLists(t, "Snapshot("+want.ID+")", got, want)
				got, err = tx.Snapshot(e.ctx, p.ID, "", want.ID)
				noErr(t, "Snapshot(any cluster)", err)
				same(t, "Snapshot(any cluster, "+want.ID+")", got, want)
			}
			for _, k := range []struct{ what, project, cluster, id string }{
				{"another project's", other.ID, c.ID, rs.ID},
				{"another cluster's", p.ID, c2.ID, rs.ID},
				{"the same-named cluster of another project", other.ID, oc.ID, rs.ID},
				{"unknown id", p.ID, c.ID, e.id()},
				{"another project's, any cluster", other.ID, "", rs.ID},
				{"unknown id, any cluster", p.ID, "", e.id()},
			} {
				_, err := tx.Snapshot(e.ctx, k.project, k.cluster, k.id)
				wantErr(t, "Snapshot("+k.what+")", err, snapexport.ErrNotFound)
			}
			return nil
		})

		dup := e.newSnapshot(oc, snapexport.SnapshotShardedCluster)
		dup.ID = rs.ID
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateSnapshot(e.ctx, dup) })
		wantErr(t, "CreateSnapshot(duplicate id)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Snapshot(e.ctx, p.ID, c.ID, rs.ID)
			noErr(t, "Snapshot", err)
			same(t, "Snapshot after a duplicate create", got, rs)
			_, err = tx.Snapshot(e.ctx, other.ID, oc.ID, rs.ID)
			wantErr(t, "Snapshot(the refused duplicate)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, c2, oc := e.cluster(p.ID, "c0"), e.cluster(p.ID, "c1"), e.cluster(other.ID, "c0")
		rs := func(cl *snapexport.Cluster) *snapexport.Snapshot {
			return e.newSnapshot(cl, snapexport.SnapshotReplicaSet)
		}
		rs1, sh1, rs2, member, rs3, elsewhere, otherProject, rs4 :=
			rs(c), e.newSnapshot(c, snapexport.SnapshotShardedCluster), rs(c), rs(c), rs(c), rs(c2), rs(oc), rs(c)
		member.ParentID = sh1.ID
		// An older dump imported later is listed later, and snapshots taken
		// at one time are listed as created: the order is creation order,
		// not CreatedAt's.
		rs2.CreatedAt = rs1.CreatedAt.Add(-time.Hour)
		rs3.CreatedAt = rs1.CreatedAt
		for _, s := range []*snapexport.Snapshot{rs1, sh1, rs2, member, rs3, elsewhere, otherProject, rs4} {
			e.snapshot(s)
		}
		all := []*snapexport.Snapshot{rs1, rs2, rs3, rs4}
		e.mustRead(func(tx snapexport.Tx) error {
			for _, k := range []struct {
				what             string
				project, cluster string
				kind             snapexport.SnapshotKind
				page             snapexport.Page
				want             []*snapexport.Snapshot
				total            int
			}{
				{"replica set", p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{}, all, 4},
				{"sharded", p.ID, c.ID, snapexport.SnapshotShardedCluster, snapexport.Page{}, []*snapexport.Snapshot{sh1}, 1},
				{"offset 1, limit 2", p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{Offset: 1, Limit: 2}, all[1:3], 4},
				{"offset 3, no limit", p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{Offset: 3}, all[3:], 4},
				{"limit 1", p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{Limit: 1}, all[:1], 4},
				{"offset past the end", p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{Offset: 10, Limit: 2}, nil, 4},
				{"another cluster", p.ID, c2.ID, snapexport.SnapshotReplicaSet, snapexport.Page{}, []*snapexport.Snapshot{elsewhere}, 1},
				{"another cluster, sharded", p.ID, c2.ID, snapexport.SnapshotShardedCluster, snapexport.Page{}, nil, 0},
				{"another project", other.ID, oc.ID, snapexport.SnapshotReplicaSet, snapexport.Page{}, []*snapexport.Snapshot{otherProject}, 1},
				{"the cluster under another project", other.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{}, nil, 0},
			} {
				got, total, err := tx.ListSnapshots(e.ctx, k.project, k.cluster, k.kind, k.page)
				noErr(t, "ListSnapshots("+k.what+")", err)
				if total != k.total {
					t.Errorf("ListSnapshots(%s) total = %d, want %d", k.what, total, k.total)
				}
				sameOrder(t, "ListSnapshots("+k.what+")", got, k.want, snapshotID)
			}
			return nil
		})
	}},
	{"TakenAt", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, c2, oc := e.cluster(p.ID, "c0"), e.cluster(p.ID, "c1"), e.cluster(other.ID, "c0")
		at := e.now().UTC()
		rs := func(cl *snapexport.Cluster, taken time.Time) *snapexport.Snapshot {
			s := e.newSnapshot(cl, snapexport.SnapshotReplicaSet)
			s.CreatedAt = taken
			return s
		}
		a := rs(c, at)
		b := rs(c, at.In(otherZone)) // the same instant
		b.ReplicaSetName = c.Shards[1].ReplicaSetName
		before, after := rs(c, at.Add(-time.Microsecond)), rs(c, at.Add(time.Microsecond))
		sharded := e.newSnapshot(c, snapexport.SnapshotShardedCluster)
		sharded.CreatedAt = at
		grouped := rs(c, at)
		grouped.ParentID = sharded.ID
		for _, s := range []*snapexport.Snapshot{a, before, sharded, grouped, after, b, rs(c2, at), rs(oc, at)} {
			e.snapshot(s)
		}
		taken := func(what string, when time.Time, want ...*snapexport.Snapshot) {
			t.Helper()
			e.mustRead(func(tx snapexport.Tx) error {
				got, err := tx.SnapshotsTakenAt(e.ctx, p.ID, c.ID, when)
				noErr(t, "SnapshotsTakenAt("+what+")", err)
				sameOrder(t, "SnapshotsTakenAt("+what+")", got, want, snapshotID)
				return nil
			})
		}
		taken("at", at, a, grouped, b)
		taken("at, in another zone", at.In(otherZone), a, grouped, b)
		taken("a microsecond later", at.Add(time.Microsecond), after)
		taken("a microsecond earlier", at.Add(-time.Microsecond), before)
		taken("a second later", at.Add(time.Second))

		a.ParentID = sharded.ID
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, a, e.now()) })
		taken("at, once grouped", at, a, grouped, b)
	}},
	{"Update", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(p.ID, "c0")
		s := e.snapshot(e.newSnapshot(c, snapexport.SnapshotReplicaSet))
		neighbour := e.snapshot(e.newSnapshot(c, snapexport.SnapshotReplicaSet))

		// Fields besides ParentID and ExpiresAt are not written.
		u := *s
		u.ParentID = e.id()
		u.ExpiresAt = e.now().In(otherZone).Add(30 * 24 * time.Hour)
		u.ClusterName, u.Description, u.Status, u.StorageSizeBytes = "renamed", "changed", snapexport.SnapshotFailed, 1
		u.CreatedAt, u.ImportedAt = e.now(), e.now()
		u.Collections = nil
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &u, e.now()) })
		want := *s
		want.ParentID, want.ExpiresAt = u.ParentID, u.ExpiresAt
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Snapshot(e.ctx, p.ID, c.ID, s.ID)
			noErr(t, "Snapshot", err)
			same(t, "Snapshot after UpdateSnapshot", got, &want)
			got, err = tx.Snapshot(e.ctx, p.ID, c.ID, neighbour.ID)
			noErr(t, "Snapshot", err)
			same(t, "another snapshot after UpdateSnapshot", got, neighbour)
			list, total, err := tx.ListSnapshots(e.ctx, p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{})
			noErr(t, "ListSnapshots", err)
			if total != 1 {
				t.Errorf("ListSnapshots total = %d once one has a parent, want 1", total)
			}
			sameOrder(t, "ListSnapshots once one has a parent", list, []*snapexport.Snapshot{neighbour}, snapshotID)
			return nil
		})

		// And the parent cleared again.
		want.ParentID = ""
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &want, e.now()) })
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Snapshot(e.ctx, p.ID, c.ID, s.ID)
			noErr(t, "Snapshot", err)
			same(t, "Snapshot after clearing ParentID", got, &want)
			return nil
		})

		missing := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		err := e.write(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, missing, e.now()) })
		wantErr(t, "UpdateSnapshot(missing)", err, snapexport.ErrNotFound)
		foreign := want
		foreign.ProjectID, foreign.ParentID = other.ID, e.id()
		err = e.write(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &foreign, e.now()) })
		wantErr(t, "UpdateSnapshot(under another project)", err, snapexport.ErrNotFound)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Snapshot(e.ctx, p.ID, c.ID, s.ID)
			noErr(t, "Snapshot", err)
			same(t, "Snapshot after a refused update", got, &want)
			return nil
		})
	}},
	{"Delete", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(p.ID, "c0")
		sharded := e.newSnapshot(c, snapexport.SnapshotShardedCluster)
		member := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		member.ParentID = sharded.ID
		sharded.Members[0].ID = member.ID
		kept := e.newSnapshot(c, snapexport.SnapshotShardedCluster)
		for _, s := range []*snapexport.Snapshot{sharded, member, kept} {
			e.snapshot(s)
		}
		err := e.write(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, other.ID, sharded.ID, e.now()) })
		wantErr(t, "DeleteSnapshot(under another project)", err, snapexport.ErrNotFound)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, sharded.ID, e.now()) })
		err = e.write(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, sharded.ID, e.now()) })
		wantErr(t, "DeleteSnapshot(deleted)", err, snapexport.ErrNotFound)
		err = e.write(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, e.id(), e.now()) })
		wantErr(t, "DeleteSnapshot(unknown)", err, snapexport.ErrNotFound)
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.Snapshot(e.ctx, p.ID, c.ID, sharded.ID)
			wantErr(t, "Snapshot(deleted)", err, snapexport.ErrNotFound)
			got, err := tx.Snapshot(e.ctx, p.ID, c.ID, member.ID)
			noErr(t, "Snapshot(member of the deleted)", err)
			same(t, "member of the deleted snapshot", got, member)
			list, total, err := tx.ListSnapshots(e.ctx, p.ID, c.ID, snapexport.SnapshotShardedCluster, snapexport.Page{})
			noErr(t, "ListSnapshots", err)
			if total != 1 {
				t.Errorf("ListSnapshots total = %d after a delete, want 1", total)
			}
			sameOrder(t, "ListSnapshots after a delete", list, []*snapexport.Snapshot{kept}, snapshotID)
			return nil
		})
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, member.ID, e.now()) })
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.Snapshot(e.ctx, p.ID, c.ID, member.ID)
			wantErr(t, "Snapshot(deleted member)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"Expired", func(t *testing.T, e *env) {
		p, q := e.project(e.org().ID), e.project(e.org().ID)
		c, d := e.cluster(p.ID, "c0"), e.cluster(q.ID, "c0")
		now := e.now().UTC()
		expiring := func(cl *snapexport.Cluster, kind snapexport.SnapshotKind, at time.Time) *snapexport.Snapshot {
			s := e.newSnapshot(cl, kind)
			s.ExpiresAt = at
			return s
		}
		e4 := expiring(c, snapexport.SnapshotShardedCluster, now.Add(-time.Hour))
		e3 := expiring(c, snapexport.SnapshotReplicaSet, now.Add(-2*time.Hour))
		fresh := expiring(c, snapexport.SnapshotReplicaSet, now.Add(time.Hour))
		e1 := expiring(d, snapexport.SnapshotReplicaSet, now.Add(-3*time.Hour).In(otherZone))
		// The same expiry as e3, created after it.
		e2 := expiring(d, snapexport.SnapshotReplicaSet, now.Add(-2*time.Hour).In(otherZone))
		// The earliest, but the sweeper reaches it through e4.
		member := expiring(c, snapexport.SnapshotReplicaSet, now.Add(-4*time.Hour))
		member.ParentID = e4.ID
		exact := expiring(d, snapexport.SnapshotShardedCluster, now)
		for _, s := range []*snapexport.Snapshot{e4, e3, fresh, e1, e2, member, exact} {
			e.snapshot(s)
		}
		expired := func(what string, before time.Time, limit int, want ...*snapexport.Snapshot) {
			t.Helper()
			e.mustRead(func(tx snapexport.Tx) error {
				got, err := tx.ExpiredSnapshots(e.ctx, before, limit)
				noErr(t, "ExpiredSnapshots("+what+")", err)
				sameOrder(t, "ExpiredSnapshots("+what+")", got, want, snapshotID)
				return nil
			})
		}
		expired("now", now, 10, e1, e3, e2, e4)
		expired("now, in another zone", now.In(otherZone), 10, e1, e3, e2, e4)
		expired("limit 2", now, 2, e1, e3)
		expired("limit 3", now, 3, e1, e3, e2)
		expired("a microsecond later", now.Add(time.Microsecond), 10, e1, e3, e2, e4, exact)
		expired("at the earliest expiry", now.Add(-3*time.Hour), 10)
		expired("in two hours", now.Add(2*time.Hour), 10, e1, e3, e2, e4, exact, fresh)

		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, q.ID, e1.ID, e.now()) })
		expired("after a delete", now, 10, e3, e2, e4)
	}},
	{"AppendOrder", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		c := e.cluster(p.ID, "c0")
		testAppendOrder(t, e, func() (func(tx snapexport.Tx) error, string) {
			s := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
			return func(tx snapexport.Tx) error { return tx.CreateSnapshot(e.ctx, s) }, s.ID
		}, func(tx snapexport.Tx) ([]string, error) {
			got, _, err := tx.ListSnapshots(e.ctx, p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{})
			return ids(got, snapshotID), err
		})
	}},
}
