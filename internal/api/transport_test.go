package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
)

// TestUncleanPathsAreNotRedirected: paths with dot segments or double
// slashes are unknown resources, answered with the ApiError of any unknown
// path, never the redirect Go's ServeMux would make to the cleaned path.
func TestUncleanPathsAreNotRedirected(t *testing.T) {
	e := newEnv(t)
	buckets := "/api/atlas/v2/groups/" + e.GroupID + "/backup/exportBuckets"
	for _, path := range []string{
		"/api/atlas/v2/groups/" + e.GroupID + "/backup/./exportBuckets",
		"/api/atlas/v2/groups/" + e.GroupID + "/backup/x/../exportBuckets",
		"/api/atlas/v2/groups/" + e.GroupID + "//backup/exportBuckets",
		"/api/atlas/v2/groups/" + e.GroupID + "/backup/exportBuckets/.",
		"/api/atlas/v2/groups/" + e.GroupID + "/backup/%2E%2E/backup/exportBuckets",
		"/api/atlas/v2//groups",
	} {
		r := apitest.Request{Path: path, Accept: apitest.MediaType("2024-05-30")}
		apitest.WantChallenge(t, e.Send(t, r, ""), false)
		got := e.Do(t, r)
		apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeResourceNotFound)
		if loc := got.Header.Get("Location"); loc != "" {
			t.Errorf("%s: Location %q", path, loc)
		}
	}
	// The clean path itself is served.
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: buckets, Accept: apitest.MediaType("2024-05-30")}), http.StatusOK)
}

// TestOversizedHeadersAreAnApiError: headers larger than the server takes
// are refused with a JSON ApiError, not Go's plain-text 431.
func TestOversizedHeadersAreAnApiError(t *testing.T) {
	e := newEnv(t)
	r := apitest.Request{Path: "/api/atlas/v2/groups/" + e.GroupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"),
		Header: http.Header{"X-Padding": {strings.Repeat("p", api.MaxHeaderBytes)}}}
	got := e.Send(t, r, "")
	ae := apitest.WantError(t, got, http.StatusRequestHeaderFieldsTooLarge, snapexport.CodeRequestHeadersTooLarge)
	if !strings.Contains(ae.Detail, "1048576") {
		t.Errorf("detail %q does not name the limit", ae.Detail)
	}
	// Headers just under the limit are served.
	r.Header = http.Header{"X-Padding": {strings.Repeat("p", api.MaxHeaderBytes-8<<10)}}
	apitest.WantStatus(t, e.Do(t, r), http.StatusOK)
}

// TestBodyMediaType: a JSON operation refuses a body of another media type
// with 415 and creates nothing; the types the SDK, the CLI and Terraform
// send are taken.
func TestBodyMediaType(t *testing.T) {
	e := newEnv(t)
	roleID := e.role(t, "AWS", true)
	path := e.bucketsPath("v2")
	for i, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"} {
		got := e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: apitest.MediaType("2024-05-30"),
			Body: awsBucketBody("media-refused-"+string(rune('a'+i)), roleID), ContentType: ct})
		ae := apitest.WantError(t, got, http.StatusUnsupportedMediaType, snapexport.CodeUnsupportedMediaType)
		if !strings.Contains(ae.Detail, strings.SplitN(ct, ";", 2)[0]) {
			t.Errorf("%s: detail %q does not name the media type", ct, ae.Detail)
		}
	}
	if n := e.bucketCount(t); n != 0 {
		t.Fatalf("%d buckets created by refused requests", n)
	}
	for i, ct := range []string{"application/json", "application/json; charset=utf-8", "application/vnd.atlas.2024-05-30+json",
		"application/vnd.atlas.2023-01-01+json;charset=utf-8"} {
		got := e.Do(t, apitest.Request{Method: "POST", Path: path, Accept: apitest.MediaType("2024-05-30"),
			Body: awsBucketBody("media-ok-"+string(rune('a'+i)), roleID), ContentType: ct})
		apitest.WantStatus(t, got, http.StatusOK)
	}
}
