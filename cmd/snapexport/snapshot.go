package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/bytecount"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

const snapshotUsage = `usage: snapexport snapshot <action> [flags]

actions:
  list   --group ID --cluster NAME
         list the cluster's snapshots, with the progress of those being taken
         and why failed ones failed
  show   --group ID --cluster NAME --id SNAPSHOT
         show one snapshot with its collections, or its shards' snapshots
  take   --group ID --cluster NAME [--description TEXT] [--retention-days N] [--wait]
         queue an on-demand snapshot, which a running snapexport serve takes
  import --group ID --cluster NAME (--archive FILE|- | --dir DIR) [--shard RS] [--taken-at RFC3339]
         import mongodump output as a completed snapshot of the cluster

Every action takes --data DIR, --database URL and --json. Run
"snapexport snapshot <action> -h" for an action's flags.
`

func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, snapshotUsage)
		return nil
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, snapshotUsage)
		return usageError{"snapshot needs an action"}
	}
	name := "snapshot " + args[0]
	if args[0] == "import" {
		return named(name, runSnapshotImport(ctx, args[1:], stdout, stderr))
	}
	build, found := snapshotCommands[args[0]]
	if !found {
		fmt.Fprint(stderr, snapshotUsage)
		return usageError{fmt.Sprintf("unknown snapshot action %q", args[0])}
	}
	return named(name, runAdminAction(ctx, name, build, args[1:], stdout, stderr))
}

func runSnapshotImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("snapshot import", stderr)
	dataDir := fs.String("data", defaultDataDir, "data directory")
	db := databaseFlag(fs)
	store := fs.String("snapshot-store", "", "blob URL of the snapshot store (default $SNAPEXPORT_SNAPSHOT_STORE, else DIR/snapshots)")
	group := fs.String("group", "", "project `id` (required)")
	cluster := fs.String("cluster", "", "cluster `name` (required)")
	archive := fs.String("archive", "", "mongodump archive `file`, gzipped or not; - for standard input (this or --dir)")
	dir := fs.String("dir", "", "`folder` mongodump --out wrote, holding a folder per database (this or --archive)")
	shard := fs.String("shard", "", "replica set the dump comes from (required for a sharded cluster; default: the replica set of a replica-set cluster)")
	takenAt := fs.String("taken-at", "", "snapshot `time`, RFC 3339 (default: now; required for a sharded cluster)")
	retention := fs.Int("retention-days", int(service.DefaultSnapshotRetention/(24*time.Hour)), "days the snapshot is kept after the import")
	frequency := fs.String("frequency", "ondemand", "frequencyType: ondemand, hourly, daily, weekly, monthly or yearly")
	description := fs.String("description", "", "snapshot description")
	asJSON := fs.Bool("json", false, "print the snapshot as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *group == "":
		return usageError{"--group is required"}
	case *cluster == "":
		return usageError{"--cluster is required"}
	case (*archive == "") == (*dir == ""):
		return usageError{"give one of --archive FILE (or -) and --dir DIR"}
	case *retention < 1:
		return usageError{fmt.Sprintf("--retention-days %d must be at least 1", *retention)}
	}
	in := service.ImportInput{ProjectID: *group, ClusterName: *cluster, Shard: *shard, Description: *description,
		FrequencyType: *frequency, Retention: time.Duration(*retention) * 24 * time.Hour}
	if *takenAt != "" {
		t, err := time.Parse(time.RFC3339Nano, *takenAt)
		if err != nil {
			return usageError{fmt.Sprintf("--taken-at %q is not an RFC 3339 time (2026-08-10T03:27:08Z)", *takenAt)}
		}
		in.TakenAt = t.UTC()
	}

	srv, err := openInstallation(ctx, server.Config{DataDir: *dataDir, SnapshotStore: snapshotStoreURL(*store, "")}, database(*db, ""))
	if err != nil {
		return err
	}
	defer srv.Close()

	src, size, err := openDump(*archive, *dir)
	if err != nil {
		return err
	}
	defer src.Close()
	bar := newImportProgress(stderr, size)
	res, err := srv.Service.ImportSnapshot(ctx, in, src.Source, bar.update(src))
	bar.finish(err == nil)
	if err != nil {
		return apiFailure(err)
	}
	out := api.NewImportView(res)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "snapshot %s of %s (%s): %d collections, %d documents, %d bytes\n",
		out.ID, out.ClusterName, out.ReplicaSetName, len(out.Collections), out.Documents, out.StorageSizeBytes)
	if out.ShardedSnapshotID != "" {
		fmt.Fprintf(stdout, "sharded-cluster snapshot %s complete\n", out.ShardedSnapshotID)
	}
	return nil
}

