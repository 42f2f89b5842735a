package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/testserver"
)

// ---------------------------------------------------------------- 1. v1.0

// TestV1SeedRequest sends the request a legacy client makes: a bearer token
// from the token endpoint, then a v1.0 create in application/json.
func TestV1SeedRequest(t *testing.T) {
	e := newEnv(t)
	token := e.token(t)
	roleID := e.role(t, "AWS", true)

	got := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v1.0"), Accept: "application/json",
		Body: `{"bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + roleID + `","requirePrivateNetworking":true}`,
		Auth: apitest.Bearer(token)})
	apitest.WantStatus(t, got, http.StatusOK)
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: want application/json, got %q", ct)
	}
	apitest.WantSuccessBody(t, got)
	var b struct {
		ID                       string `json:"_id"`
		BucketName               string `json:"bucketName"`
		CloudProvider            string `json:"cloudProvider"`
		IAMRoleID                string `json:"iamRoleId"`
		RequirePrivateNetworking *bool  `json:"requirePrivateNetworking"`
	}
	got.Decode(t, &b)
	if !snapexport.IsObjectID(b.ID) || b.BucketName != "export-bucket" || b.CloudProvider != "AWS" || b.IAMRoleID != roleID ||
		b.RequirePrivateNetworking == nil || !*b.RequirePrivateNetworking {
		t.Errorf("created bucket: %s", got.Body)
	}
	if keys := apitest.TopKeys(t, got.Body); !slices.Equal(keys, []string{"_id", "bucketName", "cloudProvider", "iamRoleId", "requirePrivateNetworking"}) {
		t.Errorf("create keys: %v (region and links must be absent)", keys)
	}

	// List.
	list := e.Do(t, apitest.Request{Path: e.bucketsPath("v1.0"), Accept: "application/json", Auth: apitest.Bearer(token)})
	apitest.WantStatus(t, list, http.StatusOK)
	if ct := list.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("list Content-Type: want application/json, got %q", ct)
	}
	var page struct {
		Results    []map[string]any `json:"results"`
		TotalCount int              `json:"totalCount"`
	}
	list.Decode(t, &page)
	if page.TotalCount != 1 || len(page.Results) != 1 || page.Results[0]["_id"] != b.ID {
		t.Errorf("v1.0 list: %s", list.Body)
	}

	// Get carries the region.
	one := e.Do(t, apitest.Request{Path: e.bucketsPath("v1.0") + "/" + b.ID, Accept: "application/json", Auth: apitest.Bearer(token)})
	apitest.WantStatus(t, one, http.StatusOK)
	if m := one.Object(t); m["region"] != "us-east-1" || m["_id"] != b.ID || m["requirePrivateNetworking"] != true {
		t.Errorf("v1.0 get: %s", one.Body)
	}

	// Delete, then it is gone.
	del := e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v1.0") + "/" + b.ID, Accept: "application/json", Auth: apitest.Bearer(token)})
	apitest.WantStatus(t, del, http.StatusNoContent)
	if len(del.Body) != 0 {
		t.Errorf("v1.0 delete body: %q", del.Body)
	}
	gone := e.Do(t, apitest.Request{Path: e.bucketsPath("v1.0") + "/" + b.ID, Accept: "application/json", Auth: apitest.Bearer(token)})
	if apiErr := apitest.WantError(t, gone, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND"); !slices.Equal(apiErr.Params(), []string{b.ID}) {
		t.Errorf("parameters: %v", apiErr.Params())
	}
}

// TestV1AWSOnly: v1.0 knows AWS buckets only, on input and on output.
func TestV1AWSOnly(t *testing.T) {
	e := newEnv(t)
	aws := e.createBucket(t, awsBucketBody("aws-bucket", e.role(t, "AWS", true)))
	azure := e.createBucket(t, `{"cloudProvider":"AZURE","roleId":"`+e.role(t, "AZURE", true)+`","serviceUrl":"https://examplestorageaccount.blob.core.windows.net/examplecontainer"}`)
	gcp := e.createBucket(t, `{"bucketName":"gcs-bucket","cloudProvider":"GCP","roleId":"`+e.role(t, "GCP", true)+`"}`)

	got := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v1.0"), Accept: "application/json",
		Body: `{"bucketName":"examplecontainer","cloudProvider":"AZURE","roleId":"` + e.role(t, "AZURE", true) + `","serviceUrl":"https://examplestorageaccount.blob.core.windows.net/examplecontainer"}`})
	if apiErr := apitest.WantError(t, got, http.StatusBadRequest, "INVALID_ENUM_VALUE"); !slices.Equal(apiErr.Params(), []string{"AZURE"}) {
		t.Errorf("parameters: %v", apiErr.Params())
	}

	ids := func(r *apitest.Response) []string {
		t.Helper()
		apitest.WantStatus(t, r, http.StatusOK)
		var page struct {
			Results []struct {
				ID            string `json:"_id"`
				CloudProvider string `json:"cloudProvider"`
			} `json:"results"`
			TotalCount int `json:"totalCount"`
		}
		r.Decode(t, &page)
		var out []string
		for _, b := range page.Results {
			out = append(out, b.ID)
		}
		if page.TotalCount != len(out) {
			t.Errorf("totalCount %d for %d results: %s", page.TotalCount, len(out), r.Body)
		}
		return out
	}
	for _, tc := range []struct {
		name, path, accept string
		want               []string
	}{
		{"v1.0", e.bucketsPath("v1.0"), "application/json", []string{aws}},
		{"2023-01-01", e.bucketsPath("v2"), v20230101, []string{aws}},
		{"2024-05-30", e.bucketsPath("v2"), v20240530, []string{aws, azure, gcp}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(e.Do(t, apitest.Request{Path: tc.path, Accept: tc.accept})); !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
			for _, id := range []string{azure, gcp} {
				got := e.Do(t, apitest.Request{Path: tc.path + "/" + id, Accept: tc.accept})
				if len(tc.want) == 1 {
					apitest.WantError(t, got, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND")
				} else {
					apitest.WantStatus(t, got, http.StatusOK)
				}
			}
		})
	}
	// v1.0 cannot delete what it cannot see; v2 deletes in 2023-01-01,
	// the only version of DELETE, whatever the provider.
	for _, id := range []string{azure, gcp} {
		got := e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v1.0") + "/" + id, Accept: "application/json"})
		apitest.WantError(t, got, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND")
		got = e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + id, Accept: v20230101})
		apitest.WantStatus(t, got, http.StatusNoContent)
	}
	if got := e.bucketIDs(t); !slices.Equal(got, []string{aws}) {
		t.Errorf("after deleting the Azure and GCP buckets: %v", got)
	}
}

// ---------------------------------------------------------------- 2. versions

func TestVersionNegotiation(t *testing.T) {
	e := newEnv(t)
	bucket := e.createBucket(t, awsBucketBody("export-bucket", e.role(t, "AWS", true)))
	list := e.bucketsPath("v2")
	one := list + "/" + bucket

	for _, tc := range []struct {
		name   string
		method string
		path   string
		accept string
		body   string
	}{
		{"no Accept", "GET", list, "", ""},
		{"application/json", "GET", list, "application/json", ""},
		{"undeclared date", "GET", list, "application/vnd.atlas.2025-01-01+json", ""},
		{"malformed date", "GET", list, "application/vnd.atlas.2024-5-30+json", ""},
		{"not a date", "GET", list, "application/vnd.atlas.latest+json", ""},
		{"no +json", "GET", list, "application/vnd.atlas.2024-05-30", ""},
		{"wildcard", "GET", list, "*/*", ""},
		{"PATCH with 2023-01-01", "PATCH", one, v20230101, `{"requirePrivateNetworking":false}`},
		{"DELETE with 2024-05-30", "DELETE", one, v20240530, ""},
		{"create with undeclared date", "POST", list, "application/vnd.atlas.2023-02-01+json", awsBucketBody("other-bucket", "0123456789abcdef01234567")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Accept: tc.accept, Body: tc.body})
			apiErr := apitest.WantError(t, got, http.StatusNotAcceptable, "INVALID_VERSION_DATE")
			if apiErr.Detail != "Invalid accept header or version date." {
				t.Errorf("detail: %q", apiErr.Detail)
			}
		})
	}

	// Accepted forms: a media-type parameter, a list naming one served
	// version, and the versioned type as the body's Content-Type.
	for _, tc := range []struct {
		name, accept, served string
	}{
		{"charset parameter", v20240530 + ";charset=utf-8", "2024-05-30"},
		{"list", "application/json, " + v20230101, "2023-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Path: list, Accept: tc.accept})
			apitest.WantStatus(t, got, http.StatusOK)
			if ct, want := got.Header.Get("Content-Type"), "application/vnd.atlas."+tc.served+"+json;charset=utf-8"; ct != want {
				t.Errorf("Content-Type %q, want %q", ct, want)
			}
		})
	}
	got := e.Do(t, apitest.Request{Method: "PATCH", Path: one, Accept: v20240530, ContentType: v20240530, Body: `{"requirePrivateNetworking":true}`})
	apitest.WantStatus(t, got, http.StatusOK)

	// Nothing above changed the bucket: the refused DELETE kept it and the
	// refused PATCH did not clear requirePrivateNetworking.
	got = e.Do(t, apitest.Request{Path: one, Accept: v20240530})
	apitest.WantStatus(t, got, http.StatusOK)
	if m := got.Object(t); m["requirePrivateNetworking"] != true {
		t.Errorf("bucket after refused calls: %s", got.Body)
	}
	if n := e.bucketCount(t); n != 1 {
		t.Errorf("bucket count after refused calls: %d", n)
	}
}

// TestVersionHeaders: the served version is echoed in Content-Type (with
// charset, on 204 too) and the deprecated 2023-01-01 bucket schemas
// announce their deprecation and sunset.
func TestVersionHeaders(t *testing.T) {
	e := newEnv(t)
	roleID := e.role(t, "AWS", true)
	const (
		deprecation = "Thu, 30 May 2024 00:00:00 GMT"
		sunset      = "Thu, 1 Jul 2027 00:00:00 GMT"
	)
	for _, tc := range []struct {
		name       string
		method     string
		accept     string
		status     int
		deprecated bool
		path       func(id string) string
		body       string
	}{
		{"list 2023-01-01", "GET", v20230101, 200, true, func(string) string { return e.bucketsPath("v2") }, ""},
		{"list 2024-05-30", "GET", v20240530, 200, false, func(string) string { return e.bucketsPath("v2") }, ""},
		{"create 2023-01-01", "POST", v20230101, 200, true, func(string) string { return e.bucketsPath("v2") }, awsBucketBody("bucket-a", roleID)},
		{"create 2024-05-30", "POST", v20240530, 200, false, func(string) string { return e.bucketsPath("v2") }, awsBucketBody("bucket-b", roleID)},
		{"get 2023-01-01", "GET", v20230101, 200, true, func(id string) string { return e.bucketsPath("v2") + "/" + id }, ""},
		{"get 2024-05-30", "GET", v20240530, 200, false, func(id string) string { return e.bucketsPath("v2") + "/" + id }, ""},
		{"patch 2024-05-30", "PATCH", v20240530, 200, false, func(id string) string { return e.bucketsPath("v2") + "/" + id }, `{"requirePrivateNetworking":false}`},
		// DELETE exists only in 2023-01-01, which is not deprecated for it.
		{"delete 2023-01-01", "DELETE", v20230101, 204, false, func(id string) string { return e.bucketsPath("v2") + "/" + id }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.createBucket(t, awsBucketBody("export-bucket", roleID))
			got := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path(id), Accept: tc.accept, Body: tc.body})
			apitest.WantStatus(t, got, tc.status)
			wantCT := tc.accept + ";charset=utf-8"
			if ct := got.Header.Get("Content-Type"); ct != wantCT {
				t.Errorf("Content-Type: want %q, got %q", wantCT, ct)
			}
			dep, sun := got.Header.Get("Deprecation"), got.Header.Get("Sunset")
			if tc.deprecated && (dep != deprecation || sun != sunset) {
				t.Errorf("Deprecation %q, Sunset %q: want %q and %q", dep, sun, deprecation, sunset)
			}
			if !tc.deprecated && (dep != "" || sun != "") {
				t.Errorf("Deprecation %q, Sunset %q: want neither", dep, sun)
			}
			if tc.status == http.StatusNoContent && len(got.Body) != 0 {
				t.Errorf("204 with a body: %q", got.Body)
			}
		})
	}
}

