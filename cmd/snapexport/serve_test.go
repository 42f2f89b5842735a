package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestServeConfig checks how serve turns its flags, the environment and
// the --config file into the server's configuration: defaults, a flag over
// the environment over the file, and what it refuses.
func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "snapexport.yaml")
	if err := os.WriteFile(file, []byte(`
listen: 127.0.0.1:9090
metricsListen: 127.0.0.1:9091
data: `+filepath.Join(dir, "from-file")+`
publicUrl: https://file.example.com
snapshotStore: file:///from-file
snapshotSweepInterval: 2m
schedulePollInterval: 15s
shutdownTimeout: 10s
uploadTimeout: 90m
clusterChangeDelay: 20s
exports:
  jobs: 3
  parallelCollections: 2
  chunkBytes: 4096
  lease: 45s
rateLimits:
  cloudBackups: "10:5/1m"
  cloudProviderAccess: "30:3/1m"
  clusters: "50:5/1m"
  projects: "60:6/1m"
  failedAuthentications: "8:2/1m"
  disabled: true
trustedProxies: [10.0.0.0/8, "fd00::/8", 192.0.2.7]
objectStores:
  timeout: 20s
  aws:
    mode: s3-compatible
    endpoint: http://s3.file.example.com
    accessKeyId: AKIAFILE
    secretAccessKey: file-secret
`), 0o600); err != nil {
		t.Fatal(err)
	}
	type want struct {
		listen, metricsListen, data        string
		publicURL, snapshotStore           string
		backups, cpa, clusters, projects   ratelimit.Policy
		failedAuthentications              ratelimit.Policy
		trustedProxies                     string // comma-separated
		noLimits                           bool
		sweep, drain, lease, storeTimeout  time.Duration
		upload, clusterDelay, schedulePoll time.Duration
		jobs, parallel                     int
		chunk                              int64
		awsMode                            objectstore.Mode
		awsEndpoint                        string
		backend                            string // the backend Open opens, or the start of its error
	}
	defaults := want{listen: "127.0.0.1:8080", data: defaultDataDir, backups: ratelimit.CloudBackups(), cpa: ratelimit.CloudProviderAccess(),
		clusters: ratelimit.Clusters(), projects: ratelimit.Projects(), failedAuthentications: ratelimit.FailedAuthentications(),
		sweep: server.DefaultSweepInterval, drain: server.DefaultShutdownTimeout, lease: 30 * time.Second,
		jobs: 5, parallel: 1, chunk: export.DefaultChunkBytes, backend: "sqlite", upload: api.DefaultUploadTimeout,
		schedulePoll: server.DefaultSchedulePollInterval}
	with := func(change func(*want)) want {
		w := defaults
		change(&w)
		return w
	}
	fromFile := with(func(w *want) {
		w.listen, w.data, w.publicURL, w.snapshotStore = "127.0.0.1:9090", filepath.Join(dir, "from-file"), "https://file.example.com", "file:///from-file"
		w.metricsListen = "127.0.0.1:9091"
		w.backups = ratelimit.Policy{Name: "Cloud Backups", Capacity: 10, Refill: 5, Period: time.Minute}
		w.awsMode, w.awsEndpoint = objectstore.ModeS3Compatible, "http://s3.file.example.com"
		w.cpa = ratelimit.Policy{Name: "Cloud Provider Access", Capacity: 30, Refill: 3, Period: time.Minute}
		w.clusters = ratelimit.Policy{Name: "Clusters", Capacity: 50, Refill: 5, Period: time.Minute}
		w.projects = ratelimit.Policy{Name: "Projects", Capacity: 60, Refill: 6, Period: time.Minute}
		w.failedAuthentications = ratelimit.Policy{Name: "Failed Authentications", Capacity: 8, Refill: 2, Period: time.Minute}
		w.trustedProxies = "10.0.0.0/8,fd00::/8,192.0.2.7/32"
		w.noLimits, w.sweep, w.drain, w.storeTimeout = true, 2*time.Minute, 10*time.Second, 20*time.Second
		w.jobs, w.parallel, w.chunk, w.lease = 3, 2, 4096, 45*time.Second
		w.upload, w.clusterDelay, w.schedulePoll = 90*time.Minute, 20*time.Second, 15*time.Second
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want want
	}{
		{name: "defaults", want: defaults},
		{name: "flags", args: []string{"--data", filepath.Join(dir, "d"), "--listen", "127.0.0.1:0", "--public-url", "https://x.example.com",
			"--no-rate-limit", "--snapshot-sweep-interval", "5s", "--shutdown-timeout", "3s", "--export-jobs", "2",
			"--export-parallel-collections", "4", "--export-chunk-bytes", "1024", "--export-lease", "2s",
			"--snapshot-store", "file:///flag", "--aws-mode", "cloud", "--upload-timeout", "2h", "--cluster-change-delay", "1m", "--schedule-poll-interval", "5s"},
			want: with(func(w *want) {
				w.data, w.listen, w.publicURL, w.noLimits, w.sweep, w.drain = filepath.Join(dir, "d"), "127.0.0.1:0", "https://x.example.com", true, 5*time.Second, 3*time.Second
				w.jobs, w.parallel, w.chunk, w.lease, w.snapshotStore, w.awsMode = 2, 4, 1024, 2*time.Second, "file:///flag", objectstore.ModeCloud
				w.upload, w.clusterDelay, w.schedulePoll = 2*time.Hour, time.Minute, 5*time.Second
			})},
		{name: "file", args: []string{"--config", file}, want: fromFile},
		{name: "environment over file", args: []string{"--config", file}, env: map[string]string{"SNAPEXPORT_SNAPSHOT_STORE": "file:///env"},
			want: with(func(w *want) { *w = fromFile; w.snapshotStore = "file:///env" })},
		{name: "flags over environment and file", env: map[string]string{"SNAPEXPORT_SNAPSHOT_STORE": "file:///env"},
			args: []string{"--config", file, "--listen", "127.0.0.1:7070", "--metrics-listen", "127.0.0.1:7071", "--snapshot-store", "file:///flag",
				"--rate-limit-cloud-backups", "20:1/1s", "--aws-mode", "local",
				"--rate-limit-cloud-provider-access", "40:4/1s", "--rate-limit-clusters", "70:7/1s", "--no-rate-limit=false", "--object-store-timeout", "2s",
				"--snapshot-sweep-interval", "7s", "--shutdown-timeout", "4s", "--export-jobs", "6", "--schedule-poll-interval", "1m",
				"--export-parallel-collections", "5", "--export-chunk-bytes", "8192", "--export-lease", "5s", "--upload-timeout", "3h",
				"--rate-limit-failed-authentications", "3:1/1h", "--trusted-proxies", "172.16.0.0/12, 2001:db8::1", "--cluster-change-delay", "0s"},
			want: with(func(w *want) {
				*w = fromFile
				w.failedAuthentications = ratelimit.Policy{Name: "Failed Authentications", Capacity: 3, Refill: 1, Period: time.Hour}
				w.trustedProxies = "172.16.0.0/12,2001:db8::1/128"
				w.listen, w.metricsListen, w.snapshotStore, w.backups = "127.0.0.1:7070", "127.0.0.1:7071", "file:///flag", ratelimit.Policy{Name: "Cloud Backups", Capacity: 20, Refill: 1, Period: time.Second}
				w.awsMode, w.awsEndpoint = objectstore.ModeLocal, ""
				w.cpa = ratelimit.Policy{Name: "Cloud Provider Access", Capacity: 40, Refill: 4, Period: time.Second}
				w.clusters = ratelimit.Policy{Name: "Clusters", Capacity: 70, Refill: 7, Period: time.Second}
				w.noLimits, w.storeTimeout, w.sweep, w.drain = false, 2*time.Second, 7*time.Second, 4*time.Second
				w.jobs, w.parallel, w.chunk, w.lease = 6, 5, 8192, 5*time.Second
				w.upload, w.clusterDelay, w.schedulePoll = 3*time.Hour, 0, time.Minute
			})},
		{name: "no trusted proxies over file", args: []string{"--config", file, "--trusted-proxies="},
			want: with(func(w *want) { *w = fromFile; w.trustedProxies = "" })},
		{name: "postgres from the environment", env: map[string]string{"SNAPEXPORT_DATABASE": "postgres://u@127.0.0.1:1/db?connect_timeout=1"},
			want: with(func(w *want) { w.backend = "postgres" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SNAPEXPORT_DATABASE", "")
			t.Setenv("SNAPEXPORT_SNAPSHOT_STORE", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if !strings.HasPrefix(tc.want.data, dir) {
				// The default data directory is relative: open it in a
				// folder of the test's.
				t.Chdir(t.TempDir())
			}
			cfg, listen, err := serveConfig(tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			var proxies []string
			for _, p := range cfg.TrustedProxies {
				proxies = append(proxies, p.String())
			}
			got := want{failedAuthentications: cfg.Limits.FailedAuthentications, trustedProxies: strings.Join(proxies, ","), listen: listen.api, metricsListen: listen.metrics, data: cfg.DataDir, publicURL: cfg.PublicURL, snapshotStore: cfg.SnapshotStore,
				backups: cfg.Limits.CloudBackups, cpa: cfg.Limits.CloudProviderAccess, clusters: cfg.Limits.Clusters, projects: cfg.Limits.Projects, storeTimeout: cfg.ObjectStores.Timeout, noLimits: cfg.Limits.Disabled, sweep: cfg.SweepInterval, drain: cfg.ShutdownTimeout,
				lease: cfg.Exports.Lease, jobs: cfg.Exports.MaxJobs, parallel: cfg.Exports.ParallelCollections,
				chunk: cfg.Exports.ChunkBytes, awsMode: cfg.ObjectStores.AWS.Mode, awsEndpoint: cfg.ObjectStores.AWS.Endpoint,
				backend: openedBackend(t, cfg), upload: cfg.UploadTimeout, clusterDelay: cfg.ClusterChangeDelay, schedulePoll: cfg.SchedulePollInterval}
			if got != w {
				t.Errorf("serve %s:\n got %+v\nwant %+v", strings.Join(tc.args, " "), got, w)
			}
			if cfg.Logger == nil || cfg.ObjectStores.Logger == nil {
				t.Error("serve's configuration has no logger")
			}
		})
	}
}

// openedBackend is the name of the backend cfg opens, or "postgres" for a
// PostgreSQL server that cannot be reached.
func openedBackend(t *testing.T, cfg server.Config) string {
	t.Helper()
	if cfg.Backend == nil {
		return "none"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := cfg.Backend(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "postgres") {
			return "postgres"
		}
		t.Fatalf("opening the backend: %v", err)
	}
	defer b.Close()
	return b.Name
}

// TestServeConfigRefuses checks that serve names what is wrong with its
// command line and starts nothing.
func TestServeConfigRefuses(t *testing.T) {
	shortLease := writeConfig(t, "exports:\n  lease: 10ms\n")
	misspelt := writeConfig(t, "listen: 127.0.0.1:0\nexports:\n  jobs: 2\n  lese: 1m\n")
	noUploadTime := writeConfig(t, "uploadTimeout: 0s\n")
	negativeDelay := writeConfig(t, "clusterChangeDelay: -5s\n")
	badProxies := writeConfig(t, "trustedProxies: [10.0.0.0/33]\n")
	xmlLog := writeConfig(t, "logFormat: xml\n")
	for _, tc := range []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"--export-jobs", "0"}, "--export-jobs", true},
		{[]string{"--log-format", "JSON"}, `--log-format "JSON": want text or json`, true},
		{[]string{"--config", xmlLog}, `logFormat "xml": want text or json`, true},
		{[]string{"--export-lease", "10ms"}, "--export-lease at least 1s", true},
		{[]string{"--snapshot-sweep-interval", "0s"}, "--snapshot-sweep-interval 0s must be positive", true},
		{[]string{"--schedule-poll-interval", "0s"}, "--schedule-poll-interval 0s must be positive", true},
		{[]string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout -1s must not be negative", true},
		{[]string{"--upload-timeout", "0s"}, "--upload-timeout 0s must be positive", true},
		{[]string{"--cluster-change-delay", "-1s"}, "--cluster-change-delay -1s must not be negative", true},
		{[]string{"--config", negativeDelay}, negativeDelay + `: clusterChangeDelay: "-5s" is not a duration such as 30s or 5m`, false},
		{[]string{"--config", noUploadTime}, noUploadTime + `: uploadTimeout: "0s" is not a positive duration`, false},
		{[]string{"--rate-limit-cloud-backups", "lots"}, "rate-limit-cloud-backups", true},
		{[]string{"--rate-limit-clusters", "10000:5000"}, `--rate-limit-clusters: "10000:5000" is not CAPACITY:REFILL/PERIOD`, true},
		{[]string{"--rate-limit-projects", "0:500/1m"}, `--rate-limit-projects: "0:500/1m" is not CAPACITY:REFILL/PERIOD`, true},
		{[]string{"--rate-limit-failed-authentications", "100:0/1m"}, `--rate-limit-failed-authentications: "100:0/1m" is not CAPACITY:REFILL/PERIOD`, true},
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.example.com"}, `--trusted-proxies: "proxy.example.com" is not a network`, true},
		{[]string{"--config", badProxies}, badProxies + `: trustedProxies: "10.0.0.0/33" is not a network`, false},
		{[]string{"--aws-mode", "nearby"}, "nearby", true},
		{[]string{"--database", "mysql://db/x"}, `database "mysql://db/x": want a postgres:// URL`, false},
		{[]string{"stray"}, `unexpected argument "stray"`, true},
		{[]string{"--config", "/nonexistent/snapexport.yaml"}, "/nonexistent/snapexport.yaml", false},
		{[]string{"--config", shortLease}, shortLease + `: exports.lease: "10ms" is shorter than the least lease, 1s`, false},
		{[]string{"--config", misspelt}, misspelt + `: line 4: field lese not found: unknown key "lese" in section exports`, false},
	} {
		_, _, err := serveConfig(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %s: error %v, want one naming %q", strings.Join(tc.args, " "), err, tc.want)
			continue
		}
		var u usageError
		if errors.As(err, &u) != tc.usage {
			t.Errorf("serve %s: usage error %t, want %t (%v)", strings.Join(tc.args, " "), !tc.usage, tc.usage, err)
		}
	}
}

// TestServeReportsOpenDataDir: serve starts on a data directory others may
// read, says so in its output, naming the directory and its mode, and
// leaves the mode as it is.
func TestServeReportsOpenDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared-data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	p := serveInProcess(t, "--data", dir, "--listen", "127.0.0.1:0")
	var warning string
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "data directory") {
			warning = line
		}
	}
	if !strings.Contains(warning, "dir="+dir) || !strings.Contains(warning, "mode=0755") {
		t.Errorf("serve's output has no warning naming %s and mode 0755:\n%s", dir, p.stderr)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("serve changed the data directory: %v %v", info.Mode(), err)
	}
}

