package snapexport

import (
	"slices"
	"strings"
	"time"
)

// Object-storage private endpoint states Atlas reports.
const (
	PrivateEndpointActive = "ACTIVE"
	PrivateEndpointFailed = "FAILED"
)

// PrivateEndpoint declares that a project's exports to S3 buckets of
// RegionName travel over an interface VPC endpoint in VPCRegionName (AWS
// PrivateLink) rather than the public internet. Region names are Atlas's
// (US_EAST_1).
type PrivateEndpoint struct {
	ID             string
	ProjectID      string
	Provider       CloudProvider
	RegionName     string
	VPCRegionName  string
	Status         string
	ConnectionName string
	ErrorMessage   string
	CreatedAt      time.Time
}

// PrivateEndpointRegions are the AWS regions Atlas accepts for
// object-storage private endpoints, in Atlas's spelling.
var PrivateEndpointRegions = []string{
	"US_GOV_WEST_1", "US_GOV_EAST_1", "US_EAST_1", "US_EAST_2", "US_WEST_1", "US_WEST_2", "CA_CENTRAL_1",
	"EU_NORTH_1", "EU_WEST_1", "EU_WEST_2", "EU_WEST_3", "EU_CENTRAL_1", "EU_SOUTH_1",
	"AP_EAST_1", "AP_NORTHEAST_1", "AP_NORTHEAST_2", "AP_NORTHEAST_3", "AP_SOUTHEAST_1", "AP_SOUTHEAST_2",
	"AP_SOUTHEAST_3", "AP_SOUTH_1", "SA_EAST_1", "CN_NORTH_1", "CN_NORTHWEST_1", "ME_SOUTH_1", "AF_SOUTH_1", "GLOBAL",
}

// ValidPrivateEndpointRegion reports whether r is one of PrivateEndpointRegions.
func ValidPrivateEndpointRegion(r string) bool { return slices.Contains(PrivateEndpointRegions, r) }

// AWSRegion turns an Atlas region name (US_EAST_1) into AWS's (us-east-1).
func AWSRegion(atlasName string) string {
	return strings.ReplaceAll(strings.ToLower(atlasName), "_", "-")
}

// AtlasRegion turns an AWS region name (us-east-1) into Atlas's (US_EAST_1).
func AtlasRegion(awsName string) string {
	return strings.ReplaceAll(strings.ToUpper(awsName), "-", "_")
}
