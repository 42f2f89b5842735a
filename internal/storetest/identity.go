package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

var organizationTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Organization(e.ctx, o.ID)
			noErr(t, "Organization", err)
			same(t, "Organization", got, o)
			return nil
		})
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		e.org()
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.Organization(e.ctx, e.id())
			wantErr(t, "Organization(missing)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		o := e.org()
		dup := &snapexport.Organization{ID: o.ID, Name: "other", CreatedAt: e.now()}
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateOrganization(e.ctx, dup) })
		wantErr(t, "CreateOrganization(duplicate id)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Organization(e.ctx, o.ID)
			noErr(t, "Organization", err)
			same(t, "Organization after a conflicting create", got, o)
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ListOrganizations(e.ctx)
			noErr(t, "ListOrganizations(empty store)", err)
			if len(got) != 0 {
				t.Errorf("ListOrganizations(empty store) = %d items, want none", len(got))
			}
			return nil
		})
		want := []*snapexport.Organization{e.org(), e.org(), e.org(), e.org()}
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ListOrganizations(e.ctx)
			noErr(t, "ListOrganizations", err)
			sameOrder(t, "ListOrganizations", got, want, orgID)
			return nil
		})
	}},
}

var projectTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Project(e.ctx, p.ID)
			noErr(t, "Project", err)
			same(t, "Project", got, p)
			got, err = tx.ProjectByName(e.ctx, o.ID, p.Name)
			noErr(t, "ProjectByName", err)
			same(t, "ProjectByName", got, p)
			return nil
		})
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		p := e.project(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.Project(e.ctx, e.id())
			wantErr(t, "Project(missing)", err, snapexport.ErrNotFound)
			_, err = tx.ProjectByName(e.ctx, o.ID, "no such project")
			wantErr(t, "ProjectByName(missing name)", err, snapexport.ErrNotFound)
			_, err = tx.ProjectByName(e.ctx, other.ID, p.Name)
			wantErr(t, "ProjectByName(name of another organization's project)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		dup := &snapexport.Project{ID: p.ID, OrgID: o.ID, Name: "another name", CreatedAt: e.now()}
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, dup) })
		wantErr(t, "CreateProject(duplicate id)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.Project(e.ctx, p.ID)
			noErr(t, "Project", err)
			same(t, "Project after a conflicting create", got, p)
			_, err = tx.ProjectByName(e.ctx, o.ID, dup.Name)
			wantErr(t, "ProjectByName(name of the rejected project)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"DuplicateNameInOrganization", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		p := e.project(o.ID)
		dup := &snapexport.Project{ID: e.id(), OrgID: o.ID, Name: p.Name, CreatedAt: e.now()}
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, dup) })
		wantErr(t, "CreateProject(name taken in the organization)", err, snapexport.ErrConflict)
		// The same name in another organization is fine.
		elsewhere := &snapexport.Project{ID: e.id(), OrgID: other.ID, Name: p.Name, CreatedAt: e.now()}
		err = e.write(func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, elsewhere) })
		noErr(t, "CreateProject(name taken in another organization)", err)
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.Project(e.ctx, dup.ID)
			wantErr(t, "Project(rejected duplicate)", err, snapexport.ErrNotFound)
			got, err := tx.ProjectByName(e.ctx, o.ID, p.Name)
			noErr(t, "ProjectByName", err)
			same(t, "ProjectByName(first organization)", got, p)
			got, err = tx.ProjectByName(e.ctx, other.ID, p.Name)
			noErr(t, "ProjectByName", err)
			same(t, "ProjectByName(second organization)", got, elsewhere)
			return nil
		})
	}},
	{"ListByOrganizations", func(t *testing.T, e *env) {
		a, b, c := e.org(), e.org(), e.org()
		// Interleaved, so creation order differs from grouping by organization.
		pa1, pb1, pc1, pa2, pb2 := e.project(a.ID), e.project(b.ID), e.project(c.ID), e.project(a.ID), e.project(b.ID)
		_ = pc1
		listProjects(t, e, "orgIDs=[a]", []string{a.ID}, nil, []*snapexport.Project{pa1, pa2})
		listProjects(t, e, "orgIDs=[b,a]", []string{b.ID, a.ID}, nil, []*snapexport.Project{pa1, pb1, pa2, pb2})
		listProjects(t, e, "orgIDs=[unknown]", []string{e.id()}, nil, nil)
	}},
	{"ListByIDs", func(t *testing.T, e *env) {
		a, b := e.org(), e.org()
		pa1, pb1, pa2, pb2 := e.project(a.ID), e.project(b.ID), e.project(a.ID), e.project(b.ID)
		_ = pa2
		listProjects(t, e, "ids=[pb2,pa1]", nil, []string{pb2.ID, pa1.ID}, []*snapexport.Project{pa1, pb2})
		listProjects(t, e, "ids=[pb1,unknown]", nil, []string{pb1.ID, e.id()}, []*snapexport.Project{pb1})
		listProjects(t, e, "ids=[pb1,pb1]", nil, []string{pb1.ID, pb1.ID}, []*snapexport.Project{pb1})
	}},
	{"ListByOrganizationsAndIDs", func(t *testing.T, e *env) {
		a, b, c := e.org(), e.org(), e.org()
		pa1, pb1, pc1, pa2, pb2 := e.project(a.ID), e.project(b.ID), e.project(c.ID), e.project(a.ID), e.project(b.ID)
		_ = pb1
		// Projects matched by both are listed once.
		listProjects(t, e, "orgIDs=[a] ids=[pb2,pa1,pc1]", []string{a.ID}, []string{pb2.ID, pa1.ID, pc1.ID},
			[]*snapexport.Project{pa1, pc1, pa2, pb2})
	}},
	{"ListNothing", func(t *testing.T, e *env) {
		o := e.org()
		e.project(o.ID)
		listProjects(t, e, "no orgIDs, no ids", nil, nil, nil)
		listProjects(t, e, "empty orgIDs and ids", []string{}, []string{}, nil)
	}},
	{"ListPagination", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		var all []*snapexport.Project
		for i := range 7 {
			all = append(all, e.project(o.ID))
			if i%3 == 0 {
				e.project(other.ID)
			}
		}
		for _, page := range []snapexport.Page{{}, {Limit: 3}, {Offset: 3, Limit: 3}, {Offset: 6, Limit: 3},
			{Offset: 7, Limit: 3}, {Offset: 50, Limit: 3}, {Offset: 1, Limit: 100}} {
			e.mustRead(func(tx snapexport.Tx) error {
				got, total, err := tx.ListProjects(e.ctx, []string{o.ID}, nil, page)
				what := fmt.Sprintf("ListProjects(%+v)", page)
				noErr(t, what, err)
				if total != len(all) {
					t.Errorf("%s: total %d, want %d", what, total, len(all))
				}
				sameOrder(t, what, got, pageOf(all, page), projectID)
				return nil
			})
		}
	}},
}

