// Package service applies the rules of the export API to the store: what
// may be created, what a resource must refer to, and which Atlas error each
// broken rule produces. Callers (the HTTP API, the admin commands) have
// already authenticated and authorized the caller.
package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/capture"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// Identities are the service's own cloud identities, shown to customers so
// they can trust them (AWS account ARN, Azure application id, GCP domain).
type Identities struct {
	AWSAccountARN    string
	AzureAppID       string
	GCPProjectSuffix string // the p-<24 chars> part of generated service accounts
	DefaultAWSRegion string
}

// DefaultIdentities are used when the configuration names none.
var DefaultIdentities = Identities{
	AWSAccountARN:    "arn:aws:iam::000000000000:root",
	AzureAppID:       "9f2deb0d-be22-4524-a403-df531868bac0",
	GCPProjectSuffix: "snapexport00000000000000",
	DefaultAWSRegion: "us-east-1",
}

// BucketAccess reaches customers' buckets through their cloud provider
// access roles; objectstore.Stores implements it.
type BucketAccess interface {
	// Verify proves the bucket is reachable and writable and returns its
	// region (AWS; "" otherwise).
	Verify(ctx context.Context, t objectstore.Target) (region string, err error)
	// AssumeRole proves the service can act for the role.
	AssumeRole(ctx context.Context, role *snapexport.CloudProviderAccessRole) error
	// BucketRegion looks up an S3 bucket's region.
	BucketRegion(ctx context.Context, t objectstore.Target) (string, error)
	// PrivateLink tells whether private networking needs a VPC endpoint
	// and which one is configured for an AWS region.
	PrivateLink(region string) (needed bool, endpoint string)
	// List lists up to limit objects under a prefix, and whether more
	// follow.
	List(ctx context.Context, t objectstore.Target, prefix string, limit int) ([]objectstore.Object, bool, error)
}

// Service is the export API's business logic over a Store.
type Service struct {
	Store snapexport.Store
	// Buckets reaches customers' buckets; when nil, buckets and roles are
	// recorded without being reached (as admin commands do).
	Buckets    BucketAccess
	Identities Identities
	// SnapshotData keeps snapshots' data; snapshots cannot be imported
	// when nil.
	SnapshotData SnapshotData
	// Exports runs export jobs; when nil, jobs are recorded and stay
	// queued.
	Exports ExportQueue
	// SnapshotJobs takes snapshots; when nil, snapshots are recorded and
	// stay queued.
	SnapshotJobs SnapshotQueue
	// Capture configures the reading of the deployments clusters are
	// bound to (its PointInTime is each cluster's consistency).
	Capture capture.Options
	// ProgressInterval is how often a snapshot being read from a
	// deployment records its progress; DefaultProgressInterval when zero.
	ProgressInterval time.Duration
	// secretKey seals the connection strings of the deployments clusters
	// are bound to (UseSecretKey); clusters cannot be bound without one.
	// Atomic, as a server may be given its key while it serves.
	secretKey atomic.Pointer[SecretKey]
	// Logger receives what fails after a request has been answered;
	// slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// IdentityChanged, when not nil, is called once a change of
	// credentials or roles is committed (or failed to be): authentication
	// forgets the principals it keeps (auth.Authenticator.Forget).
	IdentityChanged func()
	// ClusterChangeDelay is how long a new cluster shows CREATING and a
	// deleted one DELETING before it is IDLE or gone; none when zero.
	ClusterChangeDelay time.Duration
	// Observer, when set, is told how snapshots are read and end.
	Observer Observer

	// positions are where the pages of passes served by this process
	// ended (see listPage).
	positions pagePositions
	projects  keptProjects
}

func (s *Service) identityChanged() {
	if s.IdentityChanged != nil {
		s.IdentityChanged()
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Time is the service's clock, in UTC.
func (s *Service) Time() time.Time { return s.now() }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewID returns a new ObjectId in hex, the id format of every Atlas resource.
func NewID() string { return bson.NewObjectID().Hex() }

// Project returns the project with id, or GROUP_NOT_FOUND. A project
// never changes nor goes once created, so one found is kept in memory:
// the check of a request's project reads no database after the first.
func (s *Service) Project(ctx context.Context, id string) (*snapexport.Project, error) {
	if p, ok := s.projects.get(id); ok {
		return p, nil
	}
	p, err := snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.Project, error) {
		return tx.Project(ctx, id)
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, groupNotFound(id)
	}
	if err == nil {
		s.projects.put(p)
	}
	return p, err
}

// maxKeptProjects bounds the projects kept; past it, the keeping starts
// again empty.
const maxKeptProjects = 10_000

// keptProjects are projects found by id.
type keptProjects struct {
	mu   sync.RWMutex
	byID map[string]snapexport.Project
}

// get returns a copy, which the caller may change.
func (k *keptProjects) get(id string) (*snapexport.Project, bool) {
	k.mu.RLock()
	p, ok := k.byID[id]
	k.mu.RUnlock()
	return &p, ok
}

func (k *keptProjects) put(p *snapexport.Project) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byID == nil || len(k.byID) >= maxKeptProjects {
		k.byID = map[string]snapexport.Project{}
	}
	k.byID[p.ID] = *p
}

func groupNotFound(id string) error {
	return snapexport.Errorf(snapexport.CodeGroupNotFound, "No group with ID %s exists.", id)
}
