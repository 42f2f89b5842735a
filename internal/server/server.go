// Package server runs a complete snapexport server over a backend (a
// database) and a data directory: the store, the business rules,
// authentication, rate limits, the HTTP API, the export runner and the
// sweeps of expired and removed items, from start to graceful shutdown.
// `snapexport serve` and package snapexporttest both run it; the other
// commands open it to act on an installation without serving.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/capture"
	"github.com/snapexport/snapexport/internal/console"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/instrumentedstore"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/redact"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// Defaults of Config.
const (
	DefaultSweepInterval        = time.Minute
	DefaultSchedulePollInterval = 30 * time.Second
	// DefaultCaptureCollections is mongodump's --numParallelCollections.
	DefaultCaptureCollections = 4
	DefaultShutdownTimeout    = 30 * time.Second
)

// Config selects where state lives and how the server behaves.
type Config struct {
	// Backend opens the database (sqlite.OpenBackend of the data
	// directory, postgres.OpenBackend); the server closes it.
	Backend func(ctx context.Context) (*backend.Backend, error)
	// DataDir holds the folders of local buckets and snapshots, and
	// SQLite's database when Backend keeps it there.
	DataDir string
	// PublicURL is the base of links in responses; derived from each
	// request when empty.
	PublicURL string
	Limits    api.Limits
	// TrustedProxies are the networks of the proxies in front of the
	// server whose X-Forwarded-For tells a client's address; none when
	// empty, so that the connection's address is the client's.
	TrustedProxies []netip.Prefix
	Hash           auth.HashParams
	Logger         *slog.Logger
	// ObjectStores says how customers' buckets are reached; the zero value
	// keeps every provider's buckets in local folders under
	// <DataDir>/buckets.
	ObjectStores objectstore.Config
	// SnapshotStore is where snapshots' data lives: a gocloud.dev blob URL
	// (s3://, azblob://, gs://, file://), or empty for <DataDir>/snapshots.
	// Replicas sharing a database must share it too. A URL other than
	// file:// opens through a driver's URL opener, which the binary must
	// link (cmd/snapexport links those of s3blob, azureblob and gcsblob).
	SnapshotStore string
	// Exports tunes the export-job runner (its Jobs, Buckets and
	// Snapshots are set by Open).
	Exports exportrunner.Config
	// Metrics, when set, is told of the API's requests, the export jobs
	// and the store's transactions; the caller serves its Handler.
	Metrics *metrics.Metrics
	// Tracing, when set, makes spans of the API's requests, the store's
	// transactions, export and snapshot jobs and the collections they
	// write or read (tracing.FromEnvironment); the caller shuts it down.
	Tracing trace.TracerProvider
	// NoExports leaves export jobs (and snapshots being taken) queued
	// while serving, for another server to run.
	NoExports bool
	// MaxUploadBytes bounds an archive sent to the upload endpoint
	// (api.DefaultMaxUploadBytes when zero).
	MaxUploadBytes int64
	// Identities are the service's own cloud identities; defaults when zero.
	Identities service.Identities
	// Now is the clock of the service, authentication and the API;
	// time.Now when nil.
	Now func() time.Time
	// SweepInterval is how often expired snapshots and the removed items
	// kept for listings are swept while serving (DefaultSweepInterval
	// when zero).
	SweepInterval time.Duration
	// SweepDelay is how long after the start of Serve the first sweep
	// runs: at once when zero, so that what expired while no server ran
	// goes first.
	SweepDelay time.Duration
	// SchedulePollInterval is how often, while serving, the backup
	// schedules are looked at for the snapshots they call for (by the
	// clock Now), the first time when serving starts
	// (DefaultSchedulePollInterval when zero). A snapshot is taken up to
	// this long after its instant.
	SchedulePollInterval time.Duration
	// CaptureCollections is how many collections a snapshot of a cluster
	// bound to a deployment reads at once (DefaultCaptureCollections when
	// zero).
	CaptureCollections int
	// ShutdownTimeout bounds the wait for requests in flight when serving
	// ends (DefaultShutdownTimeout when zero).
	ShutdownTimeout time.Duration
	// UploadTimeout bounds the whole of a snapshot upload
	// (api.DefaultUploadTimeout when zero).
	UploadTimeout time.Duration
	// ClusterChangeDelay is how long a new cluster shows CREATING and a
	// deleted one DELETING, on the clock Now; none when zero.
	ClusterChangeDelay time.Duration
	// SecretKey (service.SecretKeySize bytes) seals the connection strings
	// of the deployments clusters are bound to. Open refuses a key other
	// than the one the database was first given; without one, clusters
	// cannot be bound.
	SecretKey []byte
}

