package openapitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks HTTP responses against Document. It is safe for
// concurrent use.
type Validator struct {
	doc      *openapi3.T
	router   routers.Router
	apiError *openapi3.SchemaRef
	opts     []openapi3.SchemaValidationOption
}

// uuidPattern accepts any RFC 9562 textual UUID, whatever its version.
const uuidPattern = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// atlasVersion extracts the date of a versioned Atlas media type.
var atlasVersion = regexp.MustCompile(`^application/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json$`)

// NewValidator loads Document and prepares a router over its paths. The
// router ignores scheme and host, so responses from any base URL (httptest
// servers included) are matched by path alone.
func NewValidator() (*Validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	// Match every host: with no servers the router compares paths only.
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: build router: %w", err)
	}
	apiError := doc.Components.Schemas["ApiError"]
	if apiError == nil {
		return nil, errors.New("openapi: document has no ApiError schema")
	}
	return &Validator{
		doc:      doc,
		router:   router,
		apiError: apiError,
		opts: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
		},
	}, nil
}

// ValidateResponse checks one response to req: the status must be declared
// for the operation, the Content-Type (parameters such as charset ignored)
// must be one the operation declares for that status, and the body must
// match the schema of that media type. Bodies of requests made with
// envelope=true are not checked. Responses to requests that match no
// documented operation are accepted only when they are errors carrying an
// ApiError body. The error names the method, path and status.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	if err := v.validate(req, status, header, body); err != nil {
		return fmt.Errorf("openapi: %s %s answered %d: %w", req.Method, requestPath(req), status, err)
	}
	return nil
}

func (v *Validator) validate(req *http.Request, status int, header http.Header, body []byte) error {
	if req.Method == http.MethodHead {
		return nil
	}
	if header == nil {
		header = http.Header{}
	}
	body, err := decodedBody(header, body)
	if err != nil {
		return err
	}
	envelope := isEnvelope(req)

	routed := req.Clone(context.Background())
	u := *req.URL
	u.Scheme, u.Host, u.User = "", "", nil
	routed.URL = &u
	routed.Host = ""

	route, params, err := v.router.FindRoute(routed)
	if err != nil {
		return v.validateUnrouted(err, status, header, body, envelope)
	}

	options := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		ExcludeResponseBody:     envelope,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: v.opts,
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    routed,
			PathParams: params,
			Route:      route,
			Options:    options,
		},
		Status:  status,
		Header:  header,
		Options: options,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return err
	}
	if envelope {
		return nil
	}
	if err := checkVersionEcho(req, route.Path, status, header); err != nil {
		return err
	}
	if err := checkKeyOrder(req, status, header, body); err != nil {
		return err
	}
	return checkErrorConsistency(status, header, body)
}

// checkKeyOrder: Atlas sends the keys of every JSON object in alphabetical
// order, but for a cluster's hardware specifications, which start with
// instanceSize. The digest challenge (Atlas's own fixed order) and pretty
// output are exempt.
func checkKeyOrder(req *http.Request, status int, header http.Header, body []byte) error {
	if req.URL.Query().Get("pretty") == "true" || header.Get("Www-Authenticate") != "" || len(bytes.TrimSpace(body)) == 0 ||
		!strings.Contains(header.Get("Content-Type"), "json") || strings.HasPrefix(req.URL.Path, "/api/oauth/") {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	type level struct {
		object  bool
		lastKey string
		keyed   bool // a key was seen
		wantKey bool
	}
	var stack []level
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("answered %d with a body that is not JSON: %w", status, err)
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].wantKey = true
				}
				stack = append(stack, level{object: t == '{', wantKey: t == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].wantKey {
				if stack[top].lastKey != "" && t < stack[top].lastKey {
					return fmt.Errorf("answered %d with key %q after %q: Atlas orders keys alphabetically", status, t, stack[top].lastKey)
				}
				if !(t == "instanceSize" && !stack[top].keyed) {
					stack[top].lastKey = t
				}
				stack[top].keyed, stack[top].wantKey = true, false
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// validateUnrouted handles responses to paths or methods the document does
// not describe: only an error answer with an ApiError body is acceptable.
func (v *Validator) validateUnrouted(routeErr error, status int, header http.Header, body []byte, envelope bool) error {
	if status < 400 {
		return fmt.Errorf("no documented operation (%v)", routeErr)
	}
	if envelope {
		return nil
	}
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return fmt.Errorf("no documented operation (%v), and the error body is %q rather than application/json", routeErr, header.Get("Content-Type"))
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("no documented operation (%v), and the error body is not JSON: %w", routeErr, err)
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.VisitAsResponse()}, v.opts...)
	if err := v.apiError.Value.VisitJSON(value, opts...); err != nil {
		return fmt.Errorf("no documented operation (%v), and the body is not an ApiError: %w", routeErr, err)
	}
	return checkErrorConsistency(status, header, body)
}

