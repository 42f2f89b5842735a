package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

func invalidImport(format string, args ...any) error {
	return snapexport.Errorf(snapexport.CodeInvalidSnapshotImport, "%s", fmt.Sprintf(format, args...))
}

// DefaultSnapshotRetention is how long an imported snapshot is kept unless
// the import says otherwise.
const DefaultSnapshotRetention = 30 * 24 * time.Hour

// Snapshot frequencies of Atlas's frequencyType; ondemand marks on-demand
// snapshots, the others scheduled ones.
var SnapshotFrequencies = []string{"ondemand", "hourly", "daily", "weekly", "monthly", "yearly"}

// SnapshotData keeps the data of snapshots (snapshotstore.Store).
type SnapshotData interface {
	Import(ctx context.Context, loc snapshotstore.Location, replicaSetName string, src dump.Source, progress func(snapshotstore.Progress)) (*snapshotstore.Manifest, error)
	Delete(ctx context.Context, loc snapshotstore.Location) error
	// Manifest reads the manifest of a complete snapshot
	// (snapshotstore.ErrNotFound when there is none).
	Manifest(ctx context.Context, loc snapshotstore.Location) (*snapshotstore.Manifest, error)
	// Load makes a dump a cluster's current data; Capture makes that data
	// a snapshot's, sharing its parts; SweepShared removes the shared
	// parts nothing references any more.
	Load(ctx context.Context, d snapshotstore.DataLocation, src dump.Source, progress func(snapshotstore.Progress)) (*snapshotstore.Manifest, error)
	// DropData removes a cluster's current data, its parts left to
	// SweepShared.
	DropData(ctx context.Context, d snapshotstore.DataLocation) error
	Capture(ctx context.Context, d snapshotstore.DataLocation, loc snapshotstore.Location, within time.Duration) (*snapshotstore.Manifest, error)
	SweepShared(ctx context.Context, grace time.Duration) (int, error)
	// Folders lists the snapshots the store holds data of, and LastWrite
	// tells when one of them was last written to.
	Folders(ctx context.Context) ([]snapshotstore.Location, error)
	LastWrite(ctx context.Context, loc snapshotstore.Location) (time.Time, error)
}

func snapshotNotFound(id, clusterName string) error {
	return snapexport.Errorf(snapexport.CodeSnapshotNotFound, "No snapshot with ID %s exists for cluster %s.", id, clusterName)
}

var objectIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

func checkSnapshotID(id string) error {
	if !objectIDPattern.MatchString(id) {
		return snapexport.Errorf(snapexport.CodeInvalidSnapshotID, "An invalid snapshot ID %s was specified.", id)
	}
	return nil
}

// Snapshots lists a cluster's snapshots of one kind: replica-set snapshots
// of a replica-set cluster, sharded-cluster snapshots of a sharded one (the
// shards' own snapshots are reached through their sharded snapshot). A
// list of the other kind is empty. The list is read in a client's pass
// through its pages (see listPage).
func (s *Service) Snapshots(ctx context.Context, projectID, clusterName string, kind snapexport.SnapshotKind, page snapexport.Page, pass string) ([]*snapexport.Snapshot, int, error) {
	return listPage(ctx, s, projectID, pass, page, func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
		c, err := s.snapshotsCluster(ctx, tx, projectID, clusterName)
		if err != nil {
			return nil, 0, err
		}
		return tx.ListSnapshots(ctx, projectID, c.ID, kind, page)
	})
}

// Snapshot returns one of a cluster's snapshots: of the given kind, or of
// either kind when kind is empty. Shards' snapshots are not returned on
// their own.
func (s *Service) Snapshot(ctx context.Context, projectID, clusterName, id string, kind snapexport.SnapshotKind) (*snapexport.Snapshot, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.Snapshot, error) {
		return s.snapshot(ctx, tx, projectID, clusterName, id, kind)
	})
}

func (s *Service) snapshot(ctx context.Context, tx snapexport.Tx, projectID, clusterName, id string, kind snapexport.SnapshotKind) (*snapexport.Snapshot, error) {
	c, err := s.snapshotsCluster(ctx, tx, projectID, clusterName)
	if err != nil {
		return nil, err
	}
	if err := checkSnapshotID(id); err != nil {
		return nil, err
	}
	snap, err := tx.Snapshot(ctx, projectID, c.ID, id)
	if errors.Is(err, snapexport.ErrNotFound) || err == nil && (snap.ParentID != "" || kind != "" && snap.Kind != kind) {
		return nil, snapshotNotFound(id, clusterName)
	}
	return snap, err
}

