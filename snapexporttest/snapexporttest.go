// Package snapexporttest runs a complete snapexport server in-process, on a
// loopback port with a throwaway database, for Go tests — the way
// net/http/httptest runs an HTTP server:
//
//	srv := snapexporttest.NewServer(t)
//	client, _ := admin.NewClient(admin.UseBaseURL(srv.URL),
//		admin.UseDigestAuth(srv.APIKey.PublicKey, srv.APIKey.PrivateKey))
//
// The server is initialized with one organization, one project (GroupID)
// and an API key and a service account that own the organization. It runs
// export jobs and sweeps expired snapshots as `snapexport serve` does.
//
// A test binary built with -tags snapexport_localbuckets leaves the S3,
// Azure and Google Cloud SDKs out and builds several times faster: its
// server keeps every bucket in local folders (the default), and a server
// given Buckets.S3, Buckets.Azure or Buckets.GCS fails to start.
package snapexporttest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// Options tune a test server. The zero value gives Atlas's behaviour.
type Options struct {
	// RateLimits replaces Atlas's rate limits (e.g. Disabled, or a small
	// capacity to test a client's handling of 429).
	RateLimits *RateLimits
	// Logger receives the server's request log; discarded when nil.
	Logger *slog.Logger
	// DataDir keeps the database and local buckets in a given directory
	// instead of a temporary one removed by Close.
	DataDir string
	// Buckets says how export buckets are reached; by default every
	// provider's buckets are local folders under the data directory.
	Buckets *Buckets
	// Database is a postgres:// URL: the server then keeps its state in a
	// fresh schema of that database, dropped by Close. Empty means the
	// environment variable SNAPEXPORTTEST_DATABASE, and when that is empty
	// too, SQLite in the data directory.
	Database string
	// Now replaces the server's clock, e.g. to expire tokens and nonces,
	// or to reach the instants of backup schedules (see
	// TakeScheduledSnapshots).
	Now func() time.Time
	// Exports tunes how export jobs run; by default the server looks for
	// new jobs every 50 ms and retries a failed attempt after 100 ms.
	Exports *Exports
	// NoExports leaves export jobs, and snapshots being taken, queued
	// instead of running them.
	NoExports bool
	// SweepInterval is how often expired snapshots are removed, the first
	// time one interval after the start, so that a test's fixtures of any
	// age outlive it (default a minute).
	SweepInterval time.Duration
	// ClusterChangeDelay is how long a cluster created through the API
	// shows CREATING, and a deleted one DELETING, on the clock Now; none
	// by default.
	ClusterChangeDelay time.Duration
	// SchedulePollInterval is how often the backup schedules are looked at
	// for the snapshots they call for (default a minute).
	SchedulePollInterval time.Duration
}

// RateLimits are the token buckets of the API, one per endpoint set and
// project (per organization for Projects).
type RateLimits struct {
	// Disabled turns rate limiting off.
	Disabled bool
	// CloudBackups, CloudProviderAccess, Clusters and Projects replace
	// Atlas's token bucket of each endpoint set (its snapshots, exports
	// and export buckets; its cloud provider access roles; its cluster
	// reads; its project list, create and get, kept per organization of
	// the caller); nil keeps Atlas's.
	CloudBackups, CloudProviderAccess, Clusters, Projects *TokenBucket
}

// TokenBucket holds Capacity requests and regains Refill of them every
// Period.
type TokenBucket struct {
	Capacity, Refill int
	Period           time.Duration
}

// Buckets says where export buckets are kept. Each provider's buckets are
// folders under LocalDir unless an emulator (or a compatible server) of
// the provider is given.
type Buckets struct {
	// LocalDir holds the local buckets, a folder per provider and bucket
	// (aws/NAME, azure/NAME, gcp/NAME); default <DataDir>/buckets.
	LocalDir string
	// S3 reaches AWS buckets on an S3-compatible server.
	S3 *S3Compatible
	// Azure reaches Azure containers on an Azure Blob emulator (Azurite).
	Azure *AzureCompatible
	// GCS reaches Google Cloud buckets on a GCS emulator (fake-gcs-server).
	GCS *GCSCompatible
	// Timeout bounds each check of a bucket (default 30 s).
	Timeout time.Duration
}

