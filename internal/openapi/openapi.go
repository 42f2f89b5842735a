// Package openapi holds the OpenAPI 3.0 document of the API that snapexport
// serves; package openapitest validates responses against it in tests.
package openapi

import _ "embed"

// Document is the OpenAPI 3.0.3 description of the snapexport API, as YAML.
// The server publishes it at /api/atlas/v2/openapi.yaml.
//
//go:embed openapi.yaml
var Document []byte