// openedDump is a dump being read, with the count of its input bytes read
// so far when it is an archive.
type openedDump struct {
	dump.Source
	read   *bytecount.Reader
	closer io.Closer
}

func (d *openedDump) Close() error {
	err := d.Source.Close()
	if d.closer != nil {
		err = errors.Join(err, d.closer.Close())
	}
	return err
}

// openDump opens the dump the flags name and its size in bytes (-1 when
// unknown: standard input, directories).
func openDump(archive, dir string) (*openedDump, int64, error) {
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, 0, err
		}
		if !fi.IsDir() {
			return nil, 0, fmt.Errorf("--dir %s is not a directory", dir)
		}
		src, err := dump.OpenDir(dir)
		if err != nil {
			return nil, 0, err
		}
		if len(src.Collections()) == 0 {
			src.Close()
			return nil, 0, &dump.FormatError{File: dir, Offset: -1, Reason: "no dump: " + whyNoCollection(dir)}
		}
		return &openedDump{Source: src}, -1, nil
	}
	var f *os.File
	size := int64(-1)
	if archive == "-" {
		f = os.Stdin
	} else {
		var err error
		if f, err = os.Open(archive); err != nil {
			return nil, 0, err
		}
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	counter := &bytecount.Reader{R: f}
	src, err := dump.OpenArchive(counter, archive)
	if err != nil {
		if f != os.Stdin {
			f.Close()
		}
		return nil, 0, err
	}
	d := &openedDump{Source: src, read: counter}
	if f != os.Stdin {
		d.closer = f
	}
	return d, size, nil
}

// whyNoCollection says what a dump folder without any collection holds
// instead: a database's own folder, given in place of the folder above
// it, holds the .bson and .metadata.json files itself.
func whyNoCollection(dir string) string {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".gz")
		if !e.IsDir() && name != "oplog.bson" && (strings.HasSuffix(name, ".bson") || strings.HasSuffix(name, ".metadata.json")) {
			return "the folder holds " + e.Name() + " itself, where mongodump --out puts a folder per database: give the folder above it"
		}
	}
	return "the folder holds no database folder with .bson or .metadata.json files"
}

// importProgress shows an import's progress on stderr: a bar on a
// terminal, a line every few seconds otherwise.
type importProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
	p     snapshotstore.Progress
	read  int64
}

func newImportProgress(w io.Writer, size int64) *importProgress {
	ip := &importProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ip.bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("importing"), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionUseIECUnits(true),
			progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetWidth(30))
	}
	return ip
}

func (ip *importProgress) update(d *openedDump) func(snapshotstore.Progress) {
	return func(p snapshotstore.Progress) {
		ip.p, ip.read = p, p.Bytes
		if d.read != nil {
			ip.read = d.read.N
		}
		if ip.bar != nil {
			ip.bar.Describe(fmt.Sprintf("importing: %d collections, %d documents", p.Collections, p.Documents))
			_ = ip.bar.Set64(ip.read)
			return
		}
		if now := time.Now(); now.Sub(ip.last) >= 2*time.Second {
			ip.last = now
			ip.line()
		}
	}
}

func (ip *importProgress) line() {
	fmt.Fprintf(ip.w, "import: %d collections, %d documents, %s of BSON, %s read, %s\n",
		ip.p.Collections, ip.p.Documents, mib(ip.p.Bytes), mib(ip.read), time.Since(ip.start).Round(time.Second))
}

