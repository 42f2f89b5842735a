package postgres

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreatePrivateEndpoint(ctx context.Context, e *snapexport.PrivateEndpoint) error {
	return t.insertListed(ctx, "private_endpoints/"+e.ProjectID, "private endpoint", "private_endpoints", sqlrow.PrivateEndpointColumns, sqlrow.PrivateEndpointValues(e))
}

func (t *tx) PrivateEndpoint(ctx context.Context, projectID, id string) (*snapexport.PrivateEndpoint, error) {
	return sqlrow.ScanPrivateEndpoint(t.queryRow(ctx, `SELECT `+sqlrow.PrivateEndpointColumns+` FROM private_endpoints WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListPrivateEndpoints(ctx context.Context, projectID string, provider snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
	return pageOf(ctx, t, sqlrow.ScanPrivateEndpoint, "private_endpoints", sqlrow.PrivateEndpointColumns, `project_id = $1 AND provider = $2`,
		[]any{projectID, string(provider)}, page, func(m snapexport.ListMark) int64 { return m.Endpoints }, projectID, string(provider))
}

func (t *tx) DeletePrivateEndpoint(ctx context.Context, projectID, id string, at time.Time) error {
	return t.deleteListed(ctx, "private_endpoints", sqlrow.PrivateEndpointColumns, projectID, id, at)
}
