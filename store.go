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
// Limit returned. With AsOf, the list is the one of that mark: the items
// created before it that were not removed before it, removed ones with the
// fields they had when removed, in the same order. Lists that nothing is
// ever removed from ignore AsOf.
type Page struct {
	Offset int
	Limit  int
	AsOf   *ListMark
	// SkipTotal spares the store counting the list: the total a List
	// method returns is then Offset plus the items of the page, plus one
	// when an item follows the page, which is all a page's links need.
	SkipTotal bool
	// Seek, when not nil, positions the page by the creation sequence
	// numbers of the list's items, in and out (see Seek); lists that
	// nothing is ever removed from ignore it.
	Seek *Seek
}

// Seek carries a page's position in its list as the creation sequence
// number of an item, which a store finds in its indexes instead of
// counting the items before the page.
type Seek struct {
	// After, when not 0, is at least the sequence number of the item at
	// position Offset-1 of the list and less than that of the item at
	// Offset: the page is the items after it. Only the list
	// of a mark keeps its items at their positions, so a caller gives
	// After with AsOf only, from a page of the same list of the same mark.
	After int64
	// First and Last are set by the List methods to the sequence numbers
	// of the page's first and last items, 0 when the page is empty: Last
	// is the After of the page that follows, First-1 the After of this
	// page read again.
	First, Last int64
}

// Total is the total a List method returns for the page when it counted
// counted items in the list and read read from the page's start (with
// SkipTotal, one more than Limit when an item follows the page).
func (p Page) Total(counted, read int) int {
	if p.SkipTotal {
		return max(p.Offset, 0) + read
	}
	return counted
}

// CutPage returns the page's items of read, which may hold one more (with
// SkipTotal), and sets the page's Seek.Last from seqs, the sequence
// numbers of read.
func CutPage[T any](p Page, read []T, seqs []int64) []T {
	if p.Limit > 0 && len(read) > p.Limit {
		read = read[:p.Limit]
	}
	if p.Seek != nil {
		p.Seek.First, p.Seek.Last = 0, 0
		if len(read) > 0 {
			p.Seek.First, p.Seek.Last = seqs[0], seqs[len(read)-1]
		}
	}
	return read
}

// ListMark is a point in the history of a project's lists that items are
// removed from: export buckets, private endpoints and snapshots. It is
// read in the same transaction as a page, so that later pages can be
// served from the list that page was cut from.
type ListMark struct {
	// Removals is the point in the history of the removals from the
	// project's lists (deletions, and snapshots that became members of a
	// sharded-cluster snapshot), in the store's own terms: SQLite counts
	// them, PostgreSQL names the transactions it could see.
	Removals string
	// Buckets, Endpoints and Snapshots are the highest creation sequence
	// numbers of the project's items of each list. Creations of one list
	// commit in sequence order, so the items of the mark are those with a
	// number up to it.
	Buckets, Endpoints, Snapshots int64
}

// Listing is a client's pass through the pages of one list: the first page
// records the mark of the list it was cut from, and later pages of the same
// pass are cut from that list too, so that removals during the pass neither
// skip nor repeat an item.
type Listing struct {
	// Key names the pass: the client and the list (path and filters).
	Key       string
	Mark      ListMark
	ExpiresAt time.Time
}

const (
	// ListingLifetime is how long a first page's listing serves later
	// pages; a pass that takes longer goes on from the list as it is.
	ListingLifetime = 15 * time.Minute
	// RemovedRetention is how long removed items are kept for listings:
	// ListingLifetime and a margin for clocks that differ between servers.
	RemovedRetention = time.Hour
)

// Store is the persistent state of the service. Implementations (SQLite,
// PostgreSQL) make every committed write durable before returning.
type Store interface {
	// Read runs fn in a transaction that sees one consistent snapshot.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction and commits it when fn
	// returns nil. Implementations may run fn more than once on a
	// serialization failure, so fn must not have side effects outside tx.
	Write(ctx context.Context, fn func(Tx) error) error
	// Nonces records used digest nonces outside request transactions.
	Nonces() NonceStore
	// Listings keeps the listings of paginated passes outside request
	// transactions.
	Listings() ListingStore
	Close() error
}

