package sqlite

import (
	"context"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return insert(ctx, t.tx, "cloud_provider_access_roles", sqlrow.AccessRoleColumns, sqlrow.AccessRoleValues(r))
}

func (t *tx) CloudProviderAccessRole(ctx context.Context, projectID, id string) (*snapexport.CloudProviderAccessRole, error) {
	return sqlrow.ScanAccessRole(queryRow(ctx, t.tx, `SELECT `+sqlrow.AccessRoleColumns+` FROM cloud_provider_access_roles WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListCloudProviderAccessRoles(ctx context.Context, projectID string) ([]*snapexport.CloudProviderAccessRole, error) {
	return query(ctx, t.tx, sqlrow.ScanAccessRole, `SELECT `+sqlrow.AccessRoleColumns+` FROM cloud_provider_access_roles WHERE project_id = ? ORDER BY seq`, projectID)
}

func (t *tx) UpdateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return affected(exec(ctx, t.tx, `UPDATE cloud_provider_access_roles SET authorized_at = ?, updated_at = ?,
		iam_assumed_role_arn = ?, atlas_azure_app_id = ?, service_principal_id = ?, tenant_id = ?, gcp_service_account = ?, gcp_status = ?
		WHERE project_id = ? AND id = ?`, sqlrow.AccessRoleAuthorizationValues(r)...))
}

func (t *tx) DeleteCloudProviderAccessRole(ctx context.Context, projectID, id string) error {
	return affected(exec(ctx, t.tx, `DELETE FROM cloud_provider_access_roles WHERE project_id = ? AND id = ?`, projectID, id))
}
