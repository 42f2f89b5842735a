package sqlite

import (
	"context"
	"database/sql"

	"github.com/snapexport/snapexport"
)

const roleColumns = `id, project_id, provider, created_at, authorized_at, updated_at, atlas_aws_account_arn, external_id,
	iam_assumed_role_arn, atlas_azure_app_id, service_principal_id, tenant_id, gcp_service_account, gcp_status`

func scanRole(s interface{ Scan(...any) error }) (*snapexport.CloudProviderAccessRole, error) {
	var r snapexport.CloudProviderAccessRole
	var provider, created, updated string
	var authorized sql.NullString
	err := s.Scan(&r.ID, &r.ProjectID, &provider, &created, &authorized, &updated, &r.AtlasAWSAccountARN, &r.ExternalID,
		&r.IAMAssumedRoleARN, &r.AtlasAzureAppID, &r.ServicePrincipalID, &r.TenantID, &r.GCPServiceAccount, &r.GCPStatus)
	if err != nil {
		return nil, notFound(err)
	}
	r.Provider = snapexport.CloudProvider(provider)
	r.CreatedAt, r.UpdatedAt, r.AuthorizedAt = parseTime(created), parseTime(updated), parseTimePtr(authorized)
	return &r, nil
}

func roleValues(r *snapexport.CloudProviderAccessRole) []any {
	return []any{r.ID, r.ProjectID, string(r.Provider), formatTime(r.CreatedAt), formatTimePtr(r.AuthorizedAt), formatTime(r.UpdatedAt),
		r.AtlasAWSAccountARN, r.ExternalID, r.IAMAssumedRoleARN, r.AtlasAzureAppID, r.ServicePrincipalID, r.TenantID,
		r.GCPServiceAccount, r.GCPStatus}
}

func (t *tx) CreateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO cloud_provider_access_roles (`+roleColumns+`) VALUES (`+placeholders(14)+`)`, roleValues(r)...)
	return conflict(err)
}

func (t *tx) CloudProviderAccessRole(ctx context.Context, projectID, id string) (*snapexport.CloudProviderAccessRole, error) {
	return scanRole(t.tx.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM cloud_provider_access_roles WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListCloudProviderAccessRoles(ctx context.Context, projectID string) ([]*snapexport.CloudProviderAccessRole, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+roleColumns+` FROM cloud_provider_access_roles WHERE project_id = ? ORDER BY seq`, projectID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanRole)
}

func (t *tx) UpdateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return affected(t.tx.ExecContext(ctx, `UPDATE cloud_provider_access_roles SET authorized_at = ?, updated_at = ?,
		iam_assumed_role_arn = ?, atlas_azure_app_id = ?, service_principal_id = ?, tenant_id = ?, gcp_service_account = ?, gcp_status = ?
		WHERE project_id = ? AND id = ?`,
		formatTimePtr(r.AuthorizedAt), formatTime(r.UpdatedAt), r.IAMAssumedRoleARN, r.AtlasAzureAppID, r.ServicePrincipalID,
		r.TenantID, r.GCPServiceAccount, r.GCPStatus, r.ProjectID, r.ID))
}

func (t *tx) DeleteCloudProviderAccessRole(ctx context.Context, projectID, id string) error {
	return affected(t.tx.ExecContext(ctx, `DELETE FROM cloud_provider_access_roles WHERE project_id = ? AND id = ?`, projectID, id))
}
