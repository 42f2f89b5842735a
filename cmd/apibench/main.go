// Command apibench measures the API's throughput and latency under load,
// beside a bare net/http server doing one SQLite point read (and one
// durable insert for creates) in the same run, and prints each
// operation's rate and latency quantiles and the ratios of the goals in
// docs/performance.md:
//
//	go run ./cmd/apibench [-clients 1,8,50] [-duration 5s] [-list-items 100000] [-postgres env|URL] [-start 5] [-rounds 1] [-json]
//
// SQLite runs on disk (in -dir), durable as `snapexport serve` runs it;
// with -postgres, the cases run again on PostgreSQL in a fresh schema.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/snapexport/snapexport/internal/apibench"
	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/testserver"
)

// envPostgres is what -postgres env reads: the test suite's server.
const envPostgres = pgtest.EnvURL

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apibench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apibench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory for the data directories, on the disk to measure (default the system's temporary directory)")
	postgres := fs.String("postgres", "", "also run on PostgreSQL: a postgres:// URL, or env for $"+envPostgres)
	clients := fs.String("clients", "1,8,50", "comma-separated numbers of concurrent clients of each case (the list cases use those up to 8)")
	duration := fs.Duration("duration", 5*time.Second, "how long each case runs")
	listItems := fs.Int("list-items", 100000, "buckets of the project the list cases page through")
	start := fs.Int("start", 5, "how many times to start snapexport serve on an empty data directory and time it to its first healthy answer (0: none)")
	bin := fs.String("snapexport", "", "snapexport binary for -start (default: built from this module)")
	groups := fs.String("cases", "", "comma-separated groups of cases to run, of "+strings.Join(apibench.GroupNames, ", ")+" (default all)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run (client, server and baseline together) to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile of the run (what client, server and baseline allocated, in the pprof heap format) to this file at its end")
	rounds := fs.Int("rounds", 1, "run every case this many times, each round on fresh data directories, and report each figure's median across the rounds too")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("q", false, "no progress lines on standard error")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *rounds < 1 {
		return fmt.Errorf("-rounds %d: must be at least 1", *rounds)
	}
	cfg := apibench.Config{Dir: *dir, Duration: *duration, ListItems: *listItems, StartRuns: *start, Snapexport: *bin}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients %q: %q is not a number of clients", *clients, s)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	if *groups != "" {
		for _, g := range strings.Split(*groups, ",") {
			cfg.Groups = append(cfg.Groups, strings.TrimSpace(g))
		}
	}
	switch *postgres {
	case "env":
		if cfg.Postgres = os.Getenv(envPostgres); cfg.Postgres == "" {
			return fmt.Errorf("-postgres env: $%s is empty", envPostgres)
		}
	default:
		cfg.Postgres = *postgres
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	cfg.Stuck = stderr
	// The sqlite cases run on SQLite even where the test suite's variable
	// sends test servers to PostgreSQL; -postgres names PostgreSQL.
	os.Unsetenv(testserver.EnvDatabase)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile %s: %w", *cpuProfile, err)
		}
		defer pprof.StopCPUProfile()
	}
	var rep interface{ Print(io.Writer) }
	var err error
	if *rounds > 1 {
		var r *apibench.Rounds
		if r, err = apibench.RunRounds(ctx, cfg, *rounds); r != nil {
			rep = r
		}
	} else {
		var r *apibench.Report
		if r, err = apibench.Run(ctx, cfg); r != nil {
			rep = r
		}
	}
	if *memProfile != "" {
		if perr := writeHeapProfile(*memProfile); perr != nil {
			return perr
		}
	}
	if rep != nil {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(rep); jerr != nil {
				return jerr
			}
		} else {
			rep.Print(stdout)
		}
	}
	return err
}

// writeHeapProfile writes the allocations sampled since the start (and
// the heap in use) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("-memprofile %s: %w", path, err)
	}
	return f.Close()
}