// Server is an open server. Serve serves it; Close releases it.
type Server struct {
	Store   snapexport.Store
	Buckets *objectstore.Stores
	// Snapshots holds snapshots' data.
	Snapshots *snapshotstore.Store
	Service   *service.Service
	Auth      *auth.Authenticator
	API       *api.Server
	// Console is the web console, served at /console/ beside the API.
	Console *console.Server

	// apiHandler is the API's handler, which the console calls too.
	apiHandler func() http.Handler

	cfg       Config
	backend   *backend.Backend
	exports   *exportrunner.Runner
	scheduler *service.Scheduler
	// ready is closed once Serve answers requests and runs jobs.
	ready chan struct{}

	mu       sync.Mutex
	http     *http.Server  // while serving
	served   chan struct{} // closed when Serve returns
	shutdown bool          // Shutdown was called
}

// Open opens the backend and the data directory and assembles the server.
// It neither initializes the store nor starts anything: Serve does.
func Open(ctx context.Context, cfg Config) (s *Server, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	if cfg.Backend == nil {
		return nil, errors.New("no database given")
	}
	if cfg.Hash == (auth.HashParams{}) {
		cfg.Hash = auth.DefaultHashParams
	}
	if cfg.Identities == (service.Identities{}) {
		cfg.Identities = service.DefaultIdentities
	}
	cfg.SweepInterval = cmp.Or(cfg.SweepInterval, DefaultSweepInterval)
	cfg.SchedulePollInterval = cmp.Or(cfg.SchedulePollInterval, DefaultSchedulePollInterval)
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, DefaultShutdownTimeout)
	var closers []func() error
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	b, err := cfg.Backend(ctx)
	if err != nil {
		return nil, err
	}
	closers = append(closers, b.Close)
	if cfg.Metrics != nil || cfg.Tracing != nil {
		store := &instrumentedstore.Store{Store: b.Store, Backend: b.Name}
		if cfg.Metrics != nil {
			store.Observer = cfg.Metrics
		}
		if cfg.Tracing != nil {
			store.Tracer = cfg.Tracing.Tracer("github.com/snapexport/snapexport/internal/instrumentedstore")
		}
		b.Store = store
	}
	osc := cfg.ObjectStores
	if osc.LocalDir == "" {
		osc.LocalDir = filepath.Join(cfg.DataDir, "buckets")
	}
	if osc.Logger == nil {
		osc.Logger = cfg.Logger
	}
	buckets, err := objectstore.New(osc)
	if err != nil {
		return nil, err
	}
	closers = append(closers, buckets.Close)
	snapshots, err := openSnapshots(ctx, cfg)
	if err != nil {
		return nil, err
	}
	closers = append(closers, snapshots.Close)
	rc := cfg.Exports
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	queue, err := exportrunner.OpenQueue(ctx, b.Queue, rc.Logger)
	if err != nil {
		return nil, err
	}
	svc := &service.Service{Store: b.Store, Buckets: buckets, SnapshotData: snapshots, Identities: cfg.Identities,
		Exports: queue, SnapshotJobs: queue, Logger: cfg.Logger, Now: cfg.Now, ClusterChangeDelay: cfg.ClusterChangeDelay,
		Capture: capture.Options{Collections: cmp.Or(cfg.CaptureCollections, DefaultCaptureCollections)}}
	if cfg.SecretKey != nil {
		if err := useSecretKey(ctx, svc, cfg.SecretKey); err != nil {
			return nil, err
		}
	}
	rc.Jobs, rc.SnapshotJobs, rc.Buckets, rc.Snapshots = svc, svc, buckets, snapshots
	if cfg.Metrics != nil {
		rc.Observer = cfg.Metrics
		svc.Observer = cfg.Metrics
		cfg.Metrics.WatchQueue(b.Queue.Depth)
	}
	rc.Tracing = cfg.Tracing
	runner, err := exportrunner.New(queue, rc)
	if err != nil {
		return nil, err
	}
	authn := &auth.Authenticator{Store: b.Store, Now: cfg.Now, Hash: cfg.Hash, OwnNonces: b.Alone}
	svc.IdentityChanged = authn.Forget
	// Instants of the backup schedules before the server opened are not
	// taken afterwards.
	scheduler := &service.Scheduler{Service: svc, Taker: svc}
	scheduler.Start()
	apiSrv := &api.Server{Service: svc, Auth: authn, Limiter: b.Limiter, Limits: cfg.Limits,
		PublicURL: cfg.PublicURL, Logger: cfg.Logger, Unavailable: b.Unavailable, Now: cfg.Now,
		MaxUploadBytes: cfg.MaxUploadBytes, UploadTimeout: cfg.UploadTimeout, TrustedProxies: cfg.TrustedProxies}
	if cfg.Metrics != nil {
		apiSrv.Observer = cfg.Metrics
	}
	apiSrv.Tracing = cfg.Tracing
	// Built when first served: commands that open a server without
	// serving it do not pay for its routes.
	apiHandler := sync.OnceValue(apiSrv.Handler)
	return &Server{
		Store:      b.Store,
		Buckets:    buckets,
		Snapshots:  snapshots,
		Service:    svc,
		Auth:       authn,
		API:        apiSrv,
		apiHandler: apiHandler,
		Console: &console.Server{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { apiHandler().ServeHTTP(w, r) }),
			Auth: authn, Organizations: svc.Organizations,
			PublicURL: cfg.PublicURL, Logger: cfg.Logger, Now: cfg.Now},
		cfg:       cfg,
		ready:     make(chan struct{}),
		backend:   b,
		exports:   runner,
		scheduler: scheduler,
	}, nil
}

