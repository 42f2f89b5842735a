package snapshotstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

var data = snapshotstore.DataLocation{ProjectID: loc.ProjectID, ClusterID: "6a0b1c2d3e4f5a6b7c8d9e01", ReplicaSetName: "rs0"}

func snapshotAt(id string) snapshotstore.Location {
	return snapshotstore.Location{ProjectID: loc.ProjectID, SnapshotID: id}
}

// clock is a store's clock that a test moves.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func load(t *testing.T, s *snapshotstore.Store, ds *dumptest.Dataset) *snapshotstore.Manifest {
	t.Helper()
	m, err := s.Load(context.Background(), data, openArchive(t, dumptest.ArchiveBytes(ds, false, true)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func capture(t *testing.T, s *snapshotstore.Store, at snapshotstore.Location) *snapshotstore.Manifest {
	t.Helper()
	m, err := s.Capture(context.Background(), data, at, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// wantDocuments reads every collection of the snapshot at at and compares
// it, document by document, with ds.
func wantDocuments(t *testing.T, s *snapshotstore.Store, at snapshotstore.Location, ds *dumptest.Dataset) {
	t.Helper()
	m, err := s.Manifest(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, c := range ds.Collections {
		if c.Type != dumptest.TypeView {
			kept++
		}
	}
	if len(m.Namespaces) != kept {
		t.Fatalf("%s holds %d collections, want %d", at, len(m.Namespaces), kept)
	}
	for i, mc := range m.Namespaces {
		c := ds.Lookup(mc.DB, mc.Name)
		if c == nil {
			t.Fatalf("%s holds %s.%s, which the dump does not", at, mc.DB, mc.Name)
		}
		cr, err := s.OpenCollection(context.Background(), at, m, i)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			doc, err := cr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s.%s of %s: %v", mc.DB, mc.Name, at, err)
			}
			if n >= c.NumDocs || !bytes.Equal(doc, c.Doc(n)) {
				t.Fatalf("%s.%s of %s: document %d differs from the dump's", mc.DB, mc.Name, at, n)
			}
			n++
		}
		cr.Close()
		if n != c.NumDocs {
			t.Errorf("%s.%s of %s: %d documents, want %d", mc.DB, mc.Name, at, n, c.NumDocs)
		}
	}
}

// sharedFiles lists the files of the project's shared parts.
func sharedFiles(t *testing.T, dir string) []string {
	t.Helper()
	root := filepath.Join(dir, loc.ProjectID, ".parts")
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return filesUnder(t, root)
}

func partKeys(m *snapshotstore.Manifest) []string {
	var keys []string
	for _, c := range m.Namespaces {
		for _, p := range c.Parts {
			keys = append(keys, p.Key)
		}
	}
	slices.Sort(keys)
	return keys
}

func TestCaptureOfNothingLoaded(t *testing.T) {
	s, _ := newDirStore(t, snapshotstore.Options{})
	if _, err := s.ClusterData(context.Background(), data); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Fatalf("ClusterData of a new cluster: %v, want ErrNotFound", err)
	}
	m := capture(t, s, loc)
	if len(m.Namespaces) != 0 || m.ReplicaSetName != "rs0" {
		t.Errorf("snapshot of a new cluster: %+v, want no collection of rs0", m)
	}
	if _, err := s.Manifest(context.Background(), loc); err != nil {
		t.Errorf("the snapshot of an empty cluster has no manifest: %v", err)
	}
}

func TestLoadCaptureShareParts(t *testing.T) {
	s, dir := newDirStore(t, snapshotstore.Options{})
	ds := smallDataset()
	loaded := load(t, s, ds)
	parts := sharedFiles(t, dir)
	if len(parts) == 0 || len(parts) != len(partKeys(loaded)) {
		t.Fatalf("a load wrote %d shared files for %d parts", len(parts), len(partKeys(loaded)))
	}

	first, second := snapshotAt("6a0b1c2d3e4f5a6b7c8d9e10"), snapshotAt("6a0b1c2d3e4f5a6b7c8d9e11")
	m1 := capture(t, s, first)
	m2 := capture(t, s, second)
	if !slices.Equal(partKeys(m1), partKeys(loaded)) || !slices.Equal(partKeys(m2), partKeys(loaded)) {
		t.Errorf("snapshots reference %v and %v, want the loaded parts %v", partKeys(m1), partKeys(m2), partKeys(loaded))
	}
	for _, at := range []snapshotstore.Location{first, second} {
		if files := filesUnder(t, filepath.Join(dir, at.ProjectID, at.SnapshotID)); len(files) != 1 || filepath.Base(files[0]) != "manifest.json" {
			t.Errorf("snapshot %s holds %v, want its manifest only", at, files)
		}
		wantDocuments(t, s, at, ds)
	}

	// The same dump again stores nothing new.
	reloaded := load(t, s, ds)
	if !slices.Equal(partKeys(reloaded), partKeys(loaded)) {
		t.Errorf("reloading the same dump made parts %v, want the stored %v", partKeys(reloaded), partKeys(loaded))
	}
	if got := sharedFiles(t, dir); !slices.Equal(got, parts) {
		t.Errorf("reloading the same dump left shared files %v, want %v", got, parts)
	}

	// A snapshot taken again after a capture was interrupted keeps what the
	// first run wrote.
	again, err := s.Capture(context.Background(), data, first, time.Hour)
	if err != nil || !slices.Equal(partKeys(again), partKeys(m1)) {
		t.Errorf("Capture of a captured snapshot: %v, %v; want its parts %v", partKeys(again), err, partKeys(m1))
	}
}

func TestLoadReplacesOrKeeps(t *testing.T) {
	s, dir := newDirStore(t, snapshotstore.Options{})
	old := smallDataset()
	oldManifest := load(t, s, old)
	before := sharedFiles(t, dir)

	// A load that fails midway leaves the data it was to replace, and
	// nothing of its own.
	ctx, cancel := context.WithCancel(context.Background())
	other := dumptest.Generate(dumptest.Options{Seed: 99, DocsPerCollection: 50})
	src := &countingSource{Source: openArchive(t, dumptest.ArchiveBytes(other, false, true)), at: 20, after: cancel}
	if _, err := s.Load(ctx, data, src, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Load: %v, want context.Canceled", err)
	}
	kept, err := s.ClusterData(context.Background(), data)
	if err != nil || !slices.Equal(partKeys(kept), partKeys(oldManifest)) {
		t.Fatalf("data after a failed load: %v, %v; want the old parts %v", partKeys(kept), err, partKeys(oldManifest))
	}
	if got := sharedFiles(t, dir); !slices.Equal(got, before) {
		t.Errorf("a failed load left shared files %v, want %v", got, before)
	}

	// Bad input is the dump's *dump.FormatError, and loses nothing.
	broken := dumptest.ArchiveBytes(other, false, true)
	broken = broken[:len(broken)-40]
	bad, err := dump.OpenArchive(bytes.NewReader(broken), "broken.archive")
	if err == nil {
		_, err = s.Load(context.Background(), data, bad, nil)
		bad.Close()
	}
	if fe := (*dump.FormatError)(nil); !errors.As(err, &fe) || !strings.Contains(err.Error(), "broken.archive") {
		t.Errorf("Load of a cut archive: %v, want a *dump.FormatError naming broken.archive", err)
	}
	if got := sharedFiles(t, dir); !slices.Equal(got, before) {
		t.Errorf("a refused load left shared files %v, want %v", got, before)
	}

	// A load that completes replaces the data as a whole.
	load(t, s, other)
	capture(t, s, loc)
	wantDocuments(t, s, loc, other)
}

// sweepGrace is the grace the sweep tests give.
const sweepGrace = time.Hour

// loadedStore is a store on a clock the test moves, whose cluster data
// holds smallDataset.
func loadedStore(t *testing.T) (*clock, *snapshotstore.Store, string, *dumptest.Dataset) {
	t.Helper()
	clk := &clock{now: time.Now()}
	s, dir := newDirStore(t, snapshotstore.Options{Now: clk.Now})
	old := smallDataset()
	load(t, s, old)
	return clk, s, dir, old
}

func TestSweepShared(t *testing.T) {
	clk, s, dir, old := loadedStore(t)
	ctx := context.Background()
	const grace = sweepGrace
	snap := snapshotAt("6a0b1c2d3e4f5a6b7c8d9e20")
	oldSnapshot := capture(t, s, snap)

	// New data; the old data's parts stay while a snapshot lists them or
	// the manifest the load replaced is younger than grace.
	other := dumptest.Generate(dumptest.Options{Seed: 5, DocsPerCollection: 3})
	newData := load(t, s, other)
	clk.now = clk.now.Add(2 * grace)
	if n, err := s.SweepShared(ctx, grace); err != nil || n != 0 {
		t.Fatalf("SweepShared with every part referenced: removed %d, %v; want 0", n, err)
	}
	wantDocuments(t, s, snap, old)

	// Once the snapshot is deleted, its parts go, and the current data's stay.
	if err := s.Delete(ctx, snap); err != nil {
		t.Fatal(err)
	}
	clk.now = time.Now().Add(-grace / 2)
	if n, err := s.SweepShared(ctx, grace); err != nil || n != 0 {
		t.Fatalf("SweepShared within grace of the last write: removed %d, %v; want 0", n, err)
	}
	clk.now = time.Now().Add(2 * grace)
	n, err := s.SweepShared(ctx, grace)
	if err != nil || n != len(partKeys(oldSnapshot)) {
		t.Fatalf("SweepShared after the snapshot's deletion: removed %d, %v; want its %d parts", n, err, len(partKeys(oldSnapshot)))
	}
	var want []string
	for _, k := range partKeys(newData) {
		want = append(want, filepath.Join(dir, filepath.FromSlash(k)))
	}
	if got := sharedFiles(t, dir); !slices.Equal(got, want) {
		t.Errorf("shared files after the sweep: %v, want the current data's %v", got, want)
	}
	capture(t, s, loc)
	wantDocuments(t, s, loc, other)
}

// TestSweepWhileCapturing deletes a snapshot and sweeps while another
// snapshot is being taken of data a load has just replaced: the parts the
// new snapshot lists must stay.
func TestSweepWhileCapturing(t *testing.T) {
	clk, s, dir, old := loadedStore(t)
	ctx := context.Background()
	const grace = sweepGrace
	doomed := snapshotAt("6a0b1c2d3e4f5a6b7c8d9e30")
	capture(t, s, doomed)
	// The old data's parts are past grace: only references keep them.
	for _, f := range sharedFiles(t, dir) {
		if err := os.Chtimes(f, time.Time{}, time.Now().Add(-3*grace)); err != nil {
			t.Fatal(err)
		}
	}

	// The capture reads the current data, then a load replaces it, the
	// other snapshot is deleted and a sweep runs before the capture writes.
	taking := snapshotAt("6a0b1c2d3e4f5a6b7c8d9e31")
	defer snapshotstore.SetAfterCaptureRead(func() {
		load(t, s, dumptest.Generate(dumptest.Options{Seed: 6, DocsPerCollection: 2}))
		if err := s.Delete(ctx, doomed); err != nil {
			t.Fatal(err)
		}
		clk.now = time.Now()
		if _, err := s.SweepShared(ctx, grace); err != nil {
			t.Fatal(err)
		}
	})()
	capture(t, s, taking)
	wantDocuments(t, s, taking, old)

	// Past grace, the replaced data goes with the last snapshot of it.
	snapshotstore.SetAfterCaptureRead(nil)
	if err := s.Delete(ctx, taking); err != nil {
		t.Fatal(err)
	}
	clk.now = time.Now().Add(2 * grace)
	if n, err := s.SweepShared(ctx, grace); err != nil || n == 0 {
		t.Errorf("SweepShared once nothing lists the old data: removed %d, %v; want its parts", n, err)
	}
}

// TestCaptureStoodStill: a capture that stood still past its bound, while
// another capture of the same snapshot completed, fails without writing or
// deleting anything: the other capture's manifest stays.
func TestCaptureStoodStill(t *testing.T) {
	_, s, _, old := loadedStore(t)
	ctx := context.Background()
	snap := snapshotAt("6a0b1c2d3e4f5a6b7c8d9e40")
	nested := false
	defer snapshotstore.SetAfterCaptureRead(func() {
		if nested {
			return
		}
		nested = true
		capture(t, s, snap)
		time.Sleep(100 * time.Millisecond)
	})()
	if _, err := s.Capture(ctx, data, snap, 50*time.Millisecond); err == nil {
		t.Fatal("the capture that stood still succeeded, want its bound's error")
	}
	if _, err := s.Manifest(ctx, snap); err != nil {
		t.Fatalf("the other capture's manifest after the one that stood still failed: %v", err)
	}
	wantDocuments(t, s, snap, old)
}

// TestDropData: dropped data is gone at once (a snapshot taken then is
// empty); its parts stay while a snapshot lists them or the dropped
// manifest is younger than the grace, and go after.
func TestDropData(t *testing.T) {
	clk, s, dir, old := loadedStore(t)
	ctx := context.Background()
	const grace = sweepGrace
	snap := snapshotAt("6a0b1c2d3e4f5a6b7c8d9e20")
	taken := capture(t, s, snap)
	if err := s.DropData(ctx, data); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClusterData(ctx, data); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Fatalf("ClusterData after DropData: %v, want ErrNotFound", err)
	}
	if err := s.DropData(ctx, data); err != nil {
		t.Fatalf("dropping nothing: %v", err)
	}
	if n, err := s.SweepShared(ctx, grace); err != nil || n != 0 {
		t.Fatalf("SweepShared within grace of the drop: removed %d, %v; want 0", n, err)
	}
	clk.now = clk.now.Add(2 * grace)
	if n, err := s.SweepShared(ctx, grace); err != nil || n != 0 {
		t.Fatalf("SweepShared while a snapshot lists the parts: removed %d, %v; want 0", n, err)
	}
	wantDocuments(t, s, snap, old)
	if err := s.Delete(ctx, snap); err != nil {
		t.Fatal(err)
	}
	clk.now = time.Now().Add(2 * grace)
	if n, err := s.SweepShared(ctx, grace); err != nil || n != len(partKeys(taken)) {
		t.Fatalf("SweepShared once nothing lists the parts: removed %d, %v; want %d", n, err, len(partKeys(taken)))
	}
	if got := sharedFiles(t, dir); len(got) != 0 {
		t.Errorf("shared files left after dropping the data and its snapshot: %v", got)
	}
}
