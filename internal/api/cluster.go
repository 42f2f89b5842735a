package api

import (
	"net/url"

	"github.com/snapexport/snapexport"
)

// Cluster versions: 2024-08-05 describes one replication spec per shard;
// 2023-02-01, which it replaced, one per zone with numShards (Atlas
// answers it with these Deprecation and Sunset headers). 2023-01-01, the
// first v2 version, replaced by 2023-02-01, is rendered like 2023-02-01:
// no source describes its body apart, and both predate one spec per shard.
var (
	v20240805         = version{Date: "2024-08-05"}
	v20230201         = version{Date: "2023-02-01", Deprecated: date("2024-08-05"), Sunset: date("2027-07-01")}
	v20230101Clusters = version{Date: "2023-01-01", Deprecated: date("2023-02-01"), Sunset: date("2027-07-01")}
)

type labelView struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// labelViews renders labels, never as null.
func labelViews(labels []snapexport.Label) []labelView {
	out := make([]labelView, len(labels))
	for i, l := range labels {
		out[i] = labelView(l)
	}
	return out
}

// replicationSpecView is a replication spec. The service does not run the
// cluster, so it knows no provider, region or hardware: regionConfigs is
// empty.
type replicationSpecView struct {
	ID            string `json:"id"`
	NumShards     int    `json:"numShards,omitempty"`
	RegionConfigs []any  `json:"regionConfigs"`
	ZoneName      string `json:"zoneName"`
}

// clusterView is the part of Atlas's cluster description the service can
// fill: what tools read to find a project's clusters.
type clusterView struct {
	BackupEnabled       bool                  `json:"backupEnabled"`
	ClusterType         string                `json:"clusterType"`
	CreateDate          string                `json:"createDate"`
	GroupID             string                `json:"groupId"`
	ID                  string                `json:"id"`
	Labels              []labelView           `json:"labels"`
	Links               []link                `json:"links"`
	MongoDBMajorVersion string                `json:"mongoDBMajorVersion"`
	MongoDBVersion      string                `json:"mongoDBVersion"`
	Name                string                `json:"name"`
	Paused              bool                  `json:"paused"`
	ReplicationSpecs    []replicationSpecView `json:"replicationSpecs"`
	StateName           string                `json:"stateName"`
	Tags                []labelView           `json:"tags"`
}

const zoneName = "Zone 1"

func (c *call) clusterView(cl *snapexport.Cluster) clusterView {
	labels := labelViews(cl.Labels)
	self := c.baseURL() + "/api/atlas/v2/groups/" + cl.ProjectID + "/clusters/" + url.PathEscape(cl.Name)
	v := clusterView{BackupEnabled: true, ClusterType: string(cl.Type), CreateDate: formatTime(cl.CreatedAt),
		GroupID: cl.ProjectID, ID: cl.ID, Labels: labels,
		Links: []link{
			{Href: self, Rel: "self"},
			{Href: self + "/backup/snapshots", Rel: "https://cloud.mongodb.com/snapshots"},
		},
		MongoDBMajorVersion: snapexport.MongoDBMajorVersion(cl.MongoDBVersion), MongoDBVersion: cl.MongoDBVersion,
		Name: cl.Name, StateName: "IDLE", Tags: labels}
	if c.version == v20230201.Date || c.version == v20230101Clusters.Date {
		v.ReplicationSpecs = []replicationSpecView{{ID: cl.Shards[0].ID, NumShards: len(cl.Shards), RegionConfigs: []any{}, ZoneName: zoneName}}
	} else {
		for _, s := range cl.Shards {
			v.ReplicationSpecs = append(v.ReplicationSpecs, replicationSpecView{ID: s.ID, RegionConfigs: []any{}, ZoneName: zoneName})
		}
	}
	return v
}

// clusterName is the path's cluster name, or INVALID_PATH_PARAMETER.
func (c *call) clusterName() (string, error) {
	return c.pathParameter("clusterName", snapexport.ValidClusterName)
}

// cluster loads the cluster of the path.
func (c *call) cluster() (*snapexport.Cluster, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	return c.srv.Service.Cluster(c.r.Context(), c.project.ID, name)
}

func listClusters(c *call) (*response, error) {
	return listPage(c, c.clusterView, func(page snapexport.Page) ([]*snapexport.Cluster, int, error) {
		return c.srv.Service.Clusters(c.r.Context(), c.project.ID, page)
	})
}

func getCluster(c *call) (*response, error) {
	cl, err := c.cluster()
	if err != nil {
		return nil, err
	}
	return ok(c.clusterView(cl))
}
