package api

import (
	"cmp"
	"net/url"
	"strconv"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// snapshotMemberView is one shard's snapshot inside a sharded-cluster
// snapshot.
type snapshotMemberView struct {
	CloudProvider  string `json:"cloudProvider"`
	ID             string `json:"id"`
	ReplicaSetName string `json:"replicaSetName"`
}

// replicaSetSnapshotView is Atlas's DiskBackupReplicaSet. Optional fields
// a snapshot may lack are omitted, as Atlas omits them while a snapshot is
// being taken (see snapshotView); copyRegions is always an empty list here
// (no copies to other regions), and policyItems lists the backup policy's
// items a scheduled snapshot was taken for (an empty list otherwise, as
// recorded).
type replicaSetSnapshotView struct {
	CloudProvider    string   `json:"cloudProvider,omitempty"`
	CopyRegions      []string `json:"copyRegions"`
	CreatedAt        string   `json:"createdAt,omitempty"`
	Description      string   `json:"description,omitempty"`
	ExpiresAt        string   `json:"expiresAt,omitempty"`
	FrequencyType    string   `json:"frequencyType"`
	ID               string   `json:"id"`
	Links            []link   `json:"links"`
	MongodVersion    string   `json:"mongodVersion,omitempty"`
	PolicyItems      []string `json:"policyItems"`
	ReplicaSetName   string   `json:"replicaSetName"`
	SnapshotType     string   `json:"snapshotType"`
	Status           string   `json:"status"`
	StorageSizeBytes int64    `json:"storageSizeBytes"`
	Type             string   `json:"type"`
}

// shardedSnapshotView is Atlas's DiskBackupShardedClusterSnapshot. The
// config server's data is not kept apart from the shards', so the config
// server is reported as embedded.
type shardedSnapshotView struct {
	ConfigServerType string               `json:"configServerType"`
	CreatedAt        string               `json:"createdAt,omitempty"`
	Description      string               `json:"description,omitempty"`
	ExpiresAt        string               `json:"expiresAt,omitempty"`
	FrequencyType    string               `json:"frequencyType"`
	ID               string               `json:"id"`
	Links            []link               `json:"links"`
	Members          []snapshotMemberView `json:"members"`
	MongodVersion    string               `json:"mongodVersion,omitempty"`
	PolicyItems      []string             `json:"policyItems"`
	SnapshotIDs      []string             `json:"snapshotIds"`
	SnapshotType     string               `json:"snapshotType"`
	Status           string               `json:"status"`
	StorageSizeBytes int64                `json:"storageSizeBytes"`
	Type             string               `json:"type"`
}

// optionalTime leaves a zero time out of the body rather than printing
// year 1.
func optionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// apiPrefix is the root of the API the call came in through, so that
// links lead back to the same API.
func (c *call) apiPrefix() string {
	if c.version == v1 {
		return c.baseURL() + "/api/atlas/v1.0"
	}
	return c.baseURL() + "/api/atlas/v2"
}

// snapshotViews returns the renderer of the snapshots of the path's
// cluster (named name), which the service found.
func (c *call) snapshotViews(name string) (func(*snapexport.Snapshot) any, error) {
	cl, err := c.srv.Service.SnapshotsCluster(c.r.Context(), c.project.ID, name)
	if err != nil {
		return nil, err
	}
	return func(s *snapexport.Snapshot) any { return c.snapshotView(cl, s) }, nil
}

// snapshotAnswer answers one snapshot of the path's cluster (named name).
func (c *call) snapshotAnswer(name string, s *snapexport.Snapshot) (*response, error) {
	view, err := c.snapshotViews(name)
	if err != nil {
		return nil, err
	}
	return ok(view(s))
}

// snapshotView renders a snapshot of cluster cl in the shape of its kind:
// either can come back from the replica-set paths, which Atlas's type field
// tells apart. The replicaSetName of a replica-set cluster's snapshot is
// the cluster's name, as Atlas shows it; the stored name, that of the
// replica set the data came from, names the export's data objects.
//
// As Atlas does, a snapshot shows createdAt once it is completed (or
// failed), and its cloudProvider and mongodVersion once it is no longer
// queued.
func (c *call) snapshotView(cl *snapexport.Cluster, s *snapexport.Snapshot) any {
	cluster := c.apiPrefix() + "/groups/" + s.ProjectID + "/clusters/" + url.PathEscape(s.ClusterName)
	createdAt, provider, mongod := optionalTime(s.CreatedAt), string(s.CloudProvider), s.MongodVersion
	if s.Status.Unfinished() {
		createdAt = ""
	}
	if s.Status == snapexport.SnapshotQueued {
		provider, mongod = "", ""
	}
	policyItems := s.PolicyItems
	if policyItems == nil {
		policyItems = []string{}
	}
	if s.Kind == snapexport.SnapshotShardedCluster {
		v := shardedSnapshotView{ConfigServerType: "EMBEDDED", CreatedAt: createdAt, Description: s.Description,
			ExpiresAt: optionalTime(s.ExpiresAt), FrequencyType: s.FrequencyType, ID: s.ID,
			Links: []link{
				{Href: cluster + "/backup/snapshots/shardedCluster/" + s.ID, Rel: "self"},
				{Href: cluster, Rel: "https://cloud.mongodb.com/cluster"},
			},
			Members: []snapshotMemberView{}, MongodVersion: mongod, PolicyItems: policyItems, SnapshotIDs: []string{},
			SnapshotType: s.SnapshotType, Status: string(s.Status), StorageSizeBytes: s.StorageSizeBytes, Type: string(s.Kind)}
		for _, m := range s.Members {
			// Every shard's snapshot is stored where the sharded one is.
			v.Members = append(v.Members, snapshotMemberView{CloudProvider: cmp.Or(provider, string(snapexport.AWS)), ID: m.ID, ReplicaSetName: m.ReplicaSetName})
			v.SnapshotIDs = append(v.SnapshotIDs, m.ID)
		}
		return v
	}
	replicaSetName := s.ReplicaSetName
	if cl.Type == snapexport.ClusterReplicaSet {
		replicaSetName = cl.Name
	}
	return replicaSetSnapshotView{CloudProvider: provider, CopyRegions: []string{}, CreatedAt: createdAt,
		Description: s.Description, ExpiresAt: optionalTime(s.ExpiresAt), FrequencyType: s.FrequencyType, ID: s.ID,
		Links: []link{
			{Href: cluster + "/backup/snapshots/" + s.ID, Rel: "self"},
			{Href: cluster, Rel: "https://cloud.mongodb.com/cluster"},
		},
		MongodVersion: mongod, PolicyItems: policyItems, ReplicaSetName: replicaSetName, SnapshotType: s.SnapshotType,
		Status: string(s.Status), StorageSizeBytes: s.StorageSizeBytes, Type: string(s.Kind)}
}

// DefaultOnDemandRetentionDays is the retention of an on-demand snapshot
// whose request gives none: the Atlas CLI's default.
const DefaultOnDemandRetentionDays = 1

// take takes an on-demand snapshot (DiskBackupOnDemandSnapshotRequest),
// answered queued with 200, as Atlas answers.
func (h snapshotHandlers) take(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, []string{"description", "retentionInDays"}, []string{"links"})
	if err != nil {
		return nil, err
	}
	description, err := o.string("description", false)
	if err != nil {
		return nil, err
	}
	days := DefaultOnDemandRetentionDays
	if _, present := o["retentionInDays"]; present {
		if days, err = o.int32("retentionInDays", false); err != nil {
			return nil, err
		}
		if days < 1 {
			return nil, snapexport.Errorf(snapexport.CodeRetentionValueInvalid, "The retention value %s is invalid: it must be at least 1.", strconv.Itoa(days))
		}
	}
	svc := c.srv.Service
	s, err := svc.TakeSnapshot(c.r.Context(), c.project.ID, name, service.SnapshotRequest{SnapshotType: "onDemand", FrequencyType: "ondemand",
		Description: description, ExpiresAt: svc.Time().AddDate(0, 0, days)})
	if err != nil {
		return nil, err
	}
	return c.snapshotAnswer(name, s)
}

