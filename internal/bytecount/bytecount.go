// Package bytecount counts the bytes that pass through a reader or a
// writer.
package bytecount

import "io"

// Reader reads from R and counts the bytes it has read in N.
type Reader struct {
	R io.Reader
	counter
}

func (r *Reader) Read(p []byte) (int, error) { return r.add(r.R.Read(p)) }

// Writer writes to W and counts the bytes it has written in N.
type Writer struct {
	W io.Writer
	counter
}

func (w *Writer) Write(p []byte) (int, error) { return w.add(w.W.Write(p)) }

// counter adds up the bytes that the calls it is given moved.
type counter struct{ N int64 }

func (c *counter) add(n int, err error) (int, error) {
	c.N += int64(n)
	return n, err
}
