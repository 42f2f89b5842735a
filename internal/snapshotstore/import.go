package snapshotstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/dump"
)

const (
	partBufferSize = 64 << 10
	// Progress is reported after this many documents or bytes, whichever
	// comes first, so that a callback that redraws a bar stays cheap.
	progressEveryDocs  = 1024
	progressEveryBytes = 4 << 20
)

// Progress is how far an import is.
type Progress struct {
	// Collections is the number of collections whose documents have
	// started; at the last report, every collection kept.
	Collections int
	// Documents and Bytes count the documents written and their size.
	Documents, Bytes int64
}

// Import reads src to its end and writes the snapshot's data at loc, then,
// last, its manifest, which it returns. Views are not kept: Manifest.Notes
// lists them with src's notes. Time-series collections (whose documents are
// buckets) and system collections are kept like any other.
//
// On any error, a cancelled ctx included, Import deletes everything it
// wrote before returning, unless ctx was cancelled with ErrTakenOver as
// its cause; bad input is the *dump.FormatError of src, as is or joined
// with a cleanup failure, so errors.As finds it. progress, which
// may be nil, is called from Import's goroutine now and then and at the end.
// Import refuses (ErrExists) a location that holds a complete snapshot and
// removes what an earlier, failed import may have left there; two imports
// must not run at the same location at once.
func (s *Store) Import(ctx context.Context, loc Location, replicaSetName string, src dump.Source, progress func(Progress)) (*Manifest, error) {
	if err := loc.validate(); err != nil {
		return nil, err
	}
	exists, err := s.bucket.Exists(ctx, loc.ManifestKey())
	if err != nil {
		return nil, fmt.Errorf("snapshotstore: checking %s: %w", loc.ManifestKey(), err)
	}
	if exists {
		return nil, fmt.Errorf("%w: %s", ErrExists, loc)
	}
	if err := s.deletePrefix(ctx, loc); err != nil {
		return nil, err
	}

	return s.importWith(ctx, loc.Prefix()+"data/", loc.String(), replicaSetName, src, progress,
		func(ctx context.Context) error { return s.Delete(ctx, loc) },
		func(m *Manifest) error {
			m.SnapshotID, m.ProjectID = loc.SnapshotID, loc.ProjectID
			return s.writeManifest(ctx, loc.ManifestKey(), m)
		})
}

