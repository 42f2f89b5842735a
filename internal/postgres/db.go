// Package postgres stores the service's state in PostgreSQL (through
// github.com/jackc/pgx/v5), so that several server replicas can share one
// database.
//
// Everything that must hold across replicas is kept in the database:
// resources, OAuth token revocations, the digest nonces that authenticated
// a request (NonceStore: a nonce is recorded by one INSERT, so it is
// accepted once by any replica) and rate-limit buckets (DB.Limiter).
//
// Writes run in SERIALIZABLE transactions, retried on serialization failures
// and deadlocks; reads run in REPEATABLE READ READ ONLY transactions, one
// snapshot that never aborts. The creations of one paged list (a project's
// export buckets or private endpoints; projects) commit in list order, under
// a transaction-scoped advisory lock (lockListOrder), so that concurrent
// creations only append to what readers have seen. Migrations (migrations/*.sql, embedded) are
// applied by Open under a transaction-scoped advisory lock, so replicas may
// start at once. A lost connection surfaces as an error for which
// IsUnavailable is true; the pool replaces broken connections by itself.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

// Defaults of Options.
const (
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 30 * time.Second
	DefaultMaxRetries       = 20
	DefaultConnectTimeout   = 5 * time.Second
)

// Options tunes the connection pool and the transactions. A set field
// overrides the URL's setting of the same thing (pool_max_conns,
// statement_timeout, connect_timeout, search_path); a zero field keeps the
// URL's, or takes the default above when the URL has none.
type Options struct {
	// MaxConns bounds the pool (per replica: size the server's
	// max_connections for replicas × MaxConns).
	MaxConns int32
	// StatementTimeout aborts any statement that runs longer (the server's
	// statement_timeout); negative disables it. Migrations are exempt.
	StatementTimeout time.Duration
	// MaxRetries is how many times Write runs fn again after a
	// serialization failure or a deadlock; negative means never.
	MaxRetries int
	// ConnectTimeout bounds the opening of one connection; negative
	// disables it (the request's context still applies).
	ConnectTimeout time.Duration
	// Schema, when set, is the schema holding the tables (the search_path
	// of every connection); Open creates it when missing. Unset, the
	// URL's search_path (a query parameter such as
	// ?search_path=snapexport) or the server's default applies.
	Schema string
}

// DB is a PostgreSQL-backed snapexport.Store.
type DB struct {
	pool       *pgxpool.Pool
	schema     string
	maxConns   int
	maxRetries int
	limiter    *limiter
	// noncesUsed paces the sweep of the recorded nonces whose time passed.
	noncesUsed atomic.Int64
}

var _ snapexport.Store = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, as pgx accepts) and applies pending migrations. It
// fails, naming both versions, when the database's schema is newer than
// this program's.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	retries := opts.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, maxConns: int(cfg.MaxConns), maxRetries: retries, schema: opts.Schema}
	db.limiter = &limiter{db: db}
	if err := db.migrate(ctx, opts.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate %s: %w", describeTarget(cfg, opts.Schema), err)
	}
	return db, nil
}

// poolConfig parses url and applies opts (all but MaxRetries) to it.
func poolConfig(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	params := cfg.ConnConfig.RuntimeParams
	switch {
	case opts.StatementTimeout > 0:
		params["statement_timeout"] = strconv.FormatInt(max(opts.StatementTimeout.Milliseconds(), 1), 10)
	case opts.StatementTimeout < 0:
		params["statement_timeout"] = "0"
	case params["statement_timeout"] == "":
		params["statement_timeout"] = strconv.FormatInt(DefaultStatementTimeout.Milliseconds(), 10)
	}
	if opts.Schema != "" {
		params["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if params["application_name"] == "" {
		params["application_name"] = "snapexport"
	}
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	case opts.ConnectTimeout == 0 && cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	return cfg, nil
}

// describeTarget names the database (never the password) in errors.
func describeTarget(cfg *pgxpool.Config, schema string) string {
	c := cfg.ConnConfig
	s := fmt.Sprintf("database %q on %s:%d", c.Database, c.Host, c.Port)
	if schema == "" {
		schema = c.RuntimeParams["search_path"]
	}
	if schema != "" {
		s += fmt.Sprintf(" (schema %s)", schema)
	}
	return s
}

// Close closes every connection of the pool, waiting for those in use.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers, for readiness probes; its error
// satisfies IsUnavailable when it does not.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

var (
	readOptions  = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	writeOptions = pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadWrite}
)

