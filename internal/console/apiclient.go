package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/snapexport/snapexport/internal/api"
)

// The versions the console asks for: the newest each resource has.
const (
	v20230101 = "application/vnd.atlas.2023-01-01+json"
	v20240530 = "application/vnd.atlas.2024-05-30+json"
	v20240805 = "application/vnd.atlas.2024-08-05+json"
)

// apiError is the API's ApiError, shown as it came.
type apiError struct {
	Status    int    `json:"error"`
	ErrorCode string `json:"errorCode"`
	Detail    string `json:"detail"`
	Reason    string `json:"reason"`
}

func (e *apiError) Error() string {
	if e.ErrorCode == "" {
		return e.Detail
	}
	return e.Detail + " (" + e.ErrorCode + ")"
}

// recorder is the in-process response of an API request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// inProcess is an http.RoundTripper that serves requests with the API's
// handler in this process, as if they came from the browser whose request
// from carries them: its address and forwarding headers, so that the
// API's per-client budgets and logs see the person, not the console.
type inProcess struct {
	api  http.Handler
	from *http.Request
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	req.RemoteAddr = t.from.RemoteAddr
	if xff := t.from.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		req.Header["X-Forwarded-For"] = xff
	}
	if id := t.from.Header.Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	if req.RequestURI == "" {
		req.RequestURI = req.URL.RequestURI()
	}
	rec := &recorder{header: http.Header{}}
	t.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{StatusCode: rec.status, Status: http.StatusText(rec.status), Header: rec.header,
		Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// call makes one API request as the visit's principal and decodes its
// answer into out (when not nil); an answer that is not a success is
// returned as *apiError.
func (s *Server) call(r *http.Request, method, path, accept string, body, out any) error {
	v := visitOf(r.Context())
	ctx := api.AsCaller(r.Context(), v.principal)
	return s.callAs(ctx, r, method, path, accept, nil, body, out)
}

func (s *Server) callAs(ctx context.Context, from *http.Request, method, path, accept string, header http.Header, body, out any) error {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			data, err := json.Marshal(body)
			if err != nil {
				return err
			}
			rd = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://console.internal"+path, rd)
	if err != nil {
		return err
	}
	req.Host = from.Host
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", accept)
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := inProcess{api: s.API, from: from}.RoundTrip(req)
	if err != nil {
		return err
	}
	return decodeAnswer(resp, out)
}

func decodeAnswer(resp *http.Response, out any) error {
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &apiError{}
		if json.Unmarshal(data, e) != nil || e.Detail == "" {
			e = &apiError{Status: resp.StatusCode, Detail: fmt.Sprintf("The API answered %d %s.", resp.StatusCode, http.StatusText(resp.StatusCode))}
		}
		if e.Status == 0 {
			e.Status = resp.StatusCode
		}
		return e
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// page is a list page as the API answers it.
type page[T any] struct {
	Results    []T `json:"results"`
	TotalCount int `json:"totalCount"`
}

// groupPath is the API path of a project, and clusterPath of one of its
// clusters.
func groupPath(groupID string) string { return "/api/atlas/v2/groups/" + escapeSegment(groupID) }

func clusterPath(groupID, clusterName string) string {
	return groupPath(groupID) + "/clusters/" + escapeSegment(clusterName)
}

// clusters reads a project's clusters, the first 500.
func (s *Server) clusters(r *http.Request, groupID string) ([]cluster, error) {
	var clusters page[cluster]
	err := s.call(r, http.MethodGet, groupPath(groupID)+"/clusters?itemsPerPage=500", v20240805, nil, &clusters)
	return clusters.Results, err
}

// buckets reads a project's export buckets, the first 500.
func (s *Server) buckets(r *http.Request, groupID string) ([]bucket, error) {
	var buckets page[bucket]
	err := s.call(r, http.MethodGet, groupPath(groupID)+"/backup/exportBuckets?itemsPerPage=500", v20240530, nil, &buckets)
	return buckets.Results, err
}
