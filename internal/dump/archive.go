package dump

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc64"
	"io"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// nsState follows one data namespace of an archive.
type nsState struct {
	name   string // data namespace as in block headers, for errors
	key    string // nsKey of the data namespace
	coll   int    // index in archiveReader.colls; -1 when ignored (oplog)
	ns     Namespace
	crc    uint64
	opened bool
	closed bool
	view   bool // no documents expected
}

type archiveReader struct {
	description
	s      *stream
	closer io.Closer
	states []*nsState
	byNS   map[string]*nsState // by nsKey(db, collection)
	key    []byte
	cur    *nsState
	err    error
	done   bool
}

// OpenArchive reads the magic number and the prelude of a mongodump
// archive from r, gunzipping it first when it starts with a gzip header.
// name identifies the archive in errors ("-" for standard input).
func OpenArchive(r io.Reader, name string) (Source, error) {
	br := bufio.NewReaderSize(r, bufSize)
	head, _ := br.Peek(4)
	if len(head) == 0 {
		return nil, &FormatError{File: name, Offset: 0, Reason: "unknown format: the input is empty"}
	}
	gz := isGzip(head)
	if !gz && (len(head) < 4 || binary.LittleEndian.Uint32(head) != ArchiveMagic) {
		return nil, &FormatError{File: name, Offset: 0, Reason: "unknown format: " + describe(br)}
	}
	s, err := newStream(br, name, &gz)
	if err != nil {
		return nil, err
	}
	a := &archiveReader{s: s, byNS: map[string]*nsState{},
		description: description{info: Info{Format: "archive", Name: name, Gzip: gz}}}
	if err := a.readPrelude(); err != nil {
		return nil, err
	}
	return a, nil
}

// describe guesses what a non-archive input is, for the error message.
func describe(br *bufio.Reader) string {
	head, _ := br.Peek(512)
	switch {
	case len(head) < 4:
		var magic [4]byte
		binary.LittleEndian.PutUint32(magic[:], ArchiveMagic)
		if string(magic[:len(head)]) == string(head) {
			return fmt.Sprintf("truncated input: %d bytes are too short for a mongodump archive", len(head))
		}
		return fmt.Sprintf("%d bytes are too short for a mongodump archive", len(head))
	case string(head[:4]) == "PK\x03\x04":
		return "this is a ZIP file, not a mongodump archive"
	case string(head[:4]) == "\x28\xb5\x2f\xfd":
		return "this is a zstd stream, not a mongodump archive (only gzip compression is supported)"
	case string(head[:3]) == "BZh":
		return "this looks like a bzip2 stream, not a mongodump archive (only gzip compression is supported)"
	}
	if n := le32(head); n >= 5 && n <= MaxDocumentSize && len(head) > 4 && head[4] <= 0x13 && head[4] != 0 {
		return fmt.Sprintf("this looks like a raw BSON file (a first document of %d bytes), not a mongodump archive; read dump directories with OpenDir", n)
	}
	text := utf8.Valid(head)
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			text = false
		}
	}
	if text {
		return "this is text, not a mongodump archive"
	}
	return fmt.Sprintf("magic number 0x%08x is not the archive magic number 0x%08x", binary.LittleEndian.Uint32(head), ArchiveMagic)
}

func (a *archiveReader) readPrelude() error {
	var magic [4]byte
	if _, err := a.s.readFull(magic[:]); err != nil {
		return a.s.readErr(0, "", "the magic number", err)
	}
	if v := binary.LittleEndian.Uint32(magic[:]); v != ArchiveMagic {
		return a.s.errAt(0, "", "unknown format: magic number 0x%08x is not the archive magic number 0x%08x", v, ArchiveMagic)
	}
	doc, term, start, err := a.readExpected("", "the prelude header", "after the magic number, before the prelude")
	if err != nil {
		return err
	}
	if term {
		return a.s.errAt(start, "", "terminator where the prelude header was expected")
	}
	if err := a.parseHeader(doc); err != nil {
		return a.s.errAt(start, "", "invalid prelude header: %v", err)
	}
	for {
		doc, term, start, err := a.readExpected("", "a prelude entry", "inside the prelude (no terminator)")
		if err != nil {
			return err
		}
		if term {
			return nil
		}
		if err := a.addPreludeCollection(doc, start); err != nil {
			return err
		}
	}
}

