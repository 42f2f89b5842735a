//go:build !snapexport_localbuckets

package objectstore_test

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

// Each cloud bucket does what the export, the snapshot store and verify
// ask of a blob.Bucket: typed streamed writes, attributes, ranged reads,
// listing by prefix and delimiter in pages, deletes, and errors with
// gocloud.dev's codes that expose the SDK's own.
func TestCloudBucketsServeBlobOperations(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *blob.Bucket
		// sdkError tells whether err, a missing object's, exposes the
		// SDK's error; client whether As exposes the SDK's client.
		sdkError, client func(b *blob.Bucket, err error) bool
	}{
		{"s3", func(t *testing.T) *blob.Bucket {
			fake := testservices.S3(t, "b1")
			return openBucket(t, newStores(t, s3Config(fake.URL)), awsTarget("b1"))
		}, func(b *blob.Bucket, err error) bool {
			var ae smithy.APIError
			return b.ErrorAs(err, &ae) && ae.ErrorCode() == "NoSuchKey"
		}, func(b *blob.Bucket, _ error) bool {
			var c *s3.Client
			return b.As(&c) && c != nil
		}},
		{"azure", func(t *testing.T) *blob.Bucket {
			endpoint := testservices.Azurite(t)
			testservices.AzuriteContainer(t, endpoint, "ops")
			return openBucket(t, newStores(t, azureConfig(endpoint)), azureTarget(endpoint, "ops"))
		}, func(b *blob.Bucket, err error) bool {
			var re *azcore.ResponseError
			return b.ErrorAs(err, &re) && re.StatusCode == http.StatusNotFound
		}, func(b *blob.Bucket, _ error) bool {
			var c *container.Client
			return b.As(&c) && c != nil
		}},
		{"gcs", func(t *testing.T) *blob.Bucket {
			fake := testservices.GCS(t, "b1")
			return openBucket(t, newStores(t, gcsConfig(fake.URL)), gcsTarget("b1"))
		}, func(_ *blob.Bucket, err error) bool {
			// the storage client answers a missing object with its own error
			return errors.Is(err, storage.ErrObjectNotExist)
		}, func(b *blob.Bucket, _ error) bool {
			var c *storage.Client
			return b.As(&c) && c != nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.open(t)
			if !tc.client(b, nil) {
				t.Error("As does not give the SDK's client")
			}
			data := []byte("0123456789abcdefghij")
			w, err := b.NewWriter(bg(), "p/a/obj", &blob.WriterOptions{ContentType: "application/gzip", BufferSize: 5 << 20})
			if err != nil {
				t.Fatal(err)
			}
			for p := data; len(p) > 0; p = p[min(len(p), 3):] {
				if _, err := w.Write(p[:min(len(p), 3)]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"p/a/empty", "p/b/1", "p/b/2", "p/c", "q"} {
				if err := b.WriteAll(bg(), k, nil, &blob.WriterOptions{ContentType: "text/plain"}); err != nil {
					t.Fatal(err)
				}
			}

			a, err := b.Attributes(bg(), "p/a/obj")
			if err != nil {
				t.Fatal(err)
			}
			if a.Size != int64(len(data)) || a.ContentType != "application/gzip" || a.ModTime.IsZero() || a.ETag == "" {
				t.Errorf("attributes %+v", a)
			}
			if sum := md5.Sum(data); a.MD5 != nil && !bytes.Equal(a.MD5, sum[:]) {
				t.Errorf("MD5 %x, want %x", a.MD5, sum)
			}
			for _, r := range []struct {
				offset, length int64
				want           string
			}{{0, -1, string(data)}, {5, 4, "5678"}, {15, -1, "fghij"}, {3, 0, ""}} {
				rd, err := b.NewRangeReader(bg(), "p/a/obj", r.offset, r.length, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rd)
				rd.Close()
				if err != nil || string(got) != r.want || rd.Size() != int64(len(data)) || rd.ContentType() != "application/gzip" {
					t.Errorf("range %d+%d: %q (%v), size %d, type %q; want %q", r.offset, r.length, got, err, rd.Size(), rd.ContentType(), r.want)
				}
			}
			if got, err := b.ReadAll(bg(), "p/a/empty"); err != nil || len(got) != 0 {
				t.Errorf("empty object: %q %v", got, err)
			}

			dirs, _, err := b.ListPage(bg(), blob.FirstPageToken, 10, &blob.ListOptions{Prefix: "p/", Delimiter: "/"})
			if err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, o := range dirs {
				listed = append(listed, o.Key+map[bool]string{true: " dir"}[o.IsDir])
			}
			if want := []string{"p/a/ dir", "p/b/ dir", "p/c"}; !slices.Equal(listed, want) {
				t.Errorf("listed %q, want %q", listed, want)
			}
			listed = nil
			for token := blob.FirstPageToken; token != nil; {
				page, next, err := b.ListPage(bg(), token, 2, &blob.ListOptions{Prefix: "p/"})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > 2 {
					t.Errorf("page of %d, want at most 2", len(page))
				}
				for _, o := range page {
					listed = append(listed, o.Key)
				}
				token = next
			}
			if want := []string{"p/a/empty", "p/a/obj", "p/b/1", "p/b/2", "p/c"}; !slices.Equal(listed, want) {
				t.Errorf("listed in pages %q, want %q", listed, want)
			}

			if err := b.Delete(bg(), "p/b/1"); err != nil {
				t.Fatal(err)
			}
			if ok, err := b.Exists(bg(), "p/b/1"); ok || err != nil {
				t.Errorf("p/b/1 exists after Delete: %v %v", ok, err)
			}
			if ok, _ := b.Exists(bg(), "p/b/2"); !ok {
				t.Error("deleting p/b/1 removed p/b/2")
			}
			if _, err := b.ReadAll(bg(), "p/missing"); gcerrors.Code(err) != gcerrors.NotFound || !tc.sdkError(b, err) {
				t.Errorf("reading a missing object: %v (%v), want NotFound exposing the SDK's error", err, gcerrors.Code(err))
			}
			if _, err := b.Attributes(bg(), "p/missing"); gcerrors.Code(err) != gcerrors.NotFound {
				t.Errorf("attributes of a missing object: %v", err)
			}

			// a write whose bytes do not match ContentMD5 fails and leaves
			// the object as it was
			sum := md5.Sum([]byte("other"))
			err = b.WriteAll(bg(), "p/c", []byte("these bytes"), &blob.WriterOptions{ContentMD5: sum[:]})
			if gcerrors.Code(err) != gcerrors.FailedPrecondition {
				t.Errorf("write with a wrong ContentMD5: %v, want FailedPrecondition", err)
			}
			if got, _ := b.ReadAll(bg(), "p/c"); len(got) != 0 {
				t.Errorf("p/c holds %q after a refused write", got)
			}
			if err := b.Copy(bg(), "p/d", "p/c", nil); gcerrors.Code(err) != gcerrors.Unimplemented {
				t.Errorf("Copy: %v, want Unimplemented", err)
			}
		})
	}
}

