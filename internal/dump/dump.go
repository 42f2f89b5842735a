// Package dump reads mongodump output, a dump directory (mongodump --out,
// with or without --gzip) or an archive (mongodump --archive, gzipped or
// not), as one stream of documents plus the collections' metadata.
//
// Both sources stream: memory use is bounded by the largest document (at
// most MaxDocumentSize) plus fixed buffers, whatever the size of the dump.
// Archives may interleave the documents of several namespaces; Next returns
// each document with its namespace, in archive order, so the documents of
// one namespace come in dump order. The CRC-64 of every archive namespace is
// checked at its EOF block.
//
// Every problem with the input is reported as a *FormatError naming the file
// and the byte offset. Documents are handed out before the end of the input
// is checked (a CRC is only known at the namespace's EOF block, a gzip
// checksum at the end of the stream): callers must treat what they received
// as provisional and discard it unless Next eventually returns io.EOF.
package dump

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const (
	// MaxBSONSize is the server's maximum document size (16 MiB), which is
	// also mongo-tools' db.MaxBSONSize.
	MaxBSONSize = 16 * 1024 * 1024
	// MaxDocumentSize is the largest document the readers accept:
	// MaxBSONSize plus the 16 KiB of slack mongorestore allows for oplog
	// entries (BSONObjMaxInternalSize). mongorestore's archive parser stops
	// at MaxBSONSize; accepting the slack everywhere is deliberate.
	MaxDocumentSize = MaxBSONSize + 16*1024
	// MaxMetadataSize bounds a metadata.json file.
	MaxMetadataSize = 64 * 1024 * 1024

	// ArchiveMagic is the little-endian number that starts an archive.
	ArchiveMagic uint32 = 0x8199e26d
	terminator   uint32 = 0xffffffff
)

// Collection types in metadata and in the archive prelude. mongodump 100.x
// writes the listCollections type, "collection" for an ordinary collection;
// older dumps have none ("").
const (
	TypeCollection = "collection"
	TypeView       = "view"
	TypeTimeseries = "timeseries"
)

// Namespace names a collection.
type Namespace struct {
	DB         string
	Collection string
}

func (n Namespace) String() string { return n.DB + "." + n.Collection }

// IsSystem reports whether the namespace is internal to the server: in the
// admin, config or local database, or a system.* collection. Such
// collections (e.g. admin.system.version in a full dump) are reported like
// any other; importers usually skip them.
func (n Namespace) IsSystem() bool {
	switch n.DB {
	case "admin", "config", "local":
		return true
	}
	return strings.HasPrefix(n.Collection, "system.")
}

// Collection describes one collection of the dump.
type Collection struct {
	Namespace
	// Metadata is parsed from <coll>.metadata.json or the archive prelude;
	// zero when the dump has none for the collection.
	Metadata Metadata
	// DataCollection is the collection whose documents the dump holds:
	// the collection itself, system.buckets.<name> for a time-series
	// collection (whose documents are therefore buckets), "" for a view.
	DataCollection string
	// Count and Size are the number of documents and their total size in
	// bytes read so far; they are final once Next has returned io.EOF.
	Count int64
	Size  int64
}

// IsView reports whether the collection is a view (metadata only, no data).
func (c Collection) IsView() bool { return c.Metadata.Type == TypeView }

// IsTimeseries reports whether the collection is a time-series collection.
func (c Collection) IsTimeseries() bool { return c.Metadata.Type == TypeTimeseries }

// Info describes a dump.
type Info struct {
	// Format is "archive" or "directory" ("capture" for a deployment read
	// through the MongoDB driver).
	Format string
	// Name is the archive name given to OpenArchive or the directory.
	Name string
	// Gzip is true if the archive, or any file of the directory, is gzipped.
	Gzip bool
	// From the archive prelude header, or prelude.json of a directory.
	FormatVersion         string
	ServerVersion         string
	ToolVersion           string
	ConcurrentCollections int
}

// Source is a mongodump directory or archive being read.
type Source interface {
	// Info describes the dump.
	Info() Info
	// Collections lists the collections of the dump, views included, in
	// dump order. The oplog and files mongorestore ignores are not listed
	// (see Notes). Count and Size are final after Next returned io.EOF.
	Collections() []Collection
	// Next returns the next document and the collection it belongs to (for
	// a time-series collection, the collection, not system.buckets.*).
	// The document is only valid until the next call of Next. At the end it
	// returns io.EOF, after every check of the input passed; any other
	// error is returned again by later calls, and is a *FormatError when
	// the source is a dump (a capture of a deployment says what failed
	// its own way).
	Next() (Namespace, bson.Raw, error)
	// Notes lists what was seen but skipped (prelude.json, the oplog,
	// unknown files, ...).
	Notes() []string
	// Close releases the files. It does not close the reader given to
	// OpenArchive.
	Close() error
}

// description is what a Source tells of its dump besides the documents,
// for both forms of dump.
type description struct {
	info  Info
	colls []Collection
	notes []string
}

func (d *description) Info() Info      { return d.info }
func (d *description) Notes() []string { return append([]string(nil), d.notes...) }

func (d *description) Collections() []Collection {
	out := make([]Collection, len(d.colls))
	copy(out, d.colls)
	return out
}

func (d *description) note(format string, args ...any) {
	d.notes = append(d.notes, fmt.Sprintf(format, args...))
}

// FormatError reports bad input.
type FormatError struct {
	// File is the archive name given to OpenArchive ("-" for stdin) or the
	// path of the file of a dump directory.
	File string
	// Offset is the byte offset of the faulty part; in the decompressed
	// stream when Uncompressed is true; -1 when unknown.
	Offset       int64
	Uncompressed bool
	// Namespace is "db.collection" when the fault is in one.
	Namespace string
	Reason    string
	// Err is the underlying error, if any.
	Err error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("dump: ")
	b.WriteString(e.File)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, ": offset %d", e.Offset)
		if e.Uncompressed {
			b.WriteString(" (of the gunzipped stream)")
		}
	}
	if e.Namespace != "" {
		b.WriteString(": ")
		b.WriteString(e.Namespace)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// Open opens path as a dump directory if it is one, as an archive file
// otherwise; "-" reads an archive from standard input.
func Open(path string) (Source, error) {
	if path == "-" {
		return OpenArchive(os.Stdin, "-")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return OpenDir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	src, err := OpenArchive(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	src.(*archiveReader).closer = f
	return src, nil
}

var errClosed = errors.New("dump: source closed")

func readAllLimited(r io.Reader, limit int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		return nil, true, nil
	}
	return b, false, nil
}
