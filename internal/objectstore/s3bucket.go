//go:build !snapexport_localbuckets

package objectstore

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// s3Bucket is an S3 bucket whose object names are the keys, byte for
// byte: S3 holds any UTF-8 key. Listings ask S3 to URL-encode the names,
// since XML 1.0 cannot carry control characters.
type s3Bucket struct {
	cloudBucket
	client *s3.Client
	bucket string
	// checksum is the transfer manager's RequestChecksumCalculation, which
	// takes precedence over the client's.
	checksum aws.RequestChecksumCalculation
}

func newS3Bucket(client *s3.Client, bucket string, checksum aws.RequestChecksumCalculation) *blob.Bucket {
	return blob.NewBucket(&s3Bucket{client: client, bucket: bucket, checksum: checksum})
}

func (b *s3Bucket) As(i any) bool { return exposeAs(b.client)(i) }

// ErrorCode gives S3's error codes, or the HTTP status of an answer
// without one (HeadObject has no body), the codes gocloud.dev's s3blob
// gives them, which the export runner's classification expects.
func (b *s3Bucket) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, errUnimplemented) {
		return gcerrors.Unimplemented
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket", "NoSuchKey", "NotFound", "ObjectNotInActiveTierError":
			return gcerrors.NotFound
		case "PreconditionFailed":
			return gcerrors.FailedPrecondition
		case "AccessDenied", "Forbidden":
			return gcerrors.PermissionDenied
		}
		return gcerrors.Unknown
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound, http.StatusMovedPermanently:
			return gcerrors.NotFound
		case http.StatusUnauthorized, http.StatusForbidden:
			return gcerrors.PermissionDenied
		}
	}
	return gcerrors.Unknown
}

func (b *s3Bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl:       aws.ToString(out.CacheControl),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		ContentLanguage:    aws.ToString(out.ContentLanguage),
		ContentType:        aws.ToString(out.ContentType),
		Metadata:           out.Metadata,
		ModTime:            aws.ToTime(out.LastModified),
		Size:               aws.ToInt64(out.ContentLength),
		MD5:                eTagMD5(out.ETag),
		ETag:               aws.ToString(out.ETag),
		AsFunc:             exposeAs(*out),
	}, nil
}

// eTagMD5 is the MD5 an ETag holds: that of an object written in one
// request; a multipart upload's ETag ("<hex>-<parts>") holds none.
func eTagMD5(etag *string) []byte {
	e := aws.ToString(etag)
	if len(e) < 2 || e[0] != '"' || e[len(e)-1] != '"' {
		return nil
	}
	sum, err := hex.DecodeString(e[1 : len(e)-1])
	if err != nil {
		return nil
	}
	return sum
}

func (b *s3Bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	in := &s3.ListObjectsV2Input{
		Bucket:       aws.String(b.bucket),
		MaxKeys:      aws.Int32(int32(cmp.Or(opts.PageSize, defaultListPageSize))),
		EncodingType: types.EncodingTypeUrl,
	}
	if opts.Prefix != "" {
		in.Prefix = aws.String(opts.Prefix)
	}
	if opts.Delimiter != "" {
		in.Delimiter = aws.String(opts.Delimiter)
	}
	if len(opts.PageToken) > 0 {
		in.ContinuationToken = aws.String(string(opts.PageToken))
	}
	if err := callBefore(opts.BeforeList, exposeAs(in)); err != nil {
		return nil, err
	}
	out, err := b.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, err
	}
	// A store that ignores encoding-type (some S3-compatible ones) answers
	// the names as they are, and says so by not naming the encoding.
	name := func(s *string) (string, error) { return aws.ToString(s), nil }
	if out.EncodingType == types.EncodingTypeUrl {
		name = func(s *string) (string, error) {
			k, err := url.QueryUnescape(aws.ToString(s))
			if err != nil {
				return "", fmt.Errorf("objectstore: S3 listed an object name that is not URL-encoded: %w", err)
			}
			return k, nil
		}
	}
	page := &driver.ListPage{Objects: make([]*driver.ListObject, 0, len(out.Contents)+len(out.CommonPrefixes))}
	for _, obj := range out.Contents {
		key, err := name(obj.Key)
		if err != nil {
			return nil, err
		}
		page.Objects = append(page.Objects, &driver.ListObject{
			Key: key, ModTime: aws.ToTime(obj.LastModified), Size: aws.ToInt64(obj.Size), MD5: eTagMD5(obj.ETag),
			AsFunc: exposeAs(obj),
		})
	}
	for _, prefix := range out.CommonPrefixes {
		key, err := name(prefix.Prefix)
		if err != nil {
			return nil, err
		}
		page.Objects = append(page.Objects, &driver.ListObject{
			Key: key, IsDir: true,
			AsFunc: exposeAs(prefix),
		})
	}
	sortListed(page.Objects)
	if out.NextContinuationToken != nil {
		page.NextPageToken = []byte(*out.NextContinuationToken)
	}
	return page, nil
}

