package postgres

import (
	"context"
	"strings"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/snapexport/snapexport/internal/backend"
)

// IsURL reports whether a database setting names PostgreSQL.
func IsURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// OpenBackend opens the database at url (see Open). Every replica over it
// shares its rate limits and its job queue, both kept in it.
func OpenBackend(ctx context.Context, url string, opts Options) (*backend.Backend, error) {
	db, err := Open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return &backend.Backend{Name: "postgres", Store: db, Limiter: db.Limiter(), Unavailable: IsUnavailable,
		Queue: backend.NewQueue(riverpgxv5.New(db.pool), db.WithMigrationLock)}, nil
}
