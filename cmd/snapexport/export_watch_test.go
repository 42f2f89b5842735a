package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/server"
)

// idleExport is an export job that no server runs: it stays as the test
// sets it, so that export watch and export cancel can be shown each state.
type idleExport struct {
	dir, group, id string
}

func newIdleExport(t *testing.T) *idleExport {
	t.Helper()
	f := newImportFixture(t)
	e := &idleExport{dir: f.dir, group: f.group}
	res := runInProcess(t, append(f.args("--cluster", "Cluster0", "--archive", f.archive), "--json")...)
	if res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	snapshotID := jsonField(t, []byte(res.stdout), "id")
	// A server that answers the API but runs no export job.
	owner := f.creds.owner(startInProcess(t, e.dir))
	got := owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + e.group + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"),
		Body: `{"bucketName":"idle","cloudProvider":"AWS","iamRoleId":"` + awsRole(t, owner, e.group) + `"}`})
	if got.Status != 200 {
		t.Fatalf("bucket: %s", got)
	}
	got = owner.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + e.group + "/clusters/Cluster0/backup/exports", Accept: apitest.MediaType("2023-01-01"),
		Body: `{"snapshotId":"` + snapshotID + `","exportBucketId":"` + got.Field(t, "_id") + `"}`})
	if got.Status != 200 {
		t.Fatalf("export: %s", got)
	}
	e.id = got.Field(t, "id")
	return e
}

// args are the export command's arguments for the job, after more.
func (e *idleExport) args(action string, more ...string) []string {
	return append([]string{"export", action, "--data", e.dir, "--group", e.group, "--cluster", "Cluster0", "--export", e.id}, more...)
}

// change sets the job as a server would have.
func (e *idleExport) change(t *testing.T, set func(*snapexport.ExportJob)) {
	t.Helper()
	e.withJob(t, func(ctx context.Context, tx snapexport.Tx, j *snapexport.ExportJob) error {
		set(j)
		return tx.UpdateExportJob(ctx, j)
	})
}

// job reads the job as it is stored.
func (e *idleExport) job(t *testing.T) *snapexport.ExportJob {
	t.Helper()
	var out *snapexport.ExportJob
	e.withJob(t, func(_ context.Context, _ snapexport.Tx, j *snapexport.ExportJob) error {
		out = j
		return nil
	})
	return out
}

