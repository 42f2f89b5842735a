package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/service"
)

func (e *env) exportsPath(apiVersion, cluster string) string {
	return "/api/atlas/" + apiVersion + "/groups/" + e.GroupID + "/clusters/" + cluster + "/backup/exports"
}

func (e *env) cancelPath(cluster, id string) string {
	return "/api/snapexport/v1/groups/" + e.GroupID + "/clusters/" + cluster + "/backup/exports/" + id + "/cancel"
}

// exportBucket registers an AWS bucket (a local folder in tests).
func (e *env) exportBucket(t testing.TB, name string) string {
	t.Helper()
	return e.createBucket(t, awsBucketBody(name, e.role(t, "AWS", true)))
}

func jobBody(snapshotID, bucketID string) string {
	return fmt.Sprintf(`{"exportBucketId":%q,"snapshotId":%q}`, bucketID, snapshotID)
}

type exportJobBody struct {
	Components []struct {
		ExportID       string `json:"exportId"`
		ReplicaSetName string `json:"replicaSetName"`
	} `json:"components"`
	CreatedAt      string             `json:"createdAt"`
	CustomData     []snapexport.Label `json:"customData"`
	ExportBucketID string             `json:"exportBucketId"`
	ExportStatus   struct {
		ExportedCollections int `json:"exportedCollections"`
		TotalCollections    int `json:"totalCollections"`
	} `json:"exportStatus"`
	FinishedAt  string `json:"finishedAt"`
	ID          string `json:"id"`
	Prefix      string `json:"prefix"`
	SnapshotID  string `json:"snapshotId"`
	State       string `json:"state"`
	StateReason *struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	} `json:"stateReason"`
}

type exportJobPage = listPage[exportJobBody]

// createJob creates a job through v2 and returns it.
func (e *env) createJob(t testing.TB, cluster, body string) exportJobBody {
	t.Helper()
	got := e.Do(t, apitest.Request{Method: "POST", Path: e.exportsPath("v2", cluster), Accept: v20230101, ContentType: v20230101, Body: body})
	apitest.WantStatus(t, got, http.StatusOK)
	var j exportJobBody
	got.Decode(t, &j)
	return j
}

