package api_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/service"
)

func (e *env) uploadPath(cluster string) string {
	return "/api/snapexport/v1/groups/" + e.GroupID + "/clusters/" + cluster + "/snapshots"
}

// upload is a request sending a small mongodump archive to the upload
// endpoint; query is appended to its path.
func (e *env) upload(cluster, query string) apitest.Request {
	archive := dumptest.ArchiveBytes(dumptest.Generate(dumptest.Options{Seed: 1, DocsPerCollection: 3}), true, true)
	return apitest.Request{Method: "POST", Path: e.uploadPath(cluster) + query, Body: string(archive), ContentType: "application/octet-stream"}
}

// snapshotCount counts the replica-set snapshots of cluster without going
// through the API, whose rate limit the tests exhaust.
func (e *env) snapshotCount(t testing.TB, cluster string) int {
	t.Helper()
	_, n, err := e.Server.Service.Snapshots(context.Background(), e.GroupID, cluster, snapexport.SnapshotReplicaSet, snapexport.Page{Limit: 100}, "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUploadTakesARateLimitToken: an upload spends a token of the project's
// Cloud Backups bucket, the one of Atlas's snapshot operations, and is
// refused like them when the bucket is empty, before the archive is read.
func TestUploadTakesARateLimitToken(t *testing.T) {
	e := newEnv(t, envOptions{limits: &api.Limits{
		CloudBackups:        ratelimit.Policy{Name: "Cloud Backups", Capacity: 2, Refill: 1, Period: time.Minute},
		CloudProviderAccess: ratelimit.CloudProviderAccess(),
		Clusters:            ratelimit.Clusters(),
		Projects:            ratelimit.Projects(),
	}})
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})

	got := e.Do(t, e.upload("cluster-0", ""))
	apitest.WantStatus(t, got, http.StatusCreated)
	if l, r := got.Header.Get("Ratelimit-Limit"), got.Header.Get("Ratelimit-Remaining"); l != "2" || r != "1" {
		t.Errorf("upload: Ratelimit-Limit %q Ratelimit-Remaining %q, want 2 and 1", l, r)
	}
	list := e.Do(t, apitest.Request{Path: e.snapshotsPath("v2", "cluster-0"), Accept: v20230101})
	apitest.WantStatus(t, list, http.StatusOK)
	if r := list.Header.Get("Ratelimit-Remaining"); r != "0" {
		t.Errorf("snapshot list after the upload: Ratelimit-Remaining %q, want 0", r)
	}

	path := e.uploadPath("cluster-0")
	got = e.Do(t, e.upload("cluster-0", ""))
	apiErr := apitest.WantError(t, got, http.StatusTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET")
	if ra := got.Header.Get("Retry-After"); ra == "" {
		t.Error("429 without Retry-After")
	}
	if p := apiErr.Params(); len(p) != 5 || p[0] != strings.TrimPrefix(path, "/") || p[2] != "2" || p[3] != "1" || p[4] != "60" {
		t.Errorf("parameters: %q", p)
	}
	if n := e.snapshotCount(t, "cluster-0"); n != 1 {
		t.Errorf("%d snapshots after a refused upload, want 1", n)
	}
}

// TestUploadPrettyAndEnvelope: the upload answers like every operation
// with pretty=true and envelope=true, and compactly without them.
func TestUploadPrettyAndEnvelope(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	importKeys := []string{"clusterName", "collections", "createdAt", "documents", "expiresAt", "groupId", "id", "notes", "replicaSetName", "storageSizeBytes"}

	plain := e.Do(t, e.upload("cluster-0", ""))
	apitest.WantStatus(t, plain, http.StatusCreated)
	apitest.WantSuccessBody(t, plain)
	if ct := plain.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if keys := apitest.TopKeys(t, plain.Body); !slices.Equal(keys, importKeys) {
		t.Errorf("upload fields: %v, want %v", keys, importKeys)
	}

	pretty := e.Do(t, e.upload("cluster-0", "?pretty=true"))
	apitest.WantStatus(t, pretty, http.StatusCreated)
	if !strings.HasPrefix(string(pretty.Body), "{\n  \"clusterName\" : \"cluster-0\",\n  \"collections\" : [ {\n    ") {
		t.Errorf("pretty upload is not indented Jackson style: %s", pretty.Body)
	}
	if err := apitest.CheckSortedKeys(pretty.Body); err != nil {
		t.Error(err)
	}

	enveloped := e.Do(t, e.upload("cluster-0", "?envelope=true"))
	if content := apitest.WantEnvelope(t, enveloped, http.StatusCreated); !slices.Equal(apitest.TopKeys(t, content), importKeys) {
		t.Errorf("enveloped upload: %s", enveloped.Body)
	}
	if n := e.snapshotCount(t, "cluster-0"); n != 3 {
		t.Errorf("%d snapshots after three uploads", n)
	}

	// Errors too.
	bad := e.Do(t, e.upload("cluster-0", "?takenAt=yesterday&pretty=true&envelope=true"))
	if bad.Status != http.StatusBadRequest || bad.Header.Get("X-Error-Code") != "INVALID_QUERY_PARAMETER" {
		t.Fatalf("bad takenAt: %s", bad)
	}
	if !strings.HasPrefix(string(bad.Body), "{\n  \"content\" : {\n") || !strings.HasSuffix(string(bad.Body), "\n  },\n  \"status\" : 400\n}") {
		t.Errorf("pretty enveloped error: %s", bad.Body)
	}
	apitest.WantError(t, e.Do(t, e.upload("cluster-0", "?pretty=yes")), http.StatusBadRequest, "INVALID_QUERY_PARAMETER")
}

// slowReader hands out its data in chunks, pausing before each.
type slowReader struct {
	data  []byte
	chunk int
	pause time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p[:min(len(p), s.chunk)], s.data)
	s.data = s.data[n:]
	return n, nil
}

