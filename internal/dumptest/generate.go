// Package dumptest generates deterministic mongodump-format fixtures: a
// dataset of databases, collections, metadata and documents covering every
// BSON type, and writers that lay it out exactly as mongodump 100.x does,
// as a dump directory (--out, optionally --gzip) or as an archive
// (--archive, optionally --gzip, with interleaved namespaces). It also has
// helpers that corrupt archives for negative tests.
//
// The package deliberately does not import the reader (package dump): it is
// an independent implementation of the format, so that the reader's tests
// check one implementation against another.
//
// Documents are generated lazily from (seed, collection, index), so datasets
// far larger than memory can be written and compared without materializing
// them.
package dumptest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Collection types as mongodump writes them in metadata ("type") and in the
// archive prelude: the listCollections type, so "collection" for an
// ordinary collection (mongorestore testdata collMod_ttl_index has
// "type":"collection"; dumps of old servers have no type at all).
const (
	TypeCollection = "collection"
	TypeView       = "view"
	TypeTimeseries = "timeseries"
)

// Options configure Generate. The zero value is usable.
type Options struct {
	// Seed makes the dataset deterministic; the same seed gives the same bytes.
	Seed uint64
	// DocsPerCollection is the number of documents in each ordinary
	// collection (default 40). Some collections derive their size from it.
	DocsPerCollection int
	// BulkBytes, when positive, adds a collection bulk.data whose documents
	// add up to about BulkBytes bytes (for benchmarks and memory tests).
	BulkBytes int64
	// BulkDocSize is the approximate size of each bulk document (default 4096).
	BulkDocSize int
	// ServerVersion and ToolVersion go into the archive prelude and
	// prelude.json (defaults "7.0.16" and "100.10.0").
	ServerVersion string
	ToolVersion   string
	// Oplog adds an oplog (oplog.bson in a directory, the "" database's
	// "oplog" namespace in an archive), as mongodump --oplog does.
	Oplog bool
	// AdminSystemVersion adds admin.system.version, as a full mongodump of a
	// deployment does.
	AdminSystemVersion bool
	// ViewlessTimeseries dumps the time-series buckets under the
	// collection's own name instead of system.buckets.<name>, as for
	// servers from 8.3 on (mongo-tools common/archive/prelude.go only maps
	// a time-series collection to system.buckets.<name> below 8.3).
	ViewlessTimeseries bool
}

// Dataset is a generated dump: collections with their metadata and documents.
type Dataset struct {
	ServerVersion         string
	ToolVersion           string
	ConcurrentCollections int32
	// Collections in dump order; includes views (no documents) and
	// time-series collections (documents are buckets of system.buckets.<name>).
	Collections []*Collection
	// Oplog is nil unless Options.Oplog; its DB is "" and Name "oplog".
	Oplog *Collection
}

// Collection is one namespace of a Dataset.
type Collection struct {
	DB, Name string
	// Type is TypeCollection, TypeView or TypeTimeseries.
	Type string
	// Options is the collection options document (nil when none).
	Options bson.Raw
	// Indexes are the index specifications in listIndexes order.
	Indexes []bson.Raw
	// UUID is the collection UUID as 32 lowercase hex digits ("" for views
	// and time-series collections, which have none in listCollections).
	UUID string
	// NumDocs is the number of documents (buckets for time-series).
	NumDocs int

	kind     docKind
	seed     uint64
	docSize  int
	fixed    []bson.Raw
	viewless bool
}

type docKind int

const (
	kindAllTypes docKind = iota
	kindOrders
	kindEvents
	kindBuckets
	kindBulk
	kindPlain
	kindSystemVersion
	kindOplog
	kindFixed
)