// Read implements snapexport.Store: fn runs once, in a REPEATABLE READ READ
// ONLY transaction, which sees one snapshot and never fails to serialize.
//
// Under a snapexport.SharedRead the reads of the context run in one such
// transaction, on one connection, until the context uses the pool for
// anything else (pool): a request holds one connection at a time.
func (db *DB) Read(ctx context.Context, fn func(snapexport.Tx) error) error {
	if s := snapexport.SharedReadOf(ctx); s != nil {
		begin := func() (snapexport.Tx, func(), error) {
			ptx, err := db.beginOnPool(ctx, readOptions)
			if err != nil {
				return nil, nil, err
			}
			return &tx{tx: ptx}, func() { rollback(ctx, ptx) }, nil
		}
		if shared, err := s.Run(db, begin, fn); shared {
			return err
		}
	}
	ptx, err := db.begin(ctx, readOptions)
	if err != nil {
		return err
	}
	defer rollback(ctx, ptx)
	if err := fn(&tx{tx: ptx}); err != nil {
		return err
	}
	return ptx.Commit(ctx)
}

// Write implements snapexport.Store: fn runs in a SERIALIZABLE transaction,
// again (up to MaxRetries times, after a randomized, growing pause) when the
// transaction fails to serialize or deadlocks. A connection lost in the
// middle is not retried (IsUnavailable is true of the error); one found dead
// before the transaction began is replaced.
func (db *DB) Write(ctx context.Context, fn func(snapexport.Tx) error) error {
	for attempt := 0; ; attempt++ {
		retry, err := db.writeOnce(ctx, fn)
		if err == nil || !retry {
			return err
		}
		if attempt >= db.maxRetries {
			return fmt.Errorf("postgres: transaction failed %d times on concurrent writes: %w", attempt+1, err)
		}
		if werr := wait(ctx, backoff(attempt)); werr != nil {
			return errors.Join(werr, err)
		}
	}
}

// writeOnce runs fn in one transaction and reports whether a failure is a
// serialization failure or deadlock, which another attempt may not meet.
func (db *DB) writeOnce(ctx context.Context, fn func(snapexport.Tx) error) (retry bool, err error) {
	ptx, err := db.begin(ctx, writeOptions)
	if err != nil {
		return false, err
	}
	defer rollback(ctx, ptx)
	t := &tx{tx: ptx}
	if err := fn(t); err != nil {
		// fn's result stands on reads of an aborted transaction when one
		// of its statements failed to serialize, whatever fn made of
		// that failure; the failure is what went wrong.
		if t.aborted != nil && !isContention(err) {
			return true, fmt.Errorf("%w (then fn returned: %v)", t.aborted, err)
		}
		return isContention(err), err
	}
	if t.aborted != nil {
		// fn went on after a failed statement; Commit would only roll back.
		return true, t.aborted
	}
	if err := ptx.Commit(ctx); err != nil {
		return isContention(err), err
	}
	return false, nil
}

// begin starts a transaction. A pooled connection whose server went away
// since its last use fails here before anything of the caller ran, so the
// next connection is tried, up to the pool's size; a failure to open a new
// connection is returned at once.
func (db *DB) begin(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	db.conns(ctx)
	return db.beginOnPool(ctx, opts)
}

