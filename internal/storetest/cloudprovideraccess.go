package storetest

import (
	"testing"

	"github.com/snapexport/snapexport"
)

var cloudProviderAccessRoleTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		for _, provider := range snapexport.CloudProviders {
			r := e.role(p.ID, provider)
			e.mustRead(func(tx snapexport.Tx) error {
				got, err := tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID)
				noErr(t, "CloudProviderAccessRole", err)
				same(t, "CloudProviderAccessRole("+string(provider)+")", got, r)
				return nil
			})
		}
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r := e.role(p.ID, snapexport.AWS)
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.CloudProviderAccessRole(e.ctx, p.ID, e.id())
			wantErr(t, "CloudProviderAccessRole(missing)", err, snapexport.ErrNotFound)
			_, err = tx.CloudProviderAccessRole(e.ctx, other.ID, r.ID)
			wantErr(t, "CloudProviderAccessRole(role of another project)", err, snapexport.ErrNotFound)
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		r := e.role(p.ID, snapexport.AWS)
		dup := e.newRole(p.ID, snapexport.GCP)
		dup.ID = r.ID
		err := e.write(func(tx snapexport.Tx) error { return tx.CreateCloudProviderAccessRole(e.ctx, dup) })
		wantErr(t, "CreateCloudProviderAccessRole(duplicate id)", err, snapexport.ErrConflict)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID)
			noErr(t, "CloudProviderAccessRole", err)
			same(t, "CloudProviderAccessRole after a conflicting create", got, r)
			return nil
		})
	}},
	{"List", func(t *testing.T, e *env) {
		o := e.org()
		p, other, empty := e.project(o.ID), e.project(o.ID), e.project(o.ID)
		var want []*snapexport.CloudProviderAccessRole
		for i := range 6 {
			want = append(want, e.role(p.ID, snapexport.CloudProviders[i%3]))
			if i%2 == 0 {
				e.role(other.ID, snapexport.AWS)
			}
		}
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ListCloudProviderAccessRoles(e.ctx, p.ID)
			noErr(t, "ListCloudProviderAccessRoles", err)
			sameOrder(t, "ListCloudProviderAccessRoles", got, want, roleID)
			got, err = tx.ListCloudProviderAccessRoles(e.ctx, empty.ID)
			noErr(t, "ListCloudProviderAccessRoles(project without roles)", err)
			sameOrder(t, "ListCloudProviderAccessRoles(project without roles)", got, nil, roleID)
			return nil
		})
	}},
	{"Update", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		aws, azure, gcp := e.role(p.ID, snapexport.AWS), e.role(p.ID, snapexport.Azure), e.role(p.ID, snapexport.GCP)

		// Authorize AWS: nil AuthorizedAt becomes set.
		authorized := *aws
		authorized.AuthorizedAt = ptr(e.now())
		authorized.UpdatedAt = e.now()
		authorized.IAMAssumedRoleARN = "arn:aws:iam::123456789012:role/export"
		updateRole(t, e, &authorized)

		// Re-authorize AWS with another ARN, then clear AuthorizedAt again.
		again := authorized
		again.UpdatedAt = e.now()
		again.IAMAssumedRoleARN = "arn:aws:iam::123456789012:role/other"
		updateRole(t, e, &again)
		cleared := again
		cleared.AuthorizedAt = nil
		cleared.UpdatedAt = e.now()
		updateRole(t, e, &cleared)

		// Azure: a new service principal.
		az := *azure
		az.AuthorizedAt = ptr(e.now())
		az.UpdatedAt = *az.AuthorizedAt
		az.AtlasAzureAppID, az.ServicePrincipalID, az.TenantID = "app-2", "sp-2", "tenant-2"
		updateRole(t, e, &az)

		// GCP: service account and status.
		g := *gcp
		g.UpdatedAt = e.now()
		g.GCPServiceAccount, g.GCPStatus = "other@p-x.iam.gserviceaccount.com", "IN_PROGRESS"
		updateRole(t, e, &g)

		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.ListCloudProviderAccessRoles(e.ctx, p.ID)
			noErr(t, "ListCloudProviderAccessRoles", err)
			sameOrder(t, "ListCloudProviderAccessRoles after updates", got, []*snapexport.CloudProviderAccessRole{&cleared, &az, &g}, roleID)
			return nil
		})
	}},
	{"UpdateMissing", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r := e.role(p.ID, snapexport.AWS)
		missing := e.newRole(p.ID, snapexport.AWS)
		err := e.write(func(tx snapexport.Tx) error { return tx.UpdateCloudProviderAccessRole(e.ctx, missing) })
		wantErr(t, "UpdateCloudProviderAccessRole(missing)", err, snapexport.ErrNotFound)
		elsewhere := *r
		elsewhere.ProjectID = other.ID
		elsewhere.AuthorizedAt = ptr(e.now())
		err = e.write(func(tx snapexport.Tx) error { return tx.UpdateCloudProviderAccessRole(e.ctx, &elsewhere) })
		wantErr(t, "UpdateCloudProviderAccessRole(role of another project)", err, snapexport.ErrNotFound)
		e.mustRead(func(tx snapexport.Tx) error {
			got, err := tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID)
			noErr(t, "CloudProviderAccessRole", err)
			same(t, "CloudProviderAccessRole after a failed update", got, r)
			return nil
		})
	}},
	{"Delete", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r, kept := e.role(p.ID, snapexport.AWS), e.role(p.ID, snapexport.GCP)
		err := e.write(func(tx snapexport.Tx) error { return tx.DeleteCloudProviderAccessRole(e.ctx, other.ID, r.ID) })
		wantErr(t, "DeleteCloudProviderAccessRole(role of another project)", err, snapexport.ErrNotFound)
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteCloudProviderAccessRole(e.ctx, p.ID, r.ID) })
		e.mustRead(func(tx snapexport.Tx) error {
			_, err := tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID)
			wantErr(t, "CloudProviderAccessRole(deleted)", err, snapexport.ErrNotFound)
			got, err := tx.ListCloudProviderAccessRoles(e.ctx, p.ID)
			noErr(t, "ListCloudProviderAccessRoles", err)
			sameOrder(t, "ListCloudProviderAccessRoles after delete", got, []*snapexport.CloudProviderAccessRole{kept}, roleID)
			return nil
		})
		err = e.write(func(tx snapexport.Tx) error { return tx.DeleteCloudProviderAccessRole(e.ctx, p.ID, r.ID) })
		wantErr(t, "DeleteCloudProviderAccessRole(already deleted)", err, snapexport.ErrNotFound)
	}},
}

// updateRole writes r with UpdateCloudProviderAccessRole and reads it back.
func updateRole(t *testing.T, e *env, r *snapexport.CloudProviderAccessRole) {
	t.Helper()
	e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateCloudProviderAccessRole(e.ctx, r) })
	e.mustRead(func(tx snapexport.Tx) error {
		got, err := tx.CloudProviderAccessRole(e.ctx, r.ProjectID, r.ID)
		noErr(t, "CloudProviderAccessRole", err)
		same(t, "CloudProviderAccessRole after update", got, r)
		return nil
	})
}