// UseSecretKey gives a server opened without a secret key the key, once
// checked against the database's (service.ErrSecretKeyMismatch) or made
// the database's when it has none.
func (s *Server) UseSecretKey(ctx context.Context, key []byte) error {
	return useSecretKey(ctx, s.Service, key)
}

func useSecretKey(ctx context.Context, svc *service.Service, key []byte) error {
	k, err := service.NewSecretKey(key)
	if err != nil {
		return err
	}
	return svc.UseSecretKey(ctx, k)
}

// Backend names the kind of database the server runs on: sqlite or
// postgres.
func (s *Server) Backend() string { return s.backend.Name }

// Handler serves the HTTP API, and the console under /console/.
func (s *Server) Handler() http.Handler {
	// Not a ServeMux: it would answer unclean paths with redirects the
	// API answers with its own errors.
	consoleHandler, apiHandler := s.Console.Handler(), s.apiHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, console.Prefix):
			consoleHandler.ServeHTTP(w, r)
		case r.URL.Path == strings.TrimSuffix(console.Prefix, "/") && r.Method == http.MethodGet:
			http.Redirect(w, r, console.Prefix, http.StatusSeeOther)
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})
}

// MadeDatabase reports whether opening the server created its database,
// which is therefore not initialized: Initialized need not ask it.
func (s *Server) MadeDatabase() bool { return s.backend.Made }

// Initialized reports whether the store has been initialized.
func (s *Server) Initialized(ctx context.Context) (bool, error) {
	return hasOrganization(ctx, s.Store)
}

func hasOrganization(ctx context.Context, store snapexport.Store) (bool, error) {
	var n int
	err := store.Read(ctx, func(tx snapexport.Tx) error {
		orgs, err := tx.ListOrganizations(ctx)
		n = len(orgs)
		return err
	})
	return n > 0, err
}

// Init creates the first organization and project, and credentials that
// own them; service.ErrAlreadyInitialized when the store has an
// organization.
func (s *Server) Init(ctx context.Context, orgName, projectName string) (*service.Bootstrap, error) {
	return s.Service.Init(ctx, orgName, projectName, s.cfg.Hash)
}

// Ready is closed once Serve answers requests and runs export jobs, the
// backup schedules and the sweeps: what has to wait for the start, not
// to slow it (the hash of new credentials takes a core for tens of
// milliseconds), begins then.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitIfEmpty is Init on a store that has no organization yet; on one
// that has, initialized by an earlier start or by another replica at the
// same time, it returns nil and changes nothing.
func (s *Server) InitIfEmpty(ctx context.Context, orgName, projectName string) (*service.Bootstrap, error) {
	initialized, err := s.Initialized(ctx)
	if err != nil || initialized {
		return nil, err
	}
	b, err := s.Init(ctx, orgName, projectName)
	if errors.Is(err, service.ErrAlreadyInitialized) {
		return nil, nil
	}
	return b, err
}

// CreateServiceAccount creates an OAuth client, its secret hashed as the
// server hashes them.
func (s *Server) CreateServiceAccount(ctx context.Context, orgID, name, description string, roles []snapexport.Role) (service.Credentials, error) {
	return s.Service.CreateServiceAccount(ctx, orgID, name, description, roles, s.cfg.Hash)
}

