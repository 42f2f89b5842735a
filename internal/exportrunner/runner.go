// Package exportrunner runs export jobs, and the taking of snapshots,
// durably with River
// (github.com/riverqueue/river), on SQLite or PostgreSQL: a job survives a
// restart, resumes from its last finished collection, and runs on one
// server at a time.
//
// Each export job of a replica set (or of one shard) is one River job. The
// export job's row is the source of truth: River only decides when a job
// runs. A runner holds a lease on the export job while it works (renewed
// every Lease/3 or every second, whichever is sooner) and records each
// finished collection, through the service's rules (Jobs), so a job whose
// runner died is taken over by the next runner that gets it (queued again
// once its lease lapses, or at the next start) and continues after the
// last recorded collection. Since the export engine is deterministic,
// the collection that was cut short is written again with the same
// objects and bytes.
package exportrunner

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// Defaults of Config.
const (
	// DefaultMaxJobs follows Atlas, which queues an export while five or
	// more replica sets are exporting.
	DefaultMaxJobs     = 5
	DefaultLease       = 30 * time.Second
	DefaultMaxAttempts = 10
)

// Jobs is the life of export jobs as a runner lives it: the rules of
// claims, progress and ends are the service's (service.Service implements
// it); the runner writes the objects.
type Jobs interface {
	// LoadExportJob reads a job, components included;
	// snapexport.ErrNotFound when it is gone.
	LoadExportJob(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error)
	// ClaimExportJob takes the job's lease for c's run and returns the job
	// as it is then; snapexport.ErrLeaseHeld when another run holds it.
	ClaimExportJob(ctx context.Context, c snapexport.ExportClaim) (*snapexport.ExportJob, error)
	// ReleaseExportJob gives the lease up.
	ReleaseExportJob(ctx context.Context, c snapexport.ExportClaim) error
	// RenewExportClaim extends the lease, records live progress when
	// given, and reports whether the job was asked to stop;
	// snapexport.ErrLeaseHeld when the lease was lost.
	RenewExportClaim(ctx context.Context, c snapexport.ExportClaim, live *snapexport.LiveProgress) (cancelRequested bool, err error)
	// RecordExportProgress records the job's progress (it is then
	// InProgress); snapexport.ErrLeaseHeld, ErrExportCancelled or
	// ErrExportEnded when the run must stop.
	RecordExportProgress(ctx context.Context, c snapexport.ExportClaim, p snapexport.ExportProgress) error
	// EndExportJob ends the job in state (why for Failed) when the run
	// holds it, and wakes the sharded export of a shard's job.
	EndExportJob(ctx context.Context, c snapexport.ExportClaim, state snapexport.ExportState, why *snapexport.ExportStateReason) error
	// ConcludeShardedExport ends a sharded export that failed or was
	// cancelled, or returns its components, ready, when all succeeded.
	ConcludeShardedExport(ctx context.Context, c snapexport.ExportClaim, job *snapexport.ExportJob) (comps []*snapexport.ExportJob, ready bool, err error)
	// CompleteDocument is the job's .complete object but its totalFiles.
	CompleteDocument(ctx context.Context, job *snapexport.ExportJob) (export.Complete, error)
	// ExportTarget is how the job's bucket is reached.
	ExportTarget(ctx context.Context, projectID, bucketID string) (objectstore.Target, error)
	// LapsedExportJobs lists active jobs whose run stopped renewing its
	// lease.
	LapsedExportJobs(ctx context.Context, limit int) ([]*snapexport.ExportJob, error)
}

