package objectstore

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// A local bucket keeps each object in a file whose path is the object's
// key mapped segment by segment (segments are what lies between "/"), so
// that no two keys share a file: a file system folds "", "." and ".."
// segments into their neighbours and refuses names longer than 255 bytes,
// which object stores take as they are (an export of collection "y/." or
// "y//" must not land on collection "y"). Each segment is escaped with
// '%' and two upper-case hex digits, the escape character itself
// included, which makes the mapping injective and reversible:
//
//   - '%' and the control characters (0x00-0x1F, 0x7F) are escaped;
//   - a trailing '.' or ' ' is escaped, so "." and ".." become "%2E" and
//     ".%2E" (Windows also drops trailing dots and spaces);
//   - in the last segment, the '.' that starts a ".attrs" or ".tmp"
//     ending is escaped, those being fileblob's attribute files and the
//     temporary files RemoveIncomplete deletes;
//   - an empty segment becomes "%";
//   - an escaped segment longer than maxLocalSegment bytes is cut into
//     pieces of at most that length (never inside a %XX or a UTF-8
//     character), each but the last followed by "%~" and a "/".
//
// Every other byte stays, so ordinary names are their own file names.
// fileblob still escapes what is special to the platform's paths (on
// Windows \ < > : " | ? *) and reverses it when listing.
const maxLocalSegment = 200

// localPath maps an object key to its path in a local bucket ("/"
// separated).
func localPath(key string) string {
	segs := strings.Split(key, "/")
	var b strings.Builder
	b.Grow(len(key) + 8)
	for i, seg := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		writeLocalSegment(&b, seg, i == len(segs)-1)
	}
	return b.String()
}

func writeLocalSegment(b *strings.Builder, seg string, last bool) {
	if seg == "" {
		b.WriteByte('%')
		return
	}
	const hexDigits = "0123456789ABCDEF"
	// dot is the index of a '.' to escape in a fileblob-reserved ending
	dot := -1
	if last {
		for _, end := range []string{".attrs", ".tmp"} {
			if strings.HasSuffix(seg, end) {
				dot = len(seg) - len(end)
			}
		}
	}
	esc := make([]byte, 0, len(seg)+8)
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c == '%', c < 0x20, c == 0x7f, i == dot,
			i == len(seg)-1 && (c == '.' || c == ' '):
			esc = append(esc, '%', hexDigits[c>>4], hexDigits[c&15])
		default:
			esc = append(esc, c)
		}
	}
	for len(esc) > maxLocalSegment {
		cut := maxLocalSegment
		for j := cut - 2; j < cut; j++ {
			if esc[j] == '%' {
				cut = j
				break
			}
		}
		for cut > 0 && !utf8.RuneStart(esc[cut]) {
			cut--
		}
		b.Write(esc[:cut])
		b.WriteString("%~/")
		esc = esc[cut:]
	}
	b.Write(esc)
}

// keyOfLocalPath reverses localPath; false for a path localPath does not
// make (a file put in the bucket's folder by other means).
func keyOfLocalPath(path string) (string, bool) {
	var b strings.Builder
	b.Grow(len(path))
	joinNext := false
	for i, seg := range strings.Split(path, "/") {
		if i > 0 && !joinNext {
			b.WriteByte('/')
		}
		joinNext = strings.HasSuffix(seg, "%~")
		switch {
		case seg == "%":
			continue
		case joinNext:
			seg = seg[:len(seg)-2]
		}
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			if c != '%' {
				b.WriteByte(c)
				continue
			}
			if j+2 >= len(seg) || unhex(seg[j+1]) < 0 || unhex(seg[j+2]) < 0 {
				return "", false
			}
			b.WriteByte(byte(unhex(seg[j+1])<<4 | unhex(seg[j+2])))
			j += 2
		}
	}
	key := b.String()
	if joinNext || localPath(key) != path {
		return "", false
	}
	return key, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// localKeys is a bucket driver over a fileblob bucket that stores every
// key at its localPath.
type localKeys struct {
	files *blob.Bucket
}

func newLocalKeysBucket(files *blob.Bucket) *blob.Bucket {
	return blob.NewBucket(&localKeys{files: files})
}

func (l *localKeys) ErrorCode(err error) gcerrors.ErrorCode { return gcerrors.Code(err) }
func (l *localKeys) As(i any) bool                          { return l.files.As(i) }
func (l *localKeys) ErrorAs(err error, i any) bool          { return l.files.ErrorAs(err, i) }
func (l *localKeys) Close() error                           { return l.files.Close() }

