package exportrunner_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// faultyS3 is gofakes3 behind a proxy that forwards everything until
// fail is set, and then answers as fail says.
type faultyS3 struct {
	s3   *testservices.S3Server
	fail atomic.Pointer[func(n int, r *http.Request) testservices.Verdict]
	cfg  objectstore.Config
}

func newFaultyS3(t *testing.T, bucket string) *faultyS3 {
	f := &faultyS3{s3: testservices.S3(t, bucket)}
	proxy := testservices.StartFaultProxy(t, f.s3.URL, func(n int, r *http.Request) testservices.Verdict {
		if fail := f.fail.Load(); fail != nil {
			return (*fail)(n, r)
		}
		return testservices.Verdict{}
	})
	f.cfg = objectstore.Config{
		AWS: objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: proxy.URL,
			AccessKeyID: "AKIDEXPORTFAULTS", SecretAccessKey: "export-faults-secret"},
		Timeout: 5 * time.Second,
		Retry:   objectstore.RetryPolicy{MaxAttempts: 6, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
	}
	return f
}

func (f *faultyS3) failWith(fn func(n int, r *http.Request) testservices.Verdict) { f.fail.Store(&fn) }

// faultFixture is a fixture whose AWS buckets are those of s3, with an
// authorized bucket of that name; its server logs into logs.
func faultFixture(t *testing.T, bucket string, logs *testserver.LogBuffer) (s3 *faultyS3, f *fixture, bucketID string) {
	s3 = newFaultyS3(t, bucket)
	ds := dumptest.Generate(dumptest.Options{Seed: 8, DocsPerCollection: 80})
	f = newFixture(t, logInto(logs, testserver.Options{ObjectStores: &s3.cfg, Exports: &exportrunner.Config{ChunkBytes: 4 << 10,
		PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond, Lease: 3 * time.Second}}), ds)
	return s3, f, f.bucket(t, bucket)
}

// TestExportRidesOutTransientFaults: 503s and dropped connections on a
// share of the bucket's requests are retried; the export succeeds with
// every object.
func TestExportRidesOutTransientFaults(t *testing.T) {
	var logs testserver.LogBuffer
	s3, f, bucketID := faultFixture(t, "flaky", &logs)
	var faults atomic.Int64
	s3.failWith(func(n int, r *http.Request) testservices.Verdict {
		switch {
		case n%4 == 1:
			faults.Add(1)
			return testservices.S3Error(http.StatusServiceUnavailable, "SlowDown")
		case n%7 == 3:
			faults.Add(1)
			return testservices.Verdict{Action: testservices.Drop}
		}
		return testservices.Verdict{}
	})
	job := f.createExport(t, f.exportInput(bucketID))
	done := f.wait(t, job.ID, time.Minute)
	if done.State != snapexport.ExportSuccessful {
		t.Fatalf("export under transient faults ended %s: %+v", done.State, done.StateReason)
	}
	if faults.Load() < 5 {
		t.Fatalf("only %d faults injected", faults.Load())
	}
	s3.fail.Store(nil)
	objs := objects(t, f.srv.OpenExportBucket(t, bucketID), job.Prefix)
	if _, ok := objs[job.Prefix+"/.complete"]; !ok || len(objs)-1 != done.Progress.Files {
		t.Errorf("%d objects, %d files recorded, .complete present %v", len(objs), done.Progress.Files, ok)
	}
}

// TestExportFailsOnRefusal: a bucket that starts refusing writes (403)
// fails the job with a reason naming the refusal, and no .complete.
func TestExportFailsOnRefusal(t *testing.T) {
	var logs testserver.LogBuffer
	s3, f, job, done, puts := refusedExport(t, "refusing", 5, testservices.S3Error(http.StatusForbidden, "AccessDenied"), &logs)
	if r := done.StateReason; r.ErrorCode != "BUCKET_ACCESS_DENIED" || !strings.Contains(r.Message, job.Prefix) {
		t.Errorf("stateReason = %+v, want BUCKET_ACCESS_DENIED naming the object", r)
	}
	if s3.s3.HasObject("refusing", job.Prefix+"/.complete") {
		t.Error("a failed export wrote .complete")
	}
	if puts > 10 {
		t.Errorf("%d PUTs: a refusal was retried", puts)
	}
	// The log tells the failure as the API does, without the bucket's
	// secret (its access key id names the credentials in the log of the
	// object stores on purpose).
	lines := exportLines(t, &logs, job.ID)
	only(t, lines, "export started", "")
	wantEnded(t, only(t, lines, "export ended", ""), "WARN", done)
	secrets := serverSecrets(f.srv)
	secrets["bucket's secret access key"] = s3.cfg.AWS.SecretAccessKey
	wantNoSecrets(t, &logs, secrets)
}

// TestCancelRunningExport cancels an export while it writes: it ends
// Cancelled, without .complete.
func TestCancelRunningExport(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 4, DocsPerCollection: 20, BulkBytes: 24 << 20, BulkDocSize: 4 << 10})
	var logs testserver.LogBuffer
	f := newFixture(t, logInto(&logs, testserver.Options{Exports: &exportrunner.Config{ChunkBytes: 64 << 10,
		PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}}), ds)
	ctx := context.Background()
	bucketID := f.bucket(t, "cancelled")
	job := f.createExport(t, f.exportInput(bucketID))
	f.waitInProgress(t, job.ID)
	if _, err := f.svc.CancelExportJob(ctx, f.srv.GroupID, "Cluster0", job.ID); err != nil {
		t.Fatal(err)
	}
	done := f.wait(t, job.ID, 30*time.Second)
	if done.State != snapexport.ExportCancelled || done.FinishedAt == nil {
		t.Fatalf("cancelled export ended %+v", done)
	}
	if _, ok := objects(t, f.srv.OpenExportBucket(t, bucketID), job.Prefix)[job.Prefix+"/.complete"]; ok {
		t.Error("a cancelled export wrote .complete")
	}
	lines := exportLines(t, &logs, job.ID)
	only(t, lines, "export started", "")
	wantEnded(t, only(t, lines, "export ended", ""), "INFO", done)
}

