package backend

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/riverqueue/river"
)

// riverClient is a River client that tells its logger when a stop was
// asked of it: by StopAndCancel, or by the end of Start's context.
type riverClient[TTx any] struct {
	*river.Client[TTx]
	stopping *atomic.Bool
}

func (c *riverClient[TTx]) Start(ctx context.Context) error {
	c.stopping.Store(false)
	context.AfterFunc(ctx, func() { c.stopping.Store(true) })
	return c.Client.Start(ctx)
}

func (c *riverClient[TTx]) StopAndCancel(ctx context.Context) error {
	c.stopping.Store(true)
	return c.Client.StopAndCancel(ctx)
}

// riverLog is the handler of a River client's log over the server's.
// River logs its routine at INFO (client started and stopped, producer
// counts, queue maintenance, a job interrupted by a stop and retried),
// which an operator has no use for: that is DEBUG. Its warnings and errors
// stay, but for those that only report the cancellation of work by a stop
// asked of the client, which are DEBUG too.
type riverLog struct {
	next     slog.Handler
	stopping *atomic.Bool
}

func (h riverLog) Enabled(ctx context.Context, l slog.Level) bool {
	if l < slog.LevelWarn {
		l = min(l, slog.LevelDebug)
	}
	return h.next.Enabled(ctx, l)
}

func (h riverLog) Handle(ctx context.Context, r slog.Record) error {
	level := r.Level
	switch {
	case level < slog.LevelWarn:
		level = min(level, slog.LevelDebug)
	case h.stopping.Load() && reportsCancellation(r):
		level = slog.LevelDebug
	}
	if level != r.Level {
		if !h.next.Enabled(ctx, level) {
			return nil
		}
		r.Level = level
	}
	return h.next.Handle(ctx, r)
}

func (h riverLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return riverLog{next: h.next.WithAttrs(attrs), stopping: h.stopping}
}

func (h riverLog) WithGroup(name string) slog.Handler {
	return riverLog{next: h.next.WithGroup(name), stopping: h.stopping}
}

// reportsCancellation reports whether one of r's attributes is a context
// cancellation, as an error or as the text River logs of one.
func reportsCancellation(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		switch {
		case v.Kind() == slog.KindString:
			found = strings.Contains(v.String(), context.Canceled.Error())
		case v.Kind() == slog.KindAny:
			err, isErr := v.Any().(error)
			found = isErr && errors.Is(err, context.Canceled)
		}
		return !found
	})
	return found
}
