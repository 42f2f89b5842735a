package postgres

import (
	"context"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return t.insert(ctx, "cloud provider access role", "cloud_provider_access_roles", sqlrow.AccessRoleColumns, sqlrow.AccessRoleValues(r))
}

func (t *tx) CloudProviderAccessRole(ctx context.Context, projectID, id string) (*snapexport.CloudProviderAccessRole, error) {
	return sqlrow.ScanAccessRole(t.queryRow(ctx, `SELECT `+sqlrow.AccessRoleColumns+` FROM cloud_provider_access_roles WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListCloudProviderAccessRoles(ctx context.Context, projectID string) ([]*snapexport.CloudProviderAccessRole, error) {
	return query(ctx, t, sqlrow.ScanAccessRole, `SELECT `+sqlrow.AccessRoleColumns+` FROM cloud_provider_access_roles WHERE project_id = $1 ORDER BY seq`, projectID)
}

func (t *tx) UpdateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return affected(t.exec(ctx, `UPDATE cloud_provider_access_roles SET authorized_at = $1, updated_at = $2,
		iam_assumed_role_arn = $3, atlas_azure_app_id = $4, service_principal_id = $5, tenant_id = $6, gcp_service_account = $7, gcp_status = $8
		WHERE project_id = $9 AND id = $10`, sqlrow.AccessRoleAuthorizationValues(r)...))
}

func (t *tx) DeleteCloudProviderAccessRole(ctx context.Context, projectID, id string) error {
	return affected(t.exec(ctx, `DELETE FROM cloud_provider_access_roles WHERE project_id = $1 AND id = $2`, projectID, id))
}