// importWith reads src to its end into parts under dataPrefix, makes their
// manifest and hands it to finish, which stores it; on any error, finish's
// included, cleanup removes what was written. what names the import in
// errors.
func (s *Store) importWith(ctx context.Context, dataPrefix, what, replicaSetName string, src dump.Source, progress func(Progress),
	cleanup func(context.Context) error, finish func(*Manifest) error) (_ *Manifest, err error) {
	im := newImporter(ctx, s, dataPrefix, what, src, cleanup)
	defer func() {
		if err != nil {
			if cerr := im.abort(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	p, err := im.run(src, progress)
	if err != nil {
		return nil, err
	}
	m, err := im.manifest(replicaSetName, src)
	if err != nil {
		return nil, err
	}
	if err := finish(m); err != nil {
		return nil, err
	}
	if progress != nil {
		progress(Progress{Collections: len(m.Namespaces), Documents: p.Documents, Bytes: p.Bytes})
	}
	return m, nil
}

func newImporter(ctx context.Context, s *Store, dataPrefix, what string, src dump.Source, cleanup func(context.Context) error) *importer {
	colls := src.Collections()
	return &importer{
		store:      s,
		ctx:        ctx,
		dataPrefix: dataPrefix,
		what:       what,
		cleanup:    cleanup,
		colls:      colls,
		open:       make([]*openPart, len(colls)),
		nextPart:   make([]int, len(colls)),
		parts:      make([][]Part, len(colls)),
	}
}

// run reads src to its end into parts, all of them closed when it returns
// without an error, and reports how far it got.
func (im *importer) run(src dump.Source, progress func(Progress)) (Progress, error) {
	colls := im.colls
	index := make(map[dump.Namespace]int, len(colls))
	for i, c := range colls {
		index[c.Namespace] = i
	}
	var p Progress
	started := make([]bool, len(colls))
	var docsSince, bytesSince int64
	for {
		if err := im.ctx.Err(); err != nil {
			return p, fmt.Errorf("snapshotstore: import of %s stopped: %w", im.what, err)
		}
		ns, doc, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p, err
		}
		i, ok := index[ns]
		if !ok || colls[i].IsView() {
			return p, fmt.Errorf("snapshotstore: the dump returned a document of %s, which is not one of its collections", ns)
		}
		if err := im.write(i, doc); err != nil {
			return p, err
		}
		if !started[i] {
			started[i] = true
			p.Collections++
		}
		p.Documents++
		p.Bytes += int64(len(doc))
		docsSince++
		bytesSince += int64(len(doc))
		if progress != nil && (docsSince >= progressEveryDocs || bytesSince >= progressEveryBytes) {
			docsSince, bytesSince = 0, 0
			progress(p)
		}
	}
	return p, im.closeAll()
}

// importer writes the parts of one import.
type importer struct {
	store *Store
	ctx   context.Context
	// dataPrefix is where the parts go, what names the import in errors,
	// and cleanup removes what a failed import wrote.
	dataPrefix string
	what       string
	cleanup    func(context.Context) error
	colls      []dump.Collection
	open       []*openPart // by collection index
	nOpen      int
	nextPart   []int
	parts      [][]Part // completed parts by collection index
	clock      uint64
	spare      []*bufio.Writer
}

type openPart struct {
	coll        int
	key         string
	w           *blob.Writer
	cancel      context.CancelFunc
	buf         *bufio.Writer
	sum         hash.Hash
	count, size int64
	lastUsed    uint64
}

func (im *importer) write(i int, doc bson.Raw) error {
	p := im.open[i]
	if p == nil {
		if im.nOpen >= im.store.opts.MaxOpenParts {
			if err := im.closeLeastRecentlyUsed(); err != nil {
				return err
			}
		}
		var err error
		if p, err = im.openPart(i); err != nil {
			return err
		}
	}
	im.clock++
	p.lastUsed = im.clock
	p.sum.Write(doc)
	if _, err := p.buf.Write(doc); err != nil {
		return fmt.Errorf("snapshotstore: writing %s: %w", p.key, err)
	}
	p.count++
	p.size += int64(len(doc))
	return nil
}

func (im *importer) openPart(i int) (*openPart, error) {
	c := im.colls[i]
	key := partKey(im.dataPrefix, c.DB, c.Collection, im.nextPart[i])
	im.nextPart[i]++
	ctx, cancel := context.WithCancel(im.ctx)
	w, err := im.store.bucket.NewWriter(ctx, key, &blob.WriterOptions{
		ContentType: "application/octet-stream",
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("snapshotstore: writing %s: %w", key, err)
	}
	var buf *bufio.Writer
	if n := len(im.spare); n > 0 {
		buf, im.spare = im.spare[n-1], im.spare[:n-1]
		buf.Reset(w)
	} else {
		buf = bufio.NewWriterSize(w, partBufferSize)
	}
	p := &openPart{coll: i, key: key, w: w, cancel: cancel, buf: buf, sum: sha256.New()}
	im.open[i] = p
	im.nOpen++
	return p, nil
}

func (im *importer) closeLeastRecentlyUsed() error {
	var lru *openPart
	for _, p := range im.open {
		if p != nil && (lru == nil || p.lastUsed < lru.lastUsed) {
			lru = p
		}
	}
	return im.closePart(lru)
}

// closePart completes the part's object.
func (im *importer) closePart(p *openPart) error {
	im.open[p.coll] = nil
	im.nOpen--
	defer p.cancel()
	if err := p.buf.Flush(); err != nil {
		p.cancel() // aborts the upload
		p.w.Close()
		return fmt.Errorf("snapshotstore: writing %s: %w", p.key, err)
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("snapshotstore: writing %s: %w", p.key, err)
	}
	im.spare = append(im.spare, p.buf)
	im.parts[p.coll] = append(im.parts[p.coll], Part{Key: p.key, Count: p.count, Size: p.size, SHA256: hex.EncodeToString(p.sum.Sum(nil))})
	return nil
}

func (im *importer) closeAll() error {
	for _, p := range im.open {
		if p != nil {
			if err := im.closePart(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// abort cancels the open uploads and deletes whatever was written, even
// when the import's context is what failed.
func (im *importer) abort() error {
	for _, p := range im.open {
		if p != nil {
			p.cancel()
			p.w.Close()
			im.open[p.coll] = nil
		}
	}
	im.nOpen = 0
	if errors.Is(context.Cause(im.ctx), ErrTakenOver) {
		// What is at the location now may be the other import's.
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(im.ctx), cleanupTimeout)
	defer cancel()
	// The import had its folder to itself (it emptied it first).
	if err := im.cleanup(ctx); err != nil {
		return fmt.Errorf("snapshotstore: cleaning up the failed import of %s: %w", im.what, err)
	}
	return nil
}

func (im *importer) manifest(replicaSetName string, src dump.Source) (*Manifest, error) {
	info := src.Info()
	m := &Manifest{
		FormatVersion:  FormatVersion,
		ReplicaSetName: replicaSetName,
		Source:         Source{Format: info.Format, Gzip: info.Gzip, ServerVersion: info.ServerVersion, ToolVersion: info.ToolVersion},
		ImportedAt:     im.store.opts.Now().UTC(),
		Namespaces:     []Collection{},
		Notes:          src.Notes(),
	}
	// Counts are final, and a time-series collection's data collection
	// known, only now that src is at its end.
	final := src.Collections()
	if len(final) != len(im.colls) {
		return nil, fmt.Errorf("snapshotstore: the dump listed %d collections, then %d", len(im.colls), len(final))
	}
	for i, c := range final {
		if c.IsView() {
			m.Notes = append(m.Notes, fmt.Sprintf("skipping view %s (views are not kept in snapshots)", c.Namespace))
			continue
		}
		mc := Collection{DB: c.DB, Name: c.Collection, Type: dump.TypeCollection, UUID: c.Metadata.UUID,
			DataCollection: c.DataCollection, Parts: im.parts[i]}
		if c.IsTimeseries() {
			mc.Type = dump.TypeTimeseries
		}
		if mc.Parts == nil {
			mc.Parts = []Part{}
		}
		for _, p := range mc.Parts {
			mc.Count += p.Count
			mc.Size += p.Size
		}
		if mc.Count != c.Count || mc.Size != c.Size {
			return nil, fmt.Errorf("snapshotstore: %s: wrote %d documents of %d bytes, the dump counted %d of %d", c.Namespace, mc.Count, mc.Size, c.Count, c.Size)
		}
		if len(c.Metadata.Raw) > 0 {
			js, err := bson.MarshalExtJSON(c.Metadata.Raw, true, false)
			if err != nil {
				return nil, fmt.Errorf("snapshotstore: %s: metadata: %w", c.Namespace, err)
			}
			// compact as the manifest stores it, so that the manifest
			// returned equals the one read back
			var buf bytes.Buffer
			if err := json.Compact(&buf, js); err != nil {
				return nil, fmt.Errorf("snapshotstore: %s: metadata: %w", c.Namespace, err)
			}
			mc.Metadata = buf.Bytes()
		}
		m.Namespaces = append(m.Namespaces, mc)
	}
	return m, nil
}