// Generate builds the default dataset: databases app, analytics and edge
// (plus bulk, admin and the oplog when asked), with collections covering
// every BSON type, collection options (capped, validator, collation),
// indexes of every kind (single, compound, unique, TTL, text, 2dsphere,
// partial), UUIDs, a time-series collection, a view, an empty collection and
// collection names that mongodump has to escape or hash in file names.
func Generate(opts Options) *Dataset {
	if opts.DocsPerCollection <= 0 {
		opts.DocsPerCollection = 40
	}
	if opts.BulkDocSize <= 0 {
		opts.BulkDocSize = 4096
	}
	if opts.ServerVersion == "" {
		opts.ServerVersion = "7.0.16"
	}
	if opts.ToolVersion == "" {
		opts.ToolVersion = "100.10.0"
	}
	n := opts.DocsPerCollection
	ds := &Dataset{
		ServerVersion:         opts.ServerVersion,
		ToolVersion:           opts.ToolVersion,
		ConcurrentCollections: 4,
	}
	add := func(c *Collection) {
		c.seed = mix(opts.Seed, c.DB+"."+c.Name)
		if c.Type == "" {
			c.Type = TypeCollection
		}
		if c.Type != TypeView && c.Type != TypeTimeseries && c.UUID == "" {
			c.UUID = uuidFor(c.seed)
		}
		ds.Collections = append(ds.Collections, c)
	}

	add(&Collection{DB: "app", Name: "types", NumDocs: n, kind: kindAllTypes,
		Indexes: []bson.Raw{
			idIndex(),
			index(bson.D{{Key: "i", Value: int32(1)}}, "i_1"),
			index(bson.D{{Key: "str", Value: int32(1)}, {Key: "i", Value: int32(-1)}}, "str_1_i_-1"),
		}})
	add(&Collection{DB: "app", Name: "orders", NumDocs: n * 2, kind: kindOrders,
		Indexes: []bson.Raw{
			idIndex(),
			index(bson.D{{Key: "orderNo", Value: int32(1)}}, "orderNo_1", bson.E{Key: "unique", Value: true}),
			index(bson.D{{Key: "customer", Value: int32(1)}, {Key: "createdAt", Value: int32(-1)}}, "customer_1_createdAt_-1"),
			index(bson.D{{Key: "createdAt", Value: int32(1)}}, "createdAt_1", bson.E{Key: "expireAfterSeconds", Value: int32(86400)}),
			index(bson.D{{Key: "status", Value: int32(1)}}, "status_1",
				bson.E{Key: "partialFilterExpression", Value: bson.D{{Key: "total", Value: bson.D{{Key: "$gt", Value: int32(100)}}}}}),
			index(bson.D{{Key: "_fts", Value: "text"}, {Key: "_ftsx", Value: int32(1)}}, "notes_text",
				bson.E{Key: "weights", Value: bson.D{{Key: "notes", Value: int32(1)}}},
				bson.E{Key: "default_language", Value: "english"},
				bson.E{Key: "language_override", Value: "language"},
				bson.E{Key: "textIndexVersion", Value: int32(3)}),
			index(bson.D{{Key: "location", Value: "2dsphere"}}, "location_2dsphere",
				bson.E{Key: "2dsphereIndexVersion", Value: int32(3)}),
		}})
	add(&Collection{DB: "app", Name: "log", NumDocs: n, kind: kindPlain,
		Options: mustMarshal(bson.D{{Key: "capped", Value: true}, {Key: "size", Value: int64(1 << 20)}, {Key: "max", Value: int64(5000)}}),
		Indexes: []bson.Raw{idIndex()}})
	add(&Collection{DB: "analytics", Name: "events", NumDocs: n, kind: kindEvents,
		Options: mustMarshal(bson.D{
			{Key: "validator", Value: bson.D{{Key: "$jsonSchema", Value: bson.D{
				{Key: "bsonType", Value: "object"},
				{Key: "required", Value: bson.A{"kind", "at"}},
				{Key: "properties", Value: bson.D{
					{Key: "kind", Value: bson.D{{Key: "enum", Value: bson.A{"click", "view", "buy"}}}},
					{Key: "at", Value: bson.D{{Key: "bsonType", Value: "date"}}},
				}},
			}}}},
			{Key: "validationLevel", Value: "moderate"},
			{Key: "validationAction", Value: "warn"},
			{Key: "collation", Value: bson.D{
				{Key: "locale", Value: "fr"}, {Key: "caseLevel", Value: false}, {Key: "caseFirst", Value: "off"},
				{Key: "strength", Value: int32(2)}, {Key: "numericOrdering", Value: false}, {Key: "alternate", Value: "non-ignorable"},
				{Key: "maxVariable", Value: "punct"}, {Key: "normalization", Value: false}, {Key: "backwards", Value: false},
				{Key: "version", Value: "57.1"},
			}},
		}),
		Indexes: []bson.Raw{
			index(bson.D{{Key: "_id", Value: int32(1)}}, "_id_", bson.E{Key: "collation", Value: bson.D{{Key: "locale", Value: "fr"}, {Key: "strength", Value: int32(2)}, {Key: "version", Value: "57.1"}}}),
			index(bson.D{{Key: "kind", Value: int32(1)}, {Key: "at", Value: int32(-1)}}, "kind_1_at_-1"),
		}})
	add(&Collection{DB: "analytics", Name: "metrics", Type: TypeTimeseries, NumDocs: (n + 9) / 10, kind: kindBuckets, viewless: opts.ViewlessTimeseries,
		Options: mustMarshal(bson.D{{Key: "timeseries", Value: bson.D{
			{Key: "timeField", Value: "ts"}, {Key: "metaField", Value: "meta"},
			{Key: "granularity", Value: "seconds"}, {Key: "bucketMaxSpanSeconds", Value: int32(3600)},
		}}}),
		Indexes: []bson.Raw{
			index(bson.D{{Key: "meta", Value: int32(1)}, {Key: "ts", Value: int32(1)}}, "meta_1_ts_1"),
		}})
	add(&Collection{DB: "analytics", Name: "clicks", Type: TypeView,
		Options: mustMarshal(bson.D{
			{Key: "viewOn", Value: "events"},
			{Key: "pipeline", Value: bson.A{
				bson.D{{Key: "$match", Value: bson.D{{Key: "kind", Value: "click"}}}},
				bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: int32(0)}, {Key: "at", Value: int32(1)}}}},
			}},
		})})
	add(&Collection{DB: "edge", Name: "empty", kind: kindPlain, Indexes: []bson.Raw{idIndex()}})
	add(&Collection{DB: "edge", Name: "dotted.name", NumDocs: 3, kind: kindPlain, Indexes: []bson.Raw{idIndex()}})
	add(&Collection{DB: "edge", Name: "weird/name é %? 日本", NumDocs: 5, kind: kindPlain, Indexes: []bson.Raw{idIndex()}})
	add(&Collection{DB: "edge", Name: "très-long-" + strings.Repeat("é", 80) + "-end", NumDocs: 4, kind: kindPlain, Indexes: []bson.Raw{idIndex()}})
	add(&Collection{DB: "edge", Name: "onedoc", NumDocs: 1, kind: kindAllTypes, Indexes: []bson.Raw{idIndex()}})

	if opts.BulkBytes > 0 {
		per := int64(opts.BulkDocSize)
		add(&Collection{DB: "bulk", Name: "data", NumDocs: int((opts.BulkBytes + per - 1) / per), kind: kindBulk, docSize: opts.BulkDocSize,
			Indexes: []bson.Raw{idIndex()}})
	}
	if opts.Oplog {
		ds.Oplog = &Collection{DB: "", Name: "oplog", NumDocs: 7, kind: kindOplog, seed: mix(opts.Seed, "oplog")}
	}
	if opts.AdminSystemVersion {
		add(&Collection{DB: "admin", Name: "system.version", NumDocs: 2, kind: kindSystemVersion, Indexes: []bson.Raw{idIndex()}})
	}
	return ds
}