func (ip *importProgress) finish(ok bool) {
	if ip.bar != nil {
		if ok {
			_ = ip.bar.Finish()
		}
		fmt.Fprintln(ip.w)
		return
	}
	if ok {
		ip.line()
	}
}

// snapshotJSON is a snapshot as snapshot list, show and take print it;
// optional fields are left out when unset.
type snapshotJSON struct {
	ID          string `json:"id"`
	ClusterName string `json:"clusterName"`
	// ReplicaSetName is the replica set whose data the snapshot holds, as
	// stored (Cluster0-shard-0 for a replica-set cluster, where the API
	// shows the cluster's name); none for a sharded-cluster snapshot.
	ReplicaSetName   string `json:"replicaSetName,omitempty"`
	Type             string `json:"type"`
	Description      string `json:"description,omitempty"`
	SnapshotType     string `json:"snapshotType"`
	FrequencyType    string `json:"frequencyType"`
	Status           string `json:"status"`
	CreatedAt        string `json:"createdAt"`
	ExpiresAt        string `json:"expiresAt"`
	StorageSizeBytes int64  `json:"storageSizeBytes"`
	MongodVersion    string `json:"mongodVersion,omitempty"`
	Consistency      string `json:"consistency,omitempty"`
	// Progress is what the snapshot has read of a deployment.
	Progress      *snapshotProgressJSON `json:"progress,omitempty"`
	FailureReason string                `json:"failureReason,omitempty"`
	// Members and Collections are what snapshot show adds.
	Members     []snapexport.SnapshotMember     `json:"members,omitempty"`
	Collections []snapexport.SnapshotCollection `json:"collections,omitempty"`
}

type snapshotProgressJSON struct {
	Collections        int   `json:"collections"`
	CollectionsStarted int   `json:"collectionsStarted"`
	Documents          int64 `json:"documents"`
	Bytes              int64 `json:"bytes"`
	// UpdatedAt is when the counts were recorded; left out when unknown.
	UpdatedAt string `json:"updatedAt,omitempty"`
}

// newSnapshotJSON is the snapshot as list prints it: without its members
// and collections.
func newSnapshotJSON(s *snapexport.Snapshot) snapshotJSON {
	out := snapshotJSON{ID: s.ID, ClusterName: s.ClusterName, ReplicaSetName: s.ReplicaSetName, Type: string(s.Kind),
		Description: s.Description, SnapshotType: s.SnapshotType, FrequencyType: s.FrequencyType, Status: string(s.Status),
		CreatedAt: ts(s.CreatedAt.UTC()), ExpiresAt: ts(s.ExpiresAt.UTC()), StorageSizeBytes: s.StorageSizeBytes,
		MongodVersion: s.MongodVersion, Consistency: string(s.Consistency), FailureReason: s.FailureReason}
	if p := s.Progress; p != nil {
		out.Progress = &snapshotProgressJSON{Collections: p.Collections, CollectionsStarted: p.CollectionsStarted,
			Documents: p.Documents, Bytes: p.Bytes}
		if !p.UpdatedAt.IsZero() {
			out.Progress.UpdatedAt = ts(p.UpdatedAt.UTC())
		}
	}
	return out
}

// newSnapshotDetailJSON is the snapshot as show and take print it.
func newSnapshotDetailJSON(s *snapexport.Snapshot) snapshotJSON {
	out := newSnapshotJSON(s)
	out.Members, out.Collections = s.Members, s.Collections
	return out
}

// progressText is how far a snapshot's reading has gone:
// "3/10 collections, 12,345 documents, 5.1 MiB".
func (p *snapshotProgressJSON) text() string {
	return fmt.Sprintf("%d/%d collections, %s documents, %s", p.CollectionsStarted, p.Collections, thousands(p.Documents), mib(p.Bytes))
}

