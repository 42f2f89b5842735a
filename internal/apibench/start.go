package apibench

import (
	"bytes"
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
	// CredentialsMedianMs is the median time, from the start of the
	// process, to the credentials of the new installation printed (they
	// are printed once stored, which may be after the first healthy
	// answer).
	CredentialsMedianMs float64   `json:"credentialsMedianMs"`
	CredentialsAllMs    []float64 `json:"credentialsAllMs"`
	How                 string    `json:"how"`
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
		healthy, printed, err := timeServe(ctx, bin, filepath.Join(dir, fmt.Sprintf("data-%d", i)))
		if err != nil {
			return nil, err
		}
		rep.AllMs = append(rep.AllMs, ms(healthy))
		rep.CredentialsAllMs = append(rep.CredentialsAllMs, ms(printed))
	}
	sorted := slices.Sorted(slices.Values(rep.AllMs))
	rep.MinMs, rep.MaxMs = sorted[0], sorted[len(sorted)-1]
	rep.MedianMs = median(sorted)
	rep.CredentialsMedianMs = median(slices.Sorted(slices.Values(rep.CredentialsAllMs)))
	return rep, nil
}

// median is the median of sorted values.
func median(sorted []float64) float64 {
	if len(sorted)%2 == 0 {
		return (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	return sorted[len(sorted)/2]
}

// buildTags are the tags of the build the README gives users.
const buildTags = "disable_grpc_modules"

// buildSnapexport builds cmd/snapexport of the module this is run in, as
// the README builds it.
func buildSnapexport(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", fmt.Errorf("find the module to build snapexport from (run inside it, or give the binary): %v", err)
	}
	bin := filepath.Join(dir, "snapexport")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", buildTags, "-o", bin, "./cmd/snapexport")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -tags %s ./cmd/snapexport: %v\n%s", buildTags, err, out)
	}
	return bin, nil
}

// timeServe starts `serve` on data and returns the time to its first
// healthy answer and to the credentials it prints, then stops it.
func timeServe(ctx context.Context, bin, data string) (healthy, printed time.Duration, err error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", addr)
	// SQLite in the data directory, whatever the environment names.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "SNAPEXPORT_DATABASE=") })
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// The service account's line is the last of the credentials.
	printedAt := &lineWatch{line: []byte("client secret"), seen: make(chan time.Time, 1)}
	cmd.Stdout = printedAt
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stopProcess(cmd, exited)
	deadline := time.After(30 * time.Second)
	for healthy == 0 || printed == 0 {
		if healthy == 0 {
			resp, err := hc.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					healthy = time.Since(t0)
				}
			}
		}
		select {
		case at := <-printedAt.seen:
			printed = at.Sub(t0)
		case err := <-exited:
			exited <- err
			return 0, 0, fmt.Errorf("snapexport serve exited before answering and printing its credentials: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-deadline:
			return 0, 0, errors.New("snapexport serve did not answer /healthz and print its credentials within 30 s")
		case <-time.After(time.Millisecond):
		}
	}
	return healthy, printed, nil
}

// lineWatch is a process's output, told the time when line first appears
// in it; the rest is discarded.
type lineWatch struct {
	line []byte
	seen chan time.Time
	// tail is the end of the output so far, long enough to find line
	// split across two writes.
	tail []byte
	done bool
}

// Write is called by one goroutine, the one that copies the output.
func (w *lineWatch) Write(b []byte) (int, error) {
	if w.done {
		return len(b), nil
	}
	w.tail = append(w.tail, b...)
	if bytes.Contains(w.tail, w.line) {
		w.done, w.tail = true, nil
		w.seen <- time.Now()
	} else if keep := len(w.line) - 1; len(w.tail) > keep {
		w.tail = w.tail[len(w.tail)-keep:]
	}
	return len(b), nil
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