// storedJob reads a job (or component) straight from the store.
func (e *env) storedJob(t testing.TB, id string) *snapexport.ExportJob {
	t.Helper()
	ctx := context.Background()
	var j *snapexport.ExportJob
	err := e.Server.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		j, err = tx.ExportJob(ctx, e.GroupID, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// setJob changes a stored job as its runner would.
func (e *env) setJob(t testing.TB, id string, change func(*snapexport.ExportJob)) {
	t.Helper()
	ctx := context.Background()
	err := e.Server.Store.Write(ctx, func(tx snapexport.Tx) error {
		j, err := tx.ExportJob(ctx, e.GroupID, id)
		if err != nil {
			return err
		}
		change(j)
		return tx.UpdateExportJob(ctx, j)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Atlas's recorded answers (mongodb/mongodb-atlas-cli test/e2e, August
// 2026) to creating an export job, reading it once it succeeded and
// listing the cluster's jobs.
const (
	recordedJobCreate = "HTTP/2.0 200 OK\r\n" +
		"Content-Type: application/vnd.atlas.2023-01-01+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1185\r\n\r\n" +
		`{"createdAt":"2026-08-10T03:28:25Z","customData":[],"exportBucketId":"6a794342c0eb9e7a17729455","exportStatus":{"exportedCollections":0,"totalCollections":0},"id":"6a7945592c88faeba59d5e8e","prefix":"exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/cluster-989/2026-08-10T0327/1786332505","snapshotId":"6a7943462c88faeba59ccf5f","state":"Queued"}`
	recordedJobGet = "HTTP/2.0 200 OK\r\n" +
		"Content-Type: application/vnd.atlas.2023-01-01+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1193\r\n\r\n" +
		`{"createdAt":"2026-08-10T03:28:25Z","customData":[],"exportBucketId":"6a794342c0eb9e7a17729455","exportStatus":{"exportedCollections":0,"totalCollections":0},"finishedAt":"2026-08-10T03:43:05Z","id":"6a7945592c88faeba59d5e8e","prefix":"exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/cluster-989/2026-08-10T0327/1786332505","snapshotId":"6a7943462c88faeba59ccf5f","state":"Successful"}`
	recordedJobList = "HTTP/2.0 200 OK\r\n" +
		"Content-Type: application/vnd.atlas.2023-01-01+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1192\r\n\r\n" +
		`{"links":[{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-989/backup/exports?includeCount=true&pageNum=1&itemsPerPage=100","rel":"self"}],"results":[{"createdAt":"2026-08-10T03:28:25Z","customData":[],"exportBucketId":"6a794342c0eb9e7a17729455","exportStatus":{"exportedCollections":0,"totalCollections":0},"finishedAt":"2026-08-10T03:43:05Z","id":"6a7945592c88faeba59d5e8e","prefix":"exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/cluster-989/2026-08-10T0327/1786332505","snapshotId":"6a7943462c88faeba59ccf5f","state":"Successful"}],"totalCount":1}`
)

// TestExportJobMatchesRecordedAtlas replays Atlas's recorded session on a
// server whose clock and snapshot have the recorded times: create, then
// (the job marked Successful at the recorded time) get and list answer
// Atlas's bodies byte for byte once ids and the base URL are swapped in.
func TestExportJobMatchesRecordedAtlas(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 28, 25, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock, noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-989", MongoDBVersion: "8.0.29"})
	snap := e.putSnapshot(t, rs, snapexport.Snapshot{CreatedAt: time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)})
	bucketID := e.exportBucket(t, "export-bucket")
	path := e.exportsPath("v2", "cluster-989")

	// What the Atlas CLI sends: customData always, [] when empty.
	created := e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: v20230101, ContentType: v20230101,
		Body: fmt.Sprintf(`{"customData":[],"exportBucketId":%q,"snapshotId":%q}`, bucketID, snap.ID)})
	var job exportJobBody
	created.Decode(t, &job)
	swap := func(recorded string) string {
		return strings.NewReplacer("http://localhost:8080", e.URL, "a0123456789abcdef012345a", e.OrgID, "b0123456789abcdef012345b", e.GroupID,
			"6a794342c0eb9e7a17729455", bucketID, "6a7943462c88faeba59ccf5f", snap.ID, "6a7945592c88faeba59d5e8e", job.ID).Replace(recorded)
	}
	compare := func(t *testing.T, got *apitest.Response, recorded string) {
		t.Helper()
		want := parseRecorded(t, swap(recorded))
		if got.Status != want.Status {
			t.Fatalf("status: Atlas %d, here %s", want.Status, got)
		}
		for _, h := range []string{"Content-Type", "Ratelimit-Limit"} {
			if g, w := got.Header.Get(h), want.Header.Get(h); g != w {
				t.Errorf("%s: Atlas %q, here %q", h, w, g)
			}
		}
		wantOrders, _ := apitest.KeyOrders(want.Body)
		gotOrders, _ := apitest.KeyOrders(got.Body)
		if !reflect.DeepEqual(gotOrders, wantOrders) {
			t.Errorf("fields: Atlas %v, here %v", wantOrders, gotOrders)
		}
		if !bytes.Equal(got.Body, want.Body) {
			t.Errorf("body:\nAtlas %s\nhere  %s", want.Body, got.Body)
		}
	}
	t.Run("create", func(t *testing.T) { compare(t, created, recordedJobCreate) })

	e.setJob(t, job.ID, func(j *snapexport.ExportJob) {
		finished := time.Date(2026, 8, 10, 3, 43, 5, 0, time.UTC)
		j.State, j.FinishedAt = snapexport.ExportSuccessful, &finished
	})
	t.Run("get", func(t *testing.T) {
		compare(t, e.Do(t, apitest.Request{Path: path + "/" + job.ID, Accept: v20230101}), recordedJobGet)
	})
	t.Run("list", func(t *testing.T) {
		// The SDK always sends the paging parameters.
		compare(t, e.Do(t, apitest.Request{Path: path + "?includeCount=true&itemsPerPage=100&pageNum=1", Accept: v20230101}), recordedJobList)
	})
}

// TestExportJobCreate: the answer is the queued job; custom data is
// echoed; a snapshot has one active export at a time (409), another once
// it ended; a sharded-cluster snapshot gives a job with components.
func TestExportJobCreate(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	sh := e.cluster(t, service.ClusterInput{Name: "sharded", Shards: []string{"rs0", "rs1"}})
	snap := e.putSnapshot(t, rs, snapexport.Snapshot{})
	bucketID := e.exportBucket(t, "export-bucket")
	path := e.exportsPath("v2", "cluster-0")

	got := e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: v20230101, Body: `{"customData":[{"key":"ticket","value":"OPS-1"},{"key":"empty"}],` +
		`"exportBucketId":"` + bucketID + `","snapshotId":"` + snap.ID + `"}`})
	apitest.WantStatus(t, got, http.StatusOK)
	apitest.WantSuccessBody(t, got)
	if want := []string{"createdAt", "customData", "exportBucketId", "exportStatus", "id", "prefix", "snapshotId", "state"}; !slices.Equal(apitest.TopKeys(t, got.Body), want) {
		t.Errorf("keys %v, want %v", apitest.TopKeys(t, got.Body), want)
	}
	var job exportJobBody
	got.Decode(t, &job)
	if !snapexport.IsObjectID(job.ID) || job.State != "Queued" || job.SnapshotID != snap.ID || job.ExportBucketID != bucketID ||
		!slices.Equal(job.CustomData, []snapexport.Label{{Key: "ticket", Value: "OPS-1"}, {Key: "empty"}}) ||
		!strings.HasPrefix(job.Prefix, "exported_snapshots/"+e.OrgID+"/"+e.GroupID+"/cluster-0/2026-08-10T0327/") {
		t.Errorf("created job %s", got.Body)
	}
	if got.Header.Get("Ratelimit-Limit") != "1200" {
		t.Errorf("not charged to the Cloud Backups limit: %q", got.Header.Get("Ratelimit-Limit"))
	}
	if again := e.Do(t, apitest.Request{Path: path + "/" + job.ID, Accept: v20230101}); !bytes.Equal(again.Body, got.Body) {
		t.Errorf("GET after create: %s, create answered %s", again.Body, got.Body)
	}

	// One active export per snapshot, whatever the bucket.
	other := e.exportBucket(t, "other-bucket")
	ae := apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: v20230101, Body: jobBody(snap.ID, other)}), http.StatusConflict, snapexport.CodeExportAlreadyInProgress)
	if !strings.Contains(ae.Detail, job.ID) {
		t.Errorf("409 detail %q does not name the active job", ae.Detail)
	}
	e.setJob(t, job.ID, func(j *snapexport.ExportJob) { j.State = snapexport.ExportInProgress })
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: v20230101, Body: jobBody(snap.ID, other)}), http.StatusConflict, snapexport.CodeExportAlreadyInProgress)
	for _, end := range []snapexport.ExportState{snapexport.ExportFailed, snapexport.ExportSuccessful} {
		e.setJob(t, job.ID, func(j *snapexport.ExportJob) {
			now := time.Now().UTC()
			j.State, j.FinishedAt = end, &now
		})
		next := e.createJob(t, "cluster-0", jobBody(snap.ID, other))
		if next.ID == job.ID || next.State != "Queued" || len(next.CustomData) != 0 {
			t.Errorf("export after the first %s: %+v", end, next)
		}
		e.setJob(t, next.ID, func(j *snapexport.ExportJob) {
			now := time.Now().UTC()
			j.State, j.FinishedAt = snapexport.ExportSuccessful, &now
		})
	}
	// Another snapshot of the same cluster exports meanwhile.
	e.createJob(t, "cluster-0", jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID))

	// A sharded-cluster snapshot: components in shard order; the shards'
	// jobs are not jobs of the API.
	sharded := e.putShardedSnapshot(t, sh, time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC))
	got = e.Do(t, apitest.Request{Method: "POST", Path: e.exportsPath("v2", "sharded"), Accept: v20230101, Body: jobBody(sharded.ID, bucketID)})
	apitest.WantStatus(t, got, http.StatusOK)
	apitest.WantSuccessBody(t, got)
	var sj exportJobBody
	got.Decode(t, &sj)
	if len(sj.Components) != 2 || sj.Components[0].ReplicaSetName != "rs0" || sj.Components[1].ReplicaSetName != "rs1" ||
		!strings.Contains(sj.Prefix, "/sharded/2026-08-11T0000/") || apitest.TopKeys(t, got.Body)[0] != "components" {
		t.Fatalf("sharded job %s", got.Body)
	}
	for i, c := range sj.Components {
		comp := e.storedJob(t, c.ExportID)
		if comp.ParentID != sj.ID || comp.SourceSnapshotID != sharded.Members[i].ID || comp.Prefix != sj.Prefix {
			t.Errorf("component %d: %+v", i, comp)
		}
		apitest.WantError(t, e.Do(t, apitest.Request{Path: e.exportsPath("v2", "sharded") + "/" + c.ExportID, Accept: v20230101}), http.StatusNotFound, snapexport.CodeExportJobNotFound)
	}
	// exportStatus sums the components'.
	e.setJob(t, sj.Components[0].ExportID, func(j *snapexport.ExportJob) {
		j.State, j.Progress = snapexport.ExportInProgress, snapexport.ExportProgress{TotalCollections: 4, ExportedCollections: 3}
	})
	e.setJob(t, sj.Components[1].ExportID, func(j *snapexport.ExportJob) {
		j.State, j.Progress = snapexport.ExportInProgress, snapexport.ExportProgress{TotalCollections: 5, ExportedCollections: 1}
	})
	for _, p := range []string{e.exportsPath("v2", "sharded") + "/" + sj.ID, e.exportsPath("v2", "sharded")} {
		got := e.Do(t, apitest.Request{Path: p, Accept: v20230101})
		apitest.WantStatus(t, got, http.StatusOK)
		if !strings.Contains(string(got.Body), `"exportStatus":{"exportedCollections":4,"totalCollections":9}`) {
			t.Errorf("GET %s: %s, want the components' sum", p, got.Body)
		}
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: e.exportsPath("v2", "sharded"), Accept: v20230101, Body: jobBody(sharded.ID, other)}),
		http.StatusConflict, snapexport.CodeExportAlreadyInProgress)
}