// detail is what a list says of a snapshot beside its fields: the progress
// of one being taken, why a failed one failed.
func (s snapshotJSON) detail() string {
	switch {
	case s.Status == string(snapexport.SnapshotFailed):
		return cmp.Or(s.FailureReason, "no reason recorded")
	case s.Progress != nil && snapexport.SnapshotStatus(s.Status).Unfinished():
		return s.Progress.text()
	}
	return ""
}

// totals is what a finished snapshot holds.
func (s snapshotJSON) totals() string {
	if len(s.Collections) == 0 {
		return mib(s.StorageSizeBytes)
	}
	var docs int64
	for _, c := range s.Collections {
		docs += c.Count
	}
	return fmt.Sprintf("%d collections, %s documents, %s", len(s.Collections), thousands(docs), mib(s.StorageSizeBytes))
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

func printSnapshotList(w io.Writer, v any) {
	snaps := v.([]snapshotJSON)
	if len(snaps) == 0 {
		fmt.Fprintln(w, "no snapshots")
		return
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tFREQUENCY\tSTATUS\tCREATED\tEXPIRES\tSIZE\tCONSISTENCY\tDETAIL")
	for _, s := range snaps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.SnapshotType, s.FrequencyType, s.Status,
			s.CreatedAt, s.ExpiresAt, mib(s.StorageSizeBytes), cmp.Or(s.Consistency, "-"), s.detail())
	}
	tw.Flush()
	// A row without detail would end in the padding of its last column.
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
}

func printSnapshot(w io.Writer, v any) {
	s := v.(snapshotJSON)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", name, value)
		}
	}
	field("id", s.ID)
	field("cluster", s.ClusterName)
	field("replica set", s.ReplicaSetName)
	field("type", s.Type)
	field("snapshot type", s.SnapshotType)
	field("frequency", s.FrequencyType)
	field("status", s.Status)
	field("created", s.CreatedAt)
	field("expires", s.ExpiresAt)
	field("size", fmt.Sprintf("%s (%d bytes)", mib(s.StorageSizeBytes), s.StorageSizeBytes))
	field("mongod version", s.MongodVersion)
	field("consistency", cmp.Or(s.Consistency, "-"))
	if s.Progress != nil {
		progress := s.Progress.text()
		if s.Progress.UpdatedAt != "" {
			progress += ", at " + s.Progress.UpdatedAt
		}
		field("progress", progress)
	}
	field("failure reason", s.FailureReason)
	field("description", s.Description)
	tw.Flush()
	var members, collections [][]string
	for _, m := range s.Members {
		members = append(members, []string{m.ID, m.ReplicaSetName})
	}
	for _, c := range s.Collections {
		collections = append(collections, []string{c.DB + "." + c.Name, c.Type, strconv.FormatInt(c.Count, 10), strconv.FormatInt(c.Size, 10)})
	}
	printSection(w, "members", []string{"ID", "REPLICA SET"}, members)
	printSection(w, "collections", []string{"NAMESPACE", "TYPE", "DOCUMENTS", "BYTES"}, collections)
}

// printSection prints a titled table of rows under a snapshot's fields;
// nothing when there is no row.
func printSection(w io.Writer, title string, header []string, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range append([][]string{header}, rows...) {
		fmt.Fprintln(tw, "  "+strings.Join(row, "\t"))
	}
	tw.Flush()
}

// Pace of snapshot take --wait.
const (
	// snapshotPollInterval is how often the snapshot is read.
	snapshotPollInterval = 500 * time.Millisecond
	// queuedTooLong is how long a snapshot may stay queued before the wait
	// asks whether a server is running to take it.
	queuedTooLong = 30 * time.Second
)

