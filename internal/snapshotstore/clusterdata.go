package snapshotstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/dump"
)

// sharedPrefix is where a project's shared parts live: those of its
// clusters' data, which the snapshots taken of that data reference.
func sharedPrefix(projectID string) string { return projectID + "/.parts/" }

// DataLocation names the current data of one replica set of a cluster:
// the cluster's own for a replica-set cluster, one shard's for a sharded
// one.
type DataLocation struct {
	ProjectID      string
	ClusterID      string
	ReplicaSetName string
}

func (d DataLocation) String() string {
	return d.ProjectID + "/" + d.ClusterID + "/" + d.ReplicaSetName
}

func (d DataLocation) prefix() string {
	return d.ProjectID + "/.clusters/" + d.ClusterID + "/" + escapeName(d.ReplicaSetName) + "/"
}

// ManifestKey is the key of the manifest of the current data.
func (d DataLocation) ManifestKey() string { return d.prefix() + "manifest.json" }

// supersededKey keeps the manifest a load replaced, for as long as a
// snapshot that read it may still be writing its own (see SweepShared).
func (d DataLocation) supersededKey(loadID string) string {
	return d.prefix() + "superseded/" + loadID + ".json"
}

func (d DataLocation) validate() error {
	if !safeID(d.ProjectID) || !safeID(d.ClusterID) || d.ReplicaSetName == "" {
		return fmt.Errorf("%w: cluster data %q (ids are 1 to 128 characters of [A-Za-z0-9._-], not starting with a dot, and the replica set is named)", ErrInvalidLocation, d.String())
	}
	return nil
}

// checkData checks the manifest of the current data at d.
func (m *Manifest) checkData(d DataLocation) error {
	if err := m.checkVersion(); err != nil {
		return err
	}
	if m.ProjectID != d.ProjectID {
		return fmt.Errorf("manifest of project %s", m.ProjectID)
	}
	shared := sharedPrefix(d.ProjectID)
	return m.checkCollections(func(c *Collection) error {
		if err := c.checkShape(); err != nil {
			return err
		}
		return c.checkParts(c.DB+"."+c.Name, shared)
	})
}

