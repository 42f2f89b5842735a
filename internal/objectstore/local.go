package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

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
		o.action = "stat"
		return nil, o, s.fail(ctx, o, fault{kind: kindNotFound}, err)
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			o.action = "mkdir"
			return nil, o, s.fail(ctx, o, classifyLocal(err), err)
		}
	case err != nil:
		o.action = "stat"
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
	return newLocalKeysBucket(b), o, nil
}

func classifyLocal(err error) fault {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fault{kind: kindNotFound}
	case errors.Is(err, fs.ErrPermission):
		return fault{kind: kindDenied}
	case errnoName(err) != "":
		// The object's name cannot be a file of this file system.
		return fault{kind: kindRefused, code: errnoName(err)}
	}
	return fault{kind: kindOther}
}

// RemoveIncomplete deletes what writes cut short by a crash left under
// prefix in a local bucket: fileblob writes each object to
// "<key>.<hex nanoseconds>.tmp" beside it and renames it when complete, so
// a killed writer leaves such a file, which a listing would show. Other
// stores never show an upload that was not completed, so this does
// nothing for them.
//
// keep, when not nil, spares the partial objects it returns true for (by
// base name and modification time): those of other writers under prefix.
func (s *Stores) RemoveIncomplete(ctx context.Context, t Target, prefix string, keep func(name string, modified time.Time) bool) error {
	if s.Mode(t.Provider).orLocal() != ModeLocal {
		return nil
	}
	root := filepath.Join(s.localRoot(t.Provider), t.Bucket, filepath.FromSlash(localPath(strings.TrimSuffix(prefix, "/"))))
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || !incompleteLocalObject.MatchString(d.Name()) {
			return nil
		}
		if keep != nil {
			info, err := d.Info()
			if err != nil || keep(d.Name(), info.ModTime()) {
				return nil
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// errnoName is the symbolic name of err's system error ("ENAMETOOLONG"),
// which names no path, unlike err's text; "" when it has none.
func errnoName(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return errnoNames[e]
	}
	return ""
}

var errnoNames = map[syscall.Errno]string{syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.EINVAL: "EINVAL",
	syscall.EISDIR: "EISDIR", syscall.ENOTDIR: "ENOTDIR", syscall.ELOOP: "ELOOP"}

var incompleteLocalObject = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)
