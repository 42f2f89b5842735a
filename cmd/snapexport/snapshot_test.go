package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// importFixture is an initialized data directory with a replica-set
// cluster, a sharded one and a generated dump.
type importFixture struct {
	dir, group string
	creds      initCreds
	ds         *dumptest.Dataset
	archive    string // gzipped, interleaved
	dumpDir    string
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	f := &importFixture{dir: t.TempDir()}
	mustJSON(t, &f.creds, "init", "--data", f.dir)
	f.group = f.creds.GroupID
	var c clusterOut
	mustJSON(t, &c, "admin", "cluster", "create", "--data", f.dir, "--group", f.group, "--name", "Cluster0")
	mustJSON(t, &c, "admin", "cluster", "create", "--data", f.dir, "--group", f.group, "--name", "sharded", "--shards", "rs0,rs1")
	f.ds = dumptest.Generate(dumptest.Options{Seed: 7, DocsPerCollection: 25})
	f.archive = filepath.Join(t.TempDir(), "dump.archive.gz")
	if err := os.WriteFile(f.archive, dumptest.ArchiveBytes(f.ds, true, true), 0o600); err != nil {
		t.Fatal(err)
	}
	f.dumpDir = filepath.Join(t.TempDir(), "dump")
	if err := dumptest.WriteDir(f.dumpDir, f.ds, false); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *importFixture) args(extra ...string) []string {
	return append([]string{"snapshot", "import", "--data", f.dir, "--group", f.group}, extra...)
}

// checkImport compares an import's report with the generated dataset.
func (f *importFixture) checkImport(t *testing.T, what string, got api.ImportView, rs string) {
	t.Helper()
	if !hex24.MatchString(got.ID) || got.GroupID != f.group || got.ReplicaSetName != rs {
		t.Errorf("%s: printed id %q, group %q, replica set %q", what, got.ID, got.GroupID, got.ReplicaSetName)
	}
	var want []snapexport.SnapshotCollection
	var docs, size int64
	for _, c := range f.ds.Collections {
		if c.Type == dumptest.TypeView {
			continue
		}
		want = append(want, snapexport.SnapshotCollection{DB: c.DB, Name: c.Name, Type: c.Type, UUID: c.UUID,
			Count: int64(c.NumDocs), Size: c.TotalSize()})
		docs += int64(c.NumDocs)
		size += c.TotalSize()
	}
	// A directory lists its collections in name order, an archive in
	// dump order: compare by namespace.
	if len(got.Collections) != len(want) {
		t.Fatalf("%s: %d collections, want %d (views skipped): %+v", what, len(got.Collections), len(want), got.Collections)
	}
	byName := map[string]api.ImportCollectionView{}
	for _, g := range got.Collections {
		byName[g.DB+"."+g.Name] = g
	}
	for _, w := range want {
		g, found := byName[w.DB+"."+w.Name]
		if !found || g.Type != w.Type || g.Count != w.Count || g.Size != w.Size || g.UUID != w.UUID {
			t.Errorf("%s: collection %s = %+v, want %+v", what, w.DB+"."+w.Name, g, w)
		}
	}
	if got.Documents != docs || got.StorageSizeBytes != size {
		t.Errorf("%s: %d documents of %d bytes, want %d of %d", what, got.Documents, got.StorageSizeBytes, docs, size)
	}
}

