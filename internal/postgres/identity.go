package postgres

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
)

// Creation order: seq, the identity column, breaks ties of created_at here
// and below, as rowid does in the SQLite store.

func (t *tx) CreateOrganization(ctx context.Context, o *snapexport.Organization) error {
	return inserted("organization")(t.exec(ctx, `INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		o.ID, o.Name, o.CreatedAt))
}

func scanOrganization(s scanner) (*snapexport.Organization, error) {
	var o snapexport.Organization
	if err := s.Scan(&o.ID, &o.Name, &o.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	o.CreatedAt = utc(o.CreatedAt)
	return &o, nil
}

func (t *tx) Organization(ctx context.Context, id string) (*snapexport.Organization, error) {
	return scanOrganization(t.queryRow(ctx, `SELECT id, name, created_at FROM organizations WHERE id = $1`, id))
}

func (t *tx) ListOrganizations(ctx context.Context) ([]*snapexport.Organization, error) {
	return query(ctx, t, scanOrganization, `SELECT id, name, created_at FROM organizations ORDER BY created_at, seq`)
}

const projectColumns = `id, org_id, name, created_at`

func scanProject(s scanner) (*snapexport.Project, error) {
	var p snapexport.Project
	if err := s.Scan(&p.ID, &p.OrgID, &p.Name, &p.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	p.CreatedAt = utc(p.CreatedAt)
	return &p, nil
}

func (t *tx) CreateProject(ctx context.Context, p *snapexport.Project) error {
	// One lock for all projects: a caller's list spans organizations.
	if err := t.lockListOrder(ctx, "projects"); err != nil {
		return err
	}
	return inserted("project")(t.exec(ctx, `INSERT INTO projects (id, org_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		p.ID, p.OrgID, p.Name, p.CreatedAt))
}

func (t *tx) Project(ctx context.Context, id string) (*snapexport.Project, error) {
	return scanProject(t.queryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id))
}

func (t *tx) ProjectByName(ctx context.Context, orgID, name string) (*snapexport.Project, error) {
	return scanProject(t.queryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE org_id = $1 AND name = $2`, orgID, name))
}

func (t *tx) ListProjects(ctx context.Context, orgIDs, ids []string, page snapexport.Page) ([]*snapexport.Project, int, error) {
	// Empty lists match nothing (= ANY of an empty array is false).
	orgIDs, ids = nonNil(orgIDs), nonNil(ids)
	const where = ` WHERE org_id = ANY($1) OR id = ANY($2)`
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM projects`+where, orgIDs, ids).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit, offset := limitOffset(page)
	out, err := query(ctx, t, scanProject, `SELECT `+projectColumns+` FROM projects`+where+` ORDER BY seq LIMIT $3 OFFSET $4`,
		orgIDs, ids, limit, offset)
	return out, total, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t *tx) CreateAPIKey(ctx context.Context, k *snapexport.APIKey) error {
	return inserted("API key")(t.exec(ctx, `INSERT INTO api_keys (id, org_id, public_key, ha1, description, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		k.ID, k.OrgID, k.PublicKey, k.HA1, k.Description, k.CreatedAt))
}

const apiKeyColumns = `id, org_id, public_key, ha1, description, created_at`

func scanAPIKey(s scanner) (*snapexport.APIKey, error) {
	var k snapexport.APIKey
	if err := s.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.HA1, &k.Description, &k.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	k.CreatedAt = utc(k.CreatedAt)
	return &k, nil
}

func (t *tx) APIKeyByPublicKey(ctx context.Context, publicKey string) (*snapexport.APIKey, error) {
	return scanAPIKey(t.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE public_key = $1`, publicKey))
}

func (t *tx) ListAPIKeys(ctx context.Context, orgID string) ([]*snapexport.APIKey, error) {
	return query(ctx, t, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at, seq`, orgID)
}

func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	if err := affected(t.exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM role_assignments WHERE principal_id = $1`, id)
	return err
}

const serviceAccountColumns = `id, org_id, client_id, secret_hash, name, description, created_at`

