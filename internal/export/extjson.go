package export

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// appendExtJSON appends the canonical Extended JSON of the BSON document
// doc, byte for byte what the Go driver's Extended JSON value writer
// (canonical, no HTML escaping) writes for it, without the driver's
// per-element allocations, which make it the export's bottleneck. ok is
// false, and dst unchanged, for anything it does not handle exactly as the
// driver does (malformed BSON, unknown types, an old binary whose two
// lengths disagree, deep nesting): the caller then uses the driver, so the
// output, or the error, is always the driver's. Tests compare the two on
// every generated document and on random ones.
func appendExtJSON(dst []byte, doc []byte) ([]byte, bool) {
	out, ok := appendDoc(dst, doc, false, 0)
	if !ok {
		return dst, false
	}
	return out, true
}

// maxDepth leaves pathological nesting to the driver.
const maxDepth = 200

func le32(b []byte) int { return int(int32(binary.LittleEndian.Uint32(b))) }

// appendDoc appends the document or array that is exactly b.
func appendDoc(dst, b []byte, array bool, depth int) ([]byte, bool) {
	if depth > maxDepth || len(b) < 5 || le32(b) != len(b) || b[len(b)-1] != 0 {
		return dst, false
	}
	if array {
		dst = append(dst, '[')
	} else {
		dst = append(dst, '{')
	}
	p := 4
	for first := true; ; first = false {
		if p >= len(b) {
			return dst, false
		}
		t := b[p]
		p++
		if t == 0 {
			if p != len(b) {
				return dst, false
			}
			break
		}
		k := bytes.IndexByte(b[p:], 0)
		if k < 0 {
			return dst, false
		}
		if !first {
			dst = append(dst, ',')
		}
		if !array {
			dst = appendString(dst, b[p:p+k])
			dst = append(dst, ':')
		}
		p += k + 1
		var ok bool
		dst, p, ok = appendValue(dst, t, b, p, depth)
		if !ok {
			return dst, false
		}
	}
	if array {
		return append(dst, ']'), true
	}
	return append(dst, '}'), true
}

// readString reads a BSON string at b[p:], as the driver does: a positive
// length including a final NUL.
func readString(b []byte, p int) (s []byte, next int, ok bool) {
	if p+4 > len(b) {
		return nil, p, false
	}
	n := le32(b[p:])
	if n <= 0 || n > len(b)-p-4 || b[p+4+n-1] != 0 {
		return nil, p, false
	}
	return b[p+4 : p+4+n-1], p + 4 + n, true
}

