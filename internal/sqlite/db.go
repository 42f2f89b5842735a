// Package sqlite stores the service's state in an embedded SQLite database
// (pure Go, WAL journal, full fsync on commit).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a SQLite-backed snapexport.Store. Writes go through a single
// connection, which is how SQLite serializes writers anyway, so callers wait
// in Go instead of spinning on SQLITE_BUSY; reads use a pool.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	nonce *sql.DB
	queue *sql.DB
	// noncesUsed paces the sweep of the recorded nonces whose time passed.
	noncesUsed atomic.Int64
}

var _ snapexport.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	// SQLite would create the file readable by all (0644, less the umask);
	// its journal files take the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	f.Close()
	dsn := func(mode, sync string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)", "foreign_keys(ON)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", mode)
		return "file:" + path + "?" + q.Encode()
	}
	pool := func(mode, sync string, conns int) *sql.DB {
		p, _ := sql.Open("sqlite", dsn(mode, sync)) // fails only for an unknown driver
		p.SetMaxOpenConns(conns)
		return p
	}
	db := &DB{
		path:  path,
		write: pool("immediate", "FULL", 1),
		read:  pool("deferred", "FULL", 8),
		// Nonce writes skip the fsync of every commit: a used nonce is
		// forgotten only if the machine stops within moments of its use,
		// reopening it to a replay until it expires.
		nonce: pool("immediate", "NORMAL", 1),
		// The job queue's own writer; contention with the store's waits
		// out the busy timeout.
		queue: pool("immediate", "FULL", 1),
	}
	// Processes creating the same new file at once can be refused with
	// SQLITE_BUSY without the busy timeout applying (the switch to WAL
	// would deadlock); such an open is retried.
	err = db.migrate(ctx)
	for deadline := time.Now().Add(10 * time.Second); isBusy(err) && time.Now().Before(deadline); err = db.migrate(ctx) {
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

// Migrations lists the names of the embedded migrations in order
// (0001_initial.sql, …): a database at version v (its user_version) has the
// first v applied.
func Migrations() []string {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = path.Base(n)
	}
	return names
}

// SchemaVersion is the schema version this program migrates databases to.
func SchemaVersion() int { return len(Migrations()) }

// Version reads the schema version (user_version) of the database file at
// file, opened read-only: neither created nor migrated.
func Version(ctx context.Context, file string) (int, error) {
	if _, err := os.Stat(file); err != nil {
		return 0, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("mode", "ro")
	db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	return v, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.nonce.Close(), db.queue.Close(), db.write.Close())
}

// migrate applies, in order, every embedded migration newer than the
// database's user_version, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	if err := db.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	if current > len(names) {
		return fmt.Errorf("database schema version %d is newer than this program's %d; upgrade snapexport", current, len(names))
	}
	for i := current; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Another process opening the same file (two inits, init and
		// serve) may have applied this migration since user_version was
		// read above; under the write lock this read is authoritative.
		var applied int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&applied); err != nil {
			tx.Rollback()
			return err
		}
		if applied > len(names) {
			tx.Rollback()
			return fmt.Errorf("database schema version %d is newer than this program's %d; upgrade snapexport", applied, len(names))
		}
		if applied > i {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Read implements snapexport.Store.
func (db *DB) Read(ctx context.Context, fn func(snapexport.Tx) error) error {
	return db.run(ctx, db.read, &sql.TxOptions{ReadOnly: true}, fn)
}

// Write implements snapexport.Store.
func (db *DB) Write(ctx context.Context, fn func(snapexport.Tx) error) error {
	return db.run(ctx, db.write, nil, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(snapexport.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	// Undoes fn's writes when fn fails or panics; a no-op after Commit. A
	// panic must not leak the transaction: it would hold the only write
	// connection and block every later Write.
	defer sqlTx.Rollback()
	if err := fn(&tx{tx: sqlTx}); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// tx implements snapexport.Tx; one file per resource holds its methods.
type tx struct {
	tx *sql.Tx
}

// Nonces implements snapexport.Store.
func (db *DB) Nonces() snapexport.NonceStore { return nonces{db.nonce, &db.noncesUsed} }

// conflict maps a uniqueness violation to snapexport.ErrConflict.
func conflict(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("%w: %v", snapexport.ErrConflict, err)
	}
	return err
}

// isBusy reports whether err is SQLITE_BUSY or one of its extended codes.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// affected turns "no row changed" into snapexport.ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return snapexport.ErrNotFound
	}
	return nil
}

// querier runs statements: the *sql.Tx of a Tx, or the pool of the nonces
// and listings.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec, queryRow and query run every statement of the store, with the
// times among args written as the text that time columns hold
// (sqlrow.FormatTime) and a nil *time.Time as NULL: the driver would write
// a time.Time in a form of its own, which neither sorts nor compares with
// the stored text.
func exec(ctx context.Context, q querier, stmt string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, stmt, timesAsText(args)...)
}

func queryRow(ctx context.Context, q querier, stmt string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, stmt, timesAsText(args)...)
}

// query runs stmt and scans every row with scan.
func query[T any](ctx context.Context, q querier, scan func(sqlrow.Scanner) (T, error), stmt string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, stmt, timesAsText(args)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// timesAsText returns args with each time.Time and *time.Time replaced by
// its text, or nil; args itself when it holds none, and never changed, as
// callers pass the same arguments to several statements.
func timesAsText(args []any) []any {
	var out []any
	for i, a := range args {
		var text any
		switch v := a.(type) {
		case time.Time:
			text = sqlrow.FormatTime(v)
		case *time.Time:
			if v != nil {
				text = sqlrow.FormatTime(*v)
			}
		default:
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = text
	}
	if out == nil {
		return args
	}
	return out
}

// insert adds a row of values to the columns of table; ErrConflict when
// it breaks a uniqueness rule.
func insert(ctx context.Context, q querier, table, columns string, values []any) error {
	_, err := exec(ctx, q, `INSERT INTO `+table+` (`+columns+`) VALUES (`+placeholders(len(values))+`)`, values...)
	return conflict(err)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func limitOffset(p snapexport.Page) string {
	limit := p.Limit
	if limit <= 0 {
		limit = -1
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, max(p.Offset, 0))
}

// WithQueueLock runs fn holding a lock that other processes opening the
// same database file take too, so that the job queue's migrations, which
// are not atomic, run in one process at a time.
func (db *DB) WithQueueLock(ctx context.Context, fn func() error) error {
	unlock, err := lockFile(db.path + ".queue-lock")
	if err != nil {
		return fmt.Errorf("lock %s.queue-lock: %w", db.path, err)
	}
	defer unlock()
	return fn()
}