// TestExportJobCreateRejections: the body is read as strictly as every
// other body, and each missing resource has its code; nothing refused is
// recorded.
func TestExportJobCreateRejections(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	rs2 := e.cluster(t, service.ClusterInput{Name: "cluster-1"})
	sh := e.cluster(t, service.ClusterInput{Name: "sharded", Shards: []string{"rs0", "rs1"}})
	snap := e.putSnapshot(t, rs, snapexport.Snapshot{})
	otherSnap := e.putSnapshot(t, rs2, snapexport.Snapshot{})
	sharded := e.putShardedSnapshot(t, sh, time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC))
	bucketID := e.exportBucket(t, "export-bucket")
	path := e.exportsPath("v2", "cluster-0")
	unknown := "0123456789abcdef01234567"
	ok := func(extra string) string {
		return `{` + extra + `"exportBucketId":"` + bucketID + `","snapshotId":"` + snap.ID + `"}`
	}

	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"empty object", path, `{}`, 400, snapexport.CodeMissingAttribute},
		{"no body", path, ``, 400, snapexport.CodeMissingAttribute},
		{"no snapshotId", path, `{"exportBucketId":"` + bucketID + `"}`, 400, snapexport.CodeMissingAttribute},
		{"no exportBucketId", path, `{"snapshotId":"` + snap.ID + `"}`, 400, snapexport.CodeMissingAttribute},
		{"null snapshotId", path, `{"exportBucketId":"` + bucketID + `","snapshotId":null}`, 400, snapexport.CodeMissingAttribute},
		{"empty snapshotId", path, `{"exportBucketId":"` + bucketID + `","snapshotId":""}`, 400, snapexport.CodeMissingAttribute},
		{"malformed snapshotId", path, `{"exportBucketId":"` + bucketID + `","snapshotId":"nope"}`, 400, snapexport.CodeInvalidAttribute},
		{"upper-case exportBucketId", path, `{"exportBucketId":"` + strings.ToUpper(bucketID) + `","snapshotId":"` + snap.ID + `"}`, 400, snapexport.CodeInvalidAttribute},
		{"numeric snapshotId", path, `{"exportBucketId":"` + bucketID + `","snapshotId":5}`, 400, snapexport.CodeInvalidJSONAttribute},
		{"links", path, ok(`"links":[],`), 400, snapexport.CodeAttributeReadOnly},
		{"unknown attribute", path, ok(`"colour":"blue",`), 400, snapexport.CodeInvalidAttribute},
		{"response attribute", path, ok(`"state":"Queued",`), 400, snapexport.CodeInvalidAttribute},
		{"customData not a list", path, ok(`"customData":{"key":"a"},`), 400, snapexport.CodeInvalidJSONAttribute},
		{"customData item not an object", path, ok(`"customData":["a"],`), 400, snapexport.CodeInvalidJSONAttribute},
		{"customData null item", path, ok(`"customData":[null],`), 400, snapexport.CodeInvalidJSONAttribute},
		{"customData numeric value", path, ok(`"customData":[{"key":"a","value":1}],`), 400, snapexport.CodeInvalidJSONAttribute},
		{"customData unknown attribute", path, ok(`"customData":[{"key":"a","value":"b","note":"c"}],`), 400, snapexport.CodeInvalidAttribute},
		{"customData without key", path, ok(`"customData":[{"value":"b"}],`), 400, snapexport.CodeInvalidAttribute},
		{"customData blank key", path, ok(`"customData":[{"key":"a","value":"b"},{"key":"  ","value":"c"}],`), 400, snapexport.CodeInvalidAttribute},
		{"malformed JSON", path, `{"snapshotId":`, 400, snapexport.CodeMalformedJSON},
		{"not an object", path, `[1]`, 400, snapexport.CodeInvalidJSON},
		{"unknown snapshot", path, jobBody(unknown, bucketID), 404, snapexport.CodeSnapshotNotFound},
		{"another cluster's snapshot", path, jobBody(otherSnap.ID, bucketID), 404, snapexport.CodeSnapshotNotFound},
		{"a shard's snapshot", e.exportsPath("v2", "sharded"), jobBody(sharded.Members[0].ID, bucketID), 404, snapexport.CodeSnapshotNotFound},
		{"unknown bucket", path, jobBody(snap.ID, unknown), 404, snapexport.CodeExportBucketNotFound},
		{"unknown cluster", e.exportsPath("v2", "cluster-9"), jobBody(snap.ID, bucketID), 404, snapexport.CodeClusterNotFound},
		{"invalid cluster name", e.exportsPath("v2", "bad_name"), jobBody(snap.ID, bucketID), 400, snapexport.CodeInvalidPathParameter},
		{"unknown group", strings.Replace(path, e.GroupID, unknown, 1), jobBody(snap.ID, bucketID), 404, snapexport.CodeGroupNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: tc.path, Accept: v20230101, Body: tc.body}), tc.status, tc.code)
			switch tc.name {
			case "customData blank key":
				if !strings.Contains(ae.Detail, "customData[1].key") {
					t.Errorf("detail %q does not name customData[1].key", ae.Detail)
				}
			case "customData unknown attribute":
				if !strings.Contains(ae.Detail, "customData[0].note") {
					t.Errorf("detail %q does not name customData[0].note", ae.Detail)
				}
			case "unknown bucket":
				if !slices.Equal(ae.Params(), []string{unknown}) {
					t.Errorf("parameters %v", ae.Params())
				}
			}
		})
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: v20240530, Body: jobBody(snap.ID, bucketID)}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
	for _, p := range []string{path, e.exportsPath("v2", "cluster-1"), e.exportsPath("v2", "sharded")} {
		if list := e.Do(t, apitest.Request{Path: p, Accept: v20230101}); list.Object(t)["totalCount"] != float64(0) {
			t.Errorf("refused creates recorded jobs: %s", list.Body)
		}
	}
	// Export jobs have no update, delete or cancel in Atlas's API.
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		apitest.WantError(t, e.Do(t, apitest.Request{Method: m, Path: path, Accept: v20230101}), http.StatusMethodNotAllowed, snapexport.CodeMethodNotAllowed)
	}
}

