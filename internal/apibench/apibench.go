// Package apibench measures the API's throughput and latency under load:
// it starts snapexport in-process on SQLite (on disk, durable as `serve`
// runs it) and optionally PostgreSQL, and beside it a bare net/http
// server doing the least the same answers need (one SQLite point read;
// one durable INSERT and a bucket's folder), drives both with keep-alive
// clients, and reports each operation's rate and latency quantiles and
// the ratios of the API to the bare server measured in the same run.
// cmd/apibench is its command line; docs/performance.md keeps figures.
package apibench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Config says what to run.
type Config struct {
	// Dir is where the data directories are made (the system's temporary
	// directory when empty); they are removed at the end.
	Dir string
	// Postgres is the URL of a PostgreSQL database to run the cases on
	// too, in a fresh schema dropped at the end; none when empty.
	Postgres string
	// Clients are the numbers of concurrent clients of each case; the
	// list cases use those up to 8.
	Clients []int
	// Duration is how long each case runs.
	Duration time.Duration
	// ListItems is the number of buckets of the list cases' project.
	ListItems int
	// StartRuns is how many times `snapexport serve` is started on an
	// empty data directory and timed to its first healthy answer; none
	// when 0.
	StartRuns int
	// Snapexport is the binary those starts run; built from the module
	// when empty.
	Snapexport string
	// Groups are the groups of cases to run, of GroupNames; all when
	// empty. A group runs its baseline with it.
	Groups []string
	// Progress receives a line as each case starts; nothing when nil.
	Progress io.Writer
	// Stuck receives every goroutine's stack when a case's requests are
	// still unanswered a minute after its end (they then fail); nothing
	// when nil.
	Stuck io.Writer
}

// GroupNames are the groups of cases, in the order they run: the GETs,
// the creates, the mixed load and the list pages.
var GroupNames = []string{"gets", "creates", "mixed", "lists"}

func (cfg *Config) runs(group string) bool {
	return len(cfg.Groups) == 0 || slices.Contains(cfg.Groups, group)
}

// Report is what a run measured.
type Report struct {
	Date        string `json:"date"`
	GoVersion   string `json:"goVersion"`
	CPUs        int    `json:"cpus"`
	LoadAverage string `json:"loadAverage,omitempty"`
	// LoadAverageEnd is the load average when the run ended.
	LoadAverageEnd string           `json:"loadAverageEnd,omitempty"`
	DurationSec    float64          `json:"caseSeconds"`
	ListItems      int              `json:"listItems"`
	Backends       []*BackendReport `json:"backends"`
	Start          *StartReport     `json:"start,omitempty"`
}

// BackendReport is the cases of one store and their ratios.
type BackendReport struct {
	Backend string        `json:"backend"`
	Cases   []*CaseResult `json:"cases"`
	Ratios  []Ratio       `json:"ratios"`
}

// CaseResult is one case at one number of clients.
type CaseResult struct {
	Case    string     `json:"case"`
	Clients int        `json:"clients"`
	Seconds float64    `json:"seconds"`
	Ops     []OpResult `json:"ops"`
	// CPU is what this process spent while the case ran: the clients',
	// the server's and (idle) the baseline's share, not a PostgreSQL
	// server's. Nil where the process's CPU time cannot be read.
	CPU *CaseCPU `json:"cpu,omitempty"`
}

// CaseCPU is a case's CPU time per request, split where the time went:
// in user space, or in the kernel (the network, file systems, fsyncs),
// and the cores it kept busy on average.
type CaseCPU struct {
	UserUsPerRequest float64 `json:"userUsPerRequest"`
	SysUsPerRequest  float64 `json:"sysUsPerRequest"`
	Cores            float64 `json:"cores"`
}

