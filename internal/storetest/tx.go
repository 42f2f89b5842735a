package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

var errRollback = errors.New("storetest: roll back")

// hangTimeout bounds waits for operations that a broken store could block
// forever (a leaked transaction holding the only writer).
const hangTimeout = 20 * time.Second

// within runs fn and fails the test if it does not return in time.
func within(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangTimeout):
		t.Fatalf("%s did not return within %v", what, hangTimeout)
		return nil
	}
}

// everything is one resource of each kind, as writeEverything writes them.
type everything struct {
	o  *snapexport.Organization
	p  *snapexport.Project
	k  *snapexport.APIKey
	sa *snapexport.ServiceAccount
	at *snapexport.AccessToken
	r  *snapexport.CloudProviderAccessRole
	b  *snapexport.ExportBucket
}

// writeEverything creates one resource of each kind in tx, and returns
// them all even when a creation fails.
func writeEverything(e *env, tx snapexport.Tx) (*everything, error) {
	w := &everything{o: &snapexport.Organization{ID: e.id(), Name: "org", CreatedAt: e.now()}}
	w.p = &snapexport.Project{ID: e.id(), OrgID: w.o.ID, Name: "project", CreatedAt: e.now()}
	w.k = e.newAPIKey(w.o.ID)
	w.sa = e.newServiceAccount(w.o.ID)
	w.at = e.newToken(w.sa.ID)
	w.r = e.newRole(w.p.ID, snapexport.AWS)
	w.b = e.newBucket(w.r)
	for _, step := range []func() error{
		func() error { return tx.CreateOrganization(e.ctx, w.o) },
		func() error { return tx.CreateProject(e.ctx, w.p) },
		func() error { return tx.CreateAPIKey(e.ctx, w.k) },
		func() error { return tx.CreateServiceAccount(e.ctx, w.sa) },
		func() error { return tx.CreateAccessToken(e.ctx, w.at) },
		func() error {
			return tx.AssignRole(e.ctx, snapexport.RoleAssignment{PrincipalID: w.k.ID, OrgID: w.o.ID, Role: snapexport.RoleOrgOwner})
		},
		func() error { return tx.CreateCloudProviderAccessRole(e.ctx, w.r) },
		func() error { return tx.CreateExportBucket(e.ctx, w.b) },
	} {
		if err := step(); err != nil {
			return w, err
		}
	}
	return w, nil
}

// wantGone fails the test if tx holds the organization, project, API key,
// service account or access token of w, which why says were never
// committed.
func (w *everything) wantGone(t *testing.T, e *env, tx snapexport.Tx, why string) {
	t.Helper()
	e.wantGone(t, tx, "Organization("+why+")", w.o)
	e.wantGone(t, tx, "Project("+why+")", w.p)
	e.wantGone(t, tx, "APIKeyByPublicKey("+why+")", w.k)
	missing(t, "ServiceAccountByClientID("+why+")")(tx.ServiceAccountByClientID(e.ctx, w.sa.ClientID))
	e.wantGone(t, tx, "AccessToken("+why+")", w.at)
}

// rollsBack is a test of a Write whose fn writes everything, then ends
// with the error of end, which Write must return (matching want) having
// committed nothing, and leave the store writable.
func rollsBack(what string, want error, end func(e *env, tx snapexport.Tx, w *everything) error) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		var w *everything
		err := e.write(func(tx snapexport.Tx) error {
			var err error
			w, err = writeEverything(e, tx)
			noErr(t, "writing in the transaction", err)
			return end(e, tx, w)
		})
		wantErr(t, what, err, want)
		e.mustRead(func(tx snapexport.Tx) error {
			orgs, err := tx.ListOrganizations(e.ctx)
			noErr(t, "ListOrganizations", err)
			if len(orgs) != 0 {
				t.Errorf("ListOrganizations after rollback = %d organizations, want none", len(orgs))
			}
			w.wantGone(t, e, tx, "rolled back")
			e.wantRoleCount(t, tx, "after rollback", w.k.ID, 0)
			return nil
		})
		// The store is still writable.
		e.org()
	}
}