// TestExportJobListAndGet: pages in creation order, the jobs of one
// cluster only; each lookup failure has its code.
func TestExportJobListAndGet(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	rs2 := e.cluster(t, service.ClusterInput{Name: "cluster-1"})
	bucketID := e.exportBucket(t, "export-bucket")
	path := e.exportsPath("v2", "cluster-0")

	empty := e.Do(t, apitest.Request{Path: path, Accept: v20230101})
	apitest.WantStatus(t, empty, http.StatusOK)
	if string(empty.Body) != `{"links":[{"href":"`+e.URL+path+`?includeCount=true&pageNum=1&itemsPerPage=100","rel":"self"}],"results":[],"totalCount":0}` {
		t.Errorf("empty list: %s", empty.Body)
	}
	var ids []string
	for range 3 {
		ids = append(ids, e.createJob(t, "cluster-0", jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID)).ID)
	}
	elsewhere := e.createJob(t, "cluster-1", jobBody(e.putSnapshot(t, rs2, snapexport.Snapshot{}).ID, bucketID))

	wantTwoPages(t, e, path, ids, func(j exportJobBody) string { return j.ID })
	apitest.WantError(t, e.Do(t, apitest.Request{Path: path + "?pageNum=0", Accept: v20230101}), http.StatusBadRequest, snapexport.CodeInvalidQueryParameter)
	got := e.Do(t, apitest.Request{Path: path + "?envelope=true", Accept: v20230101})
	if o := got.Object(t); o["status"] != float64(200) || o["totalCount"] != float64(3) {
		t.Errorf("envelope: %s", got.Body)
	}

	// A job failed with its reason, and finishedAt.
	e.setJob(t, ids[1], func(j *snapexport.ExportJob) {
		finished := time.Date(2026, 8, 10, 4, 0, 0, 0, time.UTC)
		j.State, j.FinishedAt = snapexport.ExportFailed, &finished
		j.StateReason = &snapexport.ExportStateReason{ErrorCode: snapexport.ReasonBucketAccessDenied, Message: "denied"}
	})
	got = e.Do(t, apitest.Request{Path: path + "/" + ids[1], Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)
	apitest.WantSuccessBody(t, got)
	if !strings.Contains(string(got.Body), `"finishedAt":"2026-08-10T04:00:00Z"`) ||
		!strings.HasSuffix(string(got.Body), `"state":"Failed","stateReason":{"errorCode":"BUCKET_ACCESS_DENIED","message":"denied"}}`) {
		t.Errorf("failed job: %s", got.Body)
	}

	for _, tc := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown id", path + "/0123456789abcdef01234567", 404, snapexport.CodeExportJobNotFound},
		{"another cluster's job", path + "/" + elsewhere.ID, 404, snapexport.CodeExportJobNotFound},
		{"malformed id", path + "/nope", 404, snapexport.CodeInvalidExportJobID},
		{"upper-case id", path + "/" + strings.ToUpper(ids[0]), 404, snapexport.CodeInvalidExportJobID},
		{"unknown cluster", e.exportsPath("v2", "cluster-9") + "/" + ids[0], 404, snapexport.CodeClusterNotFound},
		{"unknown cluster list", e.exportsPath("v2", "cluster-9"), 404, snapexport.CodeClusterNotFound},
		{"invalid cluster name", e.exportsPath("v2", "bad_name"), 400, snapexport.CodeInvalidPathParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := apitest.WantError(t, e.Do(t, apitest.Request{Path: tc.path, Accept: v20230101}), tc.status, tc.code)
			if tc.code == snapexport.CodeExportJobNotFound && !strings.HasPrefix(ae.Detail, "No export job with ID ") {
				t.Errorf("detail %q", ae.Detail)
			}
		})
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Path: path + "/" + ids[0], Accept: v20240530}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
}