// WithOversizeDocument returns a copy of ds with an extra collection
// oversize.big holding a single valid document of exactly size bytes, for
// testing the readers' document size limit.
func WithOversizeDocument(ds *Dataset, size int) *Dataset {
	cp := *ds
	cp.Collections = append(append([]*Collection(nil), ds.Collections...), &Collection{
		DB: "oversize", Name: "big", Type: TypeCollection, NumDocs: 1, kind: kindFixed, UUID: uuidFor(mix(0, "oversize")),
		Indexes: []bson.Raw{idIndex()},
		fixed:   []bson.Raw{OversizeDocument(size)},
	})
	return &cp
}

// OversizeDocument returns a valid BSON document of exactly size bytes
// (size >= 32).
func OversizeDocument(size int) bson.Raw {
	// {_id: int32(1), s: "xxx..."}: 4 + (1+4+4) + (1+2+4+strLen) + 1, where
	// strLen counts the string's trailing null
	strLen := size - 21
	if strLen < 1 {
		panic("dumptest: oversize document too small")
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = append(b, 0x10, '_', 'i', 'd', 0)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = append(b, 0x02, 's', 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(strLen))
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	b = append(b, 0, 0)
	return b
}

// Plain is an ordinary collection db.name of n small documents, seeded by
// its namespace so that no two collections hold the same documents, with
// the _id index and a UUID.
func Plain(db, name string, n int) *Collection {
	seed := mix(0, db+"."+name)
	return &Collection{DB: db, Name: name, Type: TypeCollection, NumDocs: n, kind: kindPlain, seed: seed,
		UUID: uuidFor(seed), Indexes: []bson.Raw{idIndex()}}
}

// CollidingNames is a dataset of database x whose collection names a
// file system, or keys joining names unescaped, would fold onto one
// another (y, y/., y//, y/.., y/../z, /y), with a name holding '%', one
// that reads like an escape of gocloud.dev's drivers (__0x2f__y) and two
// names that escaping lengthens past a file name's 255 bytes. Each
// collection has its own documents and its own count.
func CollidingNames() *Dataset {
	ds := &Dataset{ServerVersion: "7.0.16", ToolVersion: "100.10.0", ConcurrentCollections: 4}
	for i, name := range []string{"y", "y/.", "y//", "y/..", "y/../z", "/y", "y %", "__0x2f__y", strings.Repeat("%", 84), strings.Repeat("c", 253)} {
		ds.Collections = append(ds.Collections, Plain("x", name, 3+i))
	}
	return ds
}

// Lookup returns the collection db.name (nil if absent).
func (ds *Dataset) Lookup(db, name string) *Collection {
	for _, c := range ds.Collections {
		if c.DB == db && c.Name == name {
			return c
		}
	}
	return nil
}

// DataCollection is the collection that holds the documents in the dump:
// system.buckets.<name> for a time-series collection (unless
// Options.ViewlessTimeseries), the name otherwise.
func (c *Collection) DataCollection() string {
	if c.Type == TypeTimeseries && !c.viewless {
		return "system.buckets." + c.Name
	}
	return c.Name
}

// Namespace returns "db.name".
func (c *Collection) Namespace() string { return c.DB + "." + c.Name }

// Docs iterates over the documents in order. Each document is freshly
// allocated.
func (c *Collection) Docs() iter.Seq2[int, bson.Raw] {
	return func(yield func(int, bson.Raw) bool) {
		for i := 0; i < c.NumDocs; i++ {
			if !yield(i, c.Doc(i)) {
				return
			}
		}
	}
}

// TotalSize is the sum of the sizes of all the documents.
func (c *Collection) TotalSize() int64 {
	var n int64
	for _, d := range c.Docs() {
		n += int64(len(d))
	}
	return n
}

// Doc generates document i (0 <= i < NumDocs). The same (seed, collection,
// i) always gives the same bytes.
func (c *Collection) Doc(i int) bson.Raw {
	if i < 0 || i >= c.NumDocs {
		panic(fmt.Sprintf("dumptest: document %d out of range for %s (%d documents)", i, c.Namespace(), c.NumDocs))
	}
	r := rand.New(rand.NewPCG(c.seed, uint64(i)))
	switch c.kind {
	case kindAllTypes:
		return allTypesDoc(r, i)
	case kindOrders:
		return ordersDoc(r, i)
	case kindEvents:
		return eventsDoc(r, i)
	case kindBuckets:
		return bucketDoc(r, i)
	case kindBulk:
		return bulkDoc(r, i, c.docSize)
	case kindSystemVersion:
		if i == 0 {
			return mustMarshal(bson.D{{Key: "_id", Value: "featureCompatibilityVersion"}, {Key: "version", Value: "7.0"}})
		}
		return mustMarshal(bson.D{{Key: "_id", Value: "authSchema"}, {Key: "currentVersion", Value: int32(5)}})
	case kindOplog:
		return oplogDoc(r, i)
	case kindFixed:
		return c.fixed[i]
	default:
		return plainDoc(r, i)
	}
}

// MetadataJSON is the content of <coll>.metadata.json exactly as mongodump
// writes it: canonical extended JSON of {options, indexes, uuid,
// collectionName, type} in that key order (mongodump/metadata_dump.go),
// options and uuid omitted when empty, indexes always present (an empty
// array for views), no trailing newline.
//
// mongodump holds options in a Go map, so its own key order inside options
// is not stable; the generator keeps the listCollections order.
func (c *Collection) MetadataJSON() []byte {
	type metadata struct {
		Options        bson.Raw   `bson:"options,omitempty"`
		Indexes        []bson.Raw `bson:"indexes"`
		UUID           string     `bson:"uuid,omitempty"`
		CollectionName string     `bson:"collectionName"`
		Type           string     `bson:"type,omitempty"`
	}
	m := metadata{Options: c.Options, Indexes: c.Indexes, UUID: c.UUID, CollectionName: c.Name, Type: c.Type}
	if m.Indexes == nil {
		m.Indexes = []bson.Raw{}
	}
	b, err := bson.MarshalExtJSON(m, true, false)
	if err != nil {
		panic(err)
	}
	return b
}

// FileStem is the file name mongodump gives a collection, without the
// .bson/.metadata.json extension: the URL path escape of the name, or, when
// that is longer than 238 bytes, its first 208 bytes, "%24" and the
// unpadded URL-safe base64 of the SHA-1 of the name (mongodump/prepare.go
// outputPath).
func FileStem(collection string) string {
	esc := url.PathEscape(collection)
	if len(esc) > 238 {
		sum := sha1.Sum([]byte(collection))
		esc = esc[:208] + "%24" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return esc
}

func mix(seed uint64, s string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(s))
	return h.Sum64()
}

func uuidFor(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x5555))
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

