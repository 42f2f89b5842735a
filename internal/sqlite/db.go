// Package sqlite stores the service's state in an embedded SQLite database
// (pure Go, WAL journal, full fsync on commit).
package sqlite

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
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
	"github.com/snapexport/snapexport/internal/newfile"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

//go:embed migrations/*.sql
var migrations embed.FS

// newDatabase is the schema every migration and River's leave, made in
// one script: a new database gets it without parsing the whole schema
// again after each of the migrations' changes (TestNewDatabaseSchema
// keeps it equal to them).
//
//go:embed newdatabase.sql
var newDatabase string

// newDatabaseImage is the file of a database newdatabase.sql made (then
// checkpointed), compressed: a missing database file is this image put in
// place, which takes a fraction of the time SQLite takes to build the
// schema (TestNewDatabaseSchema checks a database so made against the
// migrations, and rewrites the image with -update).
//
//go:embed newdatabase.db.gz
var newDatabaseImage []byte

// DB is a SQLite-backed snapexport.Store. Every write of the store, nonces
// and listings included, goes through one writer (writer) on one
// connection, which is how SQLite serializes writers anyway, so callers
// wait in Go instead of spinning on SQLITE_BUSY, and concurrent writes
// share a commit; reads use a pool of connections of their own. Each
// connection keeps its statements prepared.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	queue *sql.DB
	// queueMigrations runs River's migrations, committing without an
	// fsync: the next durable commit (a WAL is synced whole) or a
	// checkpoint makes them durable, and one lost in a crash before that
	// is applied again at the next start.
	queueMigrations *sql.DB
	writer          *writer
	readers         *readers
	// noncesUsed paces the sweep of the recorded nonces whose time passed.
	noncesUsed atomic.Int64
	// made is whether Open made the database from newdatabase.sql or its
	// image, River's tables and migrations included.
	made bool
}

var _ snapexport.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	placed, err := placeNewDatabase(path)
	if err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	// SQLite would create the file readable by all (0644, less the umask);
	// its journal files take the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	f.Close()
	db := &DB{
		made:  placed,
		path:  path,
		write: openPool(path, "immediate", "FULL", 1),
		// readers keeps readConns of them, and opens more only for reads
		// that may not wait (readers.get).
		read: openPool(path, "deferred", "FULL", 0),
		// The job queue's own writer (River's driver runs its own
		// transactions): its writes and the store's wait for each other
		// in SQLite's busy handler.
		queue:           openPool(path, "immediate", "FULL", 1),
		queueMigrations: openPool(path, "immediate", "NORMAL", 1),
	}
	// River migrates once, at start: no connection need stay open for it.
	db.queueMigrations.SetMaxIdleConns(0)
	db.readers = newReaders(db.read, readConns)
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
	c, err := newConn(ctx, db.write)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.writer = newWriter(c, db)
	return db, nil
}

// placeNewDatabase puts newDatabaseImage at path when no file is there,
// and reports whether it did; a file at path is never partly written, and
// never replaced (newfile).
func placeNewDatabase(path string) (placed bool, err error) {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return newfile.Create(path, func(f *os.File) error {
		zr, err := gzip.NewReader(bytes.NewReader(newDatabaseImage))
		if err != nil {
			return fmt.Errorf("the embedded new database: %w", err)
		}
		_, err = io.Copy(f, zr)
		return err
	})
}

// readConns is the size of the pool of read connections.
const readConns = 8

