// Package server assembles a complete snapexport server over a data
// directory: the store, the business rules, authentication, rate limits and
// the HTTP API. `snapexport serve` and the snapexporttest package both use it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/redact"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// Config selects where state lives and how the API behaves.
type Config struct {
	// DataDir holds the SQLite database (unless Database names another)
	// and the folders of local buckets; created when needed.
	DataDir string
	// Database selects the store: empty for SQLite in DataDir, or a
	// postgres:// (postgresql://) URL.
	Database string
	// Postgres tunes the PostgreSQL connection pool and transactions.
	Postgres postgres.Options
	// PublicURL is the base of links in responses; derived from each
	// request when empty.
	PublicURL string
	Limits    api.Limits
	Hash      auth.HashParams
	Logger    *slog.Logger
	// ObjectStores says how customers' buckets are reached; the zero value
	// keeps every provider's buckets in local folders under
	// <DataDir>/buckets.
	ObjectStores objectstore.Config
	// SnapshotStore is where snapshots' data lives: a gocloud.dev blob URL
	// (s3://, azblob://, gs://, file://), or empty for <DataDir>/snapshots.
	// Replicas sharing a database must share it too.
	SnapshotStore string
	// Exports tunes the export-job runner (its Service, Buckets and
	// Snapshots are set by Open).
	Exports exportrunner.Config
	// MaxUploadBytes bounds an archive sent to the upload endpoint
	// (api.DefaultMaxUploadBytes when zero).
	MaxUploadBytes int64
	// Identities are the service's own cloud identities; defaults when zero.
	Identities service.Identities
	// Now is the clock of the service, authentication and the API;
	// time.Now when nil.
	Now func() time.Time
}

// DatabaseFile is the SQLite file inside a data directory.
const DatabaseFile = "snapexport.db"

// Server is an assembled server. Close releases the store.
type Server struct {
	Store   snapexport.Store
	Buckets *objectstore.Stores
	// Snapshots holds snapshots' data.
	Snapshots *snapshotstore.Store
	// Exports runs export jobs once started (StartExports); until then
	// jobs are only queued.
	Exports *exportrunner.Runner
	Service *service.Service
	Auth    *auth.Authenticator
	API     *api.Server
	// Hash tunes the hashing of new client secrets.
	Hash auth.HashParams
}

// Open opens (creating) the data directory and assembles the server.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	store, limiter, unavailable, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Hash == (auth.HashParams{}) {
		cfg.Hash = auth.DefaultHashParams
	}
	if cfg.Identities == (service.Identities{}) {
		cfg.Identities = service.DefaultIdentities
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
		store.Close()
		return nil, err
	}
	snapshots, err := openSnapshots(ctx, cfg)
	if err != nil {
		buckets.Close()
		store.Close()
		return nil, err
	}
	svc := &service.Service{Store: store, Buckets: buckets, SnapshotData: snapshots, Identities: cfg.Identities,
		Logger: cfg.Logger, Now: cfg.Now}
	rc := cfg.Exports
	rc.Service, rc.Buckets, rc.Snapshots = svc, buckets, snapshots
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	runner, err := openRunner(ctx, store, rc)
	if err != nil {
		snapshots.Close()
		buckets.Close()
		store.Close()
		return nil, err
	}
	svc.Exports = runner
	authn := &auth.Authenticator{Store: store, Now: cfg.Now}
	return &Server{
		Store:     store,
		Buckets:   buckets,
		Snapshots: snapshots,
		Exports:   runner,
		Service:   svc,
		Auth:      authn,
		Hash:      cfg.Hash,
		API: &api.Server{Service: svc, Auth: authn, Limiter: limiter, Limits: cfg.Limits,
			PublicURL: cfg.PublicURL, Logger: cfg.Logger, Unavailable: unavailable, Now: cfg.Now,
			MaxUploadBytes: cfg.MaxUploadBytes},
	}, nil
}

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// openStore opens the store cfg selects, with the rate limiter that goes
// with it (shared through PostgreSQL by every replica; in memory for the
// single process that owns a SQLite file) and the test for errors that mean
// the database is unreachable.
func openStore(ctx context.Context, cfg Config) (snapexport.Store, ratelimit.Limiter, func(error) bool, error) {
	switch {
	case IsPostgres(cfg.Database):
		db, err := postgres.Open(ctx, cfg.Database, cfg.Postgres)
		if err != nil {
			return nil, nil, nil, err
		}
		return db, db.Limiter(), postgres.IsUnavailable, nil
	case cfg.Database != "":
		return nil, nil, nil, fmt.Errorf("database %q: want a postgres:// URL, or none for SQLite in the data directory", redact.URL(cfg.Database))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, DatabaseFile))
	if err != nil {
		return nil, nil, nil, err
	}
	return db, ratelimit.NewMemory(), nil, nil
}

// Handler is the HTTP API.
func (s *Server) Handler() http.Handler { return s.API.Handler() }

// Initialized reports whether the store has been initialized.
func (s *Server) Initialized(ctx context.Context) (bool, error) {
	var n int
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		orgs, err := tx.ListOrganizations(ctx)
		n = len(orgs)
		return err
	})
	return n > 0, err
}

// Close releases the object-store clients and closes the store.
func (s *Server) Close() error {
	return errors.Join(s.Buckets.Close(), s.Snapshots.Close(), s.Store.Close())
}

// openRunner makes the export runner over the store's database.
func openRunner(ctx context.Context, store snapexport.Store, cfg exportrunner.Config) (*exportrunner.Runner, error) {
	switch db := store.(type) {
	case *sqlite.DB:
		return exportrunner.NewSQLite(ctx, db.QueuePool(), cfg, db.WithQueueLock)
	case *postgres.DB:
		return exportrunner.NewPostgres(ctx, db.Pool(), cfg, db.WithMigrationLock)
	}
	return nil, fmt.Errorf("no job queue for a %T store", store)
}

// StartExports starts running export jobs, including those a previous run
// left unfinished.
func (s *Server) StartExports(ctx context.Context) error { return s.Exports.Start(ctx) }

// StopExports stops running export jobs; they resume on the next start.
func (s *Server) StopExports(ctx context.Context) error { return s.Exports.Stop(ctx) }

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