func mustMarshal(v any) bson.Raw {
	b, err := bson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func idIndex() bson.Raw {
	return index(bson.D{{Key: "_id", Value: int32(1)}}, "_id_")
}

func index(key bson.D, name string, extra ...bson.E) bson.Raw {
	d := bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: key}, {Key: "name", Value: name}}
	return mustMarshal(append(d, extra...))
}

func oid(r *rand.Rand) bson.ObjectID {
	var id bson.ObjectID
	binary.BigEndian.PutUint32(id[:4], 1_600_000_000+uint32(r.IntN(200_000_000)))
	binary.LittleEndian.PutUint64(id[4:], r.Uint64())
	return id
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

var (
	doubles = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1.5, -2.25,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-300, 123456789.125}
	strs = []string{"", "plain ascii", "héllo wörld", "日本語のテキスト", "emoji 🌍🚀", "rtl עברית",
		"ctrl \x01\x02\x1f\x7f\t\n\r", "nul\x00inside", `quote " backslash \ slash /`, "<script>&amp;</script>",
		"\u2028\u2029 line separators", strings.Repeat("long ", 60)}
	dates = []int64{0, -1, -62135596800000 /* 0001-01-01 */, -1_000_000_000_000, 253402300799999, /* 9999-12-31 */
		4_102_444_800_000 /* 2100 */, math.MaxInt64, math.MinInt64, 1_700_000_000_123}
	int32s = []int32{0, 1, -1, math.MaxInt32, math.MinInt32, 42}
	int64s = []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 53, -(1 << 53) - 1}
	decs   = []bson.Decimal128{
		bson.NewDecimal128(0x7C00000000000000, 0), // NaN
		bson.NewDecimal128(0x7E00000000000000, 0), // sNaN
		bson.NewDecimal128(0x7800000000000000, 0), // +Inf
		bson.NewDecimal128(0xF800000000000000, 0), // -Inf
		bson.NewDecimal128(0xB040000000000000, 0), // -0
		mustDec("0.1"), mustDec("-1234567890.0987654321"), mustDec("9.999999999999999999999999999999999E+6144"),
		mustDec("1E-6176"),
	}
)

