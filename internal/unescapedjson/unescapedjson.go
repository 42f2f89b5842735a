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
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
