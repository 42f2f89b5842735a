// Package newfile makes files that appear whole and once: never partly
// written and never replaced, whatever process makes the same file at
// the same time, and durable once the call that made one returns.
package newfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Create makes the file at path, readable by its owner only, with what
// write writes to it, unless a file is there. The bytes are written and
// synced under another name in path's directory, then linked to path,
// which fails when another process made path meanwhile; the directory is
// then synced. created reports whether this call made the file: false,
// with a nil error, when one was there.
func Create(path string, write func(*os.File) error) (created bool, err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*") // mode 0600
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := errors.Join(write(tmp), tmp.Sync(), tmp.Close()); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, syncDir(dir)
}

// syncDir makes the entries of directory dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
