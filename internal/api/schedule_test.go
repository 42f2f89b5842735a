package api_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

// scheduleBody is a backup schedule as a client reads it.
type scheduleBody struct {
	AutoExportEnabled      bool   `json:"autoExportEnabled"`
	ClusterID              string `json:"clusterId"`
	ClusterName            string `json:"clusterName"`
	CopyPolicyItemsEnabled bool   `json:"copyPolicyItemsEnabled"`
	CopySettings           []any  `json:"copySettings"`
	Export                 *struct {
		ExportBucketID string `json:"exportBucketId"`
		FrequencyType  string `json:"frequencyType"`
	} `json:"export"`
	Links        []link `json:"links"`
	NextSnapshot string `json:"nextSnapshot"`
	Policies     []struct {
		ID          string                  `json:"id"`
		PolicyItems []snapexport.PolicyItem `json:"policyItems"`
	} `json:"policies"`
	ReferenceHourOfDay                int  `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour             int  `json:"referenceMinuteOfHour"`
	RestoreWindowDays                 int  `json:"restoreWindowDays"`
	UseOrgAndGroupNamesInExportPrefix bool `json:"useOrgAndGroupNamesInExportPrefix"`
}

func decodeSchedule(t *testing.T, r *apitest.Response) scheduleBody {
	t.Helper()
	apitest.WantStatus(t, r, http.StatusOK)
	var s scheduleBody
	r.Decode(t, &s)
	if len(s.Policies) != 1 {
		t.Fatalf("want one policy, as clients index policies[0]: %s", r.Body)
	}
	return s
}

// items is the schedule's policy items without their ids.
func (s scheduleBody) items() []snapexport.PolicyItem {
	var out []snapexport.PolicyItem
	for _, it := range s.Policies[0].PolicyItems {
		it.ID = ""
		out = append(out, it)
	}
	return out
}

func (e *env) schedulePath(cluster string) string {
	return e.clustersPath() + "/" + cluster + "/backup/schedule"
}

// atlasDefaultItems are the items of a new cluster's policy as Atlas
// records them (atlas-facts §8.7).
var atlasDefaultItems = []snapexport.PolicyItem{
	{FrequencyType: "hourly", FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: 7},
	{FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7},
	{FrequencyType: "weekly", FrequencyInterval: 6, RetentionUnit: "weeks", RetentionValue: 4},
	{FrequencyType: "monthly", FrequencyInterval: 40, RetentionUnit: "months", RetentionValue: 12},
	{FrequencyType: "yearly", FrequencyInterval: 12, RetentionUnit: "years", RetentionValue: 1},
}

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestBackupScheduleDefault: a new cluster's schedule is Atlas's default
// policy, every id its own, anchored at the time of registration, with the
// next snapshot the policy calls for and the links Atlas gives.
func TestBackupScheduleDefault(t *testing.T) {
	e := newEnv(t, envOptions{clock: newClock(time.Date(2026, 8, 10, 3, 16, 7, 0, time.UTC))})
	c := e.cluster(t, service.ClusterInput{Name: "backupSchedule-600"})
	e.Clock.Set(time.Date(2026, 8, 10, 3, 16, 54, 0, time.UTC))

	for _, accept := range []string{v20230101, v20240805} {
		got := e.Do(t, apitest.Request{Path: e.schedulePath(c.Name), Accept: accept})
		s := decodeSchedule(t, got)
		if !slices.Equal(s.items(), atlasDefaultItems) {
			t.Errorf("%s: default items %+v, want %+v", accept, s.items(), atlasDefaultItems)
		}
		ids := []string{s.Policies[0].ID}
		for _, it := range s.Policies[0].PolicyItems {
			ids = append(ids, it.ID)
		}
		for i, id := range ids {
			if !objectID.MatchString(id) || slices.Contains(ids[:i], id) {
				t.Errorf("%s: id %q is not a distinct 24-hex id among %v", accept, id, ids)
			}
		}
		// Every 6 hours from 03:16: the next after 03:16:54 is 09:16.
		if s.ClusterID != c.ID || s.ClusterName != c.Name || s.ReferenceHourOfDay != 3 || s.ReferenceMinuteOfHour != 16 || s.RestoreWindowDays != 7 ||
			s.NextSnapshot != "2026-08-10T09:16:00Z" || s.AutoExportEnabled || s.Export != nil || s.CopyPolicyItemsEnabled || s.CopySettings == nil || len(s.CopySettings) != 0 {
			t.Errorf("%s: schedule %s", accept, got.Body)
		}
		want := []link{
			{Href: e.URL + "/api/atlas/v2/groups/" + e.GroupID + "/clusters/backupSchedule-600/backup/schedule", Rel: "self"},
			{Href: e.URL + "/api/public/v1.0/groups/" + e.GroupID, Rel: "https://cloud.mongodb.com/group"},
		}
		if !slices.Equal(s.Links, want) {
			t.Errorf("%s: links %+v, want %+v", accept, s.Links, want)
		}
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.schedulePath("nope"), Accept: v20240805}), http.StatusNotFound, snapexport.CodeClusterNotFound)
	apitest.WantError(t, e.Do(t, apitest.Request{Path: e.schedulePath(c.Name), Accept: v20230201}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
}

// recordedSchedule reads a recorded Atlas answer kept beside the reference
// material (../shared/reference/recorded-atlas from the module's root);
// the test is skipped without it, except in CI.
func recordedSchedule(t *testing.T, step string) *apitest.Response {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil || filepath.Dir(dir) == dir {
			break
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "..", "shared", "reference", "recorded-atlas", "TestSchedule__"+step+"__*_backup_schedule_1.snaphost"))
	if len(files) != 1 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("recorded schedule %s missing in CI", step)
		}
		t.Skipf("recorded schedule %s not present", step)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return parseRecorded(t, string(raw))
}

// TestBackupScheduleMatchesRecordedAtlas replays the Atlas CLI's recorded
// schedule calls (describe and update in 2023-01-01, delete in
// 2024-08-05) and compares what a client sees: status, Content-Type, the
// Deprecation and Sunset headers, and every object's keys in their order.
func TestBackupScheduleMatchesRecordedAtlas(t *testing.T) {
	e := newEnv(t)
	c := e.cluster(t, service.ClusterInput{Name: "backupSchedule-600"})
	path := e.schedulePath(c.Name)
	for _, tc := range []struct {
		step string
		req  apitest.Request
	}{
		{"Describe", apitest.Request{Path: path, Accept: v20230101}},
		{"Update", apitest.Request{Method: "PATCH", Path: path, Accept: v20230101, ContentType: v20230101,
			Body: `{"clusterName":"backupSchedule-600","useOrgAndGroupNamesInExportPrefix":true}`}},
		{"Delete", apitest.Request{Method: "DELETE", Path: path, Accept: v20240805}},
	} {
		t.Run(tc.step, func(t *testing.T) {
			want := recordedSchedule(t, tc.step)
			got := e.Do(t, tc.req)
			if got.Status != want.Status {
				t.Fatalf("status: Atlas %d, here %s", want.Status, got)
			}
			for _, h := range []string{"Content-Type", "Deprecation", "Sunset", "Ratelimit-Limit"} {
				if g, w := got.Header.Get(h), want.Header.Get(h); g != w {
					t.Errorf("%s: Atlas %q, here %q", h, w, g)
				}
			}
			apitest.WantSuccessBody(t, got)
			if g, w := got.KeyOrders(t), want.KeyOrders(t); !reflect.DeepEqual(g, w) {
				t.Errorf("fields: Atlas %v, here %v", w, g)
			}
			// The values Atlas's answer has whatever the ids and dates.
			var g, w scheduleBody
			got.Decode(t, &g)
			want.Decode(t, &w)
			if !slices.Equal(g.items(), w.items()) || g.UseOrgAndGroupNamesInExportPrefix != w.UseOrgAndGroupNamesInExportPrefix ||
				g.RestoreWindowDays != w.RestoreWindowDays || (g.NextSnapshot == "") != (w.NextSnapshot == "") {
				t.Errorf("body: Atlas %s, here %s", want.Body, got.Body)
			}
		})
	}
}

// TestBackupSchedulePatch: items changed by id, added and removed, the
// reference time, restore window and export settings; what Atlas's CLI
// and SDK send besides (clusterName, copySettings: [], updateSnapshots,
// policies: null) is accepted; what is left out keeps its value.
func TestBackupSchedulePatch(t *testing.T) {
	e := newEnv(t, envOptions{clock: newClock(time.Date(2026, 8, 10, 3, 16, 0, 0, time.UTC))})
	c := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	path := e.schedulePath(c.Name)
	before := decodeSchedule(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805}))
	hourly, yearly := before.Policies[0].PolicyItems[0], before.Policies[0].PolicyItems[4]

	// Friday 2026-08-14 is the next weekday 5 after Monday 2026-08-10.
	body := fmt.Sprintf(`{"clusterName":"cluster-0","copySettings":[],"updateSnapshots":true,"referenceHourOfDay":22,"referenceMinuteOfHour":30,"restoreWindowDays":3,
		"policies":[{"id":%q,"policyItems":[
			{"frequencyType":"weekly","frequencyInterval":5,"retentionUnit":"weeks","retentionValue":2},
			{"id":%q,"frequencyType":"hourly","frequencyInterval":12,"retentionUnit":"days","retentionValue":2}]}]}`,
		before.Policies[0].ID, hourly.ID)
	for _, accept := range []string{v20240805, v20230101} {
		got := e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: accept, ContentType: accept, Body: body})
		s := decodeSchedule(t, got)
		items := s.Policies[0].PolicyItems
		if len(items) != 2 || items[0].ID != hourly.ID || items[0].FrequencyInterval != 12 || items[0].RetentionValue != 2 ||
			items[1].FrequencyType != "weekly" || !objectID.MatchString(items[1].ID) || slices.Contains([]string{hourly.ID, yearly.ID}, items[1].ID) {
			t.Errorf("%s: items %+v", accept, items)
		}
		// Every 12 hours from 22:30: 10:30 comes first after 03:16.
		if s.Policies[0].ID != before.Policies[0].ID || s.ReferenceHourOfDay != 22 || s.ReferenceMinuteOfHour != 30 || s.RestoreWindowDays != 3 ||
			s.NextSnapshot != "2026-08-10T10:30:00Z" {
			t.Errorf("%s: PATCH answered %s", accept, got.Body)
		}
		if accept == v20240805 {
			body = strings.Replace(body, `{"frequencyType":"weekly"`, fmt.Sprintf(`{"id":%q,"frequencyType":"weekly"`, items[1].ID), 1)
		}
	}
	// Attributes left out keep their value; the SDK's policies: null and
	// an empty list change nothing.
	for _, b := range []string{`{}`, `{"policies":null}`, `{"policies":[]}`, `{"autoExportEnabled":false}`} {
		got := e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805, Body: b})
		if s := decodeSchedule(t, got); len(s.Policies[0].PolicyItems) != 2 || s.ReferenceHourOfDay != 22 || s.RestoreWindowDays != 3 {
			t.Errorf("PATCH %s changed the schedule: %s", b, got.Body)
		}
	}
	got := decodeSchedule(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805}))
	if len(got.Policies[0].PolicyItems) != 2 || got.ReferenceMinuteOfHour != 30 {
		t.Errorf("GET after PATCH: %+v", got)
	}
}

// TestBackupSchedulePatchRefused: each bad PATCH gets Atlas's status,
// error code and parameters, and changes nothing.
func TestBackupSchedulePatchRefused(t *testing.T) {
	e := newEnv(t)
	c := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	path := e.schedulePath(c.Name)
	before := e.Do(t, apitest.Request{Path: path, Accept: v20240805})
	s := decodeSchedule(t, before)
	policyID, hourlyID := s.Policies[0].ID, s.Policies[0].PolicyItems[0].ID
	item := func(typ string, interval int, unit string, value int) string {
		return fmt.Sprintf(`{"frequencyType":%q,"frequencyInterval":%d,"retentionUnit":%q,"retentionValue":%d}`, typ, interval, unit, value)
	}
	policy := func(items ...string) string {
		return `{"policies":[{"policyItems":[` + strings.Join(items, ",") + `]}]}`
	}
	const other = "0123456789abcdef01234567"
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
		params []string
	}{
		{"unknown frequency type", policy(item("ondemand", 1, "days", 1)), 400, snapexport.CodeInvalidEnumValue, []string{"ondemand"}},
		{"unknown retention unit", policy(item("daily", 1, "hours", 1)), 400, snapexport.CodeInvalidEnumValue, []string{"hours"}},
		{"hourly every 3 hours", policy(item("hourly", 3, "days", 1)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"frequencyInterval 3 is not allowed for hourly policy items."}},
		{"daily every 2 days", policy(item("daily", 2, "days", 7)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"frequencyInterval 2 is not allowed for daily policy items."}},
		{"weekly on day 8", policy(item("weekly", 8, "weeks", 1)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"frequencyInterval 8 is not allowed for weekly policy items."}},
		{"monthly on day 29", policy(item("monthly", 29, "months", 1)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"frequencyInterval 29 is not allowed for monthly policy items."}},
		{"yearly in month 13", policy(item("yearly", 13, "years", 1)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"frequencyInterval 13 is not allowed for yearly policy items."}},
		{"no retention", policy(item("daily", 1, "days", 0)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"retentionValue 0 of the daily policy item must be at least 1."}},
		{"weekly kept less than daily", policy(item("daily", 1, "days", 14), item("weekly", 6, "weeks", 1)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"the weekly policy item keeps snapshots 1 weeks, less than the daily policy item's 14 days."}},
		{"two hourly items", policy(item("hourly", 6, "days", 1), item("hourly", 12, "days", 1)), 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"a policy has at most one hourly policy item, not 2."}},
		{"item of another policy", `{"policies":[{"policyItems":[{"id":"` + other + `","frequencyType":"daily","frequencyInterval":1,"retentionUnit":"days","retentionValue":7}]}]}`,
			400, snapexport.CodeInvalidBackupPolicy, []string{"policy item " + other + " is not an item of the policy of cluster cluster-0."}},
		{"item twice", `{"policies":[{"policyItems":[{"id":"` + hourlyID + `","frequencyType":"hourly","frequencyInterval":6,"retentionUnit":"days","retentionValue":7},` +
			`{"id":"` + hourlyID + `","frequencyType":"hourly","frequencyInterval":6,"retentionUnit":"days","retentionValue":7}]}]}`,
			400, snapexport.CodeInvalidBackupPolicy, []string{"a policy has at most one hourly policy item, not 2."}},
		{"another policy", `{"policies":[{"id":"` + other + `","policyItems":[]}]}`, 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"policy " + other + " is not the policy of cluster cluster-0, " + policyID + "."}},
		{"two policies", `{"policies":[{"policyItems":[]},{"policyItems":[]}]}`, 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"a backup schedule has one policy, not 2."}},
		{"policy without items", `{"policies":[{"id":"` + policyID + `"}]}`, 400, snapexport.CodeMissingAttribute, []string{"policyItems"}},
		{"item without retention", `{"policies":[{"policyItems":[{"frequencyType":"daily","frequencyInterval":1,"retentionUnit":"days"}]}]}`,
			400, snapexport.CodeMissingAttribute, []string{"retentionValue"}},
		{"item of the wrong shape", `{"policies":[{"policyItems":[{"frequencyType":"daily","frequencyInterval":"1","retentionUnit":"days","retentionValue":7}]}]}`,
			400, snapexport.CodeInvalidJSONAttribute, []string{"frequencyInterval"}},
		{"unknown item attribute", policy(`{"frequencyType":"daily","frequencyInterval":1,"retentionUnit":"days","retentionValue":7,"region":"x"}`),
			400, snapexport.CodeInvalidAttribute, []string{"region"}},
		{"reference hour 24", `{"referenceHourOfDay":24}`, 400, snapexport.CodeInvalidBackupPolicy, []string{"referenceHourOfDay 24 is not between 0 and 23."}},
		{"reference minute 60", `{"referenceMinuteOfHour":60}`, 400, snapexport.CodeInvalidBackupPolicy, []string{"referenceMinuteOfHour 60 is not between 0 and 59."}},
		{"no restore window", `{"restoreWindowDays":0}`, 400, snapexport.CodeInvalidBackupPolicy, []string{"restoreWindowDays 0 must be at least 1."}},
		{"another cluster's name", `{"clusterName":"cluster-1"}`, 400, snapexport.CodeAttributeReadOnly, []string{"cluster-0", "cluster-1"}},
		{"copy settings", `{"copySettings":[{"cloudProvider":"AWS","regionName":"US_EAST_1","zoneId":"` + other + `"}]}`, 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"copySettings must be empty: snapexport keeps no copies of snapshots in other regions."}},
		{"copy policy items", `{"copyPolicyItemsEnabled":true}`, 400, snapexport.CodeInvalidBackupPolicy,
			[]string{"copySettings must be empty: snapexport keeps no copies of snapshots in other regions."}},
		{"cluster id", `{"clusterId":"` + other + `"}`, 400, snapexport.CodeAttributeReadOnly, []string{"clusterId"}},
		{"next snapshot", `{"nextSnapshot":"2026-08-10T09:16:00Z"}`, 400, snapexport.CodeAttributeReadOnly, []string{"nextSnapshot"}},
		{"extra retention", `{"extraRetentionSettings":[]}`, 400, snapexport.CodeInvalidAttribute, []string{"extraRetentionSettings"}},
		{"policies not a list", `{"policies":{}}`, 400, snapexport.CodeInvalidJSONAttribute, []string{"policies"}},
		{"updateSnapshots not a boolean", `{"updateSnapshots":"yes"}`, 400, snapexport.CodeInvalidJSONAttribute, []string{"updateSnapshots"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []string{v20240805, v20230101} {
				got := e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: accept, ContentType: accept, Body: tc.body})
				ae := apitest.WantError(t, got, tc.status, tc.code)
				if !slices.Equal(ae.Params(), tc.params) {
					t.Errorf("%s: parameters %q, want %q (%s)", accept, ae.Params(), tc.params, got.Body)
				}
			}
		})
	}
	after := e.Do(t, apitest.Request{Path: path, Accept: v20240805})
	if string(after.Body) != string(before.Body) {
		t.Errorf("refused PATCHes changed the schedule:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
}

// TestBackupScheduleExport: the automatic export settings, their errors,
// and the deletion of a bucket a schedule uses.
func TestBackupScheduleExport(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	roleID := e.role(t, "AWS", true)
	bucket := e.createBucket(t, `{"bucketName":"auto-export","cloudProvider":"AWS","iamRoleId":"`+roleID+`"}`)
	path := e.schedulePath("cluster-0")
	patch := func(body string) *apitest.Response {
		return e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805, ContentType: v20240805, Body: body})
	}
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"export":{"exportBucketId":"` + bucket + `","frequencyType":"monthly"}}`, 400, snapexport.CodeInvalidBackupPolicy},
		{`{"autoExportEnabled":true}`, 400, snapexport.CodeInvalidBackupPolicy},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"0123456789abcdef01234567","frequencyType":"monthly"}}`, 404, snapexport.CodeExportBucketNotFound},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"` + bucket + `","frequencyType":"hourly"}}`, 400, snapexport.CodeInvalidEnumValue},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"nope"}}`, 400, snapexport.CodeInvalidAttribute},
		{`{"autoExportEnabled":true,"export":{"exportBucketId":"` + bucket + `","region":"x"}}`, 400, snapexport.CodeInvalidAttribute},
		{`{"autoExportEnabled":"yes"}`, 400, snapexport.CodeInvalidJSONAttribute},
		{`{"autoExportEnabled":false,"export":"x"}`, 400, snapexport.CodeInvalidJSONAttribute},
		{`{"autoExportEnabled":false,"policies":[{"id":"x","policyItems":[]}]}`, 400, snapexport.CodeInvalidAttribute},
	} {
		apitest.WantError(t, patch(tc.body), tc.status, tc.code)
	}
	if s := decodeSchedule(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805})); s.AutoExportEnabled || s.Export != nil {
		t.Errorf("refused PATCHes changed the schedule: %+v", s)
	}

	// frequencyType defaults to monthly.
	s := decodeSchedule(t, patch(`{"autoExportEnabled":true,"export":{"exportBucketId":"`+bucket+`"},"policies":null,"useOrgAndGroupNamesInExportPrefix":true}`))
	if !s.AutoExportEnabled || s.Export == nil || s.Export.ExportBucketID != bucket || s.Export.FrequencyType != "monthly" || !s.UseOrgAndGroupNamesInExportPrefix ||
		len(s.Policies[0].PolicyItems) != 5 {
		t.Errorf("PATCH export: %+v", s)
	}

	// The bucket cannot go while the schedule exports to it automatically.
	del := e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + bucket, Accept: v20230101})
	ae := apitest.WantError(t, del, http.StatusBadRequest, snapexport.CodeExportBucketInUse)
	if !slices.Equal(ae.Params(), []string{bucket, "cluster-0"}) {
		t.Errorf("bucket in use: %s", del.Body)
	}
	// Attributes left out keep their value.
	if s := decodeSchedule(t, patch(`{"autoExportEnabled":false}`)); s.AutoExportEnabled || s.Export == nil || !s.UseOrgAndGroupNamesInExportPrefix {
		t.Errorf("PATCH autoExportEnabled only: %+v", s)
	}
	// Now it can, and the schedule forgets it.
	apitest.WantStatus(t, e.Do(t, apitest.Request{Method: "DELETE", Path: e.bucketsPath("v2") + "/" + bucket, Accept: v20230101}), http.StatusNoContent)
	if s := decodeSchedule(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805})); s.Export != nil || s.AutoExportEnabled {
		t.Errorf("schedule after its bucket was deleted: %+v", s)
	}
}

// TestBackupScheduleDelete: DELETE removes every policy item and answers
// the schedule, which keeps its policy id, reference time, restore window
// and export settings, and no longer has a next snapshot; items can be
// added again.
func TestBackupScheduleDelete(t *testing.T) {
	e := newEnv(t)
	c := e.cluster(t, service.ClusterInput{Name: "cluster-0"})
	path := e.schedulePath(c.Name)
	decodeSchedule(t, e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805, Body: `{"useOrgAndGroupNamesInExportPrefix":true,"restoreWindowDays":2}`}))
	before := decodeSchedule(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805}))
	for _, accept := range []string{v20240805, v20230101} {
		got := e.Do(t, apitest.Request{Method: "DELETE", Path: path, Accept: accept})
		s := decodeSchedule(t, got)
		if got.Header.Get("Content-Type") != accept+";charset=utf-8" {
			t.Errorf("Content-Type %q", got.Header.Get("Content-Type"))
		}
		if s.Policies[0].ID != before.Policies[0].ID || s.Policies[0].PolicyItems == nil || len(s.Policies[0].PolicyItems) != 0 || s.NextSnapshot != "" ||
			s.ReferenceHourOfDay != before.ReferenceHourOfDay || s.RestoreWindowDays != 2 || !s.UseOrgAndGroupNamesInExportPrefix {
			t.Errorf("%s: DELETE answered %s", accept, got.Body)
		}
	}
	if s := decodeSchedule(t, e.Do(t, apitest.Request{Path: path, Accept: v20240805})); len(s.Policies[0].PolicyItems) != 0 || s.NextSnapshot != "" {
		t.Errorf("GET after DELETE: %+v", s)
	}
	s := decodeSchedule(t, e.Do(t, apitest.Request{Method: "PATCH", Path: path, Accept: v20240805,
		Body: `{"policies":[{"policyItems":[{"frequencyType":"daily","frequencyInterval":1,"retentionUnit":"days","retentionValue":7}]}]}`}))
	if len(s.Policies[0].PolicyItems) != 1 || s.NextSnapshot == "" {
		t.Errorf("PATCH after DELETE: %+v", s)
	}
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "DELETE", Path: e.schedulePath("nope"), Accept: v20240805}), http.StatusNotFound, snapexport.CodeClusterNotFound)
	apitest.WantError(t, e.Do(t, apitest.Request{Method: "DELETE", Path: e.schedulePath("bad_name"), Accept: v20240805}), http.StatusBadRequest, snapexport.CodeInvalidPathParameter)
}