func (a *archiveReader) parseHeader(doc bson.Raw) error {
	elems, err := doc.Elements()
	if err != nil {
		return err
	}
	for _, e := range elems {
		v := e.Value()
		var ok bool
		switch e.Key() {
		case "concurrent_collections":
			var n int64
			n, ok = v.AsInt64OK()
			a.info.ConcurrentCollections = int(n)
		case "version":
			a.info.FormatVersion, ok = v.StringValueOK()
		case "server_version":
			a.info.ServerVersion, ok = v.StringValueOK()
		case "tool_version":
			a.info.ToolVersion, ok = v.StringValueOK()
		default:
			ok = true
		}
		if !ok {
			return fmt.Errorf("field %q has type %s", e.Key(), v.Type)
		}
	}
	return nil
}

func (a *archiveReader) addPreludeCollection(doc bson.Raw, start int64) error {
	var db, coll, meta, typ string
	elems, err := doc.Elements()
	if err != nil {
		return a.s.errAt(start, "", "invalid prelude collection document: %v", err)
	}
	for _, e := range elems {
		v := e.Value()
		var ok bool
		switch e.Key() {
		case "db":
			db, ok = v.StringValueOK()
		case "collection":
			coll, ok = v.StringValueOK()
		case "metadata":
			meta, ok = v.StringValueOK()
		case "type":
			typ, ok = v.StringValueOK()
		case "size":
			_, ok = v.AsInt64OK()
		default:
			ok = true
		}
		if !ok {
			return a.s.errAt(start, "", "invalid prelude collection document: field %q has type %s", e.Key(), v.Type)
		}
	}
	ns := Namespace{db, coll}
	if coll == "" {
		return a.s.errAt(start, "", "prelude collection document without a collection name")
	}
	if _, dup := a.byNS[nsKey(ns)]; dup {
		return a.s.errAt(start, ns.String(), "namespace listed twice in the prelude")
	}
	if db == "" {
		// the oplog (mongodump --oplog) is the "oplog" collection of the "" database
		st := &nsState{name: ns.String(), key: nsKey(ns), coll: -1, ns: ns}
		a.states = append(a.states, st)
		a.byNS[nsKey(ns)] = st
		a.note("%s: ignoring the %q namespace of the archive (the oplog is not imported)", a.s.name, coll)
		return nil
	}
	if strings.HasPrefix(coll, "$") {
		// users, roles and auth version of mongodump --dumpDbUsersAndRoles,
		// which mongorestore skips in a full restore
		st := &nsState{name: ns.String(), key: nsKey(ns), coll: -1, ns: ns}
		a.states = append(a.states, st)
		a.byNS[nsKey(ns)] = st
		a.note("%s: skipping %s (users, roles or auth version of mongodump --dumpDbUsersAndRoles)", a.s.name, ns)
		return nil
	}
	if err := ValidateNamespace(ns); err != nil {
		fe := invalidNamespace(a.s.name, start, ns, err)
		fe.Uncompressed = a.s.gz
		return fe
	}
	md, err := ParseMetadata([]byte(meta))
	if err != nil {
		fe := a.s.errAt(start, ns.String(), "metadata of the prelude: %v", err)
		fe.Err = err
		return fe
	}
	if typ == "" {
		typ = md.Type
	}
	if md.Type == "" {
		md.Type = typ
	}
	c := Collection{Namespace: ns, Metadata: md, DataCollection: coll}
	st := &nsState{name: ns.String(), key: nsKey(ns), coll: len(a.colls), ns: ns}
	keys := []Namespace{ns}
	switch {
	case typ == TypeTimeseries:
		// mongodump writes the buckets under system.buckets.<name>
		// (servers after 8.3 without the view: under the name itself)
		c.DataCollection = "system.buckets." + coll
		keys = append(keys, Namespace{db, c.DataCollection})
		st.name = db + "." + c.DataCollection
		st.key = nsKey(Namespace{db, c.DataCollection})
	case typ == TypeView && md.isViewsAsCollections():
		a.note("%s: %s is a view dumped with --viewsAsCollections; reading it as a collection", a.s.name, ns)
		c.Metadata.Type = TypeCollection
	case typ == TypeView:
		c.DataCollection = ""
		st.view = true
	}
	for _, k := range keys {
		if _, dup := a.byNS[nsKey(k)]; dup {
			return a.s.errAt(start, k.String(), "namespace listed twice in the prelude")
		}
		a.byNS[nsKey(k)] = st
	}
	a.colls = append(a.colls, c)
	a.states = append(a.states, st)
	return nil
}

