package storetest

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// creationOrderTests create items that share one CreatedAt, as items created
// within one clock tick do, with ids in no particular order: lists must still
// follow creation order.
var creationOrderTests = []test{
	{"Organizations", func(t *testing.T, e *env) {
		at := e.now()
		var want []*snapexport.Organization
		for range 6 {
			o := &snapexport.Organization{ID: e.id(), Name: "org", CreatedAt: at}
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateOrganization(e.ctx, o) })
			want = append(want, o)
		}
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "ListOrganizations(same CreatedAt)", want, orgID)(tx.ListOrganizations(e.ctx))
			return nil
		})
	}},
	{"ProjectsAndPrincipals", func(t *testing.T, e *env) {
		o := e.org()
		at := e.now()
		var projects []*snapexport.Project
		var keys []*snapexport.APIKey
		var sas []*snapexport.ServiceAccount
		// Everything in one transaction, the way service.Init creates it.
		e.mustWrite(func(tx snapexport.Tx) error {
			for range 6 {
				p := &snapexport.Project{ID: e.id(), OrgID: o.ID, Name: "p-" + e.id(), CreatedAt: at}
				k := e.newAPIKey(o.ID)
				k.CreatedAt = at
				sa := e.newServiceAccount(o.ID)
				sa.CreatedAt = at
				noErr(t, "CreateProject", tx.CreateProject(e.ctx, p))
				noErr(t, "CreateAPIKey", tx.CreateAPIKey(e.ctx, k))
				noErr(t, "CreateServiceAccount", tx.CreateServiceAccount(e.ctx, sa))
				projects, keys, sas = append(projects, p), append(keys, k), append(sas, sa)
			}
			return nil
		})
		e.mustRead(func(tx snapexport.Tx) error {
			gotP, _, err := tx.ListProjects(e.ctx, []string{o.ID}, nil, snapexport.Page{})
			noErr(t, "ListProjects", err)
			sameOrder(t, "ListProjects(same CreatedAt)", gotP, projects, projectID)
			listed(t, "ListAPIKeys(same CreatedAt)", keys, apiKeyID)(tx.ListAPIKeys(e.ctx, o.ID))
			listed(t, "ListServiceAccounts(same CreatedAt)", sas, serviceAccountID)(tx.ListServiceAccounts(e.ctx, o.ID))
			return nil
		})
	}},
	{"RolesAndBuckets", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		at := e.now()
		var roles []*snapexport.CloudProviderAccessRole
		var buckets []*snapexport.ExportBucket
		for i := range 6 {
			r := e.newRole(p.ID, snapexport.CloudProviders[i%3])
			r.CreatedAt = at
			b := e.newBucket(r)
			b.CreatedAt = at
			e.mustWrite(func(tx snapexport.Tx) error {
				if err := tx.CreateCloudProviderAccessRole(e.ctx, r); err != nil {
					return err
				}
				return tx.CreateExportBucket(e.ctx, b)
			})
			roles, buckets = append(roles, r), append(buckets, b)
		}
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "ListCloudProviderAccessRoles(same CreatedAt)", roles, roleID)(tx.ListCloudProviderAccessRoles(e.ctx, p.ID))
			gotB, _, err := tx.ListExportBuckets(e.ctx, p.ID, nil, snapexport.Page{})
			noErr(t, "ListExportBuckets", err)
			sameOrder(t, "ListExportBuckets(same CreatedAt)", gotB, buckets, bucketID)
			return nil
		})
	}},
}

