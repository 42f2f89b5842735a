package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

// Atlas's recorded bodies of a new M10 replica set on AWS in US_EAST_1
// (recorded-atlas TestSnapshots__GET_…clusters_cluster-209_1 and _2).
const (
	recordedCluster20230201 = `{"advancedConfiguration":{"customOpensslCipherConfigTls12":[],"customOpensslCipherConfigTls13":[],"minimumEnabledTlsProtocol":"TLS1_2","tlsCipherConfigMode":"DEFAULT"},"backupEnabled":true,"biConnector":{"enabled":false,"readPreference":"secondary"},"clusterType":"REPLICASET","connectionStrings":{},"createDate":"2026-08-10T03:02:44Z","diskSizeGB":10.0,"diskWarmingMode":"FULLY_WARMED","encryptionAtRestProvider":"NONE","globalClusterSelfManagedSharding":false,"groupId":"b0123456789abcdef012345b","id":"6a793f54c0eb9e7a17713ff5","labels":[],"links":[{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-209","rel":"self"},{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-209/backup/restoreJobs","rel":"https://cloud.mongodb.com/restoreJobs"},{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-209/backup/snapshots","rel":"https://cloud.mongodb.com/snapshots"}],"mongoDBMajorVersion":"8.0","mongoDBVersion":"8.0.29","name":"cluster-209","paused":false,"pitEnabled":true,"replicationSpecs":[{"id":"6a793f54c0eb9e7a17713f34","numShards":1,"regionConfigs":[{"analyticsSpecs":{"instanceSize":"M10","diskIOPS":3000,"ebsVolumeType":"STANDARD","nodeCount":0},"autoScaling":{"compute":{"enabled":false,"scaleDownEnabled":false},"diskGB":{"enabled":false}},"electableSpecs":{"instanceSize":"M10","diskIOPS":3000,"ebsVolumeType":"STANDARD","nodeCount":3},"priority":7,"providerName":"AWS","readOnlySpecs":{"instanceSize":"M10","diskIOPS":3000,"ebsVolumeType":"STANDARD","nodeCount":0},"regionName":"US_EAST_1"}],"zoneId":"6a793f54c0eb9e7a17713f7a","zoneName":"Zone 1"}],"rootCertType":"ISRGROOTX1","stateName":"CREATING","tags":[],"terminationProtectionEnabled":false,"versionReleaseSystem":"LTS"}`
	recordedCluster20240805 = `{"adaptiveCapacity":null,"advancedConfiguration":{"customOpensslCipherConfigTls12":[],"customOpensslCipherConfigTls13":[],"minimumEnabledTlsProtocol":"TLS1_2","tlsCipherConfigMode":"DEFAULT"},"backupEnabled":true,"biConnector":{"enabled":false,"readPreference":"secondary"},"clusterType":"REPLICASET","connectionStrings":{},"createDate":"2026-08-10T03:02:44Z","diskWarmingMode":"FULLY_WARMED","effectiveDatabaseEdition":"CORE","effectiveReplicationSpecs":[{"id":"6a793f54c0eb9e7a17713f7b","regionConfigs":[{"analyticsSpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":0},"autoScaling":{"compute":{"enabled":false,"scaleDownEnabled":false},"diskGB":{"enabled":false}},"electableSpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":3},"priority":7,"providerName":"AWS","readOnlySpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":0},"regionName":"US_EAST_1"}],"zoneId":"6a793f54c0eb9e7a17713f7a","zoneName":"Zone 1"}],"encryptionAtRestProvider":"NONE","featureCompatibilityVersion":"8.0","globalClusterSelfManagedSharding":false,"groupId":"b0123456789abcdef012345b","id":"6a793f54c0eb9e7a17713ff5","internalClusterRole":"NONE","labels":[],"links":[{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-209","rel":"self"},{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-209/backup/restoreJobs","rel":"https://cloud.mongodb.com/restoreJobs"},{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/clusters/cluster-209/backup/snapshots","rel":"https://cloud.mongodb.com/snapshots"}],"mongoDBMajorVersion":"8.0","mongoDBVersion":"8.0.29","name":"cluster-209","paused":false,"pitEnabled":true,"redactClientLogData":false,"replicationSpecs":[{"id":"6a793f54c0eb9e7a17713f7b","regionConfigs":[{"analyticsSpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":0},"autoScaling":{"compute":{"enabled":false,"scaleDownEnabled":false},"diskGB":{"enabled":false}},"effectiveAnalyticsSpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":0},"effectiveElectableSpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":3},"effectiveReadOnlySpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":0},"electableSpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":3},"priority":7,"providerName":"AWS","readOnlySpecs":{"instanceSize":"M10","diskIOPS":3000,"diskSizeGB":10.0,"ebsVolumeType":"STANDARD","nodeCount":0},"regionName":"US_EAST_1"}],"zoneId":"6a793f54c0eb9e7a17713f7a","zoneName":"Zone 1"}],"retainBackups":false,"rootCertType":"ISRGROOTX1","stateName":"CREATING","tags":[],"terminationProtectionEnabled":false,"useAwsTimeBasedSnapshotCopyForFastInitialSync":false,"versionReleaseSystem":"LTS"}`
)