// pageOf is the part of all that page selects; Limit 0 means no limit.
func pageOf[T any](all []T, page snapexport.Page) []T {
	lo := min(page.Offset, len(all))
	hi := len(all)
	if page.Limit > 0 {
		hi = min(lo+page.Limit, len(all))
	}
	return all[lo:hi]
}

func listProjects(t *testing.T, e *env, what string, orgIDs, ids []string, want []*snapexport.Project) {
	t.Helper()
	e.mustRead(func(tx snapexport.Tx) error {
		got, total, err := tx.ListProjects(e.ctx, orgIDs, ids, snapexport.Page{})
		noErr(t, "ListProjects("+what+")", err)
		if total != len(want) {
			t.Errorf("ListProjects(%s): total %d, want %d", what, total, len(want))
		}
		sameOrder(t, "ListProjects("+what+")", got, want, projectID)
		return nil
	})
}

var apiKeyTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		k := e.apiKey(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.APIKeyByPublicKey(e.ctx, k.PublicKey)
			noErr(t, "APIKeyByPublicKey", err)
			same(t, "APIKeyByPublicKey", got, k)
			_, err = tx.APIKeyByPublicKey(e.ctx, "nosuchkey")
			wantErr(t, "APIKeyByPublicKey(missing)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"Duplicates", func(t *testing.T, e *env) {
		o := e.org()
		k := e.apiKey(o.ID)
		sameID := e.newAPIKey(o.ID)
		sameID.ID = k.ID
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateAPIKey(e.ctx, sameID) })
		wantErr(t, "CreateAPIKey(duplicate id)", err, snapexport.ErrConflict)
		samePublicKey := e.newAPIKey(o.ID)
		samePublicKey.PublicKey = k.PublicKey
		err = e.write(func(tx snapexport.Tx) error { return tx.CreateAPIKey(e.ctx, samePublicKey) })
		wantErr(t, "CreateAPIKey(duplicate public key)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.APIKeyByPublicKey(e.ctx, k.PublicKey)
			noErr(t, "APIKeyByPublicKey", err)
			same(t, "APIKeyByPublicKey after conflicting creates", got, k)
			_, err = tx.APIKeyByPublicKey(e.ctx, sameID.PublicKey)
			wantErr(t, "APIKeyByPublicKey(key rejected for its id)", err, snapexport.ErrNotFound)
			list, err := tx.ListAPIKeys(e.ctx, o.ID)
			noErr(t, "ListAPIKeys", err)
			sameOrder(t, "ListAPIKeys", list, []*snapexport.APIKey{k}, apiKeyID)
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o, other, empty := e.org(), e.org(), e.org()
		k1 := e.apiKey(o.ID)
		e.apiKey(other.ID)
		k2, k3 := e.apiKey(o.ID), e.apiKey(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ListAPIKeys(e.ctx, o.ID)
			noErr(t, "ListAPIKeys", err)
			sameOrder(t, "ListAPIKeys", got, []*snapexport.APIKey{k1, k2, k3}, apiKeyID)
			got, err = tx.ListAPIKeys(e.ctx, empty.ID)
			noErr(t, "ListAPIKeys(organization without keys)", err)
			sameOrder(t, "ListAPIKeys(organization without keys)", got, nil, apiKeyID)
			got, err = tx.ListAPIKeys(e.ctx, e.id())
			noErr(t, "ListAPIKeys(unknown organization)", err)
			sameOrder(t, "ListAPIKeys(unknown organization)", got, nil, apiKeyID)
			return nil
		})
	}},
	{"Delete", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		k, kept := e.apiKey(o.ID), e.apiKey(o.ID)
		for _, pid := range []string{k.ID, kept.ID} {
			e.assign(snapexport.RoleAssignment{PrincipalID: pid, OrgID: o.ID, Role: snapexport.RoleOrgOwner})
			e.assign(snapexport.RoleAssignment{PrincipalID: pid, OrgID: o.ID, ProjectID: p.ID, Role: snapexport.RoleGroupOwner})
		}
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteAPIKey(e.ctx, k.ID) })
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.APIKeyByPublicKey(e.ctx, k.PublicKey)
			wantErr(t, "APIKeyByPublicKey(deleted)", err, snapexport.ErrNotFound)
			roles, err := tx.ListRoles(e.ctx, k.ID)
			noErr(t, "ListRoles(deleted key)", err)
			if len(roles) != 0 {
				t.Errorf("ListRoles(deleted key) = %v, want none", roles)
			}
			roles, err = tx.ListRoles(e.ctx, kept.ID)
			noErr(t, "ListRoles(other key)", err)
			if len(roles) != 2 {
				t.Errorf("ListRoles(other key) = %v, want its 2 roles", roles)
			}
			list, err := tx.ListAPIKeys(e.ctx, o.ID)
			noErr(t, "ListAPIKeys", err)
			sameOrder(t, "ListAPIKeys after delete", list, []*snapexport.APIKey{kept}, apiKeyID)
			return nil
		})
		err := e.write(func(tx snapexport.Tx) error { return tx.DeleteAPIKey(e.ctx, k.ID) })
		wantErr(t, "DeleteAPIKey(already deleted)", err, snapexport.ErrNotFound)
		err = e.write(func(tx snapexport.Tx) error { return tx.DeleteAPIKey(e.ctx, e.id()) })
		wantErr(t, "DeleteAPIKey(missing)", err, snapexport.ErrNotFound)
	}},
}

var serviceAccountTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		sa := e.serviceAccount(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ServiceAccount(e.ctx, sa.ID)
			noErr(t, "ServiceAccount", err)
			same(t, "ServiceAccount", got, sa)
			got, err = tx.ServiceAccountByClientID(e.ctx, sa.ClientID)
			noErr(t, "ServiceAccountByClientID", err)
			same(t, "ServiceAccountByClientID", got, sa)
			_, err = tx.ServiceAccount(e.ctx, e.id())
			wantErr(t, "ServiceAccount(missing)", err, snapexport.ErrNotFound)
			_, err = tx.ServiceAccountByClientID(e.ctx, "mdb_sa_id_missing")
			wantErr(t, "ServiceAccountByClientID(missing)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"Duplicates", func(t *testing.T, e *env) {
		o := e.org()
		sa := e.serviceAccount(o.ID)
		sameID := e.newServiceAccount(o.ID)
		sameID.ID = sa.ID
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateServiceAccount(e.ctx, sameID) })
		wantErr(t, "CreateServiceAccount(duplicate id)", err, snapexport.ErrConflict)
		sameClientID := e.newServiceAccount(o.ID)
		sameClientID.ClientID = sa.ClientID
		err = e.write(func(tx snapexport.Tx) error { return tx.CreateServiceAccount(e.ctx, sameClientID) })
		wantErr(t, "CreateServiceAccount(duplicate client id)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ServiceAccount(e.ctx, sa.ID)
			noErr(t, "ServiceAccount", err)
			same(t, "ServiceAccount after conflicting creates", got, sa)
			_, err = tx.ServiceAccount(e.ctx, sameClientID.ID)
			wantErr(t, "ServiceAccount(rejected for its client id)", err, snapexport.ErrNotFound)
			_, err = tx.ServiceAccountByClientID(e.ctx, sameID.ClientID)
			wantErr(t, "ServiceAccountByClientID(rejected for its id)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		sa1 := e.serviceAccount(o.ID)
		e.serviceAccount(other.ID)
		sa2 := e.serviceAccount(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ListServiceAccounts(e.ctx, o.ID)
			noErr(t, "ListServiceAccounts", err)
			sameOrder(t, "ListServiceAccounts", got, []*snapexport.ServiceAccount{sa1, sa2}, serviceAccountID)
			got, err = tx.ListServiceAccounts(e.ctx, e.id())
			noErr(t, "ListServiceAccounts(unknown organization)", err)
			sameOrder(t, "ListServiceAccounts(unknown organization)", got, nil, serviceAccountID)
			return nil
		})
	}},
	{"Delete", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		sa, kept := e.serviceAccount(o.ID), e.serviceAccount(o.ID)
		for _, pid := range []string{sa.ID, kept.ID} {
			e.assign(snapexport.RoleAssignment{PrincipalID: pid, OrgID: o.ID, Role: snapexport.RoleOrgMember})
			e.assign(snapexport.RoleAssignment{PrincipalID: pid, OrgID: o.ID, ProjectID: p.ID, Role: snapexport.RoleGroupReadOnly})
		}
		t1, t2 := e.token(sa.ID), e.token(sa.ID)
		keptToken := e.token(kept.ID)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteServiceAccount(e.ctx, sa.ID) })
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.ServiceAccount(e.ctx, sa.ID)
			wantErr(t, "ServiceAccount(deleted)", err, snapexport.ErrNotFound)
			_, err = tx.ServiceAccountByClientID(e.ctx, sa.ClientID)
			wantErr(t, "ServiceAccountByClientID(deleted)", err, snapexport.ErrNotFound)
			for _, tok := range []*snapexport.AccessToken{t1, t2} {
				_, err = tx.AccessToken(e.ctx, tok.Hash)
				wantErr(t, "AccessToken(token of deleted service account)", err, snapexport.ErrNotFound)
			}
			got, err := tx.AccessToken(e.ctx, keptToken.Hash)
			noErr(t, "AccessToken(token of other service account)", err)
			same(t, "AccessToken(token of other service account)", got, keptToken)
			roles, err := tx.ListRoles(e.ctx, sa.ID)
			noErr(t, "ListRoles(deleted service account)", err)
			if len(roles) != 0 {
				t.Errorf("ListRoles(deleted service account) = %v, want none", roles)
			}
			roles, err = tx.ListRoles(e.ctx, kept.ID)
			noErr(t, "ListRoles(other service account)", err)
			if len(roles) != 2 {
				t.Errorf("ListRoles(other service account) = %v, want its 2 roles", roles)
			}
			return nil
		})
		err := e.write(func(tx snapexport.Tx) error { return tx.DeleteServiceAccount(e.ctx, sa.ID) })
		wantErr(t, "DeleteServiceAccount(already deleted)", err, snapexport.ErrNotFound)
		err = e.write(func(tx snapexport.Tx) error { return tx.DeleteServiceAccount(e.ctx, e.id()) })
		wantErr(t, "DeleteServiceAccount(missing)", err, snapexport.ErrNotFound)
	}},
}

