package sqlrow

import "github.com/snapexport/snapexport"

// OrganizationColumns are the columns of organizations that
// OrganizationValues fills and ScanOrganization reads, in that order.
const OrganizationColumns = `id, name, created_at`

func OrganizationValues(o *snapexport.Organization) []any {
	return []any{o.ID, o.Name, o.CreatedAt}
}

func ScanOrganization(s Scanner) (*snapexport.Organization, error) {
	var o snapexport.Organization
	if err := s.Scan(&o.ID, &o.Name, timeColumn{&o.CreatedAt}); err != nil {
		return nil, NotFound(err)
	}
	return &o, nil
}

// ProjectColumns are the columns of projects that ProjectValues fills and
// ScanProject reads, in that order.
const ProjectColumns = `id, org_id, name, created_at`

func ProjectValues(p *snapexport.Project) []any {
	return []any{p.ID, p.OrgID, p.Name, p.CreatedAt}
}

func ScanProject(s Scanner) (*snapexport.Project, error) {
	var p snapexport.Project
	if err := s.Scan(&p.ID, &p.OrgID, &p.Name, timeColumn{&p.CreatedAt}); err != nil {
		return nil, NotFound(err)
	}
	return &p, nil
}

// APIKeyColumns are the columns of api_keys that APIKeyValues fills and
// ScanAPIKey reads, in that order.
const APIKeyColumns = `id, org_id, public_key, ha1, description, created_at`

func APIKeyValues(k *snapexport.APIKey) []any {
	return []any{k.ID, k.OrgID, k.PublicKey, k.HA1, k.Description, k.CreatedAt}
}

func ScanAPIKey(s Scanner) (*snapexport.APIKey, error) {
	var k snapexport.APIKey
	if err := s.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.HA1, &k.Description, timeColumn{&k.CreatedAt}); err != nil {
		return nil, NotFound(err)
	}
	return &k, nil
}

// ServiceAccountColumns are the columns of service_accounts that
// ServiceAccountValues fills and ScanServiceAccount reads, in that order.
const ServiceAccountColumns = `id, org_id, client_id, secret_hash, name, description, created_at`

func ServiceAccountValues(sa *snapexport.ServiceAccount) []any {
	return []any{sa.ID, sa.OrgID, sa.ClientID, sa.SecretHash, sa.Name, sa.Description, sa.CreatedAt}
}

func ScanServiceAccount(s Scanner) (*snapexport.ServiceAccount, error) {
	var sa snapexport.ServiceAccount
	if err := s.Scan(&sa.ID, &sa.OrgID, &sa.ClientID, &sa.SecretHash, &sa.Name, &sa.Description, timeColumn{&sa.CreatedAt}); err != nil {
		return nil, NotFound(err)
	}
	return &sa, nil
}

// RoleAssignmentColumns are the columns of role_assignments, its whole
// primary key, that RoleAssignmentValues fills and ScanRoleAssignment
// reads, in that order.
const RoleAssignmentColumns = `principal_id, org_id, project_id, role`

func RoleAssignmentValues(ra snapexport.RoleAssignment) []any {
	return []any{ra.PrincipalID, ra.OrgID, ra.ProjectID, string(ra.Role)}
}

func ScanRoleAssignment(s Scanner) (snapexport.RoleAssignment, error) {
	var ra snapexport.RoleAssignment
	err := s.Scan(&ra.PrincipalID, &ra.OrgID, &ra.ProjectID, (*string)(&ra.Role))
	return ra, NotFound(err)
}

// AccessTokenColumns are the columns of access_tokens that
// AccessTokenValues fills and ScanAccessToken reads, in that order.
const AccessTokenColumns = `hash, service_account_id, issued_at, expires_at, revoked_at`

func AccessTokenValues(at *snapexport.AccessToken) []any {
	return []any{at.Hash, at.ServiceAccountID, at.IssuedAt, at.ExpiresAt, at.RevokedAt}
}

func ScanAccessToken(s Scanner) (*snapexport.AccessToken, error) {
	var at snapexport.AccessToken
	err := s.Scan(&at.Hash, &at.ServiceAccountID, timeColumn{&at.IssuedAt}, timeColumn{&at.ExpiresAt}, nullTimeColumn{&at.RevokedAt})
	if err != nil {
		return nil, NotFound(err)
	}
	return &at, nil
}
