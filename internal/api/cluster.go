package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

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

// connectionStringsView is how clients reach a cluster: the connection
// string of the deployment it is bound to, without credentials or secret
// options; empty for a cluster bound to none, or while Atlas would still
// be creating it.
type connectionStringsView struct {
	Standard    string `json:"standard,omitempty"`
	StandardSrv string `json:"standardSrv,omitempty"`
}

// connectionStrings are the connection strings a bound cluster shows once
// IDLE: standard is the public URI, and a mongodb+srv URI is the
// standardSrv too, since its seed list is looked up only on connecting.
func connectionStrings(cl *snapexport.Cluster, state string) connectionStringsView {
	if cl.Deployment == nil || state != snapexport.ClusterIdle {
		return connectionStringsView{}
	}
	v := connectionStringsView{Standard: cl.Deployment.PublicURI}
	if strings.HasPrefix(v.Standard, "mongodb+srv://") {
		v.StandardSrv = v.Standard
	}
	return v
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
	ConnectionStrings                             connectionStringsView     `json:"connectionStrings"`
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
	Tags                                          *[]labelView              `json:"tags,omitempty"`
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
	tags := labelViews(cl.Tags)
	self := c.baseURL() + "/api/atlas/v2/groups/" + cl.ProjectID + "/clusters/" + url.PathEscape(cl.Name)
	state := cl.StateName(c.srv.Service.Time())
	v := clusterView{ConnectionStrings: connectionStrings(cl, state),
		AdvancedConfiguration: advancedConfigurationView{CustomOpensslCipherConfigTLS12: []string{}, CustomOpensslCipherConfigTLS13: []string{},
			MinimumEnabledTLSProtocol: "TLS1_2", TLSCipherConfigMode: "DEFAULT"},
		BackupEnabled: cl.BackupEnabled, BiConnector: biConnectorView{ReadPreference: "secondary"},
		ClusterType: string(cl.Type), CreateDate: formatTime(cl.CreatedAt), DiskWarmingMode: "FULLY_WARMED",
		EncryptionAtRestProvider: "NONE", GroupID: cl.ProjectID, ID: cl.ID, Labels: labels,
		Links: []link{
			{Href: self, Rel: "self"},
			{Href: self + "/backup/restoreJobs", Rel: "https://cloud.mongodb.com/restoreJobs"},
			{Href: self + "/backup/snapshots", Rel: "https://cloud.mongodb.com/snapshots"},
		},
		MongoDBMajorVersion: snapexport.MongoDBMajorVersion(cl.MongoDBVersion), MongoDBVersion: cl.MongoDBVersion,
		Name: cl.Name, RootCertType: "ISRGROOTX1", StateName: state, Tags: &tags,
		TerminationProtectionEnabled: cl.TerminationProtectionEnabled, VersionReleaseSystem: "LTS"}
	zone := zoneID(cl)
	if c.oneOf2023() {
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

// Versions of the operations that change clusters. Creating and changing
// a cluster is also served in 2024-10-23, the version the Atlas Go SDK
// sends, whose body is 2024-08-05's; deleting one is served in 2023-02-01,
// which Atlas answers without Deprecation (its recorded answer), and in
// 2023-01-01; the cluster's status in 2023-01-01 only.
var (
	v20241023         = version{Date: "2024-10-23"}
	v20230201Deletion = version{Date: "2023-02-01"}
)

// clusterWritable are the attributes a cluster POST or PATCH may change.
var clusterWritable = []string{"backupEnabled", "clusterType", "labels", "mongoDBMajorVersion", "name", "replicationSpecs", "tags",
	"terminationProtectionEnabled"}

// clusterReadOnly are the attributes of the description a client cannot
// set: accepted in a PATCH when they are the cluster's own.
var clusterReadOnly = []string{"connectionStrings", "createDate", "effectiveDatabaseEdition", "effectiveReplicationSpecs",
	"featureCompatibilityVersion", "groupId", "id", "internalClusterRole", "links", "mongoDBVersion", "stateName"}

// clusterFixed are the attributes of the description Atlas lets a client
// set and this service cannot change: accepted with the value the
// service renders.
var clusterFixed = []string{"adaptiveCapacity", "advancedConfiguration", "biConnector", "diskSizeGB", "diskWarmingMode",
	"encryptionAtRestProvider", "globalClusterSelfManagedSharding", "paused", "pitEnabled", "redactClientLogData", "retainBackups",
	"rootCertType", "useAwsTimeBasedSnapshotCopyForFastInitialSync", "versionReleaseSystem"}

// regionConfigAttributes are those of a region configuration, the
// effective specs a client sends back included; of the node specs only
// instanceSize and nodeCount are read.
var regionConfigAttributes = []string{"analyticsAutoScaling", "analyticsSpecs", "autoScaling", "effectiveAnalyticsSpecs",
	"effectiveElectableSpecs", "effectiveReadOnlySpecs", "electableSpecs", "priority", "providerName", "readOnlySpecs", "regionName"}

var hardwareSpecAttributes = []string{"diskIOPS", "diskSizeGB", "diskThroughput", "ebsVolumeType", "instanceSize", "nodeCount"}

// clusterSpec is what a request's clusterType and replicationSpecs say.
type clusterSpec struct {
	Type         snapexport.ClusterType
	Provider     snapexport.CloudProvider
	Region       string
	InstanceSize string
	Shards       int
}

// oneOf2023 reports whether the call's version describes shards with
// numShards in one replication spec (2023-01-01 and 2023-02-01).
func (c *call) oneOf2023() bool {
	return c.version == v20230201.Date || c.version == v20230101Clusters.Date
}

// replicationSpecs reads the replication specs: one per shard from
// 2024-08-05 on, one with numShards before. Every shard runs in one
// region, the same for all.
func (c *call) replicationSpecs(o object) (clusterSpec, error) {
	var spec clusterSpec
	var raws []json.RawMessage
	if err := json.Unmarshal(o["replicationSpecs"], &raws); err != nil {
		return spec, wrongType("replicationSpecs")
	}
	if len(raws) == 0 {
		return spec, missing("replicationSpecs")
	}
	if c.oneOf2023() && len(raws) > 1 {
		return spec, service.ClusterInvalid("replicationSpecs has one spec in version %s, with numShards; zones of global clusters are not served.", c.version)
	}
	for i, raw := range raws {
		var rs object
		if err := json.Unmarshal(raw, &rs); err != nil || rs == nil {
			return spec, wrongType("replicationSpecs")
		}
		allowed := []string{"id", "regionConfigs", "zoneId", "zoneName"}
		if c.oneOf2023() {
			allowed = append(allowed, "numShards")
		}
		if err := rs.only(allowed, nil); err != nil {
			return spec, err
		}
		region, err := readRegionConfig(rs)
		if err != nil {
			return spec, err
		}
		if i > 0 && region != (clusterSpec{Provider: spec.Provider, Region: spec.Region, InstanceSize: spec.InstanceSize}) {
			return spec, service.ClusterInvalid("every shard runs in the same region with the same instance size; replicationSpecs[%s] differs from the first.", strconv.Itoa(i))
		}
		spec.Provider, spec.Region, spec.InstanceSize = region.Provider, region.Region, region.InstanceSize
		spec.Shards = len(raws)
		if c.oneOf2023() {
			spec.Shards = 1
			if _, present := rs["numShards"]; present {
				if spec.Shards, err = rs.int32("numShards", false); err != nil {
					return spec, err
				}
			}
		}
	}
	return spec, nil
}

// readRegionConfig reads the one region configuration of a replication spec.
func readRegionConfig(rs object) (clusterSpec, error) {
	var spec clusterSpec
	var raws []json.RawMessage
	if err := json.Unmarshal(rs["regionConfigs"], &raws); err != nil {
		return spec, wrongType("regionConfigs")
	}
	if len(raws) == 0 {
		return spec, missing("regionConfigs")
	}
	if len(raws) > 1 {
		return spec, service.ClusterInvalid("regionConfigs has %s regions; a cluster here runs in one region.", strconv.Itoa(len(raws)))
	}
	var rc object
	if err := json.Unmarshal(raws[0], &rc); err != nil || rc == nil {
		return spec, wrongType("regionConfigs")
	}
	if err := rc.only(regionConfigAttributes, nil); err != nil {
		return spec, err
	}
	provider, err := rc.string("providerName", true)
	if err != nil {
		return spec, err
	}
	if spec.Region, err = rc.string("regionName", true); err != nil {
		return spec, err
	}
	spec.Provider = snapexport.CloudProvider(provider)
	if _, present := rc["priority"]; present {
		if p, err := rc.int32("priority", false); err != nil {
			return spec, err
		} else if p != 7 {
			return spec, service.ClusterInvalid("the priority of a cluster's only region is 7, not %s.", strconv.Itoa(p))
		}
	}
	for _, name := range []string{"electableSpecs", "readOnlySpecs", "analyticsSpecs"} {
		raw, present := rc[name]
		if !present {
			if name == "electableSpecs" {
				return spec, missing(name)
			}
			continue
		}
		var hw object
		if err := json.Unmarshal(raw, &hw); err != nil || hw == nil {
			return spec, wrongType(name)
		}
		if err := hw.only(hardwareSpecAttributes, nil); err != nil {
			return spec, err
		}
		size, err := hw.string("instanceSize", name == "electableSpecs")
		if err != nil {
			return spec, err
		}
		if name == "electableSpecs" {
			spec.InstanceSize = size
		}
		want := 0
		if name == "electableSpecs" {
			want = 3
		}
		if _, present := hw["nodeCount"]; present {
			if n, err := hw.int32("nodeCount", false); err != nil {
				return spec, err
			} else if n != want {
				return spec, service.ClusterInvalid("%s.nodeCount is %s here, not %s.", name, strconv.Itoa(want), strconv.Itoa(n))
			}
		}
	}
	return spec, nil
}

// optionalString reads a string attribute, nil when it is absent.
func (o object) optionalString(name string) (*string, error) {
	if _, present := o[name]; !present {
		return nil, nil
	}
	v, err := o.string(name, false)
	return &v, err
}

// optionalBoolean reads a boolean attribute, nil when it is absent.
func (o object) optionalBoolean(name string) (*bool, error) {
	v, present, err := o.boolean(name, false)
	if !present || err != nil {
		return nil, err
	}
	return &v, nil
}

// labelList reads an array of key/value pairs (labels, tags).
func (o object) labelList(name string) (*[]snapexport.Label, error) {
	raw, present := o[name]
	if !present {
		return nil, nil
	}
	var items []object
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, wrongType(name)
	}
	out := []snapexport.Label{}
	for _, it := range items {
		if err := it.only([]string{"key", "value"}, nil); err != nil {
			return nil, err
		}
		key, err := it.string("key", true)
		if err != nil {
			return nil, err
		}
		value, err := it.string("value", false)
		if err != nil {
			return nil, err
		}
		out = append(out, snapexport.Label{Key: key, Value: value})
	}
	return &out, nil
}

// sameAsRendered refuses, with ATTRIBUTE_READ_ONLY, each attribute of
// names in o whose value differs from the one rendered in view.
func sameAsRendered(o object, view clusterView, names []string) error {
	data, err := json.Marshal(view)
	if err != nil {
		return err
	}
	var rendered map[string]any
	if err := json.Unmarshal(data, &rendered); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(o)) {
		if !slices.Contains(names, name) {
			continue
		}
		var given any
		if err := json.Unmarshal(o[name], &given); err != nil || !reflect.DeepEqual(given, rendered[name]) {
			return snapexport.Errorf(snapexport.CodeAttributeReadOnly, "The attribute %s is read-only and cannot be changed by the user.", name)
		}
	}
	return nil
}

