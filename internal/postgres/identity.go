package postgres

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

// Creation order: seq, the identity column, breaks ties of created_at here
// and below, as rowid does in the SQLite store.

func (t *tx) CreateOrganization(ctx context.Context, o *snapexport.Organization) error {
	return t.insert(ctx, "organization", "organizations", sqlrow.OrganizationColumns, sqlrow.OrganizationValues(o))
}

func (t *tx) Organization(ctx context.Context, id string) (*snapexport.Organization, error) {
	return sqlrow.ScanOrganization(t.queryRow(ctx, `SELECT `+sqlrow.OrganizationColumns+` FROM organizations WHERE id = $1`, id))
}

func (t *tx) ListOrganizations(ctx context.Context) ([]*snapexport.Organization, error) {
	return query(ctx, t, sqlrow.ScanOrganization, `SELECT `+sqlrow.OrganizationColumns+` FROM organizations ORDER BY created_at, seq`)
}

func (t *tx) CreateProject(ctx context.Context, p *snapexport.Project) error {
	// One lock for all projects: a caller's list spans organizations.
	return t.insertListed(ctx, "projects", "project", "projects", sqlrow.ProjectColumns, sqlrow.ProjectValues(p))
}

func (t *tx) Project(ctx context.Context, id string) (*snapexport.Project, error) {
	return sqlrow.ScanProject(t.queryRow(ctx, `SELECT `+sqlrow.ProjectColumns+` FROM projects WHERE id = $1`, id))
}

func (t *tx) ProjectByName(ctx context.Context, orgID, name string) (*snapexport.Project, error) {
	return sqlrow.ScanProject(t.queryRow(ctx, `SELECT `+sqlrow.ProjectColumns+` FROM projects WHERE org_id = $1 AND name = $2`, orgID, name))
}

func (t *tx) ListProjects(ctx context.Context, orgIDs, ids []string, page snapexport.Page) ([]*snapexport.Project, int, error) {
	// Empty lists match nothing (= ANY of an empty array is false).
	orgIDs, ids = nonNil(orgIDs), nonNil(ids)
	return countedPage(ctx, t, sqlrow.ScanProject, sqlrow.ProjectColumns, "projects", `org_id = ANY($1) OR id = ANY($2)`,
		[]any{orgIDs, ids}, page)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t *tx) CreateAPIKey(ctx context.Context, k *snapexport.APIKey) error {
	return t.insert(ctx, "API key", "api_keys", sqlrow.APIKeyColumns, sqlrow.APIKeyValues(k))
}

func (t *tx) APIKeyByPublicKey(ctx context.Context, publicKey string) (*snapexport.APIKey, error) {
	return sqlrow.ScanAPIKey(t.queryRow(ctx, `SELECT `+sqlrow.APIKeyColumns+` FROM api_keys WHERE public_key = $1`, publicKey))
}

func (t *tx) ListAPIKeys(ctx context.Context, orgID string) ([]*snapexport.APIKey, error) {
	return query(ctx, t, sqlrow.ScanAPIKey, `SELECT `+sqlrow.APIKeyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at, seq`, orgID)
}

func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	if err := affected(t.exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM role_assignments WHERE principal_id = $1`, id)
	return err
}

func (t *tx) CreateServiceAccount(ctx context.Context, sa *snapexport.ServiceAccount) error {
	return t.insert(ctx, "service account", "service_accounts", sqlrow.ServiceAccountColumns, sqlrow.ServiceAccountValues(sa))
}

func (t *tx) ServiceAccountByClientID(ctx context.Context, clientID string) (*snapexport.ServiceAccount, error) {
	return sqlrow.ScanServiceAccount(t.queryRow(ctx, `SELECT `+sqlrow.ServiceAccountColumns+` FROM service_accounts WHERE client_id = $1`, clientID))
}

func (t *tx) ServiceAccount(ctx context.Context, id string) (*snapexport.ServiceAccount, error) {
	return sqlrow.ScanServiceAccount(t.queryRow(ctx, `SELECT `+sqlrow.ServiceAccountColumns+` FROM service_accounts WHERE id = $1`, id))
}

func (t *tx) ListServiceAccounts(ctx context.Context, orgID string) ([]*snapexport.ServiceAccount, error) {
	return query(ctx, t, sqlrow.ScanServiceAccount, `SELECT `+sqlrow.ServiceAccountColumns+` FROM service_accounts WHERE org_id = $1 ORDER BY created_at, seq`, orgID)
}

func (t *tx) DeleteServiceAccount(ctx context.Context, id string) error {
	if err := affected(t.exec(ctx, `DELETE FROM service_accounts WHERE id = $1`, id)); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM access_tokens WHERE service_account_id = $1`, id); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM role_assignments WHERE principal_id = $1`, id)
	return err
}

func (t *tx) AssignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	_, err := t.exec(ctx, `INSERT INTO role_assignments (`+sqlrow.RoleAssignmentColumns+`) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		sqlrow.RoleAssignmentValues(ra)...)
	return err
}

func (t *tx) UnassignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	return affected(t.exec(ctx, `DELETE FROM role_assignments WHERE principal_id = $1 AND org_id = $2 AND project_id = $3 AND role = $4`,
		sqlrow.RoleAssignmentValues(ra)...))
}

func (t *tx) ListRoles(ctx context.Context, principalID string) ([]snapexport.RoleAssignment, error) {
	return query(ctx, t, sqlrow.ScanRoleAssignment, `SELECT `+sqlrow.RoleAssignmentColumns+` FROM role_assignments WHERE principal_id = $1 ORDER BY org_id, project_id, role`, principalID)
}

func (t *tx) CreateAccessToken(ctx context.Context, at *snapexport.AccessToken) error {
	if err := t.insert(ctx, "access token", "access_tokens", sqlrow.AccessTokenColumns, sqlrow.AccessTokenValues(at)); err != nil {
		return err
	}
	// Expired tokens are useless; drop them as new ones arrive so the table
	// stays the size of the live set.
	_, err := t.exec(ctx, `DELETE FROM access_tokens WHERE expires_at < $1`, at.IssuedAt)
	return err
}

func (t *tx) AccessToken(ctx context.Context, hash string) (*snapexport.AccessToken, error) {
	return sqlrow.ScanAccessToken(t.queryRow(ctx, `SELECT `+sqlrow.AccessTokenColumns+` FROM access_tokens WHERE hash = $1`, hash))
}

func (t *tx) RevokeAccessToken(ctx context.Context, hash string, at time.Time) error {
	return affected(t.exec(ctx, `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`, at, hash))
}

// ServerSecret implements snapexport.Tx.
func (t *tx) ServerSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	_, err := t.exec(ctx, `INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, base64.StdEncoding.EncodeToString(candidate))
	if err != nil {
		return nil, err
	}
	var value string
	if err := t.queryRow(ctx, `SELECT value FROM server_secrets WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(value)
}