// TestVersionGone: past its sunset a version answers 410; the other
// version and the DELETE's 2023-01-01 (not sunset) keep working.
func TestVersionGone(t *testing.T) {
	clock := newClock(time.Date(2027, 6, 30, 23, 59, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock})
	bucket := e.createBucket(t, awsBucketBody("export-bucket", e.role(t, "AWS", true)))

	// The day before the sunset the version is still served, deprecated.
	got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)

	clock.Set(time.Date(2027, 7, 2, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct{ name, method, path string }{
		{"list", "GET", e.bucketsPath("v2")},
		{"get", "GET", e.bucketsPath("v2") + "/" + bucket},
		{"create", "POST", e.bucketsPath("v2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "POST" {
				body = awsBucketBody("late-bucket", bucket)
			}
			got := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Accept: v20230101, Body: body})
			apitest.WantError(t, got, http.StatusGone, "VERSION_GONE")
		})
	}
	got = e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + bucket, Accept: v20240530})
	apitest.WantStatus(t, got, http.StatusOK)
	got = e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + bucket, Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusNoContent)
}

// ---------------------------------------------------------------- 3. body shape

// TestSuccessBodyShape: success bodies are compact with keys in
// alphabetical order at every level, in every version.
func TestSuccessBodyShape(t *testing.T) {
	e := newEnv(t)
	roleID := e.role(t, "AWS", true)
	id := e.createBucket(t, awsBucketBody("export-bucket", roleID))
	e.createBucket(t, `{"cloudProvider":"AZURE","roleId":"`+e.role(t, "AZURE", true)+`","serviceUrl":"https://examplestorageaccount.blob.core.windows.net/examplecontainer"}`)
	for _, tc := range []struct {
		name string
		r    apitest.Request
	}{
		{"create 2024-05-30", apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: v20240530, Body: awsBucketBody("shape-bucket", roleID)}},
		{"create 2023-01-01", apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: v20230101, Body: awsBucketBody("shape-bucket", roleID)}},
		{"list 2024-05-30", apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}},
		{"list 2023-01-01", apitest.Request{Path: e.bucketsPath("v2"), Accept: v20230101}},
		{"list v1.0", apitest.Request{Path: e.bucketsPath("v1.0"), Accept: "application/json"}},
		{"get 2024-05-30", apitest.Request{Path: e.bucketsPath("v2") + "/" + id, Accept: v20240530}},
		{"patch 2024-05-30", apitest.Request{Method: "PATCH", Path: e.bucketsPath("v2") + "/" + id, Accept: v20240530, Body: `{"requirePrivateNetworking":true}`}},
		{"roles", apitest.Request{Path: e.rolesPath(), Accept: v20230101}},
		{"project", apitest.Request{Path: "/api/atlas/v2/groups/" + e.GroupID, Accept: v20230101}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.Do(t, tc.r)
			apitest.WantStatus(t, got, http.StatusOK)
			apitest.WantSuccessBody(t, got)
		})
	}
}

// Recorded Atlas answers (mongodb/mongodb-atlas-cli test/e2e, August 2026):
// the headers of interest and the body, the list cut to two items.
const (
	recordedCreate = "HTTP/2.0 200 OK\r\n" +
		"Content-Type: application/vnd.atlas.2024-05-30+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1199\r\n\r\n" +
		`{"_id":"6a793f752c88faeba59bba56","bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":"c0123456789abcdef012345c","requirePrivateNetworking":false}`
	recordedGet = "HTTP/2.0 200 OK\r\n" +
		"Content-Type: application/vnd.atlas.2024-05-30+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1197\r\n\r\n" +
		`{"_id":"6a793f752c88faeba59bba56","bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":"c0123456789abcdef012345c","region":"us-east-1","requirePrivateNetworking":false}`
	recordedList = "HTTP/2.0 200 OK\r\n" +
		"Content-Type: application/vnd.atlas.2024-05-30+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1198\r\n\r\n" +
		`{"links":[{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/backup/exportBuckets?includeCount=true&pageNum=1&itemsPerPage=100","rel":"self"},{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/backup/exportBuckets?includeCount=true&itemsPerPage=100&pageNum=2","rel":"next"}],"results":[{"_id":"65566a5f1d4b3b0ca4f3b78b","bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":"60113b99ce5a6a3d72ea7454","requirePrivateNetworking":false},{"_id":"655747a6d598e72693f4f99e","bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":"60113b99ce5a6a3d72ea7454","requirePrivateNetworking":false}],"totalCount":2508}`
	recordedDelete = "HTTP/2.0 204 No Content\r\n" +
		"Content-Type: application/vnd.atlas.2023-01-01+json;charset=utf-8\r\n" +
		"Ratelimit-Limit: 1200\r\nRatelimit-Remaining: 1196\r\n\r\n"
)

func parseRecorded(t *testing.T, raw string) *apitest.Response {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("recorded response: %v", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes()}
}

// TestMatchesRecordedAtlas replays the Atlas CLI's recorded bucket calls
// and compares what a client sees: status, the Content-Type, the rate-limit
// headers, and the fields of the body in their order.
func TestMatchesRecordedAtlas(t *testing.T) {
	e := newEnv(t)
	roleID := e.role(t, "AWS", true)
	e.createBucket(t, awsBucketBody("test-bucket", roleID))
	body := fmt.Sprintf(`{"bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":%q}`, roleID)

	create := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: v20240530, Body: body})
	var created struct {
		ID string `json:"_id"`
	}
	create.Decode(t, &created)
	get := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + created.ID, Accept: v20240530})
	list := e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530})
	del := e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + created.ID, Accept: v20230101})

	for _, tc := range []struct {
		name     string
		got      *apitest.Response
		recorded string
	}{
		{"create", create, recordedCreate},
		{"get", get, recordedGet},
		{"list", list, recordedList},
		{"delete", del, recordedDelete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := parseRecorded(t, tc.recorded)
			if tc.got.Status != want.Status {
				t.Fatalf("status: Atlas %d, here %s", want.Status, tc.got)
			}
			if got, w := tc.got.Header.Get("Content-Type"), want.Header.Get("Content-Type"); got != w {
				t.Errorf("Content-Type: Atlas %q, here %q", w, got)
			}
			// Same capacity (Atlas's default limits); what remains depends
			// on the calls made before.
			if got, w := tc.got.Header.Get("Ratelimit-Limit"), want.Header.Get("Ratelimit-Limit"); got != w {
				t.Errorf("Ratelimit-Limit: Atlas %q, here %q", w, got)
			}
			if n, err := strconv.Atoi(tc.got.Header.Get("Ratelimit-Remaining")); err != nil || n < 0 || n >= 1200 {
				t.Errorf("Ratelimit-Remaining: Atlas %q, here %q", want.Header.Get("Ratelimit-Remaining"), tc.got.Header.Get("Ratelimit-Remaining"))
			}
			if len(want.Body) == 0 {
				if len(tc.got.Body) != 0 {
					t.Errorf("body: Atlas none, here %q", tc.got.Body)
				}
				return
			}
			apitest.WantSuccessBody(t, tc.got)
			wantOrders, gotOrders := want.KeyOrders(t), tc.got.KeyOrders(t)
			if tc.name != "list" {
				if !reflect.DeepEqual(gotOrders, wantOrders) {
					t.Errorf("fields: Atlas %v, here %v", wantOrders, gotOrders)
				}
				return
			}
			// A list: the envelope's fields, then each link's and each
			// item's (Atlas's page had a next link; ours has one page).
			if !slices.Equal(gotOrders[0], wantOrders[0]) {
				t.Errorf("list fields: Atlas %v, here %v", wantOrders[0], gotOrders[0])
			}
			for _, keys := range gotOrders[1:] {
				if !slices.Equal(keys, wantOrders[1]) && !slices.Equal(keys, wantOrders[len(wantOrders)-1]) {
					t.Errorf("list member fields %v match neither Atlas's link %v nor item %v", keys, wantOrders[1], wantOrders[len(wantOrders)-1])
				}
			}
			var page struct {
				Links []struct{ Href, Rel string }
			}
			tc.got.Decode(t, &page)
			wantSelf := e.URL + e.bucketsPath("v2") + "?includeCount=true&pageNum=1&itemsPerPage=100"
			if len(page.Links) != 1 || page.Links[0].Rel != "self" || page.Links[0].Href != wantSelf {
				t.Errorf("links: %+v, want only self %s", page.Links, wantSelf)
			}
		})
	}
}

// TestErrorBodyShape checks the Atlas error conventions on a range of
// errors from each stage of the pipeline.
func TestErrorBodyShape(t *testing.T) {
	e := newEnv(t)
	unknownGroup := "111111111111111111111111"
	got := e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + unknownGroup + "/backup/exportBuckets", Accept: v20240530})
	apiErr := apitest.WantError(t, got, http.StatusNotFound, "GROUP_NOT_FOUND")
	// Atlas's recorded answer, byte for byte.
	want := `{"detail":"No group with ID 111111111111111111111111 exists.","error":404,"errorCode":"GROUP_NOT_FOUND","parameters":["111111111111111111111111"],"reason":"Not Found"}`
	if string(got.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", got.Body, want)
	}
	if !slices.Equal(apiErr.Params(), []string{unknownGroup}) {
		t.Errorf("parameters: %v", apiErr.Params())
	}
	if keys := apitest.TopKeys(t, got.Body); !slices.Equal(keys, []string{"detail", "error", "errorCode", "parameters", "reason"}) {
		t.Errorf("error fields: %v", keys)
	}
}

// ---------------------------------------------------------------- 4. envelope and pretty

