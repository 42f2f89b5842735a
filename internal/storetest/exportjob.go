package storetest

import (
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// newExportJob returns a replica-set export of c's first shard in state
// with every field such a job uses set. The progress counts are distinct,
// and the 64-bit ones past 32 bits, so that swapped or truncated columns
// show. A job that has ended carries FinishedAt, in another zone, and a
// failed one its StateReason.
func (e *env) newExportJob(c *snapexport.Cluster, state snapexport.ExportState) *snapexport.ExportJob {
	id := e.id()
	j := &snapexport.ExportJob{ID: id, ProjectID: c.ProjectID, ClusterID: c.ID, ClusterName: c.Name, SnapshotID: e.id(),
		ExportBucketID: e.id(), ReplicaSetName: c.Shards[0].ReplicaSetName, SourceSnapshotID: e.id(),
		CustomData: []snapexport.Label{{Key: "exported by", Value: "nightly ✓"}, {Key: "ticket", Value: id[:6]}},
		Prefix:     "exported_snapshots/" + c.ProjectID + "/" + c.Name + "/" + id + "/",
		State:      state, CreatedAt: e.now(),
		Progress: snapexport.ExportProgress{TotalCollections: 12, ExportedCollections: 5, Files: 17,
			Documents: 5<<32 + 3, Bytes: 7<<33 + 9, TotalDocuments: 9<<32 + 1, TotalBytes: 11<<33 + 5},
	}
	if !state.Active() {
		j.FinishedAt = ptr(e.now().In(otherZone))
	}
	if state == snapexport.ExportFailed {
		j.StateReason = &snapexport.ExportStateReason{ErrorCode: "EXPORT_FAILED", Message: "bucket \"b\" refused: AccessDenied ✗"}
	}
	return j
}

// newShardedExport returns the parent job of a sharded export of c and its
// components, one per shard, all exporting one snapshot to one bucket.
func (e *env) newShardedExport(c *snapexport.Cluster, state snapexport.ExportState) (*snapexport.ExportJob, []*snapexport.ExportJob) {
	parent := e.newExportJob(c, state)
	parent.ReplicaSetName, parent.SourceSnapshotID = "", ""
	var components []*snapexport.ExportJob
	for _, sh := range c.Shards {
		j := e.newExportJob(c, state)
		j.ParentID, j.ReplicaSetName = parent.ID, sh.ReplicaSetName
		j.SnapshotID, j.ExportBucketID, j.CustomData = parent.SnapshotID, parent.ExportBucketID, nil
		parent.Components = append(parent.Components, snapexport.ExportComponent{ExportID: j.ID, ReplicaSetName: sh.ReplicaSetName})
		components = append(components, j)
	}
	return parent, components
}

func (e *env) exportJob(j *snapexport.ExportJob) *snapexport.ExportJob {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateExportJob, j)
}

func exportJobID(j *snapexport.ExportJob) string { return j.ID }

// wantNilExportLists checks what diff cannot: a list left empty reads back
// nil, not as an empty slice.
func wantNilExportLists(t *testing.T, what string, got, want *snapexport.ExportJob) {
	t.Helper()
	wantNil(t, what+": Components", got.Components, want.Components)
	wantNil(t, what+": CustomData", got.CustomData, want.CustomData)
}

var exportJobTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, oc := e.cluster(p.ID, "c0"), e.cluster(other.ID, "c0")

		rs := e.newExportJob(c, snapexport.ExportInProgress)
		parent, components := e.newShardedExport(c, snapexport.ExportQueued)
		failed := e.newExportJob(c, snapexport.ExportFailed)
		failed.CancelRequested = true
		failed.CreatedAt = failed.CreatedAt.In(otherZone)
		// Nothing optional set.
		bare := &snapexport.ExportJob{ID: e.id(), ProjectID: p.ID, ClusterID: c.ID, ClusterName: c.Name, SnapshotID: e.id(),
			ExportBucketID: e.id(), Prefix: "p/", State: snapexport.ExportQueued, CreatedAt: e.now()}
		made := append([]*snapexport.ExportJob{rs, parent, failed, bare}, components...)
		if failed.FinishedAt == nil || failed.StateReason == nil || rs.FinishedAt != nil || rs.StateReason != nil {
			t.Fatal("storetest: the fixtures do not cover both set and unset FinishedAt and StateReason")
		}
		for _, j := range made {
			e.exportJob(j)
		}
		e.mustRead(func(tx snapexport.Tx) error {
			for _, want := range made {
				got, err := tx.ExportJob(e.ctx, p.ID, want.ID)
				noErr(t, "ExportJob", err)
				same(t, "ExportJob("+want.ID+")", got, want)
				wantNilExportLists(t, "ExportJob("+want.ID+")", got, want)
			}
			for _, k := range []struct{ what, project, id string }{
				{"another project's", other.ID, rs.ID},
				{"a component under another project", other.ID, components[0].ID},
				{"unknown id", p.ID, e.id()},
			} {
				missing(t, "ExportJob("+k.what+")")(tx.ExportJob(e.ctx, k.project, k.id))
			}
			return nil
		})

		// A duplicate id is refused whatever its project, and the
		// transaction goes on, as the service's does after ErrConflict.
		dup := e.newExportJob(oc, snapexport.ExportQueued)
		dup.ID = rs.ID
		after := e.newExportJob(oc, snapexport.ExportQueued)
		e.mustWrite(func(tx snapexport.Tx) error {
			wantErr(t, "CreateExportJob(duplicate id)", tx.CreateExportJob(e.ctx, dup), snapexport.ErrConflict)
			return tx.CreateExportJob(e.ctx, after)
		})
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "ExportJob after a duplicate create", rs)
			missing(t, "ExportJob(the refused duplicate)")(tx.ExportJob(e.ctx, other.ID, rs.ID))
			e.wantItem(t, tx, "ExportJob created after the conflict", after)
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, c2, oc := e.cluster(p.ID, "c0"), e.cluster(p.ID, "c1"), e.cluster(other.ID, "c0")
		j1 := e.newExportJob(c, snapexport.ExportSuccessful)
		sharded, components := e.newShardedExport(c, snapexport.ExportInProgress)
		j2 := e.newExportJob(c, snapexport.ExportQueued)
		elsewhere := e.newExportJob(c2, snapexport.ExportQueued)
		otherProject := e.newExportJob(oc, snapexport.ExportQueued)
		// Created last but dated first: the order is creation order, not
		// CreatedAt's.
		j3 := e.newExportJob(c, snapexport.ExportFailed)
		j3.CreatedAt = j1.CreatedAt.Add(-time.Hour)
		for _, j := range append([]*snapexport.ExportJob{j1, sharded, components[0], j2, elsewhere, otherProject, components[1]}, j3) {
			e.exportJob(j)
		}
		all := []*snapexport.ExportJob{j1, sharded, j2, j3}
		e.mustRead(func(tx snapexport.Tx) error {
			for _, k := range []struct {
				what             string
				project, cluster string
				page             snapexport.Page
				want             []*snapexport.ExportJob
				total            int
			}{
				{"all", p.ID, c.ID, snapexport.Page{}, all, 4},
				{"offset 1, limit 2", p.ID, c.ID, snapexport.Page{Offset: 1, Limit: 2}, all[1:3], 4},
				{"offset 3, no limit", p.ID, c.ID, snapexport.Page{Offset: 3}, all[3:], 4},
				{"limit 1", p.ID, c.ID, snapexport.Page{Limit: 1}, all[:1], 4},
				{"offset past the end", p.ID, c.ID, snapexport.Page{Offset: 10, Limit: 2}, nil, 4},
				{"another cluster", p.ID, c2.ID, snapexport.Page{}, []*snapexport.ExportJob{elsewhere}, 1},
				{"another project", other.ID, oc.ID, snapexport.Page{}, []*snapexport.ExportJob{otherProject}, 1},
				{"the cluster under another project", other.ID, c.ID, snapexport.Page{}, nil, 0},
			} {
				got, total, err := tx.ListExportJobs(e.ctx, k.project, k.cluster, k.page)
				noErr(t, "ListExportJobs("+k.what+")", err)
				if total != k.total {
					t.Errorf("ListExportJobs(%s) total = %d, want %d", k.what, total, k.total)
				}
				sameOrder(t, "ListExportJobs("+k.what+")", got, k.want, exportJobID)
				for i := range got {
					if i < len(k.want) {
						wantNilExportLists(t, "ListExportJobs("+k.what+")", got[i], k.want[i])
					}
				}
			}
			return nil
		})
	}},
	{"Active", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c, c2, oc := e.cluster(p.ID, "c0"), e.cluster(p.ID, "c1"), e.cluster(other.ID, "c0")
		s1, s2, b1, b2 := e.id(), e.id(), e.id(), e.id()
		job := func(cl *snapexport.Cluster, state snapexport.ExportState, snapshotID, bucketID string) *snapexport.ExportJob {
			j := e.newExportJob(cl, state)
			j.SnapshotID, j.ExportBucketID = snapshotID, bucketID
			return j
		}
		queued := job(c, snapexport.ExportQueued, s1, b1)
		successful := job(c, snapexport.ExportSuccessful, s1, b1)
		running := job(c, snapexport.ExportInProgress, s1, b2)
		sharded, components := e.newShardedExport(c, snapexport.ExportInProgress)
		sharded.SnapshotID, sharded.ExportBucketID = s2, b1
		for _, j := range components {
			j.SnapshotID, j.ExportBucketID = s2, b1
		}
		components[1].State = snapexport.ExportQueued
		failed := job(c, snapexport.ExportFailed, s1, b1)
		elsewhere := job(c2, snapexport.ExportInProgress, s2, b2)
		cancelled := job(c, snapexport.ExportCancelled, s2, b1)
		foreign := job(oc, snapexport.ExportQueued, s1, b1)
		for _, j := range []*snapexport.ExportJob{queued, successful, running, sharded, components[0], components[1], failed, elsewhere, cancelled, foreign} {
			e.exportJob(j)
		}
		active := func(what, project, snapshotID, bucketID string, want ...*snapexport.ExportJob) {
			t.Helper()
			e.mustRead(func(tx snapexport.Tx) error {
				listed(t, "ActiveExportJobs("+what+")", want, exportJobID)(tx.ActiveExportJobs(e.ctx, project, snapshotID, bucketID))
				return nil
			})
		}
		active("snapshot s1", p.ID, s1, "", queued, running)
		active("snapshot s2", p.ID, s2, "", sharded, components[0], components[1], elsewhere)
		active("bucket b1", p.ID, "", b1, queued, sharded, components[0], components[1])
		active("bucket b2", p.ID, "", b2, running, elsewhere)
		active("snapshot s1 and bucket b1", p.ID, s1, b1, queued)
		active("snapshot s2 and bucket b2", p.ID, s2, b2, elsewhere)
		active("snapshot s1 and bucket b2", p.ID, s1, b2, running)
		active("all", p.ID, "", "", queued, running, sharded, components[0], components[1], elsewhere)
		active("unknown snapshot", p.ID, e.id(), "")
		active("unknown bucket", p.ID, "", e.id())
		active("another project", other.ID, s1, "", foreign)
		active("another project, all", other.ID, "", "", foreign)
		active("the snapshot under an unknown project", e.id(), s1, "")

		// A job leaves the active ones when it ends, and is back if its
		// state goes back.
		queued.State, queued.FinishedAt = snapexport.ExportCancelled, ptr(e.now())
		successful.State, successful.FinishedAt = snapexport.ExportInProgress, nil
		e.mustWrite(func(tx snapexport.Tx) error {
			if err := tx.UpdateExportJob(e.ctx, queued); err != nil {
				return err
			}
			return tx.UpdateExportJob(e.ctx, successful)
		})
		active("snapshot s1, after updates", p.ID, s1, "", successful, running)
		active("bucket b1, after updates", p.ID, "", b1, successful, sharded, components[0], components[1])
	}},
	{"Update", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(p.ID, "c0")
		j, components := e.newShardedExport(c, snapexport.ExportInProgress)
		j.Progress = snapexport.ExportProgress{TotalCollections: 3}
		e.exportJob(j)
		component := e.exportJob(components[0])
		neighbour := e.exportJob(e.newExportJob(c, snapexport.ExportInProgress))

		// Fields besides the state, its reason, FinishedAt, the progress
		// and CancelRequested are not written.
		u := *j
		u.State = snapexport.ExportFailed
		u.StateReason = &snapexport.ExportStateReason{ErrorCode: "CANCELLED_BY_SHARD", Message: "shard rs1 failed"}
		u.FinishedAt = ptr(e.now().In(otherZone))
		u.Progress = snapexport.ExportProgress{TotalCollections: 31, ExportedCollections: 29, Files: 101,
			Documents: 6<<32 + 1, Bytes: 8<<33 + 2, TotalDocuments: 10<<32 + 3, TotalBytes: 12<<33 + 4}
		u.CancelRequested = true
		u.ClusterID, u.ClusterName, u.SnapshotID, u.ExportBucketID = e.id(), "renamed", e.id(), e.id()
		u.ParentID, u.ReplicaSetName, u.SourceSnapshotID = e.id(), "rs9", e.id()
		u.Components = []snapexport.ExportComponent{{ExportID: e.id(), ReplicaSetName: "rs9"}}
		u.CustomData = nil
		u.Prefix, u.CreatedAt = "elsewhere/", e.now()
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateExportJob(e.ctx, &u) })
		want := *j
		want.State, want.StateReason, want.FinishedAt, want.Progress, want.CancelRequested =
			u.State, u.StateReason, u.FinishedAt, u.Progress, u.CancelRequested
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "ExportJob after UpdateExportJob", &want)
			e.wantItem(t, tx, "another job after UpdateExportJob", neighbour)
			paged(t, "ListExportJobs after an update", 2, []*snapexport.ExportJob{&want, neighbour}, exportJobID)(tx.ListExportJobs(e.ctx, p.ID, c.ID, snapexport.Page{}))
			return nil
		})

		// A component stays one, with the lists it had.
		uc := *component
		uc.State, uc.FinishedAt = snapexport.ExportSuccessful, ptr(e.now())
		uc.ParentID, uc.ReplicaSetName = "", ""
		uc.Components = []snapexport.ExportComponent{{ExportID: e.id(), ReplicaSetName: "rs9"}}
		uc.CustomData = []snapexport.Label{{Key: "k", Value: "v"}}
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateExportJob(e.ctx, &uc) })
		wantC := *component
		wantC.State, wantC.FinishedAt = uc.State, uc.FinishedAt
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ExportJob(e.ctx, p.ID, component.ID)
			noErr(t, "ExportJob", err)
			same(t, "component after UpdateExportJob", got, &wantC)
			wantNilExportLists(t, "component after UpdateExportJob", got, &wantC)
			_, total, err := tx.ListExportJobs(e.ctx, p.ID, c.ID, snapexport.Page{})
			noErr(t, "ListExportJobs", err)
			if total != 2 {
				t.Errorf("ListExportJobs total = %d after a component's update, want 2", total)
			}
			return nil
		})

		// And the reason, FinishedAt, progress and flag cleared again.
		want.State, want.StateReason, want.FinishedAt = snapexport.ExportQueued, nil, nil
		want.Progress, want.CancelRequested = snapexport.ExportProgress{}, false
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateExportJob(e.ctx, &want) })
		e.wantStored(t, "ExportJob after clearing its state reason and FinishedAt", &want)

		missing := e.newExportJob(c, snapexport.ExportFailed)
		e.wantWriteErr(t, "UpdateExportJob(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateExportJob(e.ctx, missing) })
		foreign := want
		foreign.ProjectID, foreign.State, foreign.CancelRequested = other.ID, snapexport.ExportCancelled, true
		e.wantWriteErr(t, "UpdateExportJob(under another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateExportJob(e.ctx, &foreign) })
		e.wantStored(t, "ExportJob after a refused update", &want)
	}},
	{"Claim", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(p.ID, "c0")
		j := e.exportJob(e.newExportJob(c, snapexport.ExportInProgress))
		before := *j
		now := e.now()
		claim := func(what, runner string, at, until time.Time, want bool) {
			t.Helper()
			var got bool
			e.mustWrite(func(tx snapexport.Tx) error {
				var err error
				got, err = tx.ClaimExportJob(e.ctx, p.ID, j.ID, runner, at, until)
				return err
			})
			if got != want {
				t.Errorf("ClaimExportJob(%s) = %v, want %v", what, got, want)
			}
		}
		// lease checks who holds the job's lease, and until when (zero:
		// none).
		lease := func(what, wantRunner string, wantUntil time.Time) {
			t.Helper()
			e.mustRead(func(tx snapexport.Tx) error {
				runner, until, err := tx.ExportJobLease(e.ctx, p.ID, j.ID)
				if err != nil {
					return err
				}
				if runner != wantRunner || (until == nil) != wantUntil.IsZero() || until != nil && !until.Equal(wantUntil) {
					t.Errorf("ExportJobLease(%s) = %q until %v, want %q until %v", what, runner, until, wantRunner, wantUntil)
				}
				return nil
			})
		}
		renew := func(what, runner string, until time.Time, want bool) {
			t.Helper()
			var got bool
			e.mustWrite(func(tx snapexport.Tx) error {
				var err error
				got, err = tx.RenewExportJob(e.ctx, p.ID, j.ID, runner, until)
				return err
			})
			if got != want {
				t.Errorf("RenewExportJob(%s) = %v, want %v", what, got, want)
			}
		}
		lease("never taken", "", time.Time{})
		renew("never taken", "a", now.Add(time.Minute), false)
		claim("never taken", "a", now, now.Add(time.Minute), true)
		lease("taken by a", "a", now.Add(time.Minute))
		claim("held by a", "b", now.Add(30*time.Second), now.Add(2*time.Minute), false)
		lease("refused to b", "a", now.Add(time.Minute))
		renew("by b, held by a", "b", now.Add(2*time.Minute), false)
		claim("renewed by a", "a", now.Add(30*time.Second), now.Add(80*time.Second), true)
		renew("by a", "a", now.Add(90*time.Second), true)
		lease("renewed by a", "a", now.Add(90*time.Second))
		claim("still held by a", "b", now.Add(89*time.Second), now.Add(3*time.Minute), false)
		claim("lapsed", "b", now.Add(91*time.Second), now.Add(3*time.Minute), true)
		renew("by a, taken over by b", "a", now.Add(4*time.Minute), false)
		lease("taken over by b", "b", now.Add(3*time.Minute))
		claim("released by b", "b", now.Add(92*time.Second), time.Time{}, true)
		lease("released by b", "b", time.Time{})
		renew("by b, released", "b", now.Add(4*time.Minute), false)
		renew("by a, released by b", "a", now.Add(4*time.Minute), false)
		claim("released", "a", now.Add(93*time.Second), now.Add(4*time.Minute), true)
		// Lapsed leases, across projects: a's job once b released it is not
		// lapsed (no lease), an ended job's lapsed lease does not count.
		o2 := e.project(o.ID)
		j2 := e.exportJob(e.newExportJob(e.cluster(o2.ID, "c1"), snapexport.ExportQueued))
		ended := e.exportJob(e.newExportJob(c, snapexport.ExportSuccessful))
		e.mustWrite(func(tx snapexport.Tx) error {
			for _, x := range []*snapexport.ExportJob{j2, ended} {
				if _, err := tx.ClaimExportJob(e.ctx, x.ProjectID, x.ID, "c", now, now.Add(10*time.Second)); err != nil {
					return err
				}
			}
			return nil
		})
		lapsed := func(what string, at time.Time, want ...*snapexport.ExportJob) {
			t.Helper()
			e.mustRead(func(tx snapexport.Tx) error {
				listed(t, "LapsedExportJobs("+what+")", want, func(j *snapexport.ExportJob) string { return j.ID })(tx.LapsedExportJobs(e.ctx, at, 10))
				return nil
			})
		}
		lapsed("before any lapse", now.Add(5*time.Second))
		lapsed("after j2's lease", now.Add(11*time.Second), j2)
		lapsed("after a's", now.Add(5*time.Minute), j, j2)
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "LapsedExportJobs(limit 1)", []*snapexport.ExportJob{j}, func(j *snapexport.ExportJob) string { return j.ID })(tx.LapsedExportJobs(e.ctx, now.Add(5*time.Minute), 1))
			return nil
		})
		err := e.write(func(tx snapexport.Tx) error {
			_, err := tx.ClaimExportJob(e.ctx, other.ID, j.ID, "a", now, now.Add(time.Minute))
			return err
		})
		wantErr(t, "ClaimExportJob(another project's)", err, snapexport.ErrNotFound)
		err = e.write(func(tx snapexport.Tx) error {
			_, err := tx.RenewExportJob(e.ctx, other.ID, j.ID, "a", now.Add(time.Minute))
			return err
		})
		wantErr(t, "RenewExportJob(another project's)", err, snapexport.ErrNotFound)
		err = e.read(func(tx snapexport.Tx) error {
			_, _, err := tx.ExportJobLease(e.ctx, other.ID, j.ID)
			return err
		})
		wantErr(t, "ExportJobLease(another project's)", err, snapexport.ErrNotFound)
		e.wantStored(t, "ExportJob after claims", &before)
	}},
	{"AppendOrder", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		c := e.cluster(p.ID, "c0")
		testAppendOrder(t, e, func() (func(tx snapexport.Tx) error, string) {
			j := e.newExportJob(c, snapexport.ExportQueued)
			return func(tx snapexport.Tx) error { return tx.CreateExportJob(e.ctx, j) }, j.ID
		}, func(tx snapexport.Tx) ([]string, error) {
			got, _, err := tx.ListExportJobs(e.ctx, p.ID, c.ID, snapexport.Page{})
			return ids(got, exportJobID), err
		})
	}},
}