// lockData serialises the loads of one data location within this process.
func (s *Store) lockData(d DataLocation) func() {
	mu, _ := s.dataLocks.LoadOrStore(d, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

func newLoadID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return strconv.FormatInt(time.Now().UTC().Unix(), 10) + "-" + hex.EncodeToString(b)
}

// Load reads src to its end and makes it the current data at d, replacing
// the data there in one step (the write of its manifest): a snapshot taken
// meanwhile copies the old data or the new, and a failed load leaves the
// old one. Parts go to the project's shared folder; a part whose bytes
// (SHA-256 and size) equal a part of the data replaced is dropped for that
// one, so reloading an unchanged collection stores nothing new. Errors and
// progress are Import's. Loads of one location run one at a time in a
// process; replicas must not load the same location at once.
func (s *Store) Load(ctx context.Context, d DataLocation, src dump.Source, progress func(Progress)) (*Manifest, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	defer s.lockData(d)()
	loadID := newLoadID()
	dataPrefix := sharedPrefix(d.ProjectID) + loadID + "/"
	m, err := s.importWith(ctx, dataPrefix, "the data of "+d.String(), d.ReplicaSetName, src, progress,
		func(ctx context.Context) error { return s.deleteUnder(ctx, dataPrefix) },
		func(m *Manifest) error { return s.replaceData(ctx, d, loadID, m) })
	if err != nil {
		return nil, err
	}
	s.removeEmptyDirs(dataPrefix)
	return m, nil
}

// replaceData makes m the current data at d: parts equal to the current
// data's are shared, the current manifest is kept as replaced by loadID,
// then m is written over it.
func (s *Store) replaceData(ctx context.Context, d DataLocation, loadID string, m *Manifest) error {
	m.ProjectID = d.ProjectID
	old, err := s.readManifest(ctx, d.ManifestKey())
	switch {
	case errors.Is(err, ErrNotFound):
		old = nil
	case err != nil:
		return err
	}
	if old != nil {
		if err := s.shareParts(ctx, m, old); err != nil {
			return err
		}
		if err := s.writeManifest(ctx, d.supersededKey(loadID), old); err != nil {
			return err
		}
	}
	return s.writeManifest(ctx, d.ManifestKey(), m)
}

// shareParts points each part of m whose bytes equal a part of old at
// that part instead, and deletes its own copy.
func (s *Store) shareParts(ctx context.Context, m, old *Manifest) error {
	type content struct {
		sum  string
		size int64
	}
	// Each old part is taken once: a manifest lists a key once.
	stored := map[content][]string{}
	for _, c := range old.Namespaces {
		for _, p := range c.Parts {
			k := content{p.SHA256, p.Size}
			stored[k] = append(stored[k], p.Key)
		}
	}
	for i := range m.Namespaces {
		for j := range m.Namespaces[i].Parts {
			p := &m.Namespaces[i].Parts[j]
			k := content{p.SHA256, p.Size}
			keys := stored[k]
			if len(keys) == 0 {
				continue
			}
			if err := s.deleteKey(ctx, p.Key); err != nil {
				return err
			}
			p.Key, stored[k] = keys[0], keys[1:]
		}
	}
	return nil
}

// DropData removes the current data at d, as when its cluster is
// deleted: its manifest is kept as replaced, like a load's, so that a
// snapshot that read it just before still finds its parts, and SweepShared
// removes the parts once neither that manifest nor a snapshot lists them.
// Dropping a location without data does nothing.
func (s *Store) DropData(ctx context.Context, d DataLocation) error {
	if err := d.validate(); err != nil {
		return err
	}
	defer s.lockData(d)()
	old, err := s.readManifest(ctx, d.ManifestKey())
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	if err := s.writeManifest(ctx, d.supersededKey(newLoadID()), old); err != nil {
		return err
	}
	return s.deleteKey(ctx, d.ManifestKey())
}

// ClusterData reads and checks the current data's manifest at d;
// ErrNotFound when nothing was ever loaded there.
func (s *Store) ClusterData(ctx context.Context, d DataLocation) (*Manifest, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	m, err := s.readManifest(ctx, d.ManifestKey())
	if err != nil {
		return nil, err
	}
	if err := m.checkData(d); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, d.ManifestKey(), err)
	}
	return m, nil
}

// Capture makes the current data at d (none when nothing was loaded
// there) the data of the snapshot at loc, sharing its parts, and returns
// the snapshot's manifest. A snapshot that already has a manifest (a
// capture that was interrupted after writing it) keeps it. Capture fails
// when reading the data and writing the manifest took longer than within,
// which must be less than the grace of SweepShared: past it, the sweep may
// have removed parts of data that a load replaced meanwhile. Past within
// before its write, it writes nothing (another capture of the snapshot may
// have completed meanwhile); past it after, it removes the manifest it
// wrote. Every part is checked to exist.
func (s *Store) Capture(ctx context.Context, d DataLocation, loc Location, within time.Duration) (*Manifest, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if err := loc.validate(); err != nil {
		return nil, err
	}
	m, err := s.Manifest(ctx, loc)
	if errors.Is(err, ErrNotFound) {
		m, err = s.capture(ctx, d, loc, within)
	}
	if err != nil {
		return nil, err
	}
	for _, c := range m.Namespaces {
		for _, p := range c.Parts {
			ok, err := s.bucket.Exists(ctx, p.Key)
			if err != nil {
				return nil, fmt.Errorf("snapshotstore: checking %s: %w", p.Key, err)
			}
			if !ok {
				return nil, fmt.Errorf("%w: %s, a part of %s, is missing", ErrCorrupt, p.Key, loc)
			}
		}
	}
	return m, nil
}

// afterCaptureRead, when set by a test, runs between Capture's read of
// the data and its write of the snapshot's manifest.
var afterCaptureRead func()