// appendValue appends the value of type t at b[p:] and returns the offset
// after it.
func appendValue(dst []byte, t byte, b []byte, p, depth int) ([]byte, int, bool) {
	need := func(n int) bool { return n >= 0 && p+n <= len(b) }
	switch bson.Type(t) {
	case bson.TypeDouble:
		if !need(8) {
			return dst, p, false
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b[p:]))
		dst = append(dst, `{"$numberDouble":"`...)
		dst = appendDouble(dst, f)
		return append(dst, `"}`...), p + 8, true
	case bson.TypeString:
		s, next, ok := readString(b, p)
		if !ok {
			return dst, p, false
		}
		return appendString(dst, s), next, true
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		if !need(4) {
			return dst, p, false
		}
		n := le32(b[p:])
		if !need(n) {
			return dst, p, false
		}
		out, ok := appendDoc(dst, b[p:p+n], bson.Type(t) == bson.TypeArray, depth+1)
		return out, p + n, ok
	case bson.TypeBinary:
		if !need(5) {
			return dst, p, false
		}
		n := le32(b[p:])
		sub := b[p+4]
		if !need(5 + n) {
			return dst, p, false
		}
		data := b[p+5 : p+5+n]
		if sub == 0x02 && n > 4 {
			// the driver reads the old binary's inner length and then that
			// many bytes: only a consistent one is handled here
			if le32(data) != n-4 {
				return dst, p, false
			}
			data = data[4:]
		}
		dst = append(dst, `{"$binary":{"base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, data)
		dst = append(dst, `","subType":"`...)
		dst = append(dst, hexDigits[sub>>4], hexDigits[sub&15])
		return append(dst, `"}}`...), p + 5 + n, true
	case bson.TypeUndefined:
		return append(dst, `{"$undefined":true}`...), p, true
	case bson.TypeObjectID:
		if !need(12) {
			return dst, p, false
		}
		dst = append(dst, `{"$oid":"`...)
		dst = hex.AppendEncode(dst, b[p:p+12])
		return append(dst, `"}`...), p + 12, true
	case bson.TypeBoolean:
		if !need(1) || b[p] > 1 {
			return dst, p, false
		}
		if b[p] == 1 {
			return append(dst, "true"...), p + 1, true
		}
		return append(dst, "false"...), p + 1, true
	case bson.TypeDateTime:
		if !need(8) {
			return dst, p, false
		}
		dst = append(dst, `{"$date":{"$numberLong":"`...)
		dst = strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(b[p:])), 10)
		return append(dst, `"}}`...), p + 8, true
	case bson.TypeNull:
		return append(dst, "null"...), p, true
	case bson.TypeRegex:
		k := bytes.IndexByte(b[p:], 0)
		if k < 0 {
			return dst, p, false
		}
		pattern := b[p : p+k]
		p += k + 1
		k = bytes.IndexByte(b[p:], 0)
		if k < 0 {
			return dst, p, false
		}
		options := b[p : p+k]
		p += k + 1
		for _, c := range options {
			// the driver sorts options as runes, turning invalid UTF-8
			// into U+FFFD first: leave that to it
			if c >= utf8.RuneSelf {
				return dst, p, false
			}
		}
		dst = append(dst, `{"$regularExpression":{"pattern":`...)
		dst = appendString(dst, pattern)
		dst = append(dst, `,"options":`...)
		if len(options) > 1 && !slices.IsSorted(options) {
			options = slices.Clone(options)
			slices.Sort(options)
		}
		dst = appendString(dst, options)
		return append(dst, `}}`...), p, true
	case bson.TypeDBPointer:
		ns, next, ok := readString(b, p)
		if !ok || next+12 > len(b) {
			return dst, p, false
		}
		// the driver writes the namespace without escaping it
		dst = append(dst, `{"$dbPointer":{"$ref":"`...)
		dst = append(dst, ns...)
		dst = append(dst, `","$id":{"$oid":"`...)
		dst = hex.AppendEncode(dst, b[next:next+12])
		return append(dst, `"}}}`...), next + 12, true
	case bson.TypeJavaScript, bson.TypeSymbol:
		s, next, ok := readString(b, p)
		if !ok {
			return dst, p, false
		}
		if bson.Type(t) == bson.TypeJavaScript {
			dst = append(dst, `{"$code":`...)
		} else {
			dst = append(dst, `{"$symbol":`...)
		}
		dst = appendString(dst, s)
		return append(dst, '}'), next, true
	case bson.TypeCodeWithScope:
		if !need(4) {
			return dst, p, false
		}
		total := le32(b[p:])
		code, next, ok := readString(b, p+4)
		if !ok || next+4 > len(b) {
			return dst, p, false
		}
		n := le32(b[next:])
		if n < 5 || next+n > len(b) || total != next+n-p {
			return dst, p, false
		}
		dst = append(dst, `{"$code":`...)
		dst = appendString(dst, code)
		dst = append(dst, `,"$scope":`...)
		dst, ok = appendDoc(dst, b[next:next+n], false, depth+1)
		return append(dst, '}'), next + n, ok
	case bson.TypeInt32:
		if !need(4) {
			return dst, p, false
		}
		dst = append(dst, `{"$numberInt":"`...)
		dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b[p:]))), 10)
		return append(dst, `"}`...), p + 4, true
	case bson.TypeTimestamp:
		if !need(8) {
			return dst, p, false
		}
		dst = append(dst, `{"$timestamp":{"t":`...)
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[p+4:])), 10)
		dst = append(dst, `,"i":`...)
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[p:])), 10)
		return append(dst, `}}`...), p + 8, true
	case bson.TypeInt64:
		if !need(8) {
			return dst, p, false
		}
		dst = append(dst, `{"$numberLong":"`...)
		dst = strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(b[p:])), 10)
		return append(dst, `"}`...), p + 8, true
	case bson.TypeDecimal128:
		if !need(16) {
			return dst, p, false
		}
		d := bson.NewDecimal128(binary.LittleEndian.Uint64(b[p+8:]), binary.LittleEndian.Uint64(b[p:]))
		dst = append(dst, `{"$numberDecimal":"`...)
		dst = append(dst, d.String()...)
		return append(dst, `"}`...), p + 16, true
	case bson.TypeMinKey:
		return append(dst, `{"$minKey":1}`...), p, true
	case bson.TypeMaxKey:
		return append(dst, `{"$maxKey":1}`...), p, true
	}
	return dst, p, false
}

const hexDigits = "0123456789abcdef"

// appendDouble is the driver's formatDouble: 'G' with the fewest digits,
// ".0" added to integers.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'G', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'E' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

// jsonSafe marks the ASCII bytes written as they are: printable ones but
// '"' and '\\' (HTML characters are not escaped).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString quotes s as the driver's writeStringWithEscapes does
// without HTML escaping: \" \\ \n \r \t \b \f, \u00XX for other control
// bytes, \ufffd for each invalid UTF-8 byte, \u2028 and \u2029 escaped.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&15])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
