package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/snapexport/snapexport"
)

func (t *tx) CreateOrganization(ctx context.Context, o *snapexport.Organization) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)`,
		o.ID, o.Name, formatTime(o.CreatedAt))
	return conflict(err)
}

func (t *tx) Organization(ctx context.Context, id string) (*snapexport.Organization, error) {
	var o snapexport.Organization
	var created string
	err := t.tx.QueryRowContext(ctx, `SELECT id, name, created_at FROM organizations WHERE id = ?`, id).
		Scan(&o.ID, &o.Name, &created)
	if err != nil {
		return nil, notFound(err)
	}
	o.CreatedAt = parseTime(created)
	return &o, nil
}

func (t *tx) ListOrganizations(ctx context.Context) ([]*snapexport.Organization, error) {
	// rowid, insertion order, breaks ties of created_at here and below.
	rows, err := t.tx.QueryContext(ctx, `SELECT id, name, created_at FROM organizations ORDER BY created_at, rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*snapexport.Organization
	for rows.Next() {
		var o snapexport.Organization
		var created string
		if err := rows.Scan(&o.ID, &o.Name, &created); err != nil {
			return nil, err
		}
		o.CreatedAt = parseTime(created)
		out = append(out, &o)
	}
	return out, rows.Err()
}

const projectColumns = `id, org_id, name, created_at`

func scanProject(s interface{ Scan(...any) error }) (*snapexport.Project, error) {
	var p snapexport.Project
	var created string
	if err := s.Scan(&p.ID, &p.OrgID, &p.Name, &created); err != nil {
		return nil, notFound(err)
	}
	p.CreatedAt = parseTime(created)
	return &p, nil
}

func (t *tx) CreateProject(ctx context.Context, p *snapexport.Project) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO projects (id, org_id, name, created_at) VALUES (?, ?, ?, ?)`,
		p.ID, p.OrgID, p.Name, formatTime(p.CreatedAt))
	return conflict(err)
}

func (t *tx) Project(ctx context.Context, id string) (*snapexport.Project, error) {
	return scanProject(t.tx.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id))
}

func (t *tx) ProjectByName(ctx context.Context, orgID, name string) (*snapexport.Project, error) {
	return scanProject(t.tx.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE org_id = ? AND name = ?`, orgID, name))
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
	var total int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE `+where+` ORDER BY seq`+limitOffset(page), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*snapexport.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

func (t *tx) CreateAPIKey(ctx context.Context, k *snapexport.APIKey) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, public_key, ha1, description, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.OrgID, k.PublicKey, k.HA1, k.Description, formatTime(k.CreatedAt))
	return conflict(err)
}

const apiKeyColumns = `id, org_id, public_key, ha1, description, created_at`

func scanAPIKey(s interface{ Scan(...any) error }) (*snapexport.APIKey, error) {
	var k snapexport.APIKey
	var created string
	if err := s.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.HA1, &k.Description, &created); err != nil {
		return nil, notFound(err)
	}
	k.CreatedAt = parseTime(created)
	return &k, nil
}

func (t *tx) APIKeyByPublicKey(ctx context.Context, publicKey string) (*snapexport.APIKey, error) {
	return scanAPIKey(t.tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE public_key = ?`, publicKey))
}

func (t *tx) ListAPIKeys(ctx context.Context, orgID string) ([]*snapexport.APIKey, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = ? ORDER BY created_at, rowid`, orgID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAPIKey)
}

func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	if err := affected(t.tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE principal_id = ?`, id)
	return err
}

const serviceAccountColumns = `id, org_id, client_id, secret_hash, name, description, created_at`

func scanServiceAccount(s interface{ Scan(...any) error }) (*snapexport.ServiceAccount, error) {
	var sa snapexport.ServiceAccount
	var created string
	if err := s.Scan(&sa.ID, &sa.OrgID, &sa.ClientID, &sa.SecretHash, &sa.Name, &sa.Description, &created); err != nil {
		return nil, notFound(err)
	}
	sa.CreatedAt = parseTime(created)
	return &sa, nil
}

