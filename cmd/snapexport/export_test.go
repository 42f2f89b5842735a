package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/testservices"
)

// TestExportCommands watches, verifies and cancels an export with the
// export commands, beside a running server.
func TestExportCommands(t *testing.T) {
	dir, creds := initWithCluster(t)
	g := creds.GroupID
	var cl clusterOut
	archive := filepath.Join(t.TempDir(), "dump.archive")
	ds := dumptest.Generate(dumptest.Options{Seed: 12, DocsPerCollection: 50})
	if err := os.WriteFile(archive, dumptest.ArchiveBytes(ds, false, false), 0o600); err != nil {
		t.Fatal(err)
	}
	var snap struct {
		ID        string `json:"id"`
		Documents int64  `json:"documents"`
	}
	res := runInProcess(t, "snapshot", "import", "--data", dir, "--group", g, "--cluster", "Cluster0", "--archive", archive, "--json")
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &snap) != nil {
		t.Fatalf("import: %d %s", res.code, res.stderr)
	}

	p := startServe(t, dir, "--no-rate-limit", "--export-chunk-bytes", "16384")
	owner := creds.owner(p.base)
	role := awsRole(t, owner, g)
	got := owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + g + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"), Body: `{"bucketName":"cli","cloudProvider":"AWS","iamRoleId":"` + role + `"}`})
	if got.Status != 200 {
		t.Fatalf("bucket: %s", got)
	}
	got = owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + g + "/clusters/Cluster0/backup/exports", Accept: apitest.MediaType("2023-01-01"), Body: `{"snapshotId":"` + snap.ID + `","exportBucketId":"` + got.Field(t, "_id") + `"}`})
	if got.Status != 200 {
		t.Fatalf("export: %s", got)
	}
	job, prefix := got.Field(t, "id"), got.Field(t, "prefix")
	sel := []string{"--data", dir, "--group", g, "--cluster", "Cluster0", "--export", job}

	res = runInProcess(t, append(append([]string{"export", "watch"}, sel...), "--interval", "20ms", "--json")...)
	var watched jobJSON
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &watched) != nil {
		t.Fatalf("watch: %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if watched.State != "Successful" || watched.Progress.Documents != snap.Documents || watched.Progress.ExportedCollections == 0 {
		t.Errorf("watch ended with %+v", watched)
	}
	if !strings.Contains(res.stderr, "collections") {
		t.Errorf("watch printed no progress: %q", res.stderr)
	}

	var verified verifyJSON
	mustJSON(t, &verified, append([]string{"export", "verify"}, sel...)...)
	if verified.Documents != snap.Documents || verified.Collections == 0 || verified.Objects <= verified.Collections {
		t.Errorf("verify = %+v, want %d documents", verified, snap.Documents)
	}

	// Cancelling an ended job leaves it as it is.
	var cancelled jobJSON
	mustJSON(t, &cancelled, append([]string{"export", "cancel"}, sel...)...)
	if cancelled.State != "Successful" || cancelled.CancelRequested {
		t.Errorf("cancel of a finished job = %+v", cancelled)
	}

	// A damaged object is found and named.
	data := localObject(dir, "cli", prefix+"/app/orders/Cluster0-shard-0.0.json.gz")
	if err := os.WriteFile(data, []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFail(t, 1, []string{"app/orders/Cluster0-shard-0.0.json.gz"}, append([]string{"export", "verify"}, sel...)...)
	mustFail(t, 1, []string{"0123456789abcdef01234567"}, "export", "watch", "--data", dir, "--group", g, "--cluster", "Cluster0", "--export", "0123456789abcdef01234567")
	mustFail(t, 2, []string{"--export"}, "export", "verify", "--data", dir, "--group", g, "--cluster", "Cluster0")

	// A sharded export: both shards hold every collection, and write its
	// metadata.json once between them.
	mustJSON(t, &cl, "admin", "cluster", "create", "--data", dir, "--group", g, "--name", "sh", "--shards", "rs0,rs1")
	var sharded string
	for _, shard := range []string{"rs0", "rs1"} {
		res := runInProcess(t, "snapshot", "import", "--data", dir, "--group", g, "--cluster", "sh", "--shard", shard,
			"--taken-at", "2026-08-10T03:27:08Z", "--archive", archive, "--json")
		if res.code != 0 {
			t.Fatalf("import %s: %s", shard, res.stderr)
		}
		sharded = jsonField(t, []byte(res.stdout), "shardedSnapshotId")
	}
	got = owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + g + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")})
	var buckets struct {
		Results []struct {
			ID string `json:"_id"`
		} `json:"results"`
	}
	if err := json.Unmarshal(got.Body, &buckets); err != nil || len(buckets.Results) != 1 {
		t.Fatalf("buckets: %v %s", err, got.Body)
	}
	bucketID := buckets.Results[0].ID
	got = owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + g + "/clusters/sh/backup/exports", Accept: apitest.MediaType("2023-01-01"), Body: `{"snapshotId":"` + sharded + `","exportBucketId":"` + bucketID + `"}`})
	if got.Status != 200 {
		t.Fatalf("sharded export: %s", got)
	}
	shSel := []string{"--data", dir, "--group", g, "--cluster", "sh", "--export", got.Field(t, "id")}
	res = runInProcess(t, append(append([]string{"export", "watch"}, shSel...), "--interval", "20ms", "--json")...)
	if res.code != 0 {
		t.Fatalf("watch sharded: %d %s", res.code, res.stderr)
	}
	var shVerified verifyJSON
	mustJSON(t, &shVerified, append([]string{"export", "verify"}, shSel...)...)
	if shVerified.Documents != 2*snap.Documents || shVerified.Collections != 2*verified.Collections ||
		shVerified.Objects >= 2*verified.Objects {
		t.Errorf("verify of the sharded export = %+v (replica set: %+v)", shVerified, verified)
	}
}

