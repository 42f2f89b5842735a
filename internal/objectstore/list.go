package objectstore

import (
	"context"
	"errors"
	"io"
	"time"

	"gocloud.dev/blob"
)

// Object is one object of a bucket as a listing shows it.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
}

// List returns up to limit objects whose keys start with prefix, in key
// order, and whether more follow.
func (s *Stores) List(ctx context.Context, t Target, prefix string, limit int) (objects []Object, more bool, err error) {
	if err := checkTarget(t); err != nil {
		return nil, false, err
	}
	octx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, o, err := s.open(octx, t)
	if err != nil {
		return nil, false, err
	}
	defer b.Close()
	o.action = "list"
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(octx)
		if errors.Is(err, io.EOF) {
			return objects, false, nil
		}
		if err != nil {
			return nil, false, s.fail(ctx, o, s.classify(t, err), err)
		}
		if obj.IsDir {
			continue
		}
		if len(objects) == limit {
			return objects, true, nil
		}
		objects = append(objects, Object{Key: obj.Key, Size: obj.Size, Modified: obj.ModTime})
	}
}
