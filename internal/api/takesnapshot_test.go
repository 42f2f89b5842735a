package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

func (e *env) dataPath(cluster, query string) string {
	return "/api/snapexport/v1/groups/" + e.GroupID + "/clusters/" + cluster + "/data" + query
}

func takeRequest(path, body string) apitest.Request {
	return apitest.Request{Method: "POST", Path: path, Accept: v20230101, Body: body}
}

// waitForSnapshot reads the snapshot until it is no longer being taken.
func (e *env) waitForSnapshot(t *testing.T, path string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		got := e.Do(t, apitest.Request{Path: path, Accept: v20230101})
		apitest.WantStatus(t, got, http.StatusOK)
		o := got.Object(t)
		if o["status"] != "queued" && o["status"] != "inProgress" {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot still %v after a minute: %s", o["status"], got.Body)
		}
	}
}

// TestTakeSnapshot: an on-demand snapshot answers queued, as Atlas
// records, and completes with the cluster's data as loaded.
func TestTakeSnapshot(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "cluster-209"})
	ds := dumptest.Generate(dumptest.Options{Seed: 2, DocsPerCollection: 5})
	loaded := e.Do(t, apitest.Request{Method: "PUT", Path: e.dataPath("cluster-209", ""), Body: string(dumptest.ArchiveBytes(ds, true, true)),
		ContentType: "application/octet-stream"})
	apitest.WantStatus(t, loaded, http.StatusOK)
	size := loaded.Object(t)["storageSizeBytes"].(float64)
	if size == 0 {
		t.Fatalf("load: %s", loaded.Body)
	}

	before := time.Now().UTC()
	got := e.Do(t, takeRequest(e.snapshotsPath("v2", "cluster-209"), `{"description":"test-snapshot","retentionInDays":2}`))
	apitest.WantStatus(t, got, http.StatusOK)
	if ct := got.Header.Get("Content-Type"); ct != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	o := got.Object(t)
	want := map[string]any{"status": "queued", "snapshotType": "onDemand", "frequencyType": "ondemand", "type": "replicaSet",
		"storageSizeBytes": float64(0), "description": "test-snapshot", "replicaSetName": "cluster-209"}
	for k, v := range want {
		if o[k] != v {
			t.Errorf("queued snapshot: %s = %v, want %v", k, o[k], v)
		}
	}
	for _, absent := range []string{"createdAt", "cloudProvider", "mongodVersion"} {
		if _, ok := o[absent]; ok {
			t.Errorf("queued snapshot shows %s, which Atlas shows only later: %s", absent, got.Body)
		}
	}
	wantOrder := []string{"copyRegions", "description", "expiresAt", "frequencyType", "id", "links", "policyItems", "replicaSetName",
		"snapshotType", "status", "storageSizeBytes", "type"}
	if keys := got.KeyOrders(t)[0]; !slices.Equal(keys, wantOrder) {
		t.Errorf("queued snapshot keys %v, want Atlas's recorded %v", keys, wantOrder)
	}
	expires, _ := time.Parse(time.RFC3339, o["expiresAt"].(string))
	if d := expires.Sub(before); d < 47*time.Hour || d > 49*time.Hour {
		t.Errorf("expiresAt %s, want two days after %s", o["expiresAt"], before)
	}

	done := e.waitForSnapshot(t, e.snapshotsPath("v2", "cluster-209")+"/"+o["id"].(string))
	if done["status"] != "completed" || done["storageSizeBytes"] != size || done["createdAt"] == nil || done["cloudProvider"] != "AWS" || done["mongodVersion"] == nil {
		t.Errorf("completed snapshot: %v; want its data's %v bytes, createdAt, cloudProvider and mongodVersion", done, size)
	}

	// The v1.0 API takes snapshots too.
	v1 := apitest.Request{Method: "POST", Path: e.snapshotsPath("v1.0", "cluster-209"), Body: `{"description":"v1"}`}
	got = e.Do(t, v1)
	apitest.WantStatus(t, got, http.StatusOK)
	if o := got.Object(t); o["status"] != "queued" || o["description"] != "v1" {
		t.Errorf("v1.0 take: %s", got.Body)
	}
}

