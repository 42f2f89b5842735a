package export

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/internal/dumptest"
)

// checkExtJSON requires appendExtJSON to write exactly the driver's
// canonical Extended JSON, or to leave the document to the driver.
func checkExtJSON(t *testing.T, doc []byte, mustHandle bool) {
	t.Helper()
	prefix := []byte("prefix")
	got, ok := appendExtJSON(bytes.Clone(prefix), doc)
	want, err := bson.MarshalExtJSON(bson.Raw(doc), true, false)
	if !ok {
		if !bytes.Equal(got, prefix) {
			t.Fatalf("appendExtJSON failed but changed dst to %q", got)
		}
		if mustHandle {
			t.Fatalf("appendExtJSON left %x to the driver (driver error: %v)", doc, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("appendExtJSON converted %x, which the driver refuses: %v", doc, err)
	}
	if !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("appendExtJSON(%x):\n got %s\nwant %s", doc, got[len(prefix):], want)
	}
}

func generatedDocs(yield func(bson.Raw)) {
	for _, opts := range []dumptest.Options{
		{Seed: 1, DocsPerCollection: 300, Oplog: true, AdminSystemVersion: true, BulkBytes: 64 << 10, BulkDocSize: 1000},
		{Seed: 2, DocsPerCollection: 100, ViewlessTimeseries: true},
	} {
		ds := dumptest.Generate(opts)
		colls := ds.Collections
		if ds.Oplog != nil {
			colls = append(colls, ds.Oplog)
		}
		for _, c := range colls {
			for _, d := range c.Docs() {
				yield(d)
			}
			var meta bson.Raw
			if err := bson.UnmarshalExtJSON(c.MetadataJSON(), true, &meta); err != nil {
				panic(err)
			}
			yield(meta)
		}
	}
}

func TestAppendExtJSONGenerated(t *testing.T) {
	n := 0
	generatedDocs(func(d bson.Raw) {
		if d == nil {
			return
		}
		checkExtJSON(t, d, true)
		n++
	})
	if n < 1000 {
		t.Fatalf("only %d documents", n)
	}
}

// TestAppendExtJSONRandom compares with the driver on random documents
// of every type, with strings of arbitrary bytes (invalid UTF-8, control
// characters, U+2028, HTML characters) and doubles of arbitrary bits.
func TestAppendExtJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		d := randomDoc(r, 0)
		doc, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		checkExtJSON(t, doc, true)
	}
}

func randomString(r *rand.Rand, noNUL bool) string {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f",
		"é", "日本", "\u2028", "\u2029", "\ufffd", "\xff", "\xc3", "\xe2\x80", "\U0001F600", "$", "."}
	var b []byte
	for range r.IntN(12) {
		s := alphabet[r.IntN(len(alphabet))]
		if noNUL && s == "\x00" {
			continue
		}
		b = append(b, s...)
	}
	return string(b)
}

func randomDoc(r *rand.Rand, depth int) bson.D {
	d := bson.D{}
	for range r.IntN(8) {
		d = append(d, bson.E{Key: randomString(r, true), Value: randomValue(r, depth)})
	}
	return d
}

func randomValue(r *rand.Rand, depth int) any {
	specialFloats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e21, 1e20, 1e-7, 1e-6, 123456789, 1.5e300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0x7ff8000000000001), float64(1 << 53)}
	switch k := r.IntN(24); k {
	case 0:
		return specialFloats[r.IntN(len(specialFloats))]
	case 1:
		return math.Float64frombits(r.Uint64())
	case 2:
		return randomString(r, false)
	case 3:
		if depth > 4 {
			return bson.D{}
		}
		return randomDoc(r, depth+1)
	case 4:
		if depth > 4 {
			return bson.A{}
		}
		a := bson.A{}
		for range r.IntN(5) {
			a = append(a, randomValue(r, depth+1))
		}
		return a
	case 5:
		data := make([]byte, r.IntN(20))
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		subtypes := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0xff, 0x2a}
		return bson.Binary{Subtype: subtypes[r.IntN(len(subtypes))], Data: data}
	case 6:
		return bson.Undefined{}
	case 7:
		var oid bson.ObjectID
		for i := range oid {
			oid[i] = byte(r.UintN(256))
		}
		return oid
	case 8:
		return r.IntN(2) == 0
	case 9:
		return bson.DateTime(int64(r.Uint64()))
	case 10:
		return nil
	case 11:
		opts := []byte("imxslu")
		r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
		return bson.Regex{Pattern: randomString(r, true), Options: string(opts[:r.IntN(len(opts)+1)])}
	case 12:
		var oid bson.ObjectID
		oid[11] = byte(r.UintN(256))
		// the driver does not escape a DBPointer's namespace: keep it plain
		return bson.DBPointer{DB: "db.coll" + string(rune('a'+r.IntN(26))), Pointer: oid}
	case 13:
		return bson.JavaScript(randomString(r, false))
	case 14:
		return bson.Symbol(randomString(r, false))
	case 15:
		if depth > 4 {
			return bson.CodeWithScope{Code: "x", Scope: bson.D{}}
		}
		return bson.CodeWithScope{Code: bson.JavaScript(randomString(r, false)), Scope: randomDoc(r, depth+1)}
	case 16:
		return int32(r.Uint32())
	case 17:
		return bson.Timestamp{T: r.Uint32(), I: r.Uint32()}
	case 18:
		return int64(r.Uint64())
	case 19:
		return bson.NewDecimal128(r.Uint64(), r.Uint64())
	case 20:
		decs := []string{"0", "-0", "1.5E+10", "NaN", "-Infinity", "0.000001", "1E-6176", "9.999999999999999999999999999999999E+6144"}
		d, _ := bson.ParseDecimal128(decs[r.IntN(len(decs))])
		return d
	case 21:
		return bson.MinKey{}
	case 22:
		return bson.MaxKey{}
	default:
		return int32(k)
	}
}

// FuzzAppendExtJSON feeds arbitrary bytes: whatever appendExtJSON
// converts must be what the driver writes.
func FuzzAppendExtJSON(f *testing.F) {
	generatedDocs(func(d bson.Raw) {
		if len(d) < 600 {
			f.Add([]byte(d))
		}
	})
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, ok := appendExtJSON(nil, doc)
		if !ok {
			return
		}
		want, err := bson.MarshalExtJSON(bson.Raw(doc), true, false)
		if err != nil {
			t.Fatalf("appendExtJSON converted %x, which the driver refuses: %v", doc, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendExtJSON(%x):\n got %s\nwant %s", doc, got, want)
		}
	})
}
