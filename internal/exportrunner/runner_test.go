package exportrunner_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

type fixture struct {
	srv    *testserver.Server
	svc    *service.Service
	ds     *dumptest.Dataset
	snapID string
}

func newFixture(t *testing.T, opts testserver.Options, ds *dumptest.Dataset) *fixture {
	t.Helper()
	return fixtureOn(t, testserver.NewServer(t, opts), ds)
}

// fixtureOn makes the fixture on a running server.
func fixtureOn(t *testing.T, srv *testserver.Server, ds *dumptest.Dataset) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{srv: srv, svc: srv.Server.Service, ds: ds}
	if _, err := f.svc.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "Cluster0",
		Labels: []snapexport.Label{{Key: "env", Value: "test"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0", TakenAt: time.Date(2026, 8, 10, 3, 27, 8, 321e6, time.UTC)},
		bytes.NewReader(dumptest.ArchiveBytes(ds, false, false)))
	if err != nil {
		t.Fatal(err)
	}
	f.snapID = res.Snapshot.ID
	return f
}

func (f *fixture) bucket(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	g := f.srv.GroupID
	role, err := f.svc.CreateRole(ctx, g, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthorizeRole(ctx, g, role.ID, service.RoleInput{Provider: snapexport.AWS, IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/x"}); err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.CreateBucket(ctx, g, service.BucketInput{Provider: snapexport.AWS, BucketName: name, RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	return b.ID
}

// exportInput asks for an export of the fixture's snapshot to bucketID.
func (f *fixture) exportInput(bucketID string) service.ExportJobInput {
	return service.ExportJobInput{ProjectID: f.srv.GroupID, ClusterName: "Cluster0", SnapshotID: f.snapID, ExportBucketID: bucketID}
}

// createExport creates an export job of the fixture's snapshot.
func (f *fixture) createExport(t *testing.T, in service.ExportJobInput) *snapexport.ExportJob {
	t.Helper()
	job, err := f.svc.CreateExportJob(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// wait polls a job of Cluster0 until it ends.
func (f *fixture) wait(t *testing.T, id string, within time.Duration) *snapexport.ExportJob {
	t.Helper()
	return f.waitIn(t, "Cluster0", id, within)
}

// waitIn polls a job of cluster until it ends.
func (f *fixture) waitIn(t *testing.T, cluster, id string, within time.Duration) *snapexport.ExportJob {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := f.svc.ExportJob(context.Background(), f.srv.GroupID, cluster, id)
		if err != nil {
			t.Fatal(err)
		}
		if !j.State.Active() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("export %s still %s after %s (progress %+v)", id, j.State, within, j.Progress)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitInProgress polls a job of Cluster0 until it is InProgress.
func (f *fixture) waitInProgress(t *testing.T, id string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		j, err := f.svc.ExportJob(context.Background(), f.srv.GroupID, "Cluster0", id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == snapexport.ExportInProgress {
			return
		}
		if !j.State.Active() || time.Now().After(deadline) {
			t.Fatalf("export did not start: %s", j.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// objects reads every object under prefix.
func objects(t *testing.T, b *blob.Bucket, prefix string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	it := b.List(&blob.ListOptions{Prefix: prefix + "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := b.ReadAll(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[obj.Key] = data
	}
	return out
}

func TestExportToLocalBucket(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 60})
	var logs testserver.LogBuffer
	f := newFixture(t, logInto(&logs, testserver.Options{Exports: &exportrunner.Config{ChunkBytes: 8 << 10, PollInterval: 20 * time.Millisecond,
		RetryDelay: 50 * time.Millisecond, ParallelCollections: 3}}), ds)
	ctx := context.Background()
	bucketID := f.bucket(t, "exports")
	custom := []snapexport.Label{{Key: "ticket", Value: "OPS-1 <&>"}}
	in := f.exportInput(bucketID)
	in.CustomData = custom
	job := f.createExport(t, in)
	if !strings.HasPrefix(job.Prefix, "exported_snapshots/"+f.srv.OrgID+"/"+f.srv.GroupID+"/Cluster0/2026-08-10T0327/") {
		t.Errorf("prefix %s", job.Prefix)
	}
	done := f.wait(t, job.ID, time.Minute)
	if done.State != snapexport.ExportSuccessful || done.FinishedAt == nil || done.StateReason != nil ||
		done.Progress.ExportedCollections != done.Progress.TotalCollections || done.Progress.TotalCollections == 0 {
		t.Fatalf("job ended %+v", done)
	}
	// The log tells the run's start and the job's end.
	lines := exportLines(t, &logs, job.ID)
	wantAttrs(t, only(t, lines, "export started", ""), "INFO", map[string]string{"group": f.srv.GroupID, "cluster": "Cluster0",
		"replicaSet": done.ReplicaSetName, "snapshot": f.snapID, "bucket": bucketID, "fromCollection": "0", "attempt": "1"})
	wantEnded(t, only(t, lines, "export ended", ""), "INFO", done)
	wantNoSecrets(t, &logs, serverSecrets(f.srv))

	b := f.srv.OpenExportBucket(t, bucketID)
	objs := objects(t, b, job.Prefix)
	complete, found := objs[job.Prefix+"/.complete"]
	if !found {
		t.Fatalf("no .complete among %d objects", len(objs))
	}
	var c struct {
		TotalFiles             int                `json:"totalFiles"`
		Labels                 []snapexport.Label `json:"labels"`
		CustomData             []snapexport.Label `json:"customData"`
		SnapshotInitiationDate string             `json:"snapshotInitiationDate"`
		ClusterName            string             `json:"clusterName"`
	}
	if err := json.Unmarshal(complete, &c); err != nil {
		t.Fatal(err)
	}
	if c.TotalFiles != len(objs)-1 || c.TotalFiles != done.Progress.Files || len(c.Labels) != 1 || c.Labels[0].Value != "test" ||
		len(c.CustomData) != 1 || c.CustomData[0] != custom[0] || c.SnapshotInitiationDate != "2026-08-10T03:27:08.321Z" {
		t.Errorf(".complete = %s (objects %d)", complete, len(objs))
	}
	if ok, _ := b.Exists(ctx, "exported_snapshots/.permissioncheck"); !ok {
		t.Error("no exported_snapshots/.permissioncheck")
	}

	// Every document of every exported collection, in order, across its
	// data objects.
	seen := 0
	for _, col := range ds.Collections {
		if col.Type == dumptest.TypeView {
			continue
		}
		dir := job.Prefix + "/" + col.DB + "/" + col.Name + "/"
		if _, ok := objs[dir+"metadata.json"]; !ok {
			t.Errorf("%s: no metadata.json", dir)
		}
		n := 0
		for part := 0; ; part++ {
			data, ok := objs[dir+"Cluster0-shard-0."+strconv.Itoa(part)+".json.gz"]
			if !ok {
				break
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(zr)
			sc.Buffer(nil, 64<<20)
			for sc.Scan() {
				var raw bson.Raw
				if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &raw); err != nil {
					t.Fatalf("%s part %d line %d: %v", dir, part, n, err)
				}
				if n >= col.NumDocs {
					t.Fatalf("%s: more than %d documents", dir, col.NumDocs)
				}
				sameDocument(t, dir, n, sc.Bytes(), raw, col.Doc(n))
				n++
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		}
		if n != col.NumDocs {
			t.Errorf("%s: %d documents exported, want %d", dir, n, col.NumDocs)
		}
		seen++
	}
	if seen == 0 {
		t.Fatal("no collection checked")
	}

	// One active export per snapshot; an ended one does not count.
	if _, err := f.svc.CreateExportJob(ctx, f.exportInput(bucketID)); err != nil {
		t.Errorf("second export after the first ended: %v", err)
	}
}

// sameDocument checks an exported line against the snapshot's document:
// the line is the document's canonical Extended JSON, and parsing it gives
// the document's bytes back, except where Extended JSON cannot tell values
// apart (NaN payloads: a signalling Decimal128 NaN reads back as the quiet
// one), which only documents holding a NaN may show.
func sameDocument(t *testing.T, where string, n int, line []byte, parsed, want bson.Raw) {
	t.Helper()
	canonical, err := bson.MarshalExtJSON(want, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(line, canonical) {
		t.Fatalf("%s: document %d exported as\n%s\nwant\n%s", where, n, line, canonical)
	}
	if !bytes.Equal(parsed, want) && !bytes.Contains(canonical, []byte(`"NaN"`)) {
		t.Fatalf("%s: document %d reads back with other bytes", where, n)
	}
}

// TestActiveExportHoldsBucket: a bucket an active export writes to cannot
// be deleted, nor can a second export of the same snapshot start.
func TestActiveExportHoldsBucket(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 6, DocsPerCollection: 5})
	f := newFixture(t, testserver.Options{NoExports: true}, ds)
	ctx := context.Background()
	bucketID := f.bucket(t, "held")
	other := f.bucket(t, "other")
	job := f.createExport(t, f.exportInput(bucketID))
	if err := f.svc.DeleteBucket(ctx, f.srv.GroupID, bucketID); snapexport.ErrorCode(err) != snapexport.CodeExportBucketInUse {
		t.Errorf("delete of a bucket in use: %v", err)
	}
	if err := f.svc.DeleteSnapshot(ctx, f.srv.GroupID, "Cluster0", f.snapID, ""); snapexport.ErrorCode(err) != snapexport.CodeSnapshotBeingExported {
		t.Errorf("delete of a snapshot being exported: %v", err)
	}
	_, err := f.svc.CreateExportJob(ctx, f.exportInput(other))
	if snapexport.ErrorCode(err) != snapexport.CodeExportAlreadyInProgress {
		t.Errorf("second export of an exporting snapshot: %v", err)
	}
	if _, err := f.svc.CancelExportJob(ctx, f.srv.GroupID, "Cluster0", job.ID); err != nil {
		t.Fatal(err)
	}
	// No runner: the job stays Queued, with the cancellation requested.
	j, err := f.svc.ExportJob(ctx, f.srv.GroupID, "Cluster0", job.ID)
	if err != nil || !j.CancelRequested || j.State != snapexport.ExportQueued {
		t.Fatalf("after cancel: %+v, %v", j, err)
	}
	if err := f.svc.DeleteBucket(ctx, f.srv.GroupID, other); err != nil {
		t.Errorf("delete of an unused bucket: %v", err)
	}
}

// TestAutoExport: a snapshot whose frequency is the schedule's export
// policy's is exported on arrival; others are not.
func TestAutoExport(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 7, DocsPerCollection: 10})
	f := newFixture(t, testserver.Options{Exports: &exportrunner.Config{PollInterval: 20 * time.Millisecond}}, ds)
	ctx := context.Background()
	bucketID := f.bucket(t, "auto")
	on := true
	if _, err := f.svc.UpdateBackupSchedule(ctx, f.srv.GroupID, "Cluster0", service.ScheduleInput{AutoExportEnabled: &on,
		Export: &service.ExportPolicyInput{BucketID: bucketID, FrequencyType: "monthly"}}); err != nil {
		t.Fatal(err)
	}
	imp := func(frequency string) *service.ImportResult {
		res, err := f.srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0", FrequencyType: frequency},
			bytes.NewReader(dumptest.ArchiveBytes(ds, true, false)))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := imp("daily"); res.AutoExport != nil {
		t.Errorf("a daily snapshot was auto-exported by a monthly policy: %s", res.AutoExport.ID)
	}
	res := imp("monthly")
	if res.AutoExport == nil || res.AutoExport.SnapshotID != res.Snapshot.ID || res.AutoExport.ExportBucketID != bucketID {
		t.Fatalf("monthly snapshot: auto-export %+v", res.AutoExport)
	}
	if done := f.wait(t, res.AutoExport.ID, time.Minute); done.State != snapexport.ExportSuccessful {
		t.Fatalf("auto-export ended %s", done.State)
	}
	jobs, total, err := f.svc.ExportJobs(ctx, f.srv.GroupID, "Cluster0", snapexport.Page{})
	if err != nil || total != 1 || jobs[0].ID != res.AutoExport.ID {
		t.Errorf("export jobs = %d %v", total, err)
	}
}