// openPool opens a pool of at most conns connections (0: any number) to
// the file at path, whose transactions begin in mode (deferred, immediate)
// and whose commits are synchronous as sync says (FULL, NORMAL).
func openPool(path, mode, sync string, conns int) *sql.DB {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", mode)
	p, _ := sql.Open("sqlite", "file:"+path+"?"+q.Encode()) // fails only for an unknown driver
	p.SetMaxOpenConns(conns)
	return p
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

// Close closes the database: the writes pending get an error, the batch
// under way commits first. Reads must have ended.
func (db *DB) Close() error {
	var errs []error
	if db.writer != nil {
		db.writer.close()
		errs = append(errs, db.writer.c.close())
	}
	return errors.Join(append(errs, db.readers.close(), db.read.Close(), db.queue.Close(), db.queueMigrations.Close(), db.write.Close())...)
}

// migrate applies, in order, every embedded migration newer than the
// database's user_version, all in one transaction.
func (db *DB) migrate(ctx context.Context) (err error) {
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
	if current == len(names) {
		return nil
	}
	// The pending migrations are applied in one transaction, so that an
	// upgrade that fails midway leaves the database as it was. It commits
	// without an fsync: the WAL is synced whole, so the next durable
	// commit makes it durable, and one lost in a crash before that is
	// applied again at the next start, nothing having been written over it.
	c, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return err
	}
	defer func() {
		// The connection goes on as the store's writer: were it left
		// committing without fsyncs, Open fails.
		if _, restore := c.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); err == nil {
			err = restore
		}
	}()
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process opening the same file (two inits, init and serve)
	// may have applied migrations since user_version was read above; under
	// the write lock this read is authoritative.
	var applied int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&applied); err != nil {
		return err
	}
	if applied > len(names) {
		return fmt.Errorf("database schema version %d is newer than this program's %d; upgrade snapexport", applied, len(names))
	}
	if applied == len(names) {
		return nil
	}
	fresh, err := isEmpty(ctx, tx)
	if err != nil {
		return err
	}
	if fresh {
		if _, err := tx.ExecContext(ctx, newDatabase); err != nil {
			return fmt.Errorf("newdatabase.sql: %w", err)
		}
		applied = len(names)
	}
	for i := applied; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: %w", names[i], err)
		}
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(len(names))); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Only a committed script makes River's migrations part of the
	// database: a failed attempt, retried, may find another process's.
	db.made = fresh
	return nil
}

// isEmpty reports whether the database has no schema yet: a new file.
func isEmpty(ctx context.Context, tx *sql.Tx) (bool, error) {
	var objects int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects)
	return objects == 0, err
}

// Read implements snapexport.Store.
func (db *DB) Read(ctx context.Context, fn func(snapexport.Tx) error) error {
	if s := snapexport.SharedReadOf(ctx); s != nil {
		begin := func() (snapexport.Tx, func(), error) { return db.beginRead(ctx, false) }
		if shared, err := s.Run(db, begin, fn); shared {
			return err
		}
	}
	return db.reading(ctx, func(t *tx) error { return fn(t) })
}

// beginRead begins a read transaction that finish ends; holding tells
// whether the caller holds another already (readers.get).
func (db *DB) beginRead(ctx context.Context, holding bool) (t *tx, finish func(), err error) {
	c, err := db.readers.get(ctx, holding)
	if err != nil {
		return nil, nil, err
	}
	if err := c.exec(ctx, "BEGIN"); err != nil {
		db.readers.put(c)
		return nil, nil, err
	}
	return &tx{tx: connQuerier{c: c}}, func() {
		// An error of ROLLBACK tells nothing a reader needs.
		c.exec(ctx, "ROLLBACK")
		db.readers.put(c)
	}, nil
}

func (db *DB) reading(ctx context.Context, fn func(*tx) error) error {
	t, finish, err := db.beginRead(ctx, snapexport.SharedReadOf(ctx).Holds(db))
	if err != nil {
		return err
	}
	// Ends the transaction whether fn returns or panics.
	defer finish()
	return fn(t)
}

// Write implements snapexport.Store: fn runs in the transaction of a batch
// of writes (writer), which commits them together. fn must not call
// Write, Nonces().UseNonce or Listings().SaveListing: the batch would wait
// for fn, and fn for a later batch.
func (db *DB) Write(ctx context.Context, fn func(snapexport.Tx) error) error {
	return db.writer.write(ctx, func(t *tx) error { return fn(t) })
}

// tx implements snapexport.Tx; one file per resource holds its methods.
type tx struct {
	tx querier
}

// Nonces implements snapexport.Store.
func (db *DB) Nonces() snapexport.NonceStore { return nonces{db.writer, &db.noncesUsed} }

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

// querier runs statements: those of a transaction on a connection of the
// store (connQuerier).
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
