// Package testserver runs a complete snapexport server in-process, on a
// loopback port with a throwaway database, for the tests of snapexport
// itself: package snapexporttest offers it to users, and this package also
// gives snapexport's own tests the server's insides (Server.Server).
//
// The server is initialized with one organization, one project (GroupID)
// and an API key and a service account that own the organization.
package testserver

import (
	"cmp"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// Options tune a test server. The zero value gives Atlas's behaviour.
type Options struct {
	// Limits replaces Atlas's rate limits (e.g. Disabled, or a small capacity
	// to test a client's handling of 429).
	Limits *api.Limits
	// TrustedProxies are the networks whose X-Forwarded-For the server
	// believes, to test clients behind proxies; none when empty.
	TrustedProxies []netip.Prefix
	// Logger receives the server's request log; discarded when nil.
	Logger *slog.Logger
	// DataDir keeps the database in a given directory instead of a
	// temporary one removed by Close.
	DataDir string
	// ObjectStores says how buckets are reached; by default every
	// provider's buckets are local folders under the data directory.
	ObjectStores *objectstore.Config
	// Database is a postgres:// URL: the server then keeps its state in a
	// fresh schema of that database, dropped by Close. Empty means the
	// environment variable SNAPEXPORTTEST_DATABASE, and when that is empty
	// too, SQLite in the data directory.
	Database string
	// Now replaces the server's clock, e.g. to expire tokens and nonces.
	Now func() time.Time
	// Exports tunes the export-job runner (e.g. a small ChunkBytes); by
	// default it polls for jobs every 50 ms and retries after 100 ms.
	Exports *exportrunner.Config
	// NoExports leaves export jobs queued instead of running them.
	NoExports bool
	// SecretKey seals the connection strings of the deployments clusters
	// are bound to; when nil, a key fixed for tests, the same at every
	// start, so that a server started again on the same data reads them.
	SecretKey []byte
	// SweepInterval is how often expired snapshots and the removed items
	// kept for listings are swept, the first time one interval after the
	// start, so that a test's fixtures of any age outlive it (default a
	// minute).
	SweepInterval time.Duration
	// ClusterChangeDelay is how long a cluster created through the API
	// shows CREATING, and a deleted one DELETING, on the clock Now; none
	// by default.
	ClusterChangeDelay time.Duration
	// SchedulePollInterval is how often the backup schedules are looked
	// at by the server's clock (default a minute); tests that move a fake
	// clock call Server.Server.TakeScheduledSnapshots instead of waiting.
	SchedulePollInterval time.Duration
	// Metrics, when set, is told of the server's requests, jobs,
	// snapshots and store transactions, for a test to read through its
	// Handler.
	Metrics *metrics.Metrics
	// Tracing, when set, gets the spans of the server's requests, store
	// transactions and jobs (e.g. an SDK provider with an in-memory
	// exporter).
	Tracing trace.TracerProvider
}

// EnvDatabase names the environment variable that supplies
// Options.Database, so that a whole test suite can run against PostgreSQL.
const EnvDatabase = "SNAPEXPORTTEST_DATABASE"

// APIKey is a digest API key.
type APIKey struct{ PublicKey, PrivateKey string }

// ServiceAccount is an OAuth client.
type ServiceAccount struct{ ClientID, ClientSecret string }

// Server is a running test server.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123, to give to clients.
	URL            string
	OrgID          string
	GroupID        string
	APIKey         APIKey
	ServiceAccount ServiceAccount
	// Server gives tests direct access to the service, e.g. to add
	// principals with other roles.
	Server *server.Server
	// Database is the PostgreSQL database holding the server's state (the
	// URL of Options.Database or $SNAPEXPORTTEST_DATABASE), and Schema the
	// throwaway schema of it that Close drops; both are empty on SQLite.
	Database, Schema string

	served  chan error
	tempDir string
}

// testHash keeps client-secret hashing cheap: test secrets are throwaway
// and start-up time matters more in a test suite.
var testHash = auth.HashParams{Time: 1, Memory: 64, Threads: 1}

