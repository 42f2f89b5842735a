package snapexport

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by storage lookups that match nothing. Callers turn
// it into the Atlas error that fits the resource.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by storage writes that break a uniqueness rule.
var ErrConflict = errors.New("conflict")

// Page selects a slice of an ordered list: Offset items skipped, at most
// Limit returned.
type Page struct {
	Offset int
	Limit  int
}

// Store is the persistent state of the service. Implementations (SQLite,
// PostgreSQL) make every committed write durable before returning.
type Store interface {
	// Read runs fn in a transaction that sees one consistent snapshot.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction and commits it when fn
	// returns nil. Implementations may run fn more than once on a
	// serialization failure, so fn must not have side effects outside tx.
	Write(ctx context.Context, fn func(Tx) error) error
	// Nonces keeps digest nonces outside request transactions.
	Nonces() NonceStore
	Close() error
}

// NonceStore keeps the nonces of HTTP Digest challenges so that each is
// accepted once, by any server sharing the store.
type NonceStore interface {
	// IssueNonce records nonce as valid until expiresAt; ErrConflict if it
	// was issued before. Nonces need not survive a crash.
	IssueNonce(ctx context.Context, nonce string, expiresAt time.Time) error
	// ConsumeNonce removes nonce and reports NonceValid, NonceStale (it had
	// expired) or NonceUnknown (never issued or already used).
	ConsumeNonce(ctx context.Context, nonce string, now time.Time) (NonceState, error)
}

// NonceState is the outcome of ConsumeNonce.
type NonceState int

const (
	NonceUnknown NonceState = iota
	NonceValid
	NonceStale
)

