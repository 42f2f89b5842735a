package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

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
	BackupEnabled       bool               `json:"backupEnabled"`
	ClusterType         string             `json:"clusterType"`
	CreateDate          string             `json:"createDate"`
	GroupID             string             `json:"groupId"`
	ID                  string             `json:"id"`
	Labels              []snapexport.Label `json:"labels"`
	MongoDBMajorVersion string             `json:"mongoDBMajorVersion"`
	MongoDBVersion      string             `json:"mongoDBVersion"`
	Name                string             `json:"name"`
	ReplicationSpecs    []struct {
		ID        string `json:"id"`
		NumShards int    `json:"numShards"`
		ZoneName  string `json:"zoneName"`
	} `json:"replicationSpecs"`
	StateName                    string             `json:"stateName"`
	Tags                         []snapexport.Label `json:"tags"`
	TerminationProtectionEnabled bool               `json:"terminationProtectionEnabled"`
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
				!slices.Equal(c.Labels, sh.Labels) || len(c.Tags) != 0 || c.TerminationProtectionEnabled || c.CreateDate != sh.CreatedAt.UTC().Format("2006-01-02T15:04:05Z") {
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

const v20241023 = "application/vnd.atlas.2024-10-23+json"

// clusterBodyOf is a creation body: a cluster in AWS US_EAST_1 of size,
// described by specs (the replicationSpecs array) and more attributes.
func clusterBodyOf(name, clusterType, specs, more string) string {
	if more != "" {
		more = "," + more
	}
	return fmt.Sprintf(`{"name":%q,"clusterType":%q,"replicationSpecs":%s%s}`, name, clusterType, specs, more)
}

// regionSpec is a replication spec in one region, with extra attributes.
func regionSpec(size, extra string) string {
	return fmt.Sprintf(`{%s"regionConfigs":[{"providerName":"AWS","regionName":"US_EAST_1","priority":7,`+
		`"electableSpecs":{"instanceSize":%q,"nodeCount":3}}]}`, extra, size)
}

// TestCreateCluster creates clusters in every version: a replica set with
// its settings, a sharded cluster of one spec per shard (2024-08-05 on) or
// numShards (before), each read back as the 201 rendered it, with the
// default backup schedule, and shards named as admin cluster create names
// a replica set's.
func TestCreateCluster(t *testing.T) {
	e := newEnv(t)
	for i, tc := range []struct {
		accept     string
		deprecated bool
		sharded    string // replicationSpecs of a 3-shard cluster
	}{
		// 2024-10-23 is served for creating and changing only; its body
		// is 2024-08-05's, read back in that version.
		{v20241023, false, "[" + regionSpec("M30", "") + "," + regionSpec("M30", "") + "," + regionSpec("M30", "") + "]"},
		{v20240805, false, "[" + regionSpec("M30", "") + "," + regionSpec("M30", "") + "," + regionSpec("M30", "") + "]"},
		{v20230201, true, "[" + regionSpec("M30", `"numShards":3,`) + "]"},
		{"application/vnd.atlas.2023-01-01+json", true, "[" + regionSpec("M30", `"numShards":3,`) + "]"},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			name := fmt.Sprintf("rs-%d", i)
			body := clusterBodyOf(name, "REPLICASET", "["+regionSpec("M10", "")+"]",
				`"mongoDBMajorVersion":"7.0","backupEnabled":false,"terminationProtectionEnabled":true,`+
					`"labels":[{"key":"env","value":"prod"}],"tags":[{"key":"team","value":"data"}],"paused":false`)
			res := e.Do(t, apitest.Request{Method: "POST", Path: e.clustersPath(), Accept: tc.accept, Body: body})
			apitest.WantStatus(t, res, http.StatusCreated)
			if dep := res.Header.Get("Deprecation"); (dep != "") != tc.deprecated {
				t.Errorf("Deprecation %q on a version deprecated=%v", dep, tc.deprecated)
			}
			var c clusterBody
			res.Decode(t, &c)
			if c.Name != name || c.ClusterType != "REPLICASET" || c.StateName != "IDLE" || c.BackupEnabled || !c.TerminationProtectionEnabled ||
				c.MongoDBMajorVersion != "7.0" || c.MongoDBVersion != "7.0.0" || c.GroupID != e.GroupID ||
				!slices.Equal(c.Labels, []snapexport.Label{{Key: "env", Value: "prod"}}) || !slices.Equal(c.Tags, []snapexport.Label{{Key: "team", Value: "data"}}) {
				t.Errorf("created: %s", res.Body)
			}
			read := tc.accept
			if read == v20241023 {
				read = v20240805
			}
			got := e.Do(t, apitest.Request{Path: e.clustersPath() + "/" + name, Accept: read})
			apitest.WantStatus(t, got, http.StatusOK)
			if string(got.Body) != string(res.Body) {
				t.Errorf("read back:\n%s\ncreated:\n%s", got.Body, res.Body)
			}
			schedule := e.Do(t, apitest.Request{Path: e.clustersPath() + "/" + name + "/backup/schedule", Accept: v20240805})
			apitest.WantStatus(t, schedule, http.StatusOK)
			if policies, _ := schedule.Object(t)["policies"].([]any); len(policies) != 1 ||
				len(policies[0].(map[string]any)["policyItems"].([]any)) != len(snapexport.DefaultPolicyItems(service.NewID)) {
				t.Errorf("schedule of a new cluster: %s", schedule.Body)
			}

			sharded := fmt.Sprintf("sh-%d", i)
			res = e.Do(t, apitest.Request{Method: "POST", Path: e.clustersPath(), Accept: tc.accept, Body: clusterBodyOf(sharded, "SHARDED", tc.sharded, "")})
			apitest.WantStatus(t, res, http.StatusCreated)
			res.Decode(t, &c)
			if c.ClusterType != "SHARDED" || !c.BackupEnabled || c.TerminationProtectionEnabled || c.MongoDBVersion != service.DefaultMongoDBVersion {
				t.Errorf("sharded: %s", res.Body)
			}
			if _, present := res.Object(t)["tags"]; present {
				t.Errorf("a creation without tags answers tags, which Atlas leaves out: %s", res.Body)
			}
			stored, err := e.Server.Service.Cluster(context.Background(), e.GroupID, sharded)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range stored.Shards {
				names = append(names, s.ReplicaSetName)
			}
			if want := []string{sharded + "-shard-0", sharded + "-shard-1", sharded + "-shard-2"}; !slices.Equal(names, want) ||
				stored.InstanceSize != "M30" || stored.Provider != snapexport.AWS || stored.Region != "US_EAST_1" {
				t.Errorf("stored shards %v (want %v), %s %s %s", names, want, stored.Provider, stored.Region, stored.InstanceSize)
			}
			if tc.deprecated {
				if len(c.ReplicationSpecs) != 1 || c.ReplicationSpecs[0].NumShards != 3 {
					t.Errorf("replicationSpecs: %s", res.Body)
				}
			} else if len(c.ReplicationSpecs) != 3 {
				t.Errorf("replicationSpecs: %s", res.Body)
			}
		})
	}
}

