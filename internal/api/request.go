package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/snapexport/snapexport"
)

// maxBodyBytes bounds request bodies; every body of this API is tiny.
const maxBodyBytes = 1 << 20

// queryBool reads a boolean query parameter; absent gives def.
func queryBool(q url.Values, name string, def bool) (bool, error) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return def, nil
	}
	switch strings.ToLower(v[0]) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, snapexport.Errorf(snapexport.CodeInvalidQueryParameter, "Invalid query parameter %s=%s: expected true or false.", name, v[0])
}

// queryInt reads an integer query parameter within [lo, hi]; absent gives def.
func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < lo || n > hi {
		limit := "at least " + strconv.Itoa(lo)
		if hi < maxInt/maxItemsPerPage {
			limit = "between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi)
		}
		return 0, snapexport.Errorf(snapexport.CodeInvalidQueryParameter, "Invalid query parameter %s=%s: expected an integer "+limit+".", name, v[0])
	}
	return n, nil
}

const (
	maxInt          = int(^uint(0) >> 1)
	maxItemsPerPage = 500
)

// pagination are the list parameters every paginated operation takes.
type pagination struct {
	PageNum      int
	ItemsPerPage int
	IncludeCount bool
}

func parsePagination(q url.Values) (pagination, error) {
	var p pagination
	var err error
	if p.ItemsPerPage, err = queryInt(q, "itemsPerPage", 100, 1, maxItemsPerPage); err != nil {
		return p, err
	}
	// Bounded so that the offset of any page fits in an int.
	if p.PageNum, err = queryInt(q, "pageNum", 1, 1, maxInt/maxItemsPerPage); err != nil {
		return p, err
	}
	if p.IncludeCount, err = queryBool(q, "includeCount", true); err != nil {
		return p, err
	}
	return p, nil
}

func (p pagination) page() snapexport.Page {
	return snapexport.Page{Offset: (p.PageNum - 1) * p.ItemsPerPage, Limit: p.ItemsPerPage, SkipTotal: !p.IncludeCount}
}

// jsonMediaType reports whether a body of Content-Type ct is read as JSON:
// application/json, a versioned type such as
// application/vnd.atlas.2023-01-01+json, or none given (the body is then
// taken for what the operation reads).
func jsonMediaType(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// object is a decoded JSON request body, read field by field so that each
// problem gets the Atlas error for it.
type object map[string]json.RawMessage

// readObject decodes a JSON object body. A missing or empty body is an
// empty object, so required attributes are reported by name.
func readObject(r *http.Request) (object, error) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, snapexport.Errorf(snapexport.CodeValidationError, "The request body is larger than %s bytes.", strconv.Itoa(maxBodyBytes))
		}
		return nil, snapexport.Errorf(snapexport.CodeMalformedJSON, "Received JSON is malformed.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return object{}, nil
	}
	if ct := r.Header.Get("Content-Type"); !jsonMediaType(ct) {
		mt, _, _ := strings.Cut(ct, ";")
		return nil, snapexport.Errorf(snapexport.CodeUnsupportedMediaType,
			"The request body's media type %s is not supported; send application/json.", strings.TrimSpace(mt))
	}
	var o object
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&o); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, snapexport.Errorf(snapexport.CodeInvalidJSON, "Received JSON is not a valid object.")
		}
		return nil, snapexport.Errorf(snapexport.CodeMalformedJSON, "Received JSON is malformed.")
	}
	if _, err := dec.Token(); err != io.EOF { // anything after the object
		return nil, snapexport.Errorf(snapexport.CodeMalformedJSON, "Received JSON is malformed.")
	}
	if o == nil { // the body was `null`
		o = object{}
	}
	for k, v := range o {
		if string(v) == "null" {
			delete(o, k)
		}
	}
	return o, nil
}

