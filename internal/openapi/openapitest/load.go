// Package openapitest checks HTTP responses against the project's OpenAPI
// document, for tests. It is kept apart from package openapi so that the
// validator and its dependencies stay out of the server binary.
package openapitest

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/snapexport/snapexport/internal/openapi"
)

// Load parses the document and validates it against the OpenAPI 3.0 rules.
// Every call returns a fresh *openapi3.T, so callers may modify the result.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	return doc, nil
}
