package snapexport

import (
	"context"
	"sync"
)

// SharedRead lets the Read calls of one request share one read
// transaction: a GET authorizes its caller on a project and reads the
// resource asked for, and each transaction begun costs more than the
// point reads it holds. Begin it with WithSharedRead and end it with End
// once the reads are done. A store that supports it (SQLite) begins the
// transaction at the first Read of the context and runs the next ones in
// it, all seeing the snapshot of the first; a Write with the context ends
// it first, so that the reads after a write see it. A store that does not
// (PostgreSQL) reads as usual. Reads running at once with one context, or
// with another store, run in transactions of their own.
type SharedRead struct {
	mu     sync.Mutex
	busy   bool
	store  any // the store whose transaction tx is
	tx     Tx
	finish func()
	ended  bool
}

type sharedReadKey struct{}

// WithSharedRead returns a context whose reads share a transaction until
// End is called.
func WithSharedRead(ctx context.Context) (context.Context, *SharedRead) {
	s := &SharedRead{}
	return context.WithValue(ctx, sharedReadKey{}, s), s
}

// SharedReadOf is the SharedRead of ctx, nil when it has none.
func SharedReadOf(ctx context.Context) *SharedRead {
	s, _ := ctx.Value(sharedReadKey{}).(*SharedRead)
	return s
}

// End ends the shared transaction, if one began; the context's reads run
// in transactions of their own from then on.
func (s *SharedRead) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	s.release()
}

// release ends the transaction, with mu held.
func (s *SharedRead) release() {
	if s.finish != nil {
		s.finish()
	}
	s.store, s.tx, s.finish = nil, nil, nil
}

// Run is for Store implementations: it runs fn in the shared transaction
// of store, begun with begin (which returns the transaction and what ends
// it) at the first Run. It returns false without running fn when the
// transaction cannot be shared (ended, in use, or another store's); the
// store then runs fn in a transaction of its own. A failed fn ends the
// transaction, so that a later read never meets a transaction its error
// left unusable.
func (s *SharedRead) Run(store any, begin func() (Tx, func(), error), fn func(Tx) error) (bool, error) {
	s.mu.Lock()
	if s.ended || s.busy || (s.store != nil && s.store != store) {
		s.mu.Unlock()
		return false, nil
	}
	if s.tx == nil {
		tx, finish, err := begin()
		if err != nil {
			s.mu.Unlock()
			return true, err
		}
		s.store, s.tx, s.finish = store, tx, finish
	}
	s.busy = true
	tx := s.tx
	s.mu.Unlock()
	failed := true
	defer func() {
		s.mu.Lock()
		s.busy = false
		if failed {
			s.release()
		}
		s.mu.Unlock()
	}()
	err := fn(tx)
	failed = err != nil
	return true, err
}

// Holds reports whether s holds a transaction of store: a read of its
// context that cannot share it would then hold two. False for a nil s.
func (s *SharedRead) Holds(store any) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store == store && s.tx != nil
}

// Interrupt ends the shared transaction of store before a write, so that
// the reads after it see it; the context's later reads begin another.
func (s *SharedRead) Interrupt(store any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == store && !s.busy {
		s.release()
	}
}
