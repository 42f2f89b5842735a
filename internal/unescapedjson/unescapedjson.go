// Package unescapedjson marshals JSON that keeps '<', '>' and '&' as they
// are, where encoding/json would write \u003c, \u003e and \u0026: the
// text of links, names and mongodump's metadata reads as it was given.
package unescapedjson

import (
	"bytes"
	"encoding/json"
)

// Marshal is json.Marshal without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := Append(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Append writes what Marshal returns to buf, whose bytes it leaves as they
// were on an error; a buffer kept between calls spares the growing of a
// new one.
func Append(buf *bytes.Buffer, v any) error {
	n := buf.Len()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Truncate(n)
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
