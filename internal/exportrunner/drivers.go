package exportrunner

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// NewSQLite makes a runner whose queue lives in a SQLite database, through
// db: a pool of one connection to the store's file (SQLite has one writer;
// River's own advice). River's tables are created or migrated first,
// under lock, which keeps other processes from migrating at the same time.
func NewSQLite(ctx context.Context, db *sql.DB, cfg Config, lock func(ctx context.Context, fn func() error) error) (*Runner, error) {
	return newWithDriver[*sql.Tx](ctx, riversqlite.New(db), cfg, lock)
}

// NewPostgres makes a runner whose queue lives in the PostgreSQL database
// of pool (in its search_path schema). lock serializes River's migrations
// with other replicas starting at the same time.
func NewPostgres(ctx context.Context, pool *pgxpool.Pool, cfg Config, lock func(ctx context.Context, fn func() error) error) (*Runner, error) {
	return newWithDriver(ctx, riverpgxv5.New(pool), cfg, lock)
}

func newWithDriver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg Config, lock func(context.Context, func() error) error) (*Runner, error) {
	r := newRunner(cfg)
	migrate := func() error {
		// "No migrations to apply" at every start is not news.
		m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(warnOnly{r.cfg.Logger.Handler()})})
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	var err error
	if lock != nil {
		err = lock(ctx, migrate)
	} else {
		err = migrate()
	}
	if err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	client, err := river.NewClient(driver, r.riverConfig())
	if err != nil {
		return nil, err
	}
	r.queue = riverQueue[TTx]{client}
	return r, nil
}

// warnOnly passes on warnings and errors only.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}
