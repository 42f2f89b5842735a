package sqlite

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreatePrivateEndpoint(ctx context.Context, e *snapexport.PrivateEndpoint) error {
	return insert(ctx, t.tx, "private_endpoints", sqlrow.PrivateEndpointColumns, sqlrow.PrivateEndpointValues(e))
}

func (t *tx) PrivateEndpoint(ctx context.Context, projectID, id string) (*snapexport.PrivateEndpoint, error) {
	return sqlrow.ScanPrivateEndpoint(queryRow(ctx, t.tx, `SELECT `+sqlrow.PrivateEndpointColumns+` FROM private_endpoints WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListPrivateEndpoints(ctx context.Context, projectID string, provider snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
	return pageOf(ctx, t, sqlrow.ScanPrivateEndpoint, "private_endpoints", sqlrow.PrivateEndpointColumns, `project_id = ? AND provider = ?`,
		[]any{projectID, string(provider)}, page, func(m snapexport.ListMark) int64 { return m.Endpoints }, projectID, string(provider))
}

func (t *tx) DeletePrivateEndpoint(ctx context.Context, projectID, id string, at time.Time) error {
	return t.deleteListed(ctx, "private_endpoints", sqlrow.PrivateEndpointColumns, projectID, id, at)
}
