package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
)

// maxPrepared bounds the statements kept prepared on one connection. The
// store's SQL has a bounded number of shapes but for the literal LIMIT and
// OFFSET of list pages (limitOffset); the least recently used statement is
// closed to make room.
const maxPrepared = 256

// conn is a connection held by the store for its whole life, with the
// statements prepared on it: one goroutine uses it at a time (a reader for
// its transaction, the function whose turn it is in a batch of writes).
type conn struct {
	c        *sql.Conn
	prepared map[string]*list.Element // of *preparedStmt
	recent   list.List                // most recently used first
	// extra marks a reader's connection taken beyond the pool's size
	// (readers.get): put back, it goes to database/sql, which keeps at
	// most two idle, rather than to the readers.
	extra bool
}

type preparedStmt struct {
	query string
	stmt  *sql.Stmt
}

func newConn(ctx context.Context, pool *sql.DB) (*conn, error) {
	c, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, prepared: map[string]*list.Element{}}, nil
}

// stmt returns query prepared on c, preparing it on first use.
func (c *conn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if e, ok := c.prepared[query]; ok {
		c.recent.MoveToFront(e)
		return e.Value.(*preparedStmt).stmt, nil
	}
	s, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.prepared[query] = c.recent.PushFront(&preparedStmt{query, s})
	if c.recent.Len() > maxPrepared {
		// The rows of the evicted statement were read: query reads them
		// all, a Row is scanned before the next statement.
		old := c.recent.Remove(c.recent.Back()).(*preparedStmt)
		delete(c.prepared, old.query)
		old.stmt.Close()
	}
	return s, nil
}

// exec runs a statement of the connection's own (BEGIN, COMMIT, SAVEPOINT …)
// whatever ctx's state: these bring the connection back to a known state.
func (c *conn) exec(ctx context.Context, query string) error {
	ctx = context.WithoutCancel(ctx)
	s, err := c.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx)
	return err
}

func (c *conn) close() error {
	var errs []error
	for e := c.recent.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*preparedStmt).stmt.Close())
	}
	return errors.Join(append(errs, c.c.Close())...)
}

// connQuerier runs the statements of a transaction on c with their
// prepared statements. Detached, it ignores its callers' cancellation: an
// interrupted write statement can roll back the whole SQLite transaction,
// which a batch of writes shares.
type connQuerier struct {
	c        *conn
	detached bool
}

func (q connQuerier) ctx(ctx context.Context) context.Context {
	if q.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (q connQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = q.ctx(ctx)
	s, err := q.c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (q connQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = q.ctx(ctx)
	s, err := q.c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (q connQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = q.ctx(ctx)
	s, err := q.c.stmt(ctx, query)
	if err != nil {
		// The unprepared statement fails the same way, in a Row.
		return q.c.c.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// readers is the pool of the connections of read transactions.
type readers struct {
	pool  *sql.DB
	idle  chan *conn
	slots chan struct{} // one per connection opened
}

func newReaders(pool *sql.DB, n int) *readers {
	return &readers{pool: pool, idle: make(chan *conn, n), slots: make(chan struct{}, n)}
}

// get returns an idle connection, a new one while fewer than the pool's
// size are open, or the first one put back. A caller that holds one
// already (holding: a read inside its request's shared read) gets a
// connection beyond the pool's size rather than wait: were every
// connection held so, each holder would wait for another's for ever.
func (r *readers) get(ctx context.Context, holding bool) (*conn, error) {
	select {
	case c := <-r.idle:
		return c, nil
	default:
	}
	if holding {
		c, err := newConn(ctx, r.pool)
		if err != nil {
			return nil, err
		}
		c.extra = true
		return c, nil
	}
	select {
	case c := <-r.idle:
		return c, nil
	case r.slots <- struct{}{}:
		c, err := newConn(ctx, r.pool)
		if err != nil {
			<-r.slots
		}
		return c, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *readers) put(c *conn) {
	if c.extra {
		// Its statements closed, the connection goes back to database/sql;
		// an error doing so tells nothing a reader needs.
		c.close()
		return
	}
	r.idle <- c
}

// close closes the connections, once every reader put its own back.
func (r *readers) close() error {
	var errs []error
	for {
		select {
		case c := <-r.idle:
			errs = append(errs, c.close())
			<-r.slots
		default:
			return errors.Join(errs...)
		}
	}
}
