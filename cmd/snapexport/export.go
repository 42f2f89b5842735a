package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/term"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

const exportUsage = `usage: snapexport export <action> --group ID --cluster NAME --export ID [flags]

actions:
  cancel  ask a running or queued export job to stop (it ends Cancelled); a
          job that has already ended is left as it is, and cancel says so
          and exits 0
  watch   show a job's progress until it ends, then its totals and duration;
          exits 0 when it ends Successful, 1 when Failed or Cancelled, 3 when
          --timeout passes first
  verify  read a finished export back from its bucket and check it,
          document for document, against the snapshot

Each takes --data DIR, --database URL, --snapshot-store URL and --config FILE
(the serve configuration, for how buckets are reached) like serve. Run
"snapexport export <action> -h" for an action's flags.
`

// exportCmd is the common part of the export actions.
type exportCmd struct {
	fs                       *flag.FlagSet
	data, db, store, config  *string
	group, cluster, exportID *string
	json                     *bool
	// check, when set, checks an action's own flags once parsed.
	check func() error
}

func newExportCmd(name string, stderr io.Writer) *exportCmd {
	c := &exportCmd{fs: newFlags("export "+name, stderr)}
	c.data = c.fs.String("data", defaultDataDir, "data directory")
	c.db = databaseFlag(c.fs)
	c.store = c.fs.String("snapshot-store", "", "blob URL of the snapshot store (default $SNAPEXPORT_SNAPSHOT_STORE, else DIR/snapshots)")
	c.config = c.fs.String("config", "", "serve's configuration `file` (YAML): its data, database, snapshot store and bucket settings; flags override it")
	c.group = c.fs.String("group", "", "project `id` (required)")
	c.cluster = c.fs.String("cluster", "", "cluster `name` (required)")
	c.exportID = c.fs.String("export", "", "export job `id` (required)")
	c.json = c.fs.Bool("json", false, "print the job as JSON")
	return c
}

// run parses the flags, opens the installation and runs act on it.
func (c *exportCmd) run(ctx context.Context, args []string, act func(*server.Server) error) error {
	srv, err := c.open(ctx, args)
	if err != nil {
		return err
	}
	defer srv.Close()
	return act(srv)
}

// open parses the flags and opens the installation.
func (c *exportCmd) open(ctx context.Context, args []string) (*server.Server, error) {
	if err := parse(c.fs, args); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, value string }{{"group", *c.group}, {"cluster", *c.cluster}, {"export", *c.exportID}} {
		if f.value == "" {
			return nil, usageError{"--" + f.name + " is required"}
		}
	}
	if c.check != nil {
		if err := c.check(); err != nil {
			return nil, err
		}
	}
	file, given, err := loadConfig(c.fs, *c.config)
	if err != nil {
		return nil, err
	}
	stores, err := file.ObjectStoreConfig()
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if file.Data != "" && !given["data"] {
		*c.data = file.Data
	}
	return openInstallation(ctx, server.Config{DataDir: *c.data, SnapshotStore: snapshotStoreURL(*c.store, file.SnapshotStore),
		ObjectStores: stores}, database(*c.db, file.Database))
}

// timeLeft is how long the remaining bytes take at rate bytes per second,
// to the second; "?" without a rate.
func timeLeft(remaining int64, rate float64) string {
	if rate <= 0 || remaining <= 0 {
		return "?"
	}
	return time.Duration(float64(remaining) / rate * float64(time.Second)).Round(time.Second).String()
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, exportUsage)
		return nil
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, exportUsage)
		return usageError{"export needs an action"}
	}
	actions := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"cancel": runExportCancel, "watch": runExportWatch, "verify": runExportVerify,
	}
	act, found := actions[args[0]]
	if !found {
		fmt.Fprint(stderr, exportUsage)
		return usageError{fmt.Sprintf("unknown export action %q", args[0])}
	}
	return named("export "+args[0], act(ctx, args[1:], stdout, stderr))
}

