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

// wantEmpty fails the test if the store holds anything the rolled-back
// transactions of transactionTests wrote.
func wantEmpty(t *testing.T, e *env, orgID, projectID, publicKey, clientID, tokenHash, principalID string) {
	t.Helper()
	e.mustRead(func(tx snapexport.Tx) error {
		orgs, err := tx.ListOrganizations(e.ctx)
		noErr(t, "ListOrganizations", err)
		if len(orgs) != 0 {
			t.Errorf("ListOrganizations after rollback = %d organizations, want none", len(orgs))
		}
		_, err = tx.Organization(e.ctx, orgID)
		wantErr(t, "Organization(rolled back)", err, snapexport.ErrNotFound)
		_, err = tx.Project(e.ctx, projectID)
		wantErr(t, "Project(rolled back)", err, snapexport.ErrNotFound)
		_, err = tx.APIKeyByPublicKey(e.ctx, publicKey)
		wantErr(t, "APIKeyByPublicKey(rolled back)", err, snapexport.ErrNotFound)
		_, err = tx.ServiceAccountByClientID(e.ctx, clientID)
		wantErr(t, "ServiceAccountByClientID(rolled back)", err, snapexport.ErrNotFound)
		_, err = tx.AccessToken(e.ctx, tokenHash)
		wantErr(t, "AccessToken(rolled back)", err, snapexport.ErrNotFound)
		roles, err := tx.ListRoles(e.ctx, principalID)
		noErr(t, "ListRoles", err)
		if len(roles) != 0 {
			t.Errorf("ListRoles after rollback = %v, want none", roles)
		}
		return nil
	})
}

// writeEverything creates one resource of each kind in tx.
func writeEverything(e *env, tx snapexport.Tx) (o *snapexport.Organization, p *snapexport.Project, k *snapexport.APIKey,
	sa *snapexport.ServiceAccount, at *snapexport.AccessToken, r *snapexport.CloudProviderAccessRole, b *snapexport.ExportBucket, err error) {
	o = &snapexport.Organization{ID: e.id(), Name: "org", CreatedAt: e.now()}
	p = &snapexport.Project{ID: e.id(), OrgID: o.ID, Name: "project", CreatedAt: e.now()}
	k = e.newAPIKey(o.ID)
	sa = e.newServiceAccount(o.ID)
	at = e.newToken(sa.ID)
	r = e.newRole(p.ID, snapexport.AWS)
	b = e.newBucket(r)
	for _, step := range []func() error{
		func() error { return tx.CreateOrganization(e.ctx, o) },
		func() error { return tx.CreateProject(e.ctx, p) },
		func() error { return tx.CreateAPIKey(e.ctx, k) },
		func() error { return tx.CreateServiceAccount(e.ctx, sa) },
		func() error { return tx.CreateAccessToken(e.ctx, at) },
		func() error {
			return tx.AssignRole(e.ctx, snapexport.RoleAssignment{PrincipalID: k.ID, OrgID: o.ID, Role: snapexport.RoleOrgOwner})
		},
		func() error { return tx.CreateCloudProviderAccessRole(e.ctx, r) },
		func() error { return tx.CreateExportBucket(e.ctx, b) },
	} {
		if err = step(); err != nil {
			return
		}
	}
	return
}