func TestEnvelope(t *testing.T) {
	e := newEnv(t)
	id := e.createBucket(t, awsBucketBody("export-bucket", e.role(t, "AWS", true)))

	t.Run("single entity", func(t *testing.T) {
		plain := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + id, Accept: v20240530})
		got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + id + "?envelope=true", Accept: v20240530})
		apitest.WantStatus(t, got, http.StatusOK)
		apitest.WantSuccessBody(t, got)
		if keys := apitest.TopKeys(t, got.Body); !slices.Equal(keys, []string{"content", "status"}) {
			t.Errorf("envelope fields: %v", keys)
		}
		var env struct {
			Content json.RawMessage `json:"content"`
			Status  int             `json:"status"`
		}
		got.Decode(t, &env)
		if env.Status != 200 || string(env.Content) != string(plain.Body) {
			t.Errorf("envelope %s does not wrap %s", got.Body, plain.Body)
		}
	})
	t.Run("create", func(t *testing.T) {
		got := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v2") + "?envelope=true", Accept: v20240530,
			Body: awsBucketBody("enveloped-bucket", e.role(t, "AWS", true))})
		apitest.WantStatus(t, got, http.StatusOK)
		m := got.Object(t)
		content, _ := m["content"].(map[string]any)
		if m["status"] != float64(200) || content["bucketName"] != "enveloped-bucket" {
			t.Errorf("enveloped create: %s", got.Body)
		}
	})
	t.Run("list", func(t *testing.T) {
		got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?envelope=true", Accept: v20240530})
		apitest.WantStatus(t, got, http.StatusOK)
		apitest.WantSuccessBody(t, got)
		if keys := apitest.TopKeys(t, got.Body); !slices.Equal(keys, []string{"links", "results", "status", "totalCount"}) {
			t.Errorf("enveloped list fields: %v", keys)
		}
		if m := got.Object(t); m["status"] != float64(200) {
			t.Errorf("status field: %v", m["status"])
		}
	})
	t.Run("error", func(t *testing.T) {
		missing := "0123456789abcdef01234567"
		got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + missing + "?envelope=true", Accept: v20240530})
		// The HTTP status stays the error's; the body is wrapped.
		if got.Status != http.StatusNotFound || got.Header.Get("X-Error-Code") != "EXPORT_BUCKET_NOT_FOUND" {
			t.Fatalf("enveloped error: %s (X-Error-Code %q)", got, got.Header.Get("X-Error-Code"))
		}
		if err := apitest.CheckSortedKeys(got.Body); err != nil {
			t.Error(err)
		}
		var env struct {
			Content apitest.APIError `json:"content"`
			Status  int              `json:"status"`
		}
		got.Decode(t, &env)
		if env.Status != 404 || env.Content.ErrorCode != "EXPORT_BUCKET_NOT_FOUND" || env.Content.Error != 404 {
			t.Errorf("enveloped error body: %s", got.Body)
		}
	})
	t.Run("204", func(t *testing.T) {
		other := e.createBucket(t, awsBucketBody("doomed-bucket", e.role(t, "AWS", true)))
		got := e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + other + "?envelope=true", Accept: v20230101})
		apitest.WantStatus(t, got, http.StatusNoContent)
		if len(got.Body) != 0 {
			t.Errorf("enveloped 204 has a body: %q", got.Body)
		}
	})
}

func TestPretty(t *testing.T) {
	e := newEnv(t)
	roleID := e.role(t, "AWS", true)
	id := e.createBucket(t, awsBucketBody("export-bucket", roleID))

	got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + id + "?pretty=true", Accept: v20240530})
	apitest.WantStatus(t, got, http.StatusOK)
	want := `{
  "_id" : "` + id + `",
  "bucketName" : "export-bucket",
  "cloudProvider" : "AWS",
  "iamRoleId" : "` + roleID + `",
  "region" : "us-east-1",
  "requirePrivateNetworking" : true
}`
	if string(got.Body) != want {
		t.Errorf("pretty get:\n got %s\nwant %s", got.Body, want)
	}

	list := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?pretty=true&itemsPerPage=1", Accept: v20240530})
	apitest.WantStatus(t, list, http.StatusOK)
	wantList := `{
  "links" : [ {
    "href" : "` + e.URL + e.bucketsPath("v2") + `?includeCount=true&pageNum=1&itemsPerPage=1",
    "rel" : "self"
  } ],
  "results" : [ {
    "_id" : "` + id + `",
    "bucketName" : "export-bucket",
    "cloudProvider" : "AWS",
    "iamRoleId" : "` + roleID + `",
    "requirePrivateNetworking" : true
  } ],
  "totalCount" : 1
}`
	if string(list.Body) != wantList {
		t.Errorf("pretty list:\n got %s\nwant %s", list.Body, wantList)
	}

	errResp := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/0123456789abcdef01234567?pretty=true", Accept: v20240530})
	if errResp.Status != http.StatusNotFound || errResp.Header.Get("X-Error-Code") != "EXPORT_BUCKET_NOT_FOUND" {
		t.Fatalf("pretty error: %s", errResp)
	}
	if !bytes.Contains(errResp.Body, []byte("\n  \"errorCode\" : \"EXPORT_BUCKET_NOT_FOUND\",\n")) {
		t.Errorf("pretty error body is not indented Jackson style: %s", errResp.Body)
	}
	if err := apitest.CheckSortedKeys(errResp.Body); err != nil {
		t.Error(err)
	}

	both := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + id + "?pretty=true&envelope=true", Accept: v20240530})
	apitest.WantStatus(t, both, http.StatusOK)
	if !strings.HasPrefix(string(both.Body), "{\n  \"content\" : {\n    \"_id\" : ") || !strings.HasSuffix(string(both.Body), "\n  },\n  \"status\" : 200\n}") {
		t.Errorf("pretty envelope: %s", both.Body)
	}
}

// TestPrettyKeepsFieldOrder: pretty=true indents the very body that is
// served without it, fields in the same order: a cluster's hardware specs
// put instanceSize first, as Atlas does, rather than in alphabetical order.
func TestPrettyKeepsFieldOrder(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "cluster-0", MongoDBVersion: "8.0.29"})
	path := e.clustersPath() + "/cluster-0"
	plain := e.Do(t, apitest.Request{Path: path, Accept: v20240805})
	pretty := e.Do(t, apitest.Request{Path: path + "?pretty=true", Accept: v20240805})
	apitest.WantStatus(t, plain, http.StatusOK)
	apitest.WantStatus(t, pretty, http.StatusOK)
	if !bytes.Contains(pretty.Body, []byte("\"electableSpecs\" : {\n        \"instanceSize\" : \"M10\",\n")) {
		t.Errorf("pretty cluster does not put instanceSize first in electableSpecs:\n%s", pretty.Body)
	}
	var compacted bytes.Buffer
	if err := json.Compact(&compacted, pretty.Body); err != nil {
		t.Fatal(err)
	}
	if compacted.String() != string(plain.Body) {
		t.Errorf("pretty body differs from the plain one but for spaces:\n pretty %s\n  plain %s", compacted.Bytes(), plain.Body)
	}
}

func TestInvalidBooleanQuery(t *testing.T) {
	e := newEnv(t)
	for _, q := range []string{"envelope=yes", "pretty=1", "envelope=", "includeCount=maybe", "pretty=on"} {
		t.Run(q, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?" + q, Accept: v20240530})
			apitest.WantError(t, got, http.StatusBadRequest, "INVALID_QUERY_PARAMETER")
		})
	}
	for _, q := range []string{"envelope=TRUE", "pretty=False", "includeCount=true"} {
		t.Run(q, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?" + q, Accept: v20240530})
			apitest.WantStatus(t, got, http.StatusOK)
		})
	}
}

// ---------------------------------------------------------------- 5. pagination