// Serve runs export jobs (unless Config.NoExports), the backup schedules
// and the sweeps, and serves the API on ln, until ctx ends or Shutdown is called. Then it
// stops accepting requests, waits up to Config.ShutdownTimeout for those
// in flight, and stops running exports where they are (they resume at the
// next start, here or on another server). It returns nil once stopped so.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close() // when serving never starts
	logger := s.logger()
	httpSrv := &http.Server{Handler: s.Handler(),
		// Bounded reads keep slow clients from holding connections; writes
		// may wait for a bucket check (objectStores.timeout) and a
		// database. Uploads push their own read deadline.
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		// Headers up to this size reach the API, which answers those over
		// its own limit with an ApiError rather than Go's plain text.
		MaxHeaderBytes: api.ListenerMaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	// The console's progress streams last as long as their exports; a
	// shutdown ends them rather than waiting for them.
	httpSrv.RegisterOnShutdown(s.Console.EndStreams)
	s.mu.Lock()
	switch {
	case s.served != nil:
		s.mu.Unlock()
		return errors.New("server: Serve called twice")
	case s.shutdown:
		// Shut down before it began: nothing to serve.
		s.mu.Unlock()
		return nil
	}
	s.http, s.served = httpSrv, make(chan struct{})
	s.mu.Unlock()
	defer close(s.served)
	// Once requests are drained and exports stopped, the operator learns
	// that the stop was clean.
	serving := false
	defer func() {
		if serving {
			logger.Info("stopped")
		}
	}()

	for _, line := range s.Buckets.Describe() {
		logger.Info("object storage", "provider", line)
	}
	s.reportOpenDataDir(logger)
	// Requests are answered while the job runner starts (a few
	// milliseconds): an export or snapshot a request queues meanwhile is
	// taken once it runs.
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "data", s.cfg.DataDir, "database", s.backend.Name,
		"rateLimits", !s.cfg.Limits.Disabled)
	serving = true
	if !s.cfg.NoExports {
		if err := s.startExports(ctx); err == nil {
			// Running exports stop where they are (and resume at the next
			// start) before the store closes, however serving ends.
			defer func() {
				stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := s.exports.Stop(stopCtx); err != nil {
					logger.Warn("stopping export jobs", "error", err)
				}
			}()
		} else if ctx.Err() == nil {
			httpSrv.Close()
			<-served
			return err
		}
		// Else serving ended while the jobs were being started: a stop
		// like any other, below, the jobs resuming at the next start.
	}
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	swept := make(chan struct{}, 2)
	go func() {
		defer func() { swept <- struct{}{} }()
		s.sweep(sweepCtx)
	}()
	go func() {
		defer func() { swept <- struct{}{} }()
		s.takeScheduledSnapshots(sweepCtx)
	}()
	defer func() {
		stopSweeping()
		<-swept
		<-swept
	}()

	close(s.ready)
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil // Shutdown
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startExports starts running export jobs and the taking of snapshots, and
// queues again the active jobs that no runner holds and the snapshots
// still being taken: those recorded while no queue could take them, and
// those of a server that stopped or died.
func (s *Server) startExports(ctx context.Context) error {
	if err := s.exports.Start(ctx); err != nil {
		return fmt.Errorf("start export jobs: %w", err)
	}
	if err := cmp.Or(s.Service.RequeueExportJobs(ctx), s.Service.RequeueSnapshots(ctx)); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		s.exports.Stop(stopCtx)
		return fmt.Errorf("start export jobs: %w", err)
	}
	return nil
}

// Shutdown ends Serve: it stops accepting requests and waits for those in
// flight until ctx ends, then closes their connections; it returns once
// Serve has returned. A Serve called after it returns at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	httpSrv, served := s.http, s.served
	s.mu.Unlock()
	if httpSrv == nil {
		return nil // Serve, if called, returns at once
	}
	s.logger().Info("shutting down")
	err := httpSrv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, httpSrv.Close())
	}
	<-served
	return err
}

// Close releases the object-store clients and closes the store; call it
// once Serve has returned.
func (s *Server) Close() error {
	return errors.Join(s.Buckets.Close(), s.Snapshots.Close(), s.backend.Close())
}