// TestExportJobsV1: the legacy paths serve the same jobs in
// application/json, without links on jobs.
func TestExportJobsV1(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	bucketID := e.exportBucket(t, "export-bucket")
	snap := e.putSnapshot(t, rs, snapexport.Snapshot{})
	path := e.exportsPath("v1.0", "cluster-0")
	const jsonType = "application/json"

	created := e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: jsonType, Body: `{"customData":[{"key":"a","value":"b"}],"exportBucketId":"` + bucketID + `","snapshotId":"` + snap.ID + `"}`})
	apitest.WantStatus(t, created, http.StatusOK)
	var job exportJobBody
	created.Decode(t, &job)
	got := e.Do(t, apitest.Request{Path: path + "/" + job.ID, Accept: jsonType})
	list := e.Do(t, apitest.Request{Path: path, Accept: jsonType})
	for _, r := range []*apitest.Response{created, got, list} {
		apitest.WantStatus(t, r, http.StatusOK)
		apitest.WantSuccessBody(t, r)
		if ct := r.Header.Get("Content-Type"); ct != jsonType {
			t.Errorf("Content-Type %q", ct)
		}
	}
	if !bytes.Equal(got.Body, created.Body) || strings.Contains(string(got.Body), "links") {
		t.Errorf("v1.0 GET %s, POST %s", got.Body, created.Body)
	}
	var page exportJobPage
	list.Decode(t, &page)
	if len(page.Results) != 1 || page.Results[0].ID != job.ID || page.Links[0].Href != e.URL+path+"?includeCount=true&pageNum=1&itemsPerPage=100" {
		t.Errorf("v1.0 list %s", list.Body)
	}
	if v2 := e.Do(t, apitest.Request{Path: e.exportsPath("v2", "cluster-0") + "/" + job.ID, Accept: v20230101}); !bytes.Equal(v2.Body, got.Body) {
		t.Errorf("v2 %s, v1.0 %s", v2.Body, got.Body)
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: jsonType, Body: jobBody(snap.ID, bucketID)}), http.StatusConflict, snapexport.CodeExportAlreadyInProgress)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: path + "/nope", Accept: jsonType}), http.StatusNotFound, snapexport.CodeInvalidExportJobID)
}

