package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/ratelimit"
)

// TestRequestsObserved: every request is counted once answered, by the
// operation that served it (none for a path or method nothing serves),
// its negotiated version and its status; refused credentials by their
// scheme; 429s by the limit that refused them.
func TestRequestsObserved(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, envOptions{metrics: m, limits: &api.Limits{
		CloudBackups:          ratelimit.Policy{Name: "Cloud Backups", Capacity: 1, Refill: 1, Period: time.Hour},
		CloudProviderAccess:   ratelimit.CloudProviderAccess(),
		Clusters:              ratelimit.Clusters(),
		Projects:              ratelimit.Projects(),
		FailedAuthentications: ratelimit.Policy{Name: "Failed Authentications", Capacity: 1, Refill: 1, Period: time.Hour},
	}})
	list := e.bucketsPath("v2")
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: list, Accept: v20240530}), http.StatusOK)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: list, Accept: v20240530}), http.StatusTooManyRequests)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Path: "/api/atlas/v2/nowhere", Accept: v20240530}), http.StatusNotFound)
	apitest.WantStatus(t, e.Do(t, apitest.Request{Method: "PATCH", Path: list, Accept: v20240530, Body: `{}`}), http.StatusMethodNotAllowed)
	bearer := &apitest.Client{BaseURL: e.URL, Auth: apitest.Bearer("not-a-token")}
	apitest.WantStatus(t, bearer.Do(t, apitest.Request{Path: list, Accept: v20240530}), http.StatusUnauthorized)
	// The address has spent its one failed authentication: the next
	// request with credentials is refused before they are looked at.
	apitest.WantStatus(t, bearer.Do(t, apitest.Request{Path: list, Accept: v20240530}), http.StatusTooManyRequests)

	want := `
# HELP snapexport_authentication_failures_total Requests whose credentials were refused, by scheme: digest, bearer, client (a client id and secret at the token or revoke endpoint) or other.
# TYPE snapexport_authentication_failures_total counter
snapexport_authentication_failures_total{scheme="bearer"} 1
# HELP snapexport_rate_limited_requests_total Requests refused with 429 by a rate limit, by limit (its configuration key under rateLimits).
# TYPE snapexport_rate_limited_requests_total counter
snapexport_rate_limited_requests_total{limit="cloudBackups"} 1
snapexport_rate_limited_requests_total{limit="failedAuthentications"} 1
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "snapexport_authentication_failures_total", "snapexport_rate_limited_requests_total"); err != nil {
		t.Error(err)
	}
	// The digest client's challenges are requests too (401, no refusal).
	for _, c := range []struct {
		operation, version, status string
		want                       float64
	}{
		{"listGroupBackupExportBuckets", "2024-05-30", "200", 1},
		{"listGroupBackupExportBuckets", "2024-05-30", "429", 1},
		{"listGroupBackupExportBuckets", "v2", "401", 3},
		{"listGroupBackupExportBuckets", "v2", "429", 1},
		{"none", "none", "404", 1},
		{"none", "none", "405", 1},
	} {
		if got := counted(t, m, c.operation, c.version, c.status); got != c.want {
			t.Errorf("requests %s %s %s = %v, want %v", c.operation, c.version, c.status, got, c.want)
		}
	}
}

// counted is snapexport_http_requests_total of the operation, version and
// status given.
func counted(t *testing.T, m *metrics.Metrics, operation, version, status string) float64 {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "snapexport_http_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["operation"] == operation && got["version"] == version && got["status"] == status {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}
