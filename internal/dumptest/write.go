package dumptest

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Archive format constants (mongo-tools common/archive/archive.go).
const (
	// MagicNumber starts every archive, little-endian.
	MagicNumber uint32 = 0x8199e26d
	// Terminator ends the prelude and every block.
	Terminator uint32 = 0xffffffff
	// FormatVersion is the only archive format version.
	FormatVersion = "0.1"
	// MaxBSONSize is mongo-tools' db.MaxBSONSize; mongodump's multiplexer
	// buffers up to this many bytes of one namespace before writing them.
	MaxBSONSize = 16 * 1024 * 1024
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// CRC is the checksum of a namespace in an archive's EOF header: CRC-64 with
// the ECMA polynomial (Go's hash/crc64) over the concatenated documents,
// stored as an int64.
func CRC(docs ...[]byte) int64 {
	var c uint64
	for _, d := range docs {
		c = crc64.Update(c, crcTable, d)
	}
	return int64(c)
}

// WriteDir writes ds as mongodump --out=dir [--gzip] lays it out:
// <db>/<stem>.bson and <db>/<stem>.metadata.json (".gz" appended to both
// with gzip), system.buckets.<stem>.bson for a time-series collection's data,
// no .bson for a view, an empty .bson for an empty collection, oplog.bson at
// the top for an oplog, and prelude.json at the top.
func WriteDir(dir string, ds *Dataset, gz bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	suffix := ""
	if gz {
		suffix = ".gz"
	}
	prelude, err := json.Marshal(struct{ ServerVersion, ToolVersion string }{ds.ServerVersion, ds.ToolVersion})
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "prelude.json"+suffix), gz, func(w io.Writer) error {
		_, err := w.Write(prelude)
		return err
	}); err != nil {
		return err
	}
	for _, c := range ds.Collections {
		dbDir := filepath.Join(dir, c.DB)
		if err := os.MkdirAll(dbDir, 0o755); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dbDir, FileStem(c.Name)+".metadata.json"+suffix), gz, func(w io.Writer) error {
			_, err := w.Write(c.MetadataJSON())
			return err
		}); err != nil {
			return err
		}
		if c.Type == TypeView {
			continue
		}
		if err := writeFile(filepath.Join(dbDir, FileStem(c.DataCollection())+".bson"+suffix), gz, func(w io.Writer) error {
			return writeDocs(w, c)
		}); err != nil {
			return err
		}
	}
	if ds.Oplog != nil {
		if err := writeFile(filepath.Join(dir, "oplog.bson"+suffix), gz, func(w io.Writer) error {
			return writeDocs(w, ds.Oplog)
		}); err != nil {
			return err
		}
	}
	return nil
}