// TestCreateClusterRefusals sends bodies Atlas refuses, each with the
// status and code the service answers, and checks nothing was created.
func TestCreateClusterRefusals(t *testing.T) {
	e := newEnv(t)
	rs := "[" + regionSpec("M10", "") + "]"
	taken := e.cluster(t, service.ClusterInput{Name: "taken"})
	for _, tc := range []struct {
		name, accept, body string
		status             int
		code               string
	}{
		{"taken name", v20240805, clusterBodyOf(taken.Name, "REPLICASET", rs, ""), 400, snapexport.CodeDuplicateClusterName},
		{"bad name", v20240805, clusterBodyOf("-bad", "REPLICASET", rs, ""), 400, snapexport.CodeValidationError},
		{"no name", v20240805, `{"clusterType":"REPLICASET","replicationSpecs":` + rs + `}`, 400, snapexport.CodeMissingAttribute},
		{"no type", v20240805, `{"name":"n1","replicationSpecs":` + rs + `}`, 400, snapexport.CodeMissingAttribute},
		{"no specs", v20240805, `{"name":"n2","clusterType":"REPLICASET"}`, 400, snapexport.CodeMissingAttribute},
		{"bad type", v20240805, clusterBodyOf("n3", "GEOSHARDED", rs, ""), 400, snapexport.CodeInvalidEnumValue},
		{"bad size", v20240805, clusterBodyOf("n4", "REPLICASET", "["+regionSpec("M0", "")+"]", ""), 400, snapexport.CodeInvalidEnumValue},
		{"bad provider", v20240805, clusterBodyOf("n5", "REPLICASET",
			`[{"regionConfigs":[{"providerName":"IBM","regionName":"US_EAST_1","electableSpecs":{"instanceSize":"M10"}}]}]`, ""), 400, snapexport.CodeInvalidProvider},
		{"bad region", v20240805, clusterBodyOf("n6", "REPLICASET",
			`[{"regionConfigs":[{"providerName":"AWS","regionName":"us-east-1","electableSpecs":{"instanceSize":"M10"}}]}]`, ""), 400, snapexport.CodeInvalidRegion},
		{"no instance size", v20240805, clusterBodyOf("n7", "REPLICASET",
			`[{"regionConfigs":[{"providerName":"AWS","regionName":"US_EAST_1","electableSpecs":{"nodeCount":3}}]}]`, ""), 400, snapexport.CodeMissingAttribute},
		{"two shards of a replica set", v20240805, clusterBodyOf("n8", "REPLICASET", "["+regionSpec("M10", "")+","+regionSpec("M10", "")+"]", ""), 400, snapexport.CodeValidationError},
		{"shards of different sizes", v20240805, clusterBodyOf("n9", "SHARDED", "["+regionSpec("M10", "")+","+regionSpec("M30", "")+"]", ""), 400, snapexport.CodeValidationError},
		{"no shards", v20230201, clusterBodyOf("n10", "SHARDED", "["+regionSpec("M10", `"numShards":0,`)+"]", ""), 400, snapexport.CodeValidationError},
		{"too many shards", v20230201, clusterBodyOf("n11", "SHARDED", "["+regionSpec("M10", `"numShards":71,`)+"]", ""), 400, snapexport.CodeValidationError},
		{"numShards in 2024-08-05", v20240805, clusterBodyOf("n12", "SHARDED", "["+regionSpec("M10", `"numShards":2,`)+"]", ""), 400, snapexport.CodeInvalidAttribute},
		{"unknown attribute", v20240805, clusterBodyOf("n13", "REPLICASET", rs, `"colour":"blue"`), 400, snapexport.CodeInvalidAttribute},
		{"read-only attribute", v20240805, clusterBodyOf("n14", "REPLICASET", rs, `"stateName":"IDLE"`), 400, snapexport.CodeAttributeReadOnly},
		{"unsupported setting", v20240805, clusterBodyOf("n15", "REPLICASET", rs, `"paused":true`), 400, snapexport.CodeAttributeReadOnly},
		{"unknown version", v20240805, clusterBodyOf("n16", "REPLICASET", rs, `"mongoDBMajorVersion":"3.6"`), 400, snapexport.CodeInvalidEnumValue},
		{"two regions", v20240805, clusterBodyOf("n17", "REPLICASET",
			`[{"regionConfigs":[{"providerName":"AWS","regionName":"US_EAST_1","electableSpecs":{"instanceSize":"M10"}},`+
				`{"providerName":"AWS","regionName":"US_WEST_2","electableSpecs":{"instanceSize":"M10"}}]}]`, ""), 400, snapexport.CodeValidationError},
		{"label without key", v20240805, clusterBodyOf("n18", "REPLICASET", rs, `"labels":[{"key":" ","value":"v"}]`), 400, snapexport.CodeValidationError},
		{"wrong type", v20240805, clusterBodyOf("n19", "REPLICASET", rs, `"backupEnabled":"yes"`), 400, snapexport.CodeInvalidJSONAttribute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.Do(t, apitest.Request{Method: "POST", Path: e.clustersPath(), Accept: tc.accept, Body: tc.body})
			apitest.WantError(t, res, tc.status, tc.code)
		})
	}
	clusters, total, err := e.Server.Service.Clusters(context.Background(), e.GroupID, snapexport.Page{})
	if err != nil || total != 1 || clusters[0].ID != taken.ID {
		t.Errorf("after the refusals the project has %d clusters (%v), want only %s", total, err, taken.Name)
	}
}

