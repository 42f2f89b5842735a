// Package instrumentedstore wraps a snapexport.Store so that each of its
// transactions is a span (a child of the request's or the export job's)
// and is timed and counted for the metrics. It sees only the kind of a
// transaction and whether it failed, never what it reads or writes.
package instrumentedstore

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport"
)

// Observer is told of each transaction: the backend's name (sqlite,
// postgres), its kind (read, write), how long it took, and whether it
// failed (a fault of the database or of the code, not an answer such as
// "not found" or a refusal the API reports).
type Observer interface {
	ObserveTransaction(backend, kind string, d time.Duration, failed bool)
}

// Store is a snapexport.Store whose Read and Write are traced and observed.
type Store struct {
	snapexport.Store
	// Backend names the database in spans and metrics.
	Backend  string
	Tracer   trace.Tracer
	Observer Observer
}

// Read implements snapexport.Store.
func (s *Store) Read(ctx context.Context, fn func(snapexport.Tx) error) error {
	return s.run(ctx, "read", s.Store.Read, fn)
}

// Write implements snapexport.Store.
func (s *Store) Write(ctx context.Context, fn func(snapexport.Tx) error) error {
	return s.run(ctx, "write", s.Store.Write, fn)
}

func (s *Store) run(ctx context.Context, kind string, run func(context.Context, func(snapexport.Tx) error) error, fn func(snapexport.Tx) error) error {
	var span trace.Span
	if s.Tracer != nil {
		ctx, span = s.Tracer.Start(ctx, "store "+kind, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", s.Backend)))
		defer span.End()
	}
	start := time.Now()
	err := run(ctx, fn)
	failed := Failed(err)
	if failed && span != nil {
		span.SetStatus(codes.Error, "transaction failed")
	}
	if s.Observer != nil {
		s.Observer.ObserveTransaction(s.Backend, kind, time.Since(start), failed)
	}
	return err
}

// Failed reports whether a transaction's err is a failure rather than an
// answer: not the domain's "not found", nor one of its Atlas errors (a
// conflict, a refusal), nor an export run's news about its job (another
// run holds it, it ended, it was cancelled), nor the caller's
// cancellation.
func Failed(err error) bool {
	var apiErr *snapexport.Error
	switch {
	case err == nil, errors.As(err, &apiErr), errors.Is(err, context.Canceled):
		return false
	}
	for _, answer := range []error{snapexport.ErrNotFound, snapexport.ErrLeaseHeld, snapexport.ErrExportEnded, snapexport.ErrExportCancelled} {
		if errors.Is(err, answer) {
			return false
		}
	}
	return true
}
