package postgres

import (
	"context"

	"github.com/snapexport/snapexport"
)

const roleColumns = `id, project_id, provider, created_at, authorized_at, updated_at, atlas_aws_account_arn, external_id,
	iam_assumed_role_arn, atlas_azure_app_id, service_principal_id, tenant_id, gcp_service_account, gcp_status`

func scanRole(s scanner) (*snapexport.CloudProviderAccessRole, error) {
	var r snapexport.CloudProviderAccessRole
	var provider string
	err := s.Scan(&r.ID, &r.ProjectID, &provider, &r.CreatedAt, &r.AuthorizedAt, &r.UpdatedAt, &r.AtlasAWSAccountARN, &r.ExternalID,
		&r.IAMAssumedRoleARN, &r.AtlasAzureAppID, &r.ServicePrincipalID, &r.TenantID, &r.GCPServiceAccount, &r.GCPStatus)
	if err != nil {
		return nil, notFound(err)
	}
	r.Provider = snapexport.CloudProvider(provider)
	r.CreatedAt, r.UpdatedAt, r.AuthorizedAt = utc(r.CreatedAt), utc(r.UpdatedAt), utcPtr(r.AuthorizedAt)
	return &r, nil
}

func (t *tx) CreateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return inserted("cloud provider access role")(t.exec(ctx, `INSERT INTO cloud_provider_access_roles (`+roleColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
		r.ID, r.ProjectID, string(r.Provider), r.CreatedAt, r.AuthorizedAt, r.UpdatedAt,
		r.AtlasAWSAccountARN, r.ExternalID, r.IAMAssumedRoleARN, r.AtlasAzureAppID, r.ServicePrincipalID, r.TenantID,
		r.GCPServiceAccount, r.GCPStatus))
}

func (t *tx) CloudProviderAccessRole(ctx context.Context, projectID, id string) (*snapexport.CloudProviderAccessRole, error) {
	return scanRole(t.queryRow(ctx, `SELECT `+roleColumns+` FROM cloud_provider_access_roles WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListCloudProviderAccessRoles(ctx context.Context, projectID string) ([]*snapexport.CloudProviderAccessRole, error) {
	return query(ctx, t, scanRole, `SELECT `+roleColumns+` FROM cloud_provider_access_roles WHERE project_id = $1 ORDER BY seq`, projectID)
}

func (t *tx) UpdateCloudProviderAccessRole(ctx context.Context, r *snapexport.CloudProviderAccessRole) error {
	return affected(t.exec(ctx, `UPDATE cloud_provider_access_roles SET authorized_at = $1, updated_at = $2,
		iam_assumed_role_arn = $3, atlas_azure_app_id = $4, service_principal_id = $5, tenant_id = $6, gcp_service_account = $7, gcp_status = $8
		WHERE project_id = $9 AND id = $10`,
		r.AuthorizedAt, r.UpdatedAt, r.IAMAssumedRoleARN, r.AtlasAzureAppID, r.ServicePrincipalID,
		r.TenantID, r.GCPServiceAccount, r.GCPStatus, r.ProjectID, r.ID))
}

func (t *tx) DeleteCloudProviderAccessRole(ctx context.Context, projectID, id string) error {
	return affected(t.exec(ctx, `DELETE FROM cloud_provider_access_roles WHERE project_id = $1 AND id = $2`, projectID, id))
}