type pageView struct {
	Links []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"links"`
	Results []struct {
		ID string `json:"_id"`
	} `json:"results"`
	TotalCount *int `json:"totalCount"`
}

func (p pageView) ids() []string {
	var out []string
	for _, r := range p.Results {
		out = append(out, r.ID)
	}
	return out
}

func (p pageView) links() map[string]string {
	out := map[string]string{}
	for _, l := range p.Links {
		out[l.Rel] = l.Href
	}
	return out
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	roleID := e.role(t, "AWS", true)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.createBucket(t, awsBucketBody(fmt.Sprintf("bucket-%d", i), roleID)))
	}
	base := e.URL + e.bucketsPath("v2")
	self := func(include bool, n, m int) string {
		return fmt.Sprintf("%s?includeCount=%t&pageNum=%d&itemsPerPage=%d", base, include, n, m)
	}
	other := func(include bool, n, m int) string {
		return fmt.Sprintf("%s?includeCount=%t&itemsPerPage=%d&pageNum=%d", base, include, m, n)
	}

	for _, tc := range []struct {
		query string
		ids   []string
		total int // -1: absent
		links map[string]string
	}{
		{"", ids, 5, map[string]string{"self": self(true, 1, 100)}},
		{"?itemsPerPage=2", ids[:2], 5, map[string]string{"self": self(true, 1, 2), "next": other(true, 2, 2)}},
		{"?itemsPerPage=2&pageNum=2", ids[2:4], 5, map[string]string{"self": self(true, 2, 2), "previous": other(true, 1, 2), "next": other(true, 3, 2)}},
		{"?pageNum=3&itemsPerPage=2", ids[4:], 5, map[string]string{"self": self(true, 3, 2), "previous": other(true, 2, 2)}},
		{"?itemsPerPage=2&pageNum=4", nil, 5, map[string]string{"self": self(true, 4, 2), "previous": other(true, 3, 2)}},
		{"?itemsPerPage=5", ids, 5, map[string]string{"self": self(true, 1, 5)}},
		{"?itemsPerPage=1&pageNum=5", ids[4:], 5, map[string]string{"self": self(true, 5, 1), "previous": other(true, 4, 1)}},
		{"?itemsPerPage=500", ids, 5, map[string]string{"self": self(true, 1, 500)}},
		{"?includeCount=false&itemsPerPage=2", ids[:2], -1, map[string]string{"self": self(false, 1, 2), "next": other(false, 2, 2)}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + tc.query, Accept: v20240530})
			apitest.WantStatus(t, got, http.StatusOK)
			var p pageView
			got.Decode(t, &p)
			if !slices.Equal(p.ids(), tc.ids) {
				t.Errorf("results: %v, want %v", p.ids(), tc.ids)
			}
			if p.Results == nil {
				t.Errorf("results must be an array, even when empty: %s", got.Body)
			}
			switch {
			case tc.total < 0 && p.TotalCount != nil:
				t.Errorf("totalCount present with includeCount=false: %d", *p.TotalCount)
			case tc.total >= 0 && (p.TotalCount == nil || *p.TotalCount != tc.total):
				t.Errorf("totalCount: want %d, got %s", tc.total, got.Body)
			}
			if !reflect.DeepEqual(p.links(), tc.links) {
				t.Errorf("links:\n got %v\nwant %v", p.links(), tc.links)
			}
			if p.Links[0].Rel != "self" {
				t.Errorf("first link is %q, want self", p.Links[0].Rel)
			}
		})
	}

	t.Run("bad values", func(t *testing.T) {
		for _, q := range []string{"itemsPerPage=0", "itemsPerPage=501", "itemsPerPage=abc", "itemsPerPage=-1", "itemsPerPage=2.5",
			"pageNum=0", "pageNum=-3", "pageNum=x", "includeCount=2"} {
			got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?" + q, Accept: v20240530})
			apitest.WantError(t, got, http.StatusBadRequest, "INVALID_QUERY_PARAMETER")
		}
	})

	t.Run("links use the request host", func(t *testing.T) {
		got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?itemsPerPage=2", Accept: v20240530, Host: "backup.example.com:8443"})
		apitest.WantStatus(t, got, http.StatusOK)
		var p pageView
		got.Decode(t, &p)
		wantPrefix := "http://backup.example.com:8443" + e.bucketsPath("v2") + "?"
		for _, l := range p.Links {
			if !strings.HasPrefix(l.Href, wantPrefix) {
				t.Errorf("%s link %q does not start with %q", l.Rel, l.Href, wantPrefix)
			}
		}
	})

	t.Run("v1.0 links", func(t *testing.T) {
		got := e.Do(t, apitest.Request{Path: e.bucketsPath("v1.0") + "?itemsPerPage=4&pageNum=2", Accept: "application/json"})
		apitest.WantStatus(t, got, http.StatusOK)
		var p pageView
		got.Decode(t, &p)
		b := e.URL + e.bucketsPath("v1.0")
		want := map[string]string{
			"self":     b + "?includeCount=true&pageNum=2&itemsPerPage=4",
			"previous": b + "?includeCount=true&itemsPerPage=4&pageNum=1",
		}
		if !reflect.DeepEqual(p.links(), want) || !slices.Equal(p.ids(), ids[4:]) {
			t.Errorf("v1.0 page: %s", got.Body)
		}
	})
}

// ---------------------------------------------------------------- 6. request bodies and paths

func TestCreateBucketRejections(t *testing.T) {
	e := newEnv(t)
	aws := e.role(t, "AWS", true)
	unauthorized := e.role(t, "AWS", false)
	gcp := e.role(t, "GCP", true)
	azure := e.role(t, "AZURE", true)
	e.createBucket(t, awsBucketBody("existing-bucket", aws))
	foreign := e.foreignRole(t)
	awsBody := func(name string) string { return awsBucketBody(name, aws) }
	gcsBody := func(name string) string {
		return fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"GCP","roleId":%q}`, name, gcp)
	}
	azureBody := func(serviceURL string) string {
		return fmt.Sprintf(`{"cloudProvider":"AZURE","roleId":%q,"serviceUrl":%q}`, azure, serviceURL)
	}
	before := e.bucketIDs(t)
	huge := `{"bucketName":"` + strings.Repeat("a", 1<<20) + `","cloudProvider":"AWS","iamRoleId":"` + aws + `"}`

	for _, tc := range []struct {
		name   string
		accept string // default 2024-05-30
		body   string
		status int
		code   string
		params []string // checked when not nil
	}{
		{"malformed JSON", "", `{"bucketName":`, 400, "MALFORMED_JSON", nil},
		{"trailing garbage", "", awsBody("export-bucket") + `}`, 400, "MALFORMED_JSON", nil},
		{"JSON array", "", `[` + awsBody("export-bucket") + `]`, 400, "INVALID_JSON", nil},
		{"JSON string", "", `"export-bucket"`, 400, "INVALID_JSON", nil},
		{"unknown attribute", "", `{"bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `","color":"blue"}`, 400, "INVALID_ATTRIBUTE", []string{"color"}},
		{"misspelled attribute", "", `{"bucketname":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `"}`, 400, "INVALID_ATTRIBUTE", []string{"bucketname"}},
		{"read-only _id", "", `{"_id":"0123456789abcdef01234567","bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `"}`, 400, "ATTRIBUTE_READ_ONLY", []string{"_id"}},
		{"read-only region", "", `{"bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `","region":"us-east-1"}`, 400, "ATTRIBUTE_READ_ONLY", []string{"region"}},
		{"read-only region 2023-01-01", v20230101, `{"bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `","region":"us-east-1"}`, 400, "ATTRIBUTE_READ_ONLY", []string{"region"}},
		{"missing bucketName", "", `{"cloudProvider":"AWS","iamRoleId":"` + aws + `"}`, 400, "MISSING_ATTRIBUTE", []string{"bucketName"}},
		{"empty bucketName", "", `{"bucketName":"","cloudProvider":"AWS","iamRoleId":"` + aws + `"}`, 400, "MISSING_ATTRIBUTE", []string{"bucketName"}},
		{"missing iamRoleId", "", `{"bucketName":"export-bucket","cloudProvider":"AWS"}`, 400, "MISSING_ATTRIBUTE", []string{"iamRoleId"}},
		{"missing cloudProvider", "", `{"bucketName":"export-bucket","iamRoleId":"` + aws + `"}`, 400, "MISSING_ATTRIBUTE", []string{"cloudProvider"}},
		{"empty body", "", " ", 400, "MISSING_ATTRIBUTE", []string{"cloudProvider"}},
		{"null bucketName", "", `{"bucketName":null,"cloudProvider":"AWS","iamRoleId":"` + aws + `"}`, 400, "MISSING_ATTRIBUTE", []string{"bucketName"}},
		{"null body", "", `null`, 400, "MISSING_ATTRIBUTE", []string{"cloudProvider"}},
		{"missing roleId (GCP)", "", `{"bucketName":"gcs-bucket","cloudProvider":"GCP"}`, 400, "MISSING_ATTRIBUTE", []string{"roleId"}},
		{"missing serviceUrl (Azure)", "", `{"cloudProvider":"AZURE","roleId":"` + azure + `","bucketName":"container"}`, 400, "MISSING_ATTRIBUTE", []string{"serviceUrl"}},
		{"bucketName number", "", `{"bucketName":5,"cloudProvider":"AWS","iamRoleId":"` + aws + `"}`, 400, "INVALID_JSON_ATTRIBUTE", []string{"bucketName"}},
		{"requirePrivateNetworking string", "", `{"bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `","requirePrivateNetworking":"yes"}`, 400, "INVALID_JSON_ATTRIBUTE", []string{"requirePrivateNetworking"}},
		{"cloudProvider object", "", `{"bucketName":"export-bucket","cloudProvider":{"name":"AWS"},"iamRoleId":"` + aws + `"}`, 400, "INVALID_JSON_ATTRIBUTE", []string{"cloudProvider"}},
		{"bad enum", "", `{"bucketName":"export-bucket","cloudProvider":"S3","iamRoleId":"` + aws + `"}`, 400, "INVALID_ENUM_VALUE", []string{"S3"}},
		{"lower-case enum", "", `{"bucketName":"export-bucket","cloudProvider":"aws","iamRoleId":"` + aws + `"}`, 400, "INVALID_ENUM_VALUE", []string{"aws"}},
		{"AZURE in 2023-01-01", v20230101, azureBody("https://examplestorageaccount.blob.core.windows.net/examplecontainer"), 400, "INVALID_ENUM_VALUE", []string{"AZURE"}},
		{"GCP in 2023-01-01", v20230101, gcsBody("gcs-bucket"), 400, "INVALID_ENUM_VALUE", []string{"GCP"}},
		{"malformed iamRoleId", "", awsBucketBody("export-bucket", "not-an-id"), 400, "INVALID_ATTRIBUTE", nil},
		{"upper-case iamRoleId", "", awsBucketBody("export-bucket", strings.ToUpper(aws)), 400, "INVALID_ATTRIBUTE", nil},
		{"unauthorized role", "", awsBucketBody("export-bucket", unauthorized), 400, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_AUTHORIZED", []string{unauthorized}},
		{"unknown role", "", awsBucketBody("export-bucket", "0123456789abcdef01234567"), 404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", []string{"0123456789abcdef01234567"}},
		{"role of another project", "", awsBucketBody("export-bucket", foreign), 404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", []string{foreign}},
		{"role of another provider", "", awsBucketBody("export-bucket", gcp), 400, "CLOUD_PROVIDER_ACCESS_ROLE_PROVIDER_MISMATCH", nil},
		{"private networking on GCP", "", `{"bucketName":"gcs-bucket","cloudProvider":"GCP","roleId":"` + gcp + `","requirePrivateNetworking":true}`, 400, "INVALID_ATTRIBUTE", []string{"requirePrivateNetworking"}},

		// Amazon S3 naming rules.
		{"S3 too short", "", awsBody("ab"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 too long", "", awsBody(strings.Repeat("a", 64)), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 upper case", "", awsBody("Export-Bucket"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 underscore", "", awsBody("export_bucket"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 leading hyphen", "", awsBody("-export-bucket"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 trailing dot", "", awsBody("export-bucket."), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 adjacent dots", "", awsBody("export..bucket"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 IP address", "", awsBody("192.168.5.4"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 xn-- prefix", "", awsBody("xn--export"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 -s3alias suffix", "", awsBody("export-s3alias"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"S3 space", "", awsBody("export bucket"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},

		// Google Cloud Storage naming rules.
		{"GCS too short", "", gcsBody("ab"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS upper case", "", gcsBody("Gcs-Bucket"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS goog prefix", "", gcsBody("goog-exports"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS contains google", "", gcsBody("my-google-exports"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS g00gle look-alike", "", gcsBody("my-g00gle-exports"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS 64 chars without dots", "", gcsBody(strings.Repeat("a", 64)), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS leading underscore", "", gcsBody("_exports"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"GCS IP address", "", gcsBody("10.0.0.1"), 400, "EXPORT_BUCKET_NAME_INVALID", nil},

		// Azure service URLs and container names.
		{"Azure http", "", azureBody("http://examplestorageaccount.blob.core.windows.net/examplecontainer"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure other host", "", azureBody("https://examplestorageaccount.blob.core.windows.net.example.com/c1"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure file endpoint", "", azureBody("https://examplestorageaccount.file.core.windows.net/examplecontainer"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure port", "", azureBody("https://examplestorageaccount.blob.core.windows.net:443/examplecontainer"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure query", "", azureBody("https://examplestorageaccount.blob.core.windows.net/examplecontainer?sv=1"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure two segments", "", azureBody("https://examplestorageaccount.blob.core.windows.net/examplecontainer/dir"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure bad container", "", azureBody("https://examplestorageaccount.blob.core.windows.net/Bad_Container"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure upper-case account", "", azureBody("https://ExampleAccount.blob.core.windows.net/examplecontainer"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure too short", "", azureBody("https://a.blob.core.windows.net"), 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure container mismatch", "", `{"bucketName":"othercontainer","cloudProvider":"AZURE","roleId":"` + azure + `","serviceUrl":"https://examplestorageaccount.blob.core.windows.net/examplecontainer"}`, 400, "INVALID_AZURE_SERVICE_URL", nil},
		{"Azure no container", "", azureBody("https://examplestorageaccount.blob.core.windows.net"), 400, "MISSING_ATTRIBUTE", []string{"bucketName"}},
		{"Azure bad bucketName", "", `{"bucketName":"Bad--Name","cloudProvider":"AZURE","roleId":"` + azure + `","serviceUrl":"https://examplestorageaccount.blob.core.windows.net"}`, 400, "EXPORT_BUCKET_NAME_INVALID", nil},

		{"GCS over 63 with dots", "", gcsBody(strings.Repeat("a", 63) + "." + strings.Repeat("b", 63)), 400, "EXPORT_BUCKET_NAME_INVALID", nil},
		{"body over 1 MiB", "", huge, 400, "VALIDATION_ERROR", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accept := tc.accept
			if accept == "" {
				accept = v20240530
			}
			got := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: accept, Body: tc.body})
			apiErr := apitest.WantError(t, got, tc.status, tc.code)
			if tc.params != nil && !slices.Equal(apiErr.Params(), tc.params) {
				t.Errorf("parameters: want %q, got %q", tc.params, apiErr.Params())
			}
			if after := e.bucketIDs(t); !slices.Equal(after, before) {
				t.Errorf("a refused create changed the bucket list: %v, was %v", after, before)
			}
		})
	}

	// The v1.0 path applies the same rules.
	got := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v1.0"), Accept: "application/json", Body: `{"bucketName":"export-bucket","cloudProvider":"AWS"}`})
	apitest.WantError(t, got, http.StatusBadRequest, "MISSING_ATTRIBUTE")
	got = e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v1.0"), Accept: "application/json", Body: `{`})
	apitest.WantError(t, got, http.StatusBadRequest, "MALFORMED_JSON")
	if after := e.bucketIDs(t); !slices.Equal(after, before) {
		t.Errorf("refused v1.0 creates changed the bucket list: %v, was %v", after, before)
	}

	// Names the rules allow are accepted, and null means absent.
	for _, body := range []string{
		`{"bucketName":"nulls-bucket","cloudProvider":"AWS","iamRoleId":"` + aws + `","requirePrivateNetworking":null}`,
		awsBody("a.b-c.1"), awsBody(strings.Repeat("a", 63)),
		gcsBody("gcs_bucket-1"), gcsBody("gcs.bucket.example"),
		azureBody("https://examplestorageaccount.blob.core.windows.net/examplecontainer/"),
		`{"bucketName":"examplecontainer","cloudProvider":"AZURE","roleId":"` + azure + `","serviceUrl":"https://examplestorageaccount.blob.core.windows.net"}`,
	} {
		e.createBucket(t, body)
	}
}

func TestUpdateBucketRejections(t *testing.T) {
	e := newEnv(t)
	id := e.createBucket(t, awsBucketBody("export-bucket", e.role(t, "AWS", true)))
	path := e.bucketsPath("v2") + "/" + id
	for _, tc := range []struct {
		name, body, code string
	}{
		{"missing", `{}`, "MISSING_ATTRIBUTE"},
		{"wrong type", `{"requirePrivateNetworking":"false"}`, "INVALID_JSON_ATTRIBUTE"},
		{"read-only bucketName", `{"bucketName":"renamed","requirePrivateNetworking":false}`, "ATTRIBUTE_READ_ONLY"},
		{"unknown", `{"requirePrivateNetworking":false,"speed":"fast"}`, "INVALID_ATTRIBUTE"},
		{"malformed", `{"requirePrivateNetworking":`, "MALFORMED_JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240530, Body: tc.body})
			apitest.WantError(t, got, http.StatusBadRequest, tc.code)
		})
	}
	azure := e.createBucket(t, `{"cloudProvider":"AZURE","roleId":"`+e.role(t, "AZURE", true)+`","serviceUrl":"https://examplestorageaccount.blob.core.windows.net/examplecontainer"}`)
	got := e.Do(t, apitest.Request{Method: "PATCH", Path: e.bucketsPath("v2") + "/" + azure, Accept: v20240530, Body: `{"requirePrivateNetworking":true}`})
	apitest.WantError(t, got, http.StatusBadRequest, "PRIVATE_NETWORKING_NOT_SUPPORTED")

	got = e.Do(t, apitest.Request{Path: path, Accept: v20240530})
	if m := got.Object(t); m["requirePrivateNetworking"] != true || m["bucketName"] != "export-bucket" {
		t.Errorf("bucket changed by refused updates: %s", got.Body)
	}
	got = e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240530, Body: `{"requirePrivateNetworking":false}`})
	apitest.WantStatus(t, got, http.StatusOK)
	if m := got.Object(t); m["requirePrivateNetworking"] != false || m["region"] != "us-east-1" {
		t.Errorf("patched bucket: %s", got.Body)
	}
}

func TestPathErrors(t *testing.T) {
	e := newEnv(t)
	id := e.createBucket(t, awsBucketBody("export-bucket", e.role(t, "AWS", true)))
	unknownGroup := "0123456789abcdef01234567"
	unknownBucket := "76543210fedcba9876543210"
	groups := "/api/atlas/v2/groups/"
	for _, tc := range []struct {
		name   string
		method string
		path   string
		accept string
		status int
		code   string
		params []string
	}{
		{"malformed bucket id", "GET", e.bucketsPath("v2") + "/not-an-id", v20240530, 400, "INVALID_PATH_PARAMETER", nil},
		{"upper-case bucket id", "GET", e.bucketsPath("v2") + "/" + strings.ToUpper(id), v20240530, 400, "INVALID_PATH_PARAMETER", nil},
		{"malformed bucket id on delete", "DELETE", e.bucketsPath("v2") + "/123", v20230101, 400, "INVALID_PATH_PARAMETER", nil},
		{"malformed bucket id v1.0", "GET", e.bucketsPath("v1.0") + "/123", "application/json", 400, "INVALID_PATH_PARAMETER", nil},
		{"malformed group id", "GET", groups + "not-a-group/backup/exportBuckets", v20240530, 404, "INVALID_GROUP_ID", []string{"not-a-group"}},
		{"malformed group id v1.0", "GET", "/api/atlas/v1.0/groups/xyz/backup/exportBuckets", "application/json", 404, "INVALID_GROUP_ID", []string{"xyz"}},
		{"unknown group", "GET", groups + unknownGroup + "/backup/exportBuckets", v20240530, 404, "GROUP_NOT_FOUND", []string{unknownGroup}},
		{"unknown group v1.0", "GET", "/api/atlas/v1.0/groups/" + unknownGroup + "/backup/exportBuckets", "application/json", 404, "GROUP_NOT_FOUND", []string{unknownGroup}},
		{"unknown group create", "POST", groups + unknownGroup + "/backup/exportBuckets", v20240530, 404, "GROUP_NOT_FOUND", []string{unknownGroup}},
		{"unknown bucket", "GET", e.bucketsPath("v2") + "/" + unknownBucket, v20240530, 404, "EXPORT_BUCKET_NOT_FOUND", []string{unknownBucket}},
		{"unknown bucket delete", "DELETE", e.bucketsPath("v2") + "/" + unknownBucket, v20230101, 404, "EXPORT_BUCKET_NOT_FOUND", []string{unknownBucket}},
		{"unknown bucket patch", "PATCH", e.bucketsPath("v2") + "/" + unknownBucket, v20240530, 404, "EXPORT_BUCKET_NOT_FOUND", []string{unknownBucket}},
		{"unknown path", "GET", groups + e.GroupID + "/backup/exportBucketz", v20240530, 404, "RESOURCE_NOT_FOUND", nil},
		{"unknown API version", "GET", "/api/atlas/v3/groups/" + e.GroupID + "/backup/exportBuckets", v20240530, 404, "RESOURCE_NOT_FOUND", nil},
		{"PUT on a bucket", "PUT", e.bucketsPath("v2") + "/" + id, v20240530, 405, "METHOD_NOT_ALLOWED", nil},
		{"DELETE on the list", "DELETE", e.bucketsPath("v2"), v20230101, 405, "METHOD_NOT_ALLOWED", nil},
		{"PATCH on v1.0", "PATCH", e.bucketsPath("v1.0") + "/" + id, "application/json", 405, "METHOD_NOT_ALLOWED", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "POST" || tc.method == "PATCH" || tc.method == "PUT" {
				body = `{"requirePrivateNetworking":false}`
			}
			r := apitest.Request{Method: tc.method, Path: tc.path, Accept: tc.accept, Body: body}
			// Every answer, even to an unknown path or method, comes after
			// authentication: without credentials, the challenge.
			apitest.WantChallenge(t, e.Send(t, r, ""), false)
			apiErr := apitest.WantError(t, e.Do(t, r), tc.status, tc.code)
			if tc.params != nil && !slices.Equal(apiErr.Params(), tc.params) {
				t.Errorf("parameters: want %q, got %q", tc.params, apiErr.Params())
			}
		})
	}
	// The unknown group is only revealed to an authenticated caller.
	got := e.Send(t, apitest.Request{Path: groups + unknownGroup + "/backup/exportBuckets", Accept: v20240530}, "")
	apitest.WantChallenge(t, got, false)
	// Nothing was deleted or changed.
	if n := e.bucketCount(t); n != 1 {
		t.Errorf("bucket count: %d", n)
	}
}

// ---------------------------------------------------------------- 7. digest

func TestDigestChallenge(t *testing.T) {
	e := newEnv(t)
	r := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	first := e.Send(t, r, "")
	n1 := apitest.WantChallenge(t, first, false)
	n2 := apitest.WantChallenge(t, e.Send(t, r, ""), false)
	if n1 == n2 {
		t.Errorf("two challenges carry the same nonce %q", n1)
	}
	// The challenge comes before version negotiation.
	apitest.WantChallenge(t, e.Send(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: "application/json"}, ""), false)
	// And before the v1.0 handlers.
	apitest.WantChallenge(t, e.Send(t, apitest.Request{Path: e.bucketsPath("v1.0"), Accept: "application/json"}, ""), false)
}

func TestDigestAuthentication(t *testing.T) {
	e := newEnv(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	sign := func(t *testing.T, r apitest.Request, user, pass string) string {
		if r.Method == "" {
			r.Method = http.MethodGet
		}
		return apitest.SignDigest(t, e.Challenge(t, r), r.Method, apitest.RequestURI(t, r.Path), user, pass)
	}

	t.Run("correct", func(t *testing.T) {
		got := e.Send(t, list, sign(t, list, e.PublicKey, e.PrivateKey))
		apitest.WantStatus(t, got, http.StatusOK)
	})
	t.Run("with a query string", func(t *testing.T) {
		r := apitest.Request{Path: e.bucketsPath("v2") + "?itemsPerPage=3&pageNum=1", Accept: v20240530}
		apitest.WantStatus(t, e.Send(t, r, sign(t, r, e.PublicKey, e.PrivateKey)), http.StatusOK)
	})
	t.Run("POST with a body", func(t *testing.T) {
		r := apitest.Request{Method: "POST", Path: e.rolesPath(), Accept: v20230101, Body: `{"providerName":"AWS"}`}
		apitest.WantStatus(t, e.Send(t, r, sign(t, r, e.PublicKey, e.PrivateKey)), http.StatusOK)
	})
	t.Run("wrong password", func(t *testing.T) {
		challenge := e.Challenge(t, list)
		got := e.Send(t, list, apitest.SignDigest(t, challenge, "GET", apitest.RequestURI(t, list.Path), e.PublicKey, "wrong-"+e.PrivateKey))
		nonce := apitest.WantChallenge(t, got, false)
		if nonce == apitest.ParseChallenge(t, challenge)["nonce"] {
			t.Errorf("the new challenge reuses the answered nonce")
		}
	})
	t.Run("unknown public key", func(t *testing.T) {
		got := e.Send(t, list, sign(t, list, "zzzzzzzz", e.PrivateKey))
		apitest.WantChallenge(t, got, false)
	})
	t.Run("replayed", func(t *testing.T) {
		h := sign(t, list, e.PublicKey, e.PrivateKey)
		apitest.WantStatus(t, e.Send(t, list, h), http.StatusOK)
		apitest.WantChallenge(t, e.Send(t, list, h), false)
	})
	t.Run("nonce not issued", func(t *testing.T) {
		h := apitest.DigestHeader(e.PublicKey, e.PrivateKey, "MMS Public API", strings.Repeat("a", 32), "GET", apitest.RequestURI(t, list.Path))
		apitest.WantChallenge(t, e.Send(t, list, h), false)
	})
	t.Run("other uri", func(t *testing.T) {
		c := e.Challenge(t, list)
		h := apitest.SignDigest(t, c, "GET", apitest.RequestURI(t, e.rolesPath()), e.PublicKey, e.PrivateKey)
		apitest.WantChallenge(t, e.Send(t, list, h), false)
	})
	t.Run("other method", func(t *testing.T) {
		c := e.Challenge(t, list)
		h := apitest.SignDigest(t, c, "DELETE", apitest.RequestURI(t, list.Path), e.PublicKey, e.PrivateKey)
		apitest.WantChallenge(t, e.Send(t, list, h), false)
	})
	t.Run("other realm", func(t *testing.T) {
		nonce := apitest.ParseChallenge(t, e.Challenge(t, list))["nonce"]
		h := apitest.DigestHeader(e.PublicKey, e.PrivateKey, "Other Realm", nonce, "GET", apitest.RequestURI(t, list.Path))
		apitest.WantChallenge(t, e.Send(t, list, h), false)
	})
	t.Run("garbage bearer", func(t *testing.T) {
		got := e.Send(t, list, "Bearer not-a-token")
		apitest.WantError(t, got, http.StatusUnauthorized, "UNAUTHORIZED")
	})
	t.Run("basic", func(t *testing.T) {
		got := e.Send(t, list, apitest.BasicAuth(e.PublicKey, e.PrivateKey))
		apitest.WantChallenge(t, got, false)
	})
}

func TestDigestStaleNonce(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock})
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}

	challenge := e.Challenge(t, list)
	clock.Advance(4 * time.Minute)
	apitest.WantStatus(t, e.Send(t, list, apitest.SignDigest(t, challenge, "GET", apitest.RequestURI(t, list.Path), e.PublicKey, e.PrivateKey)), http.StatusOK)

	challenge = e.Challenge(t, list)
	clock.Advance(10 * time.Minute)
	got := e.Send(t, list, apitest.SignDigest(t, challenge, "GET", apitest.RequestURI(t, list.Path), e.PublicKey, e.PrivateKey))
	apitest.WantChallenge(t, got, true)
	// The client retries with the fresh nonce of the stale challenge.
	retry := e.Send(t, list, apitest.SignDigest(t, got.Header.Get("Www-Authenticate"), "GET", apitest.RequestURI(t, list.Path), e.PublicKey, e.PrivateKey))
	apitest.WantStatus(t, retry, http.StatusOK)

	// A wrong password on an expired nonce is not stale: the credentials
	// are wrong whatever the nonce.
	challenge = e.Challenge(t, list)
	clock.Advance(10 * time.Minute)
	got = e.Send(t, list, apitest.SignDigest(t, challenge, "GET", apitest.RequestURI(t, list.Path), e.PublicKey, "wrong"))
	apitest.WantChallenge(t, got, false)
}

// TestDigestChallengesStoreNothing floods the server with
// unauthenticated requests, as anyone on the network can: each gets a
// challenge, and the database keeps no more nonces than before.
func TestDigestChallengesStoreNothing(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOptions{dataDir: dir})
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	// An authenticated call first, so that what it records is counted
	// before the flood.
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
	before := e.nonceRows(t, dir)

	const requests, clients = 10000, 8
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := c; i < requests; i += clients {
				got := e.Send(t, list, "")
				if got.Status != http.StatusUnauthorized || !strings.HasPrefix(got.Header.Get("Www-Authenticate"), "Digest ") {
					t.Errorf("unauthenticated request %d: %s; want a digest challenge", i, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if after := e.nonceRows(t, dir); after != before {
		t.Errorf("%d unauthenticated requests took the stored digest nonces from %d to %d rows; want them unchanged",
			requests, before, after)
	}
}

// TestDigestNoncesWhereKept: a digest answer writes its used nonce to
// PostgreSQL, which replicas share, and nothing to SQLite, whose one
// server keeps its nonces in memory.
func TestDigestNoncesWhereKept(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOptions{dataDir: dir})
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	before := e.nonceRows(t, dir)
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
	want, kind := before, "SQLite"
	if e.test.Schema != "" {
		want, kind = before+1, "PostgreSQL"
	}
	if after := e.nonceRows(t, dir); after != want {
		t.Errorf("on %s a digest-authenticated request took the stored nonces from %d to %d rows; want %d", kind, before, after, want)
	}
}

// TestDigestNonceForged answers a challenge the server did not issue: a
// nonce of the right shape whose authentication is wrong gets a fresh
// challenge, not stale=true, even when its answer is right.
func TestDigestNonceForged(t *testing.T) {
	e := newEnv(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	issued := []byte(apitest.ParseChallenge(t, e.Challenge(t, list))["nonce"])
	// The last character changed: the same issue time and random part,
	// another authentication.
	issued[len(issued)-1] = map[bool]byte{true: 'b', false: 'a'}[issued[len(issued)-1] == 'a']
	h := apitest.DigestHeader(e.PublicKey, e.PrivateKey, auth.Realm, string(issued), "GET", apitest.RequestURI(t, list.Path))
	apitest.WantChallenge(t, e.Send(t, list, h), false)
}

// ---------------------------------------------------------------- 8. OAuth

func TestOAuthToken(t *testing.T) {
	e := newEnv(t)
	grant := url.Values{"grant_type": {"client_credentials"}}

	t.Run("issued", func(t *testing.T) {
		got := e.PostForm(t, "/api/oauth/token", apitest.BasicAuth(e.ClientID, e.ClientSecret), grant)
		apitest.WantStatus(t, got, http.StatusOK)
		if ct := got.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if cc := got.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
		var tok tokenResponse
		got.Decode(t, &tok)
		if tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" || len(tok.AccessToken) < 32 {
			t.Errorf("token: %s", got.Body)
		}
		apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Bearer(tok.AccessToken)}), http.StatusOK)
		// The token is reusable.
		apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Bearer(tok.AccessToken)}), http.StatusOK)
		if other := e.token(t); other == tok.AccessToken {
			t.Errorf("two token requests returned the same token")
		}
	})
	for _, tc := range []struct {
		name          string
		authorization string
		form          url.Values
		status        int
		code          string
	}{
		{"wrong secret", apitest.BasicAuth(e.ClientID, e.ClientSecret+"x"), grant, 401, "invalid_client"},
		{"unknown client", apitest.BasicAuth("mdb_sa_id_000000000000000000000000", e.ClientSecret), grant, 401, "invalid_client"},
		{"missing authentication", "", grant, 401, "invalid_client"},
		{"API key as client", apitest.BasicAuth(e.PublicKey, e.PrivateKey), grant, 401, "invalid_client"},
		{"password grant", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"no grant", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{}, 400, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.PostForm(t, "/api/oauth/token", tc.authorization, tc.form)
			if got.Status != tc.status {
				t.Fatalf("status: want %d, got %s", tc.status, got)
			}
			var body struct {
				Error       string `json:"error"`
				AccessToken string `json:"access_token"`
			}
			got.Decode(t, &body)
			if body.Error != tc.code || body.AccessToken != "" {
				t.Errorf("body: want error %q, got %s", tc.code, got.Body)
			}
			if tc.status == 401 && !strings.HasPrefix(got.Header.Get("Www-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %q", got.Header.Get("Www-Authenticate"))
			}
		})
	}
	t.Run("client credentials in the form", func(t *testing.T) {
		got := e.PostForm(t, "/api/oauth/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.ClientID}, "client_secret": {e.ClientSecret}})
		apitest.WantStatus(t, got, http.StatusOK)
	})
}

func TestOAuthTokenExpiry(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock})
	token := e.token(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Bearer(token)}

	clock.Advance(59*time.Minute + 59*time.Second)
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
	clock.Advance(time.Second)
	apitest.WantError(t, e.Do(t, list), http.StatusUnauthorized, "UNAUTHORIZED")
	clock.Advance(24 * time.Hour)
	apitest.WantError(t, e.Do(t, list), http.StatusUnauthorized, "UNAUTHORIZED")
	// A new token works.
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: list.Path, Accept: v20240530, Auth: apitest.Bearer(e.token(t))}), http.StatusOK)
}

