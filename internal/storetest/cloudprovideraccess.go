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
			e.wantStored(t, "CloudProviderAccessRole("+string(provider)+")", r)
		}
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r := e.role(p.ID, snapexport.AWS)
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "CloudProviderAccessRole(missing)")(tx.CloudProviderAccessRole(e.ctx, p.ID, e.id()))
			missing(t, "CloudProviderAccessRole(role of another project)")(tx.CloudProviderAccessRole(e.ctx, other.ID, r.ID))
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		r := e.role(p.ID, snapexport.AWS)
		dup := e.newRole(p.ID, snapexport.GCP)
		dup.ID = r.ID
		e.wantWriteErr(t, "CreateCloudProviderAccessRole(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateCloudProviderAccessRole(e.ctx, dup) })
		e.wantStored(t, "CloudProviderAccessRole after a conflicting create", r)
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
			listed(t, "ListCloudProviderAccessRoles", want, roleID)(tx.ListCloudProviderAccessRoles(e.ctx, p.ID))
			listed(t, "ListCloudProviderAccessRoles(project without roles)", nil, roleID)(tx.ListCloudProviderAccessRoles(e.ctx, empty.ID))
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
			listed(t, "ListCloudProviderAccessRoles after updates", []*snapexport.CloudProviderAccessRole{&cleared, &az, &g}, roleID)(tx.ListCloudProviderAccessRoles(e.ctx, p.ID))
			return nil
		})
	}},
	{"UpdateMissing", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r := e.role(p.ID, snapexport.AWS)
		missing := e.newRole(p.ID, snapexport.AWS)
		e.wantWriteErr(t, "UpdateCloudProviderAccessRole(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateCloudProviderAccessRole(e.ctx, missing) })
		elsewhere := *r
		elsewhere.ProjectID = other.ID
		elsewhere.AuthorizedAt = ptr(e.now())
		e.wantWriteErr(t, "UpdateCloudProviderAccessRole(role of another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateCloudProviderAccessRole(e.ctx, &elsewhere) })
		e.wantStored(t, "CloudProviderAccessRole after a failed update", r)
	}},
	{"Delete", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r, kept := e.role(p.ID, snapexport.AWS), e.role(p.ID, snapexport.GCP)
		e.wantWriteErr(t, "DeleteCloudProviderAccessRole(role of another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteCloudProviderAccessRole(e.ctx, other.ID, r.ID) })
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteCloudProviderAccessRole(e.ctx, p.ID, r.ID) })
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "CloudProviderAccessRole(deleted)")(tx.CloudProviderAccessRole(e.ctx, p.ID, r.ID))
			listed(t, "ListCloudProviderAccessRoles after delete", []*snapexport.CloudProviderAccessRole{kept}, roleID)(tx.ListCloudProviderAccessRoles(e.ctx, p.ID))
			return nil
		})
		e.wantWriteErr(t, "DeleteCloudProviderAccessRole(already deleted)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteCloudProviderAccessRole(e.ctx, p.ID, r.ID) })
	}},
}

// updateRole writes r with UpdateCloudProviderAccessRole and reads it back.
func updateRole(t *testing.T, e *env, r *snapexport.CloudProviderAccessRole) {
	t.Helper()
	e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateCloudProviderAccessRole(e.ctx, r) })
	e.wantStored(t, "CloudProviderAccessRole after update", r)
}
