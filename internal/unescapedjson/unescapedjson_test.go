package unescapedjson

import (
	"bytes"
	"testing"
)

func TestMarshal(t *testing.T) {
	got, err := Marshal(map[string]string{"href": "https://host/a?b=1&c=<d>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"href":"https://host/a?b=1&c=<d>"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

// TestAppend: Append writes Marshal's bytes after what buf holds, and
// leaves buf as it was when v cannot be encoded.
func TestAppend(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("kept:")
	if err := Append(&buf, []string{"a&b", "<c>"}); err != nil {
		t.Fatal(err)
	}
	if want := `kept:["a&b","<c>"]`; buf.String() != want {
		t.Errorf("Append wrote %q, want %q", buf.String(), want)
	}
	if err := Append(&buf, map[string]any{"f": func() {}}); err == nil {
		t.Error("Append of a func succeeded")
	}
	if want := `kept:["a&b","<c>"]`; buf.String() != want {
		t.Errorf("after a failed Append the buffer holds %q, want %q", buf.String(), want)
	}
}