func TestOAuthRevoke(t *testing.T) {
	e := newEnv(t)
	other, err := e.Server.Service.CreateServiceAccount(context.Background(), e.OrgID, "other", "another client", []snapexport.Role{snapexport.RoleOrgOwner}, testHash)
	if err != nil {
		t.Fatal(err)
	}
	token := e.token(t)
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Bearer(token)}
	revoke := url.Values{"token": {token}, "token_type_hint": {"access_token"}}

	// Another client cannot revoke it; the answer does not tell.
	got := e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(other.ClientID, other.ClientSecret), revoke)
	apitest.WantStatus(t, got, http.StatusOK)
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)

	// Wrong credentials are refused and do not revoke.
	got = e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, "wrong"), revoke)
	apitest.WantStatus(t, got, http.StatusUnauthorized)
	got = e.PostForm(t, "/api/oauth/revoke", "", revoke)
	apitest.WantStatus(t, got, http.StatusUnauthorized)
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)

	// Missing token.
	got = e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{})
	apitest.WantStatus(t, got, http.StatusBadRequest)

	// The owner revokes it.
	got = e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, e.ClientSecret), revoke)
	apitest.WantStatus(t, got, http.StatusOK)
	if len(got.Body) != 0 {
		t.Errorf("revoke body: %q", got.Body)
	}
	apitest.WantError(t, e.Do(t, list), http.StatusUnauthorized, "UNAUTHORIZED")
	// Revoking again, or an unknown token, still succeeds.
	apitest.WantStatus(t, e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, e.ClientSecret), revoke), http.StatusOK)
	apitest.WantStatus(t, e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{"token": {"unknown"}}), http.StatusOK)
	// Other tokens of the same client are untouched.
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: list.Path, Accept: v20240530, Auth: apitest.Bearer(e.token(t))}), http.StatusOK)
}

