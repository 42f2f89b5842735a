package newfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/snapexport/snapexport/internal/newfile"
)

func writeText(text string) func(*os.File) error {
	return func(f *os.File) error {
		_, err := f.WriteString(text)
		return err
	}
}

// TestCreate: the first Create makes the file whole and owner-only; a
// later one, or one whose write fails, changes nothing and leaves nothing
// beside it.
func TestCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	created, err := newfile.Create(path, writeText("first"))
	if err != nil || !created {
		t.Fatalf("Create of a new file = %v, %v; want true, nil", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new file: %v, %v; want mode 0600", fi, err)
	}
	created, err = newfile.Create(path, writeText("second"))
	if err != nil || created {
		t.Errorf("Create over a file = %v, %v; want false, nil", created, err)
	}
	failed := errors.New("disk full")
	other := filepath.Join(dir, "g")
	if created, err := newfile.Create(other, func(*os.File) error { return failed }); !errors.Is(err, failed) || created {
		t.Errorf("Create whose write fails = %v, %v; want false and the write's error", created, err)
	}
	if text, err := os.ReadFile(path); err != nil || string(text) != "first" {
		t.Errorf("file holds %q, %v; want what the first Create wrote", text, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the one file", len(entries))
	}
}

// TestCreateTogether: of creates of one file at once, one makes it, and
// the file is that one's whole.
func TestCreateTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	texts := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg", "hhhhhhhh"}
	made := make([]bool, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Go(func() {
			created, err := newfile.Create(path, writeText(text))
			if err != nil {
				t.Error(err)
			}
			made[i] = created
		})
	}
	wg.Wait()
	winners := 0
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range made {
		if m {
			winners++
			if string(text) != texts[i] {
				t.Errorf("the file holds %q, not what the Create that made it wrote, %q", text, texts[i])
			}
		}
	}
	if winners != 1 {
		t.Errorf("%d creates made the file, want 1", winners)
	}
}
