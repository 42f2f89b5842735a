package apibench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// StartReport is how long `snapexport serve` took, from the start of the
// process to the first healthy answer of /healthz, on an empty data
// directory (which serve initializes).
type StartReport struct {
	Runs     int       `json:"runs"`
	MedianMs float64   `json:"medianMs"`
	MinMs    float64   `json:"minMs"`
	MaxMs    float64   `json:"maxMs"`
	AllMs    []float64 `json:"allMs"`
	How      string    `json:"how"`
}

// measureStart runs the binary's serve StartRuns times, each on a new
// empty data directory under dir, SQLite in it, and times it to the first
// healthy answer.
func measureStart(ctx context.Context, cfg Config, dir string) (*StartReport, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	bin := cfg.Snapexport
	if bin == "" {
		var err error
		if bin, err = buildSnapexport(ctx, dir); err != nil {
			return nil, err
		}
	}
	rep := &StartReport{Runs: cfg.StartRuns, How: "a process of the built binary, polled every 1 ms"}
	for i := range cfg.StartRuns {
		d, err := timeServe(ctx, bin, filepath.Join(dir, fmt.Sprintf("data-%d", i)))
		if err != nil {
			return nil, err
		}
		rep.AllMs = append(rep.AllMs, ms(d))
	}
	sorted := slices.Sorted(slices.Values(rep.AllMs))
	rep.MinMs, rep.MaxMs = sorted[0], sorted[len(sorted)-1]
	rep.MedianMs = sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		rep.MedianMs = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	return rep, nil
}

// buildSnapexport builds cmd/snapexport of the module this is run in.
func buildSnapexport(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", fmt.Errorf("find the module to build snapexport from (run inside it, or give the binary): %v", err)
	}
	bin := filepath.Join(dir, "snapexport")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/snapexport")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/snapexport: %v\n%s", err, out)
	}
	return bin, nil
}

// timeServe starts `serve` on data and returns the time to its first
// healthy answer, then stops it.
func timeServe(ctx context.Context, bin, data string) (time.Duration, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", addr)
	// SQLite in the data directory, whatever the environment names.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "SNAPEXPORT_DATABASE=") })
	var stderr strings.Builder
	cmd.Stderr = &stderr
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stopProcess(cmd, exited)
	deadline := t0.Add(30 * time.Second)
	for {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return 0, fmt.Errorf("snapexport serve exited before answering: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, errors.New("snapexport serve did not answer /healthz within 30 s")
		}
	}
}

// stopProcess interrupts serve and waits for it, killing it when it does
// not stop within 10 s (or cannot be interrupted, on Windows).
func stopProcess(cmd *exec.Cmd, exited chan error) {
	if cmd.Process.Signal(os.Interrupt) == nil {
		select {
		case <-exited:
			return
		case <-time.After(10 * time.Second):
		}
	}
	cmd.Process.Kill()
	<-exited
}

// freeLoopbackAddr is a loopback address with a port free a moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
