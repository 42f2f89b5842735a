//go:build !snapexport_localbuckets

package objectstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
)

// gcsKeys: Cloud Storage refuses object names holding a carriage return
// or a line feed, which are stored as "%0D" and "%0A". Every other byte
// is stored as it is.
const gcsKeys keyEscape = "\r\n"

// gcsBucket is a Cloud Storage bucket whose object names are the keys,
// but for gcsKeys.
type gcsBucket struct {
	cloudBucket
	client *storage.Client
	bucket *storage.BucketHandle
}

func newGCSBucket(client *storage.Client, bucket string) *blob.Bucket {
	return blob.NewBucket(&gcsBucket{client: client, bucket: client.Bucket(bucket)})
}

func (b *gcsBucket) As(i any) bool { return exposeAs(b.client)(i) }

// ErrorCode gives the storage client's errors the codes gocloud.dev's
// gcsblob gives them, which the export runner's classification expects;
// a 403 is NotFound, Cloud Storage answering it for a bucket that may not
// exist.
func (b *gcsBucket) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, errUnimplemented) {
		return gcerrors.Unimplemented
	}
	if errors.Is(err, storage.ErrObjectNotExist) || errors.Is(err, storage.ErrBucketNotExist) {
		return gcerrors.NotFound
	}
	if gerr, ok := err.(*googleapi.Error); ok {
		switch gerr.Code {
		case http.StatusForbidden, http.StatusNotFound:
			return gcerrors.NotFound
		case http.StatusPreconditionFailed:
			return gcerrors.FailedPrecondition
		case http.StatusTooManyRequests:
			return gcerrors.ResourceExhausted
		}
	}
	return gcerrors.Unknown
}

func (b *gcsBucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	attrs, err := b.bucket.Object(gcsKeys.name(key)).Attrs(ctx)
	if err != nil {
		return nil, err
	}
	etag := attrs.Etag
	if !strings.HasPrefix(etag, `W/"`) && !strings.HasPrefix(etag, `"`) {
		// The client drops the quotes of an ETag.
		etag = fmt.Sprintf("%q", etag)
	}
	return &driver.Attributes{
		CacheControl:       attrs.CacheControl,
		ContentDisposition: attrs.ContentDisposition,
		ContentEncoding:    attrs.ContentEncoding,
		ContentLanguage:    attrs.ContentLanguage,
		ContentType:        attrs.ContentType,
		Metadata:           attrs.Metadata,
		CreateTime:         attrs.Created,
		ModTime:            attrs.Updated,
		Size:               attrs.Size,
		MD5:                attrs.MD5,
		ETag:               etag,
		AsFunc:             exposeAs(*attrs),
	}, nil
}

func (b *gcsBucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	query := &storage.Query{Prefix: gcsKeys.listPrefix(opts.Prefix), Delimiter: gcsKeys.name(opts.Delimiter)}
	if err := callBefore(opts.BeforeList, exposeAs(query)); err != nil {
		return nil, err
	}
	var objects []*storage.ObjectAttrs
	next, err := iterator.NewPager(b.bucket.Objects(ctx, query), cmp.Or(opts.PageSize, defaultListPageSize), string(opts.PageToken)).NextPage(&objects)
	if err != nil {
		return nil, err
	}
	page := &driver.ListPage{Objects: make([]*driver.ListObject, 0, len(objects)), NextPageToken: []byte(next)}
	for _, obj := range objects {
		as := exposeAs(*obj)
		o := &driver.ListObject{Key: gcsKeys.key(obj.Name), ModTime: obj.Updated, Size: obj.Size, MD5: obj.MD5, AsFunc: as}
		if obj.Prefix != "" {
			o = &driver.ListObject{Key: gcsKeys.key(obj.Prefix), IsDir: true, AsFunc: as}
		}
		if strings.HasPrefix(o.Key, opts.Prefix) {
			page.Objects = append(page.Objects, o)
		}
	}
	sortListed(page.Objects)
	return page, nil
}

func (b *gcsBucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	obj := b.bucket.Object(gcsKeys.name(key))
	if err := callBefore(opts.BeforeRead, exposeAs(&obj)); err != nil {
		return nil, err
	}
	r, err := obj.NewRangeReader(ctx, offset, length)
	if err != nil {
		return nil, err
	}
	return &cloudReader{
		ReadCloser: r,
		attrs:      driver.ReaderAttributes{ContentType: r.Attrs.ContentType, ModTime: r.Attrs.LastModified, Size: r.Attrs.Size},
		as:         exposeAs(r),
	}, nil
}

// NewTypedWriter is the storage client's writer: a resumable upload in
// chunks of BufferSize (the client's 16 MiB when zero), one request for
// an object smaller than a chunk. ContentMD5, when given, is checked by
// Cloud Storage too.
func (b *gcsBucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	obj := b.bucket.Object(gcsKeys.name(key))
	if opts.IfNotExist {
		obj = obj.If(storage.Conditions{DoesNotExist: true})
	}
	if err := callBefore(opts.BeforeWrite, exposeAs(&obj)); err != nil {
		return nil, err
	}
	w := obj.NewWriter(ctx)
	w.ContentType = contentType
	w.CacheControl = opts.CacheControl
	w.ContentDisposition = opts.ContentDisposition
	w.ContentEncoding = opts.ContentEncoding
	w.ContentLanguage = opts.ContentLanguage
	w.Metadata = opts.Metadata
	w.MD5 = opts.ContentMD5
	w.ForceEmptyContentType = opts.DisableContentTypeDetection
	w.ChunkSize = cmp.Or(opts.BufferSize, googleapi.DefaultUploadChunkSize)
	return w, nil
}

func (b *gcsBucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	obj := b.bucket.Object(gcsKeys.name(key))
	if err := callBefore(opts.BeforeDelete, exposeAs(&obj)); err != nil {
		return err
	}
	return obj.Delete(ctx)
}