func TestSnapshotImport(t *testing.T) {
	f := newImportFixture(t)
	taken := "2026-08-10T03:27:08Z"

	res := runInProcess(t, append(f.args("--cluster", "Cluster0", "--archive", f.archive, "--taken-at", taken), "--json")...)
	if res.code != 0 {
		t.Fatalf("import: exit %d\n%s", res.code, res.stderr)
	}
	var fromArchive api.ImportView
	decodeStrict(t, res.stdout, &fromArchive)
	f.checkImport(t, "archive", fromArchive, "Cluster0-shard-0")
	if fromArchive.CreatedAt != taken {
		t.Errorf("createdAt = %s, want --taken-at %s", fromArchive.CreatedAt, taken)
	}
	// Not a terminal: plain progress lines on stderr, nothing else.
	if !strings.Contains(res.stderr, "import: ") || !strings.Contains(res.stderr, " documents") {
		t.Errorf("stderr has no progress line: %q", res.stderr)
	}

	var fromDir api.ImportView
	mustJSON(t, &fromDir, f.args("--cluster", "Cluster0", "--dir", f.dumpDir, "--shard", "Cluster0-shard-0")...)
	f.checkImport(t, "directory", fromDir, "Cluster0-shard-0")
	created, err := time.Parse(time.RFC3339, fromDir.CreatedAt)
	if err != nil || time.Since(created) > time.Minute {
		t.Errorf("createdAt without --taken-at = %s, want the import time", fromDir.CreatedAt)
	}

	// Standard input, through the binary.
	cmd := exec.Command(binary(t), append(f.args("--cluster", "Cluster0", "--archive", "-"), "--json")...)
	in, err := os.Open(f.archive)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("import from stdin: %v\n%s", err, stderr.String())
	}
	var fromStdin api.ImportView
	decodeStrict(t, stdout.String(), &fromStdin)
	f.checkImport(t, "stdin", fromStdin, "Cluster0-shard-0")

	snaps := f.snapshots(t, "Cluster0", snapexport.SnapshotReplicaSet)
	if len(snaps) != 3 || snaps[0].ID != fromArchive.ID || snaps[1].ID != fromDir.ID || snaps[2].ID != fromStdin.ID {
		t.Errorf("stored snapshots = %v, want the three imports in order", ids(snaps))
	}
	if s := snaps[0]; s.Status != snapexport.SnapshotCompleted || s.MongodVersion != f.ds.ServerVersion ||
		s.SnapshotType != "onDemand" || s.FrequencyType != "ondemand" || !s.ExpiresAt.After(time.Now().Add(29*24*time.Hour)) {
		t.Errorf("stored snapshot = %+v", s)
	}
}

// TestSnapshotImportFileStore: a file:// snapshot store is a folder of
// the machine, made when missing, and the import's objects land in it.
func TestSnapshotImportFileStore(t *testing.T) {
	f := newImportFixture(t)
	dir := filepath.Join(t.TempDir(), "made", "by", "import")
	var got api.ImportView
	mustJSON(t, &got, append(f.args("--cluster", "Cluster0", "--archive", f.archive, "--snapshot-store", "file://"+filepath.ToSlash(dir)), "--json")...)
	f.checkImport(t, "file store", got, "Cluster0-shard-0")
	if _, err := os.Stat(filepath.Join(dir, f.group, got.ID, "manifest.json")); err != nil {
		t.Errorf("manifest not in the file store: %v", err)
	}
}

// TestSnapshotImportS3Store: an s3:// snapshot store is a bucket reached
// through the URL's endpoint with the AWS credentials of the environment,
// and the import's objects land in it.
func TestSnapshotImportS3Store(t *testing.T) {
	f := newImportFixture(t)
	s3 := testservices.S3(t, "snapshots")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSNAPSHOTSTORE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "snapshot-store-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	store := "s3://snapshots?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(s3.URL)
	var got api.ImportView
	mustJSON(t, &got, append(f.args("--cluster", "Cluster0", "--archive", f.archive, "--snapshot-store", store), "--json")...)
	f.checkImport(t, "s3 store", got, "Cluster0-shard-0")
	if !s3.HasObject("snapshots", f.group+"/"+got.ID+"/manifest.json") {
		t.Errorf("manifest not in the S3 bucket")
	}
}

func TestSnapshotImportSharded(t *testing.T) {
	f := newImportFixture(t)
	taken := "2026-08-10T03:27:08.5Z"
	var rs0, rs1 api.ImportView
	mustJSON(t, &rs0, f.args("--cluster", "sharded", "--shard", "rs0", "--archive", f.archive, "--taken-at", taken)...)
	f.checkImport(t, "rs0", rs0, "rs0")
	if rs0.ShardedSnapshotID != "" {
		t.Errorf("first shard completed a sharded snapshot %s", rs0.ShardedSnapshotID)
	}
	if got := f.snapshots(t, "sharded", snapexport.SnapshotShardedCluster); len(got) != 0 {
		t.Errorf("sharded snapshot visible before every shard is imported: %v", ids(got))
	}
	mustFail(t, 1, []string{"rs0", "already has a snapshot"}, f.args("--cluster", "sharded", "--shard", "rs0", "--archive", f.archive, "--taken-at", taken)...)
	mustJSON(t, &rs1, f.args("--cluster", "sharded", "--shard", "rs1", "--dir", f.dumpDir, "--taken-at", taken)...)
	if !hex24.MatchString(rs1.ShardedSnapshotID) {
		t.Fatalf("last shard printed shardedSnapshotId %q", rs1.ShardedSnapshotID)
	}
	got := f.snapshots(t, "sharded", snapexport.SnapshotShardedCluster)
	if len(got) != 1 || got[0].ID != rs1.ShardedSnapshotID || len(got[0].Members) != 2 ||
		got[0].Members[0].ID != rs0.ID || got[0].Members[1].ID != rs1.ID ||
		got[0].StorageSizeBytes != rs0.StorageSizeBytes+rs1.StorageSizeBytes {
		t.Errorf("sharded snapshots = %+v", got)
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--cluster", "sharded", "--archive", f.archive, "--taken-at", taken}, []string{"sharded", "rs0", "rs1"}},
		{[]string{"--cluster", "sharded", "--shard", "rs0", "--archive", f.archive}, []string{"sharded", "snapshot time"}},
		{[]string{"--cluster", "sharded", "--shard", "rs9", "--archive", f.archive, "--taken-at", taken}, []string{"rs9"}},
		{[]string{"--cluster", "Cluster0", "--shard", "rs0", "--archive", f.archive}, []string{"Cluster0-shard-0", "rs0"}},
		{[]string{"--cluster", "nope", "--archive", f.archive}, []string{"nope"}},
	} {
		mustFail(t, 1, tc.want, f.args(tc.args...)...)
	}
	f.noOrphans(t)
}

