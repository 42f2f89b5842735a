package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/config"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/tracing"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, listen, err := serveConfig(args, stderr)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if listen.metrics != "" {
		// The port is taken before the database is opened: a taken one
		// stops the start before it changes anything.
		if metricsLn, err = net.Listen("tcp", listen.metrics); err != nil {
			return fmt.Errorf("listen on %s for metrics: %w", listen.metrics, err)
		}
		defer metricsLn.Close()
		cfg.Metrics = metrics.New()
	}
	tp, shutdownTracing, err := tracing.FromEnvironment(ctx, moduleVersion())
	if err != nil {
		return err
	}
	if tp != nil {
		// The spans still batched are sent once the server has stopped.
		defer func() {
			sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := shutdownTracing(sendCtx); err != nil {
				cfg.Logger.Warn("sending the last traces", "error", err)
			}
		}()
		cfg.Tracing = tp
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	// A database this start initializes gets a key as init gives one. One
	// this start made gets it once the server answers, before the
	// credentials: nothing can use the key before a request carries them,
	// and the key's file and check are synced writes the first answer
	// need not wait for.
	var keyWritten string
	keyLater := cfg.SecretKey == nil && srv.MadeDatabase()
	if cfg.SecretKey == nil && !keyLater {
		if initialized, err := srv.Initialized(ctx); err != nil {
			return err
		} else if !initialized {
			if keyWritten, err = newSecretKey(ctx, srv, cfg.DataDir); err != nil {
				return err
			}
		}
	}
	ln, err := net.Listen("tcp", listen.api)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen.api, err)
	}
	if metricsLn != nil {
		stop := serveMetrics(cfg, metricsLn)
		defer stop()
	}
	// An empty database is initialized once the server answers and runs
	// its jobs: the hash of the new client secret takes a core for longer
	// than the rest of the start, and until the credentials are stored and
	// printed no request can carry them. A failed initialization stops the
	// server; one cut short by a stop is no failure: its transaction is
	// rolled back and the next start initializes the database.
	initialized := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-srv.Ready():
		case <-stopped:
			initialized <- nil
			return
		}
		var b *service.Bootstrap
		var err error
		if keyLater {
			keyWritten, err = newSecretKey(ctx, srv, cfg.DataDir)
		}
		if err == nil {
			b, err = srv.InitIfEmpty(ctx, "snapexport", "default")
		}
		if err != nil && ctx.Err() != nil {
			initialized <- nil
			return
		}
		if err != nil {
			srv.Shutdown(context.WithoutCancel(ctx))
			initialized <- fmt.Errorf("initialize %s: %w", cfg.DataDir, err)
			return
		}
		if b != nil {
			out := newInitOutput(b)
			out.SecretKeyFile = keyWritten
			printCredentials(stdout, out)
		}
		initialized <- nil
	}()
	err = srv.Serve(ctx, ln)
	close(stopped)
	return cmp.Or(<-initialized, err)
}

// serveMetrics serves cfg.Metrics on ln until the returned stop is
// called.
func serveMetrics(cfg server.Config, ln net.Listener) (stop func()) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cfg.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	cfg.Logger.Info("serving metrics", "addr", ln.Addr().String(), "path", "/metrics")
	return func() {
		srv.Close()
		<-done
	}
}

// listenAddrs are the addresses serve listens on: the API's, and the
// metrics' when they are served.
type listenAddrs struct{ api, metrics string }

// serveFlags is serve's command line, each flag's value once parsed.
type serveFlags struct {
	config, data, database, listen, publicURL, snapshotStore *string
	metricsListen, logFormat                                 *string
	secretKeyFile                                            *string
	trustedProxies                                           *string
	rateLimits                                               map[string]*string // by flag name, see rateLimitFlags
	noRateLimit                                              *bool
	snapshotSweepInterval, shutdownTimeout, exportLease      *time.Duration
	schedulePollInterval                                     *time.Duration
	objectStoreTimeout, uploadTimeout, clusterChangeDelay    *time.Duration
	exportJobs, exportParallelCollections                    *int
	captureCollections                                       *int
	exportChunkBytes                                         *int64
	// The --aws-mode, --aws-endpoint… flags, by provider.
	modes, endpoints map[string]*string
}