func (l *localKeys) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	a, err := l.files.Attributes(ctx, localPath(key))
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl: a.CacheControl, ContentDisposition: a.ContentDisposition, ContentEncoding: a.ContentEncoding,
		ContentLanguage: a.ContentLanguage, ContentType: a.ContentType, Metadata: a.Metadata,
		CreateTime: a.CreateTime, ModTime: a.ModTime, Size: a.Size, MD5: a.MD5, ETag: a.ETag, AsFunc: a.As,
	}, nil
}

// ListPaged lists the whole folder under the prefix's complete segments
// at each call, as fileblob itself walks it, and pages through the keys
// sorted after mapping back; the page token is the last key returned.
func (l *localKeys) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	var under string
	if i := strings.LastIndexByte(opts.Prefix, '/'); i >= 0 {
		under = localPath(opts.Prefix[:i]) + "/"
	}
	it := l.files.List(&blob.ListOptions{Prefix: under, BeforeList: opts.BeforeList})
	var all []*driver.ListObject
	seenDir := map[string]bool{}
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		key, ok := keyOfLocalPath(obj.Key)
		if !ok || !strings.HasPrefix(key, opts.Prefix) {
			continue
		}
		if opts.Delimiter != "" {
			if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				dir := key[:len(opts.Prefix)+i+len(opts.Delimiter)]
				if !seenDir[dir] {
					seenDir[dir] = true
					all = append(all, &driver.ListObject{Key: dir, IsDir: true, AsFunc: func(any) bool { return false }})
				}
				continue
			}
		}
		all = append(all, &driver.ListObject{Key: key, ModTime: obj.ModTime, Size: obj.Size, MD5: obj.MD5, AsFunc: obj.As})
	}
	slices.SortFunc(all, func(a, b *driver.ListObject) int { return strings.Compare(a.Key, b.Key) })
	if len(opts.PageToken) > 0 {
		after := string(opts.PageToken)
		n, _ := slices.BinarySearchFunc(all, after, func(o *driver.ListObject, k string) int {
			if o.Key <= k {
				return -1
			}
			return 1
		})
		all = all[n:]
	}
	page := &driver.ListPage{Objects: all}
	if size := opts.PageSize; size > 0 && len(all) > size {
		page.Objects = all[:size]
		page.NextPageToken = []byte(all[size-1].Key)
	}
	return page, nil
}

func (l *localKeys) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	r, err := l.files.NewRangeReader(ctx, localPath(key), offset, length, &blob.ReaderOptions{BeforeRead: opts.BeforeRead})
	if err != nil {
		return nil, err
	}
	return localReader{r}, nil
}

type localReader struct{ *blob.Reader }

func (r localReader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.ContentType(), ModTime: r.ModTime(), Size: r.Size()}
}

// NewTypedWriter leaves ContentMD5 to the outer blob.Writer, which checks
// it and cancels this writer on a mismatch: hashing twice would halve
// WriteAll's speed.
func (l *localKeys) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	return l.files.NewWriter(ctx, localPath(key), &blob.WriterOptions{
		BufferSize: opts.BufferSize, MaxConcurrency: opts.MaxConcurrency,
		CacheControl: opts.CacheControl, ContentDisposition: opts.ContentDisposition, ContentEncoding: opts.ContentEncoding,
		ContentLanguage: opts.ContentLanguage, ContentType: contentType,
		Metadata: opts.Metadata, BeforeWrite: opts.BeforeWrite, IfNotExist: opts.IfNotExist,
	})
}

func (l *localKeys) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	return l.files.Copy(ctx, localPath(dstKey), localPath(srcKey), &blob.CopyOptions{BeforeCopy: opts.BeforeCopy})
}

func (l *localKeys) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	return l.files.Delete(ctx, localPath(key))
}

func (l *localKeys) SignedURL(ctx context.Context, key string, opts *driver.SignedURLOptions) (string, error) {
	return l.files.SignedURL(ctx, localPath(key), &blob.SignedURLOptions{
		Expiry: opts.Expiry, Method: opts.Method, ContentType: opts.ContentType,
		EnforceAbsentContentType: opts.EnforceAbsentContentType, BeforeSign: opts.BeforeSign,
	})
}