// TestExportFailsAtOnceOnRefusedRequest: a 400 the store will give again
// (a key it does not take) fails the job on its first attempt, with a
// reason naming the object but not the store's address.
func TestExportFailsAtOnceOnRefusedRequest(t *testing.T) {
	var logs testserver.LogBuffer
	_, _, job, done, puts := refusedExport(t, "too-long", 3, testservices.S3Error(http.StatusBadRequest, "KeyTooLongError"), &logs)
	if r := done.StateReason; r.ErrorCode != snapexport.CodeObjectStoreRefused || !strings.Contains(r.Message, job.Prefix) ||
		!strings.Contains(r.Message, "KeyTooLongError") {
		t.Errorf("stateReason = %+v, want %s naming the object and the store's code", r, snapexport.CodeObjectStoreRefused)
	}
	if puts > 5 {
		t.Errorf("%d PUTs: a refused request was retried", puts)
	}
}

// refusedExport runs an export to bucket, whose store answers refusal to
// each PUT after the first n, and returns it as it ended and how many
// PUTs were made. The export must fail with a reason that does not name
// the store's address.
func refusedExport(t *testing.T, bucket string, n int64, refusal testservices.Verdict, logs *testserver.LogBuffer) (
	s3 *faultyS3, f *fixture, job, done *snapexport.ExportJob, puts int64) {
	t.Helper()
	s3, f, bucketID := faultFixture(t, bucket, logs)
	var made atomic.Int64
	s3.failWith(func(_ int, r *http.Request) testservices.Verdict {
		if r.Method == http.MethodPut && made.Add(1) > n {
			return refusal
		}
		return testservices.Verdict{}
	})
	job = f.createExport(t, f.exportInput(bucketID))
	done = f.wait(t, job.ID, time.Minute)
	if done.State != snapexport.ExportFailed || done.StateReason == nil || done.FinishedAt == nil {
		t.Fatalf("export refused by the bucket ended %+v", done)
	}
	wantNothingInternal(t, done.StateReason.Message, strings.TrimPrefix(s3.cfg.AWS.Endpoint, "http://"))
	return s3, f, job, done, made.Load()
}

// wantNothingInternal fails the test when a client-visible message names
// one of internals, a host of the tests (all on loopback) or a database
// URL.
func wantNothingInternal(t *testing.T, message string, internals ...string) {
	t.Helper()
	for _, s := range append(internals, "127.0.0.1", "localhost", "postgres://", os.Getenv(testserver.EnvDatabase)) {
		if s != "" && strings.Contains(message, s) {
			t.Errorf("message %q names %s", message, s)
		}
	}
}

// TestExportRetriesSlowDown: 429 and 503 slow-downs on every PUT for a
// while are retried, and the export succeeds once they stop.
func TestExportRetriesSlowDown(t *testing.T) {
	var logs testserver.LogBuffer
	s3, f, bucketID := faultFixture(t, "slow-down", &logs)
	var puts atomic.Int64
	s3.failWith(func(_ int, r *http.Request) testservices.Verdict {
		if r.Method != http.MethodPut {
			return testservices.Verdict{}
		}
		switch n := puts.Add(1); {
		case n > 3 && n <= 20 && n%2 == 0:
			return testservices.S3Error(http.StatusTooManyRequests, "SlowDown")
		case n > 3 && n <= 20:
			return testservices.S3Error(http.StatusServiceUnavailable, "SlowDown")
		}
		return testservices.Verdict{}
	})
	job := f.createExport(t, f.exportInput(bucketID))
	done := f.wait(t, job.ID, time.Minute)
	if done.State != snapexport.ExportSuccessful {
		t.Fatalf("export slowed down ended %s: %+v", done.State, done.StateReason)
	}
}

// TestLocalBucketFailureNamesNoPath: a local bucket whose folder cannot
// take the export's objects fails the job at once, and neither the
// reason nor the log's API answers name the server's directories.
func TestLocalBucketFailureNamesNoPath(t *testing.T) {
	dataDir := t.TempDir()
	var logs testserver.LogBuffer
	ds := dumptest.Generate(dumptest.Options{Seed: 9, DocsPerCollection: 10})
	f := newFixture(t, logInto(&logs, testserver.Options{DataDir: dataDir, Exports: &exportrunner.Config{
		PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}}), ds)
	bucketID := f.bucket(t, "blocked")
	// A file where the exports' folder should be: every write under it
	// fails with ENOTDIR, as long as the folder is not put back.
	folder := filepath.Join(dataDir, "buckets", "aws", "blocked", "exported_snapshots")
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(folder, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	job := f.createExport(t, f.exportInput(bucketID))
	done := f.wait(t, job.ID, time.Minute)
	if done.State != snapexport.ExportFailed || done.StateReason == nil {
		t.Fatalf("export to a blocked local bucket ended %+v", done)
	}
	if r := done.StateReason; r.ErrorCode != snapexport.CodeObjectStoreRefused || !strings.Contains(r.Message, "local bucket storage") {
		t.Errorf("stateReason = %+v, want %s naming the local bucket storage", r, snapexport.CodeObjectStoreRefused)
	}
	wantNothingInternal(t, done.StateReason.Message, dataDir)
	// The server's log has the cause in full, for its operator.
	if !strings.Contains(logs.String(), dataDir) {
		t.Error("the log does not name the directory at fault")
	}
}