var roleTests = []test{
	{"AssignList", func(t *testing.T, e *env) {
		o := e.org()
		p1, p2 := e.project(o.ID), e.project(o.ID)
		k, other := e.apiKey(o.ID), e.apiKey(o.ID)
		want := []snapexport.RoleAssignment{
			{PrincipalID: k.ID, OrgID: o.ID, Role: snapexport.RoleOrgMember},
			{PrincipalID: k.ID, OrgID: o.ID, ProjectID: p2.ID, Role: snapexport.RoleGroupBackupManager},
			{PrincipalID: k.ID, OrgID: o.ID, ProjectID: p1.ID, Role: snapexport.RoleGroupBackupManager},
			{PrincipalID: k.ID, OrgID: o.ID, ProjectID: p1.ID, Role: snapexport.RoleGroupReadOnly},
			{PrincipalID: k.ID, OrgID: o.ID, Role: snapexport.RoleOrgOwner},
		}
		for _, ra := range want {
			e.assign(ra)
		}
		e.assign(snapexport.RoleAssignment{PrincipalID: other.ID, OrgID: o.ID, Role: snapexport.RoleOrgOwner})
		wantRoles(t, e, k.ID, want)
		wantRoles(t, e, e.id(), nil)
	}},
	{"AssignTwice", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		k := e.apiKey(o.ID)
		ra := snapexport.RoleAssignment{PrincipalID: k.ID, OrgID: o.ID, ProjectID: p.ID, Role: snapexport.RoleGroupOwner}
		e.assign(ra)
		err := e.write(func(tx snapexport.Tx) error { return tx.AssignRole(e.ctx, ra) })
		noErr(t, "AssignRole(already held, own transaction)", err)
		err = e.write(func(tx snapexport.Tx) error {
			if err := tx.AssignRole(e.ctx, ra); err != nil {
				return err
			}
			return tx.AssignRole(e.ctx, ra)
		})
		noErr(t, "AssignRole(twice in one transaction)", err)
		wantRoles(t, e, k.ID, []snapexport.RoleAssignment{ra})
		// One removal takes away a role however often it was assigned.
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UnassignRole(e.ctx, ra) })
		wantRoles(t, e, k.ID, nil)
	}},
	{"Unassign", func(t *testing.T, e *env) {
		o := e.org()
		p1, p2 := e.project(o.ID), e.project(o.ID)
		sa := e.serviceAccount(o.ID)
		onP1 := snapexport.RoleAssignment{PrincipalID: sa.ID, OrgID: o.ID, ProjectID: p1.ID, Role: snapexport.RoleGroupBackupCreator}
		onP2 := snapexport.RoleAssignment{PrincipalID: sa.ID, OrgID: o.ID, ProjectID: p2.ID, Role: snapexport.RoleGroupBackupCreator}
		onOrg := snapexport.RoleAssignment{PrincipalID: sa.ID, OrgID: o.ID, Role: snapexport.RoleOrgOwner}
		for _, ra := range []snapexport.RoleAssignment{onP1, onP2, onOrg} {
			e.assign(ra)
		}
		e.mustWrite(func(tx snapexport.Tx) error { return tx.UnassignRole(e.ctx, onP1) })
		wantRoles(t, e, sa.ID, []snapexport.RoleAssignment{onP2, onOrg})
		err := e.write(func(tx snapexport.Tx) error { return tx.UnassignRole(e.ctx, onP1) })
		wantErr(t, "UnassignRole(already removed)", err, snapexport.ErrNotFound)
		// Each field of the assignment counts: a near miss removes nothing.
		for what, ra := range map[string]snapexport.RoleAssignment{
			"other role":       {PrincipalID: sa.ID, OrgID: o.ID, ProjectID: p2.ID, Role: snapexport.RoleGroupOwner},
			"other project":    {PrincipalID: sa.ID, OrgID: o.ID, ProjectID: e.id(), Role: snapexport.RoleGroupBackupCreator},
			"org, not project": {PrincipalID: sa.ID, OrgID: o.ID, Role: snapexport.RoleGroupBackupCreator},
			"other principal":  {PrincipalID: e.id(), OrgID: o.ID, Role: snapexport.RoleOrgOwner},
			"never held":       {PrincipalID: sa.ID, OrgID: o.ID, Role: snapexport.RoleOrgMember},
		} {
			err := e.write(func(tx snapexport.Tx) error { return tx.UnassignRole(e.ctx, ra) })
			wantErr(t, "UnassignRole("+what+")", err, snapexport.ErrNotFound)
		}
		wantRoles(t, e, sa.ID, []snapexport.RoleAssignment{onP2, onOrg})
	}},
}

