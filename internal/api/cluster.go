package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"

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

// hardwareSpecView is the hardware of one kind of node in a region, in
// Atlas's field order, which puts instanceSize first. diskSizeGB is in it
// from 2024-08-05 on; diskIOPS and ebsVolumeType are AWS's.
type hardwareSpecView struct {
	InstanceSize  string      `json:"instanceSize"`
	DiskIOPS      int         `json:"diskIOPS,omitempty"`
	DiskSizeGB    *diskSizeGB `json:"diskSizeGB,omitempty"`
	EBSVolumeType string      `json:"ebsVolumeType,omitempty"`
	NodeCount     int         `json:"nodeCount"`
}

// diskSizeGB is printed as Atlas prints it, with one decimal (10.0).
type diskSizeGB float64

func (d diskSizeGB) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(d), 'f', 1, 64)), nil
}

type computeAutoScalingView struct {
	Enabled          bool `json:"enabled"`
	ScaleDownEnabled bool `json:"scaleDownEnabled"`
}

type enabledView struct {
	Enabled bool `json:"enabled"`
}

type autoScalingView struct {
	Compute computeAutoScalingView `json:"compute"`
	DiskGB  enabledView            `json:"diskGB"`
}

// regionConfigView is the one region a cluster runs in: three electable
// nodes of its instance size, no read-only or analytics nodes, no auto
// scaling, as Atlas creates a cluster by default. The effective specs are
// only in replicationSpecs of 2024-08-05.
type regionConfigView struct {
	AnalyticsSpecs          hardwareSpecView  `json:"analyticsSpecs"`
	AutoScaling             autoScalingView   `json:"autoScaling"`
	EffectiveAnalyticsSpecs *hardwareSpecView `json:"effectiveAnalyticsSpecs,omitempty"`
	EffectiveElectableSpecs *hardwareSpecView `json:"effectiveElectableSpecs,omitempty"`
	EffectiveReadOnlySpecs  *hardwareSpecView `json:"effectiveReadOnlySpecs,omitempty"`
	ElectableSpecs          hardwareSpecView  `json:"electableSpecs"`
	Priority                int               `json:"priority"`
	ProviderName            string            `json:"providerName"`
	ReadOnlySpecs           hardwareSpecView  `json:"readOnlySpecs"`
	RegionName              string            `json:"regionName"`
}

// replicationSpecView is a replication spec: numShards only in 2023-02-01.
type replicationSpecView struct {
	ID            string             `json:"id"`
	NumShards     int                `json:"numShards,omitempty"`
	RegionConfigs []regionConfigView `json:"regionConfigs"`
	ZoneID        string             `json:"zoneId"`
	ZoneName      string             `json:"zoneName"`
}

type advancedConfigurationView struct {
	CustomOpensslCipherConfigTLS12 []string `json:"customOpensslCipherConfigTls12"`
	CustomOpensslCipherConfigTLS13 []string `json:"customOpensslCipherConfigTls13"`
	MinimumEnabledTLSProtocol      string   `json:"minimumEnabledTlsProtocol"`
	TLSCipherConfigMode            string   `json:"tlsCipherConfigMode"`
}

type biConnectorView struct {
	Enabled        bool   `json:"enabled"`
	ReadPreference string `json:"readPreference"`
}

// clusterView is Atlas's cluster description with what the service knows
// (names, version, shards, where the operator says the cluster runs) and
// Atlas's defaults for a new dedicated cluster for the rest. The fields
// marked omitempty belong to one version only.
type clusterView struct {
	AdaptiveCapacity                              any                       `json:"adaptiveCapacity,omitempty"`
	AdvancedConfiguration                         advancedConfigurationView `json:"advancedConfiguration"`
	BackupEnabled                                 bool                      `json:"backupEnabled"`
	BiConnector                                   biConnectorView           `json:"biConnector"`
	ClusterType                                   string                    `json:"clusterType"`
	ConnectionStrings                             struct{}                  `json:"connectionStrings"`
	CreateDate                                    string                    `json:"createDate"`
	DiskSizeGB                                    *diskSizeGB               `json:"diskSizeGB,omitempty"`
	DiskWarmingMode                               string                    `json:"diskWarmingMode"`
	EffectiveDatabaseEdition                      string                    `json:"effectiveDatabaseEdition,omitempty"`
	EffectiveReplicationSpecs                     []replicationSpecView     `json:"effectiveReplicationSpecs,omitempty"`
	EncryptionAtRestProvider                      string                    `json:"encryptionAtRestProvider"`
	FeatureCompatibilityVersion                   string                    `json:"featureCompatibilityVersion,omitempty"`
	GlobalClusterSelfManagedSharding              bool                      `json:"globalClusterSelfManagedSharding"`
	GroupID                                       string                    `json:"groupId"`
	ID                                            string                    `json:"id"`
	InternalClusterRole                           string                    `json:"internalClusterRole,omitempty"`
	Labels                                        []labelView               `json:"labels"`
	Links                                         []link                    `json:"links"`
	MongoDBMajorVersion                           string                    `json:"mongoDBMajorVersion"`
	MongoDBVersion                                string                    `json:"mongoDBVersion"`
	Name                                          string                    `json:"name"`
	Paused                                        bool                      `json:"paused"`
	PitEnabled                                    bool                      `json:"pitEnabled"`
	RedactClientLogData                           *bool                     `json:"redactClientLogData,omitempty"`
	ReplicationSpecs                              []replicationSpecView     `json:"replicationSpecs"`
	RetainBackups                                 *bool                     `json:"retainBackups,omitempty"`
	RootCertType                                  string                    `json:"rootCertType"`
	StateName                                     string                    `json:"stateName"`
	Tags                                          []labelView               `json:"tags"`
	TerminationProtectionEnabled                  bool                      `json:"terminationProtectionEnabled"`
	UseAwsTimeBasedSnapshotCopyForFastInitialSync *bool                     `json:"useAwsTimeBasedSnapshotCopyForFastInitialSync,omitempty"`
	VersionReleaseSystem                          string                    `json:"versionReleaseSystem"`
}

