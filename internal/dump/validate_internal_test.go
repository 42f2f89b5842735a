package dump

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dumptest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestValidateGenerated(t *testing.T) {
	ds := dumptest.Generate(dumptest.Options{Seed: 9, Oplog: true, AdminSystemVersion: true})
	for _, c := range append(ds.Collections, ds.Oplog) {
		for i, d := range c.Docs() {
			if err := validateDocument(d); err != nil {
				t.Fatalf("%s #%d: %v", c.Namespace(), i, err)
			}
		}
		for _, idx := range c.Indexes {
			if err := validateDocument(idx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Whatever our validator accepts, the driver can read.
func TestValidateAgreesWithDriver(t *testing.T) {
	doc := dumptest.Generate(dumptest.Options{Seed: 9}).Lookup("app", "types").Doc(0)
	for off := 0; off < len(doc); off++ {
		for _, x := range []byte{0xff, 0x01, 0x80} {
			bad := append([]byte(nil), doc...)
			bad[off] ^= x
			if validateDocument(bad) != nil {
				continue
			}
			if err := bson.Raw(bad).Validate(); err != nil {
				t.Errorf("flip 0x%02x at %d: accepted, but the driver says %v", x, off, err)
			}
			var d bson.D
			if err := bson.Unmarshal(bad, &d); err != nil && !strings.Contains(err.Error(), "UTF-8") {
				t.Errorf("flip 0x%02x at %d: accepted, but the driver cannot decode it: %v", x, off, err)
			}
		}
	}
	// every strict prefix, with its length fixed up, is rejected
	for n := 5; n < len(doc); n++ {
		bad := append([]byte(nil), doc[:n]...)
		binary.LittleEndian.PutUint32(bad, uint32(n))
		bad[n-1] = 0
		if validateDocument(bad) == nil {
			if _, err := bson.Raw(bad).Elements(); err != nil {
				t.Errorf("prefix %d accepted but the driver says %v", n, err)
			}
		}
	}
}

func TestValidateRejects(t *testing.T) {
	d := func(parts ...string) []byte {
		body := strings.Join(parts, "")
		b := binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)+1))
		b = append(b, body...)
		return append(b, 0)
	}
	i32 := func(v int) string { return string(binary.LittleEndian.AppendUint32(nil, uint32(v))) }
	cases := map[string][]byte{
		"short":             {5, 0, 0},
		"length too big":    {9, 0, 0, 0, 0},
		"length too small":  {4, 0, 0, 0, 0},
		"no terminator":     {5, 0, 0, 0, 1},
		"trailing bytes":    append(d(), 0),
		"unknown type":      d("\x14a\x00"),
		"zero type":         d("\x00a\x00"),
		"key unterminated":  d("\x10abc"),
		"int32 short":       d("\x10a\x00\x01\x02"),
		"bad bool":          d("\x08a\x00\x02"),
		"string no null":    d("\x02a\x00", i32(2), "xy"),
		"string len 0":      d("\x02a\x00", i32(0), "\x00"),
		"string too long":   d("\x02a\x00", i32(100), "x\x00"),
		"binary too long":   d("\x05a\x00", i32(10), "\x00abc"),
		"binary negative":   d("\x05a\x00", i32(-1), "\x00"),
		"old binary":        d("\x05a\x00", i32(6), "\x02", i32(5), "xy"),
		"nested too long":   d("\x03a\x00", i32(50), "\x00"),
		"nested no null":    d("\x03a\x00", i32(6), "x\x01"),
		"regex":             d("\x0ba\x00abc"),
		"dbpointer short":   d("\x0ca\x00", i32(2), "x\x00", "12345"),
		"cws mismatch":      d("\x0fa\x00", i32(30), i32(2), "x\x00", i32(5), "\x00"),
		"cws short":         d("\x0fa\x00", i32(3)),
		"objectid short":    d("\x07a\x00", "12345"),
		"decimal short":     d("\x13a\x00", "12345678"),
		"double past end":   d("\x01a\x00", "1234567"),
		"timestamp missing": d("\x11a\x00"),
	}
	for name, b := range cases {
		if err := validateDocument(b); err == nil {
			t.Errorf("%s: %x accepted", name, b)
		}
	}
	// build nested {a:{a:{...}}} deeper than maxDepth
	inner := d()
	for i := 0; i < maxDepth+2; i++ {
		inner = d("\x03a\x00", string(inner))
	}
	if err := validateDocument(inner); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("deep nesting: %v", err)
	}
	ok := d("\x0fa\x00", i32(4+6+5), i32(2), "x\x00", i32(5), "\x00")
	if err := validateDocument(ok); err != nil {
		t.Errorf("code with scope: %v", err)
	}
}
