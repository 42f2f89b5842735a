package sqlrow

import "github.com/snapexport/snapexport"

// AccessRoleColumns are the columns of cloud_provider_access_roles that
// AccessRoleValues fills and ScanAccessRole reads, in that order.
const AccessRoleColumns = `id, project_id, provider, created_at, authorized_at, updated_at, atlas_aws_account_arn, external_id,
	iam_assumed_role_arn, atlas_azure_app_id, service_principal_id, tenant_id, gcp_service_account, gcp_status`

func AccessRoleValues(r *snapexport.CloudProviderAccessRole) []any {
	return []any{r.ID, r.ProjectID, string(r.Provider), r.CreatedAt, r.AuthorizedAt, r.UpdatedAt,
		r.AtlasAWSAccountARN, r.ExternalID, r.IAMAssumedRoleARN, r.AtlasAzureAppID, r.ServicePrincipalID, r.TenantID,
		r.GCPServiceAccount, r.GCPStatus}
}

func ScanAccessRole(s Scanner) (*snapexport.CloudProviderAccessRole, error) {
	var r snapexport.CloudProviderAccessRole
	err := s.Scan(&r.ID, &r.ProjectID, (*string)(&r.Provider), timeColumn{&r.CreatedAt}, nullTimeColumn{&r.AuthorizedAt},
		timeColumn{&r.UpdatedAt}, &r.AtlasAWSAccountARN, &r.ExternalID, &r.IAMAssumedRoleARN, &r.AtlasAzureAppID,
		&r.ServicePrincipalID, &r.TenantID, &r.GCPServiceAccount, &r.GCPStatus)
	if err != nil {
		return nil, NotFound(err)
	}
	return &r, nil
}

// AccessRoleAuthorizationValues are the values of an update of a role's
// authorization (Tx.UpdateCloudProviderAccessRole): authorized_at,
// updated_at, iam_assumed_role_arn, atlas_azure_app_id,
// service_principal_id, tenant_id, gcp_service_account and gcp_status,
// then the project_id and id of the row.
func AccessRoleAuthorizationValues(r *snapexport.CloudProviderAccessRole) []any {
	return []any{r.AuthorizedAt, r.UpdatedAt, r.IAMAssumedRoleARN, r.AtlasAzureAppID, r.ServicePrincipalID,
		r.TenantID, r.GCPServiceAccount, r.GCPStatus, r.ProjectID, r.ID}
}
