// Package exporttest is the tests' oracle of Atlas exports: which
// collections of a generated dataset an export writes, how an exported
// document compares with the one dumped, and reading a bucket back. It is
// written from Atlas's documented behaviour, apart from package export, so
// that the export engine is checked against an independent account of it.
package exporttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
)

// IsExported reports whether an export writes a collection: not a view,
// nor one of the admin, config and local databases, nor a system
// collection other than system.js (atlas-facts §8.5).
func IsExported(db, name string, view bool) bool {
	switch {
	case view:
	case db == "admin" || db == "config" || db == "local":
	case strings.HasPrefix(name, "system.") && name != "system.js":
	default:
		return true
	}
	return false
}

// ExportedCollections are the collections of ds an export writes, in
// dump order.
func ExportedCollections(ds *dumptest.Dataset) []*dumptest.Collection {
	var out []*dumptest.Collection
	for _, c := range ds.Collections {
		if IsExported(c.DB, c.Name, c.Type == dumptest.TypeView) {
			out = append(out, c)
		}
	}
	return out
}

// SameDocument compares documents byte for byte, except that any two
// Decimal128 NaNs are equal: Extended JSON has one "NaN", so a signalling
// NaN (or one with a payload or sign) comes back as the quiet NaN, as with
// mongoexport.
func SameDocument(got, want bson.Raw) bool {
	ge, err1 := got.Elements()
	we, err2 := want.Elements()
	if err1 != nil || err2 != nil || len(ge) != len(we) {
		return false
	}
	for k := range we {
		g, w := ge[k].Value(), we[k].Value()
		if ge[k].Key() != we[k].Key() || g.Type != w.Type {
			return false
		}
		switch w.Type {
		case bson.TypeDecimal128:
			if g.Decimal128().IsNaN() && w.Decimal128().IsNaN() {
				continue
			}
		case bson.TypeEmbeddedDocument, bson.TypeArray:
			if !SameDocument(g.Value, w.Value) {
				return false
			}
			continue
		}
		if !bytes.Equal(g.Value, w.Value) {
			return false
		}
	}
	return true
}

// Complete is the .complete object that ends an export, as a client
// reads it.
type Complete struct {
	OrgID                  string             `json:"orgId"`
	OrgName                string             `json:"orgName"`
	GroupID                string             `json:"groupId"`
	GroupName              string             `json:"groupName"`
	ClusterUniqueID        string             `json:"clusterUniqueId"`
	ClusterName            string             `json:"clusterName"`
	SnapshotInitiationDate string             `json:"snapshotInitiationDate"`
	TotalFiles             int                `json:"totalFiles"`
	Labels                 []snapexport.Label `json:"labels"`
	CustomData             []snapexport.Label `json:"customData"`
}

// ListKeys lists the keys of a bucket under prefix, sorted.
func ListKeys(t testing.TB, b *blob.Bucket, prefix string) []string {
	t.Helper()
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			slices.Sort(keys)
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
}

// ReadObject reads a whole object of a bucket.
func ReadObject(t testing.TB, b *blob.Bucket, key string) []byte {
	t.Helper()
	data, err := b.ReadAll(context.Background(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// ReadDocuments reads the documents of an export's data object: gzipped
// Extended JSON, one canonical document a line.
func ReadDocuments(t testing.TB, b *blob.Bucket, key string) []bson.Raw {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(ReadObject(t, b, key)))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	var docs []bson.Raw
	for sc.Scan() {
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &raw); err != nil {
			t.Fatalf("%s line %d: %v", key, len(docs)+1, err)
		}
		docs = append(docs, raw)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return docs
}