// sweep removes expired snapshots, and the deleted items kept for
// paginated listings once they are old enough, every SweepInterval until
// ctx ends, from SweepDelay on; snapshot data that no snapshot owns, once
// an hour.
func (s *Server) sweep(ctx context.Context) {
	logger := s.logger()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	if s.cfg.SweepDelay > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.SweepDelay):
		}
	}
	var lastOrphanSweep time.Time
	for {
		n, err := s.Service.SweepExpiredSnapshots(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("sweeping expired snapshots", "error", err)
		case n > 0:
			logger.Info("expired snapshots removed", "count", n)
		}
		if _, err := s.Service.SweepRemovedItems(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("sweeping deleted items kept for listings", "error", err)
		}
		// Folders no snapshot owns are rare (an import killed midway) and
		// listing the store costs more: once an hour.
		if time.Since(lastOrphanSweep) >= time.Hour {
			lastOrphanSweep = time.Now()
			if _, err := s.Service.SweepOrphanedSnapshotData(ctx, service.OrphanGrace); err != nil && ctx.Err() == nil {
				logger.Warn("sweeping orphaned snapshot data", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// takeScheduledSnapshots takes the snapshots the backup schedules call
// for, every SchedulePollInterval until ctx ends, the first time one
// interval after serving began: Open started the schedule, so a look
// right away would find nothing due, and would race a caller of
// TakeScheduledSnapshots that moved the clock meanwhile.
func (s *Server) takeScheduledSnapshots(ctx context.Context) {
	t := time.NewTicker(s.cfg.SchedulePollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// The scheduler logs each cluster's failure.
		s.TakeScheduledSnapshots(ctx)
	}
}

// TakeScheduledSnapshots takes, now, the snapshots the backup schedules
// called for since the last time (by the clock Config.Now), waits until
// each has ended (completed or failed) and returns them as they ended;
// the scheduler takes them every SchedulePollInterval while serving, and
// tests that move the clock call this to see the result without waiting.
// Snapshots of instants before Open are not taken.
func (s *Server) TakeScheduledSnapshots(ctx context.Context) ([]*snapexport.Snapshot, error) {
	taken, err := s.scheduler.Tick(ctx)
	for i, snap := range taken {
		ended, werr := s.snapshotEnded(ctx, snap)
		if werr != nil {
			return taken, errors.Join(err, werr)
		}
		taken[i] = ended
	}
	return taken, err
}

// snapshotEnded waits until snap is no longer queued or in progress.
func (s *Server) snapshotEnded(ctx context.Context, snap *snapexport.Snapshot) (*snapexport.Snapshot, error) {
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		now, err := snapexport.ReadValue(ctx, s.Service.Store, func(tx snapexport.Tx) (*snapexport.Snapshot, error) {
			return tx.Snapshot(ctx, snap.ProjectID, snap.ClusterID, snap.ID)
		})
		if err != nil || !now.Status.Unfinished() {
			return now, err
		}
		select {
		case <-ctx.Done():
			return now, ctx.Err()
		case <-poll.C:
		}
	}
}

func (s *Server) logger() *slog.Logger { return cmp.Or(s.cfg.Logger, slog.Default()) }

// openSnapshots opens the snapshot store that cfg names.
func openSnapshots(ctx context.Context, cfg Config) (*snapshotstore.Store, error) {
	if cfg.SnapshotStore == "" {
		return snapshotstore.OpenDir(ctx, filepath.Join(cfg.DataDir, "snapshots"), snapshotstore.Options{Now: cfg.Now})
	}
	// A plain file:// URL is a local folder: OpenDir writes temporary files
	// next to their objects (fileblob's URL opener puts them in $TMPDIR,
	// from where the final rename can cross file systems).
	if u, err := url.Parse(cfg.SnapshotStore); err == nil && u.Scheme == "file" && u.RawQuery == "" && u.Path != "" {
		return snapshotstore.OpenDir(ctx, filepath.FromSlash(u.Path), snapshotstore.Options{Now: cfg.Now})
	}
	b, err := blob.OpenBucket(ctx, cfg.SnapshotStore)
	if err != nil {
		return nil, fmt.Errorf("snapshot store %s: %w", redact.URL(cfg.SnapshotStore), err)
	}
	return snapshotstore.NewOwning(b, snapshotstore.Options{Now: cfg.Now}), nil
}

// reportOpenDataDir warns when others than the owner may enter or read the
// data directory, which holds the database, the snapshots and the local
// buckets. It is reported, not refused: the operator may share it on
// purpose.
func (s *Server) reportOpenDataDir(logger *slog.Logger) {
	info, err := os.Stat(s.cfg.DataDir)
	if err != nil || runtime.GOOS == "windows" {
		return // Windows keeps access in ACLs, not in the mode's bits
	}
	if mode := info.Mode().Perm(); mode&0o077 != 0 {
		logger.Warn("data directory is open to others than its owner; chmod 700 it unless that is meant",
			"dir", s.cfg.DataDir, "mode", fmt.Sprintf("%04o", mode))
	}
}
