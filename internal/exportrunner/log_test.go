package exportrunner_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// logInto has a test server log everything, DEBUG included, into logs as
// JSON lines.
func logInto(logs *testserver.LogBuffer, opts testserver.Options) testserver.Options {
	opts.Logger = slog.New(logs.JSONHandler(slog.LevelDebug))
	return opts
}

// exportLines are the lines logged of the export whose user holds the id
// exportID; every line about an export must name it, the test's only one.
func exportLines(t *testing.T, logs *testserver.LogBuffer, exportID string) []testserver.LogRecord {
	t.Helper()
	records, err := logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	var out []testserver.LogRecord
	for _, r := range records {
		if !strings.HasPrefix(r.Msg(), "export") && !strings.HasPrefix(r.Msg(), "sharded export") {
			continue
		}
		if r.Str("export") != exportID {
			t.Errorf("a line about an export names export %q, want %s: %v", r.Str("export"), exportID, r)
			continue
		}
		out = append(out, r)
	}
	return out
}

// only is the one line of lines with message msg about component ("" for
// the export itself).
func only(t *testing.T, lines []testserver.LogRecord, msg, component string) testserver.LogRecord {
	t.Helper()
	var found []testserver.LogRecord
	for _, r := range lines {
		if r.Msg() == msg && r.Str("component") == component {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d lines %q of component %q, want 1; the export's lines: %v", len(found), msg, component, lines)
	}
	return found[0]
}

// wantAttrs checks a line's level and attributes ("" for one that must be
// absent).
func wantAttrs(t *testing.T, r testserver.LogRecord, level string, attrs map[string]string) {
	t.Helper()
	if r.Level() != level {
		t.Errorf("%q at %s, want %s: %v", r.Msg(), r.Level(), level, r)
	}
	for k, want := range attrs {
		if got := r.Str(k); got != want {
			t.Errorf("%q: %s = %q, want %q", r.Msg(), k, got, want)
		}
	}
}

// wantEnded checks the line telling the end of job as the API shows it
// ended: its state, what it exported, why it failed, and the time from
// its creation to its end.
func wantEnded(t *testing.T, r testserver.LogRecord, level string, job *snapexport.ExportJob) {
	t.Helper()
	p := job.Progress
	want := map[string]string{"state": string(job.State), "collections": strconv.Itoa(p.ExportedCollections),
		"documents": strconv.FormatInt(p.Documents, 10), "bytes": strconv.FormatInt(p.Bytes, 10), "errorCode": "", "message": ""}
	if job.StateReason != nil {
		want["errorCode"], want["message"] = job.StateReason.ErrorCode, job.StateReason.Message
	}
	wantAttrs(t, r, level, want)
	took, err := strconv.ParseInt(r.Str("sinceCreated"), 10, 64)
	if err != nil {
		t.Fatalf("sinceCreated %q: %v", r.Str("sinceCreated"), err)
	}
	// The API's times are the stored ones, to the millisecond.
	if d := time.Duration(took) - job.FinishedAt.Sub(job.CreatedAt); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("sinceCreated %s, but the job was created at %s and finished at %s", time.Duration(took), job.CreatedAt, job.FinishedAt)
	}
}