// beginOnPool is begin without ending the shared read of ctx, for the
// shared read itself.
func (db *DB) beginOnPool(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	for i := 0; ; i++ {
		t, err := db.pool.BeginTx(ctx, opts)
		if err == nil || i >= db.maxConns || ctx.Err() != nil || !staleConn(err) {
			return t, err
		}
	}
}

// conns is the pool, for a statement or transaction of ctx's own: the
// shared read transaction of ctx, if any, ends first, so that a request
// never waits for a second connection while it holds one (and so that
// what it reads next sees what it writes).
func (db *DB) conns(ctx context.Context) *pgxpool.Pool {
	if s := snapexport.SharedReadOf(ctx); s != nil {
		s.Interrupt(db)
	}
	return db.pool
}

// rollback ends ptx unless committed; it runs on panics too, so a panicking
// fn does not leak its connection. It does not take ctx's cancellation, so
// that a cancelled request's connection goes back to the pool clean.
func rollback(ctx context.Context, ptx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ptx.Rollback(ctx)
}

// backoff is the pause before retry attempt+1: full jitter over an
// exponentially growing window, from 2ms to 256ms.
func backoff(attempt int) time.Duration {
	window := 2 * time.Millisecond << min(attempt, 7)
	return time.Duration(rand.Int64N(int64(window))) + time.Millisecond
}

func wait(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SQLSTATE codes and classes the package tells apart.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeTooManyConnections   = "53300"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	classConnectionException = "08"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isContention reports a serialization failure or a deadlock: the
// transaction was aborted for the sake of a concurrent one and may succeed
// when run again.
func isContention(err error) bool {
	c := pgCode(err)
	return c == codeSerializationFailure || c == codeDeadlockDetected
}

// IsUnavailable reports whether err means that the database could not serve
// the request for now, so that the API answers 503 SERVICE_UNAVAILABLE and
// the client retries later: the server is unreachable or went away (a
// refused or failed connection, a network error, a connection closed under
// the request, SQLSTATE class 08, 57P01 admin_shutdown, 57P02, 57P03
// cannot_connect_now), has no connection slot left (53300), or Write gave
// up after MaxRetries serialization failures or deadlocks. The pool replaces
// broken connections by itself: once the server is back, later requests
// succeed. A Write whose COMMIT was cut off may or may not have committed.
//
// Errors of the caller's own context (cancellation, deadline) are not
// unavailability, nor is a statement timeout (57014).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch c := pgCode(err); {
	case c == "":
	case strings.HasPrefix(c, classConnectionException),
		c == codeAdminShutdown, c == codeCrashShutdown, c == codeCannotConnectNow,
		c == codeTooManyConnections, c == codeSerializationFailure, c == codeDeadlockDetected:
		return true
	default:
		// Any other error the server reported: it is up.
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	var ne interface {
		error
		Timeout() bool
	}
	if errors.As(err, &ne) {
		return true // net.Error, as from a read or write on the connection
	}
	// A connection that the server closed without a word, or a truncated
	// message.
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// staleConn reports a pooled connection found dead when starting a
// transaction (not a failure to open a new one).
func staleConn(err error) bool {
	var ce *pgconn.ConnectError
	return !errors.As(err, &ce) && !isContention(err) && IsUnavailable(err)
}

// conflict maps a uniqueness violation to snapexport.ErrConflict.
func conflict(err error) error {
	if pgCode(err) == codeUniqueViolation {
		return fmt.Errorf("%w: %v", snapexport.ErrConflict, err)
	}
	return err
}

// affected turns "no row changed" into snapexport.ErrNotFound.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return snapexport.ErrNotFound
	}
	return nil
}

