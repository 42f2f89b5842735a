//go:build !snapexport_localbuckets

package objectstore_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

func TestS3PermissionCheckWritesEmptyObject(t *testing.T) {
	s3 := testservices.S3(t, "export-bucket")
	stores := newStores(t, s3Config(s3.URL))

	region, err := stores.Verify(bg(), awsTarget("export-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	if region != "us-east-1" {
		t.Errorf("region %q, want us-east-1 (the default for a store naming none)", region)
	}
	if n := s3.ObjectSize(t, "export-bucket", objectstore.PermissionCheckKey); n != 0 {
		t.Errorf(".permissioncheck has %d bytes, want 0", n)
	}
	// GetBucketLocation, then PutObject, both signed with the static key.
	reqs := s3.Requests()
	if len(reqs) != 2 || reqs[0].Method != http.MethodGet || !strings.Contains(reqs[0].Query, "location") ||
		reqs[1].Method != http.MethodPut || reqs[1].Path != "/export-bucket/exported_snapshots/.permissioncheck" {
		t.Fatalf("requests %+v", reqs)
	}
	for _, r := range reqs {
		if r.AccessKeyID != testAccessKey {
			t.Errorf("request signed by %q", r.AccessKeyID)
		}
	}

	// Checking again overwrites the object.
	if err := stores.CheckPermission(bg(), objectstore.Target{Provider: snapexport.AWS, Bucket: "export-bucket", Region: region}); err != nil {
		t.Fatal(err)
	}
}

func TestS3RegionDefault(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	cfg := s3Config(s3.URL)
	cfg.AWS.DefaultRegion = "eu-central-1"
	stores := newStores(t, cfg)
	region, err := stores.BucketRegion(bg(), awsTarget("b1"))
	if err != nil {
		t.Fatal(err)
	}
	if region != "eu-central-1" {
		t.Errorf("region %q", region)
	}
	// Non-AWS buckets have no region.
	if r, err := stores.BucketRegion(bg(), objectstore.Target{Provider: snapexport.GCP, Bucket: "b1"}); r != "" || err != nil {
		t.Errorf("GCP region %q %v", r, err)
	}
}

func TestS3GetBucketLocationNotImplementedFallsBack(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	proxy := testservices.StartFaultProxy(t, s3.URL, func(n int, r *http.Request) testservices.Verdict {
		if r.URL.Query().Has("location") {
			return testservices.S3Error(http.StatusNotImplemented, "NotImplemented")
		}
		return testservices.Verdict{}
	})
	stores := newStores(t, s3Config(proxy.URL))
	region, err := stores.Verify(bg(), awsTarget("b1"))
	if err != nil || region != "us-east-1" {
		t.Fatalf("region %q, %v", region, err)
	}
	if proxy.Count() != 2 {
		t.Errorf("%d requests, want 2 (501 is not retried)", proxy.Count())
	}
}

func TestS3MissingBucket(t *testing.T) {
	s3 := testservices.S3(t)
	stores := newStores(t, s3Config(s3.URL))

	err, took := timed(func() error { _, err := stores.Verify(bg(), awsTarget("no-such-bucket")); return err })
	e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	requireDetail(t, e, "no-such-bucket", "the S3-compatible store", "GetBucketLocation")
	if took > 2*time.Second {
		t.Errorf("took %s", took)
	}
	// With the region known, the PutObject itself fails: once, no retry.
	before := len(s3.Requests())
	err = stores.CheckPermission(bg(), objectstore.Target{Provider: snapexport.AWS, Bucket: "no-such-bucket", Region: "us-east-1"})
	e = requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	requireDetail(t, e, "PutObject exported_snapshots/.permissioncheck")
	if n := len(s3.Requests()) - before; n != 1 {
		t.Errorf("%d requests for a 404, want 1", n)
	}
}

func TestS3PermanentFaultsFailFast(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	cases := []struct {
		name   string
		answer testservices.Verdict
		code   string
		detail string
	}{
		{"access denied", testservices.S3Error(http.StatusForbidden, "AccessDenied"), snapexport.CodeBucketAccessDenied, "HTTP 403 AccessDenied"},
		{"unknown key", testservices.S3Error(http.StatusForbidden, "InvalidAccessKeyId"), snapexport.CodeInvalidAWSCredentials, "Invalid AWS credentials"},
		{"bad signature", testservices.S3Error(http.StatusForbidden, "SignatureDoesNotMatch"), snapexport.CodeInvalidAWSCredentials, "SignatureDoesNotMatch"},
		{"expired token", testservices.S3Error(http.StatusBadRequest, "ExpiredToken"), snapexport.CodeInvalidAWSCredentials, "ExpiredToken"},
		{"no such bucket", testservices.S3Error(http.StatusNotFound, "NoSuchBucket"), snapexport.CodeBucketNotFound, "b1"},
		{"bare 403", testservices.Verdict{Action: testservices.Answer, Status: http.StatusForbidden}, snapexport.CodeBucketAccessDenied, "HTTP 403"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxy := testservices.StartFaultProxy(t, s3.URL, func(int, *http.Request) testservices.Verdict { return c.answer })
			stores := newStores(t, s3Config(proxy.URL))
			err, took := timed(func() error {
				return stores.CheckPermission(bg(), objectstore.Target{Provider: snapexport.AWS, Bucket: "b1", Region: "us-east-1"})
			})
			e := requireCode(t, err, http.StatusBadRequest, c.code)
			requireDetail(t, e, "b1", "the S3-compatible store", "PutObject", c.detail)
			if proxy.Count() != 1 {
				t.Errorf("%d requests, want 1: permanent faults are not retried", proxy.Count())
			}
			if took > time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

func TestS3TransientFaultsAreRetried(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	// Of every four requests the first loses its connection and the second
	// gets 503 SlowDown: half of all requests fail.
	proxy := flakyProxy(t, s3.URL, 4, testservices.S3Error(http.StatusServiceUnavailable, "SlowDown"))
	stores := newStores(t, s3Config(proxy.URL))
	const checks = 5
	for i := 0; i < checks; i++ {
		region, err := stores.Verify(bg(), awsTarget("b1"))
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if region != "us-east-1" {
			t.Fatalf("region %q", region)
		}
	}
	if got := s3.ObjectSize(t, "b1", objectstore.PermissionCheckKey); got != 0 {
		t.Errorf("size %d", got)
	}
	// 2 operations per check succeeded on the server; the proxy saw twice
	// as many requests.
	if n, ok := proxy.Count(), len(s3.Requests()); n < 2*ok || ok != 2*checks {
		t.Errorf("proxy saw %d requests, server %d", n, ok)
	}
}

func TestS3RetriesExhausted(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	proxy := testservices.StartFaultProxy(t, s3.URL, func(int, *http.Request) testservices.Verdict {
		return testservices.S3Error(http.StatusServiceUnavailable, "SlowDown")
	})
	stores := newStores(t, s3Config(proxy.URL))
	err := stores.CheckPermission(bg(), objectstore.Target{Provider: snapexport.AWS, Bucket: "b1", Region: "us-east-1"})
	e := requireCode(t, err, http.StatusBadGateway, snapexport.CodeObjectStoreError)
	requireDetail(t, e, "HTTP 503 SlowDown")
	if proxy.Count() != testRetry.MaxAttempts {
		t.Errorf("%d attempts, want %d", proxy.Count(), testRetry.MaxAttempts)
	}
}

func TestS3StreamingMultipartUpload(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	stores := newStores(t, s3Config(s3.URL))
	b, err := stores.Open(bg(), objectstore.Target{Provider: snapexport.AWS, Bucket: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// 18 MiB (over the transfer manager's 16 MiB threshold) in 5 MiB
	// parts: a multipart upload.
	data := bytes.Repeat([]byte("0123456789abcdef"), 18<<16)
	w, err := b.NewWriter(bg(), "exports/db/coll/rs0.0.json.gz", &blob.WriterOptions{BufferSize: 5 << 20, ContentType: "application/gzip"})
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := w.Write(data[off:min(off+1<<20, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	multipart := false
	for _, r := range s3.Requests() {
		if strings.Contains(r.Query, "uploadId") {
			multipart = true
		}
	}
	if !multipart {
		t.Error("no multipart upload request seen")
	}
	obj, err := s3.Backend.GetObject("b1", "exports/db/coll/rs0.0.json.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Contents.Close()
	got, _ := io.ReadAll(obj.Contents)
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(data))
	}
}
