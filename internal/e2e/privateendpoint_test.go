package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport/internal/testserver"
)

// TestSDKPrivateEndpoints drives the object-storage private endpoint
// resource (version 2024-11-13) with the SDK. Without a cloud-mode AWS
// configuration the server reaches buckets directly, so every declared
// endpoint is usable at once.
func TestSDKPrivateEndpoints(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	for name, c := range bootstrapClients(t, srv) {
		t.Run(name, func(t *testing.T) {
			region := map[string]string{"digest": "EU_WEST_1", "oauth": "US_EAST_1"}[name]
			e, resp, err := c.CloudBackupsApi.CreateBackupPrivateEndpoint(ctx, srv.GroupID, "AWS",
				&admin.ObjectStoragePrivateEndpointRequest{CloudProvider: admin.PtrString("AWS"), RegionName: admin.PtrString(region)}).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("create answered %d, want 201", resp.StatusCode)
			}
			if e.GetStatus() != "ACTIVE" || e.GetRegionName() != region || e.GetCloudProvider() != "AWS" {
				t.Errorf("created %+v, want an ACTIVE AWS endpoint in %s", e, region)
			}

			got, _, err := c.CloudBackupsApi.GetBackupPrivateEndpoint(ctx, srv.GroupID, "AWS", e.GetId()).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if got.GetId() != e.GetId() || got.GetRegionName() != region {
				t.Errorf("get returned %+v, want %s", got, e.GetId())
			}

			_, _, err = c.CloudBackupsApi.CreateBackupPrivateEndpoint(ctx, srv.GroupID, "AWS",
				&admin.ObjectStoragePrivateEndpointRequest{RegionName: admin.PtrString(region)}).Execute()
			if !admin.IsErrorCode(err, "OBJECT_STORAGE_PRIVATE_ENDPOINT_ALREADY_EXISTS") {
				t.Errorf("a second endpoint for %s: %v, want 409 OBJECT_STORAGE_PRIVATE_ENDPOINT_ALREADY_EXISTS", region, err)
			}
			_, _, err = c.CloudBackupsApi.CreateBackupPrivateEndpoint(ctx, srv.GroupID, "AWS",
				&admin.ObjectStoragePrivateEndpointRequest{RegionName: admin.PtrString("MARS_NORTH_1")}).Execute()
			if !admin.IsErrorCode(err, "INVALID_ENUM_VALUE") {
				t.Errorf("an unknown region: %v, want 400 INVALID_ENUM_VALUE", err)
			}
			_, _, err = c.CloudBackupsApi.ListBackupPrivateEndpoints(ctx, srv.GroupID, "GCP").Execute()
			if !admin.IsErrorCode(err, "INVALID_PATH_PARAMETER") {
				t.Errorf("GCP private endpoints: %v, want 400 INVALID_PATH_PARAMETER", err)
			}

			list, _, err := c.CloudBackupsApi.ListBackupPrivateEndpoints(ctx, srv.GroupID, "AWS").Execute()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, x := range list.GetResults() {
				found = found || x.GetId() == e.GetId()
			}
			if !found || list.GetTotalCount() != len(list.GetResults()) {
				t.Errorf("list %+v lacks %s or miscounts", list.GetResults(), e.GetId())
			}

			if _, err := c.CloudBackupsApi.DeleteBackupPrivateEndpoint(ctx, srv.GroupID, "AWS", e.GetId()).Execute(); err != nil {
				t.Fatal(err)
			}
			_, _, err = c.CloudBackupsApi.GetBackupPrivateEndpoint(ctx, srv.GroupID, "AWS", e.GetId()).Execute()
			if !admin.IsErrorCode(err, "OBJECT_STORAGE_PRIVATE_ENDPOINT_NOT_FOUND") {
				t.Errorf("get after delete: %v, want 404 OBJECT_STORAGE_PRIVATE_ENDPOINT_NOT_FOUND", err)
			}
		})
	}
}
