package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestMetricsOfAnExport scrapes the server's Prometheus metrics while an
// export runs: its documents and BSON bytes rise while the job is
// InProgress and end at the snapshot's counts, its files and compressed
// bytes are counted, the job's end is counted by state, and requests are
// counted by operation, version and status, refused credentials by
// scheme; the import of the snapshot before it is counted too. No
// credential appears anywhere in what is scraped.
func TestMetricsOfAnExport(t *testing.T) {
	m := metrics.New()
	// Small data objects make the export long enough to be seen running.
	srv := testserver.NewServer(t, testserver.Options{Metrics: m,
		Exports: &exportrunner.Config{PollInterval: 50 * time.Millisecond, RetryDelay: 100 * time.Millisecond, ChunkBytes: 1024}})
	scrape := httptest.NewServer(m.Handler())
	t.Cleanup(scrape.Close)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	ds := dumptest.Generate(dumptest.Options{Seed: 31, DocsPerCollection: 1500})
	res := importedCluster(t, srv, "Cluster0", ds)
	docs, bson := exportedDocuments(ds)
	wantDocs, wantBSON := float64(docs), float64(bson)
	bucketID := sdkExportBucket(t, c, g, "metrics-bucket")
	before := scrapeMetrics(t, scrape.URL)
	m2, err := srv.Server.Snapshots.Manifest(ctx, snapshotstore.Location{ProjectID: g, SnapshotID: res.Snapshot.ID})
	if err != nil {
		t.Fatal(err)
	}
	var importedDocs, importedBytes float64
	for _, ns := range m2.Namespaces {
		importedDocs += float64(ns.Count)
		importedBytes += float64(ns.Size)
	}
	for _, w := range []struct {
		name, labels string
		want         float64
	}{
		{"snapexport_snapshot_read_documents_total", `source="import"`, importedDocs},
		{"snapexport_snapshot_read_bytes_total", `source="import"`, importedBytes},
		{"snapexport_snapshots_ended_total", `status="completed"`, 1},
		{"snapexport_snapshot_stored_bytes_total", "", float64(res.Snapshot.StorageSizeBytes)},
	} {
		if got := before.value(w.name, w.labels); got != w.want || got == 0 {
			t.Errorf("after the import, %s{%s} = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	if v := before.value("snapexport_export_documents_total", ""); v != 0 {
		t.Fatalf("documents exported before any export: %v", v)
	}

	created, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: res.Snapshot.ID, ExportBucketId: bucketID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	// Scrape as fast as the server answers until the job has ended,
	// keeping the documents seen while it was running.
	var running []float64
	var queueRunning float64
	deadline := time.Now().Add(2 * time.Minute)
	for {
		scraped := scrapeMetrics(t, scrape.URL)
		docs := scraped.value("snapexport_export_documents_total", "")
		queueRunning = max(queueRunning, scraped.value("snapexport_queue_jobs", `state="running"`))
		job, err := srv.Server.Service.ExportJob(ctx, g, "Cluster0", created.GetId())
		if err != nil {
			t.Fatal(err)
		}
		if !job.State.Active() {
			break
		}
		if docs > 0 {
			running = append(running, docs)
		}
		if time.Now().After(deadline) {
			t.Fatalf("export still %s after 2 minutes", job.State)
		}
	}
	waitExport(t, srv, c, g, "Cluster0", created.GetId(), "Successful")
	distinct := map[float64]bool{}
	for i, v := range running {
		if i > 0 && v < running[i-1] {
			t.Errorf("documents exported went down while running: %v", running)
			break
		}
		if v < wantDocs {
			distinct[v] = true
		}
	}
	if len(distinct) < 2 {
		t.Errorf("documents exported seen while the export ran: %v; want at least two counts below the %v to export", running, wantDocs)
	}

	after := scrapeMetrics(t, scrape.URL)
	for _, w := range []struct {
		name, labels string
		want         float64
	}{
		{"snapexport_export_documents_total", "", wantDocs},
		{"snapexport_export_bytes_total", `format="bson"`, wantBSON},
		{"snapexport_export_jobs_ended_total", `state="Successful"`, 1},
		{"snapexport_export_runs_running", "", 0},
		{"snapexport_http_requests_total", `operation="createGroupClusterBackupExport",status="200",version="2023-01-01"`, 1},
	} {
		if got := after.value(w.name, w.labels); got != w.want {
			t.Errorf("%s{%s} = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	b := srv.OpenExportBucket(t, bucketID)
	complete := readComplete(t, b, created.GetPrefix(), exporttest.ListKeys(t, b, created.GetPrefix()+"/"))
	if got := after.value("snapexport_export_files_total", ""); got != float64(complete.TotalFiles) {
		t.Errorf("files exported = %v, want the %d of .complete", got, complete.TotalFiles)
	}
	if got := after.value("snapexport_export_bytes_total", `format="gzip"`); got <= 0 || got >= wantBSON {
		t.Errorf("compressed bytes exported = %v, want more than none and less than the %v of BSON", got, wantBSON)
	}
	if got := after.value("snapexport_export_duration_seconds_count", `state="Successful"`); got != 1 {
		t.Errorf("export durations observed = %v, want 1", got)
	}
	// The job queue showed the export's job running while it ran.
	if queueRunning != 1 {
		t.Errorf("running jobs in the queue while the export ran: at most %v, want 1", queueRunning)
	}
	// The store's transactions, on whichever backend the server runs.
	backend := srv.Server.Backend()
	for _, kind := range []string{"read", "write"} {
		if got := after.value("snapexport_store_transactions_total", `backend="`+backend+`",kind="`+kind+`",outcome="ok"`); got == 0 {
			t.Errorf("no %s transaction of %s counted", kind, backend)
		}
		if got := after.value("snapexport_store_transactions_total", `backend="`+backend+`",kind="`+kind+`",outcome="error"`); got != 0 {
			t.Errorf("%v %s transactions of %s failed", got, kind, backend)
		}
		if got := after.value("snapexport_store_transaction_duration_seconds_count", `backend="`+backend+`",kind="`+kind+`"`); got == 0 {
			t.Errorf("no %s transaction of %s timed", kind, backend)
		}
	}

	// A wrong private key is counted by its scheme.
	wrong := digestClient(t, srv, srv.APIKey.PublicKey, "00000000-0000-0000-0000-000000000000")
	if _, _, err := wrong.CloudBackupsApi.ListExportBuckets(ctx, g).Execute(); err == nil {
		t.Fatal("a wrong private key was accepted")
	}
	text := scrapeMetrics(t, scrape.URL)
	if got := text.value("snapexport_authentication_failures_total", `scheme="digest"`); got != 1 {
		t.Errorf("digest failures = %v, want 1", got)
	}
	for _, secret := range []string{srv.APIKey.PrivateKey, srv.APIKey.PublicKey, srv.ServiceAccount.ClientSecret, srv.ServiceAccount.ClientID, g, res.Snapshot.ID, created.GetId()} {
		if strings.Contains(text.raw, secret) {
			t.Errorf("the metrics show %q", secret)
		}
	}
}

// importedCluster creates the cluster name in srv's project and imports
// ds as a snapshot of it.
func importedCluster(t *testing.T, srv *testserver.Server, name string, ds *dumptest.Dataset) *service.ImportResult {
	t.Helper()
	ctx := context.Background()
	if _, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: name}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: name}, bytes.NewReader(dumptest.ArchiveBytes(ds, true, true)))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// exportedDocuments counts the documents of ds an export writes, and
// their BSON bytes.
func exportedDocuments(ds *dumptest.Dataset) (documents, bsonBytes int64) {
	for _, col := range exporttest.ExportedCollections(ds) {
		for _, doc := range col.Docs() {
			documents++
			bsonBytes += int64(len(doc))
		}
	}
	return documents, bsonBytes
}

// scraped is one scrape of the metrics, in Prometheus's text format.
type scraped struct{ raw string }

func scrapeMetrics(t *testing.T, url string) scraped {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v\n%s", resp.StatusCode, err, body)
	}
	return scraped{string(body)}
}

// value is the sample of the metric name with exactly the labels given
// (as the text format writes them, sorted by name), 0 when there is none.
func (s scraped) value(name, labels string) float64 {
	want := name
	if labels != "" {
		want += "{" + labels + "}"
	}
	lines := bufio.NewScanner(strings.NewReader(s.raw))
	for lines.Scan() {
		series, value, ok := strings.Cut(lines.Text(), " ")
		if ok && series == want {
			v, _ := strconv.ParseFloat(value, 64)
			return v
		}
	}
	return 0
}
