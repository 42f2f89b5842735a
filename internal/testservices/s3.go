package testservices

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3Server is gofakes3 in-process on loopback, addressed path-style
// (URL/bucket/key), recording every request.
//
// gofakes3 answers GetBucketLocation with an empty LocationConstraint (a
// us-east-1 bucket, or a store that names no region); SetRegion makes it
// name one, as S3 does for buckets of other regions. It checks no
// signature; SetAuthorizer makes it refuse requests, e.g. those not
// carrying given credentials.
type S3Server struct {
	// URL is the endpoint, http://127.0.0.1:N.
	URL string
	// Backend holds the buckets and objects.
	Backend *s3mem.Backend

	rec       recorder
	mu        sync.Mutex
	regions   map[string]string
	authorize func(Request) Verdict
}

// S3 starts an S3 server holding the given (empty) buckets. It stops when
// the test ends.
func S3(t testing.TB, buckets ...string) *S3Server {
	t.Helper()
	s := &S3Server{Backend: s3mem.New(), regions: map[string]string{}}
	faker := gofakes3.New(s.Backend, gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithTimeSkewLimit(0))
	next := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := newRequest(r)
		s.rec.add(q)
		s.mu.Lock()
		authorize := s.authorize
		region := s.regions[strings.Trim(r.URL.Path, "/")]
		s.mu.Unlock()
		if authorize != nil {
			if v := authorize(q); v.Action == Answer {
				_, _ = io.Copy(io.Discard, r.Body)
				for k, val := range v.Header {
					w.Header().Set(k, val)
				}
				w.WriteHeader(v.Status)
				_, _ = io.WriteString(w, v.Body)
				return
			}
		}
		if r.Method == http.MethodGet && r.URL.Query().Has("location") && region != "" {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, xml.Header)
			_ = xml.NewEncoder(w).Encode(locationConstraint{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", Region: region})
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	for _, b := range buckets {
		s.CreateBucket(t, b)
	}
	return s
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

// CreateBucket creates an empty bucket.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if err := s.Backend.CreateBucket(name); err != nil {
		t.Fatalf("testservices: S3 bucket %s: %v", name, err)
	}
}

// SetRegion makes GetBucketLocation of bucket answer region.
func (s *S3Server) SetRegion(bucket, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions[bucket] = region
}

// SetAuthorizer makes the server ask authorize about every request: a
// Verdict with Action Answer is sent instead of serving the request (e.g.
// S3Error(403, "InvalidAccessKeyId")). Nil serves every request.
func (s *S3Server) SetAuthorizer(authorize func(Request) Verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorize = authorize
}

// Requests returns the requests received so far, refused ones included.
func (s *S3Server) Requests() []Request { return s.rec.requests() }

// Object returns the content of key in bucket, failing the test when it is
// missing.
func (s *S3Server) Object(t testing.TB, bucket, key string) []byte {
	t.Helper()
	obj, err := s.Backend.GetObject(bucket, key, nil)
	if err != nil {
		t.Fatalf("testservices: S3 object %s/%s: %v", bucket, key, err)
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatalf("testservices: S3 object %s/%s: %v", bucket, key, err)
	}
	return b
}

// ObjectSize returns the size of key in bucket, failing the test when it
// is missing.
func (s *S3Server) ObjectSize(t testing.TB, bucket, key string) int64 {
	t.Helper()
	obj, err := s.Backend.HeadObject(bucket, key)
	if err != nil {
		t.Fatalf("testservices: S3 object %s/%s: %v", bucket, key, err)
	}
	return obj.Size
}

// HasObject reports whether key exists in bucket.
func (s *S3Server) HasObject(bucket, key string) bool {
	_, err := s.Backend.HeadObject(bucket, key)
	return err == nil
}

// Keys returns the names of the objects under prefix in bucket, sorted,
// as the store holds them.
func (s *S3Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	list, err := s.Backend.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatalf("testservices: S3 listing %s/%s: %v", bucket, prefix, err)
	}
	keys := make([]string, 0, len(list.Contents))
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	slices.Sort(keys)
	return keys
}
