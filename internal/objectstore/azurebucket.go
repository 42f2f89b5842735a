//go:build !snapexport_localbuckets

package objectstore

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// azureKeys: Azure Storage reads '\' in a blob's name as '/' (Azurite
// does the same), so "a\b" and "a/b" would be one blob; '\' is stored as
// "%5C". Every other byte, control characters included (listings carry
// them encoded), is stored as it is.
const azureKeys keyEscape = `\`

// Defaults of a block upload, gocloud.dev's azureblob's: blocks of 8 MiB,
// 5 in flight, so that an upload holds at most 40 MiB.
const (
	azureBlockSize   = 8 << 20
	azureConcurrency = 5
)

// azureBucket is an Azure Blob container whose blob names are the keys,
// but for azureKeys.
type azureBucket struct {
	cloudBucket
	client *container.Client
}

func newAzureBucket(client *container.Client) *blob.Bucket {
	return blob.NewBucket(&azureBucket{client: client})
}

func (b *azureBucket) As(i any) bool { return exposeAs(b.client)(i) }

// ErrorCode gives Azure's error codes the codes gocloud.dev's azureblob
// gives them, which the export runner's classification expects.
func (b *azureBucket) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, errUnimplemented) {
		return gcerrors.Unimplemented
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch bloberror.Code(re.ErrorCode) {
		case bloberror.AuthenticationFailed:
			return gcerrors.PermissionDenied
		case bloberror.BlobAlreadyExists, bloberror.ConditionNotMet, bloberror.TargetConditionNotMet, bloberror.SourceConditionNotMet:
			return gcerrors.FailedPrecondition
		case bloberror.BlobNotFound:
			return gcerrors.NotFound
		}
		if re.StatusCode == http.StatusNotFound {
			return gcerrors.NotFound
		}
	}
	if strings.Contains(err.Error(), "no such host") {
		// A storage account that does not exist has no host name.
		return gcerrors.NotFound
	}
	return gcerrors.Unknown
}

func (b *azureBucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	props, err := b.client.NewBlobClient(azureKeys.name(key)).GetProperties(ctx, nil)
	if err != nil {
		return nil, err
	}
	a := &driver.Attributes{
		CacheControl:       deref(props.CacheControl),
		ContentDisposition: deref(props.ContentDisposition),
		ContentEncoding:    deref(props.ContentEncoding),
		ContentLanguage:    deref(props.ContentLanguage),
		ContentType:        deref(props.ContentType),
		CreateTime:         deref(props.CreationTime),
		ModTime:            deref(props.LastModified),
		Size:               deref(props.ContentLength),
		MD5:                props.ContentMD5,
		Metadata:           make(map[string]string, len(props.Metadata)),
		AsFunc:             exposeAs(props),
	}
	if props.ETag != nil {
		a.ETag = string(*props.ETag)
	}
	for k, v := range props.Metadata {
		if v != nil {
			a.Metadata[k] = *v
		}
	}
	return a, nil
}

func (b *azureBucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	size := int32(cmp.Or(opts.PageSize, defaultListPageSize))
	prefix := azureKeys.listPrefix(opts.Prefix)
	var marker *string
	if len(opts.PageToken) > 0 {
		marker = new(string(opts.PageToken))
	}
	listOpts := &container.ListBlobsHierarchyOptions{MaxResults: &size, Prefix: &prefix, Marker: marker}
	if err := callBefore(opts.BeforeList, exposeAs(listOpts)); err != nil {
		return nil, err
	}
	// With no delimiter, a hierarchical listing is a flat one.
	resp, err := b.client.NewListBlobsHierarchyPager(azureKeys.name(opts.Delimiter), listOpts).NextPage(ctx)
	if err != nil {
		return nil, err
	}
	segment := resp.Segment
	page := &driver.ListPage{Objects: make([]*driver.ListObject, 0, len(segment.BlobItems)+len(segment.BlobPrefixes))}
	for _, item := range segment.BlobItems {
		key := azureKeys.key(deref(item.Name))
		if !strings.HasPrefix(key, opts.Prefix) {
			continue
		}
		o := &driver.ListObject{Key: key, AsFunc: exposeAs(*item)}
		if item.Properties != nil {
			o.ModTime, o.Size, o.MD5 = deref(item.Properties.LastModified), deref(item.Properties.ContentLength), item.Properties.ContentMD5
		}
		page.Objects = append(page.Objects, o)
	}
	for _, dir := range segment.BlobPrefixes {
		key := azureKeys.key(deref(dir.Name))
		if !strings.HasPrefix(key, opts.Prefix) {
			continue
		}
		page.Objects = append(page.Objects, &driver.ListObject{Key: key, IsDir: true, AsFunc: exposeAs(*dir)})
	}
	sortListed(page.Objects)
	if resp.NextMarker != nil && *resp.NextMarker != "" {
		page.NextPageToken = []byte(*resp.NextMarker)
	}
	return page, nil
}

func (b *azureBucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	in := &azblobblob.DownloadStreamOptions{Range: azblobblob.HTTPRange{Offset: offset, Count: max(length, 0)}}
	if err := callBefore(opts.BeforeRead, exposeAs(in)); err != nil {
		return nil, err
	}
	resp, err := b.client.NewBlobClient(azureKeys.name(key)).DownloadStream(ctx, in)
	if err != nil {
		return nil, err
	}
	return &cloudReader{
		ReadCloser: emptyRead(length, resp.Body),
		attrs: driver.ReaderAttributes{ContentType: deref(resp.ContentType), ModTime: deref(resp.LastModified),
			Size: objectSize(deref(resp.ContentLength), deref(resp.ContentRange))},
		as: exposeAs(resp),
	}, nil
}

// NewTypedWriter streams the object as blocks of BufferSize, MaxConcurrency
// in flight (azureBlockSize and azureConcurrency when zero), committed on
// Close. ContentMD5, when given, is stored as the blob's Content-MD5.
func (b *azureBucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	headers := &azblobblob.HTTPHeaders{BlobContentType: &contentType, BlobContentMD5: opts.ContentMD5}
	for field, v := range map[**string]string{&headers.BlobCacheControl: opts.CacheControl, &headers.BlobContentDisposition: opts.ContentDisposition,
		&headers.BlobContentEncoding: opts.ContentEncoding, &headers.BlobContentLanguage: opts.ContentLanguage} {
		if v != "" {
			*field = new(v)
		}
	}
	in := &blockblob.UploadStreamOptions{
		BlockSize:   int64(cmp.Or(opts.BufferSize, azureBlockSize)),
		Concurrency: cmp.Or(opts.MaxConcurrency, azureConcurrency),
		HTTPHeaders: headers,
	}
	if len(opts.Metadata) > 0 {
		in.Metadata = make(map[string]*string, len(opts.Metadata))
		for k, v := range opts.Metadata {
			in.Metadata[k] = new(v)
		}
	}
	if opts.IfNotExist {
		in.AccessConditions = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfNoneMatch: new(azcore.ETagAny)}}
	}
	if err := callBefore(opts.BeforeWrite, exposeAs(in)); err != nil {
		return nil, err
	}
	client := b.client.NewBlockBlobClient(azureKeys.name(key))
	return &streamWriter{ctx: ctx, upload: func(body io.Reader) error {
		_, err := client.UploadStream(ctx, body, in)
		return err
	}}, nil
}

func (b *azureBucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	in := &azblobblob.DeleteOptions{}
	if err := callBefore(opts.BeforeDelete, exposeAs(in)); err != nil {
		return err
	}
	_, err := b.client.NewBlobClient(azureKeys.name(key)).Delete(ctx, in)
	return err
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