// jobJSON is a job as the export commands print it.
type jobJSON struct {
	ID              string                        `json:"id"`
	State           string                        `json:"state"`
	StateReason     *snapexport.ExportStateReason `json:"stateReason,omitempty"`
	Prefix          string                        `json:"prefix"`
	Progress        snapexport.ExportProgress     `json:"progress"`
	CancelRequested bool                          `json:"cancelRequested"`
	CreatedAt       string                        `json:"createdAt"`
	FinishedAt      string                        `json:"finishedAt,omitempty"`
}

func newJobJSON(j *snapexport.ExportJob) jobJSON {
	out := jobJSON{ID: j.ID, State: string(j.State), StateReason: j.StateReason, Prefix: j.Prefix, Progress: j.Progress,
		CancelRequested: j.CancelRequested, CreatedAt: ts(j.CreatedAt)}
	if j.FinishedAt != nil {
		out.FinishedAt = ts(*j.FinishedAt)
	}
	return out
}

func printJobJSON(w io.Writer, j *snapexport.ExportJob) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(newJobJSON(j))
}

// jobTotals is what a job has exported, by its own count, and, once it
// has ended, how long it took from its creation.
func jobTotals(j *snapexport.ExportJob) string {
	p := j.Progress
	s := fmt.Sprintf("export %s: %s, %d of %d collections, %d documents, %s", j.ID, j.State,
		p.ExportedCollections, p.TotalCollections, p.Documents, mib(p.Bytes))
	if j.FinishedAt != nil {
		s += ", " + roundDuration(j.FinishedAt.Sub(j.CreatedAt)).String() + " from creation to end"
	}
	if j.StateReason != nil {
		s += fmt.Sprintf("\n  %s: %s", j.StateReason.ErrorCode, j.StateReason.Message)
	}
	return s
}

// roundDuration rounds d to what a reader cares about: seconds, or
// milliseconds below a second.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

func runExportCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newExportCmd("cancel", stderr)
	return c.run(ctx, args, func(srv *server.Server) error {
		j, err := srv.Service.CancelExportJob(ctx, *c.group, *c.cluster, *c.exportID)
		if err != nil {
			return apiFailure(err)
		}
		// The job is as it was when the cancellation was recorded.
		note := fmt.Sprintf("export %s cancelled: it was %s, and ends Cancelled once a server running exports stops it", j.ID, j.State)
		if !j.State.Active() {
			note = fmt.Sprintf("export %s already ended %s; nothing to cancel", j.ID, j.State)
		}
		if *c.json {
			fmt.Fprintln(stderr, note)
			return printJobJSON(stdout, j)
		}
		fmt.Fprintln(stdout, note)
		return nil
	})
}

// Defaults of export watch.
const (
	defaultWatchInterval = 500 * time.Millisecond
	defaultStallAfter    = 2 * time.Minute
)

// watchOptions are export watch's flags beside exportCmd's.
type watchOptions struct {
	// interval is how often the job is read.
	interval time.Duration
	// stallAfter is how long the job may go without progress before the
	// watch says so; 0: never.
	stallAfter time.Duration
	// timeout is how long the watch waits for the job to end; 0: as long
	// as it takes.
	timeout time.Duration
}

func runExportWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newExportCmd("watch", stderr)
	var opts watchOptions
	c.fs.DurationVar(&opts.interval, "interval", defaultWatchInterval, "how often the job is read")
	c.fs.DurationVar(&opts.stallAfter, "stall-after", defaultStallAfter, "say so when the job has not progressed for this long; 0 turns the notice off")
	c.fs.DurationVar(&opts.timeout, "timeout", 0, "give up, with exit status 3, when the job has not ended after this long; 0 waits until it ends")
	c.check = func() error {
		if opts.interval <= 0 || opts.stallAfter < 0 || opts.timeout < 0 {
			return usageError{fmt.Sprintf("--interval %s must be positive, --stall-after %s and --timeout %s not negative",
				opts.interval, opts.stallAfter, opts.timeout)}
		}
		return nil
	}
	return c.run(ctx, args, func(srv *server.Server) error { return watchExport(ctx, srv, c, opts, stdout, stderr) })
}