// OpResult is one operation of a case: the mixed load has several, and
// "all" for them together.
type OpResult struct {
	Op         string  `json:"op"`
	Count      uint64  `json:"count"`
	PerSec     float64 `json:"perSec"`
	P50Ms      float64 `json:"p50Ms"`
	P90Ms      float64 `json:"p90Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
}

// opAll names the mixed load's operations together.
const opAll = "all"

// runner runs the cases of one backend.
type runner struct {
	cfg    Config
	target *target
	base   *baseline
	names  names
	seed   atomic.Uint64
	report *BackendReport
}

// Run runs every case on SQLite, then on PostgreSQL when configured, and
// the start-up measurement. The report holds what was measured even when
// the error says that some requests failed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rep := &Report{Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		LoadAverage: loadAverage(), DurationSec: cfg.Duration.Seconds(), ListItems: cfg.ListItems}
	root, err := os.MkdirTemp(cfg.Dir, "apibench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	backends := []struct{ name, database string }{{"sqlite", ""}}
	if cfg.Postgres != "" {
		backends = append(backends, struct{ name, database string }{"postgres", cfg.Postgres})
	}
	var failures []error
	for _, b := range backends {
		br, err := runBackend(ctx, cfg, b.name, b.database, filepath.Join(root, b.name))
		if br != nil {
			rep.Backends = append(rep.Backends, br)
			failures = append(failures, br.failures()...)
		}
		if err != nil {
			return rep, err
		}
	}
	if cfg.StartRuns > 0 {
		cfg.progress("serve: %d starts on an empty data directory", cfg.StartRuns)
		if rep.Start, err = measureStart(ctx, cfg, filepath.Join(root, "start")); err != nil {
			return rep, err
		}
	}
	for _, br := range rep.Backends {
		br.Ratios = ratios(br, rep.Start)
	}
	rep.LoadAverageEnd = loadAverage()
	return rep, errors.Join(failures...)
}

func (cfg *Config) check() error {
	if len(cfg.Clients) == 0 || slices.ContainsFunc(cfg.Clients, func(n int) bool { return n < 1 }) {
		return fmt.Errorf("clients %v: each must be at least 1", cfg.Clients)
	}
	if cfg.Duration <= 0 {
		return fmt.Errorf("duration %v: must be positive", cfg.Duration)
	}
	if cfg.ListItems < 1 {
		return fmt.Errorf("list items %d: must be at least 1", cfg.ListItems)
	}
	if cfg.StartRuns < 0 {
		return fmt.Errorf("start runs %d: must not be negative", cfg.StartRuns)
	}
	for _, g := range cfg.Groups {
		if !slices.Contains(GroupNames, g) {
			return fmt.Errorf("group %q: not one of %s", g, strings.Join(GroupNames, ", "))
		}
	}
	return nil
}

func (cfg *Config) progress(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, format+"\n", args...)
	}
}

// listClients are the numbers of clients of the list cases: those up to 8.
func (cfg *Config) listClients() []int {
	var out []int
	for _, n := range cfg.Clients {
		if n <= 8 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []int{1}
	}
	return out
}

func runBackend(ctx context.Context, cfg Config, backend, database, dir string) (*BackendReport, error) {
	cfg.progress("%s: starting the server and the bare baseline in %s", backend, dir)
	t, err := startTarget(ctx, backend, filepath.Join(dir, "data"), database)
	if err != nil {
		return nil, err
	}
	defer t.close()
	base, err := startBaseline(ctx, filepath.Join(dir, "baseline"), t.getIDs, t.getBody, t.contentType)
	if err != nil {
		return nil, err
	}
	defer base.close()
	r := &runner{cfg: cfg, target: t, base: base, report: &BackendReport{Backend: backend}}
	// Each API case runs right after its baseline, so that both meet the
	// same load of the machine.
	for _, n := range cfg.Clients {
		if !cfg.runs("gets") {
			break
		}
		r.run(ctx, caseBareRead, n, base.URL, authNone, r.bareRead())
		r.run(ctx, caseGetBearer, n, t.srv.URL, authBearer, r.get())
		r.run(ctx, caseGetDigest, n, t.srv.URL, authDigest, r.get())
	}
	for _, n := range cfg.Clients {
		if !cfg.runs("creates") {
			break
		}
		r.run(ctx, caseBareCreate, n, base.URL, authNone, r.bareCreate())
		r.run(ctx, caseCreate, n, t.srv.URL, authBearer, r.create())
	}
	for _, n := range cfg.Clients {
		if !cfg.runs("mixed") {
			break
		}
		r.run(ctx, caseMixed, n, t.srv.URL, authBearer, r.mixed())
	}
	if !cfg.runs("lists") {
		return r.report, ctx.Err()
	}
	cfg.progress("%s: filling a project with %d buckets", backend, cfg.ListItems)
	t0 := time.Now()
	groupID, err := t.fillList(ctx, cfg.ListItems)
	if err != nil {
		return r.report, err
	}
	cfg.progress("%s: filled in %v", backend, time.Since(t0).Round(time.Millisecond))
	last := (cfg.ListItems + listPageSize - 1) / listPageSize
	pages := []struct {
		name         string
		page         int
		includeCount bool
	}{
		{"list page 1", 1, false},
		{"list page 1, includeCount", 1, true},
		{fmt.Sprintf("list page %d (middle)", (last+1)/2), (last + 1) / 2, false},
		{fmt.Sprintf("list page %d (last)", last), last, false},
	}
	listClients := cfg.listClients()
	if err := t.makePassTokens(ctx, groupID, slices.Max(listClients)); err != nil {
		return r.report, err
	}
	for _, n := range listClients {
		r.run(ctx, casePass, n, t.srv.URL, authOwnBearer, r.listPass(groupID, last))
		for _, p := range pages {
			r.run(ctx, p.name, n, t.srv.URL, authBearer, r.listPage(groupID, p.page, p.includeCount))
		}
	}
	return r.report, ctx.Err()
}

// run drives one case and adds it to the report.
func (r *runner) run(ctx context.Context, name string, n int, base string, a auth, s step) {
	if ctx.Err() != nil {
		return
	}
	r.cfg.progress("%s: %s, %s", r.report.Backend, name, clientsLabel(n))
	clients := r.clientsFor(base, n, a)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	user0, sys0, cpuOK := processCPU()
	tallies, elapsed := drive(ctx, clients, r.cfg.Duration, s, r.cfg.Stuck)
	user1, sys1, cpuOK1 := processCPU()
	res := &CaseResult{Case: name, Clients: n, Seconds: elapsed.Seconds()}
	ops := make([]string, 0, len(tallies))
	for op := range tallies {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(a, b string) int { return strings.Compare(opOrder(a), opOrder(b)) })
	all := &opTally{hist: newHistogram()}
	for _, op := range ops {
		t := tallies[op]
		res.Ops = append(res.Ops, opResult(op, t, elapsed))
		all.hist.merge(t.hist)
		all.errors += t.errors
	}
	if len(ops) > 1 {
		res.Ops = append(res.Ops, opResult(opAll, all, elapsed))
	}
	if requests := all.hist.n + uint64(all.errors); cpuOK && cpuOK1 && requests > 0 {
		res.CPU = &CaseCPU{
			UserUsPerRequest: float64((user1 - user0).Microseconds()) / float64(requests),
			SysUsPerRequest:  float64((sys1 - sys0).Microseconds()) / float64(requests),
			Cores:            (user1 - user0 + sys1 - sys0).Seconds() / elapsed.Seconds(),
		}
	}
	r.report.Cases = append(r.report.Cases, res)
}

// opOrder sorts the mixed load's operations as the issue names them.
func opOrder(op string) string {
	if i := slices.Index([]string{opCreate, opDelete, opGet, opList}, op); i >= 0 {
		return fmt.Sprint(i)
	}
	return op
}

func opResult(op string, t *opTally, elapsed time.Duration) OpResult {
	return OpResult{Op: op, Count: t.hist.n, PerSec: float64(t.hist.n) / elapsed.Seconds(),
		P50Ms: ms(t.hist.quantile(0.50)), P90Ms: ms(t.hist.quantile(0.90)), P99Ms: ms(t.hist.quantile(0.99)), MaxMs: ms(t.hist.max),
		Errors: t.errors, FirstError: t.firstError}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// failures are the backend's failed operations, one error each.
func (br *BackendReport) failures() []error {
	var errs []error
	for _, c := range br.Cases {
		for _, op := range c.Ops {
			if op.Errors > 0 && op.Op != opAll {
				errs = append(errs, fmt.Errorf("%s: %s, %d clients: %d %s requests failed, the first: %s",
					br.Backend, c.Case, c.Clients, op.Errors, op.Op, op.FirstError))
			}
		}
	}
	return errs
}

// loadAverage is the machine's load average as /proc/loadavg tells it,
// "" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