// ---------------------------------------------------------------- 9. rate limits

func TestRateLimits(t *testing.T) {
	e := newEnv(t, envOptions{limits: &api.Limits{
		CloudBackups:        ratelimit.Policy{Name: "Cloud Backups", Capacity: 3, Refill: 1, Period: time.Minute},
		CloudProviderAccess: ratelimit.Policy{Name: "Cloud Provider Access", Capacity: 5, Refill: 1, Period: time.Minute},
		Clusters:            ratelimit.Clusters(),
		Projects:            ratelimit.Projects(),
	}})
	list := e.bucketsPath("v2")
	for i, want := range []string{"2", "1", "0"} {
		got := e.Do(t, apitest.Request{Path: list, Accept: v20240530})
		apitest.WantStatus(t, got, http.StatusOK)
		if l, r := got.Header.Get("Ratelimit-Limit"), got.Header.Get("Ratelimit-Remaining"); l != "3" || r != want {
			t.Errorf("call %d: Ratelimit-Limit %q Ratelimit-Remaining %q, want 3 and %s", i+1, l, r, want)
		}
	}
	got := e.Do(t, apitest.Request{Path: list, Accept: v20240530})
	apiErr := apitest.WantError(t, got, http.StatusTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET")
	retry, err := strconv.Atoi(got.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", got.Header.Get("Retry-After"))
	}
	if l, r := got.Header.Get("Ratelimit-Limit"), got.Header.Get("Ratelimit-Remaining"); l != "3" || r != "0" {
		t.Errorf("429: Ratelimit-Limit %q Ratelimit-Remaining %q", l, r)
	}
	resource := strings.TrimPrefix(list, "/")
	if want := []string{resource, strconv.Itoa(retry), "3", "1", "60"}; !slices.Equal(apiErr.Params(), want) {
		t.Errorf("parameters: %q, want %q", apiErr.Params(), want)
	}
	wantDetail := fmt.Sprintf("Rate limit exceeded for %s. Please retry after %d seconds. Request capacity: 3. Refill rate: 1 per 60 seconds.", resource, retry)
	if apiErr.Detail != wantDetail {
		t.Errorf("detail: %q, want %q", apiErr.Detail, wantDetail)
	}

	// The bucket is per project and endpoint set, not per path or version.
	for _, r := range []apitest.Request{
		{Path: e.bucketsPath("v1.0"), Accept: "application/json"},
		{Path: list + "/0123456789abcdef01234567", Accept: v20230101},
		{Method: "POST", Path: list, Accept: v20240530, Body: awsBucketBody("export-bucket", "0123456789abcdef01234567")},
	} {
		apitest.WantError(t, e.Do(t, r), http.StatusTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET")
	}

	// Cloud provider access has its own bucket.
	cpa := e.Do(t, apitest.Request{Path: e.rolesPath(), Accept: v20230101})
	apitest.WantStatus(t, cpa, http.StatusOK)
	if l, r := cpa.Header.Get("Ratelimit-Limit"), cpa.Header.Get("Ratelimit-Remaining"); l != "5" || r != "4" {
		t.Errorf("cloudProviderAccess: Ratelimit-Limit %q Ratelimit-Remaining %q, want 5 and 4", l, r)
	}

	// Another project is unaffected.
	created := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101, Body: `{"name":"second","orgId":"` + e.OrgID + `"}`})
	apitest.WantStatus(t, created, http.StatusCreated)
	var project struct {
		ID string `json:"id"`
	}
	created.Decode(t, &project)
	other := e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + project.ID + "/backup/exportBuckets", Accept: v20240530})
	apitest.WantStatus(t, other, http.StatusOK)
	if r := other.Header.Get("Ratelimit-Remaining"); r != "2" {
		t.Errorf("other project: Ratelimit-Remaining %q, want 2", r)
	}
}