func createCluster(c *call) (*response, error) {
	o, err := readAttributes(c.r, append(slices.Clone(clusterWritable), clusterFixed...), clusterReadOnly)
	if err != nil {
		return nil, err
	}
	name, err := o.string("name", true)
	if err != nil {
		return nil, err
	}
	clusterType, err := o.string("clusterType", true)
	if err != nil {
		return nil, err
	}
	if _, present := o["replicationSpecs"]; !present {
		return nil, missing("replicationSpecs")
	}
	spec, err := c.replicationSpecs(o)
	if err != nil {
		return nil, err
	}
	in := service.ClusterInput{ProjectID: c.project.ID, Name: name, Type: snapexport.ClusterType(clusterType), ShardCount: spec.Shards,
		Provider: spec.Provider, Region: spec.Region, InstanceSize: spec.InstanceSize}
	if in.MongoDBMajorVersion, err = o.string("mongoDBMajorVersion", false); err != nil {
		return nil, err
	}
	if in.BackupEnabled, err = o.optionalBoolean("backupEnabled"); err != nil {
		return nil, err
	}
	if in.TerminationProtectionEnabled, _, err = o.boolean("terminationProtectionEnabled", false); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		name string
		dst  *[]snapexport.Label
	}{{"labels", &in.Labels}, {"tags", &in.Tags}} {
		list, err := o.labelList(l.name)
		if err != nil {
			return nil, err
		}
		if list != nil {
			*l.dst = *list
		}
	}
	// The fixed attributes are compared with what a cluster of this
	// tier renders.
	if err := sameAsRendered(o, c.clusterView(&snapexport.Cluster{InstanceSize: spec.InstanceSize, Provider: spec.Provider,
		Shards: []snapexport.Shard{{}}}), clusterFixed); err != nil {
		return nil, err
	}
	cl, err := c.srv.Service.CreateCluster(c.r.Context(), in)
	if err != nil {
		return nil, err
	}
	v := c.clusterView(cl)
	if len(cl.Tags) == 0 {
		v.Tags = nil // Atlas's answer to a creation without tags has none
	}
	return &response{status: http.StatusCreated, body: v}, nil
}