func (a *archiveReader) Close() error {
	if a.err == nil {
		a.err = errClosed
	}
	var err error
	if a.s != nil {
		err = a.s.close()
	}
	if a.closer != nil {
		if cerr := a.closer.Close(); err == nil {
			err = cerr
		}
		a.closer = nil
	}
	return err
}

func (a *archiveReader) fail(err error) (Namespace, bson.Raw, error) {
	a.err = err
	return Namespace{}, nil, err
}

func (a *archiveReader) Next() (Namespace, bson.Raw, error) {
	if a.err != nil {
		return Namespace{}, nil, a.err
	}
	if a.done {
		return Namespace{}, nil, io.EOF
	}
	for {
		if a.cur == nil {
			if err := a.readHeader(); err != nil {
				if err == io.EOF {
					if err := a.finish(); err != nil {
						return a.fail(err)
					}
					a.done = true
					return Namespace{}, nil, io.EOF
				}
				return a.fail(err)
			}
			continue
		}
		st := a.cur
		doc, term, start, err := a.readExpected(st.name, "a document", "inside a block (no terminator)")
		if err != nil {
			return a.fail(err)
		}
		if term {
			a.cur = nil
			continue
		}
		if st.view {
			return a.fail(a.s.errAt(start, st.name, "a document in the blocks of a view"))
		}
		st.crc = crc64.Update(st.crc, crcTable, doc)
		if st.coll < 0 {
			continue
		}
		c := &a.colls[st.coll]
		c.Count++
		c.Size += int64(len(doc))
		return st.ns, doc, nil
	}
}

// readExpected reads an item (see stream.readItem) that the archive must
// have: an archive that ends before it is truncated, and ends says where.
func (a *archiveReader) readExpected(ns, what, ends string) (doc []byte, isTerm bool, start int64, err error) {
	doc, isTerm, start, err = a.s.readItem(true, ns, what)
	if err == io.EOF {
		err = a.s.errAt(start, ns, "truncated input: the archive ends %s", ends)
	}
	return doc, isTerm, start, err
}