func mustDec(s string) bson.Decimal128 {
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		panic(err)
	}
	return d
}

func pick[T any](r *rand.Rand, i int, s []T) T {
	// every value appears in order for the first len(s) documents, then at random
	if i < len(s) {
		return s[i]
	}
	return s[r.IntN(len(s))]
}

// allTypesDoc has one field of every BSON type (0x01-0x13, 0x7F, 0xFF), with
// values cycling through edge cases.
func allTypesDoc(r *rand.Rand, i int) bson.Raw {
	id := oid(r)
	uuid := randBytes(r, 16)
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	d := bson.D{
		{Key: "_id", Value: id},
		{Key: "i", Value: int32(i)},
		{Key: "double", Value: pick(r, i, doubles)},
		{Key: "str", Value: pick(r, i, strs)},
		{Key: "doc", Value: bson.D{
			{Key: "a", Value: int32(r.IntN(1000))},
			{Key: "nested", Value: bson.D{{Key: "deeper", Value: bson.D{{Key: "x", Value: pick(r, i, strs)}}}}},
			{Key: "dotted.key", Value: true},
			{Key: "$dollar", Value: "allowed since 5.0"},
			{Key: "ctl\x01key", Value: int32(1)},
			{Key: "ключ", Value: "unicode key"},
			{Key: "", Value: "empty key"},
		}},
		{Key: "arr", Value: bson.A{int32(1), "two", 3.0, bson.D{{Key: "four", Value: int32(4)}}, bson.A{}, bson.A{bson.A{int32(5)}}, nil}},
		{Key: "emptyDoc", Value: bson.D{}},
		{Key: "emptyArr", Value: bson.A{}},
		{Key: "bin", Value: bson.Binary{Subtype: 0x00, Data: randBytes(r, r.IntN(40))}},
		{Key: "binEmpty", Value: bson.Binary{Subtype: 0x00, Data: []byte{}}},
		{Key: "binFunc", Value: bson.Binary{Subtype: 0x01, Data: []byte("function")}},
		{Key: "binOld", Value: bson.Binary{Subtype: 0x02, Data: randBytes(r, 9)}},
		{Key: "uuidOld", Value: bson.Binary{Subtype: 0x03, Data: randBytes(r, 16)}},
		{Key: "uuid", Value: bson.Binary{Subtype: 0x04, Data: uuid}},
		{Key: "md5", Value: bson.Binary{Subtype: 0x05, Data: randBytes(r, 16)}},
		{Key: "encrypted", Value: bson.Binary{Subtype: 0x06, Data: randBytes(r, 33)}},
		{Key: "column", Value: bson.Binary{Subtype: 0x07, Data: randBytes(r, 12)}},
		{Key: "sensitive", Value: bson.Binary{Subtype: 0x08, Data: randBytes(r, 5)}},
		{Key: "userBin", Value: bson.Binary{Subtype: 0x80, Data: randBytes(r, 7)}},
		{Key: "userBinFF", Value: bson.Binary{Subtype: 0xFF, Data: randBytes(r, 3)}},
		{Key: "undefined", Value: bson.Undefined{}},
		{Key: "oid", Value: oid(r)},
		{Key: "bool", Value: i%2 == 0},
		{Key: "date", Value: bson.DateTime(pick(r, i, dates))},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: `^a.*\d+[é]$`, Options: pick(r, i, []string{"", "i", "imsux", "ms"})}},
		{Key: "dbptr", Value: bson.DBPointer{DB: "app.types", Pointer: id}},
		{Key: "js", Value: bson.JavaScript("function () { return this.i > " + fmt.Sprint(i) + "; }")},
		{Key: "symbol", Value: bson.Symbol(pick(r, i, []string{"sym", "", "symbole é"}))},
		{Key: "jsScope", Value: bson.CodeWithScope{Code: "function () { return x + y; }", Scope: bson.D{{Key: "x", Value: int32(i)}, {Key: "y", Value: bson.D{{Key: "z", Value: "scope"}}}}}},
		{Key: "jsEmptyScope", Value: bson.CodeWithScope{Code: "", Scope: bson.D{}}},
		{Key: "int32", Value: pick(r, i, int32s)},
		{Key: "ts", Value: bson.Timestamp{T: uint32(1_700_000_000 + i), I: uint32(r.IntN(10))}},
		{Key: "tsZero", Value: bson.Timestamp{}},
		{Key: "tsMax", Value: bson.Timestamp{T: math.MaxUint32, I: math.MaxUint32}},
		{Key: "int64", Value: pick(r, i, int64s)},
		{Key: "dec", Value: pick(r, i, decs)},
		{Key: "minKey", Value: bson.MinKey{}},
		{Key: "maxKey", Value: bson.MaxKey{}},
	}
	return mustMarshal(d)
}

