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
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/dumptest"
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
