package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/apibench"
	"github.com/snapexport/snapexport/internal/pgtest"
)

// tinyArgs run every case briefly: 200 ms each, 1 and 2 clients, a list
// of 2,000 buckets (four pages of 500).
var tinyArgs = []string{"-clients", "1,2", "-duration", "200ms", "-list-items", "2000", "-q"}

// wantCases are the cases of a backend at each of 1 and 2 clients, and
// the operations each reports.
var wantCases = map[string][]string{
	"bare read":                      {"bare read"},
	"GET bearer":                     {"get"},
	"GET digest":                     {"get"},
	"bare create":                    {"bare create"},
	"create":                         {"create"},
	"mixed":                          {"create", "delete", "get", "list", "all"},
	"list pass, every page in order": {"list"},
	"list page 1":                    {"list"},
	"list page 1, includeCount":      {"list"},
	"list page 2 (middle)":           {"list"},
	"list page 4 (last)":             {"list"},
}

func TestRunSQLite(t *testing.T) {
	t.Setenv("SNAPEXPORTTEST_DATABASE", "")
	rep := runTiny(t, "-start", "1", "-dir", t.TempDir())
	if len(rep.Backends) != 1 || rep.Backends[0].Backend != "sqlite" {
		t.Fatalf("backends %v, want sqlite alone", backendNames(rep))
	}
	checkBackend(t, rep.Backends[0])
	if rep.Start == nil || rep.Start.Runs != 1 || len(rep.Start.AllMs) != 1 || rep.Start.MedianMs <= 0 || rep.Start.CredentialsMedianMs <= 0 {
		t.Errorf("start: %+v, want one timed start, to its answer and to its credentials", rep.Start)
	}
}

func TestRunPostgres(t *testing.T) {
	pgtest.URL(t)
	rep := runTiny(t, "-start", "0", "-postgres", "env", "-dir", t.TempDir())
	if got := backendNames(rep); !slices.Equal(got, []string{"sqlite", "postgres"}) {
		t.Fatalf("backends %v, want sqlite and postgres", got)
	}
	for _, br := range rep.Backends {
		checkBackend(t, br)
	}
	if rep.Start != nil {
		t.Errorf("start measured with -start 0: %+v", rep.Start)
	}
}

// runTiny runs the command with tinyArgs and more as JSON, and checks
// that the text report prints the same run's every case.
func runTiny(t *testing.T, more ...string) *apibench.Report {
	t.Helper()
	var out, stderr bytes.Buffer
	if err := run(context.Background(), append(append(slices.Clone(tinyArgs), more...), "-json"), &out, &stderr); err != nil {
		t.Fatalf("apibench: %v\n%s", err, stderr.String())
	}
	var rep apibench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out.String())
	}
	var text bytes.Buffer
	rep.Print(&text)
	if !strings.Contains(text.String(), "| case | clients | CPU µs per request, user | kernel | cores busy |") {
		t.Errorf("the printed report has no table of CPU per request:\n%s", text.String())
	}
	for _, br := range rep.Backends {
		for name := range wantCases {
			for _, n := range []int{1, 2} {
				if row := fmt.Sprintf("| %s | %d | ", name, n); !strings.Contains(text.String(), row) {
					t.Errorf("%s: the printed report has no row starting %q:\n%s", br.Backend, row, text.String())
				}
			}
		}
	}
	return &rep
}

// checkBackend asserts that every case ran at 1 and 2 clients, each
// operation answered some requests and none failed, and the goals' figures
// were computed.
func checkBackend(t *testing.T, br *apibench.BackendReport) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range br.Cases {
		seen[fmt.Sprintf("%s/%d", c.Case, c.Clients)] = true
		want, ok := wantCases[c.Case]
		if !ok {
			t.Errorf("%s: unexpected case %q", br.Backend, c.Case)
			continue
		}
		// The clients and the server share this process: every case
		// spends some of its CPU time, in user space at least.
		if c.CPU == nil || c.CPU.UserUsPerRequest <= 0 || c.CPU.SysUsPerRequest < 0 || c.CPU.Cores <= 0 {
			t.Errorf("%s: %s, %d clients: CPU per request %+v, want some", br.Backend, c.Case, c.Clients, c.CPU)
		}
		var ops []string
		for _, op := range c.Ops {
			ops = append(ops, op.Op)
			if op.Errors > 0 {
				t.Errorf("%s: %s, %d clients: %d %s requests failed: %s", br.Backend, c.Case, c.Clients, op.Errors, op.Op, op.FirstError)
			}
			if op.Count == 0 || op.PerSec <= 0 || op.P50Ms <= 0 || op.P50Ms > op.P99Ms || op.P99Ms > op.MaxMs {
				t.Errorf("%s: %s, %d clients, %s: implausible figures %+v", br.Backend, c.Case, c.Clients, op.Op, op)
			}
		}
		// The mixed load's operations are drawn at random: a short run
		// may miss one, but not the total.
		if c.Case == "mixed" {
			if !slices.Contains(ops, "all") || len(ops) < 3 {
				t.Errorf("%s: mixed, %d clients: operations %v, want most of %v", br.Backend, c.Clients, ops, want)
			}
		} else if !slices.Equal(ops, want) {
			t.Errorf("%s: %s, %d clients: operations %v, want %v", br.Backend, c.Case, c.Clients, ops, want)
		}
	}
	for name := range wantCases {
		for _, n := range []int{1, 2} {
			if !seen[fmt.Sprintf("%s/%d", name, n)] {
				t.Errorf("%s: case %s did not run with %d clients", br.Backend, name, n)
			}
		}
	}
	for _, prefix := range []string{"GET bearer ÷ bare read", "GET digest ÷ bare read", "creates/s", "creates ÷ bare create", "mixed req/s", "mixed p99", "list p99, every page of a pass", "list p99, slowest jump"} {
		if !slices.ContainsFunc(br.Ratios, func(r apibench.Ratio) bool { return strings.HasPrefix(r.Name, prefix) && r.Value > 0 }) {
			t.Errorf("%s: no figure %q in %+v", br.Backend, prefix, br.Ratios)
		}
	}
}

