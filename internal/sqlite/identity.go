package sqlite

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateOrganization(ctx context.Context, o *snapexport.Organization) error {
	return insert(ctx, t.tx, "organizations", sqlrow.OrganizationColumns, sqlrow.OrganizationValues(o))
}

func (t *tx) Organization(ctx context.Context, id string) (*snapexport.Organization, error) {
	return sqlrow.ScanOrganization(queryRow(ctx, t.tx, `SELECT `+sqlrow.OrganizationColumns+` FROM organizations WHERE id = ?`, id))
}

func (t *tx) ListOrganizations(ctx context.Context) ([]*snapexport.Organization, error) {
	// rowid, insertion order, breaks ties of created_at here and below.
	return query(ctx, t.tx, sqlrow.ScanOrganization, `SELECT `+sqlrow.OrganizationColumns+` FROM organizations ORDER BY created_at, rowid`)
}

func (t *tx) CreateProject(ctx context.Context, p *snapexport.Project) error {
	return insert(ctx, t.tx, "projects", sqlrow.ProjectColumns, sqlrow.ProjectValues(p))
}

func (t *tx) Project(ctx context.Context, id string) (*snapexport.Project, error) {
	return sqlrow.ScanProject(queryRow(ctx, t.tx, `SELECT `+sqlrow.ProjectColumns+` FROM projects WHERE id = ?`, id))
}

func (t *tx) ProjectByName(ctx context.Context, orgID, name string) (*snapexport.Project, error) {
	return sqlrow.ScanProject(queryRow(ctx, t.tx, `SELECT `+sqlrow.ProjectColumns+` FROM projects WHERE org_id = ? AND name = ?`, orgID, name))
}

func (t *tx) ListProjects(ctx context.Context, orgIDs, ids []string, page snapexport.Page) ([]*snapexport.Project, int, error) {
	where := `org_id IN (` + placeholders(len(orgIDs)) + `) OR id IN (` + placeholders(len(ids)) + `)`
	args := make([]any, 0, len(orgIDs)+len(ids))
	for _, v := range orgIDs {
		args = append(args, v)
	}
	for _, v := range ids {
		args = append(args, v)
	}
	return countedPage(ctx, t, sqlrow.ScanProject, sqlrow.ProjectColumns, "projects", where, args, page)
}

func (t *tx) CreateAPIKey(ctx context.Context, k *snapexport.APIKey) error {
	return insert(ctx, t.tx, "api_keys", sqlrow.APIKeyColumns, sqlrow.APIKeyValues(k))
}

func (t *tx) APIKeyByPublicKey(ctx context.Context, publicKey string) (*snapexport.APIKey, error) {
	return sqlrow.ScanAPIKey(queryRow(ctx, t.tx, `SELECT `+sqlrow.APIKeyColumns+` FROM api_keys WHERE public_key = ?`, publicKey))
}

func (t *tx) ListAPIKeys(ctx context.Context, orgID string) ([]*snapexport.APIKey, error) {
	return query(ctx, t.tx, sqlrow.ScanAPIKey, `SELECT `+sqlrow.APIKeyColumns+` FROM api_keys WHERE org_id = ? ORDER BY created_at, rowid`, orgID)
}

func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	if err := affected(exec(ctx, t.tx, `DELETE FROM api_keys WHERE id = ?`, id)); err != nil {
		return err
	}
	_, err := exec(ctx, t.tx, `DELETE FROM role_assignments WHERE principal_id = ?`, id)
	return err
}

func (t *tx) CreateServiceAccount(ctx context.Context, sa *snapexport.ServiceAccount) error {
	return insert(ctx, t.tx, "service_accounts", sqlrow.ServiceAccountColumns, sqlrow.ServiceAccountValues(sa))
}

func (t *tx) ServiceAccountByClientID(ctx context.Context, clientID string) (*snapexport.ServiceAccount, error) {
	return sqlrow.ScanServiceAccount(queryRow(ctx, t.tx, `SELECT `+sqlrow.ServiceAccountColumns+` FROM service_accounts WHERE client_id = ?`, clientID))
}

func (t *tx) ServiceAccount(ctx context.Context, id string) (*snapexport.ServiceAccount, error) {
	return sqlrow.ScanServiceAccount(queryRow(ctx, t.tx, `SELECT `+sqlrow.ServiceAccountColumns+` FROM service_accounts WHERE id = ?`, id))
}

func (t *tx) ListServiceAccounts(ctx context.Context, orgID string) ([]*snapexport.ServiceAccount, error) {
	return query(ctx, t.tx, sqlrow.ScanServiceAccount, `SELECT `+sqlrow.ServiceAccountColumns+` FROM service_accounts WHERE org_id = ? ORDER BY created_at, rowid`, orgID)
}

func (t *tx) DeleteServiceAccount(ctx context.Context, id string) error {
	if err := affected(exec(ctx, t.tx, `DELETE FROM service_accounts WHERE id = ?`, id)); err != nil {
		return err
	}
	if _, err := exec(ctx, t.tx, `DELETE FROM access_tokens WHERE service_account_id = ?`, id); err != nil {
		return err
	}
	_, err := exec(ctx, t.tx, `DELETE FROM role_assignments WHERE principal_id = ?`, id)
	return err
}

func (t *tx) AssignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	_, err := exec(ctx, t.tx, `INSERT INTO role_assignments (`+sqlrow.RoleAssignmentColumns+`) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		sqlrow.RoleAssignmentValues(ra)...)
	return err
}

func (t *tx) UnassignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	return affected(exec(ctx, t.tx, `DELETE FROM role_assignments WHERE principal_id = ? AND org_id = ? AND project_id = ? AND role = ?`,
		sqlrow.RoleAssignmentValues(ra)...))
}

func (t *tx) ListRoles(ctx context.Context, principalID string) ([]snapexport.RoleAssignment, error) {
	return query(ctx, t.tx, sqlrow.ScanRoleAssignment, `SELECT `+sqlrow.RoleAssignmentColumns+` FROM role_assignments WHERE principal_id = ? ORDER BY org_id, project_id, role`, principalID)
}

func (t *tx) CreateAccessToken(ctx context.Context, at *snapexport.AccessToken) error {
	if err := insert(ctx, t.tx, "access_tokens", sqlrow.AccessTokenColumns, sqlrow.AccessTokenValues(at)); err != nil {
		return err
	}
	// Expired tokens are useless; drop them as new ones arrive so the table
	// stays the size of the live set.
	_, err := exec(ctx, t.tx, `DELETE FROM access_tokens WHERE expires_at < ?`, at.IssuedAt)
	return err
}

func (t *tx) AccessToken(ctx context.Context, hash string) (*snapexport.AccessToken, error) {
	return sqlrow.ScanAccessToken(queryRow(ctx, t.tx, `SELECT `+sqlrow.AccessTokenColumns+` FROM access_tokens WHERE hash = ?`, hash))
}

func (t *tx) RevokeAccessToken(ctx context.Context, hash string, at time.Time) error {
	return affected(exec(ctx, t.tx, `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE hash = ?`, at, hash))
}

// ServerSecret implements snapexport.Tx.
func (t *tx) ServerSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	_, err := exec(ctx, t.tx, `INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, base64.StdEncoding.EncodeToString(candidate))
	if err != nil {
		return nil, err
	}
	var value string
	if err := queryRow(ctx, t.tx, `SELECT value FROM server_secrets WHERE name = ?`, name).Scan(&value); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(value)
}