// watchTimedOut is export watch giving up on a job that has not ended
// within --timeout (exit status 3).
type watchTimedOut struct {
	after time.Duration
	job   *snapexport.ExportJob
}

func (e watchTimedOut) Error() string {
	p := e.job.Progress
	return fmt.Sprintf("gave up after --timeout %s: export %s is still %s, %d of %d collections, %d of %d documents exported",
		e.after, e.job.ID, e.job.State, p.ExportedCollections, p.TotalCollections, p.Documents, p.TotalDocuments)
}

// watchExport shows the job's progress until it ends.
func watchExport(ctx context.Context, srv *server.Server, c *exportCmd, opts watchOptions, stdout, stderr io.Writer) error {
	status := newStatusLine(stderr)
	defer status.end()
	var giveUp <-chan time.Time
	if opts.timeout > 0 {
		t := time.NewTimer(opts.timeout)
		defer t.Stop()
		giveUp = t.C
	}
	var speed rateMeter
	stall := stallClock{after: opts.stallAfter}
	for {
		j, err := srv.Service.ExportJob(ctx, *c.group, *c.cluster, *c.exportID)
		if err != nil {
			return apiFailure(err)
		}
		if !j.State.Active() {
			// The job's own totals and times: a rate sampled here would
			// only measure how late the watch began.
			status.end()
			summary := jobTotals(j)
			if *c.json {
				fmt.Fprintln(stderr, summary)
				if err := printJobJSON(stdout, j); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(stdout, summary)
			}
			if j.State != snapexport.ExportSuccessful {
				return fmt.Errorf("export %s ended %s", j.ID, j.State)
			}
			return nil
		}
		now := time.Now()
		rate := speed.sample(now, j.State, j.Progress.Bytes)
		status.show(progressKey{j.State, j.Progress}, progressLine(j, rate))
		if quiet, tell := stall.observe(now, progressKey{j.State, j.Progress}); tell {
			status.note(fmt.Sprintf("export %s: no progress for %s (still %s): is a server running exports?", j.ID, roundDuration(quiet), j.State))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-giveUp:
			return watchTimedOut{opts.timeout, j}
		case <-time.After(opts.interval):
		}
	}
}

// progressLine is a running job's progress, with the rate the watch has
// seen and the time left at that rate when there is one.
func progressLine(j *snapexport.ExportJob, rate float64) string {
	p := j.Progress
	line := fmt.Sprintf("export %s: %s, %d/%d collections, %d/%d documents, %s of %s", j.ID, j.State,
		p.ExportedCollections, p.TotalCollections, p.Documents, p.TotalDocuments, mib(p.Bytes), mib(p.TotalBytes))
	if p.TotalBytes > 0 {
		line += fmt.Sprintf(" (%d%%)", p.Bytes*100/p.TotalBytes)
	}
	if rate > 0 {
		line += ", " + mib(rate) + "/s"
	}
	return line + ", ETA " + timeLeft(p.TotalBytes-p.Bytes, rate)
}

// progressKey is what changes when a server progresses a job.
type progressKey struct {
	state    snapexport.ExportState
	progress snapexport.ExportProgress
}

// rateMeter is the rate at which a running job's bytes grow, as the watch
// samples them: from the first sample at which the job ran.
type rateMeter struct {
	since      time.Time
	base, last int64
	on         bool
}

// sample records the job's bytes at now and returns the rate in bytes
// per second; 0 until the bytes have grown.
func (m *rateMeter) sample(now time.Time, state snapexport.ExportState, bytes int64) float64 {
	if state != snapexport.ExportInProgress {
		m.on = false
		return 0
	}
	if !m.on || bytes < m.last {
		// The job starts, or starts again from a checkpoint after its
		// server stopped: measure from here.
		m.since, m.base, m.last, m.on = now, bytes, bytes, true
		return 0
	}
	m.last = bytes
	elapsed := now.Sub(m.since).Seconds()
	if elapsed <= 0 || bytes <= m.base {
		return 0
	}
	return float64(bytes-m.base) / elapsed
}