func TestSnapshotImportBadInput(t *testing.T) {
	f := newImportFixture(t)
	plain := dumptest.ArchiveBytes(f.ds, false, true)
	sections, err := dumptest.Layout(plain)
	if err != nil {
		t.Fatal(err)
	}
	cut := sections[len(sections)/2].Offset + 3
	bad := filepath.Join(t.TempDir(), "truncated.archive")
	if err := os.WriteFile(bad, dumptest.Truncate(plain, cut), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{bad, "offset"}, f.args("--cluster", "Cluster0", "--archive", bad)...)
	flipped := filepath.Join(t.TempDir(), "flipped.archive")
	if err := os.WriteFile(flipped, dumptest.FlipByte(plain, sections[len(sections)/3].Offset+5), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{flipped}, f.args("--cluster", "Cluster0", "--archive", flipped)...)
	mustFail(t, 1, []string{"missing.archive"}, f.args("--cluster", "Cluster0", "--archive", "missing.archive")...)
	// namespaces MongoDB refuses, after collections that are fine
	badNames := filepath.Join(t.TempDir(), "names.archive")
	if err := os.WriteFile(badNames, invalidNamespaceArchive(f.ds), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{badNames, "offset", `invalid namespace "app.a$b"`}, f.args("--cluster", "Cluster0", "--archive", badNames)...)
	badDir := filepath.Join(t.TempDir(), "dump")
	if err := dumptest.WriteDir(badDir, &dumptest.Dataset{Collections: []*dumptest.Collection{
		dumptest.Plain("app", "orders", 3), dumptest.Plain("app", "system.foo", 2)}}, false); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{filepath.Join(badDir, "app"), `invalid namespace "app.system.foo"`}, f.args("--cluster", "Cluster0", "--dir", badDir)...)
	if got := f.snapshots(t, "Cluster0", snapexport.SnapshotReplicaSet); len(got) != 0 {
		t.Errorf("failed imports left snapshots %v", ids(got))
	}
	f.noOrphans(t)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster", "Cluster0"}, "--archive"},
		{[]string{"--cluster", "Cluster0", "--archive", f.archive, "--dir", f.dumpDir}, "--dir"},
		{[]string{"--archive", f.archive}, "--cluster"},
		{[]string{"--cluster", "Cluster0", "--archive", f.archive, "--taken-at", "yesterday"}, "yesterday"},
		{[]string{"--cluster", "Cluster0", "--archive", f.archive, "--retention-days", "0"}, "--retention-days"},
	} {
		mustFail(t, 2, []string{tc.want}, f.args(tc.args...)...)
	}
	mustFail(t, 1, []string{"hourly"}, f.args("--cluster", "Cluster0", "--archive", f.archive, "--frequency", "minutely")...)
}