func (b *s3Bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}
	switch {
	case length == 0:
		// S3 has no empty range: one byte, dropped.
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset))
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	if err := callBefore(opts.BeforeRead, exposeAs(in)); err != nil {
		return nil, err
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		return nil, err
	}
	return &cloudReader{
		ReadCloser: emptyRead(length, out.Body),
		attrs: driver.ReaderAttributes{ContentType: aws.ToString(out.ContentType), ModTime: aws.ToTime(out.LastModified),
			Size: objectSize(aws.ToInt64(out.ContentLength), aws.ToString(out.ContentRange))},
		as: exposeAs(*out),
	}, nil
}

// NewTypedWriter streams the object through the SDK's transfer manager:
// one PutObject up to its threshold, a multipart upload of BufferSize
// parts beyond, MaxConcurrency parts in flight (the manager's defaults
// when zero). S3 checks no whole-object MD5; blob.Writer checks
// ContentMD5 itself.
func (b *s3Bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	tm := transfermanager.New(b.client, func(o *transfermanager.Options) {
		o.RequestChecksumCalculation = b.checksum
		if opts.BufferSize != 0 {
			o.PartSizeBytes = int64(opts.BufferSize)
		}
		if opts.MaxConcurrency != 0 {
			o.Concurrency = opts.MaxConcurrency
		}
	})
	in := &transfermanager.UploadObjectInput{
		Bucket:      aws.String(b.bucket),
		Key:         aws.String(key),
		ContentType: aws.String(contentType),
		Metadata:    opts.Metadata,
	}
	for field, v := range map[**string]string{&in.CacheControl: opts.CacheControl, &in.ContentDisposition: opts.ContentDisposition,
		&in.ContentEncoding: opts.ContentEncoding, &in.ContentLanguage: opts.ContentLanguage} {
		if v != "" {
			*field = aws.String(v)
		}
	}
	if opts.IfNotExist {
		in.IfNoneMatch = aws.String("*")
	}
	if err := callBefore(opts.BeforeWrite, func(i any) bool {
		switch p := i.(type) {
		case **transfermanager.Client:
			*p = tm
		case **transfermanager.UploadObjectInput:
			*p = in
		default:
			return false
		}
		return true
	}); err != nil {
		return nil, err
	}
	return &streamWriter{ctx: ctx, upload: func(body io.Reader) error {
		in.Body = body
		_, err := tm.UploadObject(ctx, in)
		return err
	}}, nil
}

// Delete answers NotFound for a missing object, as blob.Bucket promises,
// which S3's DeleteObject does not tell.
func (b *s3Bucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	if _, err := b.Attributes(ctx, key); err != nil {
		return err
	}
	in := &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}
	if err := callBefore(opts.BeforeDelete, exposeAs(in)); err != nil {
		return err
	}
	_, err := b.client.DeleteObject(ctx, in)
	return err
}
