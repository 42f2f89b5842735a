package api

import (
	"encoding/json"
	"net/url"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
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

type exportPolicyView struct {
	ExportBucketID string `json:"exportBucketId"`
	FrequencyType  string `json:"frequencyType"`
}

// scheduleView is the export part of a cluster's backup schedule; the
// snapshot policies are not served.
type scheduleView struct {
	AutoExportEnabled                 bool              `json:"autoExportEnabled"`
	ClusterID                         string            `json:"clusterId"`
	ClusterName                       string            `json:"clusterName"`
	Export                            *exportPolicyView `json:"export,omitempty"`
	UseOrgAndGroupNamesInExportPrefix bool              `json:"useOrgAndGroupNamesInExportPrefix"`
}

func newScheduleView(cl *snapexport.Cluster) scheduleView {
	s := cl.Schedule
	v := scheduleView{AutoExportEnabled: s.AutoExportEnabled, ClusterID: cl.ID, ClusterName: cl.Name,
		UseOrgAndGroupNamesInExportPrefix: s.UseOrgAndGroupNamesInExportPrefix}
	if s.ExportBucketID != "" {
		v.Export = &exportPolicyView{ExportBucketID: s.ExportBucketID, FrequencyType: s.ExportFrequencyType}
	}
	return v
}

func getSchedule(c *call) (*response, error) {
	cl, err := c.cluster()
	if err != nil {
		return nil, err
	}
	return ok(newScheduleView(cl))
}

// scheduleReadOnly are the schedule's read-only attributes; the other
// attributes of Atlas's schedule (policies, copy settings, …) are not
// supported and rejected as invalid, except a null policies, which the
// SDK sends in every PATCH (readObject drops null attributes).
var scheduleReadOnly = []string{"clusterId", "clusterName", "links", "nextSnapshot"}

func updateSchedule(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, []string{"autoExportEnabled", "export", "useOrgAndGroupNamesInExportPrefix"}, scheduleReadOnly)
	if err != nil {
		return nil, err
	}
	var in service.ScheduleInput
	if v, present, err := o.boolean("autoExportEnabled", false); err != nil {
		return nil, err
	} else if present {
		in.AutoExportEnabled = &v
	}
	if v, present, err := o.boolean("useOrgAndGroupNamesInExportPrefix", false); err != nil {
		return nil, err
	} else if present {
		in.UseOrgAndGroupNamesInExportPrefix = &v
	}
	if raw, present := o["export"]; present {
		var e object
		if err := json.Unmarshal(raw, &e); err != nil || e == nil {
			return nil, wrongType("export")
		}
		if err := e.only([]string{"exportBucketId", "frequencyType"}, nil); err != nil {
			return nil, err
		}
		var policy service.ExportPolicyInput
		if policy.BucketID, err = e.objectID("exportBucketId", true); err != nil {
			return nil, err
		}
		if policy.FrequencyType, err = e.string("frequencyType", false); err != nil {
			return nil, err
		}
		in.Export = &policy
	}
	cl, err := c.srv.Service.UpdateBackupSchedule(c.r.Context(), c.project.ID, name, in)
	if err != nil {
		return nil, err
	}
	return ok(newScheduleView(cl))
}
