package dump

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Metadata is a collection's <coll>.metadata.json (or the metadata string
// of an archive prelude), which mongodump writes as canonical extended JSON
// of {options, indexes, uuid, collectionName, type}.
type Metadata struct {
	// Options is the collection options document (capped, validator,
	// collation, viewOn/pipeline, timeseries, ...), nil when absent.
	Options bson.Raw
	// Indexes are the index specifications, as listIndexes returned them.
	Indexes []bson.Raw
	// UUID is the collection UUID as 32 hex digits ("" when absent: views,
	// time-series collections, dumps of old servers).
	UUID string
	// CollectionName is the name recorded by mongodump (absent in dumps of
	// mongodump before 100.x).
	CollectionName string
	// Type is as written by mongodump: "collection" (or "" in old dumps),
	// "view" or "timeseries".
	Type string
	// Raw is the whole metadata document, with any field not listed above.
	Raw bson.Raw
}

// jsonWhitespace is what JSON allows around a value (RFC 8259 §2).
const jsonWhitespace = " \t\r\n"

// MetadataError is a ParseMetadata failure; Offset is the byte offset in
// the text given to ParseMetadata, white space before the JSON included,
// when known, else -1.
type MetadataError struct {
	Offset int64
	Reason string
	Err    error
}

func (e *MetadataError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("invalid metadata JSON at byte %d: %s", e.Offset, e.Reason)
	}
	return "invalid metadata: " + e.Reason
}

func (e *MetadataError) Unwrap() error { return e.Err }

// ParseMetadata parses metadata JSON, canonical or relaxed extended JSON (v2,
// with the legacy forms the Go driver accepts). An empty text gives a zero
// Metadata, as mongorestore skips empty metadata files.
func ParseMetadata(data []byte) (Metadata, error) {
	text := bytes.Trim(data, jsonWhitespace)
	if len(text) == 0 {
		return Metadata{}, nil
	}
	if !json.Valid(text) {
		// The untrimmed text, so that the offset is the file's.
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the last being the bad one
			return Metadata{}, &MetadataError{Offset: max(se.Offset-1, 0), Reason: se.Error(), Err: err}
		}
		return Metadata{}, &MetadataError{Offset: -1, Reason: "not valid JSON", Err: err}
	}
	if text[0] != '{' {
		return Metadata{}, &MetadataError{Offset: int64(len(data) - len(bytes.TrimLeft(data, jsonWhitespace))), Reason: "not a JSON object"}
	}
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(text, false, &raw); err != nil {
		return Metadata{}, &MetadataError{Offset: -1, Reason: "extended JSON: " + err.Error(), Err: err}
	}
	return metadataFromRaw(raw)
}

func metadataFromRaw(raw bson.Raw) (Metadata, error) {
	m := Metadata{Raw: raw}
	elems, err := raw.Elements()
	if err != nil {
		return Metadata{}, &MetadataError{Offset: -1, Reason: err.Error(), Err: err}
	}
	bad := func(field, want string, v bson.RawValue) error {
		return &MetadataError{Offset: -1, Reason: fmt.Sprintf("field %q is %s, want %s", field, v.Type, want)}
	}
	text := func(field string, v bson.RawValue) (string, error) {
		s, ok := v.StringValueOK()
		if !ok {
			return "", bad(field, "a string", v)
		}
		return s, nil
	}
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "options":
			d, ok := v.DocumentOK()
			if !ok {
				return Metadata{}, bad("options", "a document", v)
			}
			m.Options = d
		case "indexes":
			a, ok := v.ArrayOK()
			if !ok {
				if v.Type == bson.TypeNull {
					continue
				}
				return Metadata{}, bad("indexes", "an array", v)
			}
			vals, err := a.Values()
			if err != nil {
				return Metadata{}, &MetadataError{Offset: -1, Reason: err.Error(), Err: err}
			}
			m.Indexes = make([]bson.Raw, 0, len(vals))
			for i, iv := range vals {
				d, ok := iv.DocumentOK()
				if !ok {
					return Metadata{}, bad(fmt.Sprintf("indexes.%d", i), "a document", iv)
				}
				m.Indexes = append(m.Indexes, d)
			}
		case "uuid":
			s, err := text("uuid", v)
			if err != nil {
				return Metadata{}, err
			}
			if len(s) != 32 {
				return Metadata{}, &MetadataError{Offset: -1, Reason: fmt.Sprintf("uuid %q is not 32 hex digits", s)}
			}
			if _, err := hex.DecodeString(s); err != nil {
				return Metadata{}, &MetadataError{Offset: -1, Reason: fmt.Sprintf("uuid %q is not 32 hex digits", s)}
			}
			m.UUID = s
		case "collectionName":
			if m.CollectionName, err = text("collectionName", v); err != nil {
				return Metadata{}, err
			}
		case "type":
			if m.Type, err = text("type", v); err != nil {
				return Metadata{}, err
			}
		}
	}
	return m, nil
}

// isViewsAsCollections reports whether m is the metadata mongodump
// --viewsAsCollections writes for a view: type "view" but no viewOn (it
// deletes viewOn and pipeline) and the view's documents in a .bson file.
func (m Metadata) isViewsAsCollections() bool {
	if m.Type != TypeView {
		return false
	}
	if m.Options == nil {
		return true
	}
	_, err := m.Options.LookupErr("viewOn")
	return err != nil
}
