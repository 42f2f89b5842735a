package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/unescapedjson"
)

// encode turns v into Atlas's wire form: keys in alphabetical order at every
// level (Atlas serializes sorted), compact, or indented the way Atlas's
// pretty printer does when pretty is set. Compact output relies on every
// view struct declaring its fields in alphabetical JSON order; the API tests
// check the order of every body.
func encode(v any, pretty bool) ([]byte, error) {
	if !pretty {
		// The views declare their fields in alphabetical order and
		// encoding/json sorts map keys, so one pass is enough.
		return compact(v)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	if !pretty {
		return compact(tree)
	}
	var buf bytes.Buffer
	writePretty(&buf, tree, 0)
	return buf.Bytes(), nil
}

// compact marshals v, unescaped so that URLs in links read as Atlas
// prints them.
func compact(tree any) ([]byte, error) { return unescapedjson.Marshal(tree) }

// writePretty reproduces Jackson's default pretty printer, which Atlas uses:
// two-space indented objects with `"key" : value`, arrays on one line as
// `[ a, b ]`, empty containers as `{ }` and `[ ]`.
func writePretty(buf *bytes.Buffer, v any, depth int) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			buf.WriteString("{ }")
			return
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteString("{\n")
		for i, k := range keys {
			indent(buf, depth+1)
			writeScalar(buf, k)
			buf.WriteString(" : ")
			writePretty(buf, t[k], depth+1)
			if i < len(keys)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		indent(buf, depth)
		buf.WriteByte('}')
	case []any:
		if len(t) == 0 {
			buf.WriteString("[ ]")
			return
		}
		buf.WriteString("[ ")
		for i, e := range t {
			if i > 0 {
				buf.WriteString(", ")
			}
			writePretty(buf, e, depth)
		}
		buf.WriteString(" ]")
	default:
		writeScalar(buf, t)
	}
}

func indent(buf *bytes.Buffer, depth int) {
	for range depth {
		buf.WriteString("  ")
	}
}

func writeScalar(buf *bytes.Buffer, v any) {
	b, _ := compact(v)
	buf.Write(b)
}

// apiError is the ApiError body.
type apiError struct {
	BadRequestDetail *badRequestDetail `json:"badRequestDetail,omitempty"`
	Detail           string            `json:"detail"`
	Error            int               `json:"error"`
	ErrorCode        string            `json:"errorCode"`
	Parameters       []string          `json:"parameters"`
	Reason           string            `json:"reason"`
}

type badRequestDetail struct {
	Fields []snapexport.FieldError `json:"fields"`
}

func newAPIError(e *snapexport.Error) apiError {
	params := e.Params
	if params == nil {
		params = []string{}
	}
	status := Status(e.Code)
	body := apiError{Detail: e.Detail, Error: status, ErrorCode: e.Code, Parameters: params, Reason: http.StatusText(status)}
	if len(e.Fields) > 0 {
		body.BadRequestDetail = &badRequestDetail{Fields: e.Fields}
	}
	return body
}

// writeError renders e as Atlas does: application/json, X-Error-Code.
func writeError(w http.ResponseWriter, e *snapexport.Error, pretty, envelope bool) {
	body := newAPIError(e)
	var v any = body
	if envelope {
		v = map[string]any{"status": body.Error, "content": v}
	}
	data, _ := encode(v, pretty)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Error-Code", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(body.Error)
	w.Write(data)
}

// digestChallengeBody is the body of Atlas's digest challenge, which unlike
// other errors is pretty-printed in Atlas's field order.
const digestChallengeBody = `{
  "error" : 401,
  "reason" : "Unauthorized",
  "detail" : "You are not authorized for this resource.",
  "errorCode" : "UNEXPECTED_ERROR"
}`

func writeChallenge(w http.ResponseWriter, challenge string) {
	h := w.Header()
	h.Set("Www-Authenticate", challenge)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(digestChallengeBody)))
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(digestChallengeBody))
}
