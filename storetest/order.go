package storetest

import (
	"testing"

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
			got, err := tx.ListOrganizations(e.ctx)
			noErr(t, "ListOrganizations", err)
			sameOrder(t, "ListOrganizations(same CreatedAt)", got, want, orgID)
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
			gotK, err := tx.ListAPIKeys(e.ctx, o.ID)
			noErr(t, "ListAPIKeys", err)
			sameOrder(t, "ListAPIKeys(same CreatedAt)", gotK, keys, apiKeyID)
			gotS, err := tx.ListServiceAccounts(e.ctx, o.ID)
			noErr(t, "ListServiceAccounts", err)
			sameOrder(t, "ListServiceAccounts(same CreatedAt)", gotS, sas, serviceAccountID)
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
			gotR, err := tx.ListCloudProviderAccessRoles(e.ctx, p.ID)
			noErr(t, "ListCloudProviderAccessRoles", err)
			sameOrder(t, "ListCloudProviderAccessRoles(same CreatedAt)", gotR, roles, roleID)
			gotB, _, err := tx.ListExportBuckets(e.ctx, p.ID, nil, snapexport.Page{})
			noErr(t, "ListExportBuckets", err)
			sameOrder(t, "ListExportBuckets(same CreatedAt)", gotB, buckets, bucketID)
			return nil
		})
	}},
}
