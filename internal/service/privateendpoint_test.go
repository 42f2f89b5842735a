package service_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// cloudAWS stands in for AWS in cloud mode, which cannot be reached from a
// test: buckets live in us-east-1 and the server has a VPC endpoint for
// us-east-1 only. It records the targets it was asked to reach.
type cloudAWS struct{ reached []objectstore.Target }

func (c *cloudAWS) Verify(_ context.Context, t objectstore.Target) (string, error) {
	c.reached = append(c.reached, t)
	return "us-east-1", nil
}
func (c *cloudAWS) AssumeRole(context.Context, *snapexport.CloudProviderAccessRole) error { return nil }
func (c *cloudAWS) BucketRegion(context.Context, objectstore.Target) (string, error) {
	return "us-east-1", nil
}
func (c *cloudAWS) List(context.Context, objectstore.Target, string, int) ([]objectstore.Object, bool, error) {
	return nil, false, nil
}
func (c *cloudAWS) PrivateLink(region string) (bool, string) {
	if region == "us-east-1" {
		return true, "https://bucket.vpce-0a1b2c3d4e5f-abcdefgh.s3.us-east-1.vpce.amazonaws.com"
	}
	return true, ""
}

func newService(t *testing.T, buckets service.BucketAccess) (*service.Service, string, string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := &service.Service{Store: store, Buckets: buckets, Identities: service.DefaultIdentities}
	b, err := svc.Init(ctx, "org", "project", auth.HashParams{Time: 1, Memory: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	role, err := svc.CreateRole(ctx, b.Project.ID, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthorizeRole(ctx, b.Project.ID, role.ID, service.RoleInput{Provider: snapexport.AWS, IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/x"}); err != nil {
		t.Fatal(err)
	}
	return svc, b.Project.ID, role.ID
}

func TestRequirePrivateNetworkingInCloudMode(t *testing.T) {
	ctx := context.Background()
	aws := &cloudAWS{}
	svc, project, roleID := newService(t, aws)
	in := service.BucketInput{Provider: snapexport.AWS, BucketName: "private-bucket", RoleID: roleID, RequirePrivateNetworking: true}

	_, err := svc.CreateBucket(ctx, project, in)
	if snapexport.ErrorCode(err) != snapexport.CodePrivateEndpointRequired {
		t.Fatalf("create without a private endpoint: %v, want %s", err, snapexport.CodePrivateEndpointRequired)
	}
	if len(aws.reached) != 0 {
		t.Errorf("the bucket was reached (%+v) before the endpoint was checked", aws.reached)
	}
	if _, total, _ := svc.ListBuckets(ctx, project, nil, snapexport.Page{}, ""); total != 0 {
		t.Errorf("%d buckets stored after a refused create", total)
	}

	// An endpoint in a region without a configured VPC endpoint fails and
	// does not count.
	failed, err := svc.CreatePrivateEndpoint(ctx, project, service.PrivateEndpointInput{Provider: snapexport.AWS, RegionName: "EU_WEST_1"})
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != snapexport.PrivateEndpointFailed || failed.ErrorMessage == "" {
		t.Errorf("endpoint without configuration: %+v, want FAILED with a message", failed)
	}
	active, err := svc.CreatePrivateEndpoint(ctx, project, service.PrivateEndpointInput{Provider: snapexport.AWS, RegionName: "US_EAST_1"})
	if err != nil {
		t.Fatal(err)
	}
	if active.Status != snapexport.PrivateEndpointActive || active.ConnectionName != "vpce-0a1b2c3d4e5f-abcdefgh" {
		t.Errorf("configured endpoint: %+v, want ACTIVE named vpce-0a1b2c3d4e5f-abcdefgh", active)
	}

	b, err := svc.CreateBucket(ctx, project, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(aws.reached); n != 1 || !aws.reached[0].PrivateNetworking || aws.reached[0].Region != "us-east-1" {
		t.Errorf("reached %+v, want one private check in us-east-1", aws.reached)
	}
	if err := svc.DeletePrivateEndpoint(ctx, project, snapexport.AWS, active.ID); snapexport.ErrorCode(err) != snapexport.CodePrivateEndpointInUse {
		t.Errorf("deleting the endpoint a bucket relies on: %v, want %s", err, snapexport.CodePrivateEndpointInUse)
	}

	// PATCH: off needs nothing; on again is checked through the endpoint.
	if _, err := svc.SetPrivateNetworking(ctx, project, b.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeletePrivateEndpoint(ctx, project, snapexport.AWS, active.ID); err != nil {
		t.Fatalf("deleting an endpoint no bucket relies on: %v", err)
	}
	if _, err := svc.SetPrivateNetworking(ctx, project, b.ID, true); snapexport.ErrorCode(err) != snapexport.CodePrivateEndpointRequired {
		t.Errorf("turning private networking on without an endpoint: %v, want %s", err, snapexport.CodePrivateEndpointRequired)
	}
	got, err := svc.Bucket(ctx, project, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequirePrivateNetworking {
		t.Error("a refused PATCH changed requirePrivateNetworking")
	}
}

func TestAzureTenantFixedWhileBucketsUseTheRole(t *testing.T) {
	ctx := context.Background()
	svc, project, _ := newService(t, nil)
	azure := func(tenant string) service.RoleInput {
		return service.RoleInput{Provider: snapexport.Azure, AtlasAzureAppID: "9f2deb0d-be22-4524-a403-df531868bac0",
			ServicePrincipalID: "22f1d2a6-d0e9-482a-83a4-b8dd7dddc2c1", TenantID: tenant}
	}
	const first, second = "91402290-a7e4-4f6f-8a6f-1a0d6e2c52a4", "0c3c5b7e-3f0a-4a39-9b4a-6cf0e1b5b2d0"
	role, err := svc.CreateRole(ctx, project, azure(first))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthorizeRole(ctx, project, role.ID, azure(first)); err != nil {
		t.Fatal(err)
	}
	// Unused, the role may move to another tenant.
	if _, err := svc.AuthorizeRole(ctx, project, role.ID, azure(second)); err != nil {
		t.Fatalf("moving an unused role: %v", err)
	}
	if _, err := svc.CreateBucket(ctx, project, service.BucketInput{Provider: snapexport.Azure, RoleID: role.ID,
		ServiceURL: "https://account.blob.core.windows.net/container"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthorizeRole(ctx, project, role.ID, azure(first)); snapexport.ErrorCode(err) != snapexport.CodeCloudProviderAccessRoleInUse {
		t.Errorf("moving a role a bucket uses: %v, want %s", err, snapexport.CodeCloudProviderAccessRoleInUse)
	}
	if _, err := svc.AuthorizeRole(ctx, project, role.ID, azure(second)); err != nil {
		t.Errorf("re-authorizing in the same tenant: %v", err)
	}
}
