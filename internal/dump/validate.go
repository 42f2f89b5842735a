package dump

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// maxDepth bounds document nesting (the server allows 200 levels).
const maxDepth = 1024

type bsonError struct {
	off int // offset in the document
	msg string
}

func (e *bsonError) Error() string { return fmt.Sprintf("%s at document byte %d", e.msg, e.off) }

// validateDocument checks that b is exactly one well-formed BSON document:
// lengths consistent at every level, known element types, terminated keys
// and strings, code-with-scope and old binary layouts. It does not check
// UTF-8, which the server does not guarantee for stored data.
func validateDocument(b []byte) error {
	n, err := validateDoc(b, 0, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return &bsonError{0, fmt.Sprintf("document length %d does not match its %d bytes", n, len(b))}
	}
	return nil
}

func le32(b []byte) int { return int(int32(binary.LittleEndian.Uint32(b))) }

// validateDoc validates the document at the start of b, which may be
// longer, and returns its length. base is the offset of b in the top-level
// document, for error offsets.
func validateDoc(b []byte, base, depth int) (int, error) {
	if depth > maxDepth {
		return 0, &bsonError{base, fmt.Sprintf("documents nested more than %d levels", maxDepth)}
	}
	if len(b) < 5 {
		return 0, &bsonError{base, "truncated embedded document"}
	}
	n := le32(b)
	if n < 5 || n > len(b) {
		return 0, &bsonError{base, fmt.Sprintf("invalid document length %d (%d bytes available)", n, len(b))}
	}
	if b[n-1] != 0 {
		return 0, &bsonError{base + n - 1, "document does not end with a null byte"}
	}
	end := n - 1
	i := 4
	for i < end {
		typ := b[i]
		elem := i
		i++
		k := bytes.IndexByte(b[i:end], 0)
		if k < 0 {
			return 0, &bsonError{base + elem, "unterminated element name"}
		}
		i += k + 1
		var size int
		switch typ {
		case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
			size = 8
		case 0x10: // int32
			size = 4
		case 0x13: // decimal128
			size = 16
		case 0x08: // bool
			if i < end && b[i] > 1 {
				return 0, &bsonError{base + i, fmt.Sprintf("invalid boolean value 0x%02x", b[i])}
			}
			size = 1
		case 0x06, 0x0A, 0x7F, 0xFF: // undefined, null, max key, min key
			size = 0
		case 0x07: // ObjectId
			size = 12
		case 0x02, 0x0D, 0x0E: // string, JavaScript, symbol
			s, err := validateString(b[i:end], base+i)
			if err != nil {
				return 0, err
			}
			size = s
		case 0x03, 0x04: // document, array
			s, err := validateDoc(b[i:end], base+i, depth+1)
			if err != nil {
				return 0, err
			}
			size = s
		case 0x05: // binary
			if end-i < 5 {
				return 0, &bsonError{base + elem, "truncated binary"}
			}
			l := le32(b[i:])
			if l < 0 || l > end-i-5 {
				return 0, &bsonError{base + i, fmt.Sprintf("invalid binary length %d", l)}
			}
			if b[i+4] == 0x02 && (l < 4 || le32(b[i+5:]) != l-4) {
				return 0, &bsonError{base + i, "invalid old binary (subtype 2) length"}
			}
			size = 5 + l
		case 0x0B: // regex: two cstrings
			p := bytes.IndexByte(b[i:end], 0)
			if p < 0 {
				return 0, &bsonError{base + elem, "unterminated regex pattern"}
			}
			o := bytes.IndexByte(b[i+p+1:end], 0)
			if o < 0 {
				return 0, &bsonError{base + elem, "unterminated regex options"}
			}
			size = p + 1 + o + 1
		case 0x0C: // DBPointer: string, ObjectId
			s, err := validateString(b[i:end], base+i)
			if err != nil {
				return 0, err
			}
			size = s + 12
		case 0x0F: // code with scope: int32 total, string, document
			if end-i < 4 {
				return 0, &bsonError{base + elem, "truncated code with scope"}
			}
			total := le32(b[i:])
			if total < 14 || total > end-i {
				return 0, &bsonError{base + i, fmt.Sprintf("invalid code with scope length %d", total)}
			}
			s, err := validateString(b[i+4:i+total], base+i+4)
			if err != nil {
				return 0, err
			}
			d, err := validateDoc(b[i+4+s:i+total], base+i+4+s, depth+1)
			if err != nil {
				return 0, err
			}
			if 4+s+d != total {
				return 0, &bsonError{base + i, "code with scope length does not match its content"}
			}
			size = total
		default:
			return 0, &bsonError{base + elem, fmt.Sprintf("unknown element type 0x%02x", typ)}
		}
		if size > end-i {
			return 0, &bsonError{base + elem, "element runs past the end of its document"}
		}
		i += size
	}
	return n, nil
}

// validateString checks a BSON string (int32 length including the trailing
// null, bytes, null) at the start of b and returns its size.
func validateString(b []byte, base int) (int, error) {
	if len(b) < 5 {
		return 0, &bsonError{base, "truncated string"}
	}
	l := le32(b)
	if l < 1 || l > len(b)-4 {
		return 0, &bsonError{base, fmt.Sprintf("invalid string length %d", l)}
	}
	if b[4+l-1] != 0 {
		return 0, &bsonError{base + 4 + l - 1, "string does not end with a null byte"}
	}
	return 4 + l, nil
}
