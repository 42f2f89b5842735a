package snapshotstore_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

var loc = snapshotstore.Location{ProjectID: "5f1a2b3c4d5e6f7a8b9c0d1e", SnapshotID: "6a0b1c2d3e4f5a6b7c8d9e0f"}

// newDirStore opens a store in a fresh directory.
func newDirStore(t testing.TB, opts snapshotstore.Options) (*snapshotstore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "snapshots")
	s, err := snapshotstore.OpenDir(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func openArchive(t testing.TB, data []byte) dump.Source {
	t.Helper()
	src, err := dump.OpenArchive(bytes.NewReader(data), "test.archive")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// filesUnder lists the regular files below dir, temporary files included.
func filesUnder(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// readCollection reads collection i of m to its end.
func readCollection(t testing.TB, s *snapshotstore.Store, m *snapshotstore.Manifest, i int) ([][]byte, error) {
	t.Helper()
	cr, err := s.OpenCollection(context.Background(), loc, m, i)
	if err != nil {
		return nil, err
	}
	defer cr.Close()
	var docs [][]byte
	for {
		doc, err := cr.Next()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, slices.Clone(doc))
	}
}

// countingSource counts the documents handed to Import and can run a
// function after the nth.
type countingSource struct {
	dump.Source
	docs  int
	at    int
	after func()
}

func (c *countingSource) Next() (dump.Namespace, bson.Raw, error) {
	ns, doc, err := c.Source.Next()
	if err == nil {
		c.docs++
		if c.docs == c.at && c.after != nil {
			c.after()
		}
	}
	return ns, doc, err
}

func smallDataset() *dumptest.Dataset {
	return dumptest.Generate(dumptest.Options{Seed: 7, DocsPerCollection: 4, Oplog: true, AdminSystemVersion: true})
}

// smallArchive is smallDataset as an interleaved archive, and its layout.
func smallArchive(t *testing.T) ([]byte, []dumptest.Section) {
	t.Helper()
	data := dumptest.ArchiveBytes(smallDataset(), false, true)
	secs, err := dumptest.Layout(data)
	if err != nil {
		t.Fatal(err)
	}
	return data, secs
}