// Retention units of a snapshot expiry change.
var RetentionUnits = []string{"DAYS", "WEEKS", "MONTHS", "YEARS"}

// ChangeSnapshotExpiry sets a snapshot to expire value units from now.
func (s *Service) ChangeSnapshotExpiry(ctx context.Context, projectID, clusterName, id, unit string, value int) (*snapexport.Snapshot, error) {
	if value < 1 {
		return nil, snapexport.Errorf(snapexport.CodeRetentionValueInvalid, "The retention value %s is invalid: it must be at least 1.", fmt.Sprint(value))
	}
	now := s.now()
	var expires time.Time
	switch unit {
	case "DAYS":
		expires = now.AddDate(0, 0, value)
	case "WEEKS":
		expires = now.AddDate(0, 0, 7*value)
	case "MONTHS":
		expires = now.AddDate(0, value, 0)
	case "YEARS":
		expires = now.AddDate(value, 0, 0)
	default:
		return nil, snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", unit)
	}
	var snap *snapexport.Snapshot
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if snap, err = s.snapshot(ctx, tx, projectID, clusterName, id, ""); err != nil {
			return err
		}
		if snap.Status.Unfinished() {
			return snapexport.Errorf(snapexport.CodeCannotChangeUnfinishedRetention,
				"The retention of snapshot %s cannot be changed while it is being taken.", snap.ID)
		}
		return setExpiry(ctx, tx, snap, expires, now)
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// setExpiry writes, at the given time, when a snapshot expires, and its
// members with it.
func setExpiry(ctx context.Context, tx snapexport.Tx, snap *snapexport.Snapshot, expires, at time.Time) error {
	snap.ExpiresAt = expires
	if err := tx.UpdateSnapshot(ctx, snap, at); err != nil {
		return err
	}
	for _, m := range snap.Members {
		member, err := tx.Snapshot(ctx, snap.ProjectID, snap.ClusterID, m.ID)
		if err != nil {
			return err
		}
		member.ExpiresAt = expires
		if err := tx.UpdateSnapshot(ctx, member, at); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSnapshot removes a snapshot of the given kind (either when empty),
// with its shards' snapshots, and then its data.
func (s *Service) DeleteSnapshot(ctx context.Context, projectID, clusterName, id string, kind snapexport.SnapshotKind) error {
	var gone []*snapexport.Snapshot
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		snap, err := s.snapshot(ctx, tx, projectID, clusterName, id, kind)
		if err != nil {
			return err
		}
		gone, err = removeSnapshot(ctx, tx, snap, s.now())
		return err
	})
	if err != nil {
		return err
	}
	s.deleteSnapshotData(ctx, gone)
	return nil
}

// removeSnapshot deletes a snapshot and its members from the store and
// returns those that held data.
func removeSnapshot(ctx context.Context, tx snapexport.Tx, snap *snapexport.Snapshot, at time.Time) ([]*snapexport.Snapshot, error) {
	if snap.Status.Unfinished() {
		return nil, snapexport.Errorf(snapexport.CodeCannotDeleteUnfinished,
			"Snapshot %s cannot be deleted while it is being taken.", snap.ID)
	}
	active, err := tx.ActiveExportJobs(ctx, snap.ProjectID, snap.ID, "")
	if err != nil {
		return nil, err
	}
	if len(active) > 0 {
		return nil, snapexport.Errorf(snapexport.CodeSnapshotBeingExported,
			"Snapshot %s cannot be deleted while export job %s exports it.", snap.ID, active[0].ID)
	}
	if err := tx.DeleteSnapshot(ctx, snap.ProjectID, snap.ID, at); err != nil {
		return nil, err
	}
	if snap.Kind != snapexport.SnapshotShardedCluster {
		return []*snapexport.Snapshot{snap}, nil
	}
	var gone []*snapexport.Snapshot
	for _, m := range snap.Members {
		member, err := tx.Snapshot(ctx, snap.ProjectID, snap.ClusterID, m.ID)
		if errors.Is(err, snapexport.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteSnapshot(ctx, snap.ProjectID, m.ID, at); err != nil {
			return nil, err
		}
		gone = append(gone, member)
	}
	return gone, nil
}

// deleteSnapshotData removes the data of snapshots already gone from the
// store. A failure leaves unreferenced objects, never a snapshot without
// data, so it is logged rather than returned.
func (s *Service) deleteSnapshotData(ctx context.Context, gone []*snapexport.Snapshot) {
	if s.SnapshotData == nil {
		return
	}
	for _, snap := range gone {
		if err := s.SnapshotData.Delete(ctx, snapshotstore.Location{ProjectID: snap.ProjectID, SnapshotID: snap.ID}); err != nil {
			s.logger().Warn("snapshot data left behind", "group", snap.ProjectID, "snapshot", snap.ID, "error", err)
		}
	}
}

// SweepExpiredSnapshots removes the snapshots that have expired and
// reports how many it removed. Several replicas may sweep at once: a
// snapshot another one removed first is skipped.
func (s *Service) SweepExpiredSnapshots(ctx context.Context) (int, error) {
	removed := 0
	// A snapshot being exported waits for its export to end; a batch that
	// removes nothing ends the sweep, so that such snapshots are not read
	// again and again.
	for {
		expired, err := snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.Snapshot, error) {
			return tx.ExpiredSnapshots(ctx, s.now(), 100)
		})
		if err != nil || len(expired) == 0 {
			return removed, err
		}
		batch := 0
		for _, snap := range expired {
			gone, err := snapexport.WriteValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.Snapshot, error) {
				return removeSnapshot(ctx, tx, snap, s.now())
			})
			if errors.Is(err, snapexport.ErrNotFound) || snapexport.ErrorCode(err) == snapexport.CodeSnapshotBeingExported ||
				snapexport.ErrorCode(err) == snapexport.CodeCannotDeleteUnfinished {
				continue
			}
			if err != nil {
				return removed, err
			}
			s.deleteSnapshotData(ctx, gone)
			removed++
			batch++
		}
		if batch == 0 {
			return removed, nil
		}
	}
}

