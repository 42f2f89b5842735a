package export

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// MetadataJSON is a collection's metadata.json: mongodump's canonical
// Extended JSON of {options, indexes, uuid, collectionName, type}, in that
// order, without a trailing newline (mongodump/metadata_dump.go), built
// from the metadata document the snapshot kept.
//
// options is omitted when absent or empty; indexes is always an array; uuid
// is 32 lower-case hex digits, omitted when unknown; collectionName is the
// collection's name; type is written only as "timeseries". mongodump
// writes the listCollections type, so its files say "type":"collection"
// for an ordinary collection, but Atlas's documented metadata.json has no
// type there (atlas-facts §10.4), and mongorestore treats a missing type as
// an ordinary collection. Fields mongodump does not write are dropped.
// Values are copied unchanged, so option and index key order and number
// types stay as the dump had them.
func MetadataJSON(c *snapshotstore.Collection) ([]byte, error) {
	m, err := dump.ParseMetadata(c.Metadata)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s.%s: %w", c.DB, c.Name, err)
	}
	d := make(bson.D, 0, 5)
	// an empty document is 5 bytes
	if len(m.Options) > 5 {
		d = append(d, bson.E{Key: "options", Value: m.Options})
	}
	indexes := make(bson.A, len(m.Indexes))
	for i, ix := range m.Indexes {
		indexes[i] = ix
	}
	d = append(d, bson.E{Key: "indexes", Value: indexes})
	if uuid := strings.ToLower(cmp.Or(m.UUID, c.UUID)); uuid != "" {
		if b, err := hex.DecodeString(uuid); err != nil || len(b) != 16 {
			return nil, fmt.Errorf("metadata of %s.%s: uuid %q is not 32 hex digits", c.DB, c.Name, uuid)
		}
		d = append(d, bson.E{Key: "uuid", Value: uuid})
	}
	d = append(d, bson.E{Key: "collectionName", Value: c.Name})
	if c.Type == dump.TypeTimeseries || m.Type == dump.TypeTimeseries {
		d = append(d, bson.E{Key: "type", Value: dump.TypeTimeseries})
	}
	out, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s.%s: %w", c.DB, c.Name, err)
	}
	return out, nil
}
