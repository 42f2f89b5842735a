package snapshotstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/unescapedjson"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// maxManifestSize bounds what Manifest reads: metadata documents (indexes,
// validators) make manifests large, but not this large.
const maxManifestSize = 256 << 20

// Manifest describes a complete snapshot (manifest.json).
type Manifest struct {
	FormatVersion  int       `json:"formatVersion"`
	SnapshotID     string    `json:"snapshotId"`
	ProjectID      string    `json:"projectId"`
	ReplicaSetName string    `json:"replicaSetName"`
	Source         Source    `json:"source"`
	ImportedAt     time.Time `json:"importedAt"`
	// Namespaces are the snapshot's collections in dump order, views
	// excluded.
	Namespaces []Collection `json:"collections"`
	// Notes are what Import skipped (views, the oplog, unknown files...);
	// they are returned by Import and not stored.
	Notes []string `json:"-"`
}

// Source describes the dump a snapshot was imported from.
type Source struct {
	// Format is "archive", "directory" or "capture" (a deployment read
	// through the MongoDB driver).
	Format        string `json:"format"`
	Gzip          bool   `json:"gzip"`
	ServerVersion string `json:"serverVersion,omitempty"`
	ToolVersion   string `json:"toolVersion,omitempty"`
}

// Collection is one collection of a snapshot.
type Collection struct {
	DB   string `json:"db"`
	Name string `json:"name"`
	// Type is "collection" or "timeseries".
	Type string `json:"type"`
	UUID string `json:"uuid,omitempty"`
	// DataCollection is the collection the documents belong to on the
	// server: system.buckets.<name> for a time-series collection dumped
	// from a server before 8.3, Name otherwise.
	DataCollection string `json:"dataCollection"`
	// Metadata is the collection's metadata document as mongodump writes
	// it in <coll>.metadata.json (canonical extended JSON, readable with
	// dump.ParseMetadata); absent when the dump had none.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Count    int64           `json:"count"`
	Size     int64           `json:"size"`
	// Parts hold the documents, in order; empty for an empty collection.
	Parts []Part `json:"parts"`
}

// Part is one data object of a collection.
type Part struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
	Size  int64  `json:"size"`
	// SHA256 is the hex SHA-256 of the object's bytes.
	SHA256 string `json:"sha256"`
}

// Collections summarises the snapshot's collections for the domain, in
// dump order.
func (m *Manifest) Collections() []snapexport.SnapshotCollection {
	out := make([]snapexport.SnapshotCollection, 0, len(m.Namespaces))
	for _, c := range m.Namespaces {
		out = append(out, snapexport.SnapshotCollection{DB: c.DB, Name: c.Name, Type: c.Type, UUID: c.UUID, Count: c.Count, Size: c.Size})
	}
	return out
}

// Size is the total size of the snapshot's documents.
func (m *Manifest) Size() int64 {
	var n int64
	for _, c := range m.Namespaces {
		n += c.Size
	}
	return n
}

// Documents is the number of the snapshot's documents.
func (m *Manifest) Documents() int64 {
	var n int64
	for _, c := range m.Namespaces {
		n += c.Count
	}
	return n
}

func (m *Manifest) encode() ([]byte, error) {
	// metadata keeps mongodump's text: no \u003c for '<' in a validator
	data, err := unescapedjson.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Manifest reads and checks the manifest of the snapshot at loc;
// ErrNotFound when there is none (the snapshot is missing or incomplete).
func (s *Store) Manifest(ctx context.Context, loc Location) (*Manifest, error) {
	if err := loc.validate(); err != nil {
		return nil, err
	}
	m, err := s.readManifest(ctx, loc.ManifestKey())
	if err != nil {
		return nil, err
	}
	if err := m.check(loc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, loc.ManifestKey(), err)
	}
	return m, nil
}

// readManifest reads and decodes the manifest at key, unchecked;
// ErrNotFound when there is none.
func (s *Store) readManifest(ctx context.Context, key string) (*Manifest, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("%w: there is no %s", ErrNotFound, key)
		}
		return nil, fmt.Errorf("snapshotstore: reading %s: %w", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("snapshotstore: reading %s: %w", key, err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, key, maxManifestSize)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	return &m, nil
}