func (e *idleExport) withJob(t *testing.T, f func(context.Context, snapexport.Tx, *snapexport.ExportJob) error) {
	t.Helper()
	ctx := context.Background()
	srv := openDataDir(t, e.dir)
	defer srv.Close()
	err := srv.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		j, err := tx.ExportJob(ctx, e.group, e.id)
		if err != nil {
			return err
		}
		return f(ctx, tx, j)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openDataDir opens the installation in dir, as a command does; the
// caller closes it.
func openDataDir(t *testing.T, dir string) *server.Server {
	t.Helper()
	srv, err := server.Open(context.Background(), overSQLite(server.Config{DataDir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestExportCancelSaysWhatItDid cancels a queued job, then one that has
// already ended.
func TestExportCancelSaysWhatItDid(t *testing.T) {
	e := newIdleExport(t)
	res := runInProcess(t, e.args("cancel")...)
	want := "export " + e.id + " cancelled: it was Queued, and ends Cancelled once a server running exports stops it\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("cancel of a queued job: exit %d, stdout %q, want 0 and %q\n%s", res.code, res.stdout, want, res.stderr)
	}
	if j := e.job(t); !j.CancelRequested || j.State != snapexport.ExportQueued {
		t.Errorf("after cancel, the job is %s with cancelRequested %t", j.State, j.CancelRequested)
	}

	e.change(t, func(j *snapexport.ExportJob) {
		finished := j.CreatedAt.Add(time.Minute)
		j.State, j.FinishedAt, j.CancelRequested = snapexport.ExportSuccessful, &finished, false
	})
	res = runInProcess(t, e.args("cancel")...)
	want = "export " + e.id + " already ended Successful; nothing to cancel\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("cancel of an ended job: exit %d, stdout %q, want 0 and %q\n%s", res.code, res.stdout, want, res.stderr)
	}
	res = runInProcess(t, e.args("cancel", "--json")...)
	var printed jobJSON
	if err := json.Unmarshal([]byte(res.stdout), &printed); res.code != 0 || err != nil || printed.State != "Successful" || printed.CancelRequested {
		t.Errorf("cancel --json of an ended job: exit %d, %v, %+v", res.code, err, printed)
	}
	if !strings.Contains(res.stderr, "nothing to cancel") {
		t.Errorf("cancel --json of an ended job does not say that nothing was cancelled: %q", res.stderr)
	}
	if j := e.job(t); j.CancelRequested || j.State != snapexport.ExportSuccessful {
		t.Errorf("cancel of an ended job changed it: %s, cancelRequested %t", j.State, j.CancelRequested)
	}
}

// TestExportWatchEndedJob watches jobs that ended before the watch began:
// it prints what they exported and how long they took by their own
// record, and no rate of its own.
func TestExportWatchEndedJob(t *testing.T) {
	e := newIdleExport(t)
	e.change(t, func(j *snapexport.ExportJob) {
		finished := j.CreatedAt.Add(90 * time.Second)
		j.State, j.FinishedAt = snapexport.ExportSuccessful, &finished
		j.Progress = snapexport.ExportProgress{TotalCollections: 4, ExportedCollections: 4, Files: 9, Documents: 1000,
			Bytes: 7 << 19, TotalDocuments: 1000, TotalBytes: 7 << 19}
	})
	res := runInProcess(t, e.args("watch", "--interval", "10ms")...)
	want := "export " + e.id + ": Successful, 4 of 4 collections, 1000 documents, 3.5 MiB, 1m30s from creation to end\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("watch of a finished job: exit %d, stdout %q, want %q\n%s", res.code, res.stdout, want, res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, "/s") || strings.Contains(res.stdout+res.stderr, "ETA") {
		t.Errorf("watch of a finished job printed a rate or an ETA:\n%s%s", res.stdout, res.stderr)
	}
	res = runInProcess(t, e.args("watch", "--json")...)
	var printed jobJSON
	if err := json.Unmarshal([]byte(res.stdout), &printed); res.code != 0 || err != nil || printed.FinishedAt == "" || printed.CreatedAt == "" {
		t.Errorf("watch --json of a finished job: exit %d, %v, %s", res.code, err, res.stdout)
	}
	if res.stderr != want {
		t.Errorf("watch --json: stderr %q, want the summary %q", res.stderr, want)
	}

	e.change(t, func(j *snapexport.ExportJob) {
		j.State = snapexport.ExportFailed
		j.StateReason = &snapexport.ExportStateReason{ErrorCode: "EXPORT_FAILED", Message: "the bucket refused the upload"}
	})
	res = runInProcess(t, e.args("watch")...)
	if res.code != 1 || !strings.Contains(res.stdout, "Failed, 4 of 4 collections") ||
		!strings.Contains(res.stdout, "EXPORT_FAILED: the bucket refused the upload") ||
		!strings.Contains(res.stderr, "snapexport: export watch: export "+e.id+" ended Failed") {
		t.Errorf("watch of a failed job: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
}

// TestExportWatchStalledJob watches a job that no server progresses: the
// watch says so, shows no rate nor time left, and gives up at --timeout
// with status 3.
func TestExportWatchStalledJob(t *testing.T) {
	e := newIdleExport(t)
	e.change(t, func(j *snapexport.ExportJob) {
		j.State = snapexport.ExportInProgress
		j.Progress = snapexport.ExportProgress{TotalCollections: 4, ExportedCollections: 1, Files: 2, Documents: 250,
			Bytes: 1 << 20, TotalDocuments: 1000, TotalBytes: 4 << 20}
	})
	res := execBinary(t, e.args("watch", "--interval", "10ms", "--stall-after", "1ms", "--timeout", "1s")...)
	if res.code != 3 || res.stdout != "" {
		t.Fatalf("watch of a stalled job: exit %d, want 3\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"export " + e.id + ": InProgress, 1/4 collections, 250/1000 documents, 1.0 MiB of 4.0 MiB (25%), ETA ?\n",
		"export " + e.id + ": no progress for ",
		" (still InProgress): is a server running exports?\n",
		"snapexport: export watch: gave up after --timeout 1s: export " + e.id + " is still InProgress, 1 of 4 collections, 250 of 1000 documents exported\n",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("watch of a stalled job does not say %q:\n%s", want, res.stderr)
		}
	}
	if strings.Contains(res.stderr, "/s") || strings.Count(res.stderr, "no progress for") != 1 {
		t.Errorf("watch of a stalled job printed a rate, or the stall more than once:\n%s", res.stderr)
	}
}

func TestWatchRate(t *testing.T) {
	start := time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC)
	var m rateMeter
	for _, tc := range []struct {
		at    time.Duration
		state snapexport.ExportState
		bytes int64
		want  float64
	}{
		{0, snapexport.ExportQueued, 0, 0},
		{time.Second, snapexport.ExportInProgress, 1 << 20, 0}, // the first sample of the run
		{2 * time.Second, snapexport.ExportInProgress, 1 << 20, 0},
		{3 * time.Second, snapexport.ExportInProgress, 5 << 20, 2 << 20},
		{4 * time.Second, snapexport.ExportInProgress, 2 << 20, 0}, // back to a checkpoint: measured again
		{6 * time.Second, snapexport.ExportInProgress, 4 << 20, 1 << 20},
	} {
		if got := m.sample(start.Add(tc.at), tc.state, tc.bytes); got != tc.want {
			t.Errorf("at %s, %s with %d bytes: rate %g, want %g", tc.at, tc.state, tc.bytes, got, tc.want)
		}
	}
	for _, rate := range []float64{0, -1 << 20} {
		j := &snapexport.ExportJob{ID: "j", State: snapexport.ExportInProgress, Progress: snapexport.ExportProgress{Bytes: 1 << 20, TotalBytes: 2 << 20}}
		if line := progressLine(j, rate); !strings.HasSuffix(line, ", ETA ?") || strings.Contains(line, "/s") {
			t.Errorf("rate %g: %q, want no rate and ETA ?", rate, line)
		}
	}
	j := &snapexport.ExportJob{ID: "j", State: snapexport.ExportInProgress, Progress: snapexport.ExportProgress{Bytes: 1 << 20, TotalBytes: 4 << 20}}
	if got, want := progressLine(j, 1<<20), "export j: InProgress, 0/0 collections, 0/0 documents, 1.0 MiB of 4.0 MiB (25%), 1.0 MiB/s, ETA 3s"; got != want {
		t.Errorf("progress line %q, want %q", got, want)
	}
}

func TestStallClock(t *testing.T) {
	start := time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC)
	s := stallClock{after: time.Minute}
	queued := progressKey{state: snapexport.ExportQueued}
	running := progressKey{state: snapexport.ExportInProgress, progress: snapexport.ExportProgress{Bytes: 1}}
	for _, tc := range []struct {
		at   time.Duration
		key  progressKey
		tell bool
	}{
		{0, queued, false},
		{59 * time.Second, queued, false},
		{time.Minute, queued, true},
		{2 * time.Minute, queued, false}, // said once
		{3 * time.Minute, running, false},
		{4 * time.Minute, running, true}, // a new stall
	} {
		if _, tell := s.observe(start.Add(tc.at), tc.key); tell != tc.tell {
			t.Errorf("at %s: tell %t, want %t", tc.at, tell, tc.tell)
		}
	}
}