// appendOrderTests check that a list is a log of creations: a transaction
// that creates an item must not become visible before one that created an
// item earlier in the list's order. Otherwise a client paging through the
// list by offset (pageNum, itemsPerPage) while others create could see an
// item at the end of a page, then find it again on the next page after an
// earlier-ordered item committed late. Each list taken while writers create
// concurrently, in transactions that stay open for a random while after
// their insert, must be a prefix of the final list.
var appendOrderTests = []test{
	{"Projects", func(t *testing.T, e *env) {
		o := e.org()
		testAppendOrder(t, e, func() (func(tx snapexport.Tx) error, string) {
			id := e.id()
			p := &snapexport.Project{ID: id, OrgID: o.ID, Name: "project-" + id, CreatedAt: e.now()}
			return func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, p) }, p.ID
		}, func(tx snapexport.Tx) ([]string, error) {
			got, _, err := tx.ListProjects(e.ctx, []string{o.ID}, nil, snapexport.Page{})
			return ids(got, projectID), err
		})
	}},
	{"ExportBuckets", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		r := e.role(p.ID, snapexport.AWS)
		testAppendOrder(t, e, func() (func(tx snapexport.Tx) error, string) {
			b := e.newBucket(r)
			return func(tx snapexport.Tx) error { return tx.CreateExportBucket(e.ctx, b) }, b.ID
		}, func(tx snapexport.Tx) ([]string, error) {
			got, _, err := tx.ListExportBuckets(e.ctx, p.ID, nil, snapexport.Page{})
			return ids(got, bucketID), err
		})
	}},
	{"PrivateEndpoints", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		testAppendOrder(t, e, func() (func(tx snapexport.Tx) error, string) {
			ep := e.newEndpoint(p.ID, "US_EAST_1")
			return func(tx snapexport.Tx) error { return tx.CreatePrivateEndpoint(e.ctx, ep) }, ep.ID
		}, func(tx snapexport.Tx) ([]string, error) {
			got, _, err := tx.ListPrivateEndpoints(e.ctx, p.ID, snapexport.AWS, snapexport.Page{})
			return ids(got, endpointID), err
		})
	}},
}

func endpointID(ep *snapexport.PrivateEndpoint) string { return ep.ID }

// testAppendOrder runs writers × each creations (made by next, on this
// goroutine, since env's generators are not safe for concurrent use) from
// concurrent writers while listing with list, and checks every list taken.
func testAppendOrder(t *testing.T, e *env, next func() (create func(tx snapexport.Tx) error, id string), list func(tx snapexport.Tx) ([]string, error)) {
	const writers, each = 4, 20
	creates := make([][]func(tx snapexport.Tx) error, writers)
	for w := range creates {
		for range each {
			c, _ := next()
			creates[w] = append(creates[w], c)
		}
	}
	errs := make(chan error, writers)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for _, create := range creates[w] {
				pause := time.Duration(rng.IntN(2000)) * time.Microsecond
				err := e.write(func(tx snapexport.Tx) error {
					if err := create(tx); err != nil {
						return err
					}
					time.Sleep(pause) // commits after later creations began
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	var seen [][]string
	for listing := true; listing; {
		select {
		case <-done:
			listing = false
		default:
		}
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := list(tx)
			noErr(t, "list", err)
			seen = append(seen, got)
			return nil
		})
	}
	close(errs)
	for err := range errs {
		t.Fatalf("create: %v", err)
	}
	var final []string
	e.mustRead(func(tx snapexport.Tx) error {
		var err error
		final, err = list(tx)
		noErr(t, "list", err)
		return nil
	})
	if len(final) != writers*each {
		t.Fatalf("%d items listed after %d creations", len(final), writers*each)
	}
	for n, s := range seen {
		if len(s) > len(final) || !slices.Equal(s, final[:len(s)]) {
			i := 0
			for i < len(s) && i < len(final) && s[i] == final[i] {
				i++
			}
			t.Fatalf("list %d of %d, taken during the creations, is not a prefix of the final list: position %d holds %s, which the final list has elsewhere; an item created earlier in list order became visible later",
				n+1, len(seen), i, s[i])
		}
	}
	t.Logf("%d lists taken during %d concurrent creations, each a prefix of the final list", len(seen), writers*each)
}
