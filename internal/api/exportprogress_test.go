package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

func (e *env) ownExportPath(cluster, id, what string) string {
	return "/api/snapexport/v1/groups/" + e.GroupID + "/clusters/" + cluster + "/backup/exports/" + id + "/" + what
}

// TestExportJobProgressAndObjects: the progress of a job answers its
// stored counts of documents, bytes and files beside Atlas's collection
// counts; its objects are those under its prefix in its bucket, in key
// order, and nothing beside it; both need the role that reads export jobs.
func TestExportJobProgressAndObjects(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	bucketID := e.exportBucket(t, "export-bucket")
	job := e.createJob(t, "cluster-0", jobBody(e.putSnapshot(t, rs, snapexport.Snapshot{}).ID, bucketID))
	e.setJob(t, job.ID, func(j *snapexport.ExportJob) {
		j.State = snapexport.ExportInProgress
		j.Progress = snapexport.ExportProgress{TotalCollections: 4, ExportedCollections: 1, Files: 3,
			Documents: 1500, TotalDocuments: 6000, Bytes: 250000, TotalBytes: 1000000}
	})

	got := e.Do(t, apitest.Request{Path: e.ownExportPath("cluster-0", job.ID, "progress")})
	apitest.WantStatus(t, got, http.StatusOK)
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	want := `{"bytes":250000,"createdAt":"` + job.CreatedAt + `","documents":1500,"exportBucketId":"` + bucketID +
		`","exportedCollections":1,"files":3,"id":"` + job.ID + `","prefix":"` + job.Prefix + `","snapshotId":"` + job.SnapshotID +
		`","state":"InProgress","totalBytes":1000000,"totalCollections":4,"totalDocuments":6000}`
	if string(got.Body) != want {
		t.Errorf("progress\n got %s\nwant %s", got.Body, want)
	}

	b := e.test.OpenExportBucket(t, bucketID)
	ctx := context.Background()
	for key, body := range map[string]string{
		job.Prefix + "/db/coll/Cluster0-rs-0.0.json.gz": "data",
		job.Prefix + "/db/coll/metadata.json":           "{}",
		job.Prefix + "/.complete":                       `{"totalFiles":2}`,
		job.Prefix + "0/not/this/job":                   "x",
	} {
		if err := b.WriteAll(ctx, key, []byte(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	got = e.Do(t, apitest.Request{Path: e.ownExportPath("cluster-0", job.ID, "objects")})
	apitest.WantStatus(t, got, http.StatusOK)
	var objs struct {
		ExportID, Prefix, State string
		Truncated               bool
		Results                 []struct {
			Key          string
			Size         int64
			LastModified string
		}
	}
	got.Decode(t, &objs)
	var keys []string
	for _, o := range objs.Results {
		keys = append(keys, fmt.Sprintf("%s:%d", strings.TrimPrefix(o.Key, job.Prefix+"/"), o.Size))
		if o.LastModified == "" {
			t.Errorf("%s without lastModified", o.Key)
		}
	}
	if w := ".complete:16,db/coll/Cluster0-rs-0.0.json.gz:4,db/coll/metadata.json:2"; strings.Join(keys, ",") != w ||
		objs.ExportID != job.ID || objs.Prefix != job.Prefix || objs.Truncated {
		t.Errorf("objects %s", got.Body)
	}

	for _, what := range []string{"progress", "objects"} {
		path := e.ownExportPath("cluster-0", job.ID, what)
		apitest.WantError(t, e.Do(t, apitest.Request{Path: path, Auth: e.apiKey(t, snapexport.RoleGroupReadOnly)}), http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
		apitest.WantError(t, e.Do(t, apitest.Request{Path: path, Auth: e.apiKey(t, snapexport.RoleGroupBackupExportOperator)}), http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
		apitest.WantStatus(t, e.Do(t, apitest.Request{Path: path, Auth: e.apiKey(t, snapexport.RoleGroupBackupManager)}), http.StatusOK)
		apitest.WantError(t, e.Do(t, apitest.Request{Path: e.ownExportPath("cluster-0", "0123456789abcdef01234567", what)}), http.StatusNotFound, snapexport.CodeExportJobNotFound)
		apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: path}), http.StatusNotFound, snapexport.CodeResourceNotFound)
	}
}
