package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/testserver"
)

func open(t *testing.T) *server.Server {
	t.Helper()
	return openLogging(t, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// openLogging opens a server that logs to logger.
func openLogging(t *testing.T, logger *slog.Logger) *server.Server {
	t.Helper()
	// A clean start is on an owner-only data directory, which t.TempDir
	// need not make.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return openAt(t, dir, logger)
}

// openAt opens a server on the data directory dir that logs to logger.
func openAt(t *testing.T, dir string, logger *slog.Logger) *server.Server {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Config{DataDir: dir, Limits: api.Limits{Disabled: true},
		Hash:    auth.HashParams{Time: 1, Memory: 64, Threads: 1},
		Logger:  logger,
		Backend: func(ctx context.Context) (*backend.Backend, error) { return sqlite.OpenBackend(ctx, dir) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// serveOnce starts srv, waits until it answers, and stops it.
func serveOnce(t *testing.T, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	base, done := serve(t, ctx, srv)
	waitHealthy(t, base)
	cancel()
	within(t, done, "context ended")
}

// serve runs Serve on a loopback port and returns its base URL and the
// channel Serve's result arrives on.
func serve(t *testing.T, ctx context.Context, srv *server.Server) (string, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), done
}

func within(t *testing.T, done chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: Serve returned %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: Serve did not return", what)
	}
}

// TestShutdownRightAfterServe shuts servers down at every moment of their
// start, the way a test that starts and closes a server at once does:
// Serve always returns, and Shutdown waits for it.
func TestShutdownRightAfterServe(t *testing.T) {
	for i := range 20 {
		srv := open(t)
		_, done := serve(t, context.Background(), srv)
		if i%2 == 1 {
			time.Sleep(time.Duration(i) * time.Millisecond)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		shut := make(chan struct{})
		go func() { srv.Shutdown(ctx); close(shut) }()
		within(t, done, "shutdown")
		select {
		case <-shut:
		case <-time.After(10 * time.Second):
			t.Fatal("Shutdown did not return after Serve did")
		}
	}
}

// TestLogOfServeCycle: at INFO, a server that starts, serves and stops
// says so, and nothing of River's, its job queue.
func TestLogOfServeCycle(t *testing.T) {
	var logs testserver.LogBuffer
	serveOnce(t, openLogging(t, slog.New(slog.NewTextHandler(&logs, nil))))

	text := logs.String()
	if strings.Contains(strings.ToLower(text), "river") {
		t.Errorf("River's lines at INFO:\n%s", text)
	}
	if strings.Contains(text, "level=WARN") || strings.Contains(text, "level=ERROR") {
		t.Errorf("warnings or errors in a clean start and stop:\n%s", text)
	}
	at := 0
	for _, msg := range []string{"msg=serving", `msg="shutting down"`, "msg=stopped"} {
		i := strings.Index(text[at:], msg)
		if i < 0 {
			t.Fatalf("no %s after the lines before it:\n%s", msg, text)
		}
		at += i
	}
}

// waitHealthy waits for a server starting on base to answer.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err = http.Get(base + "/healthz"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

// TestServeUntilContextEnds serves requests until the context ends, then
// stops accepting them and returns nil.
func TestServeUntilContextEnds(t *testing.T) {
	srv := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	base, done := serve(t, ctx, srv)
	waitHealthy(t, base)
	cancel()
	within(t, done, "context ended")
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after Serve returned")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), ln); err == nil {
		t.Error("a second Serve served")
	}
}