// TestExportJobRoles: the asymmetry of Atlas's roles (an Export Operator
// creates jobs it cannot read back in v2, and cannot create them in
// v1.0), and who may use the cancel endpoint.
func TestExportJobRoles(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	bucketID := e.exportBucket(t, "export-bucket")
	key := func(role snapexport.Role) apitest.Auth { return e.apiKey(t, role) }
	operator := key(snapexport.RoleGroupBackupExportOperator)
	v2, v1 := e.exportsPath("v2", "cluster-0"), e.exportsPath("v1.0", "cluster-0")

	created := e.Do(t, apitest.Request{Method: "POST", Path: v2, Accept: v20230101, Auth: operator, Body: jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID)})
	apitest.WantStatus(t, created, http.StatusOK)
	var job exportJobBody
	created.Decode(t, &job)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: v2 + "/" + job.ID, Accept: v20230101, Auth: operator}), http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: v2, Accept: v20230101, Auth: operator}), http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: v1, Accept: "application/json", Auth: operator, Body: jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID)}),
		http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
	for _, role := range []snapexport.Role{snapexport.RoleGroupReadOnly, snapexport.RoleGroupBackupCreator} {
		apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: v2, Accept: v20230101, Auth: key(role), Body: jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID)}),
			http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
	}

	// The cancel endpoint: the Export Operator and the roles that include it.
	cancel := e.cancelPath("cluster-0", job.ID)
	for _, tc := range []struct {
		name   string
		auth   apitest.Auth
		status int
		code   string
	}{
		{"GROUP_READ_ONLY", key(snapexport.RoleGroupReadOnly), 401, snapexport.CodeUserUnauthorized},
		{"GROUP_BACKUP_CREATOR", key(snapexport.RoleGroupBackupCreator), 401, snapexport.CodeUserUnauthorized},
		{"no project role", key(""), 401, snapexport.CodeNotInGroup},
		{"GROUP_BACKUP_EXPORT_OPERATOR", operator, 200, ""},
		{"GROUP_BACKUP_MANAGER", key(snapexport.RoleGroupBackupManager), 200, ""},
		{"GROUP_OWNER", key(snapexport.RoleGroupOwner), 200, ""},
		{"ORG_OWNER", apitest.Auth{}, 200, ""},
	} {
		t.Run("cancel as "+tc.name, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Method: "POST", Path: cancel, Auth: tc.auth})
			if tc.code != "" {
				apitest.WantError(t, got, tc.status, tc.code)
				if e.storedJob(t, job.ID).CancelRequested {
					t.Fatalf("a refused cancel marked the job")
				}
				return
			}
			apitest.WantStatus(t, got, tc.status)
		})
	}
	bearerOwner := apitest.Bearer(e.token(t))
	apitest.WantStatus(t, e.Do(t, apitest.Request{Method: "POST", Path: cancel, Auth: bearerOwner}), http.StatusOK)
	apitest.WantChallenge(t, e.Send(t, apitest.Request{Method: "POST", Path: cancel}, ""), false)
	apitest.WantChallenge(t, e.Send(t, apitest.Request{Method: "GET", Path: cancel}, ""), false)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "GET", Path: cancel}), http.StatusNotFound, snapexport.CodeResourceNotFound)
}