// ImportInput describes a snapshot to import from a mongodump output.
type ImportInput struct {
	ProjectID   string
	ClusterName string
	// Shard is the replica set the dump comes from: required for a sharded
	// cluster, optional (and then checked) for a replica-set cluster.
	Shard string
	// TakenAt is the snapshot's time, the import's time when zero;
	// required for a sharded cluster, whose shards' snapshots are grouped
	// by it.
	TakenAt time.Time
	// Retention is how long the snapshot is kept after the import
	// (DefaultSnapshotRetention when zero).
	Retention     time.Duration
	Description   string
	FrequencyType string // "ondemand" when empty
}

// ImportResult is a finished import: the shard's or replica set's snapshot
// and, when the import completed a sharded-cluster snapshot, that one.
type ImportResult struct {
	Snapshot *snapexport.Snapshot
	Sharded  *snapexport.Snapshot
	Notes    []string
	// AutoExport is the export job the cluster's backup schedule started
	// for the new snapshot, if any.
	AutoExport *snapexport.ExportJob
}

// ImportSnapshot reads a mongodump output into a new snapshot. The
// snapshot is stored only once its data is complete; on any failure
// nothing of it is left. Bad input is a *snapexport.Error: GROUP_NOT_FOUND,
// CLUSTER_NOT_FOUND, INVALID_SNAPSHOT_IMPORT, or INVALID_DUMP wrapping the
// *dump.FormatError that names the file and offset.
func (s *Service) ImportSnapshot(ctx context.Context, in ImportInput, src dump.Source, progress func(snapshotstore.Progress)) (*ImportResult, error) {
	if s.SnapshotData == nil {
		return nil, errors.New("no snapshot store is configured")
	}
	if in.FrequencyType == "" {
		in.FrequencyType = "ondemand"
	}
	if !slices.Contains(SnapshotFrequencies, in.FrequencyType) {
		return nil, invalidImport("frequency %q is not one of %v", in.FrequencyType, SnapshotFrequencies)
	}
	if in.Retention == 0 {
		in.Retention = DefaultSnapshotRetention
	}
	if in.Retention < 0 {
		return nil, invalidImport("retention %s is negative", in.Retention)
	}
	var c *snapexport.Cluster
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		if c, err = s.projectCluster(ctx, tx, in.ProjectID, in.ClusterName); err != nil {
			return err
		}
		return checkImportTarget(ctx, tx, c, &in)
	})
	if err != nil {
		return nil, err
	}

	now := s.now()
	snap := &snapexport.Snapshot{ID: NewID(), ProjectID: c.ProjectID, ClusterID: c.ID, ClusterName: c.Name,
		Kind: snapexport.SnapshotReplicaSet, ReplicaSetName: in.Shard, Description: in.Description,
		SnapshotType: "scheduled", FrequencyType: in.FrequencyType, Status: snapexport.SnapshotCompleted,
		MongodVersion: c.MongoDBVersion, CloudProvider: snapexport.AWS, CreatedAt: in.TakenAt,
		ExpiresAt: now.Add(in.Retention)}
	if in.FrequencyType == "ondemand" {
		snap.SnapshotType = "onDemand"
	}
	if snap.CreatedAt.IsZero() {
		snap.CreatedAt = now
	}
	if v := src.Info().ServerVersion; snapexport.MongoDBMajorVersion(v) != "" {
		snap.MongodVersion = v
	}
	loc := snapshotstore.Location{ProjectID: c.ProjectID, SnapshotID: snap.ID}
	m, err := s.SnapshotData.Import(ctx, loc, in.Shard, src, s.observeRead("import", progress))
	if err != nil {
		return nil, InvalidDump(err)
	}
	snap.Collections = m.Collections()
	snap.StorageSizeBytes = m.Size()
	snap.ImportedAt = s.now()

	res := &ImportResult{Snapshot: snap, Notes: append(src.Notes(), m.Notes...)}
	var exports []*snapexport.ExportJob
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		res.Sharded, res.AutoExport, exports = nil, nil, nil
		current, err := s.cluster(ctx, tx, c.ProjectID, c.Name)
		if err != nil {
			return err
		}
		if current.ID != c.ID {
			return clusterNotFound(c.Name, c.ProjectID)
		}
		c.Schedule = current.Schedule
		in := in
		if err := checkImportTarget(ctx, tx, c, &in); err != nil {
			return err
		}
		snap.ParentID = ""
		if err := tx.CreateSnapshot(ctx, snap); err != nil {
			return err
		}
		exported := snap
		if c.Type == snapexport.ClusterSharded {
			if res.Sharded, err = groupShards(ctx, tx, c, snap, s.now()); res.Sharded != nil {
				snap.ParentID, snap.ExpiresAt = res.Sharded.ID, res.Sharded.ExpiresAt
			}
			exported = res.Sharded
		}
		if err != nil || exported == nil {
			return err
		}
		res.AutoExport, exports, err = s.recordAutoExport(ctx, tx, exported)
		return err
	})
	if err != nil {
		if derr := s.SnapshotData.Delete(context.WithoutCancel(ctx), loc); derr != nil {
			s.logger().Warn("snapshot data left behind", "group", loc.ProjectID, "snapshot", loc.SnapshotID, "error", derr)
		}
		return nil, err
	}
	s.observer().SnapshotEnded(string(snapexport.SnapshotCompleted), snap.StorageSizeBytes)
	s.enqueueExports(ctx, exports)
	return res, nil
}

