package dumptest

import (
	"bytes"
	"math"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FerretDBTypesDoc is the i-th document of a collection written to a live
// server in tests: a field of every BSON type FerretDB stores (it refuses
// Decimal128, JavaScript with or without scope, Symbol, DBPointer,
// Undefined, MinKey, MaxKey, NaN, infinities, nested arrays and
// $-prefixed field names), with edge values that vary with i.
func FerretDBTypesDoc(i int) bson.D {
	return bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "i", Value: int32(i)},
		{Key: "double", Value: []float64{0, 1.5, -2.25, math.MaxFloat64, math.SmallestNonzeroFloat64}[i%5]},
		{Key: "str", Value: []string{"", "plain", "ünïcödé 日本", "nul\x00inside", strings.Repeat("x", 3000)}[i%5]},
		{Key: "doc", Value: bson.D{
			{Key: "a", Value: int32(i)},
			{Key: "nested", Value: bson.D{{Key: "deeper", Value: bson.D{{Key: "x", Value: "y"}}}}},
			{Key: "ключ", Value: "unicode key"},
		}},
		{Key: "arr", Value: bson.A{int32(1), "two", 3.0, bson.D{{Key: "four", Value: int32(4)}}, nil}},
		{Key: "emptyDoc", Value: bson.D{}},
		{Key: "emptyArr", Value: bson.A{}},
		{Key: "bin", Value: bson.Binary{Subtype: 0x00, Data: []byte{0, 1, 2, byte(i)}}},
		{Key: "binEmpty", Value: bson.Binary{Subtype: 0x00, Data: []byte{}}},
		{Key: "binFunc", Value: bson.Binary{Subtype: 0x01, Data: []byte("function")}},
		{Key: "uuidOld", Value: bson.Binary{Subtype: 0x03, Data: bytes.Repeat([]byte{3}, 16)}},
		{Key: "uuid", Value: bson.Binary{Subtype: 0x04, Data: bytes.Repeat([]byte{4}, 16)}},
		{Key: "md5", Value: bson.Binary{Subtype: 0x05, Data: bytes.Repeat([]byte{5}, 16)}},
		{Key: "userBin", Value: bson.Binary{Subtype: 0x80, Data: []byte{0x80, byte(i)}}},
		{Key: "oid", Value: bson.NewObjectID()},
		{Key: "bool", Value: i%2 == 0},
		{Key: "date", Value: bson.DateTime([]int64{0, -1, 1_700_000_000_123, -62135596800000}[i%4])},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: `^a.*\d+[é]$`, Options: []string{"", "i", "ims"}[i%3]}},
		{Key: "int32", Value: []int32{0, -1, math.MaxInt32, math.MinInt32}[i%4]},
		{Key: "ts", Value: bson.Timestamp{T: uint32(1_700_000_000 + i), I: uint32(i)}},
		{Key: "int64", Value: []int64{0, -1, math.MaxInt64, math.MinInt64}[i%4]},
	}
}
