package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/snapexport/snapexport"
)

// localRoot is the directory of a provider's local buckets.
func (s *Stores) localRoot(p snapexport.CloudProvider) string {
	return filepath.Join(s.cfg.LocalDir, strings.ToLower(string(p)))
}

func (s *Stores) openLocal(ctx context.Context, t Target) (*blob.Bucket, op, error) {
	root := s.localRoot(t.Provider)
	o := op{provider: t.Provider, bucket: t.Bucket, endpoint: "local directory " + root, action: "open",
		role: t.Role, roleRef: roleID(t.Role)}
	// Bucket names are validated by the API; this only keeps a name from
	// leaving the provider's directory.
	if strings.ContainsAny(t.Bucket, `/\`) || t.Bucket == "." || t.Bucket == ".." || strings.ContainsRune(t.Bucket, 0) {
		return nil, o, s.fail(ctx, o, fault{kind: kindNotFound}, fmt.Errorf("bucket name %q cannot be a directory name", t.Bucket))
	}
	dir := filepath.Join(root, t.Bucket)
	info, err := os.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return nil, o, s.fail(ctx, o, fault{kind: kindNotFound}, fmt.Errorf("%s is not a directory", dir))
	case errors.Is(err, fs.ErrNotExist) && s.cfg.LocalRequireExisting:
		o.action = "stat " + dir
		return nil, o, s.fail(ctx, o, fault{kind: kindNotFound}, err)
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			o.action = "mkdir " + dir
			return nil, o, s.fail(ctx, o, classifyLocal(err), err)
		}
	case err != nil:
		o.action = "stat " + dir
		return nil, o, s.fail(ctx, o, classifyLocal(err), err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		// Temporary files next to their object, so that the final rename
		// never crosses file systems.
		NoTempDir:   true,
		Metadata:    fileblob.MetadataDontWrite,
		DirFileMode: 0o750,
	})
	if err != nil {
		return nil, o, s.fail(ctx, o, classifyLocal(err), err)
	}
	return b, o, nil
}

func classifyLocal(err error) fault {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fault{kind: kindNotFound}
	case errors.Is(err, fs.ErrPermission):
		return fault{kind: kindDenied}
	}
	return fault{kind: kindOther}
}
