package dump

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

const (
	bufSize = 64 << 10
	minBuf  = 64 << 10
)

// stream reads BSON documents and terminators from a possibly gzipped
// input, keeping the offset in the (decompressed) stream for errors.
type stream struct {
	name string
	r    *bufio.Reader
	pos  int64
	gz   bool
	zr   *gzip.Reader
	buf  []byte
	hdr  [4]byte
}

// isGzip reports whether b starts with a gzip member header (ID1 ID2 CM=8).
func isGzip(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8
}

// newStream wraps r; gz is "auto" detection when nil, else forced.
func newStream(r io.Reader, name string, gz *bool) (*stream, error) {
	br := bufio.NewReaderSize(r, bufSize)
	s := &stream{name: name, r: br}
	use := false
	if gz != nil {
		use = *gz
	} else {
		head, _ := br.Peek(3)
		use = isGzip(head)
	}
	if use {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{File: name, Offset: 0, Reason: "invalid gzip header: " + err.Error(), Err: err}
		}
		s.gz, s.zr = true, zr
		s.r = bufio.NewReaderSize(zr, bufSize)
	}
	return s, nil
}

func (s *stream) errAt(off int64, ns, format string, args ...any) *FormatError {
	return &FormatError{File: s.name, Offset: off, Uncompressed: s.gz, Namespace: ns, Reason: fmt.Sprintf(format, args...)}
}

// readErr turns an error of the underlying reader into a FormatError; what
// describes the item being read.
func (s *stream) readErr(off int64, ns, what string, err error) *FormatError {
	fe := s.errAt(off, ns, "")
	fe.Err = err
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		fe.Reason = fmt.Sprintf("truncated input: it ends at offset %d, inside %s", s.pos, what)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		fe.Reason = fmt.Sprintf("corrupt gzip data (reading %s): %v", what, err)
	default:
		fe.Reason = fmt.Sprintf("read error (reading %s): %v", what, err)
	}
	return fe
}

func (s *stream) readFull(p []byte) (int, error) {
	n, err := io.ReadFull(s.r, p)
	s.pos += int64(n)
	return n, err
}

// readItem reads a terminator (only when allowTerm) or a document. It
// returns io.EOF, unwrapped, when the input ends cleanly before the item.
// The document is valid until the next call.
func (s *stream) readItem(allowTerm bool, ns, what string) (doc []byte, isTerm bool, start int64, err error) {
	start = s.pos
	hdr := s.hdr[:]
	n, err := s.readFull(hdr)
	if err != nil {
		if n == 0 && err == io.EOF {
			return nil, false, start, io.EOF
		}
		return nil, false, start, s.readErr(start, ns, "the length of "+what, err)
	}
	v := binary.LittleEndian.Uint32(hdr)
	if v == terminator && allowTerm {
		return nil, true, start, nil
	}
	size := int64(int32(v))
	if size < 5 {
		if allowTerm {
			return nil, false, start, s.errAt(start, ns, "%d is neither a valid BSON document length nor a terminator (reading %s)", size, what)
		}
		return nil, false, start, s.errAt(start, ns, "invalid BSON document length %d (reading %s)", size, what)
	}
	if size > MaxDocumentSize {
		return nil, false, start, s.errAt(start, ns, "document of %d bytes is larger than the maximum of %d bytes (16 MiB + 16 KiB) (reading %s)", size, MaxDocumentSize, what)
	}
	// The buffer grows as bytes arrive, so that a corrupt length in a short
	// input does not allocate 16 MiB up front; it is then reused.
	need := int(size)
	b := s.buf[:0]
	if cap(b) < minBuf {
		b = make([]byte, 0, minBuf)
	}
	b = append(b, hdr...)
	for len(b) < need {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(max(2*cap(b), minBuf), need))
			copy(nb, b)
			b = nb
		}
		n, err := s.readFull(b[len(b):min(cap(b), need)])
		b = b[:len(b)+n]
		if err != nil {
			s.buf = b
			return nil, false, start, s.readErr(start, ns, fmt.Sprintf("%s, a document of %d bytes of which %d were read", what, size, s.pos-start), err)
		}
	}
	s.buf = b
	if err := validateDocument(b); err != nil {
		off := start
		var be *bsonError
		if errors.As(err, &be) {
			off += int64(be.off)
		}
		return nil, false, start, &FormatError{File: s.name, Offset: off, Uncompressed: s.gz, Namespace: ns,
			Reason: fmt.Sprintf("corrupt BSON in %s at offset %d: %v", what, start, err), Err: err}
	}
	return b, false, start, nil
}

func (s *stream) close() error {
	if s.zr != nil {
		return s.zr.Close()
	}
	return nil
}
