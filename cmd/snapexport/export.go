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

	"github.com/schollz/progressbar/v3"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/term"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

const exportUsage = `usage: snapexport export <action> --group ID --cluster NAME --export ID [flags]

actions:
  cancel  ask a running or queued export job to stop (it ends Cancelled)
  watch   show a job's progress until it ends
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
}

func newJobJSON(j *snapexport.ExportJob) jobJSON {
	return jobJSON{ID: j.ID, State: string(j.State), StateReason: j.StateReason, Prefix: j.Prefix, Progress: j.Progress,
		CancelRequested: j.CancelRequested}
}

func printJob(w io.Writer, asJSON bool, j *snapexport.ExportJob) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(newJobJSON(j))
	}
	fmt.Fprintf(w, "export %s: %s, %d of %d collections, %d documents\n", j.ID, j.State,
		j.Progress.ExportedCollections, j.Progress.TotalCollections, j.Progress.Documents)
	if j.StateReason != nil {
		fmt.Fprintf(w, "  %s: %s\n", j.StateReason.ErrorCode, j.StateReason.Message)
	}
	return nil
}

func runExportCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newExportCmd("cancel", stderr)
	return c.run(ctx, args, func(srv *server.Server) error {
		j, err := srv.Service.CancelExportJob(ctx, *c.group, *c.cluster, *c.exportID)
		if err != nil {
			return apiFailure(err)
		}
		return printJob(stdout, *c.json, j)
	})
}

func runExportWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newExportCmd("watch", stderr)
	interval := c.fs.Duration("interval", 500*time.Millisecond, "how often the job is read")
	return c.run(ctx, args, func(srv *server.Server) error { return watchExport(ctx, srv, c, *interval, stdout, stderr) })
}

// watchExport shows the job's progress until it ends.
func watchExport(ctx context.Context, srv *server.Server, c *exportCmd, interval time.Duration, stdout, stderr io.Writer) error {
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30))
	}
	start, startBytes := time.Now(), int64(-1)
	last := ""
	for {
		j, err := srv.Service.ExportJob(ctx, *c.group, *c.cluster, *c.exportID)
		if err != nil {
			return apiFailure(err)
		}
		p := j.Progress
		if startBytes < 0 {
			startBytes = p.Bytes
		}
		elapsed := time.Since(start).Seconds()
		rate := float64(p.Bytes-startBytes) / max(elapsed, 1e-9)
		eta := timeLeft(p.TotalBytes-p.Bytes, rate)
		line := fmt.Sprintf("%s: %d/%d collections, %d/%d documents, %.1f/%.1f MiB, %.1f MiB/s, ETA %s", j.State,
			p.ExportedCollections, p.TotalCollections, p.Documents, p.TotalDocuments,
			float64(p.Bytes)/(1<<20), float64(p.TotalBytes)/(1<<20), rate/(1<<20), eta)
		if bar != nil {
			if p.TotalBytes > 0 {
				bar.ChangeMax64(p.TotalBytes)
			}
			bar.Describe(fmt.Sprintf("%s %d/%d collections", j.State, p.ExportedCollections, p.TotalCollections))
			_ = bar.Set64(p.Bytes)
		} else if line != last {
			fmt.Fprintln(stderr, "export "+j.ID+": "+line)
			last = line
		}
		if !j.State.Active() {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(stderr)
			}
			if err := printJob(stdout, *c.json, j); err != nil {
				return err
			}
			if j.State != snapexport.ExportSuccessful {
				return fmt.Errorf("export %s ended %s", j.ID, j.State)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
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
