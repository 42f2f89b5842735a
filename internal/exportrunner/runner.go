// Package exportrunner runs export jobs durably with River
// (github.com/riverqueue/river), on SQLite or PostgreSQL: a job survives a
// restart, resumes from its last finished collection, and runs on one
// server at a time.
//
// Each export job of a replica set (or of one shard) is one River job. The
// export job's row is the source of truth: River only decides when a job
// runs. A runner holds a lease on the export job while it works
// (renewed every Lease/3 or every second, whichever is sooner) and records each finished collection, so a job
// whose runner died is taken over by the next runner that gets it (River's
// rescue of stuck jobs, or the re-queue at start) and continues after the
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

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/service"
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

// Config configures a Runner.
type Config struct {
	Service   *service.Service
	Buckets   *objectstore.Stores
	Snapshots *snapshotstore.Store
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
}

func (c Config) withDefaults() Config {
	c.MaxJobs = cmp.Or(c.MaxJobs, DefaultMaxJobs)
	c.Lease = cmp.Or(c.Lease, DefaultLease)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.RetryDelay = cmp.Or(c.RetryDelay, time.Second)
	c.PollInterval = cmp.Or(c.PollInterval, time.Second)
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

// queue is the part of a River client the runner uses, whatever its
// driver.
type queue interface {
	insert(ctx context.Context, args Args) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
}

type riverQueue[TTx any] struct{ client *river.Client[TTx] }

func (q riverQueue[TTx]) insert(ctx context.Context, args Args) error {
	_, err := q.client.Insert(ctx, args, nil)
	return err
}
func (q riverQueue[TTx]) start(ctx context.Context) error { return q.client.Start(ctx) }
func (q riverQueue[TTx]) stop(ctx context.Context) error  { return q.client.StopAndCancel(ctx) }

// Runner runs export jobs.
type Runner struct {
	cfg   Config
	id    string
	queue queue
	// live holds the documents and bytes written so far by each running
	// job, stored with each lease renewal.
	live sync.Map

	stopSweep context.CancelFunc
	swept     chan struct{}
}

func newRunner(cfg Config) *Runner {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return &Runner{cfg: cfg.withDefaults(), id: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))}
}

func (r *Runner) riverConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker{r: r})
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

// ID identifies this runner in leases.
func (r *Runner) ID() string { return r.id }

// Enqueue asks for an export job to run.
func (r *Runner) Enqueue(ctx context.Context, projectID, jobID string) error {
	return r.queue.insert(ctx, Args{ProjectID: projectID, JobID: jobID})
}

// Start starts working and queues again the active jobs that no runner
// holds (jobs of a server that stopped or died).
func (r *Runner) Start(ctx context.Context) error {
	if err := r.queue.start(ctx); err != nil {
		return err
	}
	if err := r.cfg.Service.RequeueExportJobs(ctx); err != nil {
		return err
	}
	sweepCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stopSweep = cancel
	r.swept = make(chan struct{})
	go r.requeueLapsed(sweepCtx)
	return nil
}

// requeueLapsed queues again, every half lease, the jobs whose runner
// stopped renewing its lease: a server that died, on any replica. River
// does not rescue jobs that have no timeout, and exports have none.
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
		var lapsed []*snapexport.ExportJob
		err := r.cfg.Service.Store.Read(ctx, func(tx snapexport.Tx) error {
			var err error
			lapsed, err = tx.LapsedExportJobs(ctx, time.Now(), 100)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				r.cfg.Logger.Warn("looking for exports whose runner died", "error", err)
			}
			continue
		}
		for _, j := range lapsed {
			if err := r.Enqueue(ctx, j.ProjectID, j.ID); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("export of a dead runner not queued", "export", j.ID, "error", err)
			}
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
	err := r.queue.stop(ctx)
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
