package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// runBinaryJSON runs the built binary with --json, fails the test unless it
// exits 0, and decodes what it printed into v.
func runBinaryJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	res := execBinary(t, append(args, "--json")...)
	if res.code != 0 {
		t.Fatalf("snapexport %v: exit %d\n%s", args, res.code, res.stderr)
	}
	if err := json.Unmarshal([]byte(res.stdout), v); err != nil {
		t.Fatalf("snapexport %v printed no JSON: %v\n%s", args, err, res.stdout)
	}
}

// TestCloudBackupLoopCommandLine runs the Cloud Backup loop as an operator
// does with the binary, beside a running `serve`: `admin cluster create`,
// `admin cluster load --archive`, an on-demand snapshot through Atlas's
// API, an export of it into a local bucket, then `export watch` and
// `export verify`; the bucket's folder holds the dump's documents.
func TestCloudBackupLoopCommandLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	creds := initBinary(t, dir)
	g := creds.GroupID
	p := startServe(t, dir, "--no-rate-limit")
	owner := creds.owner(p.base)

	var cl clusterOut
	runBinaryJSON(t, &cl, "admin", "cluster", "create", "--data", dir, "--group", g, "--name", "Cluster0")
	if cl.Name != "Cluster0" || len(cl.Shards) != 1 {
		t.Fatalf("cluster create printed %+v", cl)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 51, DocsPerCollection: 15})
	archive := filepath.Join(t.TempDir(), "dump.archive.gz")
	if err := os.WriteFile(archive, dumptest.ArchiveBytes(ds, true, true), 0o600); err != nil {
		t.Fatal(err)
	}
	var exported int64
	for _, c := range exporttest.ExportedCollections(ds) {
		exported += int64(c.NumDocs)
	}
	var loaded api.LoadView
	runBinaryJSON(t, &loaded, "admin", "cluster", "load", "--data", dir, "--group", g, "--cluster", "Cluster0", "--archive", archive)
	if loaded.ReplicaSetName != cl.Shards[0].ReplicaSetName || loaded.Documents < exported {
		t.Fatalf("cluster load printed %+v, want %s with at least %d documents", loaded, cl.Shards[0].ReplicaSetName, exported)
	}

	snapshots := "/api/atlas/v2/groups/" + g + "/clusters/Cluster0/backup/snapshots"
	got := owner.Do(t, apitest.Request{Method: "POST", Path: snapshots, Accept: apitest.MediaType("2023-01-01"),
		Body: `{"description":"command line","retentionInDays":1}`})
	if got.Status != 200 || got.Field(t, "status") != "queued" {
		t.Fatalf("take snapshot: %s", got)
	}
	snapshotID := got.Field(t, "id")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		got = owner.Do(t, apitest.Request{Path: snapshots + "/" + snapshotID, Accept: apitest.MediaType("2023-01-01")})
		status := got.Field(t, "status")
		if status == "completed" {
			break
		}
		if (status != "queued" && status != "inProgress") || time.Now().After(deadline) {
			t.Fatalf("snapshot: %s", got)
		}
	}

	sel := []string{"--data", dir, "--group", g, "--cluster", "Cluster0", "--export", exportIntoNewBucket(t, owner, g, "loop", "Cluster0", snapshotID)}
	var watched jobJSON
	runBinaryJSON(t, &watched, append([]string{"export", "watch", "--interval", "20ms"}, sel...)...)
	if watched.State != "Successful" || watched.Progress.Documents != exported {
		t.Fatalf("export watch ended with %+v, want Successful with %d documents", watched, exported)
	}
	var verified verifyJSON
	runBinaryJSON(t, &verified, append([]string{"export", "verify"}, sel...)...)
	cols := exporttest.ExportedCollections(ds)
	if verified.Documents != exported || verified.Collections != len(cols) {
		t.Errorf("export verify = %+v, want %d documents in %d collections", verified, exported, len(cols))
	}

	// What a user finds in the bucket: the dump's documents. The folder
	// is read as the server reaches it, local folders escaping keys.
	stores, err := objectstore.New(objectstore.Config{LocalDir: filepath.Join(dir, "buckets")})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	b, err := stores.Open(context.Background(), objectstore.Target{Provider: snapexport.AWS, Bucket: "loop"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	all := exporttest.ListKeys(t, b, watched.Prefix+"/")
	for _, c := range cols {
		var docs []bson.Raw
		for n := 0; ; n++ {
			key := export.DataKey(watched.Prefix, c.DB, c.Name, cl.Shards[0].ReplicaSetName, n)
			if !slices.Contains(all, key) {
				break
			}
			docs = append(docs, exporttest.ReadDocuments(t, b, key)...)
		}
		if len(docs) != c.NumDocs {
			t.Errorf("%s: %d documents in the bucket, want %d", c.Namespace(), len(docs), c.NumDocs)
			continue
		}
		for i, d := range docs {
			if !exporttest.SameDocument(d, c.Doc(i)) {
				t.Errorf("%s document %d differs from the dump's", c.Namespace(), i)
			}
		}
	}
	if !slices.Contains(all, watched.Prefix+"/.complete") {
		t.Errorf("no .complete among %q", all)
	}
}