func updateCluster(c *call) (*response, error) {
	cl, err := c.cluster()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, append(append(slices.Clone(clusterWritable), clusterFixed...), clusterReadOnly...), nil)
	if err != nil {
		return nil, err
	}
	var ch service.ClusterChange
	if name, err := o.string("name", false); err != nil {
		return nil, err
	} else if name != "" && name != cl.Name {
		return nil, snapexport.Errorf(snapexport.CodeAttributeReadOnly, "The attribute %s is read-only and cannot be changed by the user.", "name")
	}
	clusterType, err := o.optionalString("clusterType")
	if err != nil {
		return nil, err
	}
	ch.Type = (*snapexport.ClusterType)(clusterType)
	if _, present := o["replicationSpecs"]; present {
		spec, err := c.replicationSpecs(o)
		if err != nil {
			return nil, err
		}
		ch.Provider, ch.Region, ch.InstanceSize, ch.ShardCount = &spec.Provider, &spec.Region, &spec.InstanceSize, &spec.Shards
	}
	if ch.MongoDBMajorVersion, err = o.optionalString("mongoDBMajorVersion"); err != nil {
		return nil, err
	}
	if ch.BackupEnabled, err = o.optionalBoolean("backupEnabled"); err != nil {
		return nil, err
	}
	if ch.TerminationProtectionEnabled, err = o.optionalBoolean("terminationProtectionEnabled"); err != nil {
		return nil, err
	}
	if ch.Labels, err = o.labelList("labels"); err != nil {
		return nil, err
	}
	if ch.Tags, err = o.labelList("tags"); err != nil {
		return nil, err
	}
	if err := sameAsRendered(o, c.clusterView(cl), append(slices.Clone(clusterFixed), clusterReadOnly...)); err != nil {
		return nil, err
	}
	if cl, err = c.srv.Service.UpdateCluster(c.r.Context(), c.project.ID, cl.Name, ch); err != nil {
		return nil, err
	}
	return ok(c.clusterView(cl))
}

func deleteCluster(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	retain, err := queryBool(c.r.URL.Query(), "retainBackups", false)
	if err != nil {
		return nil, err
	}
	if err := c.srv.Service.DeleteCluster(c.r.Context(), c.project.ID, name, retain); err != nil {
		return nil, err
	}
	return &response{status: http.StatusAccepted, body: struct{}{}}, nil
}

type clusterStatusView struct {
	ChangeStatus string `json:"changeStatus"`
}

func getClusterStatus(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	applied, err := c.srv.Service.ClusterChangesApplied(c.r.Context(), c.project.ID, name)
	if err != nil {
		return nil, err
	}
	status := "PENDING"
	if applied {
		status = "APPLIED"
	}
	return ok(clusterStatusView{ChangeStatus: status})
}

// serveDefaultMongoDBMajorVersion answers the major version new clusters
// get, in plain text and without authentication, as Atlas's private
// endpoint the Atlas CLI asks before creating a cluster.
func serveDefaultMongoDBMajorVersion(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain;charset=iso-8859-1")
	w.Header().Set("Content-Length", strconv.Itoa(len(service.DefaultMongoDBMajorVersion)))
	w.Write([]byte(service.DefaultMongoDBMajorVersion))
}