// A store that URL-encodes listed names, as S3 does when asked (and must:
// XML cannot carry control characters), lists them decoded.
func TestS3ListsURLEncodedNames(t *testing.T) {
	fake := testservices.S3(t, "b1")
	fake.SetAuthorizer(func(r testservices.Request) testservices.Verdict {
		if r.Method != http.MethodGet || !strings.Contains(r.Query, "list-type=2") {
			return testservices.Verdict{}
		}
		if !strings.Contains(r.Query, "encoding-type=url") {
			return testservices.S3Error(http.StatusBadRequest, "InvalidArgument")
		}
		return testservices.Verdict{Action: testservices.Answer, Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/xml"},
			Body: `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
				`<Name>b1</Name><Prefix>p%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>` +
				`<Contents><Key>p%2Fa%01b+c%25</Key><LastModified>2026-08-10T03:27:00.000Z</LastModified><ETag>"x"</ETag><Size>3</Size></Contents>` +
				`<CommonPrefixes><Prefix>p%2Fd%0A%2F</Prefix></CommonPrefixes></ListBucketResult>`}
	})
	b := openBucket(t, newStores(t, s3Config(fake.URL)), awsTarget("b1"))
	objs, _, err := b.ListPage(bg(), blob.FirstPageToken, 10, &blob.ListOptions{Prefix: "p/", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	if want := []string{"p/a\x01b c%", "p/d\n/"}; !slices.Equal(keys, want) {
		t.Errorf("listed %q, want %q", keys, want)
	}
}

// openBucket opens target's bucket until the test ends.
func openBucket(t *testing.T, stores *objectstore.Stores, target objectstore.Target) *blob.Bucket {
	t.Helper()
	b, err := stores.Open(bg(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