// rateLimitFlags are serve's flags of the endpoint sets' token buckets,
// with Atlas's policies as defaults, and the key of the file each sets.
var rateLimitFlags = []struct {
	name, value, usage string
	key                func(*config.RateLimits) *string
}{
	{"rate-limit-cloud-backups", "1200:500/1m", "Cloud Backups token bucket per project", func(r *config.RateLimits) *string { return &r.CloudBackups }},
	{"rate-limit-cloud-provider-access", "2000:1000/1m", "Cloud Provider Access token bucket per project", func(r *config.RateLimits) *string { return &r.CloudProviderAccess }},
	{"rate-limit-clusters", "10000:5000/1m", "Clusters token bucket per project", func(r *config.RateLimits) *string { return &r.Clusters }},
	{"rate-limit-projects", "1200:500/1m", "Projects token bucket per organization", func(r *config.RateLimits) *string { return &r.Projects }},
	{"rate-limit-failed-authentications", "100:50/1m", "token bucket of failed authentications per client address", func(r *config.RateLimits) *string { return &r.FailedAuthentications }},
}

// newServeFlags defines serve's flags. Each has a key in the configuration
// file (docs/configuration.md lists them), but --config, which names it.
func newServeFlags(stderr io.Writer) (*flag.FlagSet, *serveFlags) {
	fs := newFlags("serve", stderr)
	f := &serveFlags{modes: map[string]*string{}, endpoints: map[string]*string{}}
	f.config = fs.String("config", "", "configuration file (YAML); flags override it")
	f.data = fs.String("data", defaultDataDir, "data directory")
	f.database = databaseFlag(fs)
	f.secretKeyFile = secretKeyFlag(fs)
	f.listen = fs.String("listen", "127.0.0.1:8080", "address to listen on")
	f.metricsListen = fs.String("metrics-listen", "", "address to serve Prometheus metrics on, at /metrics (default none)")
	f.logFormat = fs.String("log-format", "text", "format of the log on standard error: text or json (one object per line)")
	f.publicURL = fs.String("public-url", "", "base URL of links in responses (default: from each request's Host)")
	f.rateLimits = map[string]*string{}
	for _, l := range rateLimitFlags {
		f.rateLimits[l.name] = fs.String(l.name, l.value, l.usage+", CAPACITY:REFILL/PERIOD")
	}
	f.noRateLimit = fs.Bool("no-rate-limit", false, "turn rate limiting off")
	f.trustedProxies = fs.String("trusted-proxies", "", "comma-separated networks (CIDR) of proxies whose X-Forwarded-For tells the client's address (default none)")
	f.shutdownTimeout = fs.Duration("shutdown-timeout", server.DefaultShutdownTimeout, "how long to wait for in-flight requests on shutdown")
	for _, p := range []string{"aws", "azure", "gcp"} {
		f.modes[p] = fs.String(p+"-mode", "", "how "+p+" buckets are reached: cloud, "+compatibleMode[p]+" or local (default local)")
		f.endpoints[p] = fs.String(p+"-endpoint", "", "endpoint URL in "+compatibleMode[p]+" mode")
	}
	f.snapshotStore = fs.String("snapshot-store", "", "blob URL of the snapshot store: s3://, azblob://, gs:// or file:// (default $SNAPEXPORT_SNAPSHOT_STORE, else DIR/snapshots)")
	f.snapshotSweepInterval = fs.Duration("snapshot-sweep-interval", server.DefaultSweepInterval, "how often expired snapshots are removed")
	f.captureCollections = fs.Int("capture-collections", server.DefaultCaptureCollections, "how many collections a snapshot of a bound cluster reads at once from its deployment")
	f.schedulePollInterval = fs.Duration("schedule-poll-interval", server.DefaultSchedulePollInterval, "how often backup schedules are looked at for the snapshots they call for")
	f.exportJobs = fs.Int("export-jobs", exportrunner.DefaultMaxJobs, "export jobs (replica sets) this server runs at once")
	f.exportParallelCollections = fs.Int("export-parallel-collections", 1, "collections of one export job written at once")
	f.exportChunkBytes = fs.Int64("export-chunk-bytes", export.DefaultChunkBytes, "Extended JSON bytes per exported data object")
	f.exportLease = fs.Duration("export-lease", exportrunner.DefaultLease, "how long a dead server's export job waits before another run takes it over")
	f.objectStoreTimeout = fs.Duration("object-store-timeout", 0, "bound on each bucket check (default 30s)")
	f.uploadTimeout = fs.Duration("upload-timeout", api.DefaultUploadTimeout, "bound on the whole of a snapshot upload")
	f.clusterChangeDelay = fs.Duration("cluster-change-delay", 0, "how long a new cluster shows CREATING and a deleted one DELETING")
	return fs, f
}