// InvalidDump turns an error that wraps a *dump.FormatError (a dump that
// cannot be read) into INVALID_DUMP, which still unwraps to it; it returns
// other errors, and those that already carry an Atlas error, unchanged.
func InvalidDump(err error) error {
	fe := (*dump.FormatError)(nil)
	if !errors.As(err, &fe) || snapexport.ErrorCode(err) != "" {
		return err
	}
	return &dumpError{api: snapexport.Errorf(snapexport.CodeInvalidDump, "%s", fe.Error()), format: fe}
}

// dumpError is INVALID_DUMP, which unwraps to the *dump.FormatError.
type dumpError struct {
	api    *snapexport.Error
	format *dump.FormatError
}

func (e *dumpError) Error() string   { return e.format.Error() }
func (e *dumpError) Unwrap() []error { return []error{e.api, e.format} }

// checkImportTarget checks (and completes) the shard of an import: a
// sharded cluster's import names one of its shards, with a time at which
// that shard has no snapshot yet.
func checkImportTarget(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, in *ImportInput) error {
	shard, err := checkShard(c, in.Shard)
	if err != nil {
		return err
	}
	in.Shard = shard
	if c.Type != snapexport.ClusterSharded {
		return nil
	}
	if in.TakenAt.IsZero() {
		return invalidImport("cluster %s is sharded: give the snapshot time, the same for the dumps of all its shards", c.Name)
	}
	taken, err := tx.SnapshotsTakenAt(ctx, c.ProjectID, c.ID, in.TakenAt)
	if err != nil {
		return err
	}
	for _, t := range taken {
		if t.ReplicaSetName == in.Shard {
			return invalidImport("shard %s of cluster %s already has a snapshot taken at %s (%s)", in.Shard, c.Name, in.TakenAt.UTC().Format(time.RFC3339), t.ID)
		}
	}
	return nil
}

