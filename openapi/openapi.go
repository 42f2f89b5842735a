// Package openapi holds the OpenAPI 3.0 document of the API that snapexport
// serves, and a response validator built on it for use in tests.
package openapi

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Document is the OpenAPI 3.0.3 description of the snapexport API, as YAML.
// The server publishes it at /api/atlas/v2/openapi.yaml.
//
//go:embed openapi.yaml
var Document []byte

// Load parses Document and validates it against the OpenAPI 3.0 rules. Every
// call returns a fresh *openapi3.T, so callers may modify the result.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(Document)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	return doc, nil
}
