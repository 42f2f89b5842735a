package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
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

// TestClusters: list and get in every version, the deprecated ones with
// Atlas's headers; replication specs per shard (2024-08-05) or with
// numShards (2023-02-01, 2023-01-01); CLUSTER_NOT_FOUND as recorded.
func TestClusters(t *testing.T) {
	e := newEnv(t)
	empty := e.Do(t, apitest.Request{Path: e.clustersPath(), Accept: v20240805})
	apitest.WantStatus(t, empty, http.StatusOK)
	if o := empty.Object(t); fmt.Sprint(o["results"]) != "[]" || o["totalCount"] != float64(0) {
		t.Errorf("empty project: %s", empty.Body)
	}
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-989", MongoDBVersion: "8.0.29"})
	sh := e.cluster(t, service.ClusterInput{Name: "Sharded", Shards: []string{"rs0", "rs1", "rs2"},
		Labels: []snapexport.Label{{Key: "env", Value: "prod"}}})

	for _, tc := range []struct {
		accept string
		// deprecation is the Deprecation header of a deprecated version,
		// whose Sunset is 2027-07-01.
		deprecation string
	}{{v20240805, ""}, {v20230201, "Mon, 5 Aug 2024 00:00:00 GMT"}, {v20230101, "Wed, 1 Feb 2023 00:00:00 GMT"}} {
		deprecated := tc.deprecation != ""
		t.Run(tc.accept, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Path: e.clustersPath() + "?includeDeletedWithRetainedBackups=false", Accept: tc.accept})
			apitest.WantStatus(t, got, http.StatusOK)
			if ct := got.Header.Get("Content-Type"); ct != tc.accept+";charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			dep, sun := got.Header.Get("Deprecation"), got.Header.Get("Sunset")
			if deprecated != (dep == tc.deprecation && sun == "Thu, 1 Jul 2027 00:00:00 GMT") || (!deprecated && dep+sun != "") {
				t.Errorf("Deprecation %q, Sunset %q (deprecated version: %v)", dep, sun, deprecated)
			}
			var page struct {
				Results    []clusterBody `json:"results"`
				TotalCount int           `json:"totalCount"`
			}
			got.Decode(t, &page)
			if page.TotalCount != 2 || len(page.Results) != 2 || page.Results[0].ID != rs.ID || page.Results[1].ID != sh.ID {
				t.Fatalf("list: %s", got.Body)
			}

			one := e.Do(t, apitest.Request{Path: e.clustersPath() + "/Sharded", Accept: tc.accept})
			apitest.WantStatus(t, one, http.StatusOK)
			if err := apitest.CheckSortedKeys(one.Body); err != nil {
				t.Error(err)
			}
			var c clusterBody
			one.Decode(t, &c)
			if c.ID != sh.ID || c.Name != "Sharded" || c.GroupID != e.GroupID || c.ClusterType != "SHARDED" || !c.BackupEnabled ||
				c.StateName != "IDLE" || c.MongoDBVersion != "8.0.0" || c.MongoDBMajorVersion != "8.0" ||
				!slices.Equal(c.Tags, sh.Labels) || c.CreateDate != sh.CreatedAt.UTC().Format("2006-01-02T15:04:05Z") {
				t.Errorf("get: %s", one.Body)
			}
			if deprecated {
				if len(c.ReplicationSpecs) != 1 || c.ReplicationSpecs[0].NumShards != 3 || c.ReplicationSpecs[0].ZoneName != "Zone 1" {
					t.Errorf("%s replicationSpecs: %s", tc.accept, one.Body)
				}
			} else if len(c.ReplicationSpecs) != 3 || c.ReplicationSpecs[2].ID != sh.Shards[2].ID || c.ReplicationSpecs[0].NumShards != 0 {
				t.Errorf("2024-08-05 replicationSpecs: %s", one.Body)
			}
		})
	}

	missing := e.Do(t, apitest.Request{Path: e.clustersPath() + "/cluster-990", Accept: v20240805})
	ae := apitest.WantError(t, missing, http.StatusNotFound, snapexport.CodeClusterNotFound)
	if ae.Detail != "No cluster named cluster-990 exists in group "+e.GroupID+"." || !slices.Equal(ae.Params(), []string{"cluster-990", e.GroupID}) {
		t.Errorf("CLUSTER_NOT_FOUND: %s", missing.Body)
	}
	// Names are case-sensitive, and follow Atlas's pattern.
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.clustersPath() + "/CLUSTER-989", Accept: v20240805}), http.StatusNotFound, snapexport.CodeClusterNotFound)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.clustersPath() + "/bad_name", Accept: v20240805}), http.StatusBadRequest, snapexport.CodeInvalidPathParameter)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.clustersPath(), Accept: v20240530}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.clustersPath() + "/cluster-989/backup/schedule", Accept: v20230201}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
}
