package bytecount

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	r := &Reader{R: strings.NewReader("hello, world")}
	var buf bytes.Buffer
	w := &Writer{W: &buf}
	n, err := io.CopyBuffer(w, r, make([]byte, 5))
	if err != nil || n != 12 {
		t.Fatalf("copied %d bytes, %v; want 12", n, err)
	}
	if r.N != 12 || w.N != 12 {
		t.Errorf("read %d, wrote %d; want 12 and 12", r.N, w.N)
	}
	if buf.String() != "hello, world" {
		t.Errorf("wrote %q", buf.String())
	}
}
