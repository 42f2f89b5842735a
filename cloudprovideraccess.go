package snapexport

import "time"

// CloudProvider names a cloud as the Atlas API spells it.
type CloudProvider string

const (
	AWS   CloudProvider = "AWS"
	Azure CloudProvider = "AZURE"
	GCP   CloudProvider = "GCP"
)

// CloudProviders lists the providers export buckets can live in.
var CloudProviders = []CloudProvider{AWS, Azure, GCP}

// GCP service-account provisioning states, as Atlas reports them.
const (
	GCPRoleStatusComplete = "COMPLETE"
)

// CloudProviderAccessRole is the identity through which the service reaches a
// customer's bucket: an AWS IAM role it assumes, an Azure service principal
// it acts as, or a GCP service account it impersonates.
type CloudProviderAccessRole struct {
	ID           string
	ProjectID    string
	Provider     CloudProvider
	CreatedAt    time.Time
	AuthorizedAt *time.Time // nil until authorized; never nil for GCP
	UpdatedAt    time.Time

	// AWS
	AtlasAWSAccountARN string
	ExternalID         string
	IAMAssumedRoleARN  string

	// Azure
	AtlasAzureAppID    string
	ServicePrincipalID string
	TenantID           string

	// GCP
	GCPServiceAccount string
	GCPStatus         string
}

// Authorized reports whether buckets may use the role.
func (r *CloudProviderAccessRole) Authorized() bool { return r.AuthorizedAt != nil }

// ExportBucket is a customer's bucket (S3 bucket, Azure container or GCS
// bucket) registered as a destination for snapshot exports.
type ExportBucket struct {
	ID                       string
	ProjectID                string
	Provider                 CloudProvider
	BucketName               string
	RoleID                   string // iamRoleId for AWS, roleId otherwise
	Region                   string // AWS only, set by the service
	RequirePrivateNetworking bool   // AWS only
	ServiceURL               string // Azure only
	TenantID                 string // Azure only: the role's tenant
	CreatedAt                time.Time
}
