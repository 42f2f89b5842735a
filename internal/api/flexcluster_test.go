package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

const v20241113 = "application/vnd.atlas.2024-11-13+json"

// TestFlexClusterProbes: the three flex-cluster operations clients try
// before the dedicated ones answer, for a cluster of the project, Atlas's
// recorded 400 CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API, and for an unknown
// name 404 CLUSTER_NOT_FOUND, after authentication, the version and the
// project role, like every operation.
func TestFlexClusterProbes(t *testing.T) {
	e := newEnv(t)
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-209"})
	snapshotID := e.putSnapshot(t, rs, snapexport.Snapshot{}).ID
	flex := "/api/atlas/v2/groups/" + e.GroupID + "/flexClusters/"
	paths := map[string]func(name string) string{
		"get cluster":    func(name string) string { return flex + name },
		"list snapshots": func(name string) string { return flex + name + "/backup/snapshots" },
		"get snapshot":   func(name string) string { return flex + name + "/backup/snapshots/" + snapshotID },
	}
	reader, nobody := e.apiKey(t, snapexport.RoleGroupReadOnly), e.apiKey(t, "")
	for what, path := range paths {
		t.Run(what, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				auth apitest.Auth
			}{{"ORG_OWNER", apitest.Auth{}}, {"GROUP_READ_ONLY", reader}, {"bearer token", apitest.Bearer(e.token(t))}} {
				got := e.Do(t, apitest.Request{Path: path("cluster-209"), Accept: v20241113, Auth: tc.auth})
				ae := apitest.WantError(t, got, http.StatusBadRequest, snapexport.CodeNonFlexClusterInFlexAPI)
				if ae.Detail != "Cannot use non-flex cluster cluster-209 in the flex API." || !slices.Equal(ae.Params(), []string{"cluster-209"}) {
					t.Errorf("as %s: %s", tc.name, got.Body)
				}
			}

			missing := e.Do(t, apitest.Request{Path: path("cluster-210"), Accept: v20241113, Auth: reader})
			ae := apitest.WantError(t, missing, http.StatusNotFound, snapexport.CodeClusterNotFound)
			if ae.Detail != "No cluster named cluster-210 exists in group "+e.GroupID+"." || !slices.Equal(ae.Params(), []string{"cluster-210", e.GroupID}) {
				t.Errorf("unknown cluster: %s", missing.Body)
			}
			apitest.WantError(t, e.Do(t, apitest.Request{Path: path("bad_name"), Accept: v20241113}), http.StatusBadRequest, snapexport.CodeInvalidPathParameter)

			apitest.WantChallenge(t, e.Send(t, apitest.Request{Path: path("cluster-209"), Accept: v20241113}, ""), false)
			apitest.WantError(t, e.Do(t, apitest.Request{Path: path("cluster-209"), Accept: v20241113, Auth: nobody}), http.StatusUnauthorized, snapexport.CodeNotInGroup)
			apitest.WantError(t, e.Do(t, apitest.Request{Path: path("cluster-209"), Accept: v20241113, Auth: apitest.Bearer("not-a-token")}), http.StatusUnauthorized, snapexport.CodeUnauthorized)
			for _, accept := range []string{v20230101, v20240805, "application/json"} {
				apitest.WantError(t, e.Do(t, apitest.Request{Path: path("cluster-209"), Accept: accept}), http.StatusNotAcceptable, snapexport.CodeInvalidVersionDate)
			}
			other := "/api/atlas/v2/groups/5f1e2d3c4b5a69788796a5b4/flexClusters/cluster-209"
			apitest.WantError(t, e.Do(t, apitest.Request{Path: other, Accept: v20241113}), http.StatusNotFound, snapexport.CodeGroupNotFound)
		})
	}
}