func writeDocs(w io.Writer, c *Collection) error {
	for _, d := range c.Docs() {
		if _, err := w.Write(d); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, gz bool, fill func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	var w io.Writer = bw
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	if err := fill(w); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ArchiveHeader is the first prelude document (common/archive/archive.go
// Header), field order as mongodump marshals it.
type ArchiveHeader struct {
	ConcurrentCollections int32  `bson:"concurrent_collections"`
	FormatVersion         string `bson:"version"`
	ServerVersion         string `bson:"server_version"`
	ToolVersion           string `bson:"tool_version"`
}

// CollectionMetadata is a prelude collection document (archive.go
// CollectionMetadata): Size is a Go int there, so it is marshalled as an
// int32; mongodump never sets it, so it is always 0.
type CollectionMetadata struct {
	Database   string `bson:"db"`
	Collection string `bson:"collection"`
	Metadata   string `bson:"metadata"`
	Size       int32  `bson:"size"`
	Type       string `bson:"type"`
}

// NamespaceHeader starts every block (archive.go NamespaceHeader).
type NamespaceHeader struct {
	Database   string `bson:"db"`
	Collection string `bson:"collection"`
	EOF        bool   `bson:"EOF"`
	CRC        int64  `bson:"CRC"`
}

// WriteArchive writes ds as mongodump --archive [--gzip] does: the magic
// number, the prelude (header, one document per collection in ds order
// then the oplog, terminator) and the blocks. Every namespace gets at least
// one segment (a header and its documents, possibly none, then a
// terminator) and one EOF block (an EOF header carrying the CRC, then a
// terminator); views and empty collections get an empty segment, as
// mongodump's multiplexer writes one when their MuxIn is closed.
//
// Without interleave, namespaces follow each other (mongodump -j1) and a
// namespace's documents share one segment. With interleave, up to
// ConcurrentCollections namespaces are open at a time and write small
// segments in turn (chosen deterministically), as mongodump -j4 does with
// its 16 MiB buffers, so that a reader meets every namespace many times.
func WriteArchive(w io.Writer, ds *Dataset, gz bool, interleave bool) (err error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var out io.Writer = bw
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(bw)
		out = zw
	}
	aw := &archiveWriter{w: out}
	aw.u32(MagicNumber)
	aw.doc(mustMarshal(ArchiveHeader{
		ConcurrentCollections: ds.ConcurrentCollections,
		FormatVersion:         FormatVersion,
		ServerVersion:         ds.ServerVersion,
		ToolVersion:           ds.ToolVersion,
	}))
	all := ds.Collections
	if ds.Oplog != nil {
		all = append(append([]*Collection(nil), all...), ds.Oplog)
	}
	for _, c := range all {
		cm := CollectionMetadata{Database: c.DB, Collection: c.Name, Type: c.Type}
		if c != ds.Oplog {
			cm.Metadata = string(c.MetadataJSON())
		}
		aw.doc(mustMarshal(cm))
	}
	aw.u32(Terminator)

	if !interleave {
		for _, c := range all {
			st := &nsWriter{c: c}
			for st.next < c.NumDocs || !st.started {
				aw.segment(st, c.NumDocs)
			}
			aw.eof(st)
		}
	} else {
		r := rand.New(rand.NewPCG(uint64(len(all)), 0xa1c))
		pending := all
		var open []*nsWriter
		for len(open) > 0 || len(pending) > 0 {
			for len(open) < int(max(ds.ConcurrentCollections, 1)) && len(pending) > 0 {
				open = append(open, &nsWriter{c: pending[0]})
				pending = pending[1:]
			}
			k := r.IntN(len(open))
			st := open[k]
			if st.next >= st.c.NumDocs && st.started {
				if aw.current != st && r.IntN(3) == 0 {
					// mongodump's MuxIn.Close flushes its (here empty)
					// buffer, which opens a segment when another
					// namespace wrote last.
					aw.segment(st, 0)
				}
				aw.eof(st)
				open = append(open[:k], open[k+1:]...)
				continue
			}
			aw.segment(st, 1+r.IntN(3))
		}
	}
	if aw.current != nil {
		return errors.New("dumptest: internal error: archive ended inside a segment")
	}
	if aw.err != nil {
		return aw.err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

type nsWriter struct {
	c       *Collection
	next    int
	started bool
	crc     uint64
}

type archiveWriter struct {
	w       io.Writer
	err     error
	current *nsWriter
	buf     [4]byte
}

func (a *archiveWriter) write(b []byte) {
	if a.err == nil {
		_, a.err = a.w.Write(b)
	}
}

func (a *archiveWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(a.buf[:], v)
	a.write(a.buf[:])
}

func (a *archiveWriter) doc(b []byte) { a.write(b) }

// segment writes up to n documents of st, with a namespace header when
// another namespace's segment is open (mongodump's formatBody).
func (a *archiveWriter) segment(st *nsWriter, n int) {
	if a.current != st {
		if a.current != nil {
			a.u32(Terminator)
		}
		a.doc(mustMarshal(NamespaceHeader{Database: st.c.DB, Collection: st.c.DataCollection()}))
		a.current = st
	}
	st.started = true
	for ; n > 0 && st.next < st.c.NumDocs; n-- {
		d := st.c.Doc(st.next)
		st.crc = crc64.Update(st.crc, crcTable, d)
		a.doc(d)
		st.next++
	}
}

// eof ends the open segment and writes st's EOF block (formatEOF).
func (a *archiveWriter) eof(st *nsWriter) {
	if a.current != nil {
		a.u32(Terminator)
		a.current = nil
	}
	a.doc(mustMarshal(NamespaceHeader{Database: st.c.DB, Collection: st.c.DataCollection(), EOF: true, CRC: int64(st.crc)}))
	a.u32(Terminator)
}

// ArchiveBytes is WriteArchive into memory.
func ArchiveBytes(ds *Dataset, gz, interleave bool) []byte {
	var b bytesBuffer
	if err := WriteArchive(&b, ds, gz, interleave); err != nil {
		panic(fmt.Sprintf("dumptest: %v", err))
	}
	return b.b
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
