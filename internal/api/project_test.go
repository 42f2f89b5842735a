package api_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

// recordedProjectCreate is Atlas's answer to a project creation
// (recorded-atlas TestSchedule__POST_api_atlas_v2_groups_1).
const recordedProjectCreate = "HTTP/2.0 201 Created\r\n" +
	"Content-Type: application/vnd.atlas.2023-01-01+json;charset=utf-8\r\n\r\n" +
	`{"clusterCount":0,"created":"2026-08-10T03:02:40Z","id":"6a793f4dc0eb9e7a17713383","links":[{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383","rel":"self"},{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383/containers","rel":"https://cloud.mongodb.com/containers"},{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383/clusters","rel":"https://cloud.mongodb.com/clusters"},{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383/databaseUsers","rel":"https://cloud.mongodb.com/databaseUsers"},{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383/peers","rel":"https://cloud.mongodb.com/peers"},{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383/processes","rel":"https://cloud.mongodb.com/processes"},{"href":"http://localhost:8080/api/atlas/v2/groups/6a793f4dc0eb9e7a17713383/whitelist","rel":"https://cloud.mongodb.com/whitelist"}],"name":"backupSchedule-e2e-508","orgId":"a0123456789abcdef012345a","withDefaultAlertsSettings":true}`

// TestCreateProjectMatchesRecordedAtlas: 201, Atlas's fields in its order,
// the links to the same resources, withDefaultAlertsSettings echoed.
func TestCreateProjectMatchesRecordedAtlas(t *testing.T) {
	e := newEnv(t)
	got := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101, Body: `{"name":"backupSchedule-e2e-508","orgId":"` + e.OrgID + `"}`})
	want := parseRecorded(t, recordedProjectCreate)
	apitest.WantStatus(t, got, want.Status)
	if ct, w := got.Header.Get("Content-Type"), want.Header.Get("Content-Type"); ct != w {
		t.Errorf("Content-Type: Atlas %q, here %q", w, ct)
	}
	apitest.WantSuccessBody(t, got)
	if g, w := got.KeyOrders(t), want.KeyOrders(t); !reflect.DeepEqual(g, w) {
		t.Errorf("fields: Atlas %v, here %v", w, g)
	}
	var body, recorded struct {
		ClusterCount int
		Links        []struct{ Href, Rel string }
		Name         string
		OrgID        string `json:"orgId"`
		ID           string
		Alerts       *bool `json:"withDefaultAlertsSettings"`
	}
	got.Decode(t, &body)
	want.Decode(t, &recorded)
	if body.ClusterCount != 0 || body.Name != "backupSchedule-e2e-508" || body.OrgID != e.OrgID || body.Alerts == nil || !*body.Alerts {
		t.Errorf("created project: %s", got.Body)
	}
	for i, l := range body.Links {
		wantHref := e.URL + "/api/atlas/v2/groups/" + body.ID + recorded.Links[i].Href[len("http://localhost:8080/api/atlas/v2/groups/")+24:]
		if l.Rel != recorded.Links[i].Rel || l.Href != wantHref {
			t.Errorf("link %d: %+v, want %s %s", i, l, recorded.Links[i].Rel, wantHref)
		}
	}

	off := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101, Body: `{"name":"quiet","orgId":"` + e.OrgID + `","withDefaultAlertsSettings":false}`})
	apitest.WantStatus(t, off, http.StatusCreated)
	if v := off.Object(t)["withDefaultAlertsSettings"]; v != false {
		t.Errorf("withDefaultAlertsSettings false answered %v", v)
	}
}

// TestProjectClusterCount: clusterCount counts the project's clusters in
// the project, the list of projects, and not another project's.
func TestProjectClusterCount(t *testing.T) {
	e := newEnv(t)
	other := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101, Body: `{"name":"other","orgId":"` + e.OrgID + `"}`})
	apitest.WantStatus(t, other, http.StatusCreated)
	e.cluster(t, service.ClusterInput{Name: "one"})
	e.cluster(t, service.ClusterInput{Name: "two", Shards: []string{"rs0", "rs1"}})

	got := e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + e.GroupID, Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)
	if n := got.Object(t)["clusterCount"]; n != float64(2) {
		t.Errorf("project with two clusters: clusterCount %v", n)
	}
	if _, present := got.Object(t)["withDefaultAlertsSettings"]; present {
		t.Errorf("get project shows withDefaultAlertsSettings: %s", got.Body)
	}
	list := e.Do(t, apitest.Request{Path: "/api/atlas/v2/groups", Accept: v20230101})
	var page struct {
		Results []struct {
			ID           string
			ClusterCount int
		}
	}
	list.Decode(t, &page)
	counts := map[string]int{}
	for _, p := range page.Results {
		counts[p.ID] = p.ClusterCount
	}
	if want := map[string]int{e.GroupID: 2, other.Field(t, "id"): 0}; !reflect.DeepEqual(counts, want) {
		t.Errorf("list clusterCounts %v, want %v", counts, want)
	}
}
