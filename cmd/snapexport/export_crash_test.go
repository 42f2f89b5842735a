package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/exporttest"
)

// TestExportSurvivesCrashes kills serve with SIGKILL at eleven points of
// one export (mid-collection, at a collection's last document before its
// metadata.json, right after a collection is recorded, just before
// .complete), restarting it each time on the same data directory; the
// job must end Successful with exactly the objects, byte for byte, of an
// uninterrupted export of the same snapshot.
func TestExportSurvivesCrashes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	creds := initBinary(t, dir)
	g := creds.GroupID
	if res := execBinary(t, "admin", "cluster", "create", "--data", dir, "--group", g, "--name", "Cluster0", "--label", "env=crash"); res.code != 0 {
		t.Fatalf("cluster create: %s", res.stderr)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 9, DocsPerCollection: 300, BulkBytes: 3 << 20, BulkDocSize: 8 << 10})
	archive := filepath.Join(t.TempDir(), "dump.archive")
	if err := os.WriteFile(archive, dumptest.ArchiveBytes(ds, false, true), 0o600); err != nil {
		t.Fatal(err)
	}
	res := execBinary(t, "snapshot", "import", "--data", dir, "--group", g, "--cluster", "Cluster0", "--archive", archive, "--json")
	if res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	var snap struct {
		ID          string `json:"id"`
		Collections []struct {
			DB    string `json:"db"`
			Name  string `json:"name"`
			Count int64  `json:"count"`
		} `json:"collections"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &snap); err != nil {
		t.Fatal(err)
	}
	// Cumulative document counts at the end of each exported collection.
	var ends []int64
	var total int64
	for _, c := range snap.Collections {
		if !exporttest.IsExported(c.DB, c.Name, false) {
			continue
		}
		total += c.Count
		ends = append(ends, total)
	}
	if len(ends) < 5 {
		t.Fatalf("only %d collections to export", len(ends))
	}
	flags := []string{"--no-rate-limit", "--export-chunk-bytes", "65536", "--export-lease", "1s"}

	p := startServe(t, dir, flags...)
	owner := creds.owner(p.base)
	role := awsRole(t, owner, g)
	bucket := func(name string) string {
		got := owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + g + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"), Body: `{"bucketName":"` + name + `","cloudProvider":"AWS","iamRoleId":"` + role + `"}`})
		if got.Status != 200 {
			t.Fatalf("bucket %s: %s", name, got)
		}
		return got.Field(t, "_id")
	}
	exportsPath := "/api/atlas/v2/groups/" + g + "/clusters/Cluster0/backup/exports"
	createJob := func(c *apitest.Client, bucketID string) (id, prefix string) {
		got := c.Do(t, apitest.Request{Method: "POST", Path: exportsPath, Accept: apitest.MediaType("2023-01-01"), Body: `{"snapshotId":"` + snap.ID + `","exportBucketId":"` + bucketID + `"}`})
		if got.Status != 200 {
			t.Fatalf("create export: %s", got)
		}
		return got.Field(t, "id"), got.Field(t, "prefix")
	}
	waitJob := func(c *apitest.Client, id string, within time.Duration) string {
		deadline := time.Now().Add(within)
		for {
			got := c.Do(t, apitest.Request{Path: exportsPath + "/" + id, Accept: apitest.MediaType("2023-01-01")})
			if got.Status != 200 {
				t.Fatalf("get export: %s", got)
			}
			if state := got.Field(t, "state"); state != "Queued" && state != "InProgress" {
				return state
			}
			if time.Now().After(deadline) {
				t.Fatalf("export %s not done after %s: %s", id, within, got.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The uninterrupted export.
	refID, refPrefix := createJob(owner, bucket("reference"))
	if state := waitJob(owner, refID, time.Minute); state != "Successful" {
		t.Fatalf("reference export ended %s", state)
	}
	p.cmd.Process.Signal(os.Interrupt)
	p.wait(t, 30*time.Second)

	// The crashed one: each run is killed at the next point, after
	// resuming from where the previous one was killed.
	points := []string{
		"documents:10", "documents:" + itoa(ends[0]+5), "collections:2", "documents:" + itoa(ends[2]),
		"documents:" + itoa(ends[2]+1), "collections:4", "documents:" + itoa(ends[len(ends)-2]+3),
		"documents:" + itoa(total-1), "documents:" + itoa(total), "collections:" + itoa(int64(len(ends))), "complete:1",
	}
	var jobID, prefix string
	crashBucket := ""
	for i, point := range points {
		p := startServeEnv(t, dir, []string{exportrunner.CrashEnv + "=" + point}, flags...)
		owner = owner.At(p.base)
		if i == 0 {
			crashBucket = bucket("crashed")
			jobID, prefix = createJob(owner, crashBucket)
		}
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Fatalf("serve was not killed at %s\nstderr: %s", point, p.stderr)
		}
		if !strings.Contains(p.err.Error(), "killed") {
			t.Fatalf("serve at %s ended with %v, want SIGKILL\nstderr: %s", point, p.err, p.stderr)
		}
		if _, err := os.Stat(localObject(dir, "crashed", prefix+"/.complete")); err == nil {
			t.Fatalf(".complete written before the crash at %s", point)
		}
	}
	p = startServe(t, dir, flags...)
	owner = owner.At(p.base)
	if state := waitJob(owner, jobID, time.Minute); state != "Successful" {
		t.Fatalf("crashed export ended %s\nstderr: %s", state, p.stderr)
	}

	want := localObjects(t, dir, "reference", refPrefix)
	got := localObjects(t, dir, "crashed", prefix)
	if len(want) < len(ends)*2 {
		t.Fatalf("reference export has only %d objects", len(want))
	}
	for key, data := range want {
		if g, ok := got[key]; !ok {
			t.Errorf("crashed export lacks %s", key)
		} else if !bytes.Equal(g, data) {
			t.Errorf("crashed export's %s differs from the uninterrupted one's", key)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("crashed export has %s, which the uninterrupted one has not", key)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// localObject is the file of a local-mode AWS bucket's object.
func localObject(dataDir, bucket, key string) string {
	return filepath.Join(dataDir, "buckets", "aws", bucket, filepath.FromSlash(key))
}

// localObjects reads a local bucket's objects under prefix, keyed by their
// key relative to it.
func localObjects(t *testing.T, dataDir, bucket, prefix string) map[string][]byte {
	t.Helper()
	root := localObject(dataDir, bucket, prefix)
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestShippedBinaryHasNoCrashPoints builds the command as users do and
// checks that no crash point made it in: neither the variable that arms
// one nor the code that reads it.
func TestShippedBinaryHasNoCrashPoints(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "snapexport")
	if err := goBuild(bin); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(exportrunner.CrashEnv)) {
		t.Errorf("the shipped binary mentions %s", exportrunner.CrashEnv)
	}
	// The test binary is built with the crash points: the check above
	// can fail.
	armed, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(armed, []byte(exportrunner.CrashEnv)) {
		t.Errorf("the test binary, built with -tags crashpoints, does not mention %s", exportrunner.CrashEnv)
	}
}
