package snapshotstore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport/internal/dump"
)

// CollectionReader streams the documents of one collection of a snapshot.
//
// A part's SHA-256, count and size are checked when its last document has
// been read, so, as with dump.Source, documents are provisional: a reader
// must discard what it got unless Next eventually returns io.EOF.
type CollectionReader struct {
	ctx    context.Context
	bucket *blob.Bucket
	coll   *Collection

	part  int // index in coll.Parts of the part being read
	r     *blob.Reader
	br    *bufio.Reader
	sum   hash.Hash
	count int64
	size  int64
	doc   []byte
	err   error
}

// OpenCollection opens collection i of m, the manifest of loc, for reading.
func (s *Store) OpenCollection(ctx context.Context, loc Location, m *Manifest, i int) (*CollectionReader, error) {
	if err := loc.validate(); err != nil {
		return nil, err
	}
	if i < 0 || i >= len(m.Namespaces) {
		return nil, fmt.Errorf("snapshotstore: collection %d of %s does not exist (it has %d)", i, loc, len(m.Namespaces))
	}
	// only what this reader relies on: checking the whole manifest for
	// every collection would cost as much as the manifest again
	if err := m.checkLocation(loc); err != nil {
		return nil, fmt.Errorf("%w: manifest of %s: %v", ErrCorrupt, loc, err)
	}
	if err := m.Namespaces[i].check(loc); err != nil {
		return nil, fmt.Errorf("%w: manifest of %s: %v", ErrCorrupt, loc, err)
	}
	cr := &CollectionReader{ctx: ctx, bucket: s.bucket, coll: &m.Namespaces[i], sum: sha256.New()}
	if len(cr.coll.Parts) > 0 {
		if err := cr.openPart(); err != nil {
			return nil, err
		}
	}
	return cr, nil
}

func (cr *CollectionReader) openPart() error {
	p := cr.coll.Parts[cr.part]
	r, err := cr.bucket.NewReader(cr.ctx, p.Key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return fmt.Errorf("%w: %s is missing", ErrCorrupt, p.Key)
		}
		return fmt.Errorf("snapshotstore: reading %s: %w", p.Key, err)
	}
	if r.Size() != p.Size {
		r.Close()
		return fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrCorrupt, p.Key, r.Size(), p.Size)
	}
	cr.r = r
	if cr.br == nil {
		cr.br = bufio.NewReaderSize(r, partBufferSize)
	} else {
		cr.br.Reset(r)
	}
	cr.sum.Reset()
	cr.count, cr.size = 0, 0
	return nil
}

// Next returns the next document, valid until the next call, or io.EOF
// after the last one. An error is returned again by later calls.
func (cr *CollectionReader) Next() (bson.Raw, error) {
	if cr.err != nil {
		return nil, cr.err
	}
	doc, err := cr.next()
	if err != nil {
		cr.err = err
		cr.closePart()
	}
	return doc, err
}

func (cr *CollectionReader) next() (bson.Raw, error) {
	for {
		if cr.r == nil {
			if cr.part >= len(cr.coll.Parts) {
				return nil, io.EOF
			}
			if err := cr.openPart(); err != nil {
				return nil, err
			}
		}
		p := cr.coll.Parts[cr.part]
		var hdr [4]byte
		n, err := io.ReadFull(cr.br, hdr[:])
		if n == 0 && err == io.EOF {
			if err := cr.endPart(p); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, cr.readError(p, err)
		}
		length := int64(int32(binary.LittleEndian.Uint32(hdr[:])))
		if length < 5 || length > dump.MaxDocumentSize || length > p.Size-cr.size {
			return nil, fmt.Errorf("%w: %s: invalid document length %d at offset %d", ErrCorrupt, p.Key, length, cr.size)
		}
		if cr.count >= p.Count {
			return nil, fmt.Errorf("%w: %s holds more than the %d documents of its manifest", ErrCorrupt, p.Key, p.Count)
		}
		if int64(cap(cr.doc)) < length {
			cr.doc = make([]byte, length)
		}
		doc := cr.doc[:length]
		copy(doc, hdr[:])
		if _, err := io.ReadFull(cr.br, doc[4:]); err != nil {
			return nil, cr.readError(p, err)
		}
		if doc[length-1] != 0 {
			return nil, fmt.Errorf("%w: %s: the document at offset %d does not end with a null byte", ErrCorrupt, p.Key, cr.size)
		}
		cr.sum.Write(doc)
		cr.count++
		cr.size += length
		return doc, nil
	}
}

// endPart checks a part read to its end and moves to the next one.
func (cr *CollectionReader) endPart(p Part) error {
	if cr.count != p.Count || cr.size != p.Size {
		return fmt.Errorf("%w: %s holds %d documents of %d bytes, the manifest says %d of %d", ErrCorrupt, p.Key, cr.count, cr.size, p.Count, p.Size)
	}
	if got := hex.EncodeToString(cr.sum.Sum(nil)); got != p.SHA256 {
		return fmt.Errorf("%w: %s has SHA-256 %s, the manifest says %s", ErrCorrupt, p.Key, got, p.SHA256)
	}
	if err := cr.closePart(); err != nil {
		return fmt.Errorf("snapshotstore: reading %s: %w", p.Key, err)
	}
	cr.part++
	return nil
}

func (cr *CollectionReader) readError(p Part, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s ends inside a document, after %d bytes", ErrCorrupt, p.Key, cr.size)
	}
	return fmt.Errorf("snapshotstore: reading %s: %w", p.Key, err)
}

func (cr *CollectionReader) closePart() error {
	if cr.r == nil {
		return nil
	}
	err := cr.r.Close()
	cr.r = nil
	return err
}

// Close releases the part being read.
func (cr *CollectionReader) Close() error {
	if cr.err == nil {
		cr.err = errors.New("snapshotstore: collection reader closed")
	}
	return cr.closePart()
}