var servingMetricsAddr = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

// TestServeMetrics: serve --metrics-listen serves Prometheus metrics at
// /metrics on that address: the API's requests by operation, and the Go
// runtime's and the process's.
func TestServeMetrics(t *testing.T) {
	p := startServe(t, filepath.Join(t.TempDir(), "data"), "--metrics-listen", "127.0.0.1:0")
	m := servingMetricsAddr.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("serve did not say where it serves metrics:\n%s", p.stderr)
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	// startServe polled /healthz until it answered.
	for _, want := range []string{`snapexport_http_requests_total{operation="healthz",status="200",version="none"} `, "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%.2000s", want, body)
		}
	}
	if resp, err := http.Get("http://" + m[1] + "/other"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other on the metrics address: %v %v, want 404", resp, err)
	}
}

// TestServeLogsJSON: with --log-format json every line serve logs is a
// JSON object; a request's line carries its request_id, the one the
// answer's X-Request-Id gives.
func TestServeLogsJSON(t *testing.T) {
	cmd := exec.Command(binary(t), "serve", "--data", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0", "--log-format", "json")
	var stderr testserver.LogBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		records, err := stderr.Records()
		if err != nil {
			t.Fatalf("serve --log-format json logged a line that is not JSON: %v\n%s", err, stderr.String())
		}
		for _, r := range records {
			if r.Msg() == "serving" {
				addr = r.Str("addr")
			}
		}
	}
	if addr == "" {
		t.Fatalf("serve did not log where it serves:\n%s", stderr.String())
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Request-Id", "probe-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "probe-1" {
		t.Errorf("X-Request-Id answered %q, want probe-1", got)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		records, err := stderr.Records()
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(records, func(r testserver.LogRecord) bool { return r.Msg() == "request" && r.Str("request_id") == "probe-1" }); i >= 0 {
			if records[i].Str("path") != "/healthz" {
				t.Errorf("request line %v", records[i])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request line with request_id probe-1:\n%s", stderr.String())
		}
	}
}

// TestServeConsole: serve serves the web console beside the API: its
// address sends a browser to sign in, on a page with the console's
// Content-Security-Policy, and its style sheet and script come from the
// binary.
func TestServeConsole(t *testing.T) {
	p := startServe(t, filepath.Join(t.TempDir(), "data"))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(p.base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/console/" {
		t.Fatalf("GET /console: %d to %q", resp.StatusCode, loc)
	}
	for path, want := range map[string]string{
		"/console/signin":             `<form method="post" action="/console/signin"`,
		"/console/static/console.css": "progress {",
		"/console/static/console.js":  "EventSource",
	} {
		resp, err := client.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) ||
			!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("GET %s: %d %v\n%.300s", path, resp.StatusCode, resp.Header, body)
		}
	}
}