var snapshotCommands = map[string]func(*adminCmd){
	"list": func(c *adminCmd) {
		group := c.required("group", "project `id`")
		cluster := c.required("cluster", "cluster `name`")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			// The API's two lists: a replica-set cluster's snapshots, a
			// sharded cluster's (whose shards' snapshots are its members).
			var all []*snapexport.Snapshot
			for _, kind := range []snapexport.SnapshotKind{snapexport.SnapshotReplicaSet, snapexport.SnapshotShardedCluster} {
				snaps, _, err := srv.Service.Snapshots(ctx, *group, *cluster, kind, snapexport.Page{}, "")
				if err != nil {
					return nil, err
				}
				all = append(all, snaps...)
			}
			return jsonList(all, newSnapshotJSON), nil
		}
		c.text = printSnapshotList
	},
	"show": func(c *adminCmd) {
		group := c.required("group", "project `id`")
		cluster := c.required("cluster", "cluster `name`")
		id := c.required("id", "snapshot `id`")
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			s, err := srv.Service.Snapshot(ctx, *group, *cluster, *id, "")
			if err != nil {
				return nil, err
			}
			return newSnapshotDetailJSON(s), nil
		}
		c.text = printSnapshot
	},
	"take": func(c *adminCmd) {
		group := c.required("group", "project `id`")
		cluster := c.required("cluster", "cluster `name`")
		description := c.fs.String("description", "", "snapshot description")
		retention := c.fs.Int("retention-days", api.DefaultOnDemandRetentionDays, "days the snapshot is kept once taken")
		wait := c.fs.Bool("wait", false, "wait until the server has taken the snapshot, showing its progress on standard error; exit 1 when it fails")
		c.check = func() error {
			if *retention < 1 {
				return usageError{fmt.Sprintf("--retention-days %d must be at least 1", *retention)}
			}
			return nil
		}
		c.run = func(ctx context.Context, srv *server.Server) (any, error) {
			svc := srv.Service
			s, err := svc.TakeSnapshot(ctx, *group, *cluster, service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
				Description: *description, ExpiresAt: svc.Time().AddDate(0, 0, *retention)})
			if err != nil || !*wait {
				return snapshotOrNil(s, err)
			}
			fmt.Fprintf(c.stderr, "snapshot %s of %s queued\n", s.ID, s.ClusterName)
			return waitForSnapshot(ctx, svc, *group, *cluster, s.ID, c.stderr)
		}
		c.text = func(w io.Writer, v any) {
			s := v.(snapshotJSON)
			switch snapexport.SnapshotStatus(s.Status) {
			case snapexport.SnapshotCompleted:
				fmt.Fprintf(w, "snapshot %s of %s completed: %s\n", s.ID, s.ClusterName, s.totals())
			default:
				fmt.Fprintf(w, "snapshot %s of %s %s: a running snapexport serve takes it\n", s.ID, s.ClusterName, s.Status)
			}
		}
	},
}

func snapshotOrNil(s *snapexport.Snapshot, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return newSnapshotDetailJSON(s), nil
}

// waitForSnapshot reads the snapshot until it is completed or failed,
// showing its progress on w, and returns it completed.
func waitForSnapshot(ctx context.Context, svc *service.Service, group, cluster, id string, w io.Writer) (any, error) {
	status := newStatusLine(w)
	defer status.end()
	start, told := time.Now(), false
	for {
		s, err := svc.Snapshot(ctx, group, cluster, id, "")
		if err != nil {
			return nil, err
		}
		out := newSnapshotDetailJSON(s)
		switch s.Status {
		case snapexport.SnapshotCompleted:
			return out, nil
		case snapexport.SnapshotFailed:
			return nil, fmt.Errorf("snapshot %s of %s failed: %s", s.ID, s.ClusterName, out.detail())
		}
		line := fmt.Sprintf("snapshot %s: %s", s.ID, s.Status)
		if out.Progress != nil {
			line += ", " + out.Progress.text()
		}
		status.show(line, line)
		if s.Status == snapexport.SnapshotQueued && !told && time.Since(start) >= queuedTooLong {
			told = true
			status.note(fmt.Sprintf("snapshot %s: still queued after %s: is a snapexport serve running on this installation?", s.ID, queuedTooLong))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting for snapshot %s, still %s: a running server goes on taking it", s.ID, s.Status)
		case <-time.After(snapshotPollInterval):
		}
	}
}