var transactionTests = []test{
	{"RollbackOnError", func(t *testing.T, e *env) {
		var o *snapexport.Organization
		var p *snapexport.Project
		var k *snapexport.APIKey
		var sa *snapexport.ServiceAccount
		var at *snapexport.AccessToken
		err := e.write(func(tx snapexport.Tx) error {
			var err error
			o, p, k, sa, at, _, _, err = writeEverything(e, tx)
			noErr(t, "writing in the transaction", err)
			return fmt.Errorf("wrapped: %w", errRollback)
		})
		wantErr(t, "Write(fn failed)", err, errRollback)
		wantEmpty(t, e, o.ID, p.ID, k.PublicKey, sa.ClientID, at.Hash, k.ID)
	}},
	{"RollbackAfterFailedCall", func(t *testing.T, e *env) {
		// The shape of service code: several writes, then one fails
		// (here on a duplicate id) and fn returns its error.
		var o *snapexport.Organization
		var p *snapexport.Project
		var k *snapexport.APIKey
		var sa *snapexport.ServiceAccount
		var at *snapexport.AccessToken
		err := e.write(func(tx snapexport.Tx) error {
			var err error
			o, p, k, sa, at, _, _, err = writeEverything(e, tx)
			noErr(t, "writing in the transaction", err)
			return tx.CreateOrganization(e.ctx, &snapexport.Organization{ID: o.ID, Name: "again", CreatedAt: e.now()})
		})
		wantErr(t, "Write(duplicate organization)", err, snapexport.ErrConflict)
		wantEmpty(t, e, o.ID, p.ID, k.PublicKey, sa.ClientID, at.Hash, k.ID)
		// The store is still writable.
		e.org()
	}},
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
			gotR, err := tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID)
			noErr(t, "CloudProviderAccessRole", err)
			same(t, "CloudProviderAccessRole after rollback", gotR, r)
			gotB, err := tx.ExportBucket(e.ctx, p.ID, b.ID)
			noErr(t, "ExportBucket", err)
			same(t, "ExportBucket after rollback", gotB, b)
			gotT, err := tx.AccessToken(e.ctx, tok.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken after rollback", gotT, tok)
			gotK, err := tx.APIKeyByPublicKey(e.ctx, k.PublicKey)
			noErr(t, "APIKeyByPublicKey", err)
			same(t, "APIKey after rollback", gotK, k)
			gotS, err := tx.ServiceAccount(e.ctx, sa.ID)
			noErr(t, "ServiceAccount", err)
			same(t, "ServiceAccount after rollback", gotS, sa)
			return nil
		})
		wantRoles(t, e, k.ID, []snapexport.RoleAssignment{ra})
	}},
	{"RollbackOnPanic", func(t *testing.T, e *env) {
		type boom struct{}
		var o *snapexport.Organization
		var p *snapexport.Project
		var k *snapexport.APIKey
		var sa *snapexport.ServiceAccount
		var at *snapexport.AccessToken
		var recovered any
		within(t, "Write(fn panics)", func() error {
			defer func() { recovered = recover() }()
			return e.write(func(tx snapexport.Tx) error {
				var err error
				o, p, k, sa, at, _, _, err = writeEverything(e, tx)
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
			_, err := tx.Organization(e.ctx, o.ID)
			wantErr(t, "Organization(written by the panicking Write)", err, snapexport.ErrNotFound)
			_, err = tx.Project(e.ctx, p.ID)
			wantErr(t, "Project(written by the panicking Write)", err, snapexport.ErrNotFound)
			_, err = tx.APIKeyByPublicKey(e.ctx, k.PublicKey)
			wantErr(t, "APIKeyByPublicKey(written by the panicking Write)", err, snapexport.ErrNotFound)
			_, err = tx.ServiceAccountByClientID(e.ctx, sa.ClientID)
			wantErr(t, "ServiceAccountByClientID(written by the panicking Write)", err, snapexport.ErrNotFound)
			_, err = tx.AccessToken(e.ctx, at.Hash)
			wantErr(t, "AccessToken(written by the panicking Write)", err, snapexport.ErrNotFound)
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
			o, p, k, sa, at, r, b, err := writeEverything(e, tx)
			noErr(t, "writing in the transaction", err)
			gotO, err := tx.Organization(e.ctx, o.ID)
			noErr(t, "Organization", err)
			same(t, "Organization in its transaction", gotO, o)
			gotP, _, err := tx.ListProjects(e.ctx, []string{o.ID}, nil, snapexport.Page{})
			noErr(t, "ListProjects", err)
			sameOrder(t, "ListProjects in the transaction", gotP, []*snapexport.Project{p}, projectID)
			gotK, err := tx.APIKeyByPublicKey(e.ctx, k.PublicKey)
			noErr(t, "APIKeyByPublicKey", err)
			same(t, "APIKey in its transaction", gotK, k)
			gotS, err := tx.ServiceAccount(e.ctx, sa.ID)
			noErr(t, "ServiceAccount", err)
			same(t, "ServiceAccount in its transaction", gotS, sa)
			gotT, err := tx.AccessToken(e.ctx, at.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken in its transaction", gotT, at)
			gotR, err := tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID)
			noErr(t, "CloudProviderAccessRole", err)
			same(t, "CloudProviderAccessRole in its transaction", gotR, r)
			gotB, err := tx.ExportBucketsByRole(e.ctx, p.ID, r.ID)
			noErr(t, "ExportBucketsByRole", err)
			sameOrder(t, "ExportBucketsByRole in the transaction", gotB, []*snapexport.ExportBucket{b}, bucketID)
			return nil
		})
	}},
	{"ReadSeesCommittedWrites", func(t *testing.T, e *env) {
		var p *snapexport.Project
		var b *snapexport.ExportBucket
		e.mustWrite(func(tx snapexport.Tx) error {
			var err error
			_, p, _, _, _, _, b, err = writeEverything(e, tx)
			return err
		})
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ExportBucket(e.ctx, p.ID, b.ID)
			noErr(t, "ExportBucket", err)
			same(t, "ExportBucket committed by an earlier Write", got, b)
			return nil
		})
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
					if err := nonces.IssueNonce(e.ctx, j.nonce, now.Add(time.Minute)); err != nil {
						fail(fmt.Errorf("concurrent IssueNonce: %w", err))
					} else if state, err := nonces.ConsumeNonce(e.ctx, j.nonce, now); err != nil || state != snapexport.NonceValid {
						fail(fmt.Errorf("concurrent ConsumeNonce = %v, %v; want NonceValid", stateName(state), err))
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