// ReadValue runs fn in a read transaction of store and returns the value
// it produced.
func ReadValue[T any](ctx context.Context, store Store, fn func(Tx) (T, error)) (T, error) {
	return valueOf(ctx, store.Read, fn)
}

// WriteValue runs fn in a read-write transaction of store and returns the
// value its committed run produced.
func WriteValue[T any](ctx context.Context, store Store, fn func(Tx) (T, error)) (T, error) {
	return valueOf(ctx, store.Write, fn)
}

// valueOf runs fn in a transaction of run and keeps the value of its last
// run.
func valueOf[T any](ctx context.Context, run func(context.Context, func(Tx) error) error, fn func(Tx) (T, error)) (T, error) {
	var v T
	err := run(ctx, func(tx Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// NonceStore records the digest nonces that authenticated a request, so
// that each is accepted once, by any server sharing the store. Nonces are
// issued without the store (they carry their own authentication): only
// those a request answered rightly are recorded.
type NonceStore interface {
	// UseNonce records nonce as used until keepUntil and forgets, now and
	// then, the nonces whose time passed at now; ErrConflict if it was
	// recorded before. Records survive a crash of the process; those of
	// the last moments may be lost when the machine stops.
	UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error
}

// ListingStore keeps the listings of paginated passes, by any server
// sharing the store. Listings need not survive a crash: a pass whose
// listing is lost goes on from the list as it is.
type ListingStore interface {
	// SaveListing records a listing, replacing the one with its key, and
	// forgets the listings expired at now.
	SaveListing(ctx context.Context, l *Listing, now time.Time) error
	// Listing finds a listing by key that has not expired at now;
	// ErrNotFound when there is none.
	Listing(ctx context.Context, key string, now time.Time) (*Listing, error)
}

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

	// ServerSecret returns the secret kept under name, keeping candidate
	// as it first when there is none, so that every replica sharing the
	// database gets the first one stored.
	ServerSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)

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
	// DeleteExportBucket removes a bucket at the given time, kept for
	// listings opened before it (see Listing).
	DeleteExportBucket(ctx context.Context, projectID, id string, at time.Time) error

	CreatePrivateEndpoint(ctx context.Context, e *PrivateEndpoint) error
	PrivateEndpoint(ctx context.Context, projectID, id string) (*PrivateEndpoint, error)
	// ListPrivateEndpoints lists a project's endpoints of one provider.
	ListPrivateEndpoints(ctx context.Context, projectID string, provider CloudProvider, page Page) ([]*PrivateEndpoint, int, error)
	// DeletePrivateEndpoint removes an endpoint at the given time, kept for
	// listings opened before it.
	DeletePrivateEndpoint(ctx context.Context, projectID, id string, at time.Time) error

	// CreateCluster adds a cluster; ErrConflict when its id or its name in
	// the project is taken by a cluster not removed.
	CreateCluster(ctx context.Context, c *Cluster) error
	// Cluster finds a cluster by name within a project; removed clusters
	// (Cluster.Removed) are not found, listed or exporting.
	Cluster(ctx context.Context, projectID, name string) (*Cluster, error)
	ListClusters(ctx context.Context, projectID string, page Page) ([]*Cluster, int, error)
	// UpdateCluster writes what a cluster's owner may change (labels, tags,
	// MongoDB version, backup and termination-protection settings) and its
	// life (ReadyAt, DeletingUntil, RetainBackups, Removed); ErrNotFound for
	// a removed cluster.
	UpdateCluster(ctx context.Context, c *Cluster) error
	// RemovedCluster finds the last removed cluster of that name.
	RemovedCluster(ctx context.Context, projectID, name string) (*Cluster, error)
	// ClustersExportingTo lists the clusters whose schedule's export policy
	// names the bucket.
	ClustersExportingTo(ctx context.Context, projectID, bucketID string) ([]*Cluster, error)
	// UpdateClusterSchedule writes a cluster's Schedule.
	UpdateClusterSchedule(ctx context.Context, c *Cluster) error

	// ListMark is the current mark of a project's lists; zero for a project
	// that does not exist.
	ListMark(ctx context.Context, projectID string) (ListMark, error)
	// PurgeRemoved forgets the items removed before the given time, which
	// lists of marks no longer show, and reports how many.
	PurgeRemoved(ctx context.Context, before time.Time) (int, error)

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
	// UpdateSnapshot writes a snapshot's ParentID and ExpiresAt at the
	// given time. A snapshot given a parent leaves its cluster's list and
	// is kept there for listings opened before it.
	UpdateSnapshot(ctx context.Context, s *Snapshot, at time.Time) error
	// RecordSnapshotState writes what taking a snapshot changes: Status,
	// CreatedAt, ExpiresAt, MongodVersion, CloudProvider, StorageSizeBytes,
	// ImportedAt and Collections; ErrNotFound when it is gone.
	RecordSnapshotState(ctx context.Context, s *Snapshot) error
	// DeleteSnapshot removes one snapshot (not its members) at the given
	// time, kept for listings opened before it.
	DeleteSnapshot(ctx context.Context, projectID, id string, at time.Time) error
	// ExpiredSnapshots lists up to limit snapshots of any project that
	// expired before t and belong to no sharded-cluster snapshot, earliest
	// expiry first.
	ExpiredSnapshots(ctx context.Context, before time.Time, limit int) ([]*Snapshot, error)
	// ClaimScheduledSnapshot claims the snapshot that a cluster's backup
	// schedule calls for at instant at, for the server that takes it: true
	// when claimed now, false when it was claimed before (by this server or
	// another sharing the database). The cluster's claims of instants
	// before forgetBefore are forgotten.
	ClaimScheduledSnapshot(ctx context.Context, projectID, clusterID string, at, forgetBefore time.Time) (bool, error)
	// ReleaseScheduledSnapshot forgets the claim of an instant, so that it
	// can be claimed again.
	ReleaseScheduledSnapshot(ctx context.Context, clusterID string, at time.Time) error
	// ClaimSnapshot gives runner the lease on taking a snapshot until
	// until, when the lease is free (never taken, or lapsed at now) or
	// already runner's; it reports whether runner holds it. A zero until
	// releases it. ErrNotFound when there is no such snapshot.
	ClaimSnapshot(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error)
	// RenewSnapshot extends runner's lease on taking a snapshot to until
	// when runner still holds it: no other runner claimed it since, even
	// if it lapsed meanwhile, and runner did not release it. It reports
	// whether runner holds it. ErrNotFound when there is no such snapshot.
	RenewSnapshot(ctx context.Context, projectID, id, runner string, until time.Time) (bool, error)
	// LapsedSnapshots lists up to limit snapshots of any project being
	// taken (queued or inProgress), not members of a sharded-cluster
	// snapshot, whose lease was taken and has lapsed at now (their runner
	// died), oldest first.
	LapsedSnapshots(ctx context.Context, now time.Time, limit int) ([]*Snapshot, error)

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
	// RenewExportJob extends runner's lease on the job to until when
	// runner still holds it: no other runner claimed it since, even if it
	// lapsed meanwhile, and runner did not release it. It reports whether
	// runner holds it. ErrNotFound when there is no such job.
	RenewExportJob(ctx context.Context, projectID, id, runner string, until time.Time) (bool, error)
	// ExportJobLease is who holds the job's lease ("" when it was never
	// taken) and until when (nil when released or never taken).
	// ErrNotFound when there is no such job.
	ExportJobLease(ctx context.Context, projectID, id string) (runner string, until *time.Time, err error)
	// LapsedExportJobs lists up to limit active jobs of any project whose
	// lease was taken and has lapsed at now (their runner died), oldest
	// first.
	LapsedExportJobs(ctx context.Context, now time.Time, limit int) ([]*ExportJob, error)
}
