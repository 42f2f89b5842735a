package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/bytecount"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

const snapshotUsage = `usage: snapexport snapshot <action> [flags]

actions:
  import --group ID --cluster NAME (--archive FILE|- | --dir DIR) [--shard RS] [--taken-at RFC3339]
         import mongodump output as a completed snapshot of the cluster

Run "snapexport snapshot import -h" for its flags.
`

func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, snapshotUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(stderr, snapshotUsage)
		if len(args) == 0 {
			return usageError{"snapshot needs an action"}
		}
		return usageError{fmt.Sprintf("unknown snapshot action %q", args[0])}
	}
	return named("snapshot import", runSnapshotImport(ctx, args[1:], stdout, stderr))
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
