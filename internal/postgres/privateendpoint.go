package postgres

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
)

const endpointColumns = `id, project_id, provider, region_name, vpc_region_name, status, connection_name, error_message, created_at`

func scanEndpoint(s scanner) (*snapexport.PrivateEndpoint, error) {
	var e snapexport.PrivateEndpoint
	var provider string
	if err := s.Scan(&e.ID, &e.ProjectID, &provider, &e.RegionName, &e.VPCRegionName, &e.Status, &e.ConnectionName, &e.ErrorMessage, &e.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	e.Provider = snapexport.CloudProvider(provider)
	e.CreatedAt = utc(e.CreatedAt)
	return &e, nil
}

func (t *tx) CreatePrivateEndpoint(ctx context.Context, e *snapexport.PrivateEndpoint) error {
	if err := t.lockListOrder(ctx, "private_endpoints/"+e.ProjectID); err != nil {
		return err
	}
	return inserted("private endpoint")(t.exec(ctx, `INSERT INTO private_endpoints (`+endpointColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		e.ID, e.ProjectID, string(e.Provider), e.RegionName, e.VPCRegionName, e.Status, e.ConnectionName, e.ErrorMessage, e.CreatedAt))
}

func (t *tx) PrivateEndpoint(ctx context.Context, projectID, id string) (*snapexport.PrivateEndpoint, error) {
	return scanEndpoint(t.queryRow(ctx, `SELECT `+endpointColumns+` FROM private_endpoints WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListPrivateEndpoints(ctx context.Context, projectID string, provider snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
	return pageOf(ctx, t, scanEndpoint, "private_endpoints", endpointColumns, `project_id = $1 AND provider = $2`,
		[]any{projectID, string(provider)}, page, func(m snapexport.ListMark) int64 { return m.Endpoints })
}

func (t *tx) DeletePrivateEndpoint(ctx context.Context, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, "private_endpoints", endpointColumns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.exec(ctx, `DELETE FROM private_endpoints WHERE project_id = $1 AND id = $2`, projectID, id))
}
