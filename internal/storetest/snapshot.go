package storetest

import (
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

func (e *env) cluster(projectID, name string) *snapexport.Cluster {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateCluster, e.newCluster(projectID, name))
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
		s.PolicyItems = []string{e.id(), e.id()}
		s.Collections = []snapexport.SnapshotCollection{
			{DB: "shop", Name: "orders", Type: "collection", UUID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Count: 12345, Size: 1<<33 + 1},
			{DB: "shop", Name: "recent orders", Type: "view"},
			{DB: "metrics", Name: "cpu", Type: "timeseries", UUID: "11111111-2222-3333-4444-555555555555", Count: 3, Size: 99},
		}
		s.Consistency = snapexport.ConsistencyNone
		s.Progress = &snapexport.SnapshotProgress{Collections: 3, CollectionsStarted: 3, Documents: 12348, Bytes: 1<<33 + 100,
			UpdatedAt: e.now().In(otherZone)}
	case snapexport.SnapshotShardedCluster:
		for _, sh := range c.Shards {
			s.Members = append(s.Members, snapexport.SnapshotMember{ID: e.id(), ReplicaSetName: sh.ReplicaSetName})
		}
	}
	return s
}

func (e *env) snapshot(s *snapexport.Snapshot) *snapexport.Snapshot {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateSnapshot, s)
}

func snapshotID(s *snapexport.Snapshot) string { return s.ID }