// inserted turns an INSERT … ON CONFLICT DO NOTHING that inserted nothing
// into snapexport.ErrConflict. Unlike a unique violation, which aborts the
// whole transaction in PostgreSQL, such a conflict leaves the transaction
// usable, as it is in SQLite, so fn may go on after ErrConflict.
func inserted(what string) func(pgconn.CommandTag, error) error {
	return func(tag pgconn.CommandTag, err error) error {
		if err != nil {
			return conflict(err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s already exists (duplicate key)", snapexport.ErrConflict, what)
		}
		return nil
	}
}

// insert adds a row of values to the columns of table; what names the
// resource in the ErrConflict of a row already there (see inserted).
func (t *tx) insert(ctx context.Context, what, table, columns string, values []any) error {
	params := make([]string, len(values))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	return inserted(what)(t.exec(ctx, `INSERT INTO `+table+` (`+columns+`) VALUES (`+strings.Join(params, ", ")+`) ON CONFLICT DO NOTHING`, values...))
}

// tx implements snapexport.Tx; one file per resource holds its methods.
// Every statement goes through exec, queryRow or query, which remember the
// first serialization failure or deadlock so that Write retries fn however
// fn handled the error.
type tx struct {
	tx      pgx.Tx
	aborted error
}

func (t *tx) note(err error) error {
	if err != nil && t.aborted == nil && isContention(err) {
		t.aborted = err
	}
	return err
}

func (t *tx) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.tx.Exec(ctx, sql, args...)
	return tag, t.note(err)
}

type row struct {
	t *tx
	r pgx.Row
}

func (r row) Scan(dest ...any) error { return r.t.note(r.r.Scan(dest...)) }

func (t *tx) queryRow(ctx context.Context, sql string, args ...any) row {
	return row{t, t.tx.QueryRow(ctx, sql, args...)}
}

// query runs sql and scans every row with scan.
func query[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, t.note(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.note(err)
		}
		out = append(out, v)
	}
	return out, t.note(rows.Err())
}

// listOrderLock is the first key of the advisory locks of lockListOrder
// ("list"); the second is the hash of the list's name.
const listOrderLock = 0x6c697374

// lockListOrder makes the creations of one list's items commit in the order
// of their seq, the list's order: it takes a transaction-scoped advisory
// lock on the list (e.g. "export_buckets/" + project id) that the creation
// holds from before its INSERT draws a seq until it commits or rolls back.
// Without it, a transaction that drew seq 5 could commit after one that
// drew seq 6, and a reader that had seen 6 at the end of a page would, once
// 5 appeared before it, find 6 again on the next page. With it, an item
// becomes visible only after every item before it in the list, so
// concurrent creations only ever append to what readers have seen. SQLite
// needs nothing of the sort: its writers are serialized.
func (t *tx) lockListOrder(ctx context.Context, list string) error {
	_, err := t.exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", listOrderLock, list)
	return err
}

// insertListed inserts an item of list, whose creations commit in the
// list's order (lockListOrder).
func (t *tx) insertListed(ctx context.Context, list, what, table, columns string, values []any) error {
	if err := t.lockListOrder(ctx, list); err != nil {
		return err
	}
	return t.insert(ctx, what, table, columns, values)
}

// Nonces implements snapexport.Store.
func (db *DB) Nonces() snapexport.NonceStore { return nonces{db} }

// limitOffset renders a Page as LIMIT and OFFSET parameters: a Limit of 0
// (or less) is no limit (LIMIT NULL).
func limitOffset(p snapexport.Page) (limit any, offset int) {
	if p.Limit > 0 {
		limit = p.Limit
	}
	return limit, max(p.Offset, 0)
}

// DropSchema drops schema, with everything in it, from the database at url;
// for throwaway schemas such as the test server's.
func DropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

// WithMigrationLock runs fn while holding an advisory lock of the
// migrations' lock space (its own key, the schema's "/queue"), so that
// another component's migrations (the job queue's) are applied by one
// replica at a time too.
func (db *DB) WithMigrationLock(ctx context.Context, fn func() error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	key := db.schema + "/queue"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", migrationLock, key); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext($2))", migrationLock, key)
	return fn()
}
