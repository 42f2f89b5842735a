package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/apitest"
)

type clusterOut struct {
	ID             string `json:"id"`
	GroupID        string `json:"groupId"`
	Name           string `json:"name"`
	ClusterType    string `json:"clusterType"`
	MongoDBVersion string `json:"mongoDBVersion"`
	ProviderName   string `json:"providerName"`
	RegionName     string `json:"regionName"`
	InstanceSize   string `json:"instanceSize"`
	Shards         []struct {
		ID             string `json:"id"`
		ReplicaSetName string `json:"replicaSetName"`
	} `json:"shards"`
	Labels []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"labels"`
	Created string `json:"created"`
}

// TestAdminCluster registers clusters with the admin command and reads
// them back through the command and the running server.
func TestAdminCluster(t *testing.T) {
	dir, creds, owner := initServed(t)
	d := []string{"--data", dir, "--json"}
	g := creds.GroupID
	unknown := "0123456789abcdef01234567"

	var rs, sh clusterOut
	mustJSON(t, &rs, append([]string{"admin", "cluster", "create", "--group", g, "--name", "Cluster0"}, d...)...)
	if !hex24.MatchString(rs.ID) || rs.GroupID != g || rs.ClusterType != "REPLICASET" || rs.MongoDBVersion != "8.0.0" ||
		len(rs.Shards) != 1 || rs.Shards[0].ReplicaSetName != "Cluster0-shard-0" || len(rs.Labels) != 0 || rs.Labels == nil ||
		rs.ProviderName != "AWS" || rs.RegionName != "US_EAST_1" || rs.InstanceSize != "M10" {
		t.Errorf("cluster create (replica set) printed %+v", rs)
	}
	mustJSON(t, &sh, append([]string{"admin", "cluster", "create", "--group", g, "--name", "sharded-1", "--shards", "rs0,rs1",
		"--mongodb-version", "7.0.12", "--label", "env=prod", "--label", "team=a=b", "--provider", "AZURE", "--region", "EUROPE_NORTH",
		"--instance-size", "M40_NVME"}, d...)...)
	if sh.ClusterType != "SHARDED" || sh.MongoDBVersion != "7.0.12" || len(sh.Shards) != 2 || sh.Shards[1].ReplicaSetName != "rs1" ||
		sh.ProviderName != "AZURE" || sh.RegionName != "EUROPE_NORTH" || sh.InstanceSize != "M40_NVME" ||
		len(sh.Labels) != 2 || sh.Labels[1].Key != "team" || sh.Labels[1].Value != "a=b" {
		t.Errorf("cluster create (sharded) printed %+v", sh)
	}
	var list []clusterOut
	mustJSON(t, &list, append([]string{"admin", "cluster", "list", "--group", g}, d...)...)
	if len(list) != 2 || list[0].ID != rs.ID || list[1].ID != sh.ID {
		t.Errorf("cluster list = %+v, want %s and %s", list, rs.ID, sh.ID)
	}

	for _, bad := range [][]string{
		{"--name", "-bad"}, {"--name", "under_score"}, {"--name", strings.Repeat("a", 65)},
		{"--name", "ok", "--mongodb-version", "8.0"}, {"--name", "ok", "--shards", "rs0,rs0"}, {"--name", "ok", "--shards", "rs0,"},
		{"--name", "ok", "--label", "novalue"}, {"--name", "Cluster0"},
		{"--name", "ok", "--provider", "aws"}, {"--name", "ok", "--provider", "IBM"},
		{"--name", "ok", "--region", "us-east-1"}, {"--name", "ok", "--region", "US__EAST"},
		{"--name", "ok", "--instance-size", "M5"}, {"--name", "ok", "--instance-size", "m10"}, {"--name", "ok", "--instance-size", "M010"},
	} {
		want := bad[len(bad)-1]
		switch want {
		case "rs0,":
			want = `""`
		case "rs0,rs0":
			want = `"rs0"`
		}
		code := 1
		if bad[1] == "ok" && bad[2] == "--label" {
			code = 2 // a malformed flag is a usage error
		}
		args := append([]string{"admin", "cluster", "create", "--group", g}, bad...)
		mustFail(t, code, []string{want}, append(args, d...)...)
	}
	mustFail(t, 1, []string{unknown}, append([]string{"admin", "cluster", "create", "--group", unknown, "--name", "x"}, d...)...)
	mustFail(t, 1, []string{unknown}, append([]string{"admin", "cluster", "list", "--group", unknown}, d...)...)

	// The running server sees them.
	got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + g + "/clusters", Accept: apitest.MediaType("2024-08-05")})
	var page struct {
		Results []struct {
			Name             string `json:"name"`
			ReplicationSpecs []struct {
				RegionConfigs []struct {
					ProviderName   string `json:"providerName"`
					RegionName     string `json:"regionName"`
					ElectableSpecs struct {
						InstanceSize string `json:"instanceSize"`
					} `json:"electableSpecs"`
				} `json:"regionConfigs"`
			} `json:"replicationSpecs"`
		} `json:"results"`
		TotalCount int `json:"totalCount"`
	}
	if err := json.Unmarshal(got.Body, &page); got.Status != 200 || err != nil || page.TotalCount != 2 ||
		!slices.Equal([]string{page.Results[0].Name, page.Results[1].Name}, []string{"Cluster0", "sharded-1"}) ||
		len(page.Results[1].ReplicationSpecs) != 2 {
		t.Fatalf("GET clusters: %s", got)
	}
	for i, want := range [][3]string{{"AWS", "US_EAST_1", "M10"}, {"AZURE", "EUROPE_NORTH", "M40_NVME"}} {
		rc := page.Results[i].ReplicationSpecs[0].RegionConfigs
		if len(rc) != 1 || [3]string{rc[0].ProviderName, rc[0].RegionName, rc[0].ElectableSpecs.InstanceSize} != want {
			t.Errorf("GET clusters: %s has region configs %+v, want %v", page.Results[i].Name, rc, want)
		}
	}
}