// checkVersionEcho requires a successful v2 answer to be served in the
// version the request asked for, when it asked for exactly one.
func checkVersionEcho(req *http.Request, path string, status int, header http.Header) error {
	if status < 200 || status > 299 || !strings.HasPrefix(path, "/api/atlas/v2/") {
		return nil
	}
	var asked []string
	for _, accept := range req.Header.Values("Accept") {
		for _, part := range strings.Split(accept, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if m := atlasVersion.FindStringSubmatch(mt); m != nil {
				asked = append(asked, m[1])
			}
		}
	}
	if len(asked) != 1 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return nil // ValidateResponse has already judged the Content-Type.
	}
	if m := atlasVersion.FindStringSubmatch(mt); m != nil && m[1] != asked[0] {
		return fmt.Errorf("request asked for version %s but the answer is served as %s", asked[0], m[1])
	}
	return nil
}

// checkErrorConsistency compares an ApiError body with the response it came
// in: "error" must repeat the HTTP status, and an X-Error-Code header, when
// present, must repeat "errorCode".
func checkErrorConsistency(status int, header http.Header, body []byte) error {
	if status < 400 {
		return nil
	}
	var apiErr struct {
		Error     json.RawMessage `json:"error"`
		ErrorCode *string         `json:"errorCode"`
	}
	if json.Unmarshal(body, &apiErr) != nil || apiErr.ErrorCode == nil {
		return nil // not an ApiError (e.g. an OAuth error body)
	}
	var code int
	if json.Unmarshal(apiErr.Error, &code) == nil && code != status {
		return fmt.Errorf(`ApiError "error" is %d, not the HTTP status`, code)
	}
	if got := header.Get("X-Error-Code"); got != "" && got != *apiErr.ErrorCode {
		return fmt.Errorf("X-Error-Code header %q differs from errorCode %q", got, *apiErr.ErrorCode)
	}
	return nil
}

// decodedBody undoes a gzip Content-Encoding, which the caller sees only
// when it asked for compression itself.
func decodedBody(header http.Header, body []byte) ([]byte, error) {
	if !strings.EqualFold(strings.TrimSpace(header.Get("Content-Encoding")), "gzip") || len(body) == 0 {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	defer zr.Close()
	plain, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	return plain, nil
}

func isEnvelope(req *http.Request) bool {
	if req.URL == nil {
		return false
	}
	return strings.EqualFold(req.URL.Query().Get("envelope"), "true")
}

func requestPath(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	return (&url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath}).EscapedPath()
}

// Transport returns a RoundTripper that sends each request through base
// (http.DefaultTransport when nil), validates the response with
// ValidateResponse and reports any mismatch with t.Errorf. The response body
// is buffered and handed back unread, so callers use the response as usual.
func (v *Validator) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &validatingTransport{v: v, t: t, base: base}
}

type validatingTransport struct {
	v    *Validator
	t    testing.TB
	base http.RoundTripper
}

func (vt *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := vt.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	var body []byte
	if resp.Body != nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			vt.t.Errorf("openapi: %s %s: reading response body: %v", req.Method, requestPath(req), err)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := vt.v.ValidateResponse(req, resp.StatusCode, resp.Header, body); err != nil {
		vt.t.Errorf("%v", err)
	}
	return resp, nil
}
