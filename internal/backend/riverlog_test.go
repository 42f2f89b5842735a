package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
)

// TestRiverLog: River's INFO is DEBUG; its warnings and errors stay, but
// for the cancellations that a stop asked of the client causes, once the
// stop was asked.
func TestRiverLog(t *testing.T) {
	type line struct{ level, msg string }
	logged := func(level slog.Level, stopping bool, log func(*slog.Logger)) []line {
		var buf bytes.Buffer
		flag := new(atomic.Bool)
		flag.Store(stopping)
		next := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})
		log(slog.New(riverLog{next: next, stopping: flag}).With("component", "river"))
		var out []line
		for l := range bytes.Lines(buf.Bytes()) {
			var r struct{ Level, Msg, Component string }
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatal(err)
			}
			if r.Component != "river" {
				t.Errorf("a line lost its attributes: %s", l)
			}
			out = append(out, line{r.Level, r.Msg})
		}
		return out
	}
	river := func(l *slog.Logger) {
		l.Debug("producer: Run loop started")
		l.Info("River client started")
		l.Warn("producer: Queue control notification dropped due to full buffer")
		l.Error("producer: Error fetching jobs", slog.String("err", "context canceled"))
		l.Error("leadership.Elector: Error attempting to resign", "err", fmt.Errorf("resign: %w", context.Canceled))
		l.Error("jobcompleter: Error completing job", slog.String("err", "connection refused"))
	}
	cases := []struct {
		name     string
		level    slog.Level
		stopping bool
		want     []line
	}{
		{"serving, at DEBUG", slog.LevelDebug, false, []line{
			{"DEBUG", "producer: Run loop started"},
			{"DEBUG", "River client started"},
			{"WARN", "producer: Queue control notification dropped due to full buffer"},
			{"ERROR", "producer: Error fetching jobs"},
			{"ERROR", "leadership.Elector: Error attempting to resign"},
			{"ERROR", "jobcompleter: Error completing job"},
		}},
		{"stopping, at DEBUG", slog.LevelDebug, true, []line{
			{"DEBUG", "producer: Run loop started"},
			{"DEBUG", "River client started"},
			{"WARN", "producer: Queue control notification dropped due to full buffer"},
			{"DEBUG", "producer: Error fetching jobs"},
			{"DEBUG", "leadership.Elector: Error attempting to resign"},
			{"ERROR", "jobcompleter: Error completing job"},
		}},
		{"serving, at INFO", slog.LevelInfo, false, []line{
			{"WARN", "producer: Queue control notification dropped due to full buffer"},
			{"ERROR", "producer: Error fetching jobs"},
			{"ERROR", "leadership.Elector: Error attempting to resign"},
			{"ERROR", "jobcompleter: Error completing job"},
		}},
		{"stopping, at INFO", slog.LevelInfo, true, []line{
			{"WARN", "producer: Queue control notification dropped due to full buffer"},
			{"ERROR", "jobcompleter: Error completing job"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := logged(c.level, c.stopping, river)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("logged\n%v\nwant\n%v", got, c.want)
			}
		})
	}
}