// S3Compatible is an S3-compatible server and the static credentials the
// test server signs with.
type S3Compatible struct {
	Endpoint                     string
	AccessKeyID, SecretAccessKey string
	Region                       string
	VirtualHostedStyle           bool
}

// AzureCompatible is the blob service of one storage account, e.g.
// Azurite's http://127.0.0.1:10000/devstoreaccount1, and its shared key.
type AzureCompatible struct {
	Endpoint                string
	AccountName, AccountKey string
}

// GCSCompatible is a GCS JSON API endpoint, reached without
// authentication.
type GCSCompatible struct {
	Endpoint string
}

// Exports tunes how export jobs run; zero fields keep the defaults.
type Exports struct {
	// ChunkBytes is the Extended JSON per data object (64 MiB by
	// default, as Atlas writes them).
	ChunkBytes int64
	// ParallelCollections is how many collections of one job are
	// written at once (one, as Atlas).
	ParallelCollections int
	// MaxJobs is how many jobs (replica sets) run at once (five, as
	// Atlas).
	MaxJobs int
	// PollInterval is how often the queue is looked at for new jobs.
	PollInterval time.Duration
	// RetryDelay is the wait before retrying an attempt that failed with
	// a transient fault, doubled for each next one.
	RetryDelay time.Duration
	// MaxAttempts bounds the attempts of a job failing with transient
	// faults.
	MaxAttempts int
}

// EnvDatabase names the environment variable that supplies
// Options.Database, so that a whole test suite can run against PostgreSQL.
const EnvDatabase = testserver.EnvDatabase

// APIKey is a digest API key.
type APIKey struct{ PublicKey, PrivateKey string }

// ServiceAccount is an OAuth client.
type ServiceAccount struct{ ClientID, ClientSecret string }

// Server is a running test server.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123, to give to clients.
	URL string
	// OrgID and GroupID are the organization and the project the server
	// was initialized with.
	OrgID, GroupID string
	// APIKey and ServiceAccount own the organization.
	APIKey         APIKey
	ServiceAccount ServiceAccount

	srv *testserver.Server
}

// NewServer starts a server and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if err := o.Buckets.builtIn(); err != nil {
		tb.Fatal(err)
	}
	return wrap(testserver.NewServer(tb, o.internal()))
}

// Start starts a server; call Close when done.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := o.Buckets.builtIn(); err != nil {
		return nil, err
	}
	srv, err := testserver.Start(ctx, o.internal())
	if err != nil {
		return nil, err
	}
	return wrap(srv), nil
}

func wrap(srv *testserver.Server) *Server {
	return &Server{URL: srv.URL, OrgID: srv.OrgID, GroupID: srv.GroupID, APIKey: APIKey(srv.APIKey),
		ServiceAccount: ServiceAccount(srv.ServiceAccount), srv: srv}
}

// Close stops the server and removes its temporary data. Requests still in
// flight are cut short, as httptest.Server.Close does.
func (s *Server) Close() { s.srv.Close() }

// AddAPIKey creates an API key of the server's organization that holds
// role: on the organization for ORG_OWNER or ORG_MEMBER, on the server's
// project for a project role (e.g. snapexport.RoleGroupReadOnly), to test
// what a client may do with fewer rights.
func (s *Server) AddAPIKey(ctx context.Context, role snapexport.Role) (APIKey, error) {
	k, err := s.srv.AddAPIKey(ctx, role)
	return APIKey(k), err
}

// AddServiceAccount creates a service account of the server's organization
// that holds role, as AddAPIKey does.
func (s *Server) AddServiceAccount(ctx context.Context, role snapexport.Role) (ServiceAccount, error) {
	sa, err := s.srv.AddServiceAccount(ctx, role)
	return ServiceAccount(sa), err
}