// Tx is the storage of every resource, inside one transaction. Lookups return
// ErrNotFound when nothing matches; lists return items in creation order
// (ListRoles in no particular order) and, when paginated, the total number of
// matching items. Update methods write only the fields the service changes:
// a role's authorization (AuthorizedAt, UpdatedAt, IAMAssumedRoleARN, the
// Azure principal, the GCP account and status) and a bucket's
// RequirePrivateNetworking and Region.
type Tx interface {
	CreateOrganization(ctx context.Context, o *Organization) error
	Organization(ctx context.Context, id string) (*Organization, error)
	ListOrganizations(ctx context.Context) ([]*Organization, error)

	CreateProject(ctx context.Context, p *Project) error
	Project(ctx context.Context, id string) (*Project, error)
	// ProjectByName finds a project by name within an organization.
	ProjectByName(ctx context.Context, orgID, name string) (*Project, error)
	// ListProjects lists the projects with an id in ids or belonging to an
	// organization in orgIDs.
	ListProjects(ctx context.Context, orgIDs, ids []string, page Page) ([]*Project, int, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByPublicKey(ctx context.Context, publicKey string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, orgID string) ([]*APIKey, error)
	DeleteAPIKey(ctx context.Context, id string) error

	CreateServiceAccount(ctx context.Context, sa *ServiceAccount) error
	ServiceAccountByClientID(ctx context.Context, clientID string) (*ServiceAccount, error)
	ServiceAccount(ctx context.Context, id string) (*ServiceAccount, error)
	ListServiceAccounts(ctx context.Context, orgID string) ([]*ServiceAccount, error)
	DeleteServiceAccount(ctx context.Context, id string) error

	// AssignRole adds a role; assigning a role already held is not an error.
	AssignRole(ctx context.Context, ra RoleAssignment) error
	// UnassignRole removes a role; ErrNotFound when it was not held.
	UnassignRole(ctx context.Context, ra RoleAssignment) error
	ListRoles(ctx context.Context, principalID string) ([]RoleAssignment, error)

	CreateAccessToken(ctx context.Context, t *AccessToken) error
	AccessToken(ctx context.Context, hash string) (*AccessToken, error)
	RevokeAccessToken(ctx context.Context, hash string, at time.Time) error

	CreateCloudProviderAccessRole(ctx context.Context, r *CloudProviderAccessRole) error
	CloudProviderAccessRole(ctx context.Context, projectID, id string) (*CloudProviderAccessRole, error)
	ListCloudProviderAccessRoles(ctx context.Context, projectID string) ([]*CloudProviderAccessRole, error)
	UpdateCloudProviderAccessRole(ctx context.Context, r *CloudProviderAccessRole) error
	DeleteCloudProviderAccessRole(ctx context.Context, projectID, id string) error

	CreateExportBucket(ctx context.Context, b *ExportBucket) error
	ExportBucket(ctx context.Context, projectID, id string) (*ExportBucket, error)
	// ListExportBuckets lists a project's buckets, all providers when
	// providers is empty.
	ListExportBuckets(ctx context.Context, projectID string, providers []CloudProvider, page Page) ([]*ExportBucket, int, error)
	// ExportBucketsByRole lists the buckets that reach storage through a role.
	ExportBucketsByRole(ctx context.Context, projectID, roleID string) ([]*ExportBucket, error)
	UpdateExportBucket(ctx context.Context, b *ExportBucket) error
	DeleteExportBucket(ctx context.Context, projectID, id string) error

	CreatePrivateEndpoint(ctx context.Context, e *PrivateEndpoint) error
	PrivateEndpoint(ctx context.Context, projectID, id string) (*PrivateEndpoint, error)
	// ListPrivateEndpoints lists a project's endpoints of one provider.
	ListPrivateEndpoints(ctx context.Context, projectID string, provider CloudProvider, page Page) ([]*PrivateEndpoint, int, error)
	DeletePrivateEndpoint(ctx context.Context, projectID, id string) error

	// CreateCluster adds a cluster; ErrConflict when its id or its name in
	// the project is taken.
	CreateCluster(ctx context.Context, c *Cluster) error
	// Cluster finds a cluster by name within a project.
	Cluster(ctx context.Context, projectID, name string) (*Cluster, error)
	ListClusters(ctx context.Context, projectID string, page Page) ([]*Cluster, int, error)
	// ClustersExportingTo lists the clusters whose schedule's export policy
	// names the bucket.
	ClustersExportingTo(ctx context.Context, projectID, bucketID string) ([]*Cluster, error)
	// UpdateClusterSchedule writes a cluster's Schedule.
	UpdateClusterSchedule(ctx context.Context, c *Cluster) error

	// CreateSnapshot adds a snapshot; ErrConflict when its id is taken.
	CreateSnapshot(ctx context.Context, s *Snapshot) error
	// Snapshot finds a snapshot of a cluster (of any cluster of the
	// project when clusterID is empty) by id, members of sharded snapshots
	// included.
	Snapshot(ctx context.Context, projectID, clusterID, id string) (*Snapshot, error)
	// ListSnapshots lists a cluster's snapshots of one kind that belong to
	// no sharded-cluster snapshot (ParentID empty).
	ListSnapshots(ctx context.Context, projectID, clusterID string, kind SnapshotKind, page Page) ([]*Snapshot, int, error)
	// SnapshotsTakenAt lists a cluster's replica-set snapshots taken at t,
	// members of sharded-cluster snapshots included.
	SnapshotsTakenAt(ctx context.Context, projectID, clusterID string, t time.Time) ([]*Snapshot, error)
	// UpdateSnapshot writes a snapshot's ParentID and ExpiresAt.
	UpdateSnapshot(ctx context.Context, s *Snapshot) error
	// DeleteSnapshot removes one snapshot (not its members).
	DeleteSnapshot(ctx context.Context, projectID, id string) error
	// ExpiredSnapshots lists up to limit snapshots of any project that
	// expired before t and belong to no sharded-cluster snapshot, earliest
	// expiry first.
	ExpiredSnapshots(ctx context.Context, before time.Time, limit int) ([]*Snapshot, error)

	// CreateExportJob adds an export job; ErrConflict when its id is taken.
	CreateExportJob(ctx context.Context, j *ExportJob) error
	// ExportJob finds a job of a project by id, components included.
	ExportJob(ctx context.Context, projectID, id string) (*ExportJob, error)
	// ListExportJobs lists a cluster's jobs that are not components of a
	// sharded export (ParentID empty).
	ListExportJobs(ctx context.Context, projectID, clusterID string, page Page) ([]*ExportJob, int, error)
	// ActiveExportJobs lists a project's jobs in an active state (Queued,
	// InProgress) that export snapshotID, when it is not empty, or write
	// to bucketID, when it is not empty; components included.
	ActiveExportJobs(ctx context.Context, projectID, snapshotID, bucketID string) ([]*ExportJob, error)
	// UpdateExportJob writes a job's State, StateReason, FinishedAt,
	// Progress and CancelRequested.
	UpdateExportJob(ctx context.Context, j *ExportJob) error
	// ClaimExportJob gives runner the job's lease until until, when the
	// lease is free (never taken, or lapsed at now) or already runner's;
	// it reports whether runner holds it. A zero until releases it.
	// ErrNotFound when there is no such job.
	ClaimExportJob(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error)
	// LapsedExportJobs lists up to limit active jobs of any project whose
	// lease was taken and has lapsed at now (their runner died), oldest
	// first.
	LapsedExportJobs(ctx context.Context, now time.Time, limit int) ([]*ExportJob, error)
}