// TestRateLimitRefill runs the limiter on a fake clock: the bucket refills
// at the policy's rate and Retry-After says when.
func TestRateLimitRefill(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock, limits: &api.Limits{
		CloudBackups:        ratelimit.Policy{Name: "Cloud Backups", Capacity: 2, Refill: 1, Period: 30 * time.Second},
		CloudProviderAccess: ratelimit.CloudProviderAccess(),
		Clusters:            ratelimit.Clusters(),
		Projects:            ratelimit.Projects(),
	}})
	list := apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
	apitest.WantStatus(t, e.Do(t, list), http.StatusOK)
	got := e.Do(t, list)
	apiErr := apitest.WantError(t, got, http.StatusTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET")
	if ra := got.Header.Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After %q, want 30", ra)
	}
	if want := []string{strings.TrimPrefix(list.Path, "/"), "30", "2", "1", "30"}; !slices.Equal(apiErr.Params(), want) {
		t.Errorf("parameters: %q, want %q", apiErr.Params(), want)
	}
	clock.Advance(20 * time.Second)
	got = e.Do(t, list)
	apitest.WantError(t, got, http.StatusTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET")
	if ra := got.Header.Get("Retry-After"); ra != "10" {
		t.Errorf("Retry-After %q after 20 s, want 10", ra)
	}
	clock.Advance(10 * time.Second)
	got = e.Do(t, list)
	apitest.WantStatus(t, got, http.StatusOK)
	if r := got.Header.Get("Ratelimit-Remaining"); r != "0" {
		t.Errorf("Ratelimit-Remaining %q, want 0", r)
	}
}

func TestRateLimitsDisabled(t *testing.T) {
	e := newEnv(t, envOptions{limits: &api.Limits{Disabled: true}})
	for range 3 {
		got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530})
		apitest.WantStatus(t, got, http.StatusOK)
		if h := got.Header.Get("Ratelimit-Limit"); h != "" {
			t.Errorf("Ratelimit-Limit %q with limits disabled", h)
		}
	}
}

// ---------------------------------------------------------------- 10. secrets

// TestSecretsNotStored: neither the database nor the log holds an API
// private key, a client secret or an issued access token in clear. On
// SQLite the database's files are scanned byte for byte; on PostgreSQL
// (SNAPEXPORTTEST_DATABASE) every row of every table of the server's schema,
// as text.
func TestSecretsNotStored(t *testing.T) {
	dir := t.TempDir()
	var log testserver.LogBuffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, envOptions{dataDir: dir, logger: logger})

	token := e.token(t)
	second := e.token(t)
	roleID := e.role(t, "AWS", true)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: v20240530, Body: awsBucketBody("export-bucket", roleID), Auth: apitest.Bearer(token)}), http.StatusOK)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Bearer(token)}), http.StatusOK)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v1.0") + "?pageNum=1", Accept: "application/json"}), http.StatusOK)
	// Failed attempts carry secrets too.
	e.PostForm(t, "/api/oauth/token", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{"grant_type": {"password"}})
	e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?token=" + url.QueryEscape(token), Accept: "application/json", Auth: apitest.Bearer(token)})
	apitest.WantStatus(t, e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{"token": {second}}), http.StatusOK)

	secrets := map[string]string{
		"API private key": e.PrivateKey,
		"client secret":   e.ClientSecret,
		"access token":    token,
		"revoked token":   second,
	}
	var stored map[string][]byte // what the store holds, by file or table
	if e.test.Schema != "" {
		stored = postgresRows(t, e.test.Database, e.test.Schema)
	} else {
		stored = sqliteFiles(t, dir)
	}
	for where, data := range stored {
		for name, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds the %s in clear", where, name)
			}
		}
	}
	// The store does hold the service's data: the check looked at the
	// right files or tables.
	var found bool
	for _, data := range stored {
		found = found || bytes.Contains(data, []byte(roleID))
	}
	if !found {
		t.Errorf("no database file or table mentions the role %s; the scan looked at the wrong place", roleID)
	}

	logged := log.Bytes()
	if !bytes.Contains(logged, []byte("exportBuckets")) {
		t.Fatalf("the server log recorded no request: %s", logged)
	}
	for name, s := range secrets {
		if bytes.Contains(logged, []byte(s)) {
			t.Errorf("the server log holds the %s in clear", name)
		}
	}
}

// sqliteFiles reads the SQLite database files of a data directory.
func sqliteFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, sqlite.DatabaseFile+"*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var sawDB, sawWAL bool
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Base(f) {
		case sqlite.DatabaseFile:
			sawDB = true
		case sqlite.DatabaseFile + "-wal":
			sawWAL = len(data) > 0
		}
		out[filepath.Base(f)] = data
	}
	if !sawDB || !sawWAL {
		t.Fatalf("database files not found or WAL empty in %s: %v", dir, files)
	}
	return out
}

// postgresRows reads every row of every table of a PostgreSQL schema as
// text (the row's text form, column values as PostgreSQL prints them).
func postgresRows(t *testing.T, dbURL, schema string) map[string][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "export_buckets") || !slices.Contains(tables, "access_tokens") {
		t.Fatalf("schema %s has tables %v; not the server's", schema, tables)
	}
	out := map[string][]byte{}
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{schema, table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out["table "+table] = []byte(strings.Join(texts, "\n"))
	}
	return out
}

// TestAPIKeyWithProjectRole checks the project step of the pipeline with
// a key holding one project role.
func TestAPIKeyWithProjectRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.createBucket(t, awsBucketBody("export-bucket", e.role(t, "AWS", true)))
	creds, err := e.Server.Service.CreateAPIKey(ctx, e.OrgID, "reader", nil)
	if err != nil {
		t.Fatal(err)
	}
	reader := apitest.Digest(creds.PublicKey, creds.PrivateKey)
	// Without any role the project is not the caller's.
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: reader}), http.StatusUnauthorized, "NOT_IN_GROUP")

	if err := e.Server.Service.AssignRole(ctx, service.PrincipalRef{PublicKey: creds.PublicKey}, e.GroupID, snapexport.RoleGroupReadOnly); err != nil {
		t.Fatal(err)
	}
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: reader}), http.StatusOK)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/" + id, Accept: v20240530, Auth: reader}), http.StatusOK)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + id, Accept: v20230101, Auth: reader}), http.StatusUnauthorized, "USER_UNAUTHORIZED")
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: v20240530, Auth: reader, Body: awsBucketBody("x-bucket", id)}), http.StatusUnauthorized, "USER_UNAUTHORIZED")
	if n := e.bucketCount(t); n != 1 {
		t.Errorf("bucket count %d", n)
	}
}