// wantNilLists checks what diff cannot: a list left empty reads back nil,
// not as an empty slice.
func wantNilLists(t *testing.T, what string, got, want *snapexport.Snapshot) {
	t.Helper()
	wantNil(t, what+": Members", got.Members, want.Members)
	wantNil(t, what+": Collections", got.Collections, want.Collections)
	wantNil(t, what+": PolicyItems", got.PolicyItems, want.PolicyItems)
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
				found(t, "Snapshot(any cluster, "+want.ID+")", want)(tx.Snapshot(e.ctx, p.ID, "", want.ID))
			}
			for _, k := range []struct{ what, project, cluster, id string }{
				{"another project's", other.ID, c.ID, rs.ID},
				{"another cluster's", p.ID, c2.ID, rs.ID},
				{"the same-named cluster of another project", other.ID, oc.ID, rs.ID},
				{"unknown id", p.ID, c.ID, e.id()},
				{"another project's, any cluster", other.ID, "", rs.ID},
				{"unknown id, any cluster", p.ID, "", e.id()},
			} {
				missing(t, "Snapshot("+k.what+")")(tx.Snapshot(e.ctx, k.project, k.cluster, k.id))
			}
			return nil
		})

		dup := e.newSnapshot(oc, snapexport.SnapshotShardedCluster)
		dup.ID = rs.ID
		e.wantWriteErr(t, "CreateSnapshot(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateSnapshot(e.ctx, dup) })
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "Snapshot after a duplicate create", rs)
			missing(t, "Snapshot(the refused duplicate)")(tx.Snapshot(e.ctx, other.ID, oc.ID, rs.ID))
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
				paged(t, "ListSnapshots("+k.what+")", k.total, k.want, snapshotID)(tx.ListSnapshots(e.ctx, k.project, k.cluster, k.kind, k.page))
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
				listed(t, "SnapshotsTakenAt("+what+")", want, snapshotID)(tx.SnapshotsTakenAt(e.ctx, p.ID, c.ID, when))
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
			e.wantItem(t, tx, "Snapshot after UpdateSnapshot", &want)
			e.wantItem(t, tx, "another snapshot after UpdateSnapshot", neighbour)
			paged(t, "ListSnapshots once one has a parent", 1, []*snapexport.Snapshot{neighbour}, snapshotID)(tx.ListSnapshots(e.ctx, p.ID, c.ID, snapexport.SnapshotReplicaSet, snapexport.Page{}))
			return nil
		})

		// And the parent cleared again.
		want.ParentID = ""
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &want, e.now()) })
		e.wantStored(t, "Snapshot after clearing ParentID", &want)

		missing := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		e.wantWriteErr(t, "UpdateSnapshot(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, missing, e.now()) })
		foreign := want
		foreign.ProjectID, foreign.ParentID = other.ID, e.id()
		e.wantWriteErr(t, "UpdateSnapshot(under another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &foreign, e.now()) })
		e.wantStored(t, "Snapshot after a refused update", &want)
	}},
	{"RecordState", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(p.ID, "c0")
		queued := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		queued.Status, queued.MongodVersion, queued.CloudProvider, queued.StorageSizeBytes = snapexport.SnapshotQueued, "", "", 0
		queued.CreatedAt, queued.ImportedAt, queued.Collections = time.Time{}, time.Time{}, nil
		queued.Consistency, queued.Progress = "", nil
		s := e.snapshot(queued)
		neighbour := e.snapshot(e.newSnapshot(c, snapexport.SnapshotReplicaSet))

		// The state is written; the rest is not.
		u := *s
		u.Status, u.MongodVersion, u.CloudProvider, u.StorageSizeBytes = snapexport.SnapshotCompleted, "8.0.29", snapexport.GCP, 1<<33+5
		u.CreatedAt, u.ExpiresAt, u.ImportedAt = e.now(), e.now().In(otherZone).Add(48*time.Hour), e.now()
		u.Collections = []snapexport.SnapshotCollection{{DB: "shop", Name: "orders", Type: "collection", Count: 2, Size: 40}}
		u.Consistency, u.FailureReason = snapexport.ConsistencyPointInTime, "capture: reading shop.orders: not authorized"
		u.Progress = &snapexport.SnapshotProgress{Collections: 4, CollectionsStarted: 1, Documents: 7, Bytes: 1<<33 + 9, UpdatedAt: e.now()}
		changed := u
		u.ParentID, u.Description, u.ClusterName, u.PolicyItems = e.id(), "changed", "renamed", []string{e.id()}
		e.mustWrite(func(tx snapexport.Tx) error { return tx.RecordSnapshotState(e.ctx, &u) })
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "Snapshot after RecordSnapshotState", &changed)
			e.wantItem(t, tx, "another snapshot after RecordSnapshotState", neighbour)
			return nil
		})

		foreign := changed
		foreign.ProjectID, foreign.Status = other.ID, snapexport.SnapshotFailed
		e.wantWriteErr(t, "RecordSnapshotState(under another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.RecordSnapshotState(e.ctx, &foreign) })
		missing := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		e.wantWriteErr(t, "RecordSnapshotState(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.RecordSnapshotState(e.ctx, missing) })
		e.wantStored(t, "Snapshot after a refused RecordSnapshotState", &changed)
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
		e.wantWriteErr(t, "DeleteSnapshot(under another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, other.ID, sharded.ID, e.now()) })
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, sharded.ID, e.now()) })
		e.wantWriteErr(t, "DeleteSnapshot(deleted)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, sharded.ID, e.now()) })
		e.wantWriteErr(t, "DeleteSnapshot(unknown)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, e.id(), e.now()) })
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "Snapshot(deleted)")(tx.Snapshot(e.ctx, p.ID, c.ID, sharded.ID))
			e.wantItem(t, tx, "member of the deleted snapshot", member)
			paged(t, "ListSnapshots after a delete", 1, []*snapexport.Snapshot{kept}, snapshotID)(tx.ListSnapshots(e.ctx, p.ID, c.ID, snapexport.SnapshotShardedCluster, snapexport.Page{}))
			return nil
		})
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, member.ID, e.now()) })
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "Snapshot(deleted member)")(tx.Snapshot(e.ctx, p.ID, c.ID, member.ID))
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
				listed(t, "ExpiredSnapshots("+what+")", want, snapshotID)(tx.ExpiredSnapshots(e.ctx, before, limit))
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
	{"ClaimScheduled", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		c, c2 := e.cluster(p.ID, "c0"), e.cluster(p.ID, "c1")
		at := e.now().Truncate(time.Minute)
		claim := func(what string, c *snapexport.Cluster, at, forgetBefore time.Time, want bool) {
			t.Helper()
			var got bool
			e.mustWrite(func(tx snapexport.Tx) error {
				var err error
				got, err = tx.ClaimScheduledSnapshot(e.ctx, p.ID, c.ID, at, forgetBefore)
				return err
			})
			if got != want {
				t.Errorf("ClaimScheduledSnapshot(%s) = %v, want %v", what, got, want)
			}
		}
		claim("first", c, at, at, true)
		claim("again", c, at, at, false)
		claim("in another zone", c, at.In(otherZone), at, false)
		claim("another cluster", c2, at, at, true)
		claim("the next instant", c, at.Add(time.Hour), at, true)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.ReleaseScheduledSnapshot(e.ctx, c.ID, at) })
		claim("released", c, at, at, true)
		// A claim forgotten as older than forgetBefore can be claimed again.
		claim("forgetting the first", c, at.Add(2*time.Hour), at.Add(time.Minute), true)
		claim("forgotten", c, at, at, true)
		claim("other clusters keep theirs", c2, at, at, false)
	}},
	{"Claim", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(p.ID, "c0")
		being := func(c *snapexport.Cluster, kind snapexport.SnapshotKind, status snapexport.SnapshotStatus) *snapexport.Snapshot {
			s := e.newSnapshot(c, kind)
			s.Status = status
			return e.snapshot(s)
		}
		s := being(c, snapexport.SnapshotReplicaSet, snapexport.SnapshotInProgress)
		now := e.now()
		claim := func(what, runner string, at, until time.Time, want bool) {
			t.Helper()
			var got bool
			e.mustWrite(func(tx snapexport.Tx) error {
				var err error
				got, err = tx.ClaimSnapshot(e.ctx, p.ID, s.ID, runner, at, until)
				return err
			})
			if got != want {
				t.Errorf("ClaimSnapshot(%s) = %v, want %v", what, got, want)
			}
		}
		renew := func(what, runner string, until time.Time, want bool) {
			t.Helper()
			var got bool
			e.mustWrite(func(tx snapexport.Tx) error {
				var err error
				got, err = tx.RenewSnapshot(e.ctx, p.ID, s.ID, runner, until)
				return err
			})
			if got != want {
				t.Errorf("RenewSnapshot(%s) = %v, want %v", what, got, want)
			}
		}
		renew("never taken", "a", now.Add(time.Minute), false)
		claim("never taken", "a", now, now.Add(time.Minute), true)
		claim("held by a", "b", now.Add(30*time.Second), now.Add(2*time.Minute), false)
		renew("by b, held by a", "b", now.Add(2*time.Minute), false)
		claim("renewed by a", "a", now.Add(30*time.Second), now.Add(80*time.Second), true)
		renew("by a", "a", now.Add(90*time.Second), true)
		claim("still held by a", "b", now.Add(89*time.Second), now.Add(3*time.Minute), false)
		claim("lapsed", "b", now.Add(91*time.Second), now.Add(3*time.Minute), true)
		renew("by a, taken over by b", "a", now.Add(4*time.Minute), false)
		claim("taken over by b", "a", now.Add(92*time.Second), now.Add(4*time.Minute), false)
		claim("released by b", "b", now.Add(92*time.Second), time.Time{}, true)
		renew("by b, released", "b", now.Add(4*time.Minute), false)
		renew("by a, released by b", "a", now.Add(4*time.Minute), false)
		claim("released", "a", now.Add(93*time.Second), now.Add(3*time.Minute), true)
		renew("by a, held again", "a", now.Add(4*time.Minute), true)
		e.wantStored(t, "Snapshot after claims", s)

		// Lapsed leases, across projects: a queued snapshot's counts, a
		// released one's, a completed one's and a member's do not.
		p2 := e.project(o.ID)
		queued := being(e.cluster(p2.ID, "c1"), snapexport.SnapshotReplicaSet, snapexport.SnapshotQueued)
		released := being(c, snapexport.SnapshotReplicaSet, snapexport.SnapshotQueued)
		completed := being(c, snapexport.SnapshotReplicaSet, snapexport.SnapshotCompleted)
		member := e.newSnapshot(c, snapexport.SnapshotReplicaSet)
		member.Status, member.ParentID = snapexport.SnapshotInProgress, e.id()
		e.snapshot(member)
		e.mustWrite(func(tx snapexport.Tx) error {
			for _, x := range []*snapexport.Snapshot{queued, released, completed, member} {
				if _, err := tx.ClaimSnapshot(e.ctx, x.ProjectID, x.ID, "c", now, now.Add(10*time.Second)); err != nil {
					return err
				}
			}
			_, err := tx.ClaimSnapshot(e.ctx, released.ProjectID, released.ID, "c", now, time.Time{})
			return err
		})
		lapsed := func(what string, at time.Time, limit int, want ...*snapexport.Snapshot) {
			t.Helper()
			e.mustRead(func(tx snapexport.Tx) error {
				listed(t, "LapsedSnapshots("+what+")", want, snapshotID)(tx.LapsedSnapshots(e.ctx, at, limit))
				return nil
			})
		}
		lapsed("before any lapse", now.Add(5*time.Second), 10)
		lapsed("after the queued one's lease", now.Add(11*time.Second), 10, queued)
		lapsed("after a's", now.Add(5*time.Minute), 10, s, queued)
		lapsed("limit 1", now.Add(5*time.Minute), 1, s)
		err := e.write(func(tx snapexport.Tx) error {
			_, err := tx.ClaimSnapshot(e.ctx, other.ID, s.ID, "a", now, now.Add(time.Minute))
			return err
		})
		wantErr(t, "ClaimSnapshot(another project's)", err, snapexport.ErrNotFound)
		err = e.write(func(tx snapexport.Tx) error {
			_, err := tx.ClaimSnapshot(e.ctx, p.ID, e.id(), "a", now, now.Add(time.Minute))
			return err
		})
		wantErr(t, "ClaimSnapshot(unknown)", err, snapexport.ErrNotFound)
		err = e.write(func(tx snapexport.Tx) error {
			_, err := tx.RenewSnapshot(e.ctx, other.ID, s.ID, "a", now.Add(time.Minute))
			return err
		})
		wantErr(t, "RenewSnapshot(another project's)", err, snapexport.ErrNotFound)
	}},
}