// TestExportJobCancel: with no runner, cancelling answers the job still
// Queued, marks it and its components, and is idempotent; an ended job is
// left as it is.
func TestExportJobCancel(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	sh := e.cluster(t, service.ClusterInput{Name: "sharded", Shards: []string{"rs0", "rs1"}})
	bucketID := e.exportBucket(t, "export-bucket")
	snap := e.putSnapshot(t, rs, snapexport.Snapshot{})
	job := e.createJob(t, "cluster-0", jobBody(snap.ID, bucketID))

	for range 2 {
		got := e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("cluster-0", job.ID)})
		apitest.WantStatus(t, got, http.StatusOK)
		apitest.WantSuccessBody(t, got)
		if ct := got.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if get := e.Do(t, apitest.Request{Path: e.exportsPath("v2", "cluster-0") + "/" + job.ID, Accept: v20230101}); !bytes.Equal(get.Body, got.Body) {
			t.Errorf("cancel answered %s, GET %s", got.Body, get.Body)
		}
		var b exportJobBody
		got.Decode(t, &b)
		if b.State != "Queued" || b.FinishedAt != "" {
			t.Errorf("cancelled job without a runner: %s", got.Body)
		}
		if !e.storedJob(t, job.ID).CancelRequested {
			t.Errorf("the job is not marked for cancellation")
		}
	}
	// Until its runner ends it, the job is active.
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: e.exportsPath("v2", "cluster-0"), Accept: v20230101, Body: jobBody(snap.ID, bucketID)}),
		http.StatusConflict, snapexport.CodeExportAlreadyInProgress)

	sharded := e.putShardedSnapshot(t, sh, time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC))
	sj := e.createJob(t, "sharded", jobBody(sharded.ID, bucketID))
	got := e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("sharded", sj.ID)})
	apitest.WantStatus(t, got, http.StatusOK)
	if !strings.HasPrefix(string(got.Body), `{"components":[`) {
		t.Errorf("sharded cancel: %s", got.Body)
	}
	for _, c := range sj.Components {
		if !e.storedJob(t, c.ExportID).CancelRequested {
			t.Errorf("component %s is not marked for cancellation", c.ExportID)
		}
	}

	// An ended job stays as it ended.
	done := e.createJob(t, "cluster-0", jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID))
	e.setJob(t, done.ID, func(j *snapexport.ExportJob) {
		now := time.Now().UTC()
		j.State, j.FinishedAt = snapexport.ExportSuccessful, &now
	})
	got = e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("cluster-0", done.ID)})
	apitest.WantStatus(t, got, http.StatusOK)
	if o := got.Object(t); o["state"] != "Successful" || e.storedJob(t, done.ID).CancelRequested {
		t.Errorf("cancel of an ended job: %s", got.Body)
	}

	for _, tc := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown id", e.cancelPath("cluster-0", "0123456789abcdef01234567"), 404, snapexport.CodeExportJobNotFound},
		{"a component", e.cancelPath("sharded", sj.Components[0].ExportID), 404, snapexport.CodeExportJobNotFound},
		{"another cluster's job", e.cancelPath("sharded", job.ID), 404, snapexport.CodeExportJobNotFound},
		{"malformed id", e.cancelPath("cluster-0", "nope"), 404, snapexport.CodeInvalidExportJobID},
		{"unknown cluster", e.cancelPath("cluster-9", job.ID), 404, snapexport.CodeClusterNotFound},
		{"invalid cluster name", e.cancelPath("bad_name", job.ID), 400, snapexport.CodeInvalidPathParameter},
		{"unknown group", strings.Replace(e.cancelPath("cluster-0", job.ID), e.GroupID, "0123456789abcdef01234567", 1), 404, snapexport.CodeGroupNotFound},
		{"invalid group", strings.Replace(e.cancelPath("cluster-0", job.ID), e.GroupID, "nope", 1), 404, snapexport.CodeInvalidGroupID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: tc.path}), tc.status, tc.code)
		})
	}
}

// TestExportJobCancelPrettyAndEnvelope: the cancel answers like every
// operation with pretty=true and envelope=true; without them it is the
// compact job TestExportJobCancel checks.
func TestExportJobCancelPrettyAndEnvelope(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	job := e.createJob(t, "cluster-0", jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, e.exportBucket(t, "export-bucket")))
	path := e.cancelPath("cluster-0", job.ID)

	plain := e.Do(t, apitest.Request{Method: "POST", Path: path})
	apitest.WantStatus(t, plain, http.StatusOK)
	apitest.WantSuccessBody(t, plain)

	pretty := e.Do(t, apitest.Request{Method: "POST", Path: path + "?pretty=true"})
	apitest.WantStatus(t, pretty, http.StatusOK)
	if !strings.HasPrefix(string(pretty.Body), "{\n  \"createdAt\" : ") {
		t.Errorf("pretty cancel is not indented Jackson style: %s", pretty.Body)
	}
	var compacted bytes.Buffer
	if err := json.Compact(&compacted, pretty.Body); err != nil || !bytes.Equal(compacted.Bytes(), plain.Body) {
		t.Errorf("pretty cancel %s is not the plain answer %s indented", pretty.Body, plain.Body)
	}

	enveloped := e.Do(t, apitest.Request{Method: "POST", Path: path + "?envelope=true"})
	if content := apitest.WantEnvelope(t, enveloped, http.StatusOK); !bytes.Equal(content, plain.Body) {
		t.Errorf("envelope %s does not wrap %s", enveloped.Body, plain.Body)
	}

	both := e.Do(t, apitest.Request{Method: "POST", Path: path + "?pretty=true&envelope=true"})
	apitest.WantStatus(t, both, http.StatusOK)
	if !strings.HasPrefix(string(both.Body), "{\n  \"content\" : {\n    \"createdAt\" : ") || !strings.HasSuffix(string(both.Body), "\n  },\n  \"status\" : 200\n}") {
		t.Errorf("pretty envelope: %s", both.Body)
	}

	// Errors keep their status; the body is wrapped and indented.
	missing := e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("cluster-0", "0123456789abcdef01234567") + "?pretty=true&envelope=true"})
	if missing.Status != http.StatusNotFound || missing.Header.Get("X-Error-Code") != snapexport.CodeExportJobNotFound {
		t.Fatalf("enveloped error: %s", missing)
	}
	if !strings.Contains(string(missing.Body), "\n    \"errorCode\" : \"EXPORT_JOB_NOT_FOUND\",\n") || !strings.HasSuffix(string(missing.Body), "\n  },\n  \"status\" : 404\n}") {
		t.Errorf("pretty enveloped error: %s", missing.Body)
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: path + "?envelope=maybe"}), http.StatusBadRequest, snapexport.CodeInvalidQueryParameter)
}

