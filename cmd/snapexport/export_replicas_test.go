package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/exporttest"
)

var exportRunning = regexp.MustCompile(`msg="export started" export=([0-9a-f]{24})`)

// TestReplicasShareExports runs two serve processes on one PostgreSQL
// schema (and one data directory, for the local buckets and snapshots):
// each export job runs on one replica at a time, and the job of a replica
// killed mid-export is finished by the other, without a restart.
func TestReplicasShareExports(t *testing.T) {
	u, creds := initPostgres(t)
	dir := filepath.Join(t.TempDir(), "shared")
	g := creds.GroupID
	if res := execBinary(t, "admin", "cluster", "create", "--data", dir, "--database", u, "--group", g, "--name", "Cluster0"); res.code != 0 {
		t.Fatalf("cluster create: %s", res.stderr)
	}
	var snapshots []string
	for seed := range 4 {
		archive := filepath.Join(t.TempDir(), "dump.archive")
		ds := dumptest.Generate(dumptest.Options{Seed: uint64(seed + 30), DocsPerCollection: 100, BulkBytes: 12 << 20, BulkDocSize: 4 << 10})
		if err := os.WriteFile(archive, dumptest.ArchiveBytes(ds, false, false), 0o600); err != nil {
			t.Fatal(err)
		}
		res := execBinary(t, "snapshot", "import", "--data", dir, "--database", u, "--group", g, "--cluster", "Cluster0",
			"--archive", archive, "--json")
		if res.code != 0 {
			t.Fatalf("import: %s", res.stderr)
		}
		snapshots = append(snapshots, jsonField(t, []byte(res.stdout), "id"))
	}
	flags := []string{"--database", u, "--no-rate-limit", "--export-chunk-bytes", "32768", "--export-lease", "1s",
		"--export-jobs", "2"}
	// Replica a runs alone first and takes the first jobs; replica b
	// starts while a works on them (and waits: a holds their leases);
	// a is killed at its 2500th document of a job; b finishes a's jobs
	// and runs the other two.
	a := startServeEnv(t, dir, []string{exportrunner.CrashEnv + "=documents:2500"}, flags...)
	owner := creds.owner(a.base)
	role := awsRole(t, owner, g)
	got := owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + g + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"), Body: `{"bucketName":"shared","cloudProvider":"AWS","iamRoleId":"` + role + `"}`})
	if got.Status != 200 {
		t.Fatalf("bucket: %s", got)
	}
	bucketID := got.Field(t, "_id")
	exportsPath := "/api/atlas/v2/groups/" + g + "/clusters/Cluster0/backup/exports"
	var jobs []string
	prefixes := map[string]string{}
	create := func(c *apitest.Client, snapshotID string) {
		got := c.Do(t, apitest.Request{Method: "POST", Path: exportsPath, Accept: apitest.MediaType("2023-01-01"), Body: `{"snapshotId":"` + snapshotID + `","exportBucketId":"` + bucketID + `"}`})
		if got.Status != 200 {
			t.Fatalf("create export: %s", got)
		}
		id := got.Field(t, "id")
		jobs = append(jobs, id)
		prefixes[id] = got.Field(t, "prefix")
	}
	create(owner, snapshots[0])
	// Replica a may reach its crash point while the second job is being
	// created: then the job is created through replica b once it is up,
	// unless a recorded it before dying.
	second := apitest.Request{Method: "POST", Path: exportsPath, Accept: apitest.MediaType("2023-01-01"),
		Body: `{"snapshotId":"` + snapshots[1] + `","exportBucketId":"` + bucketID + `"}`}
	if got, err := owner.Try(t, second); err == nil && got.Status == 200 {
		jobs = append(jobs, got.Field(t, "id"))
		prefixes[jobs[1]] = got.Field(t, "prefix")
	} else if err == nil {
		t.Fatalf("create export: %s", got)
	} else {
		t.Logf("replica a died while the second job was created (%v): created through replica b", err)
	}
	for deadline := time.Now().Add(30 * time.Second); len(exportRunning.FindAllString(a.stderr.String(), -1)) < 1; {
		if a.exited() || time.Now().After(deadline) {
			t.Fatalf("replica a did not start exporting\n%s", a.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b := startServe(t, dir, flags...)
	if a.exited() {
		t.Log("replica a died before replica b was up: b takes its jobs over at start")
	}
	select {
	case <-a.done:
	case <-time.After(time.Minute):
		t.Fatal("replica a was not killed")
	}
	owner = owner.At(b.base)
	if len(jobs) == 1 {
		list := owner.Do(t, apitest.Request{Path: exportsPath, Accept: apitest.MediaType("2023-01-01")})
		var page struct {
			Results []struct{ ID, SnapshotID, Prefix string }
		}
		if err := json.Unmarshal(list.Body, &page); err != nil {
			t.Fatalf("list exports: %s", list)
		}
		for _, j := range page.Results {
			if j.SnapshotID == snapshots[1] {
				jobs, prefixes[j.ID] = append(jobs, j.ID), j.Prefix
			}
		}
		if len(jobs) == 1 {
			create(owner, snapshots[1])
		}
	}
	create(owner, snapshots[2])
	create(owner, snapshots[3])

	deadline := time.Now().Add(2 * time.Minute)
	for _, id := range jobs {
		for {
			got := owner.Do(t, apitest.Request{Path: exportsPath + "/" + id, Accept: apitest.MediaType("2023-01-01")})
			if got.Status != 200 {
				t.Fatalf("get export: %s", got)
			}
			state := got.Field(t, "state")
			if state == "Successful" {
				break
			}
			if state != "Queued" && state != "InProgress" {
				t.Fatalf("export %s ended %s: %s", id, state, got.Body)
			}
			if time.Now().After(deadline) {
				t.Fatalf("export %s still %s\nreplica b: %s", id, state, b.stderr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	runs := func(log string) map[string]int {
		n := map[string]int{}
		for _, m := range exportRunning.FindAllStringSubmatch(log, -1) {
			n[m[1]]++
		}
		return n
	}
	onA, onB := runs(a.stderr.String()), runs(b.stderr.String())
	taken := 0
	for _, id := range jobs {
		switch {
		case onA[id] == 1 && onB[id] == 1:
			taken++ // a's job, finished by b
		case onA[id]+onB[id] != 1:
			t.Errorf("export %s ran %d times on a and %d on b", id, onA[id], onB[id])
		}
		objs := localObjects(t, dir, "shared", prefixes[id])
		var c exporttest.Complete
		if err := json.Unmarshal(objs[".complete"], &c); err != nil || c.TotalFiles != len(objs)-1 {
			t.Errorf("export %s: .complete %s with %d objects", id, objs[".complete"], len(objs))
		}
		for key := range objs {
			if strings.HasSuffix(key, ".tmp") {
				t.Errorf("export %s left %s", id, key)
			}
		}
	}
	if taken == 0 {
		t.Errorf("no job moved from the killed replica to the other\nruns on a %v, on b %v", onA, onB)
	}
}