// stallClock notices a job whose progress has not changed for after.
type stallClock struct {
	after   time.Duration
	last    progressKey
	since   time.Time
	started bool
	told    bool
}

// observe records the job's progress at now; it returns how long the
// progress has not changed, and tells once per stall when that reaches
// after.
func (s *stallClock) observe(now time.Time, key progressKey) (quiet time.Duration, tell bool) {
	if !s.started || key != s.last {
		s.last, s.since, s.started, s.told = key, now, true, false
		return 0, false
	}
	quiet = now.Sub(s.since)
	if s.after > 0 && quiet >= s.after && !s.told {
		s.told = true
		return quiet, true
	}
	return quiet, false
}

// statusLine shows a watch's progress on w: one line redrawn in place on a
// terminal, a line per change otherwise.
type statusLine struct {
	w      io.Writer
	redraw bool
	drawn  bool
	// last is the key of the line shown last: any comparable value that
	// changes when the line says something new.
	last  any
	shown bool
}

func newStatusLine(w io.Writer) *statusLine {
	f, ok := w.(*os.File)
	return &statusLine{w: w, redraw: ok && term.IsTerminal(int(f.Fd()))}
}

const eraseLine = "\r\x1b[K"

func (s *statusLine) show(key any, line string) {
	if s.redraw {
		fmt.Fprint(s.w, eraseLine+line)
		s.drawn = true
		return
	}
	if !s.shown || key != s.last {
		fmt.Fprintln(s.w, line)
		s.last, s.shown = key, true
	}
}

// note prints a line of its own.
func (s *statusLine) note(line string) {
	if s.drawn {
		fmt.Fprint(s.w, eraseLine)
		s.drawn = false
	}
	fmt.Fprintln(s.w, line)
}

// end leaves the terminal's line drawn, on a line of its own.
func (s *statusLine) end() {
	if s.drawn {
		fmt.Fprintln(s.w)
		s.drawn = false
	}
}

// verifyJSON is what verify found.
type verifyJSON struct {
	ID          string `json:"id"`
	Collections int    `json:"collections"`
	Documents   int64  `json:"documents"`
	Objects     int    `json:"objects"`
}

func runExportVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newExportCmd("verify", stderr)
	c.fs.Lookup("json").Usage = "print the result as JSON"
	return c.run(ctx, args, func(srv *server.Server) error { return verifyExport(ctx, srv, c, stdout) })
}

// verifyExport reads the finished export back from its bucket and checks
// it against the snapshot.
func verifyExport(ctx context.Context, srv *server.Server, c *exportCmd, stdout io.Writer) error {
	j, err := srv.Service.ExportJob(ctx, *c.group, *c.cluster, *c.exportID)
	if err != nil {
		return apiFailure(err)
	}
	if j.State != snapexport.ExportSuccessful {
		return fmt.Errorf("export %s is %s, not Successful", j.ID, j.State)
	}
	target, err := srv.Service.ExportTarget(ctx, j.ProjectID, j.ExportBucketID)
	if err != nil {
		return apiFailure(err)
	}
	bucket, err := srv.Buckets.Open(ctx, target)
	if err != nil {
		return apiFailure(err)
	}
	defer bucket.Close()
	sources := []struct{ rs, snapshotID string }{{j.ReplicaSetName, j.SourceSnapshotID}}
	if len(j.Components) > 0 {
		sources = nil
		for _, comp := range j.Components {
			cj, err := srv.Service.ExportJobByID(ctx, j.ProjectID, comp.ExportID)
			if err != nil {
				return apiFailure(err)
			}
			sources = append(sources, struct{ rs, snapshotID string }{cj.ReplicaSetName, cj.SourceSnapshotID})
		}
	}
	out := verifyJSON{ID: j.ID}
	// Shards holding a collection all write its metadata.json (the last
	// one stays): it must be one of theirs, and counts once.
	metadata := map[string][][]byte{}
	for _, s := range sources {
		loc := snapshotstore.Location{ProjectID: j.ProjectID, SnapshotID: s.snapshotID}
		m, err := srv.Snapshots.Manifest(ctx, loc)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", s.snapshotID, err)
		}
		for _, i := range export.Collections(m) {
			n, objects, err := verifyCollection(ctx, srv, bucket, j.Prefix, s.rs, loc, m, i)
			if err != nil {
				return err
			}
			want, err := export.MetadataJSON(&m.Namespaces[i])
			if err != nil {
				return err
			}
			key := export.MetadataKey(j.Prefix, m.Namespaces[i].DB, m.Namespaces[i].Name)
			metadata[key] = append(metadata[key], want)
			out.Collections++
			out.Documents += n
			out.Objects += objects
		}
	}
	for key, candidates := range metadata {
		got, err := bucket.ReadAll(ctx, key)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if !slices.ContainsFunc(candidates, func(want []byte) bool { return bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) }) {
			return fmt.Errorf("%s differs from the snapshot's metadata", key)
		}
		out.Objects++
	}
	if err := checkComplete(ctx, bucket, j.Prefix, out.Objects); err != nil {
		return err
	}
	if *c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "export %s verified: %d collections, %d documents, %d objects\n", out.ID, out.Collections, out.Documents, out.Objects)
	return nil
}