const zoneName = "Zone 1"

// defaultDiskSizeGB is the storage Atlas gives a new cluster of each tier
// (its cluster tier table); a tier not listed has no diskSizeGB here.
var defaultDiskSizeGB = map[string]diskSizeGB{
	"M10": 10, "M20": 20, "M30": 40, "M40": 80, "M50": 160, "M60": 320, "M80": 760,
	"R40": 80, "R50": 160, "R60": 320, "R80": 750,
}

// diskSize is the default storage of cl's tier, nil for a tier not listed.
func diskSize(cl *snapexport.Cluster) *diskSizeGB {
	if size, known := defaultDiskSizeGB[strings.TrimSuffix(cl.InstanceSize, "_LOW_CPU")]; known {
		return &size
	}
	return nil
}

// hardwareSpec is the hardware of nodes nodes of cl's instance size, with
// the disk size when withDisk.
func hardwareSpec(cl *snapexport.Cluster, nodes int, withDisk bool) hardwareSpecView {
	h := hardwareSpecView{InstanceSize: cl.InstanceSize, NodeCount: nodes}
	if cl.Provider == snapexport.AWS {
		h.DiskIOPS, h.EBSVolumeType = 3000, "STANDARD"
	}
	if withDisk {
		h.DiskSizeGB = diskSize(cl)
	}
	return h
}

// regionConfig is cl's region; effective adds the effective specs.
func regionConfig(cl *snapexport.Cluster, withDisk, effective bool) regionConfigView {
	analytics, electable, readOnly := hardwareSpec(cl, 0, withDisk), hardwareSpec(cl, 3, withDisk), hardwareSpec(cl, 0, withDisk)
	rc := regionConfigView{AnalyticsSpecs: analytics, ElectableSpecs: electable, ReadOnlySpecs: readOnly,
		Priority: 7, ProviderName: string(cl.Provider), RegionName: cl.Region}
	if effective {
		rc.EffectiveAnalyticsSpecs, rc.EffectiveElectableSpecs, rc.EffectiveReadOnlySpecs = &analytics, &electable, &readOnly
	}
	return rc
}

// zoneID is the id of a cluster's one zone: not stored, derived from the
// cluster's id so that it stays the same from call to call.
func zoneID(cl *snapexport.Cluster) string {
	sum := sha256.Sum256([]byte("zone\x00" + cl.ID))
	return hex.EncodeToString(sum[:12])
}

func (c *call) clusterView(cl *snapexport.Cluster) clusterView {
	labels := labelViews(cl.Labels)
	self := c.baseURL() + "/api/atlas/v2/groups/" + cl.ProjectID + "/clusters/" + url.PathEscape(cl.Name)
	v := clusterView{
		AdvancedConfiguration: advancedConfigurationView{CustomOpensslCipherConfigTLS12: []string{}, CustomOpensslCipherConfigTLS13: []string{},
			MinimumEnabledTLSProtocol: "TLS1_2", TLSCipherConfigMode: "DEFAULT"},
		BackupEnabled: true, BiConnector: biConnectorView{ReadPreference: "secondary"},
		ClusterType: string(cl.Type), CreateDate: formatTime(cl.CreatedAt), DiskWarmingMode: "FULLY_WARMED",
		EncryptionAtRestProvider: "NONE", GroupID: cl.ProjectID, ID: cl.ID, Labels: labels,
		Links: []link{
			{Href: self, Rel: "self"},
			{Href: self + "/backup/restoreJobs", Rel: "https://cloud.mongodb.com/restoreJobs"},
			{Href: self + "/backup/snapshots", Rel: "https://cloud.mongodb.com/snapshots"},
		},
		MongoDBMajorVersion: snapexport.MongoDBMajorVersion(cl.MongoDBVersion), MongoDBVersion: cl.MongoDBVersion,
		Name: cl.Name, RootCertType: "ISRGROOTX1", StateName: "IDLE", Tags: labels, VersionReleaseSystem: "LTS"}
	zone := zoneID(cl)
	if c.version == v20230201.Date || c.version == v20230101Clusters.Date {
		v.DiskSizeGB = diskSize(cl)
		v.ReplicationSpecs = []replicationSpecView{{ID: cl.Shards[0].ID, NumShards: len(cl.Shards),
			RegionConfigs: []regionConfigView{regionConfig(cl, false, false)}, ZoneID: zone, ZoneName: zoneName}}
		return v
	}
	no := false
	v.AdaptiveCapacity, v.EffectiveDatabaseEdition, v.FeatureCompatibilityVersion, v.InternalClusterRole = jsonNull, "CORE", v.MongoDBMajorVersion, "NONE"
	v.RedactClientLogData, v.RetainBackups, v.UseAwsTimeBasedSnapshotCopyForFastInitialSync = &no, &no, &no
	for _, s := range cl.Shards {
		v.ReplicationSpecs = append(v.ReplicationSpecs, replicationSpecView{ID: s.ID,
			RegionConfigs: []regionConfigView{regionConfig(cl, true, true)}, ZoneID: zone, ZoneName: zoneName})
		v.EffectiveReplicationSpecs = append(v.EffectiveReplicationSpecs, replicationSpecView{ID: s.ID,
			RegionConfigs: []regionConfigView{regionConfig(cl, true, false)}, ZoneID: zone, ZoneName: zoneName})
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