// CreateCluster registers a cluster in the server's project, as
// `snapexport admin cluster create` does: a replica set, or a sharded
// cluster when shards names its replica sets.
func (s *Server) CreateCluster(ctx context.Context, name string, shards ...string) (*snapexport.Cluster, error) {
	return s.srv.CreateCluster(ctx, name, shards...)
}

// BindCluster binds a cluster of the server's project to a running
// MongoDB, as `snapexport admin cluster update --mongodb-uri` does: the
// snapshots taken of it from then on (the SDK's TakeSnapshot, or its
// backup schedule) read that deployment through the MongoDB Go driver.
// consistency is snapexport.ConsistencyPointInTime (also when empty),
// which needs a replica set of MongoDB 5.0 or later, or
// snapexport.ConsistencyNone, which reads any server without a point in
// time. The connection string is kept sealed with a key fixed for tests.
func (s *Server) BindCluster(ctx context.Context, name, uri string, consistency snapexport.Consistency) (*snapexport.Cluster, error) {
	return s.srv.BindCluster(ctx, name, uri, consistency)
}

// TakeScheduledSnapshots takes, at once, the snapshots that the clusters'
// backup schedules called for since the last time they were looked at, by
// the server's clock (Options.Now), waits until they have ended, and
// returns them (completed, or failed) as they ended: a test moves
// its clock past an instant and calls it rather than waiting for
// SchedulePollInterval. Of several instants passed since, only the latest
// is taken, and none from before the server started.
func (s *Server) TakeScheduledSnapshots(ctx context.Context) ([]*snapexport.Snapshot, error) {
	return s.srv.Server.TakeScheduledSnapshots(ctx)
}

// Import says what an imported archive is a snapshot of.
type Import struct {
	// ClusterName is the cluster (of the server's project) the snapshot
	// is of.
	ClusterName string
	// Shard is the replica set the archive comes from: required for a
	// sharded cluster.
	Shard string
	// TakenAt is the snapshot's time (the import's when zero); the
	// shards of one sharded-cluster snapshot share it.
	TakenAt time.Time
	// Retention is how long the snapshot is kept after the import (30
	// days when zero).
	Retention     time.Duration
	Description   string
	FrequencyType string // "ondemand" when empty
}

// Imported is a snapshot made from an archive.
type Imported struct {
	Snapshot *snapexport.Snapshot
	// Sharded is the sharded-cluster snapshot the import completed, if
	// any.
	Sharded *snapexport.Snapshot
	// AutoExport is the export job the cluster's backup schedule started
	// for the snapshot, if any.
	AutoExport *snapexport.ExportJob
	// Notes say what of the archive was left out, and why.
	Notes []string
}

// ImportArchive imports a mongodump archive (gzipped or not) as a completed
// snapshot, as `snapexport snapshot import` does.
func (s *Server) ImportArchive(ctx context.Context, in Import, archive io.Reader) (*Imported, error) {
	res, err := s.srv.ImportArchive(ctx, service.ImportInput{ClusterName: in.ClusterName, Shard: in.Shard, TakenAt: in.TakenAt,
		Retention: in.Retention, Description: in.Description, FrequencyType: in.FrequencyType}, archive)
	if err != nil {
		return nil, err
	}
	return &Imported{Snapshot: res.Snapshot, Sharded: res.Sharded, AutoExport: res.AutoExport, Notes: res.Notes}, nil
}

// Loaded is a cluster's data as a load left it.
type Loaded struct {
	ClusterName    string
	ReplicaSetName string
	// Collections are the data's collections, views left out.
	Collections []snapexport.SnapshotCollection
	// Size is the size of the documents.
	Size int64
	// Notes say what of the archive was left out, and why.
	Notes []string
}

