package e2e_test

import (
	"net/http"
	"slices"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// TestSDKFlexClusters: the SDK's flex-cluster calls, which the Atlas CLI
// makes before the dedicated ones, fail the way Atlas makes them fail for
// a dedicated cluster, so that a caller checking admin.IsErrorCode turns to
// the dedicated API; an unknown name is CLUSTER_NOT_FOUND.
func TestSDKFlexClusters(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		g := c.srv.GroupID
		rs, err := c.srv.Server.Service.CreateCluster(sdkCtx, service.ClusterInput{ProjectID: g, Name: "cluster-209"})
		if err != nil {
			t.Fatal(err)
		}
		snapshotID := c.srv.StoreSnapshot(t, rs, snapexport.Snapshot{}).ID

		calls := map[string]func(name string) (*http.Response, error){
			"GetFlexCluster": func(name string) (*http.Response, error) {
				_, resp, err := c.FlexClustersApi.GetFlexCluster(sdkCtx, g, name).Execute()
				return resp, err
			},
			"ListFlexBackupSnapshots": func(name string) (*http.Response, error) {
				_, resp, err := c.FlexSnapshotsApi.ListFlexBackupSnapshots(sdkCtx, g, name).Execute()
				return resp, err
			},
			"GetFlexBackupSnapshot": func(name string) (*http.Response, error) {
				_, resp, err := c.FlexSnapshotsApi.GetFlexBackupSnapshot(sdkCtx, g, name, snapshotID).Execute()
				return resp, err
			},
		}
		for what, call := range calls {
			resp, err := call("cluster-209")
			if !admin.IsErrorCode(err, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API") || resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s on a dedicated cluster: %v", what, err)
			} else if apiErr, ok := admin.AsError(err); !ok || apiErr.GetDetail() != "Cannot use non-flex cluster cluster-209 in the flex API." ||
				!slices.Equal(apiErr.GetParameters(), []any{"cluster-209"}) {
				t.Errorf("%s on a dedicated cluster: %+v", what, apiErr)
			}

			resp, err = call("cluster-210")
			if !admin.IsErrorCode(err, "CLUSTER_NOT_FOUND") || resp == nil || resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s on an unknown cluster: %v", what, err)
			} else if apiErr, _ := admin.AsError(err); !slices.Equal(apiErr.GetParameters(), []any{"cluster-210", g}) {
				t.Errorf("%s on an unknown cluster: parameters %v", what, apiErr.GetParameters())
			}
		}
	})
}
