package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

const (
	v20230201 = "application/vnd.atlas.2023-02-01+json"
	v20240805 = "application/vnd.atlas.2024-08-05+json"
)

func (e *env) cluster(t testing.TB, in service.ClusterInput) *snapexport.Cluster {
	t.Helper()
	in.ProjectID = e.GroupID
	c, err := e.Server.Service.CreateCluster(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) clustersPath() string { return "/api/atlas/v2/groups/" + e.GroupID + "/clusters" }

type clusterBody struct {
	BackupEnabled       bool   `json:"backupEnabled"`
	ClusterType         string `json:"clusterType"`
	CreateDate          string `json:"createDate"`
	GroupID             string `json:"groupId"`
	ID                  string `json:"id"`
	Labels              []snapexport.Label
	MongoDBMajorVersion string `json:"mongoDBMajorVersion"`
	MongoDBVersion      string `json:"mongoDBVersion"`
	Name                string `json:"name"`
	ReplicationSpecs    []struct {
		ID        string `json:"id"`
		NumShards int    `json:"numShards"`
		ZoneName  string `json:"zoneName"`
	} `json:"replicationSpecs"`
	StateName string             `json:"stateName"`
	Tags      []snapexport.Label `json:"tags"`
}

// TestClusters: list and get in both versions, the deprecated one with
// Atlas's headers; replication specs per shard (2024-08-05) or with
// numShards (2023-02-01); CLUSTER_NOT_FOUND as recorded.
func TestClusters(t *testing.T) {
	e := newEnv(t)
	empty := e.do(t, req{path: e.clustersPath(), accept: v20240805})
	wantStatus(t, empty, http.StatusOK)
	if o := empty.object(t); fmt.Sprint(o["results"]) != "[]" || o["totalCount"] != float64(0) {
		t.Errorf("empty project: %s", empty.Body)
	}
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-989", MongoDBVersion: "8.0.29"})
	sh := e.cluster(t, service.ClusterInput{Name: "Sharded", Shards: []string{"rs0", "rs1", "rs2"},
		Labels: []snapexport.Label{{Key: "env", Value: "prod"}}})

	for _, tc := range []struct {
		accept     string
		deprecated bool
	}{{v20240805, false}, {v20230201, true}} {
		t.Run(tc.accept, func(t *testing.T) {
			got := e.do(t, req{path: e.clustersPath() + "?includeDeletedWithRetainedBackups=false", accept: tc.accept})
			wantStatus(t, got, http.StatusOK)
			if ct := got.Header.Get("Content-Type"); ct != tc.accept+";charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			dep, sun := got.Header.Get("Deprecation"), got.Header.Get("Sunset")
			if tc.deprecated != (dep == "Mon, 5 Aug 2024 00:00:00 GMT" && sun == "Thu, 1 Jul 2027 00:00:00 GMT") || (!tc.deprecated && dep+sun != "") {
				t.Errorf("Deprecation %q, Sunset %q (deprecated version: %v)", dep, sun, tc.deprecated)
			}
			var page struct {
				Results    []clusterBody `json:"results"`
				TotalCount int           `json:"totalCount"`
			}
			got.decode(t, &page)
			if page.TotalCount != 2 || len(page.Results) != 2 || page.Results[0].ID != rs.ID || page.Results[1].ID != sh.ID {
				t.Fatalf("list: %s", got.Body)
			}

			one := e.do(t, req{path: e.clustersPath() + "/Sharded", accept: tc.accept})
			wantStatus(t, one, http.StatusOK)
			if err := checkSortedKeys(one.Body); err != nil {
				t.Error(err)
			}
			var c clusterBody
			one.decode(t, &c)
			if c.ID != sh.ID || c.Name != "Sharded" || c.GroupID != e.GroupID || c.ClusterType != "SHARDED" || !c.BackupEnabled ||
				c.StateName != "IDLE" || c.MongoDBVersion != "8.0.0" || c.MongoDBMajorVersion != "8.0" ||
				!slices.Equal(c.Tags, sh.Labels) || c.CreateDate != sh.CreatedAt.UTC().Format("2006-01-02T15:04:05Z") {
				t.Errorf("get: %s", one.Body)
			}
			if tc.deprecated {
				if len(c.ReplicationSpecs) != 1 || c.ReplicationSpecs[0].NumShards != 3 || c.ReplicationSpecs[0].ZoneName != "Zone 1" {
					t.Errorf("2023-02-01 replicationSpecs: %s", one.Body)
				}
			} else if len(c.ReplicationSpecs) != 3 || c.ReplicationSpecs[2].ID != sh.Shards[2].ID || c.ReplicationSpecs[0].NumShards != 0 {
				t.Errorf("2024-08-05 replicationSpecs: %s", one.Body)
			}
		})
	}

	missing := e.do(t, req{path: e.clustersPath() + "/cluster-990", accept: v20240805})
	ae := wantError(t, missing, http.StatusNotFound, snapexport.CodeClusterNotFound)
	if ae.Detail != "No cluster named cluster-990 exists in group "+e.GroupID+"." || !slices.Equal(ae.params(), []string{"cluster-990", e.GroupID}) {
		t.Errorf("CLUSTER_NOT_FOUND: %s", missing.Body)
	}
	// Names are case-sensitive, and follow Atlas's pattern.
	wantError(t, e.do(t, req{path: e.clustersPath() + "/CLUSTER-989", accept: v20240805}), http.StatusNotFound, snapexport.CodeClusterNotFound)
	wantError(t, e.do(t, req{path: e.clustersPath() + "/bad_name", accept: v20240805}), http.StatusBadRequest, snapexport.CodeInvalidPathParameter)
	wantError(t, e.do(t, req{path: e.clustersPath(), accept: v20240530}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
	wantError(t, e.do(t, req{path: e.clustersPath() + "/cluster-989/backup/schedule", accept: v20230201}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
}

// TestBackupSchedule: GET and PATCH of the export settings, their errors,
// and the deletion of a bucket a schedule uses.
func TestBackupSchedule(t *testing.T) {
	e := newEnv(t)
	c := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	roleID := e.role(t, "AWS", true)
	bucket := e.createBucket(t, `{"bucketName":"auto-export","cloudProvider":"AWS","iamRoleId":"`+roleID+`"}`)
	path := e.clustersPath() + "/cluster-0/backup/schedule"

	got := e.do(t, req{path: path, accept: v20240805})
	wantStatus(t, got, http.StatusOK)
	if string(got.Body) != fmt.Sprintf(`{"autoExportEnabled":false,"clusterId":"%s","clusterName":"cluster-0","useOrgAndGroupNamesInExportPrefix":false}`, c.ID) {
		t.Errorf("fresh schedule: %s", got.Body)
	}
	wantError(t, e.do(t, req{path: e.clustersPath() + "/nope/backup/schedule", accept: v20240805}), http.StatusNotFound, snapexport.CodeClusterNotFound)

	patch := func(body string) *res {
		return e.do(t, req{method: "PATCH", path: path, accept: v20240805, contentType: v20240805, body: body})
	}
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{}`, 400, snapexport.CodeInvalidBackupPolicy},
		{`{"export":{"exportBucketId":"` + bucket + `","frequencyType":"monthly"}}`, 400, snapexport.CodeInvalidBackupPolicy},
		{`{"autoExportEnabled":true}`, 400, snapexport.CodeInvalidBackupPolicy},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"0123456789abcdef01234567","frequencyType":"monthly"}}`, 404, snapexport.CodeExportBucketNotFound},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"` + bucket + `","frequencyType":"hourly"}}`, 400, snapexport.CodeInvalidEnumValue},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"nope"}}`, 400, snapexport.CodeInvalidAttribute},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"` + bucket + `","region":"x"}}`, 400, snapexport.CodeInvalidAttribute},
		{`{"autoExportEnabled":"yes"}`, 400, snapexport.CodeInvalidJSONAttribute},
		{`{"autoExportEnabled":false,"export":"x"}`, 400, snapexport.CodeInvalidJSONAttribute},
		{`{"autoExportEnabled":false,"policies":[{"id":"x"}]}`, 400, snapexport.CodeInvalidAttribute},
		{`{"autoExportEnabled":false,"clusterId":"x"}`, 400, snapexport.CodeAttributeReadOnly},
	} {
		wantError(t, patch(tc.body), tc.status, tc.code)
	}
	if got := e.do(t, req{path: path, accept: v20240805}); !slices.Contains([]string{"false"}, fmt.Sprint(got.object(t)["autoExportEnabled"])) || got.object(t)["export"] != nil {
		t.Errorf("refused PATCHes changed the schedule: %s", got.Body)
	}

	// The SDK sends policies: null; frequencyType defaults to monthly.
	got = patch(`{"autoExportEnabled":true,"export":{"exportBucketId":"` + bucket + `"},"policies":null,"useOrgAndGroupNamesInExportPrefix":true}`)
	wantStatus(t, got, http.StatusOK)
	want := fmt.Sprintf(`{"autoExportEnabled":true,"clusterId":"%s","clusterName":"cluster-0","export":{"exportBucketId":"%s","frequencyType":"monthly"},"useOrgAndGroupNamesInExportPrefix":true}`, c.ID, bucket)
	if string(got.Body) != want {
		t.Errorf("PATCH: %s, want %s", got.Body, want)
	}
	if got := e.do(t, req{path: path, accept: v20240805}); string(got.Body) != want {
		t.Errorf("GET after PATCH: %s", got.Body)
	}

	// The bucket cannot go while the schedule exports to it automatically.
	del := e.do(t, req{method: "DELETE", path: e.bucketsPath("v2") + "/" + bucket, accept: v20230101})
	ae := wantError(t, del, http.StatusBadRequest, snapexport.CodeExportBucketInUse)
	if !slices.Equal(ae.params(), []string{bucket, "cluster-0"}) {
		t.Errorf("bucket in use: %s", del.Body)
	}
	// Attributes left out keep their value.
	got = patch(`{"autoExportEnabled":false}`)
	wantStatus(t, got, http.StatusOK)
	if o := got.object(t); o["autoExportEnabled"] != false || o["export"] == nil || o["useOrgAndGroupNamesInExportPrefix"] != true {
		t.Errorf("PATCH autoExportEnabled only: %s", got.Body)
	}
	// Now it can, and the schedule forgets it.
	wantStatus(t, e.do(t, req{method: "DELETE", path: e.bucketsPath("v2") + "/" + bucket, accept: v20230101}), http.StatusNoContent)
	got = e.do(t, req{path: path, accept: v20240805})
	if o := got.object(t); o["export"] != nil || o["autoExportEnabled"] != false {
		t.Errorf("schedule after its bucket was deleted: %s", got.Body)
	}
}