func backendNames(rep *apibench.Report) []string {
	var out []string
	for _, br := range rep.Backends {
		out = append(out, br.Backend)
	}
	return out
}

// TestCases runs the groups of cases -cases names, and those alone, and
// refuses a group it does not know, naming it.
func TestCases(t *testing.T) {
	t.Setenv("SNAPEXPORTTEST_DATABASE", "")
	var out, stderr bytes.Buffer
	profile := filepath.Join(t.TempDir(), "allocs.pprof")
	args := append(slices.Clone(tinyArgs), "-start", "0", "-dir", t.TempDir(), "-cases", "gets", "-json", "-memprofile", profile)
	if err := run(context.Background(), args, &out, &stderr); err != nil {
		t.Fatalf("apibench -cases gets: %v\n%s", err, stderr.String())
	}
	// pprof's profiles are gzipped protocol buffers.
	if data, err := os.ReadFile(profile); err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Errorf("-memprofile wrote %d bytes (%v), want a gzipped profile", len(data), err)
	}
	var rep apibench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range rep.Backends[0].Cases {
		got[c.Case] = true
	}
	if want := map[string]bool{"bare read": true, "GET bearer": true, "GET digest": true}; !maps.Equal(got, want) {
		t.Errorf("-cases gets ran %v, want %v", got, want)
	}
	err := run(context.Background(), append(slices.Clone(tinyArgs), "-start", "0", "-cases", "gets,nope"), &out, &stderr)
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("-cases gets,nope: %v, want an error naming nope", err)
	}
}

// TestRounds runs the GETs twice and wants every figure of both rounds
// in the summary, its median within the rounds' values, and the summary
// printed after both rounds' tables.
func TestRounds(t *testing.T) {
	t.Setenv("SNAPEXPORTTEST_DATABASE", "")
	args := append(slices.Clone(tinyArgs), "-start", "0", "-dir", t.TempDir(), "-cases", "gets", "-rounds", "2")
	var out, stderr bytes.Buffer
	if err := run(context.Background(), append(slices.Clone(args), "-json"), &out, &stderr); err != nil {
		t.Fatalf("apibench -rounds 2: %v\n%s", err, stderr.String())
	}
	var r apibench.Rounds
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out.String())
	}
	if len(r.Rounds) != 2 {
		t.Fatalf("%d rounds reported, want 2", len(r.Rounds))
	}
	want := map[string]bool{}
	for _, n := range []string{"1 client", "2 clients"} {
		want["GET bearer ÷ bare read, "+n] = true
		want["GET digest ÷ bare read, "+n] = true
	}
	got := map[string]bool{}
	for _, f := range r.Figures {
		got[f.Name] = true
		if len(f.Values) != 2 || f.Median < min(f.Values[0], f.Values[1]) || f.Median > max(f.Values[0], f.Values[1]) {
			t.Errorf("%s: values %v, median %g: want two values and the median between them", f.Name, f.Values, f.Median)
		}
		if f.Met == nil || f.RoundsMet == nil || *f.RoundsMet > 2 {
			t.Errorf("%s: met %v in %v rounds, want both told for a figure with a goal", f.Name, f.Met, f.RoundsMet)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("figures %v, want %v", got, want)
	}
	var text bytes.Buffer
	r.Print(&text)
	second, summary := strings.Index(text.String(), "## Round 2 of 2"), strings.Index(text.String(), "## Every round")
	if second < 0 || summary < second || !strings.Contains(text.String()[summary:], "| sqlite | GET bearer ÷ bare read, 2 clients | ") {
		t.Errorf("the printed rounds want round 2, then the summary with every figure:\n%s", text.String())
	}
	if err := run(context.Background(), append(slices.Clone(tinyArgs), "-rounds", "0"), &out, &stderr); err == nil || !strings.Contains(err.Error(), "-rounds 0") {
		t.Errorf("-rounds 0: %v, want an error naming it", err)
	}
}