// TestScheduledSnapshotPolicyItems: a snapshot the scheduler takes shows
// the policy items it was taken for.
func TestScheduledSnapshotPolicyItems(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	items := []string{service.NewID(), service.NewID()}
	snap, err := e.Server.Service.TakeSnapshot(context.Background(), e.GroupID, "cluster-0", service.SnapshotRequest{SnapshotType: "scheduled",
		FrequencyType: "daily", PolicyItemIDs: items, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PolicyItems   []string
		SnapshotType  string
		FrequencyType string
	}
	e.Do(t, apitest.Request{Path: e.snapshotsPath("v2", "cluster-0") + "/" + snap.ID, Accept: v20230101}).Decode(t, &got)
	if !slices.Equal(got.PolicyItems, items) || got.SnapshotType != "scheduled" || got.FrequencyType != "daily" {
		t.Errorf("scheduled snapshot: %+v, want policyItems %v", got, items)
	}
}

// TestTakeSnapshotRefusals: bad retention, a missing cluster, a role that
// may not take snapshots, and a snapshot while one is being taken; and a
// snapshot being taken can be neither deleted, given a new expiry nor
// exported.
func TestTakeSnapshotRefusals(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	c := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	path := e.snapshotsPath("v2", "cluster-0")
	for _, body := range []string{`{"retentionInDays":0}`, `{"retentionInDays":-3}`} {
		apitest.WantError(t, e.Do(t, takeRequest(path, body)), http.StatusBadRequest, snapexport.CodeRetentionValueInvalid)
	}
	apitest.WantError(t, e.Do(t, takeRequest(path, `{"retentionInDays":"1"}`)), http.StatusBadRequest, snapexport.CodeInvalidJSONAttribute)
	apitest.WantError(t, e.Do(t, takeRequest(path, `{"frequencyType":"daily"}`)), http.StatusBadRequest, snapexport.CodeInvalidAttribute)
	apitest.WantError(t, e.Do(t, takeRequest(e.snapshotsPath("v2", "cluster-1"), `{}`)), http.StatusNotFound, snapexport.CodeClusterNotFound)
	readOnly := takeRequest(path, `{}`)
	readOnly.Auth = e.apiKey(t, snapexport.RoleGroupReadOnly)
	apitest.WantError(t, e.Do(t, readOnly), http.StatusUnauthorized, snapexport.CodeUserUnauthorized)
	if n := e.snapshotCount(t, "cluster-0"); n != 0 {
		t.Fatalf("refused requests left %d snapshots", n)
	}

	creator := takeRequest(path, `{"description":"first"}`)
	creator.Auth = e.apiKey(t, snapexport.RoleGroupBackupCreator)
	got := e.Do(t, creator)
	apitest.WantStatus(t, got, http.StatusOK)
	id := got.Object(t)["id"].(string)
	apitest.WantError(t, e.Do(t, takeRequest(path, `{}`)), http.StatusBadRequest, snapexport.CodeUnfinishedSnapshot)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "DELETE", Path: path + "/" + id, Accept: v20230101}),
		http.StatusBadRequest, snapexport.CodeCannotDeleteUnfinished)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "PATCH", Path: path + "/" + id, Accept: v20230101, Body: `{"retentionUnit":"DAYS","retentionValue":3}`}),
		http.StatusBadRequest, snapexport.CodeCannotChangeUnfinishedRetention)
	bucket := e.createBucket(t, awsBucketBody("bucket-"+service.NewID(), e.role(t, "AWS", true)))
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + e.GroupID + "/clusters/cluster-0/backup/exports",
		Accept: v20230101, Body: jobBody(id, bucket)}), http.StatusBadRequest, snapexport.CodeUnfinishedSnapshot)
	if n := e.snapshotCount(t, c.Name); n != 1 {
		t.Errorf("%d snapshots, want the one queued", n)
	}
}

