package testservices

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// GCSServer is fake-gcs-server in-process on loopback, behind a front
// that records every request. Its JSON API base is URL + "/storage/v1/".
type GCSServer struct {
	// URL is the recording front, http://127.0.0.1:N.
	URL string
	// Server is the fake-gcs-server instance, for direct access.
	Server *fakestorage.Server

	rec recorder
}

// GCS starts fake-gcs-server holding the given (empty) buckets. It stops
// when the test ends.
func GCS(t testing.TB, buckets ...string) *GCSServer {
	t.Helper()
	g := &GCSServer{}
	var next http.Handler
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.rec.add(newRequest(r))
		next.ServeHTTP(w, r)
	}))
	g.URL = "http://" + front.Listener.Addr().String()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		// PublicHost must be the loopback host: fake-gcs-server serves
		// the JSON API only to requests for it.
		Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1", NoListener: true, Writer: io.Discard,
		// Resumable uploads continue at the Location it answers.
		ExternalURL: g.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	g.Server = srv
	next = srv.HTTPHandler()
	front.Start()
	t.Cleanup(front.Close)
	for _, b := range buckets {
		g.CreateBucket(b)
	}
	return g
}

// CreateBucket creates an empty bucket.
func (g *GCSServer) CreateBucket(name string) {
	g.Server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
}

// Requests returns the requests received so far.
func (g *GCSServer) Requests() []Request { return g.rec.requests() }

// Object returns the content of key in bucket, failing the test when it is
// missing.
func (g *GCSServer) Object(t testing.TB, bucket, key string) []byte {
	t.Helper()
	obj, err := g.Server.GetObject(bucket, key)
	if err != nil {
		t.Fatalf("testservices: GCS object %s/%s: %v", bucket, key, err)
	}
	return obj.Content
}

// HasObject reports whether key exists in bucket.
func (g *GCSServer) HasObject(bucket, key string) bool {
	_, err := g.Server.GetObject(bucket, key)
	return err == nil
}

// Keys returns the names of the objects under prefix in bucket, sorted,
// as the store holds them.
func (g *GCSServer) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	objects, _, err := g.Server.ListObjectsWithOptions(bucket, fakestorage.ListOptions{Prefix: prefix})
	if err != nil {
		t.Fatalf("testservices: GCS listing %s/%s: %v", bucket, prefix, err)
	}
	keys := make([]string, 0, len(objects))
	for _, o := range objects {
		keys = append(keys, o.Name)
	}
	slices.Sort(keys)
	return keys
}