// Config configures a Runner.
type Config struct {
	Jobs Jobs
	// SnapshotJobs takes the snapshots queued with EnqueueSnapshot; none
	// are taken when nil.
	SnapshotJobs SnapshotJobs
	Buckets      *objectstore.Stores
	Snapshots    *snapshotstore.Store
	// MaxJobs is how many export jobs (replica sets) this server runs at
	// once.
	MaxJobs int
	// ChunkBytes is the amount of Extended JSON per data object (the
	// engine's default when zero).
	ChunkBytes int64
	// ParallelCollections is how many collections of one job are written
	// at once (default 1, as Atlas exports one at a time).
	ParallelCollections int
	// Lease is how long a runner's claim on a job lasts without renewal:
	// a job whose runner died is resumed elsewhere after it.
	Lease time.Duration
	// MaxAttempts bounds the runs of a job failing with transient faults;
	// the last failure fails the job.
	MaxAttempts int
	// RetryDelay is the wait before the first retry, doubled for each next
	// one up to a minute (default 1s).
	RetryDelay time.Duration
	// PollInterval is how often the queue is polled for new jobs (River's
	// FetchPollInterval; SQLite has no notifications). Default 1s.
	PollInterval time.Duration
	Logger       *slog.Logger
	// Observer, when set, is told how the runner's export jobs go.
	Observer Observer
	// Tracing makes a span of every run of a job, and of each collection
	// it exports; none when nil.
	Tracing trace.TracerProvider
}

// Observer is told how a runner's export jobs go, for metrics.
type Observer interface {
	// ExportRunning is told 1 when a run starts writing a job (a
	// replica set) and -1 when it stops.
	ExportRunning(delta int)
	// ExportWritten is told of each batch of documents written, and of
	// their size as BSON.
	ExportWritten(documents, bsonBytes int64)
	// ExportCollectionFinished is told of each collection written whole:
	// the objects written and their compressed bytes.
	ExportCollectionFinished(files int, gzipBytes int64)
}

// noObserver is the Observer of a runner given none.
type noObserver struct{}

func (noObserver) ExportRunning(int)                   {}
func (noObserver) ExportWritten(int64, int64)          {}
func (noObserver) ExportCollectionFinished(int, int64) {}

func (c Config) withDefaults() Config {
	c.MaxJobs = cmp.Or(c.MaxJobs, DefaultMaxJobs)
	c.Lease = cmp.Or(c.Lease, DefaultLease)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.RetryDelay = cmp.Or(c.RetryDelay, time.Second)
	c.PollInterval = cmp.Or(c.PollInterval, time.Second)
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.Logger == nil {
		// Commands that only queue jobs (admin, import) print nothing of
		// the queue's.
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Args is the River job of one export job.
type Args struct {
	ProjectID string `json:"projectId"`
	JobID     string `json:"jobId"`
}

// Kind names the job kind in River's tables.
func (Args) Kind() string { return "snapexport_export" }

// Queue is where export jobs wait for a runner, in the backend's database:
// the service queues the jobs it records, and a runner of any server
// sharing the database runs them.
type Queue struct {
	backend backend.Queue
	client  backend.QueueClient
}

// OpenQueue brings the job queue's tables up to date and opens it for
// queueing.
func OpenQueue(ctx context.Context, q backend.Queue, logger *slog.Logger) (*Queue, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := q.Migrate(ctx, logger); err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	client, err := q.NewClient(&river.Config{Logger: logger.With("component", "river")})
	if err != nil {
		return nil, err
	}
	return &Queue{backend: q, client: client}, nil
}

// Enqueue asks for an export job to run.
func (q *Queue) Enqueue(ctx context.Context, projectID, jobID string) error {
	_, err := q.client.Insert(ctx, Args{ProjectID: projectID, JobID: jobID}, nil)
	return err
}

// Runner runs export jobs.
type Runner struct {
	cfg    Config
	id     string
	client backend.QueueClient
	// live holds the documents and bytes written so far by each running
	// job, stored with each lease renewal.
	live sync.Map

	stopSweep context.CancelFunc
	swept     chan struct{}
}

// New makes a runner of the jobs of q.
func New(q *Queue, cfg Config) (*Runner, error) {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	r := &Runner{cfg: cfg.withDefaults(), id: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))}
	client, err := q.backend.NewClient(r.riverConfig())
	if err != nil {
		return nil, err
	}
	r.client = client
	return r, nil
}