// TestRateLimitHeadersOnErrors: every answer of a rate-limited operation
// carries the headers, errors too: those refused after the token was taken
// (404 of an unknown bucket) count it; those refused before (unknown
// project, wrong version, a project the caller may not reach) report the
// bucket without spending from it.
func TestRateLimitHeadersOnErrors(t *testing.T) {
	e := newEnv(t, envOptions{limits: &api.Limits{
		CloudBackups:        ratelimit.Policy{Name: "Cloud Backups", Capacity: 10, Refill: 1, Period: time.Hour},
		CloudProviderAccess: ratelimit.Policy{Name: "Cloud Provider Access", Capacity: 5, Refill: 1, Period: time.Hour},
		Clusters:            ratelimit.Policy{Name: "Clusters", Capacity: 7, Refill: 1, Period: time.Hour},
		Projects:            ratelimit.Policy{Name: "Projects", Capacity: 4, Refill: 1, Period: time.Hour},
	}})
	got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "/0123456789abcdef01234567", Accept: v20240530})
	apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeExportBucketNotFound)
	wantQuota(t, "unknown bucket", got, "10", "9")

	got = e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: "application/vnd.atlas.2020-01-01+json"})
	apitest.WantError(t, got, http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
	wantQuota(t, "unknown version", got, "10", "9")

	got = e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/0123456789abcdef01234567/backup/exportBuckets", Accept: v20240530})
	apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeGroupNotFound)
	wantQuota(t, "unknown project", got, "10", "10")

	got = e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?pretty=maybe", Accept: v20240530})
	apitest.WantError(t, got, http.StatusBadRequest, snapexport.CodeInvalidQueryParameter)
	wantQuota(t, "invalid pretty", got, "10", "9")

	got = e.Do(t, apitest.Request{Path: e.rolesPath() + "/0123456789abcdef01234567", Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusNotFound)
	wantQuota(t, "unknown role", got, "5", "4")

	// Cluster reads, the flex cluster's among them, draw on the project's
	// Clusters bucket; the flex snapshot probes on Cloud Backups.
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	got = e.Do(t, apitest.Request{Path: e.clustersPath() + "/cluster-0", Accept: v20240805})
	apitest.WantStatus(t, got, http.StatusOK)
	wantQuota(t, "cluster", got, "7", "6")
	got = e.Do(t, apitest.Request{Path: e.clustersPath(), Accept: v20230201})
	apitest.WantStatus(t, got, http.StatusOK)
	wantQuota(t, "cluster list", got, "7", "5")
	got = e.Do(t, apitest.Request{Path: e.clustersPath() + "/nope", Accept: v20240805})
	apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeClusterNotFound)
	wantQuota(t, "unknown cluster", got, "7", "4")
	flex := "/api/atlas/v2/groups/" + e.GroupID + "/flexClusters/cluster-0"
	got = e.Do(t, apitest.Request{Path: flex, Accept: v20241113})
	apitest.WantError(t, got, http.StatusBadRequest, snapexport.CodeNonFlexClusterInFlexAPI)
	wantQuota(t, "flex cluster", got, "7", "3")
	got = e.Do(t, apitest.Request{Path: flex + "/backup/snapshots", Accept: v20241113})
	apitest.WantError(t, got, http.StatusBadRequest, snapexport.CodeNonFlexClusterInFlexAPI)
	wantQuota(t, "flex snapshots", got, "10", "8")
	got = e.Do(t, apitest.Request{Path: e.clustersPath(), Accept: "application/vnd.atlas.2020-01-01+json"})
	apitest.WantError(t, got, http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
	wantQuota(t, "cluster list, unknown version", got, "7", "3")
	got = e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/0123456789abcdef01234567/clusters", Accept: v20240805})
	apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeGroupNotFound)
	wantQuota(t, "clusters of an unknown project", got, "7", "7")

	// Project operations draw on the caller's organization's bucket.
	got = e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups", Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)
	wantQuota(t, "project list", got, "4", "3")
	got = e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101, Body: `{"orgId":"` + e.OrgID + `"}`})
	apitest.WantError(t, got, http.StatusBadRequest, snapexport.CodeMissingAttribute)
	wantQuota(t, "project create without a name", got, "4", "2")
	got = e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + e.GroupID, Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)
	wantQuota(t, "project", got, "4", "1")
	got = e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/0123456789abcdef01234567", Accept: v20230101})
	apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeGroupNotFound)
	wantQuota(t, "unknown project", got, "4", "1")
	got = e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: "application/vnd.atlas.2020-01-01+json", Body: `{}`})
	apitest.WantError(t, got, http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
	wantQuota(t, "project create, unknown version", got, "4", "1")
}

// wantQuota checks the Ratelimit-Limit and Ratelimit-Remaining headers of
// an answer.
func wantQuota(t *testing.T, name string, got *apitest.Response, limit, remaining string) {
	t.Helper()
	if l, r := got.Header.Get("Ratelimit-Limit"), got.Header.Get("Ratelimit-Remaining"); l != limit || r != remaining {
		t.Errorf("%s (%d): Ratelimit-Limit %q Ratelimit-Remaining %q, want %s and %s", name, got.Status, l, r, limit, remaining)
	}
}

// TestRateLimitsClustersAndProjects: the Clusters bucket is the project's,
// shared by its cluster reads whatever the version; the Projects bucket is
// the caller's organization's. Past the capacity both answer Atlas's 429,
// and a refused creation creates nothing.
func TestRateLimitsClustersAndProjects(t *testing.T) {
	e := newEnv(t, envOptions{limits: &api.Limits{
		CloudBackups:        ratelimit.CloudBackups(),
		CloudProviderAccess: ratelimit.CloudProviderAccess(),
		Clusters:            ratelimit.Policy{Name: "Clusters", Capacity: 3, Refill: 1, Period: time.Minute},
		Projects:            ratelimit.Policy{Name: "Projects", Capacity: 2, Refill: 1, Period: 2 * time.Minute},
	}})
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	for _, r := range []apitest.Request{
		{Path: e.clustersPath() + "/cluster-0", Accept: v20240805},
		{Path: e.clustersPath(), Accept: v20230201},
		{Path: e.clustersPath() + "/cluster-0", Accept: v20230101},
	} {
		apitest.WantStatus(t, e.Do(t, r), http.StatusOK)
	}
	for _, path := range []string{e.clustersPath() + "/cluster-0", "/api/atlas/v2/groups/" + e.GroupID + "/flexClusters/cluster-0"} {
		accept := v20240805
		if strings.Contains(path, "flex") {
			accept = v20241113
		}
		wantRateLimited(t, e.Do(t, apitest.Request{Path: path, Accept: accept}), path, "3", "1", "60")
	}
	// The project's other sets are untouched.
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530}), http.StatusOK)

	const groups = "/api/atlas/v2/groups"
	create := func(name string) *apitest.Response {
		return e.Do(t, apitest.Request{Method: "POST", Path: groups, Accept: v20230101, Body: `{"name":"` + name + `","orgId":"` + e.OrgID + `"}`})
	}
	created := create("second")
	apitest.WantStatus(t, created, http.StatusCreated)
	wantQuota(t, "project created", created, "2", "1")
	var second struct {
		ID string `json:"id"`
	}
	created.Decode(t, &second)
	// Another project of the organization has a Clusters bucket of its own.
	other := e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + second.ID + "/clusters", Accept: v20240805})
	apitest.WantStatus(t, other, http.StatusOK)
	wantQuota(t, "other project's clusters", other, "3", "2")

	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups", Accept: v20230101}), http.StatusOK)
	wantRateLimited(t, create("third"), groups, "2", "1", "120")
	wantRateLimited(t, e.Do(t, apitest.Request{Path: groups + "/" + second.ID, Accept: v20230101}), groups+"/"+second.ID, "2", "1", "120")
	projects, err := e.Server.Service.OrgProjects(context.Background(), e.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 2 {
		t.Errorf("%d projects after a refused creation, want 2", len(projects))
	}

	// A caller of another organization draws on that organization's bucket.
	ctx := context.Background()
	org, err := e.Server.Service.CreateOrganization(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := e.Server.Service.CreateAPIKey(ctx, org.ID, "other owner", []snapexport.Role{snapexport.RoleOrgOwner})
	if err != nil {
		t.Fatal(err)
	}
	got := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101,
		Body: `{"name":"theirs","orgId":"` + org.ID + `"}`, Auth: apitest.Digest(creds.PublicKey, creds.PrivateKey)})
	apitest.WantStatus(t, got, http.StatusCreated)
	wantQuota(t, "another organization", got, "2", "1")
}

// wantRateLimited checks Atlas's 429 to a request to path, refused by a
// token bucket of the given capacity and refill per refillSeconds.
func wantRateLimited(t *testing.T, got *apitest.Response, path, capacity, refill, refillSeconds string) {
	t.Helper()
	apiErr := apitest.WantError(t, got, http.StatusTooManyRequests, snapexport.CodeRateLimitedTokenBucket)
	retry, err := strconv.Atoi(got.Header.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Errorf("Retry-After %q, want whole seconds", got.Header.Get("Retry-After"))
	}
	wantQuota(t, "429", got, capacity, "0")
	resource := strings.TrimPrefix(path, "/")
	if want := []string{resource, strconv.Itoa(retry), capacity, refill, refillSeconds}; !slices.Equal(apiErr.Params(), want) {
		t.Errorf("parameters %q, want %q", apiErr.Params(), want)
	}
	wantDetail := fmt.Sprintf("Rate limit exceeded for %s. Please retry after %d seconds. Request capacity: %s. Refill rate: %s per %s seconds.",
		resource, retry, capacity, refill, refillSeconds)
	if apiErr.Detail != wantDetail {
		t.Errorf("detail %q, want %q", apiErr.Detail, wantDetail)
	}
}

// TestOAuthTokenIsJWT: the access token is a JWT as Atlas issues them,
// which a client reads without verifying (as the Atlas CLI does) for its
// subject and expiry: HS256, sub the client id, iat, exp an hour later and
// a jti of its own. Tampering with it, letting it expire or revoking it
// gets today's 401 UNAUTHORIZED.
func TestOAuthTokenIsJWT(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock})
	token := e.token(t)
	var claims jwt.RegisteredClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(token, &claims)
	if err != nil {
		t.Fatalf("token %q is not a JWT: %v", token, err)
	}
	if parsed.Header["alg"] != "HS256" || parsed.Header["typ"] != "JWT" {
		t.Errorf("header %v, want alg HS256 and typ JWT", parsed.Header)
	}
	issued := clock.Now()
	if claims.Subject != e.ClientID || claims.IssuedAt == nil || !claims.IssuedAt.Equal(issued) ||
		claims.ExpiresAt == nil || !claims.ExpiresAt.Equal(issued.Add(time.Hour)) || len(claims.ID) < 32 {
		t.Errorf("claims %+v, want sub %s, iat %v, exp an hour later, a jti", claims, e.ClientID, issued)
	}
	var again jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(e.token(t), &again); err != nil || again.ID == claims.ID {
		t.Errorf("second token's jti %q (%v), want another than %q", again.ID, err, claims.ID)
	}

	list := func(token string) apitest.Request {
		return apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530, Auth: apitest.Bearer(token)}
	}
	apitest.WantStatus(t, e.Do(t, list(token)), http.StatusOK)

	// Claims changed (a later exp, another subject) or a signature not the
	// server's: refused as an unknown token is.
	parts := strings.Split(token, ".")
	forge := func(mutate func(*jwt.RegisteredClaims)) string {
		c := claims
		mutate(&c)
		body, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(body) + "." + parts[2]
	}
	otherKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("not the server's key, 32 bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"later exp":       forge(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(issued.Add(100 * time.Hour)) }),
		"other subject":   forge(func(c *jwt.RegisteredClaims) { c.Subject = "mdb_sa_id_000000000000000000000000" }),
		"other key":       otherKey,
		"alg none":        unsigned,
		"signature cut":   parts[0] + "." + parts[1] + ".",
		"signature other": parts[0] + "." + parts[1] + "." + otherFirst(parts[2]),
	} {
		got := e.Do(t, list(bad))
		ae := apitest.WantError(t, got, http.StatusUnauthorized, "UNAUTHORIZED")
		if ae.Detail != "The access token is invalid, expired or revoked." {
			t.Errorf("%s: %s", name, got.Body)
		}
	}
	apitest.WantStatus(t, e.Do(t, list(token)), http.StatusOK)

	// Expired at exp, though its signature still holds.
	clock.Advance(time.Hour)
	apitest.WantError(t, e.Do(t, list(token)), http.StatusUnauthorized, "UNAUTHORIZED")

	// Revoked: refused, though its signature and expiry hold.
	fresh := e.token(t)
	apitest.WantStatus(t, e.PostForm(t, "/api/oauth/revoke", apitest.BasicAuth(e.ClientID, e.ClientSecret), url.Values{"token": {fresh}}), http.StatusOK)
	apitest.WantError(t, e.Do(t, list(fresh)), http.StatusUnauthorized, "UNAUTHORIZED")
}

// otherFirst is s with another first character.
func otherFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
