package sqlite

import (
	"context"

	"github.com/snapexport/snapexport"
)

const endpointColumns = `id, project_id, provider, region_name, vpc_region_name, status, connection_name, error_message, created_at`

func scanEndpoint(s interface{ Scan(...any) error }) (*snapexport.PrivateEndpoint, error) {
	var e snapexport.PrivateEndpoint
	var provider, created string
	if err := s.Scan(&e.ID, &e.ProjectID, &provider, &e.RegionName, &e.VPCRegionName, &e.Status, &e.ConnectionName, &e.ErrorMessage, &created); err != nil {
		return nil, notFound(err)
	}
	e.Provider = snapexport.CloudProvider(provider)
	e.CreatedAt = parseTime(created)
	return &e, nil
}

func (t *tx) CreatePrivateEndpoint(ctx context.Context, e *snapexport.PrivateEndpoint) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO private_endpoints (`+endpointColumns+`) VALUES (`+placeholders(9)+`)`,
		e.ID, e.ProjectID, string(e.Provider), e.RegionName, e.VPCRegionName, e.Status, e.ConnectionName, e.ErrorMessage, formatTime(e.CreatedAt))
	return conflict(err)
}

func (t *tx) PrivateEndpoint(ctx context.Context, projectID, id string) (*snapexport.PrivateEndpoint, error) {
	return scanEndpoint(t.tx.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM private_endpoints WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListPrivateEndpoints(ctx context.Context, projectID string, provider snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
	var total int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM private_endpoints WHERE project_id = ? AND provider = ?`, projectID, string(provider)).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+endpointColumns+` FROM private_endpoints WHERE project_id = ? AND provider = ? ORDER BY seq`+limitOffset(page), projectID, string(provider))
	if err != nil {
		return nil, 0, err
	}
	out, err := collect(rows, scanEndpoint)
	return out, total, err
}

func (t *tx) DeletePrivateEndpoint(ctx context.Context, projectID, id string) error {
	return affected(t.tx.ExecContext(ctx, `DELETE FROM private_endpoints WHERE project_id = ? AND id = ?`, projectID, id))
}
