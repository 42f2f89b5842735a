package export

import (
	"encoding/hex"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapexport/snapexport/snapshotstore"
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
	var options, indexes bson.RawValue
	uuid := c.UUID
	isTimeseries := c.Type == "timeseries"
	if len(c.Metadata) > 0 {
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(c.Metadata, true, &raw); err != nil {
			return nil, fmt.Errorf("metadata of %s.%s: %w", c.DB, c.Name, err)
		}
		elems, err := raw.Elements()
		if err != nil {
			return nil, fmt.Errorf("metadata of %s.%s: %w", c.DB, c.Name, err)
		}
		for _, e := range elems {
			v := e.Value()
			switch e.Key() {
			case "options":
				d, ok := v.DocumentOK()
				if !ok {
					return nil, fmt.Errorf("metadata of %s.%s: options is %s, not a document", c.DB, c.Name, v.Type)
				}
				// an empty document is 5 bytes
				if len(d) > 5 {
					options = v
				}
			case "indexes":
				switch v.Type {
				case bson.TypeArray:
					indexes = v
				case bson.TypeNull:
				default:
					return nil, fmt.Errorf("metadata of %s.%s: indexes is %s, not an array", c.DB, c.Name, v.Type)
				}
			case "uuid":
				if s, ok := v.StringValueOK(); ok && s != "" {
					uuid = s
				}
			case "type":
				if s, ok := v.StringValueOK(); ok && s == "timeseries" {
					isTimeseries = true
				}
			}
		}
	}
	d := make(bson.D, 0, 5)
	if options.Type != 0 {
		d = append(d, bson.E{Key: "options", Value: options})
	}
	if indexes.Type != 0 {
		d = append(d, bson.E{Key: "indexes", Value: indexes})
	} else {
		d = append(d, bson.E{Key: "indexes", Value: bson.A{}})
	}
	if uuid != "" {
		uuid = strings.ToLower(uuid)
		if b, err := hex.DecodeString(uuid); err != nil || len(b) != 16 {
			return nil, fmt.Errorf("metadata of %s.%s: uuid %q is not 32 hex digits", c.DB, c.Name, uuid)
		}
		d = append(d, bson.E{Key: "uuid", Value: uuid})
	}
	d = append(d, bson.E{Key: "collectionName", Value: c.Name})
	if isTimeseries {
		d = append(d, bson.E{Key: "type", Value: "timeseries"})
	}
	out, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s.%s: %w", c.DB, c.Name, err)
	}
	return out, nil
}
