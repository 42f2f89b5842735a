package dump_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestParseMetadata(t *testing.T) {
	// mongo-tools mongodump/testdata/timeseriesColl.metadata.json
	ts := `{"options":{"timeseries":{"timeField":"ts","metaField":"meta","granularity":"seconds","bucketMaxSpanSeconds":{"$numberInt":"3600"}}},"indexes":[{"v":{"$numberInt":"2"},"key":{"meta.device":{"$numberInt":"1"}},"name":"meta.device_1"},{"v":{"$numberInt":"2"},"key":{"ts":{"$numberInt":"1"},"meta.device":{"$numberInt":"1"}},"name":"ts_1_meta.device_1"},{"v":{"$numberInt":"2"},"key":{"meta.device":{"$numberInt":"1"},"ts":{"$numberInt":"1"}},"name":"meta.device_1_ts_1"}],"collectionName":"timeseriesColl","type":"timeseries"}`
	md, err := dump.ParseMetadata([]byte(ts))
	if err != nil {
		t.Fatal(err)
	}
	if md.Type != "timeseries" || md.CollectionName != "timeseriesColl" || md.UUID != "" || len(md.Indexes) != 3 {
		t.Fatalf("%+v", md)
	}
	if v := md.Options.Lookup("timeseries", "bucketMaxSpanSeconds"); v.Type != bson.TypeInt32 || v.Int32() != 3600 {
		t.Errorf("bucketMaxSpanSeconds %v", v)
	}
	if keys := rawKeys(t, md.Indexes[1].Lookup("key").Document()); keys != "ts,meta.device" {
		t.Errorf("index key order %s", keys)
	}

	// older mongodump: empty options, "ns" in indexes, no collectionName
	// (mongo-tools mongorestore/testdata/specialcharacter/db1/caf%C3%A9s.metadata.json)
	old := `{"options":{},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_","ns":"test.cafés"}],"uuid":"47d0f1f9ed46407fbada3cab9bb84644"}`
	md, err = dump.ParseMetadata([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if md.UUID != "47d0f1f9ed46407fbada3cab9bb84644" || md.CollectionName != "" || len(md.Options) != 5 || md.Indexes[0].Lookup("ns").StringValue() != "test.cafés" {
		t.Fatalf("%+v", md)
	}

	// relaxed extended JSON and legacy forms keep their BSON types
	relaxed := `{"options":{"capped":true,"size":1048576,"big":12345678901,"f":2.5,"d":{"$date":"2020-01-02T03:04:05Z"}},
		"indexes":[{"v":2,"key":{"a":1,"b":-1},"name":"a_1_b_-1","partialFilterExpression":{"x":{"$gt":{"$numberDecimal":"1.5"}}}}],
		"collectionName":"c","type":"collection"}`
	md, err = dump.ParseMetadata([]byte(relaxed))
	if err != nil {
		t.Fatal(err)
	}
	for key, typ := range map[string]bson.Type{"capped": bson.TypeBoolean, "size": bson.TypeInt32, "big": bson.TypeInt64, "f": bson.TypeDouble, "d": bson.TypeDateTime} {
		if got := md.Options.Lookup(key).Type; got != typ {
			t.Errorf("options.%s is %v, want %v", key, got, typ)
		}
	}
	if md.Indexes[0].Lookup("partialFilterExpression", "x", "$gt").Type != bson.TypeDecimal128 {
		t.Error("decimal lost")
	}

	// empty file: nothing, as mongorestore
	if md, err := dump.ParseMetadata([]byte(" \n")); err != nil || md.Options != nil || md.Raw != nil {
		t.Errorf("empty: %+v %v", md, err)
	}

	for text, want := range map[string]string{
		`{"options":{},"indexes":[}`: "byte 25",
		`{"indexes":[]} trailing`:    "invalid metadata JSON",
		`[1,2]`:                      "not a JSON object",
		`{"options":[]}`:             `"options" is array`,
		`{"indexes":{}}`:             `"indexes" is embedded document`,
		`{"indexes":[1]}`:            `"indexes.0" is 32-bit integer`,
		`{"uuid":"xyz"}`:             "not 32 hex digits",
		`{"uuid":"47d0f1f9ed46407fbada3cab9bb8464Z"}`: "not 32 hex digits",
		`{"type":1}`:                     `"type" is 32-bit integer`,
		`{"options":{"$numberInt":"x"}}`: "extended JSON",
	} {
		_, err := dump.ParseMetadata([]byte(text))
		var me *dump.MetadataError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want a MetadataError mentioning %q", text, err, want)
		}
	}
}

// An error's offset is the byte of the file, white space before the JSON
// included, so that an editor's "go to byte" lands on the fault.
func TestParseMetadataOffsetCountsLeadingWhiteSpace(t *testing.T) {
	for text, want := range map[string]int64{
		" \n\t{\"indexes\": [}": 16,
		"\r\n[1]":               2,
		"\n{\"a\":1}\n}":        9,
	} {
		_, err := dump.ParseMetadata([]byte(text))
		var me *dump.MetadataError
		if !errors.As(err, &me) || me.Offset != want {
			t.Errorf("%q: error %v, want a MetadataError at byte %d", text, err, want)
		}
	}
	// Only JSON's white space surrounds a value: a no-break space is not
	// an empty file.
	if _, err := dump.ParseMetadata([]byte("\u00a0")); err == nil {
		t.Error("a no-break space parsed as an empty metadata file")
	}
}

func rawKeys(t *testing.T, d bson.Raw) string {
	elems, err := d.Elements()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range elems {
		keys = append(keys, e.Key())
	}
	return strings.Join(keys, ",")
}

// Every generated metadata parses back to the same BSON.
func TestMetadataOfGeneratedCollections(t *testing.T) {
	for _, c := range fixture(dumptest.Options{AdminSystemVersion: true}).Collections {
		md, err := dump.ParseMetadata(c.MetadataJSON())
		if err != nil {
			t.Fatalf("%s: %v", c.Namespace(), err)
		}
		j, _ := bson.MarshalExtJSON(md.Raw, true, false)
		if string(j) != string(c.MetadataJSON()) {
			t.Errorf("%s: %s", c.Namespace(), j)
		}
	}
}

func TestFileStem(t *testing.T) {
	for name, want := range map[string]string{
		"plain":             "plain",
		"dotted.name":       "dotted.name",
		"cafés":             "caf%C3%A9s", // mongo-tools mongorestore/testdata/specialcharacter
		"a/b c%d$e:f@g+h=i": "a%2Fb%20c%25d$e:f@g+h=i",
		"system.buckets.x":  "system.buckets.x",
		// mongo-tools mongorestore/testdata/longcollectionname/db1
		"aVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryLongCollectionNameConsistingOfExactlyTwoHundredAndFortySevenCharacters": "aVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryLongCollectionNameConsistingOfE%24xFO0VquRn7cg3QooSZD5sglTddU",
	} {
		if got := dump.FileStem(name); got != want {
			t.Errorf("FileStem(%q) = %q, want %q", name, got, want)
		}
		if got := dumptest.FileStem(name); got != want {
			t.Errorf("dumptest.FileStem(%q) = %q, want %q", name, got, want)
		}
	}
}