func (s *Store) capture(ctx context.Context, d DataLocation, loc Location, within time.Duration) (*Manifest, error) {
	start := time.Now()
	m, err := s.ClusterData(ctx, d)
	if errors.Is(err, ErrNotFound) {
		m, err = &Manifest{FormatVersion: FormatVersion, ReplicaSetName: d.ReplicaSetName, Namespaces: []Collection{}}, nil
	}
	if err != nil {
		return nil, err
	}
	if afterCaptureRead != nil {
		afterCaptureRead()
	}
	tooLong := func(took time.Duration) error {
		return fmt.Errorf("snapshotstore: copying the data of %s to %s took %s, longer than the %s the sweep of shared parts allows", d, loc, took, within)
	}
	// A capture that stood still past within writes nothing: the location
	// may be another capture's by now, its manifest complete.
	if took := time.Since(start); took > within {
		return nil, tooLong(took)
	}
	m.ProjectID, m.SnapshotID, m.ImportedAt = loc.ProjectID, loc.SnapshotID, s.opts.Now().UTC()
	if err := s.writeManifest(ctx, loc.ManifestKey(), m); err != nil {
		return nil, err
	}
	if took := time.Since(start); took > within {
		if err := s.Delete(context.WithoutCancel(ctx), loc); err != nil {
			return nil, err
		}
		return nil, tooLong(took)
	}
	return m, nil
}

// deleteUnder deletes every object under prefix.
func (s *Store) deleteUnder(ctx context.Context, prefix string) error {
	keys, err := s.list(ctx, prefix)
	if err != nil {
		return err
	}
	if err := s.deleteKeys(ctx, keys); err != nil {
		return err
	}
	s.removeEmptyDirs(prefix)
	return nil
}

// SweepShared removes the shared parts no manifest references and that
// nothing has written to for grace, and the manifests loads replaced once
// they are older than grace, and reports how many parts it removed.
//
// A part is safe while a manifest lists it: the current data's, a
// snapshot's, or a replaced one younger than grace. A snapshot being
// taken read the current data before its replacement and writes its own
// manifest within grace of that read (Capture's within), so before the
// replaced manifest expires; the sweep decides which replaced manifests
// expired before it lists the snapshots' manifests, so it sees that one.
// Parts a load is writing are younger than grace.
func (s *Store) SweepShared(ctx context.Context, grace time.Duration) (int, error) {
	projects, err := s.children(ctx, "")
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, p := range projects {
		if !safeID(p) {
			continue
		}
		n, err := s.sweepProject(ctx, p, grace)
		removed += n
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

func (s *Store) sweepProject(ctx context.Context, projectID string, grace time.Duration) (int, error) {
	referenced := map[string]bool{}
	refer := func(m *Manifest) {
		for _, c := range m.Namespaces {
			for _, p := range c.Parts {
				referenced[p.Key] = true
			}
		}
	}
	// The clusters' manifests first: see SweepShared.
	clusters, err := s.objects(ctx, projectID+"/.clusters/")
	if err != nil {
		return 0, err
	}
	for _, obj := range clusters {
		if strings.Contains(obj.Key, "/superseded/") && s.opts.Now().Sub(obj.ModTime) >= grace {
			if err := s.deleteKey(ctx, obj.Key); err != nil {
				return 0, err
			}
			continue
		}
		if !strings.HasSuffix(obj.Key, ".json") {
			continue
		}
		m, err := s.readManifest(ctx, obj.Key)
		if errors.Is(err, ErrNotFound) {
			continue // replaced or expired since the listing
		}
		if err != nil {
			return 0, err
		}
		refer(m)
	}
	ids, err := s.children(ctx, projectID+"/")
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		loc := Location{ProjectID: projectID, SnapshotID: id}
		if loc.validate() != nil {
			continue
		}
		m, err := s.Manifest(ctx, loc)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		refer(m)
	}
	parts, err := s.objects(ctx, sharedPrefix(projectID))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, obj := range parts {
		if referenced[obj.Key] || s.opts.Now().Sub(obj.ModTime) < grace {
			continue
		}
		if err := s.deleteKey(ctx, obj.Key); err != nil {
			return removed, err
		}
		removed++
	}
	if removed > 0 {
		s.removeEmptyDirs(sharedPrefix(projectID))
	}
	return removed, nil
}

// objects lists the objects under prefix.
func (s *Store) objects(ctx context.Context, prefix string) ([]*blob.ListObject, error) {
	var out []*blob.ListObject
	objects, listErr := s.bucket.List(&blob.ListOptions{Prefix: prefix}).All(ctx)
	for obj := range objects {
		if !obj.IsDir {
			out = append(out, obj)
		}
	}
	if err := listErr(); err != nil {
		return nil, fmt.Errorf("snapshotstore: listing %s: %w", prefix, err)
	}
	return out, nil
}