// waitEnded polls a job until it has ended and returns it.
func (e *env) waitEnded(t *testing.T, cluster, id string) exportJobBody {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := e.Do(t, apitest.Request{Path: e.exportsPath("v2", cluster) + "/" + id, Accept: v20230101})
		apitest.WantStatus(t, got, http.StatusOK)
		var j exportJobBody
		got.Decode(t, &j)
		if j.State != "Queued" && j.State != "InProgress" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 60 s", id, j.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExportJobCancelRuns: with a runner, a cancelled job ends. A tiny
// snapshot may be exported before the runner sees the request; a large
// one, cancelled while it is being written, ends Cancelled without
// .complete.
func TestExportJobCancelRuns(t *testing.T) {
	// A short lease makes the runner look for cancellation every 100 ms.
	e := newEnv(t, envOptions{exports: &exportrunner.Config{PollInterval: 50 * time.Millisecond, RetryDelay: 100 * time.Millisecond,
		Lease: 300 * time.Millisecond, ChunkBytes: 4 << 10}})
	ctx := context.Background()
	e.cluster(t, service.ClusterInput{Name: "small"})
	e.cluster(t, service.ClusterInput{Name: "large"})
	bucketID := e.exportBucket(t, "export-bucket")
	importSnap := func(cluster string, ds *dumptest.Dataset) string {
		res, err := e.test.ImportArchive(ctx, service.ImportInput{ClusterName: cluster}, bytes.NewReader(dumptest.ArchiveBytes(ds, true, true)))
		if err != nil {
			t.Fatal(err)
		}
		return res.Snapshot.ID
	}

	t.Run("small", func(t *testing.T) {
		job := e.createJob(t, "small", jobBody(importSnap("small", dumptest.Generate(dumptest.Options{Seed: 1, DocsPerCollection: 3})), bucketID))
		apitest.WantStatus(t, e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("small", job.ID)}), http.StatusOK)
		ended := e.waitEnded(t, "small", job.ID)
		if ended.State != "Cancelled" && ended.State != "Successful" || ended.FinishedAt == "" || ended.StateReason != nil {
			t.Errorf("cancelled small job ended %+v", ended)
		}
		t.Logf("small job ended %s", ended.State)
	})

	t.Run("large", func(t *testing.T) {
		snapID := importSnap("large", dumptest.Generate(dumptest.Options{Seed: 2, DocsPerCollection: 3, BulkBytes: 20 << 20}))
		job := e.createJob(t, "large", jobBody(snapID, bucketID))
		// Cancel once the runner is writing.
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := e.Do(t, apitest.Request{Path: e.exportsPath("v2", "large") + "/" + job.ID, Accept: v20230101})
			if o := got.Object(t); o["state"] == "InProgress" {
				break
			} else if o["state"] != "Queued" || time.Now().After(deadline) {
				t.Fatalf("before cancelling: %s", got.Body)
			}
			time.Sleep(5 * time.Millisecond)
		}
		got := e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("large", job.ID)})
		apitest.WantStatus(t, got, http.StatusOK)
		ended := e.waitEnded(t, "large", job.ID)
		if ended.State != "Cancelled" || ended.FinishedAt == "" || ended.StateReason != nil {
			t.Fatalf("cancelled large job ended %+v", ended)
		}
		b := e.test.OpenExportBucket(t, bucketID)
		if ok, err := b.Exists(ctx, export.CompleteKey(ended.Prefix)); ok || err != nil {
			t.Errorf("a cancelled job wrote .complete (%v)", err)
		}
		// A cancelled export can be started again.
		again := e.createJob(t, "large", jobBody(snapID, bucketID))
		apitest.WantStatus(t, e.Do(t, apitest.Request{Method: "POST", Path: e.cancelPath("large", again.ID)}), http.StatusOK)
	})
}