// wantNoSecrets checks that no line logged holds one of secrets.
func wantNoSecrets(t *testing.T, logs *testserver.LogBuffer, secrets map[string]string) {
	t.Helper()
	logged := logs.Bytes()
	for name, s := range secrets {
		if bytes.Contains(logged, []byte(s)) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

// serverSecrets are the credentials of a test server's principals.
func serverSecrets(srv *testserver.Server) map[string]string {
	return map[string]string{"API private key": srv.APIKey.PrivateKey, "client secret": srv.ServiceAccount.ClientSecret}
}

// TestLogOfShardedExport: each shard's job logs its start and end naming
// both the sharded export, the id its user holds, and its own; the
// sharded export's end tells the outcome with the shards' sums.
func TestLogOfShardedExport(t *testing.T) {
	var logs testserver.LogBuffer
	srv := testserver.NewServer(t, logInto(&logs, testserver.Options{Exports: &exportrunner.Config{ChunkBytes: 8 << 10,
		PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}}))
	ctx := context.Background()
	svc := srv.Server.Service
	if _, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "sharded", Shards: []string{"rs0", "rs1"}}); err != nil {
		t.Fatal(err)
	}
	taken := time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC)
	var sharded *snapexport.Snapshot
	for i, rs := range []string{"rs0", "rs1"} {
		ds := dumptest.Generate(dumptest.Options{Seed: uint64(20 + i), DocsPerCollection: 30})
		res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "sharded", Shard: rs, TakenAt: taken},
			bytes.NewReader(dumptest.ArchiveBytes(ds, false, false)))
		if err != nil {
			t.Fatal(err)
		}
		sharded = res.Sharded
	}
	if sharded == nil {
		t.Fatal("importing both shards made no sharded-cluster snapshot")
	}
	f := &fixture{srv: srv, svc: svc}
	bucketID := f.bucket(t, "sharded-exports")
	job := f.createExport(t, service.ExportJobInput{ProjectID: srv.GroupID, ClusterName: "sharded", SnapshotID: sharded.ID, ExportBucketID: bucketID})
	done := f.waitIn(t, "sharded", job.ID, time.Minute)
	if done.State != snapexport.ExportSuccessful {
		t.Fatalf("sharded export ended %s: %+v", done.State, done.StateReason)
	}

	lines := exportLines(t, &logs, job.ID)
	if len(job.Components) != 2 {
		t.Fatalf("%d components", len(job.Components))
	}
	for _, c := range job.Components {
		comp, err := svc.LoadExportJob(ctx, srv.GroupID, c.ExportID)
		if err != nil {
			t.Fatal(err)
		}
		started := only(t, lines, "export started", c.ExportID)
		wantAttrs(t, started, "INFO", map[string]string{"group": srv.GroupID, "cluster": "sharded", "replicaSet": c.ReplicaSetName,
			"snapshot": sharded.ID, "bucket": bucketID, "fromCollection": "0", "attempt": "1"})
		wantEnded(t, only(t, lines, "export ended", c.ExportID), "INFO", comp)
		if comp.Progress.Documents == 0 {
			t.Errorf("shard %s exported no documents", c.ReplicaSetName)
		}
	}
	ended := only(t, lines, "export ended", "")
	wantEnded(t, ended, "INFO", done)
	wantAttrs(t, ended, "INFO", map[string]string{"group": srv.GroupID, "cluster": "sharded", "replicaSet": "", "shards": "2"})
	wantNoSecrets(t, &logs, serverSecrets(srv))
}

// TestLogOfShutdownMidExport stops a server while it exports: the export
// logs its interruption at INFO, and River's own lines (client start and
// stop, its producer, the job it puts back for the next start) are all
// DEBUG: at INFO, nothing of River's, and nothing at WARN or ERROR.
func TestLogOfShutdownMidExport(t *testing.T) {
	var info, debug testserver.LogBuffer
	logger := slog.New(slog.NewMultiHandler(slog.NewTextHandler(&info, nil), debug.JSONHandler(slog.LevelDebug)))
	srv, err := testserver.Start(context.Background(), testserver.Options{Logger: logger, Exports: &exportrunner.Config{ChunkBytes: 64 << 10,
		PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 4, DocsPerCollection: 20, BulkBytes: 24 << 20, BulkDocSize: 4 << 10})
	f := fixtureOn(t, srv, ds)
	job := f.createExport(t, f.exportInput(f.bucket(t, "interrupted")))
	f.waitInProgress(t, job.ID)
	srv.Close()

	if text := info.String(); strings.Contains(strings.ToLower(text), "river") {
		t.Errorf("River's lines at INFO:\n%s", text)
	}
	records, err := debug.Records()
	if err != nil {
		t.Fatal(err)
	}
	var river []string
	for _, r := range records {
		if r.Level() == "WARN" || r.Level() == "ERROR" {
			t.Errorf("a %s line in a clean start and stop: %v", r.Level(), r)
		}
		if r.Str("component") == "river" {
			if r.Level() != "DEBUG" {
				t.Errorf("River's line at %s: %v", r.Level(), r)
			}
			river = append(river, r.Msg())
		}
	}
	// River did speak: its lines are there, at DEBUG.
	for _, want := range []string{"River client started", "River client stopped", "Job stopped due to client shutdown"} {
		if !strings.Contains(strings.Join(river, "\n"), want) {
			t.Errorf("no line of River's %q at DEBUG; River's lines:\n%s", want, strings.Join(river, "\n"))
		}
	}
	lines := exportLines(t, &debug, job.ID)
	wantAttrs(t, only(t, lines, "export started", ""), "INFO", map[string]string{"attempt": "1", "fromCollection": "0"})
	wantAttrs(t, only(t, lines, "export interrupted by shutdown", ""), "INFO", map[string]string{"group": srv.GroupID,
		"cluster": "Cluster0", "attempt": "1"})
	wantNoSecrets(t, &debug, serverSecrets(srv))
}