// TestClusterLifecycle follows a cluster through its states on a clock
// the test moves: CREATING, then IDLE once the delay has passed, DELETING
// after a delete, then gone, its name free again; the status says
// PENDING while a change is under way.
func TestClusterLifecycle(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 2, 44, 0, time.UTC))
	const delay = 10 * time.Minute
	e := newEnv(t, envOptions{clock: clock, clusterChangeDelay: delay})
	body := clusterBodyOf("life", "REPLICASET", "["+regionSpec("M10", "")+"]", "")
	path := e.clustersPath() + "/life"
	state := func(t *testing.T) (string, string) {
		t.Helper()
		got := e.Do(t, apitest.Request{Path: path, Accept: v20240805})
		apitest.WantStatus(t, got, http.StatusOK)
		status := e.Do(t, apitest.Request{Path: path + "/status", Accept: apitest.MediaType("2023-01-01")})
		apitest.WantStatus(t, status, http.StatusOK)
		return got.Field(t, "stateName"), status.Field(t, "changeStatus")
	}

	res := e.Do(t, apitest.Request{Method: "POST", Path: e.clustersPath(), Accept: v20240805, Body: body})
	apitest.WantStatus(t, res, http.StatusCreated)
	if s := res.Field(t, "stateName"); s != "CREATING" {
		t.Errorf("created in state %s, want CREATING", s)
	}
	if s, c := state(t); s != "CREATING" || c != "PENDING" {
		t.Errorf("just created: %s, %s; want CREATING, PENDING", s, c)
	}
	clock.Advance(delay - time.Second)
	if s, _ := state(t); s != "CREATING" {
		t.Errorf("a second before the delay: %s, want CREATING", s)
	}
	clock.Advance(time.Second)
	if s, c := state(t); s != "IDLE" || c != "APPLIED" {
		t.Errorf("after the delay: %s, %s; want IDLE, APPLIED", s, c)
	}

	del := e.Do(t, apitest.Request{Method: "DELETE", Path: path, Accept: v20230201})
	apitest.WantStatus(t, del, http.StatusAccepted)
	if string(del.Body) != "{}" || del.Header.Get("Deprecation") != "" {
		t.Errorf("delete answered %s (Deprecation %q), want {} without Deprecation", del.Body, del.Header.Get("Deprecation"))
	}
	if s, c := state(t); s != "DELETING" || c != "PENDING" {
		t.Errorf("deleting: %s, %s; want DELETING, PENDING", s, c)
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "DELETE", Path: path, Accept: v20230201}), 400, snapexport.CodeClusterAlreadyRequestedDeletion)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805, Body: `{"backupEnabled":false}`}),
		400, snapexport.CodeClusterAlreadyRequestedDeletion)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: e.clustersPath(), Accept: v20240805, Body: body}), 400, snapexport.CodeDuplicateClusterName)
	list := e.Do(t, apitest.Request{Path: e.clustersPath(), Accept: v20240805})
	if list.Object(t)["totalCount"] != float64(1) {
		t.Errorf("a deleting cluster is listed until it is gone: %s", list.Body)
	}

	clock.Advance(delay)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805}), 404, snapexport.CodeClusterNotFound)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: path + "/status", Accept: apitest.MediaType("2023-01-01")}), 404, snapexport.CodeClusterNotFound)
	list = e.Do(t, apitest.Request{Path: e.clustersPath(), Accept: v20240805})
	if list.Object(t)["totalCount"] != float64(0) {
		t.Errorf("a deleted cluster is still listed: %s", list.Body)
	}
	again := e.Do(t, apitest.Request{Method: "POST", Path: e.clustersPath(), Accept: v20240805, Body: body})
	apitest.WantStatus(t, again, http.StatusCreated)
	if again.Field(t, "id") == res.Field(t, "id") {
		t.Errorf("the name's new cluster has the deleted one's id")
	}
}

