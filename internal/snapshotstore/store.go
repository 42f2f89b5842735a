package snapshotstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"
)

var (
	// ErrNotFound is a snapshot without a manifest: never imported,
	// deleted, or still (or never to be) complete.
	ErrNotFound = errors.New("snapshotstore: snapshot not found")
	// ErrExists is an Import into a location that holds a complete snapshot.
	ErrExists = errors.New("snapshotstore: snapshot already exists")
	// ErrCorrupt is stored data that does not match its manifest, or a
	// manifest that does not make sense.
	ErrCorrupt = errors.New("snapshotstore: corrupt snapshot")
	// ErrInvalidLocation is a project or snapshot id that cannot be a
	// folder name.
	ErrInvalidLocation = errors.New("snapshotstore: invalid location")
	// ErrTakenOver is the cause to cancel an Import's context with when
	// another import took its location over (the run that started it
	// lost its lease): the location is the other import's now, so the
	// cancelled import leaves it as it is rather than delete what is there.
	ErrTakenOver = errors.New("snapshotstore: another import took the location over")
)

const (
	defaultMaxOpenParts = 32
	// cleanupTimeout bounds the removal of a failed import's objects, which
	// runs even when the import's context is cancelled.
	cleanupTimeout = 5 * time.Minute
	// deleteConcurrency keeps deleting a large snapshot from a cloud store
	// from taking one round trip per part in sequence.
	deleteConcurrency = 8
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// MaxOpenParts bounds the parts being written at once during an
	// import (default 32). Each open part holds a 64 KiB buffer plus the
	// backend's upload buffer (its default: 5 MiB for S3, for instance).
	MaxOpenParts int
	// Now stamps manifests' importedAt (default time.Now).
	Now func() time.Time
}

// Store keeps snapshots' data in a bucket, one folder per snapshot. It is
// safe for concurrent use, except that one location takes one Import at a
// time.
type Store struct {
	bucket *blob.Bucket
	opts   Options
	// dir is the bucket's directory when OpenDir opened it: fileblob
	// leaves directories behind when their objects are deleted.
	dir        string
	ownsBucket bool
	// dataLocks holds a *sync.Mutex per DataLocation being loaded.
	dataLocks sync.Map
}

// New returns a Store over b, which the caller keeps and closes.
func New(b *blob.Bucket, opts Options) *Store {
	if opts.MaxOpenParts <= 0 {
		opts.MaxOpenParts = defaultMaxOpenParts
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{bucket: b, opts: opts}
}

// OpenDir returns a Store over a fileblob bucket in dir, created if needed
// (the server's default is <data>/snapshots). Close closes the bucket.
func OpenDir(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshotstore: %w", err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		// Temporary files next to their object, so that the final rename
		// never crosses file systems.
		NoTempDir:   true,
		Metadata:    fileblob.MetadataDontWrite,
		DirFileMode: 0o700,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshotstore: %w", err)
	}
	s := New(b, opts)
	s.dir, s.ownsBucket = dir, true
	return s, nil
}

// NewOwning is New for a bucket the Store closes on Close.
func NewOwning(b *blob.Bucket, opts Options) *Store {
	s := New(b, opts)
	s.ownsBucket = true
	return s
}

// Close closes the bucket if OpenDir opened it or NewOwning was given it.
func (s *Store) Close() error {
	if s.ownsBucket {
		return s.bucket.Close()
	}
	return nil
}

// Location names a snapshot's folder, "<ProjectID>/<SnapshotID>/".
type Location struct {
	ProjectID  string
	SnapshotID string
}

func (l Location) String() string { return l.ProjectID + "/" + l.SnapshotID }

// Prefix is the key prefix of every object of the snapshot.
func (l Location) Prefix() string { return l.ProjectID + "/" + l.SnapshotID + "/" }

// ManifestKey is the key of the snapshot's manifest.
func (l Location) ManifestKey() string { return l.Prefix() + "manifest.json" }

func (l Location) validate() error {
	for _, id := range []string{l.ProjectID, l.SnapshotID} {
		if !safeID(id) {
			return fmt.Errorf("%w: %q (ids are 1 to 128 characters of [A-Za-z0-9._-], not starting with a dot)", ErrInvalidLocation, l.String())
		}
	}
	return nil
}

// safeID keeps ids usable as a single path segment on every backend
// without escaping, so that operators find a snapshot by its id.
func safeID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !plainByte(id[i]) {
			return false
		}
	}
	return true
}

// Delete removes every object of the snapshot, the manifest first so that
// a Delete that fails midway leaves an incomplete snapshot rather than one
// that looks complete with missing data. Deleting a missing snapshot is
// not an error.
func (s *Store) Delete(ctx context.Context, loc Location) error {
	if err := loc.validate(); err != nil {
		return err
	}
	if err := s.deleteKey(ctx, loc.ManifestKey()); err != nil {
		return err
	}
	return s.deletePrefix(ctx, loc)
}

func (s *Store) deleteKey(ctx context.Context, key string) error {
	err := s.bucket.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("snapshotstore: deleting %s: %w", key, err)
	}
	return nil
}

// deletePrefix deletes every object under loc.
func (s *Store) deletePrefix(ctx context.Context, loc Location) error {
	keys, err := s.list(ctx, loc.Prefix())
	if err != nil {
		return err
	}
	if err := s.deleteKeys(ctx, keys); err != nil {
		return err
	}
	s.removeEmptyDirs(loc.Prefix())
	return nil
}

func (s *Store) list(ctx context.Context, prefix string) ([]string, error) {
	objects, err := s.objects(ctx, prefix)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objects))
	for i, obj := range objects {
		keys[i] = obj.Key
	}
	return keys, nil
}

func (s *Store) deleteKeys(ctx context.Context, keys []string) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, deleteConcurrency)
	)
	for _, key := range keys {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.deleteKey(ctx, key); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeEmptyDirs removes the directories fileblob leaves under prefix,
// a folder of a project. The project's directory stays: another import
// may be creating a snapshot folder in it right now.
func (s *Store) removeEmptyDirs(prefix string) {
	if s.dir == "" {
		return
	}
	root := filepath.Join(s.dir, filepath.FromSlash(strings.TrimSuffix(prefix, "/")))
	var dirs []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	// WalkDir lists parents before their children: backwards, children
	// go first and leave their parents empty.
	for _, d := range slices.Backward(dirs) {
		_ = os.Remove(d) // fails, harmlessly, on a directory that is not empty
	}
}