// NewServer starts a server and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := Start(context.Background(), o)
	if err != nil {
		tb.Fatalf("snapexporttest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a server; call Close when done.
func Start(ctx context.Context, o Options) (*Server, error) {
	s := &Server{}
	dir := o.DataDir
	if dir == "" {
		var err error
		if dir, err = makeTempDir(); err != nil {
			return nil, err
		}
		s.tempDir = dir
	}
	limits := api.DefaultLimits()
	if o.Limits != nil {
		limits = *o.Limits
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sweep := cmp.Or(o.SweepInterval, time.Minute)
	cfg := server.Config{DataDir: dir, Limits: limits, TrustedProxies: o.TrustedProxies, Hash: testHash, Logger: logger, Now: o.Now, NoExports: o.NoExports,
		SweepInterval: sweep, SweepDelay: sweep, ClusterChangeDelay: o.ClusterChangeDelay, SchedulePollInterval: cmp.Or(o.SchedulePollInterval, time.Minute)}
	cfg.SecretKey, cfg.Metrics, cfg.Tracing = o.SecretKey, o.Metrics, o.Tracing
	if cfg.SecretKey == nil {
		key := sha256.Sum256([]byte("snapexporttest secret key"))
		cfg.SecretKey = key[:]
	}
	if o.Database == "" {
		o.Database = os.Getenv(EnvDatabase)
	}
	if o.Database != "" {
		s.Database, s.Schema = o.Database, "snapexporttest_"+auth.RandomString(16, "abcdefghijklmnopqrstuvwxyz0123456789")
		cfg.Backend = func(ctx context.Context) (*backend.Backend, error) {
			return postgres.OpenBackend(ctx, s.Database, postgres.Options{Schema: s.Schema, MaxConns: 4})
		}
	} else {
		cfg.Backend = func(ctx context.Context) (*backend.Backend, error) { return sqlite.OpenBackend(ctx, dir) }
	}
	if o.ObjectStores != nil {
		cfg.ObjectStores = *o.ObjectStores
	}
	cfg.Exports = exportrunner.Config{PollInterval: 50 * time.Millisecond, RetryDelay: 100 * time.Millisecond}
	if o.Exports != nil {
		cfg.Exports = *o.Exports
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Server = srv
	b, err := srv.Init(ctx, "snapexporttest", "test")
	if err != nil {
		s.Close()
		return nil, err
	}
	s.OrgID, s.GroupID = b.Org.ID, b.Project.ID
	s.APIKey = APIKey{b.APIKey.PublicKey, b.APIKey.PrivateKey}
	s.ServiceAccount = ServiceAccount{b.ServiceAccount.ClientID, b.ServiceAccount.ClientSecret}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()
	s.served = make(chan error, 1)
	go func() { s.served <- srv.Serve(context.Background(), ln) }()
	return s, nil
}

// Close stops the server and removes its temporary data. Requests still in
// flight are cut short, as httptest.Server.Close does.
func (s *Server) Close() {
	if s.served != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Server.Shutdown(ctx)
		<-s.served
	}
	if s.Server != nil {
		s.Server.Close()
	}
	if s.Schema != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		postgres.DropSchema(ctx, s.Database, s.Schema)
		cancel()
	}
	s.removeTemp()
}

// makeTempDir makes a throwaway data directory: in $TMPDIR when it is set;
// otherwise, on Linux, in /dev/shm when it is a memory file system with
// room; otherwise in the system's temporary directory. A throwaway database
// needs no durability, and on a disk SQLite's fsyncs (ten per Start and
// Close under synchronous=FULL, up to several ms each on a virtual disk)
// are most of start-up (docs/performance.md).
func makeTempDir() (string, error) {
	if os.Getenv("TMPDIR") == "" {
		if parent := memoryTempDir(); parent != "" {
			if dir, err := os.MkdirTemp(parent, "snapexporttest-"); err == nil {
				return dir, nil
			}
		}
	}
	return os.MkdirTemp("", "snapexporttest-")
}

func (s *Server) removeTemp() {
	if s.tempDir != "" {
		os.RemoveAll(s.tempDir)
	}
}

// AddAPIKey creates an API key of the server's organization holding role:
// on the organization for an organization role, on the server's project
// for a project role.
func (s *Server) AddAPIKey(ctx context.Context, role snapexport.Role) (APIKey, error) {
	orgRoles, projectRole := rolesOf(role)
	creds, err := s.Server.Service.CreateAPIKey(ctx, s.OrgID, "test key "+string(role), orgRoles)
	if err == nil && projectRole != "" {
		err = s.Server.Service.AssignRole(ctx, service.PrincipalRef{PublicKey: creds.PublicKey}, s.GroupID, projectRole)
	}
	return APIKey{creds.PublicKey, creds.PrivateKey}, err
}

// AddServiceAccount creates a service account of the server's
// organization holding role, as AddAPIKey does.
func (s *Server) AddServiceAccount(ctx context.Context, role snapexport.Role) (ServiceAccount, error) {
	orgRoles, projectRole := rolesOf(role)
	creds, err := s.Server.CreateServiceAccount(ctx, s.OrgID, "test "+strings.ToLower(string(role)), "a test client", orgRoles)
	if err == nil && projectRole != "" {
		err = s.Server.Service.AssignRole(ctx, service.PrincipalRef{ClientID: creds.ClientID}, s.GroupID, projectRole)
	}
	return ServiceAccount{creds.ClientID, creds.ClientSecret}, err
}

// rolesOf splits role into the organization roles of a new principal and
// the role it then gets on the project.
func rolesOf(role snapexport.Role) ([]snapexport.Role, snapexport.Role) {
	if snapexport.ValidOrgRole(role) {
		return []snapexport.Role{role}, ""
	}
	return nil, role
}