// slowUpload uploads a small archive to cluster-0 through ts in chunks
// (about one of chunks each), pausing before each.
func (e *env) slowUpload(t *testing.T, ts *httptest.Server, chunks int, pause time.Duration) (*apitest.Response, error) {
	t.Helper()
	archive := []byte(e.upload("cluster-0", "").Body)
	body := &slowReader{data: archive, chunk: len(archive)/chunks + 1, pause: pause}
	hr, err := http.NewRequest("POST", ts.URL+e.uploadPath("cluster-0"), body)
	if err != nil {
		t.Fatal(err)
	}
	hr.ContentLength = int64(len(archive))
	hr.Header.Set("Authorization", "Bearer "+e.token(t))
	return (&apitest.Client{BaseURL: ts.URL, HTTP: ts.Client(), Validate: true}).RoundTrip(t, hr)
}

// TestUploadOutlastsTheReadTimeout: an upload that keeps sending is not cut
// off by the server's overall read timeout, only by a minute of silence.
func TestUploadOutlastsTheReadTimeout(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	ts := httptest.NewUnstartedServer(e.Server.Handler())
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)

	got, err := e.slowUpload(t, ts, 4, 200*time.Millisecond)
	if err != nil {
		t.Fatalf("upload slower than the read timeout: %v", err)
	}
	if got.Status != http.StatusCreated {
		t.Fatalf("upload slower than the read timeout: %s", got)
	}
}

// TestUploadHasATotalTimeLimit: an upload that keeps sending, but for
// longer than the server's upload time limit, is refused with an ApiError
// naming the limit, and leaves neither a snapshot nor its data behind.
func TestUploadHasATotalTimeLimit(t *testing.T) {
	dataDir := t.TempDir()
	e := newEnv(t, envOptions{dataDir: dataDir})
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	e.Server.API.UploadTimeout = 400 * time.Millisecond
	ts := httptest.NewServer(e.Server.Handler())
	t.Cleanup(ts.Close)

	got, err := e.slowUpload(t, ts, 8, 150*time.Millisecond)
	if err != nil {
		t.Fatalf("upload over the time limit: %v", err)
	}
	ae := apitest.WantError(t, got, http.StatusRequestTimeout, snapexport.CodeSnapshotUploadTimeout)
	if !strings.Contains(ae.Detail, "400ms") {
		t.Errorf("detail %q does not name the limit", ae.Detail)
	}
	if n := e.snapshotCount(t, "cluster-0"); n != 0 {
		t.Errorf("%d snapshots after an upload cut off", n)
	}
	var kept []string
	filepath.WalkDir(filepath.Join(dataDir, "snapshots"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			kept = append(kept, path)
		}
		return nil
	})
	if len(kept) > 0 {
		t.Errorf("an upload cut off left %v", kept)
	}
}