// readHeader reads the header of the next block; io.EOF when the archive
// ends cleanly. An EOF block (header and terminator) is consumed whole.
func (a *archiveReader) readHeader() error {
	doc, term, start, err := a.s.readItem(true, "", "a namespace header")
	if err != nil {
		return err
	}
	if term {
		return a.s.errAt(start, "", "terminator where a namespace header was expected (consecutive terminators)")
	}
	// mongodump always writes the four fields {db, collection, EOF, CRC}
	// (common/archive NamespaceHeader); anything else is corruption. The
	// document is already validated; this walks it without allocating.
	var db, coll []byte
	var eof bool
	var crc int64
	var seen [4]bool
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		e, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return a.s.errAt(start, "", "invalid namespace header")
		}
		rest = r
		key, v := e.KeyBytes(), e.Value()
		var i int
		switch string(key) {
		case "db":
			db, ok = stringBytes(v)
		case "collection":
			coll, ok = stringBytes(v)
			i = 1
		case "EOF":
			eof, ok = v.BooleanOK()
			i = 2
		case "CRC":
			crc, ok = v.Int64OK()
			i = 3
		default:
			return a.s.errAt(start, "", "invalid namespace header: unexpected field %q", key)
		}
		if !ok {
			return a.s.errAt(start, "", "invalid namespace header: field %q has type %s", key, v.Type)
		}
		if seen[i] {
			return a.s.errAt(start, "", "invalid namespace header: field %q repeated", key)
		}
		seen[i] = true
	}
	if seen != [4]bool{true, true, true, true} {
		return a.s.errAt(start, "", "invalid namespace header: it needs the fields db, collection, EOF and CRC")
	}
	if len(coll) == 0 {
		return a.s.errAt(start, "", "invalid namespace header: empty collection name")
	}
	a.key = append(append(append(a.key[:0], db...), 0), coll...)
	st := a.byNS[string(a.key)]
	if st == nil || !eof && crc != 0 || st.closed || st.opened && st.key != string(a.key) {
		return a.headerError(start, string(db)+"."+string(coll), st, eof, crc)
	}
	if !st.opened && st.key != string(a.key) {
		// a time-series collection whose buckets are under its own name
		// (servers after 8.3) rather than system.buckets.<name>
		st.key, st.name = string(a.key), string(db)+"."+string(coll)
		if st.coll >= 0 {
			a.colls[st.coll].DataCollection = string(coll)
		}
	}
	name := st.name
	st.opened = true
	if !eof {
		a.cur = st
		return nil
	}
	if int64(st.crc) != crc {
		return a.s.errAt(start, name, "CRC mismatch: the documents of the namespace have CRC-64 %d but its EOF header says %d", int64(st.crc), crc)
	}
	st.closed = true
	_, term, tstart, err := a.readExpected(name, "the terminator of an EOF block", "after an EOF header, before its terminator")
	if err != nil {
		return err
	}
	if !term {
		return a.s.errAt(tstart, name, "a document after the namespace's EOF header")
	}
	return nil
}

// finish checks, at the clean end of the archive, that every namespace of
// the prelude was completed by an EOF block.
func (a *archiveReader) headerError(start int64, name string, st *nsState, eof bool, crc int64) error {
	switch {
	case st == nil:
		return a.s.errAt(start, name, "a block for a namespace that is not in the archive prelude")
	case !eof && crc != 0:
		return a.s.errAt(start, name, "invalid namespace header: CRC %d in a header that is not an EOF header (always 0)", crc)
	case st.closed:
		return a.s.errAt(start, name, "a block after the namespace's EOF block")
	default:
		return a.s.errAt(start, name, "blocks for both %s and %s", st.name, name)
	}
}

func nsKey(ns Namespace) string { return ns.DB + "\x00" + ns.Collection }

// stringBytes returns the bytes of a BSON string value, without its null.
func stringBytes(v bsoncore.Value) ([]byte, bool) {
	if v.Type != bsoncore.TypeString || len(v.Data) < 5 {
		return nil, false
	}
	return v.Data[4 : len(v.Data)-1], true
}

func (a *archiveReader) finish() error {
	var open, missing []string
	for _, st := range a.states {
		switch {
		case st.opened && !st.closed:
			open = append(open, st.name)
		case !st.opened:
			missing = append(missing, st.name)
		}
	}
	if len(open) > 0 {
		return a.s.errAt(a.s.pos, strings.Join(open, ", "), "truncated input: the archive ends before the EOF block of %d namespace(s)", len(open))
	}
	if len(missing) > 0 {
		return a.s.errAt(a.s.pos, strings.Join(missing, ", "), "truncated input: the archive ends before any block of %d namespace(s) of the prelude", len(missing))
	}
	return nil
}
