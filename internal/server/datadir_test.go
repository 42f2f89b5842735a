package server_test

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestDataIsOwnerOnly: a new data directory, its database files and its
// snapshot folder are the owner's alone, whatever the umask lets through.
func TestDataIsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logs testserver.LogBuffer
	serveOnce(t, openAt(t, dir, slog.New(slog.NewTextHandler(&logs, nil))))

	want := map[string]fs.FileMode{dir: 0o700, filepath.Join(dir, "snapshots"): 0o700}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), sqlite.DatabaseFile) {
			want[filepath.Join(dir, e.Name())] = 0o600
		}
	}
	if _, ok := want[filepath.Join(dir, sqlite.DatabaseFile)]; !ok {
		t.Fatalf("no database file in %s", dir)
	}
	for path, mode := range want {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != mode {
			t.Errorf("%s has mode %04o, want %04o", path, got, mode)
		}
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("warnings for an owner-only data directory:\n%s", logs.String())
	}
}

// TestReadableDataDirIsReported: a data directory others may read is used,
// and the start says so, naming the directory and its mode.
func TestReadableDataDirIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs testserver.LogBuffer
	serveOnce(t, openAt(t, dir, slog.New(slog.NewTextHandler(&logs, nil))))
	var warning string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "data directory") {
			warning = line
		}
	}
	if !strings.Contains(warning, dir) || !strings.Contains(warning, "0755") {
		t.Errorf("no warning naming %s and its mode 0755:\n%s", dir, logs.String())
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("the data directory's mode was changed: %v %v", info.Mode(), err)
	}
}