var transactionTests = []test{
	{"RollbackOnError", rollsBack("Write(fn failed)", errRollback, func(*env, snapexport.Tx, *everything) error {
		return fmt.Errorf("wrapped: %w", errRollback)
	})},
	// The shape of service code: several writes, then one fails (here on
	// a duplicate id) and fn returns its error.
	{"RollbackAfterFailedCall", rollsBack("Write(duplicate organization)", snapexport.ErrConflict, func(e *env, tx snapexport.Tx, w *everything) error {
		return tx.CreateOrganization(e.ctx, &snapexport.Organization{ID: w.o.ID, Name: "again", CreatedAt: e.now()})
	})},
	{"RollbackOfUpdatesAndDeletes", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		k := e.apiKey(o.ID)
		sa := e.serviceAccount(o.ID)
		tok := e.token(sa.ID)
		ra := snapexport.RoleAssignment{PrincipalID: k.ID, OrgID: o.ID, ProjectID: p.ID, Role: snapexport.RoleGroupOwner}
		e.assign(ra)
		r := e.role(p.ID, snapexport.AWS)
		b := e.bucket(r)
		err := e.write(func(tx snapexport.Tx) error {
			u := *r
			u.AuthorizedAt = ptr(e.now())
			ub := *b
			ub.RequirePrivateNetworking = !b.RequirePrivateNetworking
			for _, step := range []struct {
				what string
				err  error
			}{
				{"UpdateCloudProviderAccessRole", tx.UpdateCloudProviderAccessRole(e.ctx, &u)},
				{"UpdateExportBucket", tx.UpdateExportBucket(e.ctx, &ub)},
				{"RevokeAccessToken", tx.RevokeAccessToken(e.ctx, tok.Hash, e.now())},
				{"UnassignRole", tx.UnassignRole(e.ctx, ra)},
				{"DeleteExportBucket", tx.DeleteExportBucket(e.ctx, p.ID, b.ID, e.now())},
				{"DeleteCloudProviderAccessRole", tx.DeleteCloudProviderAccessRole(e.ctx, p.ID, r.ID)},
				{"DeleteServiceAccount", tx.DeleteServiceAccount(e.ctx, sa.ID)},
				{"DeleteAPIKey", tx.DeleteAPIKey(e.ctx, k.ID)},
			} {
				noErr(t, step.what, step.err)
			}
			return errRollback
		})
		wantErr(t, "Write(fn failed)", err, errRollback)
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "CloudProviderAccessRole after rollback", r)
			e.wantItem(t, tx, "ExportBucket after rollback", b)
			e.wantItem(t, tx, "AccessToken after rollback", tok)
			e.wantItem(t, tx, "APIKey after rollback", k)
			e.wantItem(t, tx, "ServiceAccount after rollback", sa)
			return nil
		})
		wantRoles(t, e, k.ID, []snapexport.RoleAssignment{ra})
	}},
	{"RollbackOnPanic", func(t *testing.T, e *env) {
		type boom struct{}
		var w *everything
		var recovered any
		within(t, "Write(fn panics)", func() error {
			defer func() { recovered = recover() }()
			return e.write(func(tx snapexport.Tx) error {
				var err error
				w, err = writeEverything(e, tx)
				if err != nil {
					t.Errorf("writing in the transaction: %v", err)
				}
				panic(boom{})
			})
		})
		if _, ok := recovered.(boom); !ok {
			t.Errorf("Write(fn panics): recovered %v, want the panic of fn to propagate", recovered)
		}
		// A leaked transaction would keep later writes (and Close) waiting.
		err := within(t, "Write after a panicking Write", func() error {
			return e.write(func(tx snapexport.Tx) error {
				return tx.CreateOrganization(e.ctx, &snapexport.Organization{ID: e.id(), Name: "after", CreatedAt: e.now()})
			})
		})
		noErr(t, "Write after a panicking Write", err)
		e.mustRead(func(tx snapexport.Tx) error {
			w.wantGone(t, e, tx, "written by the panicking Write")
			return nil
		})
	}},
	{"ReadErrorPassesThrough", func(t *testing.T, e *env) {
		err := e.read(func(tx snapexport.Tx) error { return fmt.Errorf("wrapped: %w", errRollback) })
		wantErr(t, "Read(fn failed)", err, errRollback)
		e.mustRead(func(tx snapexport.Tx) error { _, err := tx.ListOrganizations(e.ctx); return err })
	}},
	{"WriteSeesOwnWrites", func(t *testing.T, e *env) {
		e.mustWrite(func(tx snapexport.Tx) error {
			w, err := writeEverything(e, tx)
			noErr(t, "writing in the transaction", err)
			e.wantItem(t, tx, "Organization in its transaction", w.o)
			gotP, _, err := tx.ListProjects(e.ctx, []string{w.o.ID}, nil, snapexport.Page{})
			noErr(t, "ListProjects", err)
			sameOrder(t, "ListProjects in the transaction", gotP, []*snapexport.Project{w.p}, projectID)
			e.wantItem(t, tx, "APIKey in its transaction", w.k)
			e.wantItem(t, tx, "ServiceAccount in its transaction", w.sa)
			e.wantItem(t, tx, "AccessToken in its transaction", w.at)
			e.wantItem(t, tx, "CloudProviderAccessRole in its transaction", w.r)
			listed(t, "ExportBucketsByRole in the transaction", []*snapexport.ExportBucket{w.b}, bucketID)(tx.ExportBucketsByRole(e.ctx, w.p.ID, w.r.ID))
			return nil
		})
	}},
	{"ReadSeesCommittedWrites", func(t *testing.T, e *env) {
		var w *everything
		e.mustWrite(func(tx snapexport.Tx) error {
			var err error
			w, err = writeEverything(e, tx)
			return err
		})
		e.wantStored(t, "ExportBucket committed by an earlier Write", w.b)
		p := w.p
		// Across many reads, which an implementation may spread over a pool
		// of connections.
		for i := range 20 {
			r := e.role(p.ID, snapexport.GCP)
			e.mustRead(func(tx snapexport.Tx) error {
				got, err := tx.ListCloudProviderAccessRoles(e.ctx, p.ID)
				noErr(t, "ListCloudProviderAccessRoles", err)
				if len(got) != i+2 || got[len(got)-1].ID != r.ID {
					t.Fatalf("Read after Write %d: %d roles, last %s; want %d, last %s", i, len(got), got[len(got)-1].ID, i+2, r.ID)
				}
				return nil
			})
		}
	}},
	{"ReadSnapshot", func(t *testing.T, e *env) {
		o := e.org()
		count := func(tx snapexport.Tx) int {
			_, total, err := tx.ListProjects(e.ctx, []string{o.ID}, nil, snapexport.Page{})
			noErr(t, "ListProjects", err)
			return total
		}
		e.project(o.ID)
		concurrent := &snapexport.Project{ID: e.id(), OrgID: o.ID, Name: "concurrent", CreatedAt: e.now()}
		written := make(chan error, 1)
		e.mustRead(func(tx snapexport.Tx) error {
			before := count(tx)
			go func() {
				written <- e.write(func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, concurrent) })
			}()
			select {
			case err := <-written:
				noErr(t, "concurrent Write", err)
				written <- nil
				if after := count(tx); after != before {
					t.Errorf("Read saw %d projects, then %d after a concurrent Write committed; want one snapshot", before, after)
				}
			case <-time.After(2 * time.Second):
				t.Log("Write waits for the open Read; snapshot isolation not observable")
			}
			return nil
		})
		if err := within(t, "concurrent Write", func() error { return <-written }); err != nil {
			t.Fatalf("concurrent Write: %v", err)
		}
		e.mustRead(func(tx snapexport.Tx) error {
			if n := count(tx); n != 2 {
				t.Errorf("Read after the concurrent Write: %d projects, want 2", n)
			}
			return nil
		})
	}},
	{"ConcurrentWrites", func(t *testing.T, e *env) {
		const writers, writesEach, readers = 16, 8, 4
		o := e.org()
		p := e.project(o.ID)
		r := e.role(p.ID, snapexport.AWS)
		k := e.apiKey(o.ID)
		// ids and times are made up front: env's generators are not safe
		// for concurrent use.
		type job struct {
			project *snapexport.Project
			bucket  *snapexport.ExportBucket
			nonce   string
		}
		jobs := make([][]job, writers)
		for w := range jobs {
			for range writesEach {
				jobs[w] = append(jobs[w], job{
					project: &snapexport.Project{ID: e.id(), OrgID: o.ID, Name: "p-" + e.id(), CreatedAt: e.now()},
					bucket:  e.newBucket(r),
					nonce:   "n-" + e.id(),
				})
			}
		}
		now := e.now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		stop := make(chan struct{})
		start := make(chan struct{})
		for range readers {
			wg.Go(func() {
				<-start
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := e.read(func(tx snapexport.Tx) error {
						_, _, err := tx.ListExportBuckets(e.ctx, p.ID, nil, snapexport.Page{Limit: 10})
						return err
					})
					if err != nil {
						fail(fmt.Errorf("concurrent Read: %w", err))
						return
					}
				}
			})
		}
		var writersWG sync.WaitGroup
		for w := range writers {
			writersWG.Go(func() {
				<-start
				for _, j := range jobs[w] {
					// Read-then-write, the shape of the service's writes.
					err := e.write(func(tx snapexport.Tx) error {
						if _, err := tx.ProjectByName(e.ctx, o.ID, j.project.Name); !errors.Is(err, snapexport.ErrNotFound) {
							return fmt.Errorf("ProjectByName: %v", err)
						}
						if err := tx.CreateProject(e.ctx, j.project); err != nil {
							return err
						}
						if err := tx.CreateExportBucket(e.ctx, j.bucket); err != nil {
							return err
						}
						// Everybody assigns the same role: idempotent under contention.
						return tx.AssignRole(e.ctx, snapexport.RoleAssignment{PrincipalID: k.ID, OrgID: o.ID, Role: snapexport.RoleOrgOwner})
					})
					if err != nil {
						fail(fmt.Errorf("concurrent Write: %w", err))
					}
					nonces := e.store.Nonces()
					if err := nonces.UseNonce(e.ctx, j.nonce, now.Add(time.Minute), now); err != nil {
						fail(fmt.Errorf("concurrent UseNonce: %w", err))
					} else if err := nonces.UseNonce(e.ctx, j.nonce, now.Add(time.Minute), now); !errors.Is(err, snapexport.ErrConflict) {
						fail(fmt.Errorf("concurrent UseNonce of a used nonce = %v; want ErrConflict", err))
					}
				}
			})
		}
		close(start)
		within(t, "concurrent writers", func() error { writersWG.Wait(); return nil })
		close(stop)
		wg.Wait()
		for i, err := range errs {
			if i == 10 {
				t.Errorf("... and %d more errors", len(errs)-10)
				break
			}
			t.Error(err)
		}
		e.mustRead(func(tx snapexport.Tx) error {
			_, total, err := tx.ListProjects(e.ctx, []string{o.ID}, nil, snapexport.Page{})
			noErr(t, "ListProjects", err)
			if want := 1 + writers*writesEach; total != want {
				t.Errorf("after concurrent writes: %d projects, want %d", total, want)
			}
			buckets, err := tx.ExportBucketsByRole(e.ctx, p.ID, r.ID)
			noErr(t, "ExportBucketsByRole", err)
			if want := writers * writesEach; len(buckets) != want {
				t.Errorf("after concurrent writes: %d buckets, want %d", len(buckets), want)
			}
			return nil
		})
		wantRoles(t, e, k.ID, []snapexport.RoleAssignment{{PrincipalID: k.ID, OrgID: o.ID, Role: snapexport.RoleOrgOwner}})
	}},
}