// TestDeleteCluster: termination protection refuses the delete until it
// is turned off; snapshots go with the cluster, data included, unless
// retainBackups keeps them readable under its name until another cluster
// takes the name; an export in progress refuses the delete.
func TestDeleteCluster(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	ctx := context.Background()
	del := func(name, query string) *apitest.Response {
		return e.Do(t, apitest.Request{Method: "DELETE", Path: e.clustersPath() + "/" + name + query, Accept: v20230201})
	}

	protected := e.cluster(t, service.ClusterInput{Name: "protected", TerminationProtectionEnabled: true})
	apitest.WantError(t, del(protected.Name, ""), 400, snapexport.CodeClusterTerminationProtected)
	off := e.Do(t, apitest.Request{Method: "PATCH", Path: e.clustersPath() + "/protected", Accept: v20240805, Body: `{"terminationProtectionEnabled":false}`})
	apitest.WantStatus(t, off, http.StatusOK)
	apitest.WantStatus(t, del(protected.Name, ""), http.StatusAccepted)

	dropped := e.cluster(t, service.ClusterInput{Name: "dropped"})
	snap := e.test.StoreSnapshot(t, dropped, snapexport.Snapshot{})
	apitest.WantStatus(t, del(dropped.Name, "?retainBackups=false"), http.StatusAccepted)
	if e.test.SnapshotStored(t, dropped, snap.ID) {
		t.Errorf("snapshot %s of a cluster deleted without retainBackups is still stored", snap.ID)
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.clustersPath() + "/dropped/backup/snapshots", Accept: apitest.MediaType("2023-01-01")}),
		404, snapexport.CodeClusterNotFound)

	kept := e.cluster(t, service.ClusterInput{Name: "kept"})
	keptSnap := e.test.StoreSnapshot(t, kept, snapexport.Snapshot{})
	apitest.WantStatus(t, del(kept.Name, "?retainBackups=true"), http.StatusAccepted)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.clustersPath() + "/kept", Accept: v20240805}), 404, snapexport.CodeClusterNotFound)
	snaps := e.Do(t, apitest.Request{Path: e.clustersPath() + "/kept/backup/snapshots", Accept: apitest.MediaType("2023-01-01")})
	apitest.WantStatus(t, snaps, http.StatusOK)
	if o := snaps.Object(t); o["totalCount"] != float64(1) || !e.test.SnapshotStored(t, kept, keptSnap.ID) {
		t.Errorf("retained snapshots: %s", snaps.Body)
	}
	one := e.Do(t, apitest.Request{Path: e.clustersPath() + "/kept/backup/snapshots/" + keptSnap.ID, Accept: apitest.MediaType("2023-01-01")})
	apitest.WantStatus(t, one, http.StatusOK)
	// A new cluster of the name shows its own snapshots.
	e.cluster(t, service.ClusterInput{Name: "kept"})
	snaps = e.Do(t, apitest.Request{Path: e.clustersPath() + "/kept/backup/snapshots", Accept: apitest.MediaType("2023-01-01")})
	if snaps.Object(t)["totalCount"] != float64(0) {
		t.Errorf("the new cluster of the name lists the deleted one's snapshots: %s", snaps.Body)
	}

	busy := e.cluster(t, service.ClusterInput{Name: "busy"})
	busySnap := e.test.StoreSnapshot(t, busy, snapexport.Snapshot{})
	role, err := e.Server.Service.CreateRole(ctx, e.GroupID, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Server.Service.AuthorizeRole(ctx, e.GroupID, role.ID, service.RoleInput{Provider: snapexport.AWS,
		IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/export"}); err != nil {
		t.Fatal(err)
	}
	bucket, err := e.Server.Service.CreateBucket(ctx, e.GroupID, service.BucketInput{Provider: snapexport.AWS, BucketName: "busy-bucket", RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Server.Service.CreateExportJob(ctx, service.ExportJobInput{ProjectID: e.GroupID, ClusterName: busy.Name,
		SnapshotID: busySnap.ID, ExportBucketID: bucket.ID}); err != nil {
		t.Fatal(err)
	}
	apitest.WantError(t, del(busy.Name, "?retainBackups=true"), 400, snapexport.CodeSnapshotBeingExported)
	if _, err := e.Server.Service.Cluster(ctx, e.GroupID, busy.Name); err != nil {
		t.Errorf("a refused delete removed the cluster: %v", err)
	}
}

// TestUpdateCluster changes what a cluster's owner may change, accepts
// the cluster's own description sent back whole, and refuses what the
// service cannot change.
func TestUpdateCluster(t *testing.T) {
	e := newEnv(t)
	c := e.cluster(t, service.ClusterInput{Name: "changing", MongoDBMajorVersion: "7.0", Labels: []snapexport.Label{{Key: "a", Value: "1"}}})
	path := e.clustersPath() + "/changing"
	res := e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20241023,
		Body: `{"labels":[],"tags":[{"key":"t","value":"2"}],"backupEnabled":false,"terminationProtectionEnabled":true,"mongoDBMajorVersion":"8.0"}`})
	apitest.WantStatus(t, res, http.StatusOK)
	var got clusterBody
	res.Decode(t, &got)
	if len(got.Labels) != 0 || !slices.Equal(got.Tags, []snapexport.Label{{Key: "t", Value: "2"}}) || got.BackupEnabled ||
		!got.TerminationProtectionEnabled || got.MongoDBVersion != "8.0.0" || got.ID != c.ID {
		t.Errorf("after the change: %s", res.Body)
	}
	read := e.Do(t, apitest.Request{Path: path, Accept: v20240805})
	if string(read.Body) != string(res.Body) {
		t.Errorf("read back:\n%s\nchanged:\n%s", read.Body, res.Body)
	}

	// The description as read, sent back with one change.
	var whole map[string]any
	read.Decode(t, &whole)
	whole["backupEnabled"] = true
	data, err := json.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	res = e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805, Body: string(data)})
	apitest.WantStatus(t, res, http.StatusOK)
	if !res.Object(t)["backupEnabled"].(bool) {
		t.Errorf("the whole description with backupEnabled true: %s", res.Body)
	}

	for _, tc := range []struct {
		name, body string
		code       string
	}{
		{"rename", `{"name":"renamed"}`, snapexport.CodeAttributeReadOnly},
		{"resize", `{"replicationSpecs":[` + regionSpec("M30", "") + `]}`, snapexport.CodeAttributeReadOnly},
		{"reshard", `{"clusterType":"SHARDED"}`, snapexport.CodeAttributeReadOnly},
		{"downgrade", `{"mongoDBMajorVersion":"7.0"}`, snapexport.CodeValidationError},
		{"unknown version", `{"mongoDBMajorVersion":"9.9"}`, snapexport.CodeInvalidEnumValue},
		{"pause", `{"paused":true}`, snapexport.CodeAttributeReadOnly},
		{"another id", `{"id":"` + service.NewID() + `"}`, snapexport.CodeAttributeReadOnly},
		{"unknown attribute", `{"colour":"blue"}`, snapexport.CodeInvalidAttribute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apitest.WantError(t, e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805, Body: tc.body}), 400, tc.code)
		})
	}
	after, err := e.Server.Service.Cluster(context.Background(), e.GroupID, "changing")
	if err != nil || after.InstanceSize != "M10" || after.Type != snapexport.ClusterReplicaSet || after.MongoDBVersion != "8.0.0" {
		t.Errorf("the refused changes changed the cluster: %+v, %v", after, err)
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "PATCH", Path: e.clustersPath() + "/missing", Accept: v20240805, Body: `{}`}),
		404, snapexport.CodeClusterNotFound)
}

// TestDefaultMongoDBMajorVersion: answered without authentication, in
// plain text, the version a cluster created without one gets.
func TestDefaultMongoDBMajorVersion(t *testing.T) {
	e := newEnv(t)
	// Outside Atlas's API, so outside the OpenAPI document the client
	// validates answers against.
	plain := &apitest.Client{BaseURL: e.URL}
	res := plain.Do(t, apitest.Request{Path: "/api/private/unauth/nds/defaultMongoDBMajorVersion", Auth: apitest.NoAuth})
	apitest.WantStatus(t, res, http.StatusOK)
	if string(res.Body) != "8.0" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("answered %q (%s), want 8.0 in plain text", res.Body, res.Header.Get("Content-Type"))
	}
	c := e.cluster(t, service.ClusterInput{Name: "defaulted"})
	if snapexport.MongoDBMajorVersion(c.MongoDBVersion) != string(res.Body) {
		t.Errorf("a cluster created without a version runs %s, the default answered is %s", c.MongoDBVersion, res.Body)
	}
}