func TestTimeLeft(t *testing.T) {
	for _, tc := range []struct {
		remaining int64
		rate      float64
		want      string
	}{
		{300 << 20, 1 << 20, "5m0s"},
		{1 << 20, 4 << 20, "0s"},
		{3 << 20, 2 << 20, "2s"},
		{1 << 20, 0, "?"},
		{0, 1 << 20, "?"},
	} {
		if got := timeLeft(tc.remaining, tc.rate); got != tc.want {
			t.Errorf("timeLeft(%d, %g) = %s, want %s", tc.remaining, tc.rate, got, tc.want)
		}
	}
}

// TestExportVerifyCollidingNames exports collections whose keys differ
// only by "/.", "//" or "/.." segments to a local bucket and to an S3
// bucket, and verifies each export: every collection's documents from its
// own objects.
func TestExportVerifyCollidingNames(t *testing.T) {
	s3 := testservices.S3(t, "names")
	ds := dumptest.CollidingNames()
	archive := filepath.Join(t.TempDir(), "names.archive")
	if err := os.WriteFile(archive, dumptest.ArchiveBytes(ds, true, true), 0o600); err != nil {
		t.Fatal(err)
	}
	docs := 0
	for _, c := range ds.Collections {
		docs += c.NumDocs
	}
	for _, store := range []string{"local", "s3-compatible"} {
		t.Run(store, func(t *testing.T) {
			dir, creds := initWithCluster(t)
			g := creds.GroupID
			config := filepath.Join(t.TempDir(), "snapexport.yaml")
			text := "data: " + dir + "\n"
			if store != "local" {
				text += "objectStores:\n  aws:\n    mode: s3-compatible\n    endpoint: " + s3.URL +
					"\n    accessKeyId: AKIDNAMES\n    secretAccessKey: names-secret\n"
			}
			if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			res := runInProcess(t, "snapshot", "import", "--data", dir, "--group", g, "--cluster", "Cluster0", "--archive", archive, "--json")
			if res.code != 0 {
				t.Fatalf("import: %d %s", res.code, res.stderr)
			}
			snapshotID := jsonField(t, []byte(res.stdout), "id")
			p := startServe(t, dir, "--config", config, "--no-rate-limit")
			owner := creds.owner(p.base)
			job := exportIntoNewBucket(t, owner, g, "names", "Cluster0", snapshotID)
			sel := []string{"--config", config, "--group", g, "--cluster", "Cluster0", "--export", job}
			res = runInProcess(t, append(append([]string{"export", "watch"}, sel...), "--interval", "20ms", "--json")...)
			if res.code != 0 || jsonField(t, []byte(res.stdout), "state") != "Successful" {
				t.Fatalf("watch: %d %s %s", res.code, res.stdout, res.stderr)
			}
			var verified verifyJSON
			mustJSON(t, &verified, append([]string{"export", "verify"}, sel...)...)
			// each collection: its data objects and metadata.json
			if verified.Collections != len(ds.Collections) || verified.Documents != int64(docs) || verified.Objects != 2*len(ds.Collections) {
				t.Errorf("verify = %+v, want %d collections, %d documents, %d objects", verified, len(ds.Collections), docs, 2*len(ds.Collections))
			}
		})
	}
}

// exportIntoNewBucket creates, through the API, an AWS bucket named
// bucket on a new authorized role and an export of a snapshot of cluster
// into it, and returns the export job's id.
func exportIntoNewBucket(t *testing.T, owner *apitest.Client, groupID, bucket, cluster, snapshotID string) string {
	t.Helper()
	role := awsRole(t, owner, groupID)
	got := owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"),
		Body: `{"bucketName":"` + bucket + `","cloudProvider":"AWS","iamRoleId":"` + role + `"}`})
	if got.Status != 200 {
		t.Fatalf("bucket: %s", got)
	}
	got = owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + groupID + "/clusters/" + cluster + "/backup/exports", Accept: apitest.MediaType("2023-01-01"),
		Body: `{"snapshotId":"` + snapshotID + `","exportBucketId":"` + got.Field(t, "_id") + `"}`})
	if got.Status != 200 {
		t.Fatalf("export: %s", got)
	}
	return got.Field(t, "id")
}

// initWithCluster initializes a data directory with a replica-set cluster
// Cluster0 and returns it with the credentials init printed.
func initWithCluster(t *testing.T) (string, initCreds) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	var creds initCreds
	mustJSON(t, &creds, "init", "--data", dir)
	var cl clusterOut
	mustJSON(t, &cl, "admin", "cluster", "create", "--data", dir, "--group", creds.GroupID, "--name", "Cluster0")
	return dir, creds
}