// groupShards makes the sharded-cluster snapshot once every shard has a
// snapshot taken at the same time; nil while shards are missing.
func groupShards(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, latest *snapexport.Snapshot, at time.Time) (*snapexport.Snapshot, error) {
	taken, err := tx.SnapshotsTakenAt(ctx, c.ProjectID, c.ID, latest.CreatedAt)
	if err != nil {
		return nil, err
	}
	byShard := map[string]*snapexport.Snapshot{}
	for _, t := range taken {
		if t.ParentID == "" {
			byShard[t.ReplicaSetName] = t
		}
	}
	sharded := &snapexport.Snapshot{ID: NewID(), ProjectID: c.ProjectID, ClusterID: c.ID, ClusterName: c.Name,
		Kind: snapexport.SnapshotShardedCluster, Description: latest.Description, SnapshotType: latest.SnapshotType,
		FrequencyType: latest.FrequencyType, Status: snapexport.SnapshotCompleted, MongodVersion: latest.MongodVersion,
		CloudProvider: latest.CloudProvider, CreatedAt: latest.CreatedAt, ExpiresAt: latest.ExpiresAt, ImportedAt: latest.ImportedAt}
	var members []*snapexport.Snapshot
	for _, sh := range c.Shards {
		m := byShard[sh.ReplicaSetName]
		if m == nil {
			return nil, nil
		}
		members = append(members, m)
		sharded.Members = append(sharded.Members, snapexport.SnapshotMember{ID: m.ID, ReplicaSetName: m.ReplicaSetName})
		sharded.StorageSizeBytes += m.StorageSizeBytes
		if m.ExpiresAt.After(sharded.ExpiresAt) {
			sharded.ExpiresAt = m.ExpiresAt
		}
	}
	if err := tx.CreateSnapshot(ctx, sharded); err != nil {
		return nil, err
	}
	for _, m := range members {
		m.ParentID = sharded.ID
		m.ExpiresAt = sharded.ExpiresAt
		if err := tx.UpdateSnapshot(ctx, m, at); err != nil {
			return nil, err
		}
	}
	return sharded, nil
}

// OrphanGrace is how long the data of a snapshot the store does not know
// is left alone: an import writes for as long as its dump takes, and its
// snapshot is stored only at the end. (An import that spends longer than
// this on one collection of a store that shows no partial object, such as
// S3, would lose its earlier parts.)
const OrphanGrace = 24 * time.Hour

// SweepOrphanedSnapshotData removes snapshot folders that no snapshot owns
// and that nothing has written to for grace: what an import killed before
// it finished (or before it could clean up) left behind; then the parts
// of clusters' data that neither a cluster's data nor a snapshot lists
// any more (see snapshotstore.Store.SweepShared). It reports how many
// folders it removed.
func (s *Service) SweepOrphanedSnapshotData(ctx context.Context, grace time.Duration) (int, error) {
	store := s.SnapshotData
	if store == nil {
		return 0, nil
	}
	removed, err := s.sweepOrphanedFolders(ctx, grace)
	if err != nil {
		return removed, err
	}
	parts, err := store.SweepShared(ctx, grace)
	if parts > 0 {
		s.logger().Info("unreferenced shared snapshot parts removed", "parts", parts)
	}
	return removed, err
}

func (s *Service) sweepOrphanedFolders(ctx context.Context, grace time.Duration) (int, error) {
	store := s.SnapshotData
	folders, err := store.Folders(ctx)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, f := range folders {
		owned := false
		err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
			_, err := tx.Snapshot(ctx, f.ProjectID, "", f.SnapshotID)
			owned = err == nil
			if errors.Is(err, snapexport.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			return removed, err
		}
		if owned {
			continue
		}
		last, err := store.LastWrite(ctx, f)
		if err != nil {
			return removed, err
		}
		if s.now().Sub(last) < grace {
			continue
		}
		if err := store.Delete(ctx, f); err != nil {
			return removed, err
		}
		s.logger().Info("orphaned snapshot data removed", "group", f.ProjectID, "snapshot", f.SnapshotID, "lastWrite", last)
		removed++
	}
	return removed, nil
}