func scanServiceAccount(s scanner) (*snapexport.ServiceAccount, error) {
	var sa snapexport.ServiceAccount
	if err := s.Scan(&sa.ID, &sa.OrgID, &sa.ClientID, &sa.SecretHash, &sa.Name, &sa.Description, &sa.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	sa.CreatedAt = utc(sa.CreatedAt)
	return &sa, nil
}

func (t *tx) CreateServiceAccount(ctx context.Context, sa *snapexport.ServiceAccount) error {
	return inserted("service account")(t.exec(ctx, `INSERT INTO service_accounts (`+serviceAccountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		sa.ID, sa.OrgID, sa.ClientID, sa.SecretHash, sa.Name, sa.Description, sa.CreatedAt))
}

func (t *tx) ServiceAccountByClientID(ctx context.Context, clientID string) (*snapexport.ServiceAccount, error) {
	return scanServiceAccount(t.queryRow(ctx, `SELECT `+serviceAccountColumns+` FROM service_accounts WHERE client_id = $1`, clientID))
}

func (t *tx) ServiceAccount(ctx context.Context, id string) (*snapexport.ServiceAccount, error) {
	return scanServiceAccount(t.queryRow(ctx, `SELECT `+serviceAccountColumns+` FROM service_accounts WHERE id = $1`, id))
}

func (t *tx) ListServiceAccounts(ctx context.Context, orgID string) ([]*snapexport.ServiceAccount, error) {
	return query(ctx, t, scanServiceAccount, `SELECT `+serviceAccountColumns+` FROM service_accounts WHERE org_id = $1 ORDER BY created_at, seq`, orgID)
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
	_, err := t.exec(ctx, `INSERT INTO role_assignments (principal_id, org_id, project_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		ra.PrincipalID, ra.OrgID, ra.ProjectID, string(ra.Role))
	return err
}

func (t *tx) UnassignRole(ctx context.Context, ra snapexport.RoleAssignment) error {
	return affected(t.exec(ctx, `DELETE FROM role_assignments WHERE principal_id = $1 AND org_id = $2 AND project_id = $3 AND role = $4`,
		ra.PrincipalID, ra.OrgID, ra.ProjectID, string(ra.Role)))
}

func (t *tx) ListRoles(ctx context.Context, principalID string) ([]snapexport.RoleAssignment, error) {
	return query(ctx, t, func(s scanner) (snapexport.RoleAssignment, error) {
		var ra snapexport.RoleAssignment
		var role string
		err := s.Scan(&ra.PrincipalID, &ra.OrgID, &ra.ProjectID, &role)
		ra.Role = snapexport.Role(role)
		return ra, err
	}, `SELECT principal_id, org_id, project_id, role FROM role_assignments WHERE principal_id = $1 ORDER BY org_id, project_id, role`, principalID)
}

func (t *tx) CreateAccessToken(ctx context.Context, at *snapexport.AccessToken) error {
	err := inserted("access token")(t.exec(ctx, `INSERT INTO access_tokens (hash, service_account_id, issued_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		at.Hash, at.ServiceAccountID, at.IssuedAt, at.ExpiresAt, at.RevokedAt))
	if err != nil {
		return err
	}
	// Expired tokens are useless; drop them as new ones arrive so the table
	// stays the size of the live set.
	_, err = t.exec(ctx, `DELETE FROM access_tokens WHERE expires_at < $1`, at.IssuedAt)
	return err
}

func (t *tx) AccessToken(ctx context.Context, hash string) (*snapexport.AccessToken, error) {
	var at snapexport.AccessToken
	err := t.queryRow(ctx, `SELECT hash, service_account_id, issued_at, expires_at, revoked_at FROM access_tokens WHERE hash = $1`, hash).
		Scan(&at.Hash, &at.ServiceAccountID, &at.IssuedAt, &at.ExpiresAt, &at.RevokedAt)
	if err != nil {
		return nil, notFound(err)
	}
	at.IssuedAt, at.ExpiresAt, at.RevokedAt = utc(at.IssuedAt), utc(at.ExpiresAt), utcPtr(at.RevokedAt)
	return &at, nil
}

func (t *tx) RevokeAccessToken(ctx context.Context, hash string, at time.Time) error {
	return affected(t.exec(ctx, `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`, at, hash))
}
