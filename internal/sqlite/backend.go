package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/ratelimit"
)

// DatabaseFile is the database file inside a data directory.
const DatabaseFile = "snapexport.db"

// OpenBackend opens (creating it and the directory when needed) the
// database of the data directory dir, served by this process alone: its
// rate limits and digest nonces live in memory. Its job
// queue gets a pool of its own, of one connection (SQLite has one writer;
// River's own advice).
func OpenBackend(ctx context.Context, dir string) (*backend.Backend, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	db, err := Open(ctx, filepath.Join(dir, DatabaseFile))
	if err != nil {
		return nil, err
	}
	queue := backend.NewQueueMigratedBy(riversqlite.New(db.queue), riversqlite.New(db.queueMigrations), db.WithQueueLock)
	if db.made {
		// River's migrations are in the schema the database was made with.
		queue = backend.NewMigratedQueue(riversqlite.New(db.queue))
	}
	return &backend.Backend{Name: "sqlite", Store: db, Limiter: ratelimit.NewMemory(), Alone: true, Made: db.made,
		Unavailable: func(error) bool { return false }, Queue: queue}, nil
}