// verifyCollection reads a collection's data objects back and compares
// each line with the snapshot's document; it returns the documents and
// the data objects it read.
func verifyCollection(ctx context.Context, srv *server.Server, bucket objectReader, prefix, rs string,
	loc snapshotstore.Location, m *snapshotstore.Manifest, i int) (int64, int, error) {
	col := m.Namespaces[i]
	docs, err := srv.Snapshots.OpenCollection(ctx, loc, m, i)
	if err != nil {
		return 0, 0, err
	}
	defer docs.Close()
	var n int64
	objects := 0
	for part := 0; ; part++ {
		key := export.DataKey(prefix, col.DB, col.Name, rs, part)
		data, err := bucket.ReadAll(ctx, key)
		if err != nil {
			if part > 0 || col.Count == 0 {
				break // no further part
			}
			return n, objects, fmt.Errorf("%s: %w", key, err)
		}
		objects++
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return n, objects, fmt.Errorf("%s: %w", key, err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			want, err := docs.Next()
			if err == io.EOF {
				return n, objects, fmt.Errorf("%s: more documents than %s.%s has in the snapshot", key, col.DB, col.Name)
			}
			if err != nil {
				return n, objects, err
			}
			canonical, err := bson.MarshalExtJSON(want, true, false)
			if err != nil {
				return n, objects, err
			}
			if !bytes.Equal(sc.Bytes(), canonical) {
				return n, objects, fmt.Errorf("%s: line %d differs from document %d of %s.%s", key, n+1, n, col.DB, col.Name)
			}
			n++
		}
		if err := sc.Err(); err != nil {
			return n, objects, fmt.Errorf("%s: %w", key, err)
		}
	}
	if _, err := docs.Next(); err != io.EOF {
		return n, objects, fmt.Errorf("%s.%s: the export has %d documents, the snapshot more", col.DB, col.Name, n)
	}
	return n, objects, nil
}

type objectReader interface {
	ReadAll(ctx context.Context, key string) ([]byte, error)
}

// checkComplete checks .complete's totalFiles against what was verified.
func checkComplete(ctx context.Context, bucket objectReader, prefix string, objects int) error {
	data, err := bucket.ReadAll(ctx, export.CompleteKey(prefix))
	if err != nil {
		return fmt.Errorf("%s: %w", export.CompleteKey(prefix), err)
	}
	var c struct {
		TotalFiles int `json:"totalFiles"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("%s: %w", export.CompleteKey(prefix), err)
	}
	if c.TotalFiles != objects {
		return fmt.Errorf("%s says %d files; %d were verified", export.CompleteKey(prefix), c.TotalFiles, objects)
	}
	return nil
}
