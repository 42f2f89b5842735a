package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// requireBadRequest requires err to be an error of the catalogue answered
// with 400, and its rendering an Atlas ApiError of that code.
func requireBadRequest(t *testing.T, err error) *snapexport.Error {
	t.Helper()
	var e *snapexport.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v (%T) is not a *snapexport.Error", err, err)
	}
	known := false
	for code := range snapexport.Codes() {
		known = known || code == e.Code
	}
	if !known {
		t.Fatalf("%v: code %s is not in the catalogue", err, e.Code)
	}
	if status := Status(e.Code); status != http.StatusBadRequest {
		t.Fatalf("%v: answered with %d, not 400", err, status)
	}
	rec := httptest.NewRecorder()
	writeError(rec, e, false, false)
	var body struct {
		Detail     *string   `json:"detail"`
		Error      int       `json:"error"`
		ErrorCode  string    `json:"errorCode"`
		Parameters *[]string `json:"parameters"`
		Reason     string    `json:"reason"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%v renders as %q, not JSON: %v", e, rec.Body, err)
	}
	if rec.Code != http.StatusBadRequest || body.Error != http.StatusBadRequest || body.ErrorCode != e.Code || body.Reason != "Bad Request" ||
		body.Detail == nil || body.Parameters == nil || rec.Header().Get("X-Error-Code") != e.Code {
		t.Fatalf("%v renders as %d %q, not an ApiError 400 %s", e, rec.Code, rec.Body, e.Code)
	}
	return e
}

func requestWithBody(body string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
}

// bucketBody is the create body that reads as in.
func bucketBody(in service.BucketInput) string {
	o := map[string]any{"cloudProvider": in.Provider}
	if in.BucketName != "" {
		o["bucketName"] = in.BucketName
	}
	switch in.Provider {
	case snapexport.AWS:
		o["iamRoleId"] = in.RoleID
		o["requirePrivateNetworking"] = in.RequirePrivateNetworking
	case snapexport.Azure:
		o["roleId"] = in.RoleID
		o["serviceUrl"] = in.ServiceURL
	default:
		o["roleId"] = in.RoleID
	}
	b, _ := json.Marshal(o)
	return string(b)
}

// FuzzBucketInput decodes a create-bucket body under each version's
// schema: it either gives a bucket of a provider the version knows, with a
// role id and a name (and a service URL for Azure), which encoded again
// decodes to the same bucket, or fails with an ApiError 400 of the
// catalogue.
func FuzzBucketInput(f *testing.F) {
	role := "0123456789abcdef01234567"
	for _, body := range []string{
		`{"bucketName":"export-bucket","cloudProvider":"AWS","iamRoleId":"` + role + `","requirePrivateNetworking":true}`,
		`{"cloudProvider":"AZURE","roleId":"` + role + `","serviceUrl":"https://examplestorageaccount.blob.core.windows.net/examplecontainer"}`,
		`{"bucketName":"gcs-bucket","cloudProvider":"GCP","roleId":"` + role + `"}`,
		`{"bucketName":"b","cloudProvider":"AWS","iamRoleId":"` + role + `","_id":"x"}`,
		`{"bucketName":null,"cloudProvider":"AWS","iamRoleId":"` + role + `"} {}`,
		`{"bucketName":1,"cloudProvider":"AWS"}`,
		`[]`, `null`, ``, `{`,
	} {
		for version := range byte(3) {
			f.Add(body, version)
		}
	}
	versions := []string{v1, v20230101Buckets.Date, v20241113.Date}
	f.Fuzz(func(t *testing.T, body string, version byte) {
		c := &call{r: requestWithBody(body), version: versions[int(version)%len(versions)]}
		in, err := c.bucketInput()
		if err != nil {
			requireBadRequest(t, err)
			return
		}
		providers := snapexport.CloudProviders
		if !c.multiCloud() {
			providers = []snapexport.CloudProvider{snapexport.AWS}
		}
		if !slices.Contains(providers, in.Provider) {
			t.Fatalf("%s: provider %q, which version %s does not take", body, in.Provider, c.version)
		}
		if !snapexport.IsObjectID(in.RoleID) || (in.BucketName == "" && in.Provider != snapexport.Azure) ||
			(in.Provider == snapexport.Azure) != (in.ServiceURL != "") || (in.RequirePrivateNetworking && in.Provider != snapexport.AWS) {
			t.Fatalf("%s decodes to the incomplete bucket %+v", body, in)
		}
		again := &call{r: requestWithBody(bucketBody(in)), version: c.version}
		if got, err := again.bucketInput(); err != nil || got != in {
			t.Fatalf("%s decodes to %+v; encoded again as %s it decodes to %+v, %v", body, in, bucketBody(in), got, err)
		}
	})
}

// scheduleBody is the PATCH body that reads as in.
func scheduleBody(in service.ScheduleInput) string {
	o := map[string]any{}
	set := func(name string, v any) {
		if !reflect.ValueOf(v).IsNil() {
			o[name] = v
		}
	}
	set("clusterName", in.ClusterName)
	set("autoExportEnabled", in.AutoExportEnabled)
	set("useOrgAndGroupNamesInExportPrefix", in.UseOrgAndGroupNamesInExportPrefix)
	set("referenceHourOfDay", in.ReferenceHourOfDay)
	set("referenceMinuteOfHour", in.ReferenceMinuteOfHour)
	set("restoreWindowDays", in.RestoreWindowDays)
	if in.UpdateSnapshots {
		o["updateSnapshots"] = true
	}
	if in.Export != nil {
		o["export"] = map[string]any{"exportBucketId": in.Export.BucketID, "frequencyType": in.Export.FrequencyType}
	}
	if in.Policy != nil {
		items := []map[string]any{}
		for _, it := range in.Policy.Items {
			item := map[string]any{"frequencyType": it.FrequencyType, "frequencyInterval": it.FrequencyInterval,
				"retentionUnit": it.RetentionUnit, "retentionValue": it.RetentionValue}
			if it.ID != "" {
				item["id"] = it.ID
			}
			items = append(items, item)
		}
		policy := map[string]any{"policyItems": items}
		if in.Policy.ID != "" {
			policy["id"] = in.Policy.ID
		}
		o["policies"] = []any{policy}
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func decodeSchedule(body string) (service.ScheduleInput, error) {
	o, err := readAttributes(requestWithBody(body), scheduleWritable, scheduleReadOnly)
	if err != nil {
		return service.ScheduleInput{}, err
	}
	return scheduleInput(o)
}

// FuzzScheduleInput decodes a backup schedule PATCH body: it either gives
// a change, which encoded again decodes to the same change, or fails with
// an ApiError 400 of the catalogue.
func FuzzScheduleInput(f *testing.F) {
	id := "0123456789abcdef01234567"
	for _, body := range []string{
		`{"autoExportEnabled":true,"export":{"exportBucketId":"` + id + `","frequencyType":"monthly"}}`,
		`{"clusterName":"Cluster0","referenceHourOfDay":12,"referenceMinuteOfHour":30,"restoreWindowDays":7,"useOrgAndGroupNamesInExportPrefix":false}`,
		`{"policies":[{"id":"` + id + `","policyItems":[{"id":"` + id + `","frequencyType":"hourly","frequencyInterval":6,"retentionUnit":"days","retentionValue":7},` +
			`{"frequencyType":"daily","frequencyInterval":1,"retentionUnit":"days","retentionValue":7}]}]}`,
		`{"policies":[{"policyItems":[]}],"copySettings":[],"copyPolicyItemsEnabled":false,"updateSnapshots":true,"deleteSnapshots":false}`,
		`{"policies":null,"nextSnapshot":"2026-01-01T00:00:00Z"}`,
		`{"referenceHourOfDay":1.5}`, `{"referenceHourOfDay":2147483648}`, `{"export":null}`, `{"export":{}}`,
		`{"policies":[{},{}]}`, `{"policies":[null]}`, `{"copySettings":[{}]}`,
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in, err := decodeSchedule(body)
		if err != nil {
			requireBadRequest(t, err)
			return
		}
		if in.Export != nil && !snapexport.IsObjectID(in.Export.BucketID) {
			t.Fatalf("%s: export to bucket %q, not an id", body, in.Export.BucketID)
		}
		again, err := decodeSchedule(scheduleBody(in))
		if err != nil || !reflect.DeepEqual(again, in) {
			t.Fatalf("%s decodes to %+v; encoded again as %s it decodes to %+v, %v", body, in, scheduleBody(in), again, err)
		}
	})
}

// FuzzParsePagination reads the pagination of any query: either values
// within Atlas's bounds (itemsPerPage 1..500, default 100; pageNum ≥ 1,
// default 1; includeCount true or false, default true), those the query
// gave, whose page starts at an offset that fits an int, or an ApiError
// 400 INVALID_QUERY_PARAMETER naming the parameter and its value.
func FuzzParsePagination(f *testing.F) {
	for _, q := range []string{
		"", "includeCount=true&pageNum=1&itemsPerPage=100", "itemsPerPage=500&pageNum=2", "itemsPerPage=501",
		"itemsPerPage=0", "pageNum=0", "pageNum=-1", "pageNum=18446744073709551616", "pageNum=" + strconv.Itoa(maxInt/maxItemsPerPage),
		"pageNum=+3", "pageNum=0x10", "includeCount=TRUE", "includeCount=1", "includeCount=", "pageNum=2&pageNum=x", "itemsPerPage=%20",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, _ := url.ParseQuery(query)
		p, err := parsePagination(q)
		if err != nil {
			e := requireBadRequest(t, err)
			if e.Code != snapexport.CodeInvalidQueryParameter || len(e.Params) != 2 || q[e.Params[0]] == nil || q.Get(e.Params[0]) != e.Params[1] {
				t.Fatalf("%s: %v (parameters %q) does not name a parameter of the query and its value", query, e, e.Params)
			}
			return
		}
		want := func(name string, def int) int {
			if v, ok := q[name]; ok && len(v) > 0 {
				n, err := strconv.Atoi(v[0])
				if err != nil {
					t.Fatalf("%s: %s=%q accepted", query, name, v[0])
				}
				return n
			}
			return def
		}
		if p.ItemsPerPage < 1 || p.ItemsPerPage > 500 || p.ItemsPerPage != want("itemsPerPage", 100) {
			t.Fatalf("%s: itemsPerPage %d", query, p.ItemsPerPage)
		}
		if p.PageNum < 1 || p.PageNum != want("pageNum", 1) {
			t.Fatalf("%s: pageNum %d", query, p.PageNum)
		}
		if v, ok := q["includeCount"]; ok && len(v) > 0 && p.IncludeCount != strings.EqualFold(v[0], "true") || (!ok || len(v) == 0) && !p.IncludeCount {
			t.Fatalf("%s: includeCount %t", query, p.IncludeCount)
		}
		if page := p.page(); page.Offset < 0 || page.Offset/p.ItemsPerPage != p.PageNum-1 || page.Limit != p.ItemsPerPage {
			t.Fatalf("%s: page %+v of pageNum %d, itemsPerPage %d", query, page, p.PageNum, p.ItemsPerPage)
		}
	})
}
