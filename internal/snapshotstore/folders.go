package snapshotstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// Folders lists every snapshot folder of the store, whether its snapshot
// is complete or not, for the sweep of data that no snapshot owns.
func (s *Store) Folders(ctx context.Context) ([]Location, error) {
	projects, err := s.children(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []Location
	for _, p := range projects {
		ids, err := s.children(ctx, p+"/")
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			loc := Location{ProjectID: p, SnapshotID: id}
			if loc.validate() == nil {
				out = append(out, loc)
			}
		}
	}
	return out, nil
}

// children lists the names of the "directories" right under prefix.
func (s *Store) children(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	objects, listErr := s.bucket.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"}).All(ctx)
	for obj := range objects {
		if obj.IsDir {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/"))
		}
	}
	if err := listErr(); err != nil {
		return nil, fmt.Errorf("snapshotstore: listing %q: %w", prefix, err)
	}
	return out, nil
}

// LastWrite is the latest modification time of a snapshot folder's
// objects (a local store's partial objects included, as it lists them);
// zero when it has none.
func (s *Store) LastWrite(ctx context.Context, loc Location) (time.Time, error) {
	var last time.Time
	prefix := loc.Prefix()
	objects, listErr := s.bucket.List(&blob.ListOptions{Prefix: prefix}).All(ctx)
	for obj := range objects {
		if obj.ModTime.After(last) {
			last = obj.ModTime
		}
	}
	if err := listErr(); err != nil {
		return last, fmt.Errorf("snapshotstore: listing %q: %w", prefix, err)
	}
	return last, nil
}
