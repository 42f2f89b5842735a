// Package backend is what a database supplies to the server: the store,
// the rate limiter, the test for failures that mean the database cannot be
// reached, and the job queue of export jobs, which lives in the same
// database. Package sqlite and package postgres each open one; the server
// runs over whichever it is given.
package backend

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/ratelimit"
)

// Backend is one open database and what runs over it. Close closes it.
type Backend struct {
	// Name names the kind of database in logs: "sqlite", "postgres".
	Name  string
	Store snapexport.Store
	// Limiter keeps the rate-limit token buckets: in memory for the one
	// process that owns a database file, in the database for replicas
	// sharing it.
	Limiter ratelimit.Limiter
	// Alone is true when no other process serves the database (a SQLite
	// data directory): what replicas would share may live in memory.
	Alone bool
	// Made is true when opening created the database: it holds no data
	// yet, no organization among it.
	Made bool
	// Unavailable reports failures that mean the database cannot be
	// reached right now (answered 503, to be retried) rather than a fault.
	Unavailable func(error) bool
	// Queue is River's job queue in the database.
	Queue Queue
}

// Close closes the database.
func (b *Backend) Close() error { return b.Store.Close() }

// Queue makes River clients over a backend's database.
type Queue interface {
	// Migrate creates or updates River's tables. Servers starting together
	// over one database migrate one at a time.
	Migrate(ctx context.Context, logger *slog.Logger) error
	// NewClient makes a River client; one configured without Workers only
	// inserts jobs. Its logger tells River's news at DEBUG: see riverLog.
	NewClient(cfg *river.Config) (QueueClient, error)
	// Depth counts the queue's jobs (export jobs and snapshots being
	// taken) by River's state: available, scheduled, retryable, running,
	// and the finished ones River still keeps.
	Depth(ctx context.Context) (map[string]int, error)
}

// QueueClient is what snapexport uses of a River client, whatever the
// transaction type of its driver.
type QueueClient interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Start(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

// NewQueue is the Queue of a River driver; lock runs River's migrations,
// which are not atomic, holding a lock that every server over the same
// database takes too.
func NewQueue[TTx any](driver riverdriver.Driver[TTx], lock func(ctx context.Context, fn func() error) error) Queue {
	return &riverQueue[TTx]{driver: driver, migrations: driver, lock: lock}
}

// NewQueueMigratedBy is NewQueue whose migrations run through migrations,
// another driver of the same database (SQLite's: a connection whose
// commits skip the fsync, a migration lost in a crash being applied again
// at the next start).
func NewQueueMigratedBy[TTx any](driver, migrations riverdriver.Driver[TTx], lock func(ctx context.Context, fn func() error) error) Queue {
	return &riverQueue[TTx]{driver: driver, migrations: migrations, lock: lock}
}

// NewMigratedQueue is NewQueue over a database known to have River's
// migrations applied (made with them): its Migrate does nothing.
func NewMigratedQueue[TTx any](driver riverdriver.Driver[TTx]) Queue {
	return &riverQueue[TTx]{driver: driver}
}

type riverQueue[TTx any] struct {
	driver riverdriver.Driver[TTx]
	// migrations is nil when there are none to apply.
	migrations riverdriver.Driver[TTx]
	lock       func(context.Context, func() error) error
}

func (q *riverQueue[TTx]) Migrate(ctx context.Context, logger *slog.Logger) error {
	if q.migrations == nil {
		return nil
	}
	return q.lock(ctx, func() error {
		// "No migrations to apply" at every start is not news.
		m, err := rivermigrate.New(q.migrations, &rivermigrate.Config{Logger: slog.New(warnOnly{logger.Handler()})})
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	})
}

func (q *riverQueue[TTx]) Depth(ctx context.Context) (map[string]int, error) {
	counts, err := q.driver.GetExecutor().JobCountByAllStates(ctx, &riverdriver.JobCountByAllStatesParams{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for state, n := range counts {
		out[string(state)] = n
	}
	return out, nil
}

func (q *riverQueue[TTx]) NewClient(cfg *river.Config) (QueueClient, error) {
	c := &riverClient[TTx]{stopping: new(atomic.Bool)}
	if cfg.Logger != nil {
		quiet := *cfg
		quiet.Logger = slog.New(riverLog{next: cfg.Logger.Handler(), stopping: c.stopping})
		cfg = &quiet
	}
	client, err := river.NewClient(q.driver, cfg)
	if err != nil {
		return nil, err
	}
	c.Client = client
	return c, nil
}

// warnOnly passes on warnings and errors only.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}