func (t *tx) CreateServiceAccount(ctx context.Context, sa *snapexport.ServiceAccount) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO service_accounts (`+serviceAccountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sa.ID, sa.OrgID, sa.ClientID, sa.SecretHash, sa.Name, sa.Description, formatTime(sa.CreatedAt))
	return conflict(err)
}

func (t *tx) ServiceAccountByClientID(ctx context.Context, clientID string) (*snapexport.ServiceAccount, error) {
	return scanServiceAccount(t.tx.QueryRowContext(ctx, `SELECT `+serviceAccountColumns+` FROM service_accounts WHERE client_id = ?`, clientID))
}

func (t *tx) ServiceAccount(ctx context.Context, id string) (*snapexport.ServiceAccount, error) {
	return scanServiceAccount(t.tx.QueryRowContext(ctx, `SELECT `+serviceAccountColumns+` FROM service_accounts WHERE id = ?`, id))
}

func (t *tx) ListServiceAccounts(ctx context.Context, orgID string) ([]*snapexport.ServiceAccount, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+serviceAccountColumns+` FROM service_accounts WHERE org_id = ? ORDER BY created_at, rowid`, orgID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanServiceAccount)
}

func (t *tx) DeleteServiceAccount(ctx context.Context, id string) error {
	if err := affected(t.tx.ExecContext(ctx, `DELETE FROM service_accounts WHERE id = ?`, id)); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE service_account_id = ?`, id); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE principal_id = ?`, id)
	return err
}

func (t *tx) AssignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO role_assignments (principal_id, org_id, project_id, role) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		ra.PrincipalID, ra.OrgID, ra.ProjectID, string(ra.Role))
	return err
}

func (t *tx) UnassignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	return affected(t.tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE principal_id = ? AND org_id = ? AND project_id = ? AND role = ?`,
		ra.PrincipalID, ra.OrgID, ra.ProjectID, string(ra.Role)))
}

func (t *tx) ListRoles(ctx context.Context, principalID string) ([]snapexport.RoleAssignment, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT principal_id, org_id, project_id, role FROM role_assignments WHERE principal_id = ? ORDER BY org_id, project_id, role`, principalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []snapexport.RoleAssignment
	for rows.Next() {
		var ra snapexport.RoleAssignment
		var role string
		if err := rows.Scan(&ra.PrincipalID, &ra.OrgID, &ra.ProjectID, &role); err != nil {
			return nil, err
		}
		ra.Role = snapexport.Role(role)
		out = append(out, ra)
	}
	return out, rows.Err()
}

func (t *tx) CreateAccessToken(ctx context.Context, at *snapexport.AccessToken) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO access_tokens (hash, service_account_id, issued_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
		at.Hash, at.ServiceAccountID, formatTime(at.IssuedAt), formatTime(at.ExpiresAt), formatTimePtr(at.RevokedAt))
	if err != nil {
		return conflict(err)
	}
	// Expired tokens are useless; drop them as new ones arrive so the table
	// stays the size of the live set.
	_, err = t.tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE expires_at < ?`, formatTime(at.IssuedAt))
	return err
}

func (t *tx) AccessToken(ctx context.Context, hash string) (*snapexport.AccessToken, error) {
	var at snapexport.AccessToken
	var issued, expires string
	var revoked sql.NullString
	err := t.tx.QueryRowContext(ctx, `SELECT hash, service_account_id, issued_at, expires_at, revoked_at FROM access_tokens WHERE hash = ?`, hash).
		Scan(&at.Hash, &at.ServiceAccountID, &issued, &expires, &revoked)
	if err != nil {
		return nil, notFound(err)
	}
	at.IssuedAt, at.ExpiresAt, at.RevokedAt = parseTime(issued), parseTime(expires), parseTimePtr(revoked)
	return &at, nil
}

func (t *tx) RevokeAccessToken(ctx context.Context, hash string, at time.Time) error {
	return affected(t.tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE hash = ?`, formatTime(at), hash))
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
