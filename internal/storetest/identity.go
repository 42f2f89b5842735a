package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

var organizationTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		e.wantStored(t, "Organization", o)
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		e.org()
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "Organization(missing)")(tx.Organization(e.ctx, e.id()))
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		o := e.org()
		dup := &snapexport.Organization{ID: o.ID, Name: "other", CreatedAt: e.now()}
		e.wantWriteErr(t, "CreateOrganization(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateOrganization(e.ctx, dup) })
		e.wantStored(t, "Organization after a conflicting create", o)
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
			listed(t, "ListOrganizations", want, orgID)(tx.ListOrganizations(e.ctx))
			return nil
		})
	}},
}

var projectTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "Project", p)
			found(t, "ProjectByName", p)(tx.ProjectByName(e.ctx, o.ID, p.Name))
			return nil
		})
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		p := e.project(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "Project(missing)")(tx.Project(e.ctx, e.id()))
			missing(t, "ProjectByName(missing name)")(tx.ProjectByName(e.ctx, o.ID, "no such project"))
			missing(t, "ProjectByName(name of another organization's project)")(tx.ProjectByName(e.ctx, other.ID, p.Name))
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		o := e.org()
		p := e.project(o.ID)
		dup := &snapexport.Project{ID: p.ID, OrgID: o.ID, Name: "another name", CreatedAt: e.now()}
		e.wantWriteErr(t, "CreateProject(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, dup) })
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "Project after a conflicting create", p)
			missing(t, "ProjectByName(name of the rejected project)")(tx.ProjectByName(e.ctx, o.ID, dup.Name))
			return nil
		})
	}},
	{"DuplicateNameInOrganization", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		p := e.project(o.ID)
		dup := &snapexport.Project{ID: e.id(), OrgID: o.ID, Name: p.Name, CreatedAt: e.now()}
		e.wantWriteErr(t, "CreateProject(name taken in the organization)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, dup) })
		// The same name in another organization is fine.
		elsewhere := &snapexport.Project{ID: e.id(), OrgID: other.ID, Name: p.Name, CreatedAt: e.now()}
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateProject(e.ctx, elsewhere) })
		noErr(t, "CreateProject(name taken in another organization)", err)
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "Project(rejected duplicate)")(tx.Project(e.ctx, dup.ID))
			found(t, "ProjectByName(first organization)", p)(tx.ProjectByName(e.ctx, o.ID, p.Name))
			found(t, "ProjectByName(second organization)", elsewhere)(tx.ProjectByName(e.ctx, other.ID, p.Name))
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
				paged(t, fmt.Sprintf("ListProjects(%+v)", page), len(all), pageOf(all, page), projectID)(tx.ListProjects(e.ctx, []string{o.ID}, nil, page))
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
		paged(t, "ListProjects("+what+")", len(want), want, projectID)(tx.ListProjects(e.ctx, orgIDs, ids, snapexport.Page{}))
		return nil
	})
}

var apiKeyTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		k := e.apiKey(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "APIKeyByPublicKey", k)
			missing(t, "APIKeyByPublicKey(missing)")(tx.APIKeyByPublicKey(e.ctx, "nosuchkey"))
			return nil
		})
	}},
	{"Duplicates", func(t *testing.T, e *env) {
		o := e.org()
		k := e.apiKey(o.ID)
		sameID := e.newAPIKey(o.ID)
		sameID.ID = k.ID
		e.wantWriteErr(t, "CreateAPIKey(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateAPIKey(e.ctx, sameID) })
		samePublicKey := e.newAPIKey(o.ID)
		samePublicKey.PublicKey = k.PublicKey
		e.wantWriteErr(t, "CreateAPIKey(duplicate public key)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateAPIKey(e.ctx, samePublicKey) })
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "APIKeyByPublicKey after conflicting creates", k)
			missing(t, "APIKeyByPublicKey(key rejected for its id)")(tx.APIKeyByPublicKey(e.ctx, sameID.PublicKey))
			listed(t, "ListAPIKeys", []*snapexport.APIKey{k}, apiKeyID)(tx.ListAPIKeys(e.ctx, o.ID))
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o, other, empty := e.org(), e.org(), e.org()
		k1 := e.apiKey(o.ID)
		e.apiKey(other.ID)
		k2, k3 := e.apiKey(o.ID), e.apiKey(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "ListAPIKeys", []*snapexport.APIKey{k1, k2, k3}, apiKeyID)(tx.ListAPIKeys(e.ctx, o.ID))
			listed(t, "ListAPIKeys(organization without keys)", nil, apiKeyID)(tx.ListAPIKeys(e.ctx, empty.ID))
			listed(t, "ListAPIKeys(unknown organization)", nil, apiKeyID)(tx.ListAPIKeys(e.ctx, e.id()))
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
			missing(t, "APIKeyByPublicKey(deleted)")(tx.APIKeyByPublicKey(e.ctx, k.PublicKey))
			e.wantRoleCount(t, tx, "deleted key", k.ID, 0)
			e.wantRoleCount(t, tx, "other key", kept.ID, 2)
			listed(t, "ListAPIKeys after delete", []*snapexport.APIKey{kept}, apiKeyID)(tx.ListAPIKeys(e.ctx, o.ID))
			return nil
		})
		e.wantWriteErr(t, "DeleteAPIKey(already deleted)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteAPIKey(e.ctx, k.ID) })
		e.wantWriteErr(t, "DeleteAPIKey(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteAPIKey(e.ctx, e.id()) })
	}},
}

var serviceAccountTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		o := e.org()
		sa := e.serviceAccount(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "ServiceAccount", sa)
			found(t, "ServiceAccountByClientID", sa)(tx.ServiceAccountByClientID(e.ctx, sa.ClientID))
			missing(t, "ServiceAccount(missing)")(tx.ServiceAccount(e.ctx, e.id()))
			missing(t, "ServiceAccountByClientID(missing)")(tx.ServiceAccountByClientID(e.ctx, "mdb_sa_id_missing"))
			return nil
		})
	}},
	{"Duplicates", func(t *testing.T, e *env) {
		o := e.org()
		sa := e.serviceAccount(o.ID)
		sameID := e.newServiceAccount(o.ID)
		sameID.ID = sa.ID
		e.wantWriteErr(t, "CreateServiceAccount(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateServiceAccount(e.ctx, sameID) })
		sameClientID := e.newServiceAccount(o.ID)
		sameClientID.ClientID = sa.ClientID
		e.wantWriteErr(t, "CreateServiceAccount(duplicate client id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateServiceAccount(e.ctx, sameClientID) })
		e.mustRead(func(tx snapexport.Tx) error {
			e.wantItem(t, tx, "ServiceAccount after conflicting creates", sa)
			missing(t, "ServiceAccount(rejected for its client id)")(tx.ServiceAccount(e.ctx, sameClientID.ID))
			missing(t, "ServiceAccountByClientID(rejected for its id)")(tx.ServiceAccountByClientID(e.ctx, sameID.ClientID))
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o, other := e.org(), e.org()
		sa1 := e.serviceAccount(o.ID)
		e.serviceAccount(other.ID)
		sa2 := e.serviceAccount(o.ID)
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "ListServiceAccounts", []*snapexport.ServiceAccount{sa1, sa2}, serviceAccountID)(tx.ListServiceAccounts(e.ctx, o.ID))
			listed(t, "ListServiceAccounts(unknown organization)", nil, serviceAccountID)(tx.ListServiceAccounts(e.ctx, e.id()))
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
			missing(t, "ServiceAccount(deleted)")(tx.ServiceAccount(e.ctx, sa.ID))
			missing(t, "ServiceAccountByClientID(deleted)")(tx.ServiceAccountByClientID(e.ctx, sa.ClientID))
			for _, tok := range []*snapexport.AccessToken{t1, t2} {
				missing(t, "AccessToken(token of deleted service account)")(tx.AccessToken(e.ctx, tok.Hash))
			}
			e.wantItem(t, tx, "AccessToken(token of other service account)", keptToken)
			e.wantRoleCount(t, tx, "deleted service account", sa.ID, 0)
			e.wantRoleCount(t, tx, "other service account", kept.ID, 2)
			return nil
		})
		e.wantWriteErr(t, "DeleteServiceAccount(already deleted)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteServiceAccount(e.ctx, sa.ID) })
		e.wantWriteErr(t, "DeleteServiceAccount(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteServiceAccount(e.ctx, e.id()) })
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
		e.wantWriteErr(t, "UnassignRole(already removed)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UnassignRole(e.ctx, onP1) })
		// Each field of the assignment counts: a near miss removes nothing.
		for what, ra := range map[string]snapexport.RoleAssignment{
			"other role":       {PrincipalID: sa.ID, OrgID: o.ID, ProjectID: p2.ID, Role: snapexport.RoleGroupOwner},
			"other project":    {PrincipalID: sa.ID, OrgID: o.ID, ProjectID: e.id(), Role: snapexport.RoleGroupBackupCreator},
			"org, not project": {PrincipalID: sa.ID, OrgID: o.ID, Role: snapexport.RoleGroupBackupCreator},
			"other principal":  {PrincipalID: e.id(), OrgID: o.ID, Role: snapexport.RoleOrgOwner},
			"never held":       {PrincipalID: sa.ID, OrgID: o.ID, Role: snapexport.RoleOrgMember},
		} {
			e.wantWriteErr(t, "UnassignRole("+what+")", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UnassignRole(e.ctx, ra) })
		}
		wantRoles(t, e, sa.ID, []snapexport.RoleAssignment{onP2, onOrg})
	}},
}

// wantRoleCount fails the test unless principalID holds n roles in tx.
func (e *env) wantRoleCount(t *testing.T, tx snapexport.Tx, what, principalID string, n int) {
	t.Helper()
	roles, err := tx.ListRoles(e.ctx, principalID)
	noErr(t, "ListRoles("+what+")", err)
	if len(roles) != n {
		t.Errorf("ListRoles(%s) = %v, want %d roles", what, roles, n)
	}
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
			e.wantItem(t, tx, "AccessToken(not revoked)", live)
			e.wantItem(t, tx, "AccessToken(created revoked)", revoked)
			missing(t, "AccessToken(missing)")(tx.AccessToken(e.ctx, "sha256-missing"))
			return nil
		})
	}},
	{"DuplicateHash", func(t *testing.T, e *env) {
		o := e.org()
		sa, other := e.serviceAccount(o.ID), e.serviceAccount(o.ID)
		tok := e.token(sa.ID)
		dup := e.newToken(other.ID)
		dup.Hash = tok.Hash
		e.wantWriteErr(t, "CreateAccessToken(duplicate hash)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateAccessToken(e.ctx, dup) })
		e.wantStored(t, "AccessToken after a conflicting create", tok)
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
			e.wantItem(t, tx, "AccessToken(revoked)", &want)
			e.wantItem(t, tx, "AccessToken(other token)", other)
			return nil
		})
		// Revoking again succeeds and keeps the first revocation time.
		e.mustWrite(func(tx snapexport.Tx) error { return tx.RevokeAccessToken(e.ctx, tok.Hash, e.now()) })
		e.wantStored(t, "AccessToken(revoked twice)", &want)
		e.wantWriteErr(t, "RevokeAccessToken(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.RevokeAccessToken(e.ctx, "sha256-missing", e.now()) })
	}},
}

var serverSecretTests = []test{
	{"FirstKept", func(t *testing.T, e *env) {
		var first, again, other []byte
		e.mustWrite(func(tx snapexport.Tx) error {
			var err error
			first, err = tx.ServerSecret(e.ctx, "token-signing", []byte{0, 1, 2, 0xff})
			return err
		})
		if !bytes.Equal(first, []byte{0, 1, 2, 0xff}) {
			t.Errorf("ServerSecret with none stored = %x, want the candidate", first)
		}
		e.mustWrite(func(tx snapexport.Tx) error {
			var err error
			if again, err = tx.ServerSecret(e.ctx, "token-signing", []byte("another candidate")); err != nil {
				return err
			}
			other, err = tx.ServerSecret(e.ctx, "other", []byte("other secret"))
			return err
		})
		if !bytes.Equal(again, first) {
			t.Errorf("ServerSecret once stored = %x, want the first %x", again, first)
		}
		if string(other) != "other secret" {
			t.Errorf("ServerSecret(other name) = %q, want its own candidate", other)
		}
	}},
}