func ordersDoc(r *rand.Rand, i int) bson.Raw {
	d := bson.D{
		{Key: "_id", Value: oid(r)},
		{Key: "orderNo", Value: int64(100000 + i)},
		{Key: "customer", Value: fmt.Sprintf("cust-%03d", r.IntN(50))},
		{Key: "createdAt", Value: bson.DateTime(1_700_000_000_000 + int64(i)*60_000)},
		{Key: "status", Value: pick(r, i, []string{"new", "paid", "shipped", "cancelled"})},
		{Key: "total", Value: mustDec(fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)))},
		{Key: "items", Value: bson.A{
			bson.D{{Key: "sku", Value: "A-1"}, {Key: "qty", Value: int32(1 + r.IntN(5))}, {Key: "price", Value: 9.99}},
			bson.D{{Key: "sku", Value: "B-2"}, {Key: "qty", Value: int32(1 + r.IntN(5))}, {Key: "price", Value: 19.5}},
		}},
		{Key: "notes", Value: pick(r, i, strs)},
		{Key: "location", Value: bson.D{{Key: "type", Value: "Point"}, {Key: "coordinates", Value: bson.A{-180 + r.Float64()*360, -90 + r.Float64()*180}}}},
	}
	return mustMarshal(d)
}

func eventsDoc(r *rand.Rand, i int) bson.Raw {
	return mustMarshal(bson.D{
		{Key: "_id", Value: oid(r)},
		{Key: "kind", Value: pick(r, i, []string{"click", "view", "buy"})},
		{Key: "at", Value: bson.DateTime(1_700_000_000_000 + int64(i)*1000)},
		{Key: "user", Value: bson.D{{Key: "id", Value: int64(r.IntN(1 << 40))}, {Key: "name", Value: pick(r, i, strs)}}},
		{Key: "tags", Value: bson.A{"a", "b", pick(r, i, strs)}},
	})
}

