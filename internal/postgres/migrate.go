package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/: NNNN_name.sql is version NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in order. Their versions
// must run 1, 2, 3… without a gap, so that the highest is also the count.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for i, name := range names {
		base := path.Base(name)
		prefix, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting with %04d_", base, i+1)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	return out, nil
}

// SchemaVersion is the schema version this program migrates databases to.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return len(ms)
}

// Migrations lists the names of the embedded migrations in order
// (0001_initial.sql, …): a database at version v has the first v applied.
func Migrations() []string {
	ms, err := loadMigrations()
	if err != nil {
		panic(err)
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	return names
}

// Version reads the schema version of the database at url (the highest
// version in schema_migrations; 0 when the schema or that table does not
// exist yet) without migrating or creating anything. schema is the schema
// looked at: opts.Schema, else the first existing schema of the search_path
// (empty when there is none). Of opts, Schema and ConnectTimeout apply.
func Version(ctx context.Context, url string, opts Options) (version int, schema string, err error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return 0, "", err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return 0, "", fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	schema = opts.Schema
	if schema == "" {
		if err := conn.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
			return 0, "", fmt.Errorf("postgres: %w", err)
		}
		if schema == "" {
			return 0, "", nil
		}
	}
	var hasTable bool
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&hasTable); err != nil {
		return 0, schema, fmt.Errorf("postgres: %w", err)
	}
	if !hasTable {
		return 0, schema, nil
	}
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+table).Scan(&version); err != nil {
		return 0, schema, fmt.Errorf("postgres: %w", err)
	}
	return version, schema, nil
}

// migrationLock is the first key of the advisory lock taken while
// migrating ("snap"); the second is the hash of the schema's name, so that
// stores in different schemas of one database migrate independently.
const migrationLock = 0x736e6170

// ErrSchemaTooNew matches (errors.Is) the error of Open on a database
// migrated by a newer version of the program.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

type schemaTooNewError struct{ database, program int }

func (e *schemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this program's %d; upgrade snapexport", e.database, e.program)
}

func (e *schemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// migrate applies, in order, each migration that schema_migrations does
// not list, each in its own transaction under a transaction-scoped
// advisory lock: replicas starting at once wait for each other, and the
// one that takes the lock second finds the work done.
func (db *DB) migrate(ctx context.Context, schema string) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for {
		done, err := db.migrateStep(ctx, schema, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the first pending migration, if any, and reports
// whether none was left.
func (db *DB) migrateStep(ctx context.Context, schema string, ms []migration) (done bool, err error) {
	// A lost connection here, before anything ran, is retried like any
	// begin; a lost connection later fails Open.
	ptx, err := db.begin(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return false, err
	}
	defer rollback(ctx, ptx)
	// Waiting for another replica's migration, or running a long one, is
	// not what statement_timeout is for.
	if _, err := ptx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return false, err
	}
	if schema == "" {
		if err := ptx.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
			return false, err
		}
		if schema == "" {
			var path string
			ptx.QueryRow(ctx, "SHOW search_path").Scan(&path)
			return false, fmt.Errorf("no schema of the search_path (%s) exists; create one or set Options.Schema", path)
		}
	}
	if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", migrationLock, schema); err != nil {
		return false, err
	}
	// Created only when missing: CREATE … IF NOT EXISTS needs the CREATE
	// privilege even when there is nothing to create.
	var exists bool
	if err := ptx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		if _, err := ptx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return false, fmt.Errorf("create schema %s: %w", schema, err)
		}
	}
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	var hasTable bool
	if err := ptx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&hasTable); err != nil {
		return false, err
	}
	if !hasTable {
		_, err := ptx.Exec(ctx, `CREATE TABLE `+table+` (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		if err != nil {
			return false, err
		}
	}
	var current int
	if err := ptx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+table).Scan(&current); err != nil {
		return false, err
	}
	program := len(ms)
	if current > program {
		return false, &schemaTooNewError{database: current, program: program}
	}
	if current == program {
		return true, ptx.Commit(ctx)
	}
	m := ms[current]
	// Unqualified names in the migration create objects in the schema
	// locked above.
	if _, err := ptx.Exec(ctx, "SELECT set_config('search_path', $1, true)", pgx.Identifier{schema}.Sanitize()); err != nil {
		return false, err
	}
	if _, err := ptx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("%s: %w", m.name, err)
	}
	if _, err := ptx.Exec(ctx, "INSERT INTO "+table+" (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
		return false, err
	}
	return current+1 == program, ptx.Commit(ctx)
}
