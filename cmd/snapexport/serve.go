package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/config"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, listen, err := serveConfig(args, stderr)
	if err != nil {
		return err
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	b, err := srv.InitIfEmpty(ctx, "snapexport", "default")
	if err != nil {
		return fmt.Errorf("initialize %s: %w", cfg.DataDir, err)
	}
	if b != nil {
		printCredentials(stdout, newInitOutput(b))
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	return srv.Serve(ctx, ln)
}

// serveConfig turns serve's flags, the environment and the --config file
// into the server's configuration and the address to listen on. A flag
// given on the command line wins over the environment, which wins over the
// file.
func serveConfig(args []string, stderr io.Writer) (server.Config, string, error) {
	fs := newFlags("serve", stderr)
	configPath := fs.String("config", "", "configuration file (YAML); flags override it")
	dataDir := fs.String("data", defaultDataDir, "data directory")
	db := databaseFlag(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	publicURL := fs.String("public-url", "", "base URL of links in responses (default: from each request's Host)")
	backups := fs.String("rate-limit-cloud-backups", "1200:500/1m", "Cloud Backups token bucket per project, CAPACITY:REFILL/PERIOD")
	cpa := fs.String("rate-limit-cloud-provider-access", "2000:1000/1m", "Cloud Provider Access token bucket per project, CAPACITY:REFILL/PERIOD")
	noLimits := fs.Bool("no-rate-limit", false, "turn rate limiting off")
	drain := fs.Duration("shutdown-timeout", server.DefaultShutdownTimeout, "how long to wait for in-flight requests on shutdown")
	modes := map[string]*string{}
	endpoints := map[string]*string{}
	for _, p := range []string{"aws", "azure", "gcp"} {
		modes[p] = fs.String(p+"-mode", "", "how "+p+" buckets are reached: cloud, "+compatibleMode[p]+" or local (default local)")
		endpoints[p] = fs.String(p+"-endpoint", "", "endpoint URL in "+compatibleMode[p]+" mode")
	}
	snapshotStore := fs.String("snapshot-store", "", "blob URL of the snapshot store: s3://, azblob://, gs:// or file:// (default $SNAPEXPORT_SNAPSHOT_STORE, else DIR/snapshots)")
	sweep := fs.Duration("snapshot-sweep-interval", server.DefaultSweepInterval, "how often expired snapshots are removed")
	exportJobs := fs.Int("export-jobs", exportrunner.DefaultMaxJobs, "export jobs (replica sets) this server runs at once")
	exportParallel := fs.Int("export-parallel-collections", 1, "collections of one export job written at once")
	exportChunk := fs.Int64("export-chunk-bytes", export.DefaultChunkBytes, "Extended JSON bytes per exported data object")
	exportLease := fs.Duration("export-lease", exportrunner.DefaultLease, "how long a dead server's export job waits before another run takes it over")
	storeTimeout := fs.Duration("object-store-timeout", 0, "bound on each bucket check (default 30s)")
	var cfg server.Config
	if err := parse(fs, args); err != nil {
		return cfg, "", err
	}
	file, given, err := loadConfig(fs, *configPath)
	if err != nil {
		return cfg, "", err
	}
	// A flag given on the command line wins over the file.
	choose := func(name, flagValue, fileValue string) string {
		if given[name] || fileValue == "" {
			return flagValue
		}
		return fileValue
	}
	for name, value := range map[string]string{"rate-limit-cloud-backups": *backups, "rate-limit-cloud-provider-access": *cpa} {
		if _, err := config.ParsePolicy("--"+name, name, value); given[name] && err != nil {
			return cfg, "", usageError{err.Error()}
		}
	}
	*dataDir = choose("data", *dataDir, file.Data)
	*listen = choose("listen", *listen, file.Listen)
	*publicURL = choose("public-url", *publicURL, file.PublicURL)
	// Like --database: the flag, else the environment, else the file.
	if !given["snapshot-store"] {
		*snapshotStore = snapshotStoreURL("", file.SnapshotStore)
	}
	if *exportJobs < 1 || *exportParallel < 1 || *exportChunk < 1 || *exportLease < time.Second {
		return cfg, "", usageError{"--export-jobs, --export-parallel-collections and --export-chunk-bytes must be positive and --export-lease at least 1s"}
	}
	if *sweep <= 0 {
		return cfg, "", usageError{fmt.Sprintf("--snapshot-sweep-interval %s must be positive", *sweep)}
	}
	file.RateLimits.CloudBackups = choose("rate-limit-cloud-backups", *backups, file.RateLimits.CloudBackups)
	file.RateLimits.CloudProviderAccess = choose("rate-limit-cloud-provider-access", *cpa, file.RateLimits.CloudProviderAccess)
	file.RateLimits.Disabled = file.RateLimits.Disabled || *noLimits
	o := &file.ObjectStores
	for p, dst := range map[string][3]*string{
		"aws":   {&o.AWS.Mode, &o.AWS.Endpoint, &o.AWS.STSEndpoint},
		"azure": {&o.Azure.Mode, &o.Azure.Endpoint, nil},
		"gcp":   {&o.GCP.Mode, &o.GCP.Endpoint, &o.GCP.IAMCredentialsEndpoint},
	} {
		mode := choose(p+"-mode", *modes[p], *dst[0])
		if given[p+"-mode"] {
			// The file's endpoints belong to the file's mode: a mode given
			// on the command line that has no use for them drops them.
			if mode != compatibleMode[p] {
				*dst[1] = ""
			}
			if (mode == "" || mode == "local") && dst[2] != nil {
				*dst[2] = ""
			}
		}
		*dst[0] = mode
		*dst[1] = choose(p+"-endpoint", *endpoints[p], *dst[1])
	}
	if given["object-store-timeout"] {
		o.Timeout = storeTimeout.String()
	}

	limits := api.Limits{Disabled: file.RateLimits.Disabled}
	if limits.CloudBackups, limits.CloudProviderAccess, err = file.Limits(); err != nil {
		return cfg, "", usageError{err.Error()}
	}
	stores, err := file.ObjectStoreConfig()
	if err != nil {
		return cfg, "", usageError{err.Error()}
	}
	pgOptions, err := file.PostgresOptions()
	if err != nil {
		return cfg, "", usageError{err.Error()}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	stores.Logger = logger
	cfg = server.Config{DataDir: *dataDir, PublicURL: *publicURL, Limits: limits, Logger: logger, ObjectStores: stores,
		Identities: file.Identities(), SnapshotStore: *snapshotStore, SweepInterval: *sweep, ShutdownTimeout: *drain,
		Exports: exportrunner.Config{MaxJobs: *exportJobs, ParallelCollections: *exportParallel, ChunkBytes: *exportChunk,
			Lease: *exportLease}}
	cfg, err = withDatabase(cfg, database(*db, file.Database), pgOptions)
	return cfg, *listen, err
}

var compatibleMode = map[string]string{"aws": "s3-compatible", "azure": "azure-compatible", "gcp": "gcs-compatible"}