// wantRoles compares ListRoles as a set: the Tx contract leaves its order open.
func wantRoles(t *testing.T, e *env, principalID string, want []snapexport.RoleAssignment) {
	t.Helper()
	e.mustRead(func(tx snapexport.Tx) error {
		got, err := tx.ListRoles(e.ctx, principalID)
		noErr(t, "ListRoles", err)
		if g, w := sortedAssignments(got), sortedAssignments(want); !slices.Equal(g, w) {
			t.Errorf("ListRoles(%s):\n\tgot  %v\n\twant %v", principalID, g, w)
		}
		return nil
	})
}

var accessTokenTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		sa := e.serviceAccount(o.ID)
		live := e.token(sa.ID)
		revoked := e.newToken(sa.ID)
		revoked.RevokedAt = ptr(revoked.IssuedAt.Add(1500 * time.Microsecond))
		e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateAccessToken(e.ctx, revoked) })
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.AccessToken(e.ctx, live.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken(not revoked)", got, live)
			got, err = tx.AccessToken(e.ctx, revoked.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken(created revoked)", got, revoked)
			_, err = tx.AccessToken(e.ctx, "sha256-missing")
			wantErr(t, "AccessToken(missing)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"DuplicateHash", func(t *testing.T, e *env) {
		o := e.org()
		sa, other := e.serviceAccount(o.ID), e.serviceAccount(o.ID)
		tok := e.token(sa.ID)
		dup := e.newToken(other.ID)
		dup.Hash = tok.Hash
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateAccessToken(e.ctx, dup) })
		wantErr(t, "CreateAccessToken(duplicate hash)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.AccessToken(e.ctx, tok.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken after a conflicting create", got, tok)
			return nil
		})
	}},
	{"Revoke", func(t *testing.T, e *env) {
		o := e.org()
		sa := e.serviceAccount(o.ID)
		tok, other := e.token(sa.ID), e.token(sa.ID)
		first := e.now()
		e.mustWrite(func(tx snapexport.Tx) error { return tx.RevokeAccessToken(e.ctx, tok.Hash, first) })
		want := *tok
		want.RevokedAt = &first
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.AccessToken(e.ctx, tok.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken(revoked)", got, &want)
			got, err = tx.AccessToken(e.ctx, other.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken(other token)", got, other)
			return nil
		})
		// Revoking again succeeds and keeps the first revocation time.
		e.mustWrite(func(tx snapexport.Tx) error { return tx.RevokeAccessToken(e.ctx, tok.Hash, e.now()) })
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.AccessToken(e.ctx, tok.Hash)
			noErr(t, "AccessToken", err)
			same(t, "AccessToken(revoked twice)", got, &want)
			return nil
		})
		err := e.write(func(tx snapexport.Tx) error { return tx.RevokeAccessToken(e.ctx, "sha256-missing", e.now()) })
		wantErr(t, "RevokeAccessToken(missing)", err, snapexport.ErrNotFound)
	}},
}
