package sqlite

import (
	"context"
	"time"

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
	return pageOf(ctx, t, scanEndpoint, "private_endpoints", endpointColumns, `project_id = ? AND provider = ?`,
		[]any{projectID, string(provider)}, page, func(m snapexport.ListMark) int64 { return m.Endpoints })
}

func (t *tx) DeletePrivateEndpoint(ctx context.Context, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, "private_endpoints", endpointColumns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.tx.ExecContext(ctx, `DELETE FROM private_endpoints WHERE project_id = ? AND id = ?`, projectID, id))
}
