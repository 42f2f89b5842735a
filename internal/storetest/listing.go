package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// mark reads the current mark of a project's lists.
func (e *env) mark(projectID string) snapexport.ListMark {
	e.t.Helper()
	var m snapexport.ListMark
	e.mustRead(func(tx snapexport.Tx) error {
		var err error
		m, err = tx.ListMark(e.ctx, projectID)
		return err
	})
	return m
}

// listOf reads a page of a list in its own Read.
func listOf[T any](e *env, list func(tx snapexport.Tx, page snapexport.Page) ([]*T, int, error), page snapexport.Page) ([]*T, int) {
	e.t.Helper()
	var out []*T
	var total int
	e.mustRead(func(tx snapexport.Tx) error {
		var err error
		out, total, err = list(tx, page)
		return err
	})
	return out, total
}

// wantList checks a page and its total.
func wantList[T any](t *testing.T, what string, got []*T, total int, want []*T, wantTotal int, id func(*T) string) {
	t.Helper()
	paged(t, what, wantTotal, want, id)(got, total, nil)
}

var listingTests = []test{
	{"BucketsAsOfMark", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		role := e.role(p.ID, snapexport.AWS)
		var made []*snapexport.ExportBucket
		for range 5 {
			made = append(made, e.bucket(role))
		}
		e.bucket(e.role(other.ID, snapexport.AWS))
		m := e.mark(p.ID)
		list := func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return tx.ListExportBuckets(e.ctx, p.ID, nil, page)
		}
		// Removals and creations after the mark: the list of the mark
		// stays as it was, item for item; the current list moves on.
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, made[1].ID, e.now()) })
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, made[4].ID, e.now()) })
		added := e.bucket(role)
		e.wantWriteErr(t, "DeleteExportBucket(under another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, other.ID, made[0].ID, e.now()) })

		got, total := listOf(e, list, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark)", got, total, made, 5, bucketID)
		for i := range got {
			same(t, "ListExportBuckets(as of the mark) item", got[i], made[i])
		}
		got, total = listOf(e, list, snapexport.Page{Offset: 1, Limit: 2, AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark, offset 1, limit 2)", got, total, made[1:3], 5, bucketID)
		got, total = listOf(e, list, snapexport.Page{Offset: 4, Limit: 2, AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark, offset 4)", got, total, made[4:], 5, bucketID)
		got, total = listOf(e, list, snapexport.Page{})
		wantList(t, "ListExportBuckets(now)", got, total, []*snapexport.ExportBucket{made[0], made[2], made[3], added}, 4, bucketID)
		got, total = listOf(e, func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return tx.ListExportBuckets(e.ctx, p.ID, []snapexport.CloudProvider{snapexport.Azure}, page)
		}, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(AZURE, as of the mark)", got, total, nil, 0, bucketID)

		// A mark read now lists what is there now.
		now := e.mark(p.ID)
		if now.Removals == m.Removals || now.Buckets <= m.Buckets {
			t.Errorf("mark after 2 removals and a creation = %+v, was %+v", now, m)
		}
		got, total = listOf(e, list, snapexport.Page{AsOf: &now})
		wantList(t, "ListExportBuckets(as of a new mark)", got, total, []*snapexport.ExportBucket{made[0], made[2], made[3], added}, 4, bucketID)
		// Creations alone since a mark (no removal) leave its list as it was.
		e.bucket(role)
		got, total = listOf(e, list, snapexport.Page{AsOf: &now})
		wantList(t, "ListExportBuckets(as of a mark, a creation since)", got, total, []*snapexport.ExportBucket{made[0], made[2], made[3], added}, 4, bucketID)
		got, total = listOf(e, list, snapexport.Page{Offset: 2, Limit: 5, AsOf: &now})
		wantList(t, "ListExportBuckets(as of a mark, a creation since, offset 2)", got, total, []*snapexport.ExportBucket{made[3], added}, 4, bucketID)
	}},
	{"MarkWhileRemovalInFlight", func(t *testing.T, e *env) {
		// A delete that has not committed when the mark is read is after
		// the mark: the page read with the mark lists the bucket, so the
		// list of the mark must go on listing it once the delete commits.
		p := e.project(e.org().ID)
		role := e.role(p.ID, snapexport.AWS)
		a, b := e.bucket(role), e.bucket(role)
		removing, marked := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		at := e.now()
		go func() {
			first := true
			done <- e.store.Write(e.ctx, func(tx snapexport.Tx) error {
				if err := tx.DeleteExportBucket(e.ctx, p.ID, a.ID, at); err != nil {
					return err
				}
				if first {
					first = false
					close(removing)
					<-marked
				}
				return nil
			})
		}()
		select {
		case <-removing:
		case err := <-done:
			t.Fatalf("Write: %v", err)
		}
		m := e.mark(p.ID)
		list := func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return tx.ListExportBuckets(e.ctx, p.ID, nil, page)
		}
		got, total := listOf(e, list, snapexport.Page{})
		close(marked)
		noErr(t, "Write(delete)", <-done)
		wantList(t, "ListExportBuckets(while the delete is in flight)", got, total, []*snapexport.ExportBucket{a, b}, 2, bucketID)
		got, total = listOf(e, list, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(as of a mark read while the delete was in flight)", got, total, []*snapexport.ExportBucket{a, b}, 2, bucketID)
		got, total = listOf(e, list, snapexport.Page{})
		wantList(t, "ListExportBuckets(after the delete)", got, total, []*snapexport.ExportBucket{b}, 1, bucketID)
	}},
	{"MarkOfEmptyProject", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		for _, projectID := range []string{p.ID, e.id()} {
			m := e.mark(projectID)
			if m.Buckets != 0 || m.Endpoints != 0 || m.Snapshots != 0 {
				t.Errorf("ListMark(project without items) = %+v, want no sequence numbers", m)
			}
		}
		// A bucket created and deleted after the mark is in no list of it.
		m := e.mark(p.ID)
		b := e.bucket(e.role(p.ID, snapexport.AWS))
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, b.ID, e.now()) })
		got, total := listOf(e, func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return tx.ListExportBuckets(e.ctx, p.ID, nil, page)
		}, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(as of a mark before the bucket)", got, total, nil, 0, bucketID)
	}},
	{"EndpointsAsOfMark", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		var made []*snapexport.PrivateEndpoint
		for _, region := range []string{"US_EAST_1", "EU_WEST_1", "AP_SOUTH_1"} {
			ep := e.newEndpoint(p.ID, region)
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreatePrivateEndpoint(e.ctx, ep) })
			made = append(made, ep)
		}
		m := e.mark(p.ID)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeletePrivateEndpoint(e.ctx, p.ID, made[0].ID, e.now()) })
		list := func(provider snapexport.CloudProvider) func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
			return func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
				return tx.ListPrivateEndpoints(e.ctx, p.ID, provider, page)
			}
		}
		got, total := listOf(e, list(snapexport.AWS), snapexport.Page{Offset: 1, Limit: 1, AsOf: &m})
		wantList(t, "ListPrivateEndpoints(as of the mark, offset 1)", got, total, made[1:2], 3, endpointID)
		got, total = listOf(e, list(snapexport.AWS), snapexport.Page{AsOf: &m})
		wantList(t, "ListPrivateEndpoints(as of the mark)", got, total, made, 3, endpointID)
		if len(got) == 3 {
			same(t, "ListPrivateEndpoints(as of the mark) removed item", got[0], made[0])
		}
		got, total = listOf(e, list(snapexport.GCP), snapexport.Page{AsOf: &m})
		wantList(t, "ListPrivateEndpoints(GCP, as of the mark)", got, total, nil, 0, endpointID)
		got, total = listOf(e, list(snapexport.AWS), snapexport.Page{})
		wantList(t, "ListPrivateEndpoints(now)", got, total, made[1:], 2, endpointID)
	}},
	{"SnapshotsAsOfMark", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		rs, sh := e.cluster(p.ID, "rs"), e.cluster(p.ID, "sh")
		var made []*snapexport.Snapshot
		for range 3 {
			made = append(made, e.snapshot(e.newSnapshot(rs, snapexport.SnapshotReplicaSet)))
		}
		// A shard's snapshot is listed until it joins a sharded-cluster
		// snapshot.
		shard := e.newSnapshot(sh, snapexport.SnapshotReplicaSet)
		e.snapshot(shard)
		m := e.mark(p.ID)

		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteSnapshot(e.ctx, p.ID, made[0].ID, e.now()) })
		later := e.snapshot(e.newSnapshot(rs, snapexport.SnapshotReplicaSet))
		sharded := e.snapshot(e.newSnapshot(sh, snapexport.SnapshotShardedCluster))
		joined := *shard
		joined.ParentID = sharded.ID
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &joined, e.now()) })
		// Another update of the member is no removal.
		joined.ExpiresAt = joined.ExpiresAt.Add(time.Hour)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateSnapshot(e.ctx, &joined, e.now()) })

		list := func(c *snapexport.Cluster, kind snapexport.SnapshotKind) func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
			return func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
				return tx.ListSnapshots(e.ctx, p.ID, c.ID, kind, page)
			}
		}
		got, total := listOf(e, list(rs, snapexport.SnapshotReplicaSet), snapexport.Page{AsOf: &m})
		wantList(t, "ListSnapshots(rs, as of the mark)", got, total, made, 3, snapshotID)
		got, total = listOf(e, list(rs, snapexport.SnapshotReplicaSet), snapexport.Page{Offset: 1, Limit: 5, AsOf: &m})
		wantList(t, "ListSnapshots(rs, as of the mark, offset 1)", got, total, made[1:], 3, snapshotID)
		got, total = listOf(e, list(rs, snapexport.SnapshotReplicaSet), snapexport.Page{})
		wantList(t, "ListSnapshots(rs, now)", got, total, []*snapexport.Snapshot{made[1], made[2], later}, 3, snapshotID)

		got, total = listOf(e, list(sh, snapexport.SnapshotReplicaSet), snapexport.Page{AsOf: &m})
		wantList(t, "ListSnapshots(sh shards, as of the mark)", got, total, []*snapexport.Snapshot{shard}, 1, snapshotID)
		if len(got) == 1 {
			same(t, "ListSnapshots(sh shards, as of the mark) item", got[0], shard)
		}
		got, total = listOf(e, list(sh, snapexport.SnapshotReplicaSet), snapexport.Page{})
		wantList(t, "ListSnapshots(sh shards, now)", got, total, nil, 0, snapshotID)
		got, total = listOf(e, list(sh, snapexport.SnapshotShardedCluster), snapexport.Page{AsOf: &m})
		wantList(t, "ListSnapshots(sh sharded, as of the mark)", got, total, nil, 0, snapshotID)
		got, total = listOf(e, list(sh, snapexport.SnapshotShardedCluster), snapexport.Page{})
		wantList(t, "ListSnapshots(sh sharded, now)", got, total, []*snapexport.Snapshot{sharded}, 1, snapshotID)
	}},
	{"PurgeRemoved", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		role := e.role(p.ID, snapexport.GCP)
		a, b, c := e.bucket(role), e.bucket(role), e.bucket(role)
		m := e.mark(p.ID)
		at := e.now()
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, a.ID, at) })
		e.mustWrite(func(tx snapexport.Tx) error {
			return tx.DeleteExportBucket(e.ctx, p.ID, b.ID, at.Add(snapexport.RemovedRetention-time.Second))
		})
		list := func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return tx.ListExportBuckets(e.ctx, p.ID, nil, page)
		}
		got, total := listOf(e, list, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark, within retention)", got, total, []*snapexport.ExportBucket{a, b, c}, 3, bucketID)
		e.mustWrite(func(tx snapexport.Tx) error {
			return tx.DeleteExportBucket(e.ctx, p.ID, c.ID, at.Add(snapexport.RemovedRetention+time.Second))
		})
		// A purge forgets what was removed before its time, not at it.
		purge := func(before time.Time, want int) {
			t.Helper()
			e.mustWrite(func(tx snapexport.Tx) error {
				n, err := tx.PurgeRemoved(e.ctx, before)
				if n != want {
					t.Errorf("PurgeRemoved(%v) = %d, want %d", before, n, want)
				}
				return err
			})
		}
		purge(at, 0)
		got, total = listOf(e, list, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark, nothing purged)", got, total, []*snapexport.ExportBucket{a, b, c}, 3, bucketID)
		purge(at.Add(time.Microsecond), 1)
		got, total = listOf(e, list, snapexport.Page{AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark, first removal purged)", got, total, []*snapexport.ExportBucket{b, c}, 2, bucketID)
	}},
	{"PagesBySeekAndUncounted", func(t *testing.T, e *env) {
		// Every way of reading a page gives the page of the list: by
		// offset, from the position where the page before it ended, and
		// without the total, over lists of a mark and lists as they are,
		// while buckets are created and deleted.
		p := e.project(e.org().ID)
		role := e.role(p.ID, snapexport.AWS)
		var live []*snapexport.ExportBucket
		deleteSome := func(n int) {
			for range n {
				i := e.rng.IntN(len(live))
				e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, live[i].ID, e.now()) })
				live = slices.Delete(live, i, i+1)
			}
		}
		for range 23 {
			live = append(live, e.bucket(role))
		}
		deleteSome(5)
		m := e.mark(p.ID)
		ofMark := slices.Clone(live)
		deleteSome(6)
		for range 4 {
			live = append(live, e.bucket(role))
		}
		list := func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return tx.ListExportBuckets(e.ctx, p.ID, nil, page)
		}
		for _, c := range []struct {
			name string
			asOf *snapexport.ListMark
			want []*snapexport.ExportBucket
		}{{"as of the mark", &m, ofMark}, {"now", nil, live}} {
			for _, limit := range []int{1, 4, 7, len(c.want), len(c.want) + 3} {
				after := int64(0)
				for offset := 0; offset <= len(c.want)+limit; offset += limit {
					want := c.want[min(offset, len(c.want)):min(offset+limit, len(c.want))]
					what := fmt.Sprintf("ListExportBuckets(%s, offset %d, limit %d", c.name, offset, limit)
					got, total := listOf(e, list, snapexport.Page{Offset: offset, Limit: limit, AsOf: c.asOf})
					wantList(t, what+")", got, total, want, len(c.want), bucketID)

					seek := &snapexport.Seek{}
					got, total = listOf(e, list, snapexport.Page{Offset: offset, Limit: limit, AsOf: c.asOf, Seek: seek, SkipTotal: true})
					uncounted := offset + len(want)
					if offset+limit < len(c.want) {
						uncounted++
					}
					wantList(t, what+", found by offset, uncounted)", got, total, want, uncounted, bucketID)
					if c.asOf != nil && offset > 0 {
						byPosition := &snapexport.Seek{After: after}
						got, total = listOf(e, list, snapexport.Page{Offset: offset, Limit: limit, AsOf: c.asOf, Seek: byPosition})
						wantList(t, what+", after the last page's end)", got, total, want, len(c.want), bucketID)
						if byPosition.Last != seek.Last {
							t.Errorf("%s): Seek.Last %d after the last page's end, %d found by offset", what, byPosition.Last, seek.Last)
						}
					}
					if c.asOf != nil && len(want) > 0 {
						again := &snapexport.Seek{After: seek.First - 1}
						got, total = listOf(e, list, snapexport.Page{Offset: offset, Limit: limit, AsOf: c.asOf, Seek: again})
						wantList(t, what+", after Seek.First-1)", got, total, want, len(c.want), bucketID)
						if again.First != seek.First || again.Last != seek.Last {
							t.Errorf("%s): read again after Seek.First-1, Seek %+v; found by offset %+v", what, *again, *seek)
						}
					}
					if (seek.Last == 0) != (len(want) == 0) || (seek.First == 0) != (len(want) == 0) || seek.First > seek.Last {
						t.Errorf("%s): Seek.First %d, Last %d for a page of %d", what, seek.First, seek.Last, len(want))
					}
					after = seek.Last
				}
			}
		}
		// The sweep keeps totals as they are, whatever it does with the
		// store's records of them.
		e.mustWrite(func(tx snapexport.Tx) error {
			_, err := tx.PurgeRemoved(e.ctx, time.Time{})
			return err
		})
		got, total := listOf(e, list, snapexport.Page{Limit: 2})
		wantList(t, "ListExportBuckets(now, after a sweep)", got, total, live[:2], len(live), bucketID)
		got, total = listOf(e, list, snapexport.Page{Offset: 2, Limit: 2, AsOf: &m})
		wantList(t, "ListExportBuckets(as of the mark, after a sweep)", got, total, ofMark[2:4], len(ofMark), bucketID)
		e.bucket(role)
		got, total = listOf(e, list, snapexport.Page{Limit: 2})
		wantList(t, "ListExportBuckets(now, created after a sweep)", got, total, live[:2], len(live)+1, bucketID)
	}},
	{"SaveAndFind", func(t *testing.T, e *env) {
		now := e.now()
		l := &snapexport.Listing{Key: e.id(), Mark: snapexport.ListMark{Removals: "3:9:", Buckets: 1 << 40, Endpoints: 7, Snapshots: 9},
			ExpiresAt: now.Add(snapexport.ListingLifetime)}
		listings := e.store.Listings()
		save := func(l *snapexport.Listing, now time.Time) {
			t.Helper()
			noErr(t, "SaveListing", listings.SaveListing(e.ctx, l, now))
		}
		save(l, now)
		find := func(key string, at time.Time) (*snapexport.Listing, error) {
			return listings.Listing(e.ctx, key, at)
		}
		got, err := find(l.Key, now.Add(snapexport.ListingLifetime-time.Microsecond))
		noErr(t, "Listing(before expiry)", err)
		same(t, "Listing", got, l)
		_, err = find(l.Key, l.ExpiresAt)
		wantErr(t, "Listing(at expiry)", err, snapexport.ErrNotFound)
		_, err = find(e.id(), now)
		wantErr(t, "Listing(unknown key)", err, snapexport.ErrNotFound)

		// Saving again under the key replaces the listing.
		again := &snapexport.Listing{Key: l.Key, Mark: snapexport.ListMark{Removals: "4", Buckets: 2, Endpoints: 8, Snapshots: 10},
			ExpiresAt: now.Add(2 * snapexport.ListingLifetime)}
		save(again, now)
		got, err = find(l.Key, now)
		noErr(t, "Listing(replaced)", err)
		same(t, "Listing(replaced)", got, again)

		// Saving forgets the listings expired by then, whatever time a
		// later lookup gives.
		other := &snapexport.Listing{Key: e.id(), ExpiresAt: now.Add(time.Minute)}
		save(other, now)
		save(&snapexport.Listing{Key: e.id(), ExpiresAt: now.Add(time.Hour)}, now.Add(2*time.Minute))
		_, err = find(other.Key, now)
		wantErr(t, "Listing(expired before a later save)", err, snapexport.ErrNotFound)
		_, err = find(l.Key, now)
		noErr(t, "Listing(unexpired at a later save)", err)

		// A listing saved again after its own expiry is replaced, not
		// swept.
		later := now.Add(3 * snapexport.ListingLifetime)
		renewed := &snapexport.Listing{Key: l.Key, Mark: snapexport.ListMark{Removals: "5"}, ExpiresAt: later.Add(snapexport.ListingLifetime)}
		save(renewed, later)
		got, err = find(l.Key, later)
		noErr(t, "Listing(saved again after its expiry)", err)
		same(t, "Listing(saved again after its expiry)", got, renewed)
	}},
}