// only rejects attributes outside writable: read-only ones with
// ATTRIBUTE_READ_ONLY, others with INVALID_ATTRIBUTE. Attributes are checked
// in name order so that the reported one does not depend on map order.
func (o object) only(writable, readOnly []string) error {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case slices.Contains(writable, k):
		case slices.Contains(readOnly, k):
			return snapexport.Errorf(snapexport.CodeAttributeReadOnly, "The attribute %s is read-only and cannot be changed by the user.", k)
		default:
			return snapexport.Errorf(snapexport.CodeInvalidAttribute, "Invalid attribute %s specified.", k)
		}
	}
	return nil
}

// readAttributes reads a JSON object body that may hold only the writable
// attributes (see object.only).
func readAttributes(r *http.Request, writable, readOnly []string) (object, error) {
	o, err := readObject(r)
	if err != nil {
		return nil, err
	}
	if err := o.only(writable, readOnly); err != nil {
		return nil, err
	}
	return o, nil
}

// pathParameter is the path's parameter name, or INVALID_PATH_PARAMETER
// when valid rejects it.
func (c *call) pathParameter(name string, valid func(string) bool) (string, error) {
	v := c.r.PathValue(name)
	if !valid(v) {
		return "", invalidPathParameter(name, v)
	}
	return v, nil
}

func invalidPathParameter(name, value string) *snapexport.Error {
	return snapexport.Errorf(snapexport.CodeInvalidPathParameter, "The path parameter %s has an invalid value %s.", name, value)
}

func missing(name string) *snapexport.Error {
	return snapexport.Errorf(snapexport.CodeMissingAttribute, "The required attribute %s was not specified.", name)
}

func wrongType(name string) *snapexport.Error {
	return snapexport.Errorf(snapexport.CodeInvalidJSONAttribute, "Received JSON for the %s attribute does not match expected format.", name)
}

// string reads a string attribute.
func (o object) string(name string, required bool) (string, error) {
	raw, ok := o[name]
	if !ok {
		if required {
			return "", missing(name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", wrongType(name)
	}
	if required && s == "" {
		return "", missing(name)
	}
	return s, nil
}

// boolean reads a boolean attribute.
func (o object) boolean(name string, required bool) (value, present bool, err error) {
	raw, ok := o[name]
	if !ok {
		if required {
			return false, false, missing(name)
		}
		return false, false, nil
	}
	if err := json.Unmarshal(raw, &value); err != nil {
		return false, true, wrongType(name)
	}
	return value, true, nil
}

// int32 reads an integer attribute of Atlas's int32 range; fractions and
// values out of range are of the wrong format.
func (o object) int32(name string, required bool) (int, error) {
	raw, ok := o[name]
	if !ok {
		if required {
			return 0, missing(name)
		}
		return 0, nil
	}
	var n int32
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, wrongType(name)
	}
	return int(n), nil
}

// objectID reads a string attribute that must be an ObjectId.
func (o object) objectID(name string, required bool) (string, error) {
	s, err := o.string(name, required)
	if err != nil || s == "" {
		return s, err
	}
	if !snapexport.IsObjectID(s) {
		return "", snapexport.Errorf(snapexport.CodeInvalidAttribute, "Invalid attribute %s specified: %s is not a 24-character hexadecimal id.", name, s)
	}
	return s, nil
}

// provider reads a cloud provider enum attribute.
func (o object) provider(name string, allowed []snapexport.CloudProvider) (snapexport.CloudProvider, error) {
	s, err := o.string(name, true)
	if err != nil {
		return "", err
	}
	p := snapexport.CloudProvider(s)
	if !slices.Contains(allowed, p) {
		return "", snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", s)
	}
	return p, nil
}

// pass names the client's pass through the pages of the list a request
// reads (see service.Service.ListBuckets): the principal, the path and the
// query without the parameters that choose a page or how it is rendered.
func (c *call) pass() string {
	if c.principal == nil {
		return ""
	}
	q := c.r.URL.Query()
	for _, k := range []string{"pageNum", "itemsPerPage", "includeCount", "envelope", "pretty"} {
		q.Del(k)
	}
	return c.principal.ID + "\n" + c.r.URL.Path + "?" + q.Encode()
}