// check verifies what readers rely on: the manifest is of loc, parts are
// distinct objects of loc's folder, counts and sizes add up.
func (m *Manifest) check(loc Location) error {
	if err := m.checkVersion(); err != nil {
		return err
	}
	if err := m.checkLocation(loc); err != nil {
		return err
	}
	return m.checkCollections(func(c *Collection) error { return c.check(loc) })
}

func (m *Manifest) checkVersion() error {
	if m.FormatVersion != FormatVersion {
		return fmt.Errorf("format version %d, want %d", m.FormatVersion, FormatVersion)
	}
	return nil
}

// checkCollections checks each collection with check, and that no part is
// listed twice.
func (m *Manifest) checkCollections(check func(*Collection) error) error {
	keys := map[string]bool{}
	for i := range m.Namespaces {
		c := &m.Namespaces[i]
		if err := check(c); err != nil {
			return err
		}
		for _, p := range c.Parts {
			if keys[p.Key] {
				return fmt.Errorf("part %s listed twice", p.Key)
			}
			keys[p.Key] = true
		}
	}
	return nil
}

func (m *Manifest) checkLocation(loc Location) error {
	if m.ProjectID != loc.ProjectID || m.SnapshotID != loc.SnapshotID {
		return fmt.Errorf("manifest of %s/%s", m.ProjectID, m.SnapshotID)
	}
	return nil
}

func (c *Collection) check(loc Location) error {
	if err := c.checkShape(); err != nil {
		return err
	}
	return c.checkParts(c.DB+"."+c.Name, loc.Prefix()+"data/", sharedPrefix(loc.ProjectID))
}

// checkShape checks the collection's name, type and metadata.
func (c *Collection) checkShape() error {
	if c.DB == "" || c.Name == "" {
		return fmt.Errorf("a collection without a name (%q.%q)", c.DB, c.Name)
	}
	ns := c.DB + "." + c.Name
	if c.Type != dump.TypeCollection && c.Type != dump.TypeTimeseries {
		return fmt.Errorf("%s: type %q", ns, c.Type)
	}
	if len(c.Metadata) > 0 && !bytes.HasPrefix(bytes.TrimSpace(c.Metadata), []byte("{")) {
		return fmt.Errorf("%s: metadata is not a JSON object", ns)
	}
	return nil
}

// checkParts checks that the parts are objects under one of the prefixes
// and add up to the collection's count and size.
func (c *Collection) checkParts(ns string, prefixes ...string) error {
	var count, size int64
	for _, p := range c.Parts {
		under := false
		for _, prefix := range prefixes {
			if strings.HasPrefix(p.Key, prefix) && cleanPath(p.Key[len(prefix):]) {
				under = true
			}
		}
		if !under {
			return fmt.Errorf("%s: part %q is not under %s", ns, p.Key, strings.Join(prefixes, " or "))
		}
		if p.Count < 1 || p.Size < 5*p.Count {
			return fmt.Errorf("%s: part %s has %d documents of %d bytes", ns, p.Key, p.Count, p.Size)
		}
		if sum, err := hex.DecodeString(p.SHA256); err != nil || len(sum) != 32 {
			return fmt.Errorf("%s: part %s: sha256 %q is not 64 hex digits", ns, p.Key, p.SHA256)
		}
		count += p.Count
		size += p.Size
	}
	if count != c.Count || size != c.Size {
		return fmt.Errorf("%s: %d documents of %d bytes, but its parts hold %d documents of %d bytes", ns, c.Count, c.Size, count, size)
	}
	return nil
}

// writeManifest writes m at key.
func (s *Store) writeManifest(ctx context.Context, key string, m *Manifest) error {
	data, err := m.encode()
	if err != nil {
		return fmt.Errorf("snapshotstore: encoding %s: %w", key, err)
	}
	return s.writeObject(ctx, key, "application/json", data)
}

// writeObject writes data at key in one go.
func (s *Store) writeObject(ctx context.Context, key, contentType string, data []byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("snapshotstore: writing %s: %w", key, err)
	}
	if _, err := w.Write(data); err != nil {
		cancel() // aborts the upload
		w.Close()
		return fmt.Errorf("snapshotstore: writing %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("snapshotstore: writing %s: %w", key, err)
	}
	return nil
}

// cleanPath reports whether every segment of a relative key is a name, so
// that a key cannot leave its folder on a file system.
func cleanPath(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