func (r *Runner) riverConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker{r: r})
	if r.cfg.SnapshotJobs != nil {
		river.AddWorker(workers, &snapshotWorker{r: r})
	}
	return &river.Config{
		ID:      r.id,
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: r.cfg.MaxJobs}},
		Workers: workers,
		// Exports take as long as they take: no timeout, and so no rescue
		// by River; leases and requeueLapsed take over a dead runner's jobs.
		JobTimeout:        -1,
		MaxAttempts:       r.cfg.MaxAttempts,
		RetryPolicy:       retryPolicy{base: r.cfg.RetryDelay},
		FetchPollInterval: r.cfg.PollInterval,
		FetchCooldown:     min(100*time.Millisecond, r.cfg.PollInterval),
		Logger:            r.cfg.Logger.With("component", "river"),
	}
}

// enqueue asks for an export job to run (again).
func (r *Runner) enqueue(ctx context.Context, projectID, jobID string) error {
	_, err := r.client.Insert(ctx, Args{ProjectID: projectID, JobID: jobID}, nil)
	return err
}

// Start starts working, and queueing again every half lease the jobs
// whose runner died.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.client.Start(ctx); err != nil {
		return err
	}
	sweepCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stopSweep = cancel
	r.swept = make(chan struct{})
	go r.requeueLapsed(sweepCtx)
	return nil
}

// requeueLapsed queues again, every half lease, the jobs and snapshots
// whose runner stopped renewing its lease: a server that died, on any
// replica. River does not rescue jobs that have no timeout, and exports
// and snapshots have none.
func (r *Runner) requeueLapsed(ctx context.Context) {
	defer close(r.swept)
	t := time.NewTicker(max(r.cfg.Lease/2, 500*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.requeueLapsedExports(ctx)
		r.requeueLapsedSnapshots(ctx)
	}
}

// requeueLapsedExports queues again the export jobs whose run stopped
// renewing its lease.
func (r *Runner) requeueLapsedExports(ctx context.Context) {
	lapsed, err := r.cfg.Jobs.LapsedExportJobs(ctx, 100)
	if err != nil {
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("looking for exports whose runner died", "error", err)
		}
		return
	}
	for _, j := range lapsed {
		if err := r.enqueue(ctx, j.ProjectID, j.ID); err != nil && ctx.Err() == nil {
			r.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "export of a dead runner not queued",
				append(j.LogAttrs(), slog.Any("error", err))...)
		}
	}
}

// requeueLapsedSnapshots queues again the snapshots whose run stopped
// renewing its lease.
func (r *Runner) requeueLapsedSnapshots(ctx context.Context) {
	if r.cfg.SnapshotJobs == nil {
		return
	}
	lapsed, err := r.cfg.SnapshotJobs.LapsedSnapshots(ctx, 100)
	if err != nil {
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("looking for snapshots whose runner died", "error", err)
		}
		return
	}
	for _, snap := range lapsed {
		_, err := r.client.Insert(ctx, SnapshotArgs{ProjectID: snap.ProjectID, SnapshotID: snap.ID}, nil)
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("snapshot of a dead runner not queued", "group", snap.ProjectID, "snapshot", snap.ID, "error", err)
		}
	}
}

// Stop stops fetching jobs and waits for running ones to stop: they are
// cancelled, keep their progress, and resume on the next start.
func (r *Runner) Stop(ctx context.Context) error {
	if r.stopSweep != nil {
		r.stopSweep()
		<-r.swept
	}
	err := r.client.StopAndCancel(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// retryPolicy retries transient failures after base, 2·base, 4·base, …, at
// most a minute: River's default (attempt⁴ seconds) waits hours by the
// tenth attempt.
type retryPolicy struct{ base time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base << min(job.Attempt-1, 16)
	return time.Now().Add(min(d, time.Minute))
}
