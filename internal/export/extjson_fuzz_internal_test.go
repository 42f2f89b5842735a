package export

import (
	"encoding/binary"
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzExtJSONGeneratedDocument builds a well-formed BSON document of every
// type the export writes from the input bytes and requires appendExtJSON to
// convert it, byte for byte as the driver's canonical Extended JSON without
// HTML escaping, which is what the export writes. Where FuzzAppendExtJSON
// mostly explores malformed BSON, this one explores values: strings of any
// bytes, doubles and decimals of any bits, nesting, every binary subtype.
func FuzzExtJSONGeneratedDocument(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x07\x00\x03key\x01\x00\x00\x00\x00\x00\x00\xf8\x7f"))
	// one field of each kind, its value's bytes taken from a pattern of
	// special bytes
	for kind := range byte(22) {
		f.Add([]byte{1, 1, 'k', kind, 9, 0xff, 0x01, 0x80, 0x3f, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0x22, 0x5c, 0x00, 0x7f, 0x10, 0x3c})
	}
	f.Add([]byte{3, 3, 1, 'a', 3, 2, 1, 'b', 4, 3, 0, 2, 5, 'x', '<', '>', '&', '"', 1, 'c', 15, 3, 'f', 'o', 'o', 1, 1, 'd', 16, 0x01, 0x00, 0x00, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &docGenerator{data: data}
		doc, err := bson.Marshal(g.document(0))
		if err != nil {
			t.Skipf("the driver refuses the document: %v", err)
		}
		checkExtJSON(t, doc, true)
	})
}

// docGenerator maps bytes to a document: each byte read chooses a length,
// a type or a value's bytes, and an exhausted input reads as zeros, which
// ends every document and string.
type docGenerator struct {
	data []byte
	pos  int
}

func (g *docGenerator) byte() byte {
	if g.pos >= len(g.data) {
		return 0
	}
	g.pos++
	return g.data[g.pos-1]
}

func (g *docGenerator) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = g.byte()
	}
	return b
}

func (g *docGenerator) uint64() uint64 { return binary.LittleEndian.Uint64(g.bytes(8)) }

// string reads a length, then that many bytes: any bytes, invalid UTF-8
// and control characters included; cstring leaves NUL out, which BSON
// keys, regular expressions and DBPointer namespaces cannot hold.
func (g *docGenerator) string(cstring bool) string {
	b := g.bytes(int(g.byte() % 16))
	if cstring {
		for i, c := range b {
			if c == 0 {
				b[i] = '0'
			}
		}
	}
	return string(b)
}

const maxGeneratedDepth = 6

func (g *docGenerator) document(depth int) bson.D {
	d := bson.D{}
	for range g.byte() % 8 {
		d = append(d, bson.E{Key: g.string(true), Value: g.value(depth)})
	}
	return d
}

// regexOptions are ASCII flags in any order; appendExtJSON leaves options
// with other bytes to the driver, which sorts them as runes.
func (g *docGenerator) regexOptions() string {
	b := g.bytes(int(g.byte() % 7))
	for i, c := range b {
		b[i] = 'a' + c%26
	}
	return string(b)
}

func (g *docGenerator) value(depth int) any {
	kind := g.byte() % 22
	if depth >= maxGeneratedDepth && (kind == 3 || kind == 4 || kind == 15) {
		kind = 0
	}
	switch kind {
	case 0:
		return math.Float64frombits(g.uint64())
	case 1:
		return g.string(false)
	case 2:
		return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1e21, 1e-7, math.MaxFloat64}[g.byte()%8]
	case 3:
		return g.document(depth + 1)
	case 4:
		a := bson.A{}
		for range g.byte() % 6 {
			a = append(a, g.value(depth+1))
		}
		return a
	case 5:
		sub := g.byte()
		data := g.bytes(int(g.byte() % 24))
		if sub == bson.TypeBinaryBinaryOld {
			// the old binary subtype starts with its own length; one that
			// disagrees is the driver's to convert
			data = append(binary.LittleEndian.AppendUint32(nil, uint32(len(data))), data...)
		}
		return bson.Binary{Subtype: sub, Data: data}
	case 6:
		return bson.Undefined{}
	case 7:
		return bson.ObjectID(g.bytes(12))
	case 8:
		return g.byte()%2 == 1
	case 9:
		return bson.DateTime(int64(g.uint64()))
	case 10:
		return nil
	case 11:
		return bson.Regex{Pattern: g.string(true), Options: g.regexOptions()}
	case 12:
		return bson.DBPointer{DB: g.string(true), Pointer: bson.ObjectID(g.bytes(12))}
	case 13:
		return bson.JavaScript(g.string(false))
	case 14:
		return bson.Symbol(g.string(false))
	case 15:
		return bson.CodeWithScope{Code: bson.JavaScript(g.string(false)), Scope: g.document(depth + 1)}
	case 16:
		return int32(binary.LittleEndian.Uint32(g.bytes(4)))
	case 17:
		b := g.bytes(8)
		return bson.Timestamp{T: binary.LittleEndian.Uint32(b[4:]), I: binary.LittleEndian.Uint32(b)}
	case 18:
		return int64(g.uint64())
	case 19:
		return bson.NewDecimal128(g.uint64(), g.uint64())
	case 20:
		return bson.MinKey{}
	default:
		return bson.MaxKey{}
	}
}