// serveConfig turns serve's flags, the environment and the --config file
// into the server's configuration and the addresses to listen on. A flag
// given on the command line wins over the environment, which wins over the
// file.
func serveConfig(args []string, stderr io.Writer) (server.Config, listenAddrs, error) {
	fs, f := newServeFlags(stderr)
	var cfg server.Config
	if err := parse(fs, args); err != nil {
		return cfg, listenAddrs{}, err
	}
	file, given, err := loadConfig(fs, *f.config)
	if err != nil {
		return cfg, listenAddrs{}, err
	}
	for name, value := range f.rateLimits {
		if _, err := config.ParsePolicy("--"+name, name, *value); given[name] && err != nil {
			return cfg, listenAddrs{}, usageError{err.Error()}
		}
	}
	if *f.exportJobs < 1 || *f.exportParallelCollections < 1 || *f.exportChunkBytes < 1 || *f.exportLease < config.MinExportLease {
		return cfg, listenAddrs{}, usageError{"--export-jobs, --export-parallel-collections and --export-chunk-bytes must be positive and --export-lease at least " + config.MinExportLease.String()}
	}
	if *f.snapshotSweepInterval <= 0 {
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("--snapshot-sweep-interval %s must be positive", *f.snapshotSweepInterval)}
	}
	if *f.captureCollections < 1 {
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("--capture-collections %d must be at least 1", *f.captureCollections)}
	}
	if *f.schedulePollInterval <= 0 {
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("--schedule-poll-interval %s must be positive", *f.schedulePollInterval)}
	}
	if *f.shutdownTimeout < 0 {
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("--shutdown-timeout %s must not be negative", *f.shutdownTimeout)}
	}
	if *f.uploadTimeout <= 0 {
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("--upload-timeout %s must be positive", *f.uploadTimeout)}
	}
	if *f.clusterChangeDelay < 0 {
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("--cluster-change-delay %s must not be negative", *f.clusterChangeDelay)}
	}
	exports, err := file.ExportConfig()
	if err != nil {
		return cfg, listenAddrs{}, err
	}
	sweep, drain, err := file.Timings()
	if err != nil {
		return cfg, listenAddrs{}, err
	}
	uploadTimeout, err := file.UploadLimit()
	if err != nil {
		return cfg, listenAddrs{}, err
	}
	schedulePoll, err := file.SchedulePoll()
	if err != nil {
		return cfg, listenAddrs{}, err
	}
	schedulePoll = chosen(given, "schedule-poll-interval", *f.schedulePollInterval, schedulePoll)
	if file.CaptureCollections < 0 {
		return cfg, listenAddrs{}, fmt.Errorf("captureCollections: %d must be at least 1", file.CaptureCollections)
	}
	captureCollections := chosen(given, "capture-collections", *f.captureCollections, file.CaptureCollections)
	uploadTimeout = chosen(given, "upload-timeout", *f.uploadTimeout, uploadTimeout)
	clusterDelay, err := file.ClusterDelay()
	if err != nil {
		return cfg, listenAddrs{}, err
	}
	clusterDelay = chosen(given, "cluster-change-delay", *f.clusterChangeDelay, clusterDelay)
	exports.MaxJobs = chosen(given, "export-jobs", *f.exportJobs, exports.MaxJobs)
	exports.ParallelCollections = chosen(given, "export-parallel-collections", *f.exportParallelCollections, exports.ParallelCollections)
	exports.ChunkBytes = chosen(given, "export-chunk-bytes", *f.exportChunkBytes, exports.ChunkBytes)
	exports.Lease = chosen(given, "export-lease", *f.exportLease, exports.Lease)
	sweep = chosen(given, "snapshot-sweep-interval", *f.snapshotSweepInterval, sweep)
	drain = chosen(given, "shutdown-timeout", *f.shutdownTimeout, drain)
	dataDir := chosen(given, "data", *f.data, file.Data)
	listen := listenAddrs{api: chosen(given, "listen", *f.listen, file.Listen), metrics: chosen(given, "metrics-listen", *f.metricsListen, file.MetricsListen)}
	publicURL := chosen(given, "public-url", *f.publicURL, file.PublicURL)
	// Like --database: the flag, else the environment, else the file.
	snapshotStore := *f.snapshotStore
	if !given["snapshot-store"] {
		snapshotStore = snapshotStoreURL("", file.SnapshotStore)
	}
	for _, l := range rateLimitFlags {
		key := l.key(&file.RateLimits)
		*key = chosen(given, l.name, *f.rateLimits[l.name], *key)
	}
	file.RateLimits.Disabled = chosen(given, "no-rate-limit", *f.noRateLimit, file.RateLimits.Disabled)
	proxiesField := "trustedProxies"
	if given["trusted-proxies"] {
		proxiesField, file.TrustedProxies = "--trusted-proxies", nil
		if *f.trustedProxies != "" {
			file.TrustedProxies = strings.Split(*f.trustedProxies, ",")
		}
	}
	proxies, err := config.ParseTrustedProxies(proxiesField, file.TrustedProxies)
	if err != nil {
		return cfg, listenAddrs{}, usageError{err.Error()}
	}
	o := &file.ObjectStores
	for p, dst := range map[string][3]*string{
		"aws":   {&o.AWS.Mode, &o.AWS.Endpoint, &o.AWS.STSEndpoint},
		"azure": {&o.Azure.Mode, &o.Azure.Endpoint, nil},
		"gcp":   {&o.GCP.Mode, &o.GCP.Endpoint, &o.GCP.IAMCredentialsEndpoint},
	} {
		mode := chosen(given, p+"-mode", *f.modes[p], *dst[0])
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
		*dst[1] = chosen(given, p+"-endpoint", *f.endpoints[p], *dst[1])
	}
	if given["object-store-timeout"] {
		o.Timeout = f.objectStoreTimeout.String()
	}

	policies, err := file.Limits()
	if err != nil {
		return cfg, listenAddrs{}, usageError{err.Error()}
	}
	limits := api.Limits{CloudBackups: policies.CloudBackups, CloudProviderAccess: policies.CloudProviderAccess,
		Clusters: policies.Clusters, Projects: policies.Projects, FailedAuthentications: policies.FailedAuthentications,
		Disabled: file.RateLimits.Disabled}
	stores, err := file.ObjectStoreConfig()
	if err != nil {
		return cfg, listenAddrs{}, usageError{err.Error()}
	}
	pgOptions, err := file.PostgresOptions()
	if err != nil {
		return cfg, listenAddrs{}, usageError{err.Error()}
	}
	var handler slog.Handler
	switch format := chosen(given, "log-format", *f.logFormat, file.LogFormat); format {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		field := "logFormat"
		if given["log-format"] {
			field = "--log-format"
		}
		return cfg, listenAddrs{}, usageError{fmt.Sprintf("%s %q: want text or json", field, format)}
	}
	logger := slog.New(handler)
	stores.Logger = logger
	cfg = server.Config{DataDir: dataDir, PublicURL: publicURL, Limits: limits, TrustedProxies: proxies, Logger: logger, ObjectStores: stores,
		Identities: file.Identities(), SnapshotStore: snapshotStore, SweepInterval: sweep, SchedulePollInterval: schedulePoll, CaptureCollections: captureCollections, ShutdownTimeout: drain, UploadTimeout: uploadTimeout, Exports: exports,
		ClusterChangeDelay: clusterDelay}
	if cfg.SecretKey, err = secretKey(*f.secretKeyFile, file.SecretKeyFile, dataDir); err != nil {
		return cfg, listenAddrs{}, err
	}
	cfg, err = withDatabase(cfg, database(*f.database, file.Database), pgOptions)
	return cfg, listen, err
}

// chosen is a setting's value: the flag's when the command line gives it
// or the file leaves the key out (zero), else the file's.
func chosen[T comparable](given map[string]bool, flagName string, flagValue, fileValue T) T {
	var zero T
	if given[flagName] || fileValue == zero {
		return flagValue
	}
	return fileValue
}

var compatibleMode = map[string]string{"aws": "s3-compatible", "azure": "azure-compatible", "gcp": "gcs-compatible"}
