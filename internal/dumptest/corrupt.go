package dumptest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SectionKind names a part of the archive format.
type SectionKind int

// The parts of an archive, in the order they appear.
const (
	SectionMagic             SectionKind = iota // the 4-byte magic number
	SectionPreludeHeader                        // the prelude header document
	SectionPreludeCollection                    // one prelude collection document
	SectionPreludeTerminator                    // the terminator after the prelude
	SectionNamespaceHeader                      // a segment's namespace header (EOF false)
	SectionDocument                             // a document of a segment
	SectionTerminator                           // the terminator that ends a segment
	SectionEOFHeader                            // a namespace header with EOF true
	SectionEOFTerminator                        // the terminator that ends an EOF block
)

var sectionNames = [...]string{"magic", "prelude header", "prelude collection", "prelude terminator",
	"namespace header", "document", "terminator", "EOF header", "EOF terminator"}

func (k SectionKind) String() string {
	if int(k) < len(sectionNames) {
		return sectionNames[k]
	}
	return fmt.Sprintf("SectionKind(%d)", int(k))
}

// Section is one part of an (uncompressed) archive.
type Section struct {
	Kind      SectionKind
	Offset    int
	Len       int
	Namespace string // "db.collection" for blocks and prelude collections
}

// End is the offset just past the section.
func (s Section) End() int { return s.Offset + s.Len }

// Layout splits an uncompressed, well-formed archive into its sections. It
// is a minimal parser for building corrupt inputs, not a validator.
func Layout(archive []byte) ([]Section, error) {
	var out []Section
	if len(archive) < 4 || binary.LittleEndian.Uint32(archive) != MagicNumber {
		return nil, fmt.Errorf("dumptest: not an archive")
	}
	out = append(out, Section{Kind: SectionMagic, Offset: 0, Len: 4})
	off := 4
	next := func() (n int, term bool, err error) {
		if off+4 > len(archive) {
			return 0, false, fmt.Errorf("dumptest: truncated at %d", off)
		}
		v := binary.LittleEndian.Uint32(archive[off:])
		if v == Terminator {
			return 4, true, nil
		}
		if int(v) < 5 || off+int(v) > len(archive) {
			return 0, false, fmt.Errorf("dumptest: bad length %d at %d", v, off)
		}
		return int(v), false, nil
	}
	n, term, err := next()
	if err != nil || term {
		return nil, fmt.Errorf("dumptest: bad prelude header at %d: %v", off, err)
	}
	out = append(out, Section{Kind: SectionPreludeHeader, Offset: off, Len: n})
	off += n
	// block reads the next block's length; at a terminator it records it
	// as termKind and reports the end.
	block := func(termKind SectionKind, ns string) (n int, end bool, err error) {
		n, term, err := next()
		if err != nil || !term {
			return n, false, err
		}
		out = append(out, Section{Kind: termKind, Offset: off, Len: 4, Namespace: ns})
		off += 4
		return 0, true, nil
	}
	for {
		n, end, err := block(SectionPreludeTerminator, "")
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
		var cm CollectionMetadata
		if err := bson.Unmarshal(archive[off:off+n], &cm); err != nil {
			return nil, err
		}
		out = append(out, Section{Kind: SectionPreludeCollection, Offset: off, Len: n, Namespace: cm.Database + "." + cm.Collection})
		off += n
	}
	for off < len(archive) {
		n, term, err = next()
		if err != nil {
			return nil, err
		}
		if term {
			return nil, fmt.Errorf("dumptest: terminator without header at %d", off)
		}
		var h NamespaceHeader
		if err := bson.Unmarshal(archive[off:off+n], &h); err != nil {
			return nil, err
		}
		ns := h.Database + "." + h.Collection
		kind, termKind := SectionNamespaceHeader, SectionTerminator
		if h.EOF {
			kind, termKind = SectionEOFHeader, SectionEOFTerminator
		}
		out = append(out, Section{Kind: kind, Offset: off, Len: n, Namespace: ns})
		off += n
		for {
			n, end, err := block(termKind, ns)
			if err != nil {
				return nil, err
			}
			if end {
				break
			}
			out = append(out, Section{Kind: SectionDocument, Offset: off, Len: n, Namespace: ns})
			off += n
		}
	}
	return out, nil
}

// Truncate returns the first n bytes of b (a copy).
func Truncate(b []byte, n int) []byte {
	return append([]byte(nil), b[:n]...)
}

// FlipByte returns a copy of b with the byte at off inverted.
func FlipByte(b []byte, off int) []byte {
	c := append([]byte(nil), b...)
	c[off] ^= 0xff
	return c
}

// SetUint32 returns a copy of b with the little-endian uint32 at off set to
// v, e.g. to make a document claim an oversize length.
func SetUint32(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

// WrongCRC returns a copy of the uncompressed archive b where the CRC of the
// EOF header of namespace ns ("db.collection") is off by one, and the
// offset of that EOF header.
func WrongCRC(b []byte, ns string) ([]byte, int, error) {
	secs, err := Layout(b)
	if err != nil {
		return nil, 0, err
	}
	for _, s := range secs {
		if s.Kind != SectionEOFHeader || s.Namespace != ns {
			continue
		}
		// the CRC element is: 0x12 "CRC" 0x00 <8 bytes>
		i := bytes.Index(b[s.Offset:s.End()], []byte("\x12CRC\x00"))
		if i < 0 {
			return nil, 0, fmt.Errorf("dumptest: no CRC in EOF header of %s", ns)
		}
		at := s.Offset + i + 5
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint64(c[at:], binary.LittleEndian.Uint64(c[at:])+1)
		return c, s.Offset, nil
	}
	return nil, 0, fmt.Errorf("dumptest: no EOF header for %s", ns)
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TruncateFile cuts the file at path to n bytes.
func TruncateFile(path string, n int64) error { return os.Truncate(path, n) }

// FlipFileByte inverts the byte at off in the file at path.
func FlipFileByte(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return err
	}
	b[0] ^= 0xff
	_, err = f.WriteAt(b[:], off)
	return err
}