// LoadCluster makes a mongodump archive (gzipped or not) the current data
// of a cluster of the server's project, or of the shard (a replica-set
// name) of a sharded one, as `snapexport admin cluster load` does. A new
// cluster is empty; the snapshots taken after the load (the SDK's
// TakeSnapshot) copy this data.
func (s *Server) LoadCluster(ctx context.Context, clusterName, shard string, archive io.Reader) (*Loaded, error) {
	res, err := s.srv.LoadCluster(ctx, service.LoadInput{ClusterName: clusterName, Shard: shard}, archive)
	if err != nil {
		return nil, err
	}
	return &Loaded{ClusterName: res.ClusterName, ReplicaSetName: res.ReplicaSetName, Collections: res.Collections, Size: res.Size,
		Notes: res.Notes}, nil
}

// builtIn fails for an emulator in a test binary built without the SDKs
// that reach it, naming the option and the build tag.
func (b *Buckets) builtIn() error {
	if b == nil || objectstore.SDKsBuiltIn {
		return nil
	}
	for _, e := range []struct {
		option string
		set    bool
	}{{"Buckets.S3", b.S3 != nil}, {"Buckets.Azure", b.Azure != nil}, {"Buckets.GCS", b.GCS != nil}} {
		if e.set {
			return fmt.Errorf("snapexporttest: %s needs the cloud SDKs, which -tags %s left out of this test binary; build it without the tag to use an emulator",
				e.option, objectstore.LocalBucketsTag)
		}
	}
	return nil
}

// internal is the test server's configuration of o.
func (o Options) internal() testserver.Options {
	out := testserver.Options{Logger: o.Logger, DataDir: o.DataDir, Database: o.Database, Now: o.Now, NoExports: o.NoExports,
		SweepInterval: o.SweepInterval, ClusterChangeDelay: o.ClusterChangeDelay, SchedulePollInterval: o.SchedulePollInterval}
	if l := o.RateLimits; l != nil {
		limits := api.DefaultLimits()
		limits.Disabled = l.Disabled
		for _, set := range []struct {
			bucket *TokenBucket
			policy *ratelimit.Policy
		}{
			{l.CloudBackups, &limits.CloudBackups},
			{l.CloudProviderAccess, &limits.CloudProviderAccess},
			{l.Clusters, &limits.Clusters},
			{l.Projects, &limits.Projects},
		} {
			if b := set.bucket; b != nil {
				*set.policy = ratelimit.Policy{Name: set.policy.Name, Capacity: b.Capacity, Refill: b.Refill, Period: b.Period}
			}
		}
		out.Limits = &limits
	}
	if b := o.Buckets; b != nil {
		c := &objectstore.Config{LocalDir: b.LocalDir, Timeout: b.Timeout}
		if s3 := b.S3; s3 != nil {
			c.AWS = objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: s3.Endpoint, AccessKeyID: s3.AccessKeyID,
				SecretAccessKey: s3.SecretAccessKey, DefaultRegion: s3.Region, VirtualHostedStyle: s3.VirtualHostedStyle}
		}
		if az := b.Azure; az != nil {
			c.Azure = objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: az.Endpoint, AccountName: az.AccountName,
				AccountKey: az.AccountKey}
		}
		if gcs := b.GCS; gcs != nil {
			c.GCP = objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: gcs.Endpoint}
		}
		out.ObjectStores = c
	}
	if e := o.Exports; e != nil {
		out.Exports = &exportrunner.Config{ChunkBytes: e.ChunkBytes, ParallelCollections: e.ParallelCollections, MaxJobs: e.MaxJobs,
			PollInterval: e.PollInterval, RetryDelay: e.RetryDelay, MaxAttempts: e.MaxAttempts}
		if out.Exports.PollInterval == 0 {
			out.Exports.PollInterval = 50 * time.Millisecond
		}
		if out.Exports.RetryDelay == 0 {
			out.Exports.RetryDelay = 100 * time.Millisecond
		}
	}
	return out
}
