package testserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// LogBuffer collects what a server logs, safe for its concurrent writes
// while the test reads it.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes is a copy of what was written so far.
func (b *LogBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf.Bytes())
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// JSONHandler logs into the buffer, one JSON object a line, from level on:
// what Records reads.
func (b *LogBuffer) JSONHandler(level slog.Level) slog.Handler {
	return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level})
}

// LogRecord is one line logged by a JSONHandler: "level", "msg" and the
// attributes, by name.
type LogRecord map[string]any

// Level is the record's level.
func (r LogRecord) Level() string { s, _ := r["level"].(string); return s }

// Msg is the record's message.
func (r LogRecord) Msg() string { s, _ := r["msg"].(string); return s }

// Str is the attribute key as text ("" when absent), numbers as they
// were written.
func (r LogRecord) Str(key string) string {
	switch v := r[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// Records parses the lines written by a JSONHandler.
func (b *LogBuffer) Records() ([]LogRecord, error) {
	var out []LogRecord
	for line := range bytes.Lines(b.Bytes()) {
		var r LogRecord
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber() // numbers as they were written
		if err := d.Decode(&r); err != nil {
			return nil, fmt.Errorf("log line %q: %w", line, err)
		}
		out = append(out, r)
	}
	return out, nil
}
