package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/unescapedjson"
)

// encode turns v into Atlas's wire form: compact, or indented the way
// Atlas's pretty printer does when pretty is set. Keys come in the order
// the views declare their fields (alphabetical, as Atlas serializes, but
// for the few fields Atlas puts first, like a hardware spec's
// instanceSize) and maps sort theirs; the API tests check the order of
// every body. The pretty form keeps the compact form's order.
func encode(v any, pretty bool) ([]byte, error) {
	raw, err := compact(v)
	if err != nil || !pretty {
		return raw, err
	}
	var buf bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := writePretty(&buf, dec, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compact marshals v, unescaped so that URLs in links read as Atlas
// prints them.
func compact(tree any) ([]byte, error) { return unescapedjson.Marshal(tree) }

// encodeInto writes encode's bytes to buf, which is empty.
func encodeInto(buf *bytes.Buffer, v any, pretty bool) error {
	if !pretty {
		return unescapedjson.Append(buf, v)
	}
	data, err := encode(v, true)
	buf.Write(data)
	return err
}

// answerBuffers hold answers' bodies while they are written, kept between
// requests: a list page's 150 KB, grown anew for each answer, was a sixth
// of all a busy server allocated, and garbage is what makes it collect.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxKeptAnswer bounds the buffers answerBuffers keeps, so that one large
// answer does not hold its memory for good.
const maxKeptAnswer = 1 << 20

func keepAnswerBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxKeptAnswer {
		buf.Reset()
		answerBuffers.Put(buf)
	}
}

// writePretty reproduces Jackson's default pretty printer, which Atlas uses:
// two-space indented objects with `"key" : value`, arrays on one line as
// `[ a, b ]`, empty containers as `{ }` and `[ ]`. It reads the next value
// from dec, keeping its keys' order.
func writePretty(buf *bytes.Buffer, dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		if !dec.More() {
			buf.WriteString("{ }")
			_, err := dec.Token()
			return err
		}
		buf.WriteString("{\n")
		for first := true; dec.More(); first = false {
			if !first {
				buf.WriteString(",\n")
			}
			key, err := dec.Token()
			if err != nil {
				return err
			}
			indent(buf, depth+1)
			writeScalar(buf, key)
			buf.WriteString(" : ")
			if err := writePretty(buf, dec, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('\n')
		indent(buf, depth)
		buf.WriteByte('}')
		_, err := dec.Token()
		return err
	case json.Delim('['):
		if !dec.More() {
			buf.WriteString("[ ]")
			_, err := dec.Token()
			return err
		}
		buf.WriteString("[ ")
		for first := true; dec.More(); first = false {
			if !first {
				buf.WriteString(", ")
			}
			if err := writePretty(buf, dec, depth); err != nil {
				return err
			}
		}
		buf.WriteString(" ]")
		_, err := dec.Token()
		return err
	}
	writeScalar(buf, tok)
	return nil
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