// snapshotHandlers serve the operations of one snapshot path family: the
// replica-set paths (kind replicaSet for the list, any kind for one
// snapshot) or the sharded-cluster paths.
type snapshotHandlers struct {
	// kind is what the list returns.
	kind snapexport.SnapshotKind
	// one is the kind a single snapshot must have; empty for either.
	one snapexport.SnapshotKind
}

var (
	replicaSetSnapshots = snapshotHandlers{kind: snapexport.SnapshotReplicaSet}
	shardedSnapshots    = snapshotHandlers{kind: snapexport.SnapshotShardedCluster, one: snapexport.SnapshotShardedCluster}
)

func (h snapshotHandlers) list(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	p, err := parsePagination(q)
	if err != nil {
		return nil, err
	}
	var at *time.Time
	if h.kind == snapexport.SnapshotReplicaSet {
		if at, err = pointInTime(q); err != nil {
			return nil, err
		}
	}
	if at != nil {
		return h.listAt(c, name, p, *at)
	}
	snaps, total, err := c.srv.Service.Snapshots(c.r.Context(), c.project.ID, name, h.kind, p.page(), c.pass())
	if err != nil {
		return nil, err
	}
	view, err := c.snapshotViews(name)
	if err != nil {
		return nil, err
	}
	return listOf(c, p, snaps, total, view), nil
}