// normalizedCluster is a cluster body with the values that differ from
// cluster to cluster (ids, dates, URLs, state) blanked, and pitEnabled,
// which the recorded cluster had turned on, dropped.
func normalizedCluster(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				switch k {
				case "id", "zoneId", "createDate", "groupId", "href", "stateName":
					t[k] = ""
				case "pitEnabled":
					delete(t, k)
				default:
					walk(e)
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return v
}

// TestClusterMatchesRecordedAtlas: a cluster registered with the defaults
// is described as Atlas describes a new M10 replica set, in both versions:
// the same fields in the same order (instanceSize first in hardware
// specs), the same values but for ids, dates, links and state.
func TestClusterMatchesRecordedAtlas(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "cluster-209", MongoDBVersion: "8.0.29"})
	for _, tc := range []struct {
		accept, recorded string
	}{{v20230201, recordedCluster20230201}, {v20240805, recordedCluster20240805}} {
		t.Run(tc.accept, func(t *testing.T) {
			for _, path := range []string{e.clustersPath() + "/cluster-209", e.clustersPath()} {
				got := e.Do(t, apitest.Request{Path: path, Accept: tc.accept})
				apitest.WantStatus(t, got, http.StatusOK)
				body := got.Body
				if path == e.clustersPath() {
					var page struct{ Results []json.RawMessage }
					got.Decode(t, &page)
					if len(page.Results) != 1 {
						t.Fatalf("list: %s", got.Body)
					}
					body = page.Results[0]
				}
				if err := apitest.CheckCompact(body); err != nil {
					t.Error(err)
				}
				want := []byte(tc.recorded)
				if g, w := keyOrders(t, body), keyOrders(t, want); !reflect.DeepEqual(g, w) {
					t.Errorf("GET %s fields:\n here %v\nAtlas %v", path, g, w)
				}
				if g, w := normalizedCluster(t, body), normalizedCluster(t, want); !reflect.DeepEqual(g, w) {
					t.Errorf("GET %s:\n here %s\nAtlas %s", path, body, want)
				}
			}
		})
	}
}

func keyOrders(t *testing.T, body []byte) [][]string {
	t.Helper()
	orders, err := apitest.KeyOrders(body)
	if err != nil {
		t.Fatal(err)
	}
	return orders
}

// TestClusterRegion: the provider, region and instance size a cluster was
// registered with are its region configuration's, in every replication
// spec of both versions; AWS-only fields go with AWS.
func TestClusterRegion(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "gcp", Shards: []string{"rs0", "rs1"}, Provider: snapexport.GCP, Region: "WESTERN_EUROPE", InstanceSize: "M30"})
	for _, accept := range []string{v20230201, v20240805} {
		got := e.Do(t, apitest.Request{Path: e.clustersPath() + "/gcp", Accept: accept})
		apitest.WantStatus(t, got, http.StatusOK)
		var c struct {
			DiskSizeGB       *float64
			ReplicationSpecs []struct {
				RegionConfigs []struct {
					ProviderName, RegionName string
					ElectableSpecs           map[string]any
				}
			}
		}
		got.Decode(t, &c)
		wantSpecs := map[string]int{v20230201: 1, v20240805: 2}[accept]
		if len(c.ReplicationSpecs) != wantSpecs {
			t.Fatalf("%s: %s", accept, got.Body)
		}
		for _, s := range c.ReplicationSpecs {
			if len(s.RegionConfigs) != 1 {
				t.Fatalf("%s: %s", accept, got.Body)
			}
			rc := s.RegionConfigs[0]
			wantElectable := map[string]any{"instanceSize": "M30", "nodeCount": float64(3)}
			if accept == v20240805 {
				wantElectable["diskSizeGB"] = float64(40)
			}
			if rc.ProviderName != "GCP" || rc.RegionName != "WESTERN_EUROPE" || !reflect.DeepEqual(rc.ElectableSpecs, wantElectable) {
				t.Errorf("%s region config %+v, want GCP WESTERN_EUROPE %v", accept, rc, wantElectable)
			}
		}
		if (accept == v20230201) != (c.DiskSizeGB != nil && *c.DiskSizeGB == 40) {
			t.Errorf("%s diskSizeGB %v", accept, c.DiskSizeGB)
		}
	}
}