// TestTakeShardedSnapshot: a sharded cluster's snapshot is a
// sharded-cluster snapshot with one member per shard, each with its
// shard's data.
func TestTakeShardedSnapshot(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "sharded", Shards: []string{"rs0", "rs1"}})
	var sizes float64
	for i, shard := range []string{"rs0", "rs1"} {
		ds := dumptest.Generate(dumptest.Options{Seed: uint64(10 + i), DocsPerCollection: 2 + i})
		got := e.Do(t, apitest.Request{Method: "PUT", Path: e.dataPath("sharded", "?shard="+shard), Body: string(dumptest.ArchiveBytes(ds, false, true)),
			ContentType: "application/octet-stream"})
		apitest.WantStatus(t, got, http.StatusOK)
		sizes += got.Object(t)["storageSizeBytes"].(float64)
	}
	got := e.Do(t, takeRequest(e.snapshotsPath("v2", "sharded"), `{"description":"both"}`))
	apitest.WantStatus(t, got, http.StatusOK)
	o := got.Object(t)
	if o["type"] != "shardedCluster" || o["status"] != "queued" || len(o["members"].([]any)) != 2 {
		t.Fatalf("sharded take: %s", got.Body)
	}
	done := e.waitForSnapshot(t, e.snapshotsPath("v2", "sharded")+"/shardedCluster/"+o["id"].(string))
	if done["status"] != "completed" || done["storageSizeBytes"] != sizes {
		t.Errorf("sharded snapshot: %v, want completed with %v bytes", done, sizes)
	}
}

// TestLoadClusterData: PUT …/data replaces the cluster's data as a whole
// or not at all, with the upload's errors.
func TestLoadClusterData(t *testing.T) {
	e := newEnv(t, envOptions{noExports: true})
	c := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	e.cluster(t, service.ClusterInput{Name: "sharded", Shards: []string{"rs0", "rs1"}})
	ds := dumptest.Generate(dumptest.Options{Seed: 3, DocsPerCollection: 4})
	archive := dumptest.ArchiveBytes(ds, false, true)
	put := func(cluster, query string, body []byte) apitest.Request {
		return apitest.Request{Method: "PUT", Path: e.dataPath(cluster, query), Body: string(body), ContentType: "application/octet-stream"}
	}
	got := e.Do(t, put("cluster-0", "", archive))
	apitest.WantStatus(t, got, http.StatusOK)
	o := got.Object(t)
	if o["clusterName"] != "cluster-0" || o["replicaSetName"] != c.Shards[0].ReplicaSetName || len(o["collections"].([]any)) == 0 {
		t.Errorf("load: %s", got.Body)
	}
	loaded := o["storageSizeBytes"]

	cut := archive[:len(archive)/2]
	apitest.WantError(t, e.Do(t, put("cluster-0", "", cut)), http.StatusBadRequest, snapexport.CodeInvalidDump)
	apitest.WantError(t, e.Do(t, put("sharded", "", archive)), http.StatusBadRequest, snapexport.CodeInvalidSnapshotImport)
	apitest.WantError(t, e.Do(t, put("sharded", "?shard=rs9", archive)), http.StatusBadRequest, snapexport.CodeInvalidSnapshotImport)
	apitest.WantError(t, e.Do(t, put("cluster-9", "", archive)), http.StatusNotFound, snapexport.CodeClusterNotFound)
	readOnly := put("cluster-0", "", archive)
	readOnly.Auth = e.apiKey(t, snapexport.RoleGroupReadOnly)
	apitest.WantError(t, e.Do(t, readOnly), http.StatusUnauthorized, snapexport.CodeUserUnauthorized)

	// The refused loads left the first one's data.
	m, err := e.Server.Snapshots.ClusterData(context.Background(), clusterDataOf(c))
	if err != nil || float64(m.Size()) != loaded {
		t.Errorf("data after refused loads: %v, %v; want the first load's %v bytes", m, err, loaded)
	}
}

// clusterDataOf is where the data of c's replica set is kept.
func clusterDataOf(c *snapexport.Cluster) snapshotstore.DataLocation {
	return snapshotstore.DataLocation{ProjectID: c.ProjectID, ClusterID: c.ID, ReplicaSetName: c.Shards[0].ReplicaSetName}
}