// listAt answers a point-in-time query: the latest snapshot taken at or
// before at, as a list of one (none when every snapshot is later).
func (h snapshotHandlers) listAt(c *call, name string, p pagination, at time.Time) (*response, error) {
	snaps, _, err := c.srv.Service.Snapshots(c.r.Context(), c.project.ID, name, h.kind, snapexport.Page{}, "")
	if err != nil {
		return nil, err
	}
	var best *snapexport.Snapshot
	for _, s := range snaps {
		if s.Status != snapexport.SnapshotCompleted {
			continue
		}
		if !s.CreatedAt.After(at) && (best == nil || !s.CreatedAt.Before(best.CreatedAt)) {
			best = s
		}
	}
	var page []*snapexport.Snapshot
	total := 0
	if best != nil {
		total = 1
		if p.PageNum == 1 {
			page = append(page, best)
		}
	}
	view, err := c.snapshotViews(name)
	if err != nil {
		return nil, err
	}
	return listOf(c, p, page, total, view), nil
}

// pointInTime reads the point-in-time selectors of the replica-set list:
// pointInTimeUtcSeconds, or the pair oplogTs and oplogInc (whose seconds
// part, oplogTs, is the time: snapshot times have no finer resolution).
func pointInTime(q url.Values) (*time.Time, error) {
	read := func(name string) (int64, bool, error) {
		v, ok := q[name]
		if !ok || len(v) == 0 {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 {
			return 0, true, snapexport.Errorf(snapexport.CodeInvalidQueryParameter, "Invalid query parameter %s=%s: expected a non-negative integer.", name, v[0])
		}
		return n, true, nil
	}
	secs, hasSecs, err := read("pointInTimeUtcSeconds")
	if err != nil {
		return nil, err
	}
	ts, hasTs, err := read("oplogTs")
	if err != nil {
		return nil, err
	}
	_, hasInc, err := read("oplogInc")
	if err != nil {
		return nil, err
	}
	switch {
	case hasSecs && (hasTs || hasInc):
		return nil, snapexport.Errorf(snapexport.CodeInvalidQueryParameter, "Invalid query parameters: %s cannot be combined with %s.", "pointInTimeUtcSeconds", "oplogTs and oplogInc")
	case hasTs != hasInc:
		return nil, snapexport.Errorf(snapexport.CodeInvalidQueryParameter, "Invalid query parameters: %s must be given together.", "oplogTs and oplogInc")
	case hasSecs:
		t := time.Unix(secs, 0).UTC()
		return &t, nil
	case hasTs:
		t := time.Unix(ts, 0).UTC()
		return &t, nil
	}
	return nil, nil
}

func (h snapshotHandlers) get(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	s, err := c.srv.Service.Snapshot(c.r.Context(), c.project.ID, name, c.r.PathValue("snapshotId"), h.one)
	if err != nil {
		return nil, err
	}
	return c.snapshotAnswer(name, s)
}

// update changes when a snapshot expires, counting from now
// (BackupSnapshotRetention); the SDK always sends both attributes.
func (h snapshotHandlers) update(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, []string{"retentionUnit", "retentionValue"}, []string{"links"})
	if err != nil {
		return nil, err
	}
	unit, err := o.string("retentionUnit", true)
	if err != nil {
		return nil, err
	}
	value, err := o.int32("retentionValue", true)
	if err != nil {
		return nil, err
	}
	s, err := c.srv.Service.ChangeSnapshotExpiry(c.r.Context(), c.project.ID, name, c.r.PathValue("snapshotId"), unit, value)
	if err != nil {
		return nil, err
	}
	return c.snapshotAnswer(name, s)
}

func (h snapshotHandlers) delete(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	if err := c.srv.Service.DeleteSnapshot(c.r.Context(), c.project.ID, name, c.r.PathValue("snapshotId"), h.one); err != nil {
		return nil, err
	}
	return noContent, nil
}