// bucketDoc is a system.buckets document (uncompressed bucket format v1).
func bucketDoc(r *rand.Rand, i int) bson.Raw {
	const n = 10
	base := int64(1_700_000_000_000) + int64(i)*3_600_000
	var ids, tss, temps bson.D
	minT, maxT := math.Inf(1), math.Inf(-1)
	var minID, maxID bson.ObjectID
	for j := 0; j < n; j++ {
		id := oid(r)
		if j == 0 || string(id[:]) < string(minID[:]) {
			minID = id
		}
		if j == 0 || string(id[:]) > string(maxID[:]) {
			maxID = id
		}
		t := math.Round(r.Float64()*4000) / 100
		minT, maxT = math.Min(minT, t), math.Max(maxT, t)
		k := fmt.Sprint(j)
		ids = append(ids, bson.E{Key: k, Value: id})
		tss = append(tss, bson.E{Key: k, Value: bson.DateTime(base + int64(j)*1000)})
		temps = append(temps, bson.E{Key: k, Value: t})
	}
	return mustMarshal(bson.D{
		{Key: "_id", Value: oid(r)},
		{Key: "control", Value: bson.D{
			{Key: "version", Value: int32(1)},
			{Key: "min", Value: bson.D{{Key: "_id", Value: minID}, {Key: "ts", Value: bson.DateTime(base)}, {Key: "temp", Value: minT}}},
			{Key: "max", Value: bson.D{{Key: "_id", Value: maxID}, {Key: "ts", Value: bson.DateTime(base + (n-1)*1000)}, {Key: "temp", Value: maxT}}},
		}},
		{Key: "meta", Value: bson.D{{Key: "sensor", Value: fmt.Sprintf("s-%d", i%3)}, {Key: "site", Value: "paris"}}},
		{Key: "data", Value: bson.D{{Key: "_id", Value: ids}, {Key: "ts", Value: tss}, {Key: "temp", Value: temps}}},
	})
}

func bulkDoc(r *rand.Rand, i int, size int) bson.Raw {
	// fixed overhead of the fields below is about 80 bytes
	pad := size - 80
	if pad < 0 {
		pad = 0
	}
	return mustMarshal(bson.D{
		{Key: "_id", Value: oid(r)},
		{Key: "seq", Value: int64(i)},
		{Key: "name", Value: fmt.Sprintf("item-%09d", i)},
		{Key: "at", Value: bson.DateTime(1_700_000_000_000 + int64(i))},
		{Key: "payload", Value: bson.Binary{Subtype: 0, Data: randBytes(r, pad)}},
	})
}

func plainDoc(r *rand.Rand, i int) bson.Raw {
	return mustMarshal(bson.D{
		{Key: "_id", Value: int32(i)},
		{Key: "msg", Value: pick(r, i, strs)},
		{Key: "n", Value: r.Int64()},
		{Key: "f", Value: r.Float64()},
	})
}

func oplogDoc(r *rand.Rand, i int) bson.Raw {
	return mustMarshal(bson.D{
		{Key: "op", Value: "n"},
		{Key: "ns", Value: ""},
		{Key: "o", Value: bson.D{{Key: "msg", Value: "periodic noop"}}},
		{Key: "ts", Value: bson.Timestamp{T: uint32(1_700_000_000 + i), I: 1}},
		{Key: "t", Value: int64(3)},
		{Key: "v", Value: int64(2)},
		{Key: "wall", Value: bson.DateTime(1_700_000_000_000 + int64(i)*1000 + int64(r.IntN(1000)))},
	})
}
