package sqlrow

import "github.com/snapexport/snapexport"

// PrivateEndpointColumns are the columns of private_endpoints (and
// removed_private_endpoints) that PrivateEndpointValues fills and
// ScanPrivateEndpoint reads, in that order.
const PrivateEndpointColumns = `id, project_id, provider, region_name, vpc_region_name, status, connection_name, error_message, created_at`

func PrivateEndpointValues(e *snapexport.PrivateEndpoint) []any {
	return []any{e.ID, e.ProjectID, string(e.Provider), e.RegionName, e.VPCRegionName, e.Status, e.ConnectionName, e.ErrorMessage, e.CreatedAt}
}

func ScanPrivateEndpoint(s Scanner) (*snapexport.PrivateEndpoint, error) {
	var e snapexport.PrivateEndpoint
	err := s.Scan(&e.ID, &e.ProjectID, (*string)(&e.Provider), &e.RegionName, &e.VPCRegionName, &e.Status, &e.ConnectionName,
		&e.ErrorMessage, timeColumn{&e.CreatedAt})
	if err != nil {
		return nil, NotFound(err)
	}
	return &e, nil
}
