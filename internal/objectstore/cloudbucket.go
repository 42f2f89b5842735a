//go:build !snapexport_localbuckets

package objectstore

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"gocloud.dev/blob/driver"
)

// The cloud buckets (s3bucket.go, azurebucket.go, gcsbucket.go) store each
// key as the object's name byte for byte, as Atlas writes it, so that any
// other reader of the bucket sees Atlas's layout. Where a store cannot
// hold a byte of a key, keyEscape says which bytes it escapes.

// defaultListPageSize is the page size of a listing that names none.
const defaultListPageSize = 1000

// keyEscape is the set of bytes a store cannot hold in an object name:
// each becomes '%' and two upper-case hex digits, and a '%' that would
// read as such an escape (of one of these bytes or of '%' itself, "%25")
// is written "%25". Every other byte stays, so keys without those bytes,
// and '%' elsewhere, are their names. The empty set stores every key
// verbatim.
type keyEscape string

const hexDigits = "0123456789ABCDEF"

// name is the object name of key.
func (e keyEscape) name(key string) string {
	if e == "" || !strings.ContainsAny(key, string(e)+"%") {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 8)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if strings.IndexByte(string(e), c) >= 0 || c == '%' && e.escaped(key[i:]) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// escaped reports whether s starts with an escape: '%' and the upper-case
// hex digits of '%' or of a byte of e.
func (e keyEscape) escaped(s string) bool {
	if len(s) < 3 || s[0] != '%' || unhex(s[1]) < 0 || unhex(s[2]) < 0 {
		return false
	}
	c := byte(unhex(s[1])<<4 | unhex(s[2]))
	return c == '%' || strings.IndexByte(string(e), c) >= 0
}

// key reverses name.
func (e keyEscape) key(name string) string {
	if e == "" || !strings.Contains(name, "%") {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		if e.escaped(name[i:]) {
			b.WriteByte(byte(unhex(name[i+1])<<4 | unhex(name[i+2])))
			i += 2
			continue
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

// listPrefix is the name prefix that lists every key starting with prefix:
// its name, cut before a trailing '%' or '%' and one digit, which the
// names of longer keys may continue as an escape. The listing then keeps
// the keys that start with prefix.
func (e keyEscape) listPrefix(prefix string) string {
	p := e.name(prefix)
	if e == "" {
		return p
	}
	if i := strings.LastIndexByte(p, '%'); i >= 0 && i >= len(p)-2 {
		return p[:i]
	}
	return p
}

// sortListed orders a page by key: stores list objects and "directories"
// apart.
func sortListed(objects []*driver.ListObject) {
	slices.SortFunc(objects, func(a, b *driver.ListObject) int { return strings.Compare(a.Key, b.Key) })
}

// streamWriter is a driver.Writer that streams what is written to upload,
// which runs from the first Write (or, for an empty object, from Close)
// and reads the bytes as they come, through a pipe: the SDK's uploader
// alone decides how much it buffers. ctx is the upload's, which
// blob.Writer cancels to abort it.
type streamWriter struct {
	ctx    context.Context
	upload func(body io.Reader) error

	pw   *io.PipeWriter
	done chan struct{}
	err  error // the upload's, set before done closes
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.pw == nil {
		pr, pw := io.Pipe()
		w.pw, w.done = pw, make(chan struct{})
		go func() {
			defer close(w.done)
			w.err = w.upload(pr)
			// A failed upload stops reading: the writer's next Write fails
			// with its error instead of blocking.
			pr.CloseWithError(w.err)
		}()
	}
	return w.pw.Write(p)
}

func (w *streamWriter) Close() error {
	if w.pw == nil {
		return w.upload(http.NoBody)
	}
	// An aborted write ends the body with an error rather than EOF, so
	// that the upload cannot complete the object with what it already has.
	_ = w.pw.CloseWithError(w.ctx.Err())
	<-w.done
	return w.err
}

// objectSize is an object's whole size from a ranged read's Content-Range
// ("bytes 10-14/27"), else contentLength.
func objectSize(contentLength int64, contentRange string) int64 {
	if i := strings.LastIndexByte(contentRange, '/'); i >= 0 {
		if n, err := strconv.ParseInt(contentRange[i+1:], 10, 64); err == nil {
			return n
		}
	}
	return contentLength
}

// cloudReader is a driver.Reader over an SDK's response body.
type cloudReader struct {
	io.ReadCloser
	attrs driver.ReaderAttributes
	as    func(any) bool
}

func (r *cloudReader) Attributes() *driver.ReaderAttributes { return &r.attrs }
func (r *cloudReader) As(i any) bool                        { return r.as(i) }

// emptyRead is what a read of length 0 gives: no body, whatever the store
// sent (stores read at least one byte of a range).
func emptyRead(length int64, body io.ReadCloser) io.ReadCloser {
	if length == 0 {
		_ = body.Close()
		return http.NoBody
	}
	return body
}

// exposeAs is an As function that gives v to a *T: how the drivers expose
// the SDK's values (client, request, response) to As and to the Before
// hooks.
func exposeAs[T any](v T) func(any) bool {
	return func(i any) bool {
		p, ok := i.(*T)
		if ok {
			*p = v
		}
		return ok
	}
}

// callBefore runs a driver's Before* hook, if any, with as.
func callBefore(hook func(func(any) bool) error, as func(any) bool) error {
	if hook == nil {
		return nil
	}
	return hook(as)
}

// cloudBucket holds what the cloud drivers do alike: the SDK's errors as
// they are for ErrorAs, Copy and SignedURL unimplemented (nothing here
// uses them), and nothing to release on Close (Stores caches the clients).
type cloudBucket struct{}

func (cloudBucket) Close() error                  { return nil }
func (cloudBucket) ErrorAs(err error, i any) bool { return errors.As(err, i) }

func (cloudBucket) Copy(context.Context, string, string, *driver.CopyOptions) error {
	return errUnimplemented
}

func (cloudBucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errUnimplemented
}

// errUnimplemented answers the driver operations nothing here uses (Copy,
// SignedURL); the drivers' ErrorCode makes it gcerrors.Unimplemented.
var errUnimplemented = errors.New("objectstore: not implemented for cloud buckets")