// snapshots lists a cluster's stored snapshots of one kind.
func (f *importFixture) snapshots(t *testing.T, cluster string, kind snapexport.SnapshotKind) []*snapexport.Snapshot {
	t.Helper()
	srv := openDataDir(t, f.dir)
	defer srv.Close()
	out, _, err := srv.Service.Snapshots(context.Background(), f.group, cluster, kind, snapexport.Page{}, "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// noOrphans checks that the snapshot store holds only the data of stored
// snapshots.
func (f *importFixture) noOrphans(t *testing.T) {
	t.Helper()
	known := map[string]bool{}
	for _, c := range []string{"Cluster0", "sharded"} {
		for _, kind := range []snapexport.SnapshotKind{snapexport.SnapshotReplicaSet, snapexport.SnapshotShardedCluster} {
			for _, s := range f.snapshots(t, c, kind) {
				known[s.ID] = true
				for _, m := range s.Members {
					known[m.ID] = true
				}
			}
		}
	}
	root := filepath.Join(f.dir, "snapshots")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(rel, string(filepath.Separator))
		if len(parts) < 2 || !known[parts[1]] {
			t.Errorf("snapshot store holds %s, which belongs to no snapshot", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ids(snaps []*snapexport.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		out = append(out, s.ID)
	}
	return out
}

func decodeStrict(t *testing.T, text string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not the JSON expected: %v\n%s", err, text)
	}
}

// TestSnapshotImportEmptyFolder: a folder holding no dump is refused as
// an empty archive is, naming it, and nothing is stored.
func TestSnapshotImportEmptyFolder(t *testing.T) {
	f := newImportFixture(t)
	emptyArchive := filepath.Join(t.TempDir(), "empty.archive")
	if err := os.WriteFile(emptyArchive, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{"snapshot import: dump: " + emptyArchive + ": ", "empty"}, f.args("--cluster", "Cluster0", "--archive", emptyArchive)...)

	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "prelude.json"), []byte(`{"ServerVersion":"8.0.4"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{"snapshot import: dump: " + empty + ": no dump: the folder holds no database folder with .bson or .metadata.json files"},
		f.args("--cluster", "Cluster0", "--dir", empty)...)
	// A database's folder given for the folder above it.
	mustFail(t, 1, []string{"snapshot import: dump: " + filepath.Join(f.dumpDir, f.ds.Collections[0].DB) + ": no dump: ", "give the folder above it"},
		f.args("--cluster", "Cluster0", "--dir", filepath.Join(f.dumpDir, f.ds.Collections[0].DB))...)
	if got := f.snapshots(t, "Cluster0", snapexport.SnapshotReplicaSet); len(got) != 0 {
		t.Errorf("refused imports left snapshots %v", ids(got))
	}
	f.noOrphans(t)
}

// invalidNamespaceArchive is ds's archive with, after its collections, one
// that MongoDB refuses: app.a$b.
func invalidNamespaceArchive(ds *dumptest.Dataset) []byte {
	bad := *ds
	bad.Collections = append(append([]*dumptest.Collection(nil), ds.Collections...), dumptest.Plain("app", "a$b", 2))
	return dumptest.ArchiveBytes(&bad, true, true)
}

// storeSnapshot writes a snapshot of the cluster as a server taking it
// would have recorded it, and returns it.
func (f *importFixture) storeSnapshot(t *testing.T, cluster string, set func(*snapexport.Snapshot)) *snapexport.Snapshot {
	t.Helper()
	ctx := context.Background()
	srv := openDataDir(t, f.dir)
	defer srv.Close()
	c, err := srv.Service.SnapshotsCluster(ctx, f.group, cluster)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 8, 11, 4, 0, 0, 0, time.UTC)
	s := &snapexport.Snapshot{ID: service.NewID(), ProjectID: f.group, ClusterID: c.ID, ClusterName: c.Name, Kind: snapexport.SnapshotReplicaSet,
		ReplicaSetName: c.Shards[0].ReplicaSetName, SnapshotType: "onDemand", FrequencyType: "ondemand", MongodVersion: "8.0.4",
		CloudProvider: snapexport.AWS, CreatedAt: created, ExpiresAt: created.AddDate(0, 0, 1)}
	set(s)
	if err := srv.Service.Store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateSnapshot(ctx, s) }); err != nil {
		t.Fatal(err)
	}
	return s
}

// recordSnapshot changes a stored snapshot as a server taking it does.
func (f *importFixture) recordSnapshot(t *testing.T, cluster, id string, set func(*snapexport.Snapshot)) {
	t.Helper()
	ctx := context.Background()
	srv := openDataDir(t, f.dir)
	defer srv.Close()
	err := srv.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		s, err := srv.Service.Snapshot(ctx, f.group, cluster, id, "")
		if err != nil {
			return err
		}
		set(s)
		return tx.RecordSnapshotState(ctx, s)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshotKeys are the JSON keys of each snapshot a command printed.
func snapshotKeys(t *testing.T, text string) []map[string]any {
	t.Helper()
	var raw []map[string]any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatalf("not a JSON list: %v\n%s", err, text)
	}
	return raw
}

func hasKeys(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, found := m[k]; !found {
			return false
		}
	}
	return true
}

// TestSnapshotListShow lists and shows an imported snapshot, one that
// failed and one being taken, and a sharded-cluster snapshot, as text and
// as JSON, with the fields as stored.
func TestSnapshotListShow(t *testing.T) {
	f := newImportFixture(t)
	taken := "2026-08-10T03:27:08Z"
	var imported, rs0, rs1 api.ImportView
	mustJSON(t, &imported, f.args("--cluster", "Cluster0", "--archive", f.archive, "--taken-at", taken, "--description", "nightly dump")...)
	mustJSON(t, &rs0, f.args("--cluster", "sharded", "--shard", "rs0", "--archive", f.archive, "--taken-at", taken)...)
	mustJSON(t, &rs1, f.args("--cluster", "sharded", "--shard", "rs1", "--archive", f.archive, "--taken-at", taken)...)
	reason := "reading app.orders from mongo1.example:27017: connection refused"
	failed := f.storeSnapshot(t, "Cluster0", func(s *snapexport.Snapshot) {
		s.Status, s.Consistency, s.FailureReason = snapexport.SnapshotFailed, snapexport.ConsistencyPointInTime, reason
	})
	updated := time.Date(2026, 8, 11, 4, 0, 30, 0, time.UTC)
	running := f.storeSnapshot(t, "Cluster0", func(s *snapexport.Snapshot) {
		s.Status, s.Consistency = snapexport.SnapshotInProgress, snapexport.ConsistencyNone
		s.Progress = &snapexport.SnapshotProgress{Collections: 10, CollectionsStarted: 3, Documents: 12345, Bytes: 5347738, UpdatedAt: updated}
	})
	sel := func(action, cluster string, extra ...string) []string {
		return append([]string{"snapshot", action, "--data", f.dir, "--group", f.group, "--cluster", cluster}, extra...)
	}

	res := runInProcess(t, sel("list", "Cluster0", "--json")...)
	if res.code != 0 {
		t.Fatalf("list: exit %d\n%s", res.code, res.stderr)
	}
	var list []snapshotJSON
	decodeStrict(t, res.stdout, &list)
	if len(list) != 3 || list[0].ID != imported.ID || list[1].ID != failed.ID || list[2].ID != running.ID {
		t.Fatalf("list = %+v, want the import, the failed and the running snapshot in creation order", list)
	}
	if got := list[0]; got.Status != "completed" || got.CreatedAt != taken || got.StorageSizeBytes != imported.StorageSizeBytes ||
		got.MongodVersion != f.ds.ServerVersion || got.SnapshotType != "onDemand" || got.FrequencyType != "ondemand" ||
		got.ClusterName != "Cluster0" || got.ReplicaSetName != "Cluster0-shard-0" || got.Type != "replicaSet" ||
		got.Description != "nightly dump" || got.Consistency != "" || got.Progress != nil || got.FailureReason != "" || got.Collections != nil {
		t.Errorf("imported snapshot listed as %+v", got)
	}
	if got := list[1]; got.Status != "failed" || got.FailureReason != reason || got.Consistency != "pointInTime" ||
		got.CreatedAt != "2026-08-11T04:00:00Z" || got.ExpiresAt != "2026-08-12T04:00:00Z" {
		t.Errorf("failed snapshot listed as %+v", got)
	}
	want := snapshotProgressJSON{Collections: 10, CollectionsStarted: 3, Documents: 12345, Bytes: 5347738, UpdatedAt: "2026-08-11T04:00:30Z"}
	if got := list[2]; got.Status != "inProgress" || got.Progress == nil || *got.Progress != want || got.Consistency != "none" {
		t.Errorf("running snapshot listed as %+v, want progress %+v", got, want)
	}
	raw := snapshotKeys(t, res.stdout)
	common := []string{"id", "clusterName", "replicaSetName", "snapshotType", "frequencyType", "status", "createdAt", "expiresAt", "storageSizeBytes", "mongodVersion"}
	if !hasKeys(raw[0], common...) || hasKeys(raw[0], "consistency") || hasKeys(raw[0], "progress") || hasKeys(raw[0], "failureReason") {
		t.Errorf("imported snapshot's keys: %v; want %v and no empty optional field", sortedKeys(raw[0]), common)
	}
	if !hasKeys(raw[1], "failureReason", "consistency") || hasKeys(raw[1], "progress") {
		t.Errorf("failed snapshot's keys: %v", sortedKeys(raw[1]))
	}
	if p, _ := raw[2]["progress"].(map[string]any); p == nil || !hasKeys(p, "collections", "collectionsStarted", "documents", "bytes", "updatedAt") {
		t.Errorf("running snapshot's progress: %v", raw[2]["progress"])
	}

	res = runInProcess(t, sel("list", "Cluster0")...)
	lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
	if res.code != 0 || len(lines) != 4 {
		t.Fatalf("list: exit %d, want a header and 3 rows:\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, w := range []struct {
		line  int
		wants []string
	}{
		{0, []string{"ID", "TYPE", "FREQUENCY", "STATUS", "CREATED", "EXPIRES", "SIZE", "CONSISTENCY"}},
		{1, []string{imported.ID, "onDemand", "ondemand", "completed", taken, mib(imported.StorageSizeBytes), "  -"}},
		{2, []string{failed.ID, "failed", "pointInTime", reason}},
		{3, []string{running.ID, "inProgress", "none", "3/10 collections, 12,345 documents, 5.1 MiB"}},
	} {
		for _, s := range w.wants {
			if !strings.Contains(lines[w.line], s) {
				t.Errorf("list line %d %q does not show %q", w.line, lines[w.line], s)
			}
		}
	}
	// The columns line up: each row's status begins under STATUS.
	col := strings.Index(lines[0], "STATUS")
	for i, s := range []string{"completed", "failed", "inProgress"} {
		if strings.Index(lines[i+1], s) != col {
			t.Errorf("list line %d: %s not under STATUS:\n%s", i+1, s, res.stdout)
		}
	}

	var shown snapshotJSON
	mustJSON(t, &shown, sel("show", "Cluster0", "--id", imported.ID)...)
	if shown.ID != imported.ID || shown.CreatedAt != taken || len(shown.Collections) != len(imported.Collections) || shown.Members != nil {
		t.Errorf("show = %+v, want the import with its %d collections", shown, len(imported.Collections))
	}
	for i, c := range shown.Collections {
		if w := imported.Collections[i]; c.DB != w.DB || c.Name != w.Name || c.Count != w.Count || c.Size != w.Size || c.Type != w.Type {
			t.Errorf("collection %d = %+v, want %+v", i, c, w)
		}
	}
	res = runInProcess(t, sel("show", "Cluster0", "--id", imported.ID)...)
	c := imported.Collections[0]
	for _, s := range []string{"id:", imported.ID, "status:", "completed", "replica set:", "Cluster0-shard-0", "description:", "nightly dump",
		"consistency:", "collections:", c.DB + "." + c.Name, strconv.FormatInt(c.Count, 10)} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("show does not print %q:\n%s", s, res.stdout)
		}
	}
	res = runInProcess(t, sel("show", "Cluster0", "--id", running.ID)...)
	if !strings.Contains(res.stdout, "3/10 collections, 12,345 documents, 5.1 MiB, at 2026-08-11T04:00:30Z") {
		t.Errorf("show of the running snapshot does not give its progress:\n%s", res.stdout)
	}
	res = runInProcess(t, sel("show", "Cluster0", "--id", failed.ID)...)
	if !strings.Contains(res.stdout, "failure reason:") || !strings.Contains(res.stdout, reason) {
		t.Errorf("show of the failed snapshot does not give its reason:\n%s", res.stdout)
	}

	// A sharded cluster lists its sharded-cluster snapshot, shown with its
	// shards' snapshots.
	var sharded []snapshotJSON
	mustJSON(t, &sharded, sel("list", "sharded")...)
	if len(sharded) != 1 || sharded[0].ID != rs1.ShardedSnapshotID || sharded[0].Type != "shardedCluster" ||
		sharded[0].StorageSizeBytes != rs0.StorageSizeBytes+rs1.StorageSizeBytes {
		t.Fatalf("sharded list = %+v, want sharded snapshot %s", sharded, rs1.ShardedSnapshotID)
	}
	mustJSON(t, &shown, sel("show", "sharded", "--id", rs1.ShardedSnapshotID)...)
	if len(shown.Members) != 2 || shown.Members[0].ID != rs0.ID || shown.Members[0].ReplicaSetName != "rs0" || shown.Members[1].ID != rs1.ID {
		t.Errorf("sharded snapshot's members = %+v, want rs0 %s and rs1 %s", shown.Members, rs0.ID, rs1.ID)
	}
	res = runInProcess(t, sel("show", "sharded", "--id", rs1.ShardedSnapshotID)...)
	if !strings.Contains(res.stdout, "members:") || !strings.Contains(res.stdout, rs0.ID+"  rs0") {
		t.Errorf("show of the sharded snapshot does not list its members:\n%s", res.stdout)
	}

	missing := "0123456789abcdef01234567"
	mustFail(t, 1, []string{"snapshot show: ", missing, "Cluster0"}, sel("show", "Cluster0", "--id", missing)...)
	mustFail(t, 1, []string{"snapshot show: ", "invalid snapshot ID nope"}, sel("show", "Cluster0", "--id", "nope")...)
	// A shard's own snapshot is reached through its sharded snapshot.
	mustFail(t, 1, []string{rs0.ID}, sel("show", "sharded", "--id", rs0.ID)...)
	mustFail(t, 2, []string{"--id is required"}, sel("show", "Cluster0")...)
	mustFail(t, 1, []string{"Cluster9"}, sel("list", "Cluster9")...)
	if res := execBinary(t, sel("show", "Cluster0", "--id", missing)...); res.code != 1 || !strings.Contains(res.stderr, missing) {
		t.Errorf("binary show of a missing snapshot: exit %d, %q; want 1 naming it", res.code, res.stderr)
	}
}

// TestSnapshotTake queues on-demand snapshots that no server takes: they
// stay queued, and a second one is refused while the first is.
func TestSnapshotTake(t *testing.T) {
	f := newImportFixture(t)
	take := func(extra ...string) []string {
		return append([]string{"snapshot", "take", "--data", f.dir, "--group", f.group, "--cluster", "Cluster0"}, extra...)
	}
	mustFail(t, 2, []string{"--retention-days 0 must be at least 1"}, take("--retention-days", "0")...)
	mustFail(t, 1, []string{"Cluster9"}, append(take(), "--cluster", "Cluster9")...)

	var queued snapshotJSON
	mustJSON(t, &queued, take("--description", "before the upgrade", "--retention-days", "3")...)
	expires, err := time.Parse(time.RFC3339, queued.ExpiresAt)
	if !hex24.MatchString(queued.ID) || queued.Status != "queued" || queued.SnapshotType != "onDemand" || queued.FrequencyType != "ondemand" ||
		queued.Description != "before the upgrade" || err != nil || time.Until(expires) < 71*time.Hour || time.Until(expires) > 73*time.Hour {
		t.Errorf("take printed %+v, want a queued on-demand snapshot expiring in 3 days", queued)
	}
	var list []snapshotJSON
	mustJSON(t, &list, "snapshot", "list", "--data", f.dir, "--group", f.group, "--cluster", "Cluster0")
	if len(list) != 1 || list[0].ID != queued.ID || list[0].Status != "queued" {
		t.Errorf("list after take = %+v, want %s queued", list, queued.ID)
	}
	mustFail(t, 1, []string{"already has a snapshot being taken", queued.ID}, take()...)

	// The text form names the snapshot, its status and who takes it; the
	// default retention is the API's, a day.
	res := runInProcess(t, take()...)
	if res.code != 1 {
		t.Fatalf("second take: exit %d", res.code)
	}
	f.recordSnapshot(t, "Cluster0", queued.ID, func(s *snapexport.Snapshot) { s.Status = snapexport.SnapshotFailed })
	res = runInProcess(t, take()...)
	if res.code != 0 || !regexp.MustCompile(`^snapshot [0-9a-f]{24} of Cluster0 queued: a running snapexport serve takes it\n$`).MatchString(res.stdout) {
		t.Errorf("take: exit %d, stdout %q", res.code, res.stdout)
	}
	mustJSON(t, &list, "snapshot", "list", "--data", f.dir, "--group", f.group, "--cluster", "Cluster0")
	if len(list) != 2 {
		t.Fatalf("list = %+v", list)
	}
	created, _ := time.Parse(time.RFC3339, list[1].CreatedAt)
	if expires, _ := time.Parse(time.RFC3339, list[1].ExpiresAt); expires.Sub(created) != 24*time.Hour {
		t.Errorf("default retention: created %s, expires %s; want a day", list[1].CreatedAt, list[1].ExpiresAt)
	}
}

// TestSnapshotTakeWaitFailure: take --wait shows the progress a server
// records, then exits 1 with the reason the snapshot failed.
func TestSnapshotTakeWaitFailure(t *testing.T) {
	f := newImportFixture(t)
	var stdout bytes.Buffer
	stderr := &testserver.LogBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"snapshot", "take", "--data", f.dir, "--group", f.group, "--cluster", "Cluster0", "--wait"}, &stdout, stderr)
	}()
	waitFor := func(what string, re *regexp.Regexp) []string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if m := re.FindStringSubmatch(stderr.String()); m != nil {
				return m
			}
			select {
			case err := <-done:
				t.Fatalf("take --wait ended before %s: %v\n%s", what, err, stderr)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("take --wait never showed %s:\n%s", what, stderr)
			}
		}
	}
	id := waitFor("the queued snapshot", regexp.MustCompile(`snapshot ([0-9a-f]{24}) of Cluster0 queued\n`))[1]
	waitFor("it queued", regexp.MustCompile(`snapshot `+id+`: queued\n`))
	f.recordSnapshot(t, "Cluster0", id, func(s *snapexport.Snapshot) {
		s.Status, s.Consistency = snapexport.SnapshotInProgress, snapexport.ConsistencyPointInTime
		s.Progress = &snapexport.SnapshotProgress{Collections: 10, CollectionsStarted: 3, Documents: 12345, Bytes: 5347738, UpdatedAt: time.Now()}
	})
	waitFor("its progress", regexp.MustCompile(`snapshot `+id+`: inProgress, 3/10 collections, 12,345 documents, 5\.1 MiB\n`))
	reason := "reading app.orders from mongo1.example:27017: connection refused"
	f.recordSnapshot(t, "Cluster0", id, func(s *snapexport.Snapshot) { s.Status, s.FailureReason = snapexport.SnapshotFailed, reason })
	err := <-done
	if exitCode(err) != 1 || err.Error() != "snapshot take: snapshot "+id+" of Cluster0 failed: "+reason {
		t.Errorf("take --wait of a failed snapshot: %v (exit %d)", err, exitCode(err))
	}
	if stdout.Len() != 0 {
		t.Errorf("a failed take printed on stdout: %s", stdout.String())
	}
}

// TestSnapshotTakeWaitServed takes a snapshot of loaded data with the
// binary's take --wait beside a running serve, which takes it.
func TestSnapshotTakeWaitServed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	creds := initBinary(t, dir)
	g := creds.GroupID
	startServe(t, dir, "--no-rate-limit")
	var cl clusterOut
	runBinaryJSON(t, &cl, "admin", "cluster", "create", "--data", dir, "--group", g, "--name", "Cluster0")
	ds := dumptest.Generate(dumptest.Options{Seed: 52, DocsPerCollection: 10})
	archive := filepath.Join(t.TempDir(), "dump.archive.gz")
	if err := os.WriteFile(archive, dumptest.ArchiveBytes(ds, true, true), 0o600); err != nil {
		t.Fatal(err)
	}
	var loaded api.LoadView
	runBinaryJSON(t, &loaded, "admin", "cluster", "load", "--data", dir, "--group", g, "--cluster", "Cluster0", "--archive", archive)

	res := execBinary(t, "snapshot", "take", "--data", dir, "--group", g, "--cluster", "Cluster0", "--wait")
	m := regexp.MustCompile(`^snapshot ([0-9a-f]{24}) of Cluster0 completed: (\d+) collections, ([0-9,]+) documents, `).FindStringSubmatch(res.stdout)
	if res.code != 0 || m == nil {
		t.Fatalf("take --wait: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "snapshot "+m[1]+" of Cluster0 queued\n") {
		t.Errorf("take --wait did not say the snapshot was queued: %q", res.stderr)
	}
	var shown snapshotJSON
	runBinaryJSON(t, &shown, "snapshot", "show", "--data", dir, "--group", g, "--cluster", "Cluster0", "--id", m[1])
	var docs int64
	for _, c := range shown.Collections {
		docs += c.Count
	}
	if shown.Status != "completed" || shown.StorageSizeBytes != loaded.StorageSizeBytes || strconv.Itoa(len(shown.Collections)) != m[2] ||
		thousands(docs) != m[3] || docs != loaded.Documents {
		t.Errorf("snapshot taken: %+v; take printed %q; loaded %d documents, %d bytes", shown, res.stdout, loaded.Documents, loaded.StorageSizeBytes)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
