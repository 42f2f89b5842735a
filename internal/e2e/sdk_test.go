package e2e_test

// End-to-end tests that drive every operation through the official Atlas Go
// SDK, once with an API key (HTTP digest) and once with a service account
// (OAuth client credentials), each against a fresh in-process server. Every
// response is also checked against our OpenAPI document by the
// apitest.Validating transport the clients of client_test.go send through.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/atlas-sdk/v20250312020/auth"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/testserver"
)

// ---------------------------------------------------------------- harness

// sdkClient is an SDK client of one authentication mode, against srv, that
// also keeps the raw body of the last response (for fields the SDK's models
// do not have, such as featureUsages[].featureId.exportBucketId).
type sdkClient struct {
	*admin.APIClient
	srv    *testserver.Server
	bodies *bodyRecorder
}

// authModes are the two ways users authenticate the SDK.
var authModes = []string{"digest", "oauth"}

// forEachAuth runs f once per authentication mode, each time against a
// fresh server owned by the subtest.
func forEachAuth(t *testing.T, f func(t *testing.T, c *sdkClient)) {
	t.Helper()
	for _, mode := range authModes {
		t.Run(mode, func(t *testing.T) {
			srv := testserver.NewServer(t)
			f(t, newSDKClient(t, srv, mode))
		})
	}
}

func newSDKClient(t *testing.T, srv *testserver.Server, mode string) *sdkClient {
	t.Helper()
	rec := &bodyRecorder{base: apitest.Validating(t, nil)}
	c := &sdkClient{srv: srv, bodies: rec}
	switch mode {
	case "digest":
		c.APIClient = digestClientVia(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey, rec)
	case "oauth":
		c.APIClient = oauthClientVia(t, srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret, rec)
	default:
		t.Fatalf("unknown auth mode %q", mode)
	}
	return c
}

// bodyRecorder is a RoundTripper that remembers the body of the last
// response, and all bodies one after another, and hands them on unread.
type bodyRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
	all  bytes.Buffer
}

func (r *bodyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.last = body
	r.all.Write(body)
	r.all.WriteByte('\n')
	r.mu.Unlock()
	return resp, nil
}

// allBodies is every response body so far, one after another.
func (r *bodyRecorder) allBodies() string { r.mu.Lock(); defer r.mu.Unlock(); return r.all.String() }

// lastBody decodes the body of the last response into v.
func (c *sdkClient) lastBody(t *testing.T, v any) {
	t.Helper()
	c.bodies.mu.Lock()
	body := c.bodies.last
	c.bodies.mu.Unlock()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding the last response body %q: %v", body, err)
	}
}

var sdkCtx = context.Background()

var objectIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

func wantObjectID(t *testing.T, what, s string) {
	t.Helper()
	if !objectIDPattern.MatchString(s) {
		t.Errorf("%s = %q, want a 24-character lowercase hexadecimal id", what, s)
	}
}

// wantStatus fails unless the call succeeded with the given HTTP status.
func wantStatus(t *testing.T, what string, resp *http.Response, err error, status int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp == nil || resp.StatusCode != status {
		got := 0
		if resp != nil {
			got = resp.StatusCode
		}
		t.Fatalf("%s: HTTP %d, want %d", what, got, status)
	}
}

// wantAPIError checks that err is the SDK's decoded ApiError with the given
// status and errorCode (and, when params is not nil, those parameters), the
// way users inspect errors with admin.IsErrorCode and admin.AsError.
func wantAPIError(t *testing.T, what string, err error, status int, code string, params ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want HTTP %d %s", what, status, code)
	}
	if !admin.IsErrorCode(err, code) {
		t.Fatalf("%s: admin.IsErrorCode(err, %q) is false; err = %v", what, code, err)
	}
	apiErr, ok := admin.AsError(err)
	if !ok {
		t.Fatalf("%s: admin.AsError found no ApiError in %v", what, err)
	}
	if apiErr.GetError() != status {
		t.Errorf("%s: error = %d, want %d", what, apiErr.GetError(), status)
	}
	if got, want := apiErr.GetReason(), http.StatusText(status); got != want {
		t.Errorf("%s: reason = %q, want %q", what, got, want)
	}
	if apiErr.GetDetail() == "" {
		t.Errorf("%s: detail is empty", what)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", status)) || !strings.Contains(err.Error(), code) {
		t.Errorf("%s: error text %q names neither HTTP %d nor %s", what, err, status, code)
	}
	if params != nil {
		var got []string
		for _, p := range apiErr.GetParameters() {
			got = append(got, fmt.Sprint(p))
		}
		if !slices.Equal(got, params) {
			t.Errorf("%s: parameters = %q, want %q", what, got, params)
		}
	}
}

// unknownID returns an id in Atlas's format that names nothing on the server.
func unknownID() string {
	return strings.ReplaceAll(uuid.NewString(), "-", "")[:24]
}

const testIAMRoleARN = "arn:aws:iam::123456789012:role/snapexport-writer"

// awsRole creates an AWS role and, when authorize is set, authorizes it;
// it returns the roleId.
func (c *sdkClient) awsRole(t *testing.T, groupID string, authorize bool) string {
	t.Helper()
	role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(sdkCtx, groupID, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
	if err != nil {
		t.Fatalf("create AWS role: %v", err)
	}
	if authorize {
		arn := testIAMRoleARN
		if _, _, err := c.CloudProviderAccessApi.AuthorizeProviderAccessRole(sdkCtx, groupID, role.GetRoleId(),
			&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute(); err != nil {
			t.Fatalf("authorize AWS role: %v", err)
		}
	}
	return role.GetRoleId()
}

// gcpRole creates a GCP role (usable at once) and returns its roleId.
func (c *sdkClient) gcpRole(t *testing.T, groupID string) string {
	t.Helper()
	role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(sdkCtx, groupID, &admin.CloudProviderAccessRoleRequest{ProviderName: "GCP"}).Execute()
	if err != nil {
		t.Fatalf("create GCP role: %v", err)
	}
	return role.GetRoleId()
}

// azureRole creates an Azure service principal role and, when authorize is
// set, authorizes it (as Terraform's Azure example does before creating a
// bucket); it returns the role's _id and tenant.
func (c *sdkClient) azureRole(t *testing.T, groupID string, authorize bool) (id, tenantID string) {
	t.Helper()
	appID, principalID, tenantID := uuid.NewString(), uuid.NewString(), uuid.NewString()
	role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(sdkCtx, groupID, &admin.CloudProviderAccessRoleRequest{
		ProviderName: "AZURE", AtlasAzureAppId: &appID, ServicePrincipalId: &principalID, TenantId: &tenantID,
	}).Execute()
	if err != nil {
		t.Fatalf("create Azure role: %v", err)
	}
	if authorize {
		if _, _, err := c.CloudProviderAccessApi.AuthorizeProviderAccessRole(sdkCtx, groupID, role.GetId(), &admin.CloudProviderAccessRoleRequestUpdate{
			ProviderName: "AZURE", AtlasAzureAppId: &appID, ServicePrincipalId: &principalID, TenantId: &tenantID,
		}).Execute(); err != nil {
			t.Fatalf("authorize Azure role: %v", err)
		}
	}
	return role.GetId(), tenantID
}

func (c *sdkClient) createBucket(t *testing.T, groupID string, req *admin.DiskBackupSnapshotExportBucketRequest) *admin.DiskBackupSnapshotExportBucketResponse {
	t.Helper()
	b, resp, err := c.CloudBackupsApi.CreateExportBucket(sdkCtx, groupID, req).Execute()
	wantStatus(t, "create "+req.CloudProvider+" bucket "+req.GetBucketName(), resp, err, http.StatusOK)
	return b
}

func awsBucket(name, roleID string) *admin.DiskBackupSnapshotExportBucketRequest {
	return &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AWS", BucketName: admin.PtrString(name), IamRoleId: admin.PtrString(roleID)}
}

func gcpBucket(name, roleID string) *admin.DiskBackupSnapshotExportBucketRequest {
	return &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "GCP", BucketName: admin.PtrString(name), RoleId: admin.PtrString(roleID)}
}

func azureBucket(serviceURL, roleID string) *admin.DiskBackupSnapshotExportBucketRequest {
	return &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AZURE", ServiceUrl: admin.PtrString(serviceURL), RoleId: admin.PtrString(roleID)}
}

// bucketFields is what a user reads from a bucket, with absent optional
// fields as "" (and requirePrivateNetworking as "", "true" or "false").
type bucketFields struct {
	ID, BucketName, CloudProvider, IAMRoleID, RoleID, ServiceURL, TenantID, Region, RequirePrivateNetworking string
}

func fieldsOf(b *admin.DiskBackupSnapshotExportBucketResponse) bucketFields {
	f := bucketFields{ID: b.GetId(), BucketName: b.GetBucketName(), CloudProvider: b.GetCloudProvider(),
		IAMRoleID: b.GetIamRoleId(), RoleID: b.GetRoleId(), ServiceURL: b.GetServiceUrl(), TenantID: b.GetTenantId(), Region: b.GetRegion()}
	if v, ok := b.GetRequirePrivateNetworkingOk(); ok {
		f.RequirePrivateNetworking = fmt.Sprint(*v)
	}
	return f
}

func awsFieldsOf(b *admin.DiskBackupSnapshotAWSExportBucketResponse) bucketFields {
	f := bucketFields{ID: b.GetId(), BucketName: b.GetBucketName(), CloudProvider: b.GetCloudProvider(), IAMRoleID: b.GetIamRoleId(), Region: b.GetRegion()}
	if v, ok := b.GetRequirePrivateNetworkingOk(); ok {
		f.RequirePrivateNetworking = fmt.Sprint(*v)
	}
	return f
}

// rawRole holds the featureUsages of a role as sent on the wire: the SDK's
// model has no featureId.exportBucketId.
type rawRole struct {
	FeatureUsages []struct {
		FeatureType string `json:"featureType"`
		FeatureID   struct {
			ExportBucketID string `json:"exportBucketId"`
			GroupID        string `json:"groupId"`
		} `json:"featureId"`
	} `json:"featureUsages"`
}

// exportUsages returns, sorted, the exportBucketIds of a role's
// EXPORT_SNAPSHOT feature usages, checking each entry's type and group.
func exportUsages(t *testing.T, r rawRole, groupID string) []string {
	t.Helper()
	var ids []string
	for _, u := range r.FeatureUsages {
		if u.FeatureType != "EXPORT_SNAPSHOT" {
			t.Errorf("featureType = %q, want EXPORT_SNAPSHOT", u.FeatureType)
		}
		if u.FeatureID.GroupID != groupID {
			t.Errorf("featureId.groupId = %q, want %q", u.FeatureID.GroupID, groupID)
		}
		ids = append(ids, u.FeatureID.ExportBucketID)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// wantTimeWithin checks that tm is set and lies in [from, to] at second precision.
func wantTimeWithin(t *testing.T, what string, tm *time.Time, from, to time.Time) {
	t.Helper()
	if tm == nil {
		t.Errorf("%s is not set", what)
		return
	}
	if tm.Before(from.Truncate(time.Second)) || tm.After(to) {
		t.Errorf("%s = %s, want between %s and %s", what, tm.Format(time.RFC3339), from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
}

// ---------------------------------------------------------------- cloud provider access

func TestSDKCloudProviderAccessAWS(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		cpa := c.CloudProviderAccessApi
		g := c.srv.GroupID
		before := time.Now()

		role, resp, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
		wantStatus(t, "create AWS role", resp, err, http.StatusOK)
		if role.GetProviderName() != "AWS" {
			t.Errorf("providerName = %q, want AWS", role.GetProviderName())
		}
		roleID := role.GetRoleId()
		wantObjectID(t, "roleId", roleID)
		if arn := role.GetAtlasAWSAccountArn(); !strings.HasPrefix(arn, "arn:aws:iam::") || len(arn) < 20 {
			t.Errorf("atlasAWSAccountArn = %q, want an IAM ARN for the trust policy", arn)
		}
		externalID := role.GetAtlasAssumedRoleExternalId()
		if _, err := uuid.Parse(externalID); err != nil || len(externalID) != 36 {
			t.Errorf("atlasAssumedRoleExternalId = %q, want a UUID", externalID)
		}
		if role.AuthorizedDate != nil || role.IamAssumedRoleArn != nil {
			t.Errorf("new role has authorizedDate %v and iamAssumedRoleArn %v, want neither before authorization", role.AuthorizedDate, role.IamAssumedRoleArn)
		}
		if role.Id != nil {
			t.Errorf("AWS role has _id %q; AWS roles are identified by roleId", role.GetId())
		}
		wantTimeWithin(t, "createdDate", role.CreatedDate, before, time.Now())
		if u, ok := role.GetFeatureUsagesOk(); !ok || len(*u) != 0 {
			t.Errorf("featureUsages = %v, want an empty list", role.FeatureUsages)
		}

		// Every role gets its own external id for its trust policy.
		other, _, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if other.GetRoleId() == roleID || other.GetAtlasAssumedRoleExternalId() == externalID {
			t.Errorf("two AWS roles share roleId or external id: %s/%s and %s/%s", roleID, externalID, other.GetRoleId(), other.GetAtlasAssumedRoleExternalId())
		}

		got, resp, err := cpa.GetCloudProviderAccess(sdkCtx, g, roleID).Execute()
		wantStatus(t, "get AWS role", resp, err, http.StatusOK)
		if got.GetRoleId() != roleID || got.GetAtlasAWSAccountArn() != role.GetAtlasAWSAccountArn() ||
			got.GetAtlasAssumedRoleExternalId() != externalID || !got.GetCreatedDate().Equal(role.GetCreatedDate()) || got.AuthorizedDate != nil {
			t.Errorf("get = %+v, want the created role %+v", got, role)
		}

		arn := testIAMRoleARN
		authorized, resp, err := cpa.AuthorizeProviderAccessRole(sdkCtx, g, roleID,
			&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute()
		wantStatus(t, "authorize AWS role", resp, err, http.StatusOK)
		if authorized.GetRoleId() != roleID || authorized.GetIamAssumedRoleArn() != arn || authorized.GetAtlasAssumedRoleExternalId() != externalID {
			t.Errorf("authorize answered roleId %q, iamAssumedRoleArn %q, external id %q; want %q, %q, %q",
				authorized.GetRoleId(), authorized.GetIamAssumedRoleArn(), authorized.GetAtlasAssumedRoleExternalId(), roleID, arn, externalID)
		}
		wantTimeWithin(t, "authorizedDate", authorized.AuthorizedDate, role.GetCreatedDate(), time.Now())

		got, _, err = cpa.GetCloudProviderAccess(sdkCtx, g, roleID).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetIamAssumedRoleArn() != arn || !got.GetAuthorizedDate().Equal(authorized.GetAuthorizedDate()) {
			t.Errorf("after authorize, get shows iamAssumedRoleArn %q authorizedDate %v; want %q %v",
				got.GetIamAssumedRoleArn(), got.AuthorizedDate, arn, authorized.GetAuthorizedDate())
		}

		resp, err = cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "AWS", roleID).Execute()
		wantStatus(t, "deauthorize AWS role", resp, err, http.StatusNoContent)
		_, _, err = cpa.GetCloudProviderAccess(sdkCtx, g, roleID).Execute()
		wantAPIError(t, "get deauthorized role", err, http.StatusNotFound, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")
		list, _, err := cpa.ListCloudProviderAccess(sdkCtx, g).Execute()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range list.GetAwsIamRoles() {
			ids = append(ids, r.GetRoleId())
		}
		if !slices.Equal(ids, []string{other.GetRoleId()}) {
			t.Errorf("after deauthorizing %s, awsIamRoles = %v, want only %s", roleID, ids, other.GetRoleId())
		}
	})
}

func TestSDKCloudProviderAccessAzure(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		cpa := c.CloudProviderAccessApi
		g := c.srv.GroupID
		appID, principalID, tenantID := uuid.NewString(), uuid.NewString(), uuid.NewString()
		before := time.Now()

		role, resp, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{
			ProviderName: "AZURE", AtlasAzureAppId: &appID, ServicePrincipalId: &principalID, TenantId: &tenantID,
		}).Execute()
		wantStatus(t, "create Azure role", resp, err, http.StatusOK)
		id := role.GetId()
		wantObjectID(t, "Azure role _id", id)
		if role.GetProviderName() != "AZURE" || role.GetAtlasAzureAppId() != appID || role.GetServicePrincipalId() != principalID || role.GetTenantId() != tenantID {
			t.Errorf("create answered provider %q app %q principal %q tenant %q; want AZURE %q %q %q",
				role.GetProviderName(), role.GetAtlasAzureAppId(), role.GetServicePrincipalId(), role.GetTenantId(), appID, principalID, tenantID)
		}
		if role.RoleId != nil {
			t.Errorf("Azure role has roleId %q; Azure roles are identified by _id", role.GetRoleId())
		}
		wantTimeWithin(t, "createdDate", role.CreatedDate, before, time.Now())
		wantTimeWithin(t, "lastUpdatedDate", role.LastUpdatedDate, before, time.Now())
		if u, ok := role.GetFeatureUsagesOk(); !ok || len(*u) != 0 {
			t.Errorf("featureUsages = %v, want an empty list", role.FeatureUsages)
		}

		got, resp, err := cpa.GetCloudProviderAccess(sdkCtx, g, id).Execute()
		wantStatus(t, "get Azure role", resp, err, http.StatusOK)
		if got.GetId() != id || got.GetServicePrincipalId() != principalID || got.GetTenantId() != tenantID || got.GetAtlasAzureAppId() != appID {
			t.Errorf("get = %+v, want the created role", got)
		}

		// Authorizing records the (possibly new) service principal.
		principal2, tenant2 := uuid.NewString(), uuid.NewString()
		authorized, resp, err := cpa.AuthorizeProviderAccessRole(sdkCtx, g, id, &admin.CloudProviderAccessRoleRequestUpdate{
			ProviderName: "AZURE", AtlasAzureAppId: &appID, ServicePrincipalId: &principal2, TenantId: &tenant2,
		}).Execute()
		wantStatus(t, "authorize Azure role", resp, err, http.StatusOK)
		if authorized.GetId() != id || authorized.GetServicePrincipalId() != principal2 || authorized.GetTenantId() != tenant2 {
			t.Errorf("authorize answered _id %q principal %q tenant %q; want %q %q %q",
				authorized.GetId(), authorized.GetServicePrincipalId(), authorized.GetTenantId(), id, principal2, tenant2)
		}
		if authorized.GetLastUpdatedDate().Before(role.GetLastUpdatedDate()) {
			t.Errorf("lastUpdatedDate went back from %v to %v", role.GetLastUpdatedDate(), authorized.GetLastUpdatedDate())
		}
		got, _, err = cpa.GetCloudProviderAccess(sdkCtx, g, id).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetServicePrincipalId() != principal2 || got.GetTenantId() != tenant2 {
			t.Errorf("after authorize, get shows principal %q tenant %q; want %q %q", got.GetServicePrincipalId(), got.GetTenantId(), principal2, tenant2)
		}

		// The provider in the path must be the role's.
		_, err = cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "AWS", id).Execute()
		wantAPIError(t, "deauthorize Azure role as AWS", err, http.StatusNotFound, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")
		if _, _, err := cpa.GetCloudProviderAccess(sdkCtx, g, id).Execute(); err != nil {
			t.Fatalf("the role is gone after a deauthorize naming the wrong provider: %v", err)
		}

		resp, err = cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "AZURE", id).Execute()
		wantStatus(t, "deauthorize Azure role", resp, err, http.StatusNoContent)
		_, _, err = cpa.GetCloudProviderAccess(sdkCtx, g, id).Execute()
		wantAPIError(t, "get deauthorized role", err, http.StatusNotFound, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", id)
	})
}

var gcpServiceAccountPattern = regexp.MustCompile(`^mongodb-atlas-[0-9a-z]{16}@p-[0-9a-z]{24}\.iam\.gserviceaccount\.com$`)

func TestSDKCloudProviderAccessGCP(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		cpa := c.CloudProviderAccessApi
		g := c.srv.GroupID
		before := time.Now()

		role, resp, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{ProviderName: "GCP"}).Execute()
		wantStatus(t, "create GCP role", resp, err, http.StatusOK)
		roleID := role.GetRoleId()
		wantObjectID(t, "roleId", roleID)
		if role.GetProviderName() != "GCP" {
			t.Errorf("providerName = %q, want GCP", role.GetProviderName())
		}
		if sa := role.GetGcpServiceAccountForAtlas(); !gcpServiceAccountPattern.MatchString(sa) {
			t.Errorf("gcpServiceAccountForAtlas = %q, want %s", sa, gcpServiceAccountPattern)
		}
		if role.GetStatus() != "COMPLETE" {
			t.Errorf("status = %q, want COMPLETE", role.GetStatus())
		}
		wantTimeWithin(t, "createdDate", role.CreatedDate, before, time.Now())

		other, _, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{ProviderName: "GCP"}).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if other.GetGcpServiceAccountForAtlas() == role.GetGcpServiceAccountForAtlas() {
			t.Errorf("two GCP roles share the service account %s", role.GetGcpServiceAccountForAtlas())
		}

		got, resp, err := cpa.GetCloudProviderAccess(sdkCtx, g, roleID).Execute()
		wantStatus(t, "get GCP role", resp, err, http.StatusOK)
		if got.GetRoleId() != roleID || got.GetGcpServiceAccountForAtlas() != role.GetGcpServiceAccountForAtlas() || got.GetStatus() != "COMPLETE" {
			t.Errorf("get = %+v, want the created role %+v", got, role)
		}

		// A GCP role needs no authorization: a bucket can use it at once.
		c.createBucket(t, g, gcpBucket("gcp-exports", roleID))

		resp, err = cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "GCP", other.GetRoleId()).Execute()
		wantStatus(t, "deauthorize GCP role", resp, err, http.StatusNoContent)
		_, _, err = cpa.GetCloudProviderAccess(sdkCtx, g, other.GetRoleId()).Execute()
		wantAPIError(t, "get deauthorized role", err, http.StatusNotFound, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")
	})
}

func TestSDKListCloudProviderAccess(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		cpa := c.CloudProviderAccessApi
		g := c.srv.GroupID

		list, resp, err := cpa.ListCloudProviderAccess(sdkCtx, g).Execute()
		wantStatus(t, "list roles of a new project", resp, err, http.StatusOK)
		if list.AwsIamRoles == nil || list.AzureServicePrincipals == nil || list.GcpServiceAccounts == nil {
			t.Errorf("empty list = %+v, want all three arrays present", list)
		}
		if n := len(list.GetAwsIamRoles()) + len(list.GetAzureServicePrincipals()) + len(list.GetGcpServiceAccounts()); n != 0 {
			t.Errorf("a new project lists %d roles, want 0", n)
		}

		aws1 := c.awsRole(t, g, true)
		aws2 := c.awsRole(t, g, false)
		azure, tenant := c.azureRole(t, g, true)
		gcp := c.gcpRole(t, g)

		list, _, err = cpa.ListCloudProviderAccess(sdkCtx, g).Execute()
		if err != nil {
			t.Fatal(err)
		}
		var awsIDs, azureIDs, gcpIDs []string
		for _, r := range list.GetAwsIamRoles() {
			awsIDs = append(awsIDs, r.GetRoleId())
			if r.GetProviderName() != "AWS" {
				t.Errorf("awsIamRoles holds a %s role", r.GetProviderName())
			}
			wantAuthorized := r.GetRoleId() == aws1
			if (r.AuthorizedDate != nil) != wantAuthorized || (r.GetIamAssumedRoleArn() == testIAMRoleARN) != wantAuthorized {
				t.Errorf("listed AWS role %s: authorizedDate %v iamAssumedRoleArn %q; authorized should be %v",
					r.GetRoleId(), r.AuthorizedDate, r.GetIamAssumedRoleArn(), wantAuthorized)
			}
		}
		for _, r := range list.GetAzureServicePrincipals() {
			azureIDs = append(azureIDs, r.GetId())
			if r.GetProviderName() != "AZURE" || r.GetTenantId() != tenant {
				t.Errorf("listed Azure role: provider %q tenant %q, want AZURE %q", r.GetProviderName(), r.GetTenantId(), tenant)
			}
		}
		for _, r := range list.GetGcpServiceAccounts() {
			gcpIDs = append(gcpIDs, r.GetRoleId())
			if r.GetProviderName() != "GCP" || r.GetStatus() != "COMPLETE" || !gcpServiceAccountPattern.MatchString(r.GetGcpServiceAccountForAtlas()) {
				t.Errorf("listed GCP role: %+v", r)
			}
		}
		if !slices.Equal(sortedIDs(awsIDs...), sortedIDs(aws1, aws2)) {
			t.Errorf("awsIamRoles = %v, want %v", awsIDs, []string{aws1, aws2})
		}
		if !slices.Equal(azureIDs, []string{azure}) {
			t.Errorf("azureServicePrincipals = %v, want [%s]", azureIDs, azure)
		}
		if !slices.Equal(gcpIDs, []string{gcp}) {
			t.Errorf("gcpServiceAccounts = %v, want [%s]", gcpIDs, gcp)
		}
	})
}

// TestSDKFeatureUsages checks that a role lists one EXPORT_SNAPSHOT usage
// per bucket that uses it, in get and list, and none once the buckets are
// deleted.
func TestSDKFeatureUsages(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		cpa := c.CloudProviderAccessApi
		g := c.srv.GroupID
		aws := c.awsRole(t, g, true)
		unused := c.awsRole(t, g, true)
		gcp := c.gcpRole(t, g)
		azure, _ := c.azureRole(t, g, true)

		b1 := c.createBucket(t, g, awsBucket("usage-one", aws)).GetId()
		b2 := c.createBucket(t, g, awsBucket("usage-two", aws)).GetId()
		b3 := c.createBucket(t, g, gcpBucket("usage-gcs", gcp)).GetId()
		b4 := c.createBucket(t, g, azureBucket("https://usageaccount.blob.core.windows.net/usage", azure)).GetId()

		// getUsages reads a role and returns its usages, through the SDK
		// model (featureType, groupId) and the raw body (exportBucketId).
		getUsages := func(roleID string) []string {
			t.Helper()
			role, _, err := cpa.GetCloudProviderAccess(sdkCtx, g, roleID).Execute()
			if err != nil {
				t.Fatalf("get role %s: %v", roleID, err)
			}
			for _, u := range role.GetFeatureUsages() {
				if u.GetFeatureType() != "EXPORT_SNAPSHOT" || u.FeatureId.GetGroupId() != g {
					t.Errorf("role %s: SDK reads featureType %q groupId %q, want EXPORT_SNAPSHOT %s", roleID, u.GetFeatureType(), u.FeatureId.GetGroupId(), g)
				}
			}
			var raw rawRole
			c.lastBody(t, &raw)
			ids := exportUsages(t, raw, g)
			if len(ids) != len(role.GetFeatureUsages()) {
				t.Errorf("role %s: the SDK sees %d usages, the body has %d", roleID, len(role.GetFeatureUsages()), len(ids))
			}
			return ids
		}
		for _, tc := range []struct {
			role string
			want []string
		}{
			{aws, sortedIDs(b1, b2)}, {unused, nil}, {gcp, []string{b3}}, {azure, []string{b4}},
		} {
			if got := getUsages(tc.role); !slices.Equal(got, tc.want) {
				t.Errorf("role %s: featureUsages name buckets %v, want %v", tc.role, got, tc.want)
			}
		}

		// The list shows the same usages.
		if _, _, err := cpa.ListCloudProviderAccess(sdkCtx, g).Execute(); err != nil {
			t.Fatal(err)
		}
		var list struct {
			AWS   []rawRole `json:"awsIamRoles"`
			Azure []rawRole `json:"azureServicePrincipals"`
			GCP   []rawRole `json:"gcpServiceAccounts"`
		}
		c.lastBody(t, &list)
		usageCount := map[string]int{}
		for _, roles := range [][]rawRole{list.AWS, list.Azure, list.GCP} {
			for _, r := range roles {
				for _, id := range exportUsages(t, r, g) {
					usageCount[id]++
				}
			}
		}
		for _, b := range []string{b1, b2, b3, b4} {
			if usageCount[b] != 1 {
				t.Errorf("the role list names bucket %s in %d usages, want 1", b, usageCount[b])
			}
		}

		for _, b := range []string{b1, b3, b4} {
			if _, err := c.CloudBackupsApi.DeleteExportBucket(sdkCtx, g, b).Execute(); err != nil {
				t.Fatalf("delete bucket %s: %v", b, err)
			}
		}
		if got := getUsages(aws); !slices.Equal(got, []string{b2}) {
			t.Errorf("after deleting %s, the AWS role's usages are %v, want [%s]", b1, got, b2)
		}
		if _, err := c.CloudBackupsApi.DeleteExportBucket(sdkCtx, g, b2).Execute(); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{aws, gcp, azure} {
			role, _, err := cpa.GetCloudProviderAccess(sdkCtx, g, r).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if u, ok := role.GetFeatureUsagesOk(); !ok || len(*u) != 0 {
				t.Errorf("role %s after its buckets were deleted: featureUsages = %v, want an empty list", r, role.FeatureUsages)
			}
		}
	})
}

// ---------------------------------------------------------------- export buckets

func TestSDKExportBucketCreateGet(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		g := c.srv.GroupID
		aws := c.awsRole(t, g, true)
		gcp := c.gcpRole(t, g)
		azure, tenant := c.azureRole(t, g, true)

		withPrivate := awsBucket("private-exports", aws)
		withPrivate.RequirePrivateNetworking = admin.PtrBool(true)
		azureContainer := azureBucket("https://acmebackups.blob.core.windows.net/nightly", azure)
		// tenantId is deprecated and ignored: the role's tenant is used.
		azureContainer.TenantId = admin.PtrString(uuid.NewString())
		azureNoContainer := azureBucket("https://acmebackups.blob.core.windows.net", azure)
		azureNoContainer.BucketName = admin.PtrString("weekly")

		cases := []struct {
			name   string
			req    *admin.DiskBackupSnapshotExportBucketRequest
			want   bucketFields // as created, without _id
			region string       // shown by get only
		}{
			{"AWS", awsBucket("export-bucket", aws),
				bucketFields{BucketName: "export-bucket", CloudProvider: "AWS", IAMRoleID: aws, RequirePrivateNetworking: "false"}, "us-east-1"},
			{"AWS requirePrivateNetworking", withPrivate,
				bucketFields{BucketName: "private-exports", CloudProvider: "AWS", IAMRoleID: aws, RequirePrivateNetworking: "true"}, "us-east-1"},
			{"AZURE container in serviceUrl", azureContainer,
				bucketFields{BucketName: "nightly", CloudProvider: "AZURE", RoleID: azure, ServiceURL: "https://acmebackups.blob.core.windows.net/nightly", TenantID: tenant}, ""},
			{"AZURE bucketName", azureNoContainer,
				bucketFields{BucketName: "weekly", CloudProvider: "AZURE", RoleID: azure, ServiceURL: "https://acmebackups.blob.core.windows.net", TenantID: tenant}, ""},
			{"GCP", gcpBucket("gcs-exports", gcp),
				bucketFields{BucketName: "gcs-exports", CloudProvider: "GCP", RoleID: gcp}, ""},
		}
		ids := map[string]bool{}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				b, resp, err := c.CloudBackupsApi.CreateExportBucket(sdkCtx, g, tc.req).Execute()
				wantStatus(t, "create", resp, err, http.StatusOK)
				wantObjectID(t, "_id", b.GetId())
				if ids[b.GetId()] {
					t.Errorf("_id %s was given to an earlier bucket", b.GetId())
				}
				ids[b.GetId()] = true
				want := tc.want
				want.ID = b.GetId()
				if got := fieldsOf(b); got != want {
					t.Errorf("create answered\n%+v\nwant\n%+v", got, want)
				}
				if b.Links != nil {
					t.Errorf("create answered links %v; buckets carry none", b.GetLinks())
				}

				got, resp, err := c.CloudBackupsApi.GetExportBucket(sdkCtx, g, b.GetId()).Execute()
				wantStatus(t, "get", resp, err, http.StatusOK)
				want.Region = tc.region
				if f := fieldsOf(got); f != want {
					t.Errorf("get answered\n%+v\nwant\n%+v", f, want)
				}
				if got.Links != nil {
					t.Errorf("get answered links %v; buckets carry none", got.GetLinks())
				}
			})
		}

		// Duplicates (same name and role) are accepted, as in Atlas.
		dup := c.createBucket(t, g, awsBucket("export-bucket", aws))
		if ids[dup.GetId()] {
			t.Errorf("the duplicate bucket reuses _id %s", dup.GetId())
		}
	})
}

// linkHrefs maps rel to href, failing on a repeated rel.
func linkHrefs(t *testing.T, links []admin.Link) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range links {
		if _, dup := m[l.GetRel()]; dup {
			t.Errorf("two links with rel %q", l.GetRel())
		}
		m[l.GetRel()] = l.GetHref()
	}
	return m
}

// wantPageLink checks that href points at the bucket list of the project
// on the server, for the given page and page size.
func wantPageLink(t *testing.T, rel, href, base string, pageNum, itemsPerPage int) {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Errorf("%s href %q: %v", rel, href, err)
		return
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != base {
		t.Errorf("%s href %q does not address %s", rel, href, base)
	}
	q := u.Query()
	if q.Get("pageNum") != fmt.Sprint(pageNum) || q.Get("itemsPerPage") != fmt.Sprint(itemsPerPage) || q.Get("includeCount") != "true" {
		t.Errorf("%s href %q, want pageNum=%d itemsPerPage=%d includeCount=true", rel, href, pageNum, itemsPerPage)
	}
}

func TestSDKExportBucketList(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		g := c.srv.GroupID
		api := c.CloudBackupsApi

		empty, resp, err := api.ListExportBuckets(sdkCtx, g).Execute()
		wantStatus(t, "list of a new project", resp, err, http.StatusOK)
		if empty.Results == nil || len(empty.Results) != 0 || empty.GetTotalCount() != 0 || empty.TotalCount == nil {
			t.Errorf("empty list = results %v totalCount %v, want [] and 0", empty.Results, empty.TotalCount)
		}

		aws := c.awsRole(t, g, true)
		gcp := c.gcpRole(t, g)
		azure, _ := c.azureRole(t, g, true)
		created := map[string]bucketFields{}
		for i := range 7 {
			var req *admin.DiskBackupSnapshotExportBucketRequest
			switch i % 3 {
			case 0:
				req = awsBucket(fmt.Sprintf("aws-bucket-%d", i), aws)
			case 1:
				req = gcpBucket(fmt.Sprintf("gcs-bucket-%d", i), gcp)
			case 2:
				req = azureBucket(fmt.Sprintf("https://listaccount.blob.core.windows.net/container-%d", i), azure)
			}
			b := c.createBucket(t, g, req)
			created[b.GetId()] = fieldsOf(b)
		}

		all, _, err := api.ListExportBuckets(sdkCtx, g).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if all.GetTotalCount() != 7 || len(all.GetResults()) != 7 {
			t.Fatalf("list: totalCount %d, %d results; want 7 and 7", all.GetTotalCount(), len(all.GetResults()))
		}
		for _, b := range all.GetResults() {
			want, ok := created[b.GetId()]
			if !ok {
				t.Errorf("listed bucket %s was never created", b.GetId())
			} else if got := fieldsOf(&b); got != want {
				t.Errorf("listed bucket\n%+v\nwant, as created (no region)\n%+v", got, want)
			}
		}
		base := c.srv.URL + "/api/atlas/v2/groups/" + g + "/backup/exportBuckets"
		if links := linkHrefs(t, all.GetLinks()); len(links) != 1 || links["self"] != base+"?includeCount=true&pageNum=1&itemsPerPage=100" {
			t.Errorf("single page links = %v, want only self %s?includeCount=true&pageNum=1&itemsPerPage=100", links, base)
		}

		// Pages of 3: 3 + 3 + 1, then an empty page past the end.
		seen := map[string]int{}
		for i, wantN := range []int{3, 3, 1, 0} {
			page := i + 1
			p, resp, err := api.ListExportBuckets(sdkCtx, g).ItemsPerPage(3).PageNum(page).Execute()
			wantStatus(t, fmt.Sprintf("list page %d", page), resp, err, http.StatusOK)
			if len(p.GetResults()) != wantN || p.GetTotalCount() != 7 {
				t.Errorf("page %d: %d results, totalCount %d; want %d and 7", page, len(p.GetResults()), p.GetTotalCount(), wantN)
			}
			for _, b := range p.GetResults() {
				seen[b.GetId()]++
			}
			links := linkHrefs(t, p.GetLinks())
			if got, want := links["self"], fmt.Sprintf("%s?includeCount=true&pageNum=%d&itemsPerPage=3", base, page); got != want {
				t.Errorf("page %d: self = %q, want %q", page, got, want)
			}
			next, hasNext := links["next"]
			if wantNext := page < 3; hasNext != wantNext {
				t.Errorf("page %d: next link present = %v, want %v (links %v)", page, hasNext, wantNext, links)
			} else if hasNext {
				if want := fmt.Sprintf("%s?includeCount=true&itemsPerPage=3&pageNum=%d", base, page+1); next != want {
					t.Errorf("page %d: next = %q, want %q", page, next, want)
				}
			}
			prev, hasPrev := links["previous"]
			if wantPrev := page > 1; hasPrev != wantPrev {
				t.Errorf("page %d: previous link present = %v, want %v (links %v)", page, hasPrev, wantPrev, links)
			} else if hasPrev {
				wantPageLink(t, "previous", prev, base, page-1, 3)
			}
			for rel := range links {
				if rel != "self" && rel != "next" && rel != "previous" {
					t.Errorf("page %d: unexpected link rel %q", page, rel)
				}
			}
		}
		if len(seen) != 7 {
			t.Errorf("the pages together hold %d distinct buckets, want all 7", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("bucket %s appears on %d pages", id, n)
			}
			if _, ok := created[id]; !ok {
				t.Errorf("paged bucket %s was never created", id)
			}
		}

		// Following next links from the first page visits every bucket once.
		visited := 0
		pageNum := 1
		for range 10 {
			p, _, err := api.ListExportBuckets(sdkCtx, g).ItemsPerPage(2).PageNum(pageNum).Execute()
			if err != nil {
				t.Fatal(err)
			}
			visited += len(p.GetResults())
			next, ok := linkHrefs(t, p.GetLinks())["next"]
			if !ok {
				break
			}
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fmt.Sscan(u.Query().Get("pageNum"), &pageNum); err != nil {
				t.Fatalf("next href %q has no pageNum", next)
			}
		}
		if visited != 7 {
			t.Errorf("following next links visited %d buckets, want 7", visited)
		}

		noCount, _, err := api.ListExportBuckets(sdkCtx, g).IncludeCount(false).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if noCount.TotalCount != nil || len(noCount.GetResults()) != 7 {
			t.Errorf("includeCount=false: totalCount %v, %d results; want no totalCount and 7 results", noCount.TotalCount, len(noCount.GetResults()))
		}
	})
}

func TestSDKExportBucketUpdate(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		g := c.srv.GroupID
		api := c.CloudBackupsApi
		aws := c.awsRole(t, g, true)
		b := c.createBucket(t, g, awsBucket("toggle-bucket", aws))

		for _, require := range []bool{true, false, true} {
			updated, resp, err := api.UpdateBackupExportBucket(sdkCtx, g, b.GetId(),
				&admin.UpdateRequirePrivateNetworkingRequest{RequirePrivateNetworking: require}).Execute()
			wantStatus(t, fmt.Sprintf("set requirePrivateNetworking %v", require), resp, err, http.StatusOK)
			got := awsFieldsOf(updated)
			got.Region = "" // the AWS detail shape may carry it
			if want := (bucketFields{ID: b.GetId(), BucketName: "toggle-bucket", CloudProvider: "AWS", IAMRoleID: aws, RequirePrivateNetworking: fmt.Sprint(require)}); got != want {
				t.Errorf("update answered\n%+v\nwant\n%+v", got, want)
			}
			read, _, err := api.GetExportBucket(sdkCtx, g, b.GetId()).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if read.GetRequirePrivateNetworking() != require || read.GetRegion() != "us-east-1" {
				t.Errorf("after update to %v, get shows requirePrivateNetworking %v region %q", require, read.GetRequirePrivateNetworking(), read.GetRegion())
			}
		}

		gcp := c.gcpRole(t, g)
		azure, _ := c.azureRole(t, g, true)
		for _, other := range []*admin.DiskBackupSnapshotExportBucketResponse{
			c.createBucket(t, g, gcpBucket("gcs-no-private", gcp)),
			c.createBucket(t, g, azureBucket("https://noprivate.blob.core.windows.net/container", azure)),
		} {
			_, _, err := api.UpdateBackupExportBucket(sdkCtx, g, other.GetId(),
				&admin.UpdateRequirePrivateNetworkingRequest{RequirePrivateNetworking: true}).Execute()
			wantAPIError(t, "private networking on a "+other.GetCloudProvider()+" bucket", err, http.StatusBadRequest, "PRIVATE_NETWORKING_NOT_SUPPORTED")
			read, _, err := api.GetExportBucket(sdkCtx, g, other.GetId()).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if read.RequirePrivateNetworking != nil && read.GetRequirePrivateNetworking() {
				t.Errorf("the refused update still turned on private networking for %s", other.GetCloudProvider())
			}
		}

		_, _, err := api.UpdateBackupExportBucket(sdkCtx, g, unknownID(), &admin.UpdateRequirePrivateNetworkingRequest{RequirePrivateNetworking: true}).Execute()
		wantAPIError(t, "update an unknown bucket", err, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND")
	})
}

func TestSDKExportBucketDelete(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		g := c.srv.GroupID
		api := c.CloudBackupsApi
		aws := c.awsRole(t, g, true)
		gone := c.createBucket(t, g, awsBucket("delete-me", aws)).GetId()
		kept := c.createBucket(t, g, awsBucket("keep-me", aws)).GetId()

		resp, err := api.DeleteExportBucket(sdkCtx, g, gone).Execute()
		wantStatus(t, "delete", resp, err, http.StatusNoContent)

		_, resp, err = api.GetExportBucket(sdkCtx, g, gone).Execute()
		wantAPIError(t, "get a deleted bucket", err, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND", gone)
		if resp == nil || resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Error-Code") != "EXPORT_BUCKET_NOT_FOUND" {
			t.Errorf("get a deleted bucket: response %v, want 404 with X-Error-Code EXPORT_BUCKET_NOT_FOUND", resp)
		}
		_, err = api.DeleteExportBucket(sdkCtx, g, gone).Execute()
		wantAPIError(t, "delete a deleted bucket", err, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND")

		list, _, err := api.ListExportBuckets(sdkCtx, g).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if list.GetTotalCount() != 1 || len(list.GetResults()) != 1 || list.GetResults()[0].GetId() != kept {
			t.Errorf("after delete, list = totalCount %d results %+v; want only %s", list.GetTotalCount(), list.GetResults(), kept)
		}
		if _, _, err := api.GetExportBucket(sdkCtx, g, kept).Execute(); err != nil {
			t.Errorf("the other bucket is gone too: %v", err)
		}
	})
}

// ---------------------------------------------------------------- errors

func TestSDKErrors(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		g := c.srv.GroupID
		api, cpa := c.CloudBackupsApi, c.CloudProviderAccessApi
		aws := c.awsRole(t, g, true)
		unauthorized := c.awsRole(t, g, false)
		gcp := c.gcpRole(t, g)
		azure, _ := c.azureRole(t, g, true)
		azureUnauthorized, _ := c.azureRole(t, g, false)
		inUse := c.createBucket(t, g, awsBucket("in-use", aws)).GetId()
		unknownGroup, unknownBucket, unknownRole := unknownID(), unknownID(), unknownID()

		privateGCP := gcpBucket("gcs-private", gcp)
		privateGCP.RequirePrivateNetworking = admin.PtrBool(true)
		azureBadName := azureBucket("https://acmebackups.blob.core.windows.net", azure)
		azureBadName.BucketName = admin.PtrString("Bad_Container")

		create := func(req *admin.DiskBackupSnapshotExportBucketRequest) func() error {
			return func() error { _, _, err := api.CreateExportBucket(sdkCtx, g, req).Execute(); return err }
		}
		cases := []struct {
			name   string
			call   func() error
			status int
			code   string
			params []string // checked when not nil
		}{
			{"unknown group: list buckets", func() error { _, _, err := api.ListExportBuckets(sdkCtx, unknownGroup).Execute(); return err },
				404, "GROUP_NOT_FOUND", []string{unknownGroup}},
			{"unknown group: create bucket", func() error {
				_, _, err := api.CreateExportBucket(sdkCtx, unknownGroup, awsBucket("some-bucket", aws)).Execute()
				return err
			}, 404, "GROUP_NOT_FOUND", []string{unknownGroup}},
			{"unknown group: list roles", func() error { _, _, err := cpa.ListCloudProviderAccess(sdkCtx, unknownGroup).Execute(); return err },
				404, "GROUP_NOT_FOUND", []string{unknownGroup}},
			{"unknown group: create role", func() error {
				_, _, err := cpa.CreateCloudProviderAccess(sdkCtx, unknownGroup, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
				return err
			}, 404, "GROUP_NOT_FOUND", []string{unknownGroup}},
			{"unknown group: get project", func() error { _, _, err := c.ProjectsApi.GetGroup(sdkCtx, unknownGroup).Execute(); return err },
				404, "GROUP_NOT_FOUND", []string{unknownGroup}},

			{"unknown bucket: get", func() error { _, _, err := api.GetExportBucket(sdkCtx, g, unknownBucket).Execute(); return err },
				404, "EXPORT_BUCKET_NOT_FOUND", []string{unknownBucket}},
			{"unknown bucket: delete", func() error { _, err := api.DeleteExportBucket(sdkCtx, g, unknownBucket).Execute(); return err },
				404, "EXPORT_BUCKET_NOT_FOUND", []string{unknownBucket}},

			{"bucket with an unauthorized role", create(awsBucket("not-yet", unauthorized)),
				400, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_AUTHORIZED", []string{unauthorized}},
			{"bucket with an unauthorized Azure role", create(azureBucket("https://acmebackups.blob.core.windows.net/pending", azureUnauthorized)),
				400, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_AUTHORIZED", []string{azureUnauthorized}},
			{"AWS bucket with a GCP role", create(awsBucket("wrong-provider", gcp)),
				400, "CLOUD_PROVIDER_ACCESS_ROLE_PROVIDER_MISMATCH", nil},
			{"GCP bucket with an AWS role", create(gcpBucket("wrong-provider", aws)),
				400, "CLOUD_PROVIDER_ACCESS_ROLE_PROVIDER_MISMATCH", nil},
			{"Azure bucket with a GCP role", create(azureBucket("https://acmebackups.blob.core.windows.net/wrong", gcp)),
				400, "CLOUD_PROVIDER_ACCESS_ROLE_PROVIDER_MISMATCH", nil},
			{"AWS bucket with an unknown role", create(awsBucket("no-role", unknownRole)),
				404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", []string{unknownRole}},
			{"GCP bucket with an unknown role", create(gcpBucket("no-role", unknownRole)),
				404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", []string{unknownRole}},
			{"get an unknown role", func() error { _, _, err := cpa.GetCloudProviderAccess(sdkCtx, g, unknownRole).Execute(); return err },
				404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", []string{unknownRole}},
			{"authorize an unknown role", func() error {
				arn := testIAMRoleARN
				_, _, err := cpa.AuthorizeProviderAccessRole(sdkCtx, g, unknownRole, &admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute()
				return err
			}, 404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", nil},
			{"deauthorize an unknown role", func() error {
				_, err := cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "AWS", unknownRole).Execute()
				return err
			},
				404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", nil},

			{"invalid S3 bucket name", create(awsBucket("Invalid_Bucket", aws)), 400, "EXPORT_BUCKET_NAME_INVALID", []string{"Invalid_Bucket"}},
			{"S3 bucket name formatted as an IP address", create(awsBucket("192.168.5.4", aws)), 400, "EXPORT_BUCKET_NAME_INVALID", []string{"192.168.5.4"}},
			{"invalid GCS bucket name", create(gcpBucket("goog-exports", gcp)), 400, "EXPORT_BUCKET_NAME_INVALID", []string{"goog-exports"}},
			{"invalid Azure container name", create(azureBadName), 400, "EXPORT_BUCKET_NAME_INVALID", []string{"Bad_Container"}},
			{"Azure serviceUrl on another host", create(azureBucket("https://acmebackups.blob.core.example.com/nightly", azure)),
				400, "INVALID_AZURE_SERVICE_URL", []string{"https://acmebackups.blob.core.example.com/nightly"}},
			{"Azure serviceUrl over http", create(azureBucket("http://acmebackups.blob.core.windows.net/nightly", azure)),
				400, "INVALID_AZURE_SERVICE_URL", nil},
			{"Azure serviceUrl with an invalid container", create(azureBucket("https://acmebackups.blob.core.windows.net/Bad_Container", azure)),
				400, "INVALID_AZURE_SERVICE_URL", nil},
			// requirePrivateNetworking is an AWS-only attribute: the GCP create
			// schema has no such attribute, and unknown attributes are refused.
			{"private networking on a GCP bucket", create(privateGCP), 400, "INVALID_ATTRIBUTE", []string{"requirePrivateNetworking"}},

			{"deauthorize a role still used by a bucket", func() error { _, err := cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "AWS", aws).Execute(); return err },
				400, "CLOUD_PROVIDER_ACCESS_ROLE_IN_USE", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantAPIError(t, tc.name, tc.call(), tc.status, tc.code, tc.params...)
			})
		}

		// Refused calls changed nothing: one bucket, and the role in use
		// is still there, authorized, used by that bucket.
		list, _, err := api.ListExportBuckets(sdkCtx, g).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if list.GetTotalCount() != 1 || list.GetResults()[0].GetId() != inUse {
			t.Errorf("after the refused calls the project has %d buckets (%+v), want only %s", list.GetTotalCount(), list.GetResults(), inUse)
		}
		role, _, err := cpa.GetCloudProviderAccess(sdkCtx, g, aws).Execute()
		if err != nil {
			t.Fatalf("the role whose deauthorization was refused is gone: %v", err)
		}
		if role.AuthorizedDate == nil || len(role.GetFeatureUsages()) != 1 {
			t.Errorf("role in use after refused deauthorize: authorizedDate %v, %d usages; want authorized with 1 usage", role.AuthorizedDate, len(role.GetFeatureUsages()))
		}
		// Once its bucket is gone, the role can be deauthorized.
		if _, err := api.DeleteExportBucket(sdkCtx, g, inUse).Execute(); err != nil {
			t.Fatal(err)
		}
		resp, err := cpa.DeauthorizeProviderAccessRole(sdkCtx, g, "AWS", aws).Execute()
		wantStatus(t, "deauthorize the role after deleting its bucket", resp, err, http.StatusNoContent)
	})
}

// ---------------------------------------------------------------- projects

func TestSDKProjects(t *testing.T) {
	forEachAuth(t, func(t *testing.T, c *sdkClient) {
		projects := c.ProjectsApi
		srv := c.srv

		list, resp, err := projects.ListGroups(sdkCtx).Execute()
		wantStatus(t, "list projects", resp, err, http.StatusOK)
		if list.GetTotalCount() != 1 || len(list.GetResults()) != 1 || list.GetResults()[0].GetId() != srv.GroupID || list.GetResults()[0].GetOrgId() != srv.OrgID {
			t.Fatalf("list = totalCount %d results %+v; want the one project %s of org %s", list.GetTotalCount(), list.GetResults(), srv.GroupID, srv.OrgID)
		}

		before := time.Now()
		p, resp, err := projects.CreateGroup(sdkCtx, &admin.Group{Name: "Analytics exports", OrgId: srv.OrgID}).Execute()
		wantStatus(t, "create project", resp, err, http.StatusCreated)
		id := p.GetId()
		wantObjectID(t, "project id", id)
		if id == srv.GroupID || p.GetName() != "Analytics exports" || p.GetOrgId() != srv.OrgID || p.GetClusterCount() != 0 {
			t.Errorf("create answered %+v; want a new project named %q in org %s with no clusters", p, "Analytics exports", srv.OrgID)
		}
		created := p.GetCreated()
		wantTimeWithin(t, "created", &created, before, time.Now())

		got, resp, err := projects.GetGroup(sdkCtx, id).Execute()
		wantStatus(t, "get project", resp, err, http.StatusOK)
		if got.GetId() != id || got.GetName() != p.GetName() || got.GetOrgId() != srv.OrgID || !got.GetCreated().Equal(created) {
			t.Errorf("get = %+v, want the created project %+v", got, p)
		}

		list, _, err = projects.ListGroups(sdkCtx).Execute()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range list.GetResults() {
			ids = append(ids, r.GetId())
		}
		if list.GetTotalCount() != 2 || !slices.Equal(sortedIDs(ids...), sortedIDs(srv.GroupID, id)) {
			t.Errorf("after create, list = totalCount %d ids %v; want 2: %s and %s", list.GetTotalCount(), ids, srv.GroupID, id)
		}

		// The new project holds its own roles and buckets.
		role := c.awsRole(t, id, true)
		b := c.createBucket(t, id, awsBucket("analytics-exports", role))
		buckets, _, err := c.CloudBackupsApi.ListExportBuckets(sdkCtx, id).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if buckets.GetTotalCount() != 1 || buckets.GetResults()[0].GetId() != b.GetId() {
			t.Errorf("new project's buckets = %+v, want only %s", buckets.GetResults(), b.GetId())
		}
		if read, _, err := c.CloudBackupsApi.GetExportBucket(sdkCtx, id, b.GetId()).Execute(); err != nil || read.GetIamRoleId() != role {
			t.Errorf("get the new project's bucket: %+v, %v", read, err)
		}
		others, _, err := c.CloudBackupsApi.ListExportBuckets(sdkCtx, srv.GroupID).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if others.GetTotalCount() != 0 {
			t.Errorf("the first project lists %d buckets, want 0: buckets belong to their project", others.GetTotalCount())
		}
		_, _, err = c.CloudBackupsApi.GetExportBucket(sdkCtx, srv.GroupID, b.GetId()).Execute()
		wantAPIError(t, "get a bucket through another project", err, http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND")
		_, _, err = c.CloudBackupsApi.CreateExportBucket(sdkCtx, srv.GroupID, awsBucket("cross-project", role)).Execute()
		wantAPIError(t, "use a role of another project", err, http.StatusNotFound, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND", role)

		_, resp, err = projects.CreateGroup(sdkCtx, &admin.Group{Name: "Analytics exports", OrgId: srv.OrgID}).Execute()
		wantAPIError(t, "create a project with a taken name", err, http.StatusConflict, "DUPLICATE_GROUP_NAME")
		if resp == nil || resp.StatusCode != http.StatusConflict {
			t.Errorf("duplicate project: response %v, want 409", resp)
		}
		list, _, err = projects.ListGroups(sdkCtx).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if list.GetTotalCount() != 2 {
			t.Errorf("after the refused duplicate, %d projects, want 2", list.GetTotalCount())
		}
	})
}

// ---------------------------------------------------------------- token revocation

// TestSDKTokenRevocation revokes a service account's access token and
// checks that the next API call made with it is refused with 401, while
// other tokens keep working.
func TestSDKTokenRevocation(t *testing.T) {
	revokers := []struct {
		name   string
		revoke func(t *testing.T, srv *testserver.Server, tok *auth.Token) error
	}{
		{"clientcredentials.RevokeToken", func(t *testing.T, srv *testserver.Server, tok *auth.Token) error {
			cfg := oauthConfig(srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
			revokeCtx := context.WithValue(sdkCtx, auth.HTTPClient, &http.Client{Transport: apitest.Validating(t, nil)})
			return cfg.RevokeToken(revokeCtx, tok)
		}},
		{"POST /api/oauth/revoke", func(t *testing.T, srv *testserver.Server, tok *auth.Token) error {
			api := &apitest.Client{BaseURL: srv.URL, Validate: true}
			if got := api.RevokeToken(t, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret, tok.AccessToken); got.Status != http.StatusOK {
				return fmt.Errorf("revoke: HTTP %s", got)
			}
			return nil
		}},
	}
	for _, r := range revokers {
		t.Run(r.name, func(t *testing.T) {
			srv := testserver.NewServer(t)
			// A client whose token we hold, as Terraform holds its token to
			// revoke it at exit.
			cfg := oauthConfig(srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
			tokenCtx := context.WithValue(sdkCtx, auth.HTTPClient, &http.Client{Transport: apitest.Validating(t, nil)})
			source := cfg.TokenSource(tokenCtx)
			tok, err := source.Token()
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if tok.AccessToken == "" || tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 50*time.Minute {
				t.Fatalf("token = type %q expiry %v, want a Bearer token valid for about an hour", tok.TokenType, tok.Expiry)
			}
			client, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(auth.NewClient(tokenCtx, source)))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := client.CloudBackupsApi.ListExportBuckets(sdkCtx, srv.GroupID).Execute(); err != nil {
				t.Fatalf("call before revocation: %v", err)
			}

			// Revoking with another client's credentials is refused and
			// leaves the token usable.
			wrong := oauthConfig(srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret+"x")
			if err := wrong.RevokeToken(tokenCtx, tok); err == nil {
				t.Errorf("revoking with a wrong client secret succeeded")
			}
			if _, _, err := client.CloudBackupsApi.ListExportBuckets(sdkCtx, srv.GroupID).Execute(); err != nil {
				t.Fatalf("call after a refused revocation: %v", err)
			}

			if err := r.revoke(t, srv, tok); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			for _, call := range []struct {
				name string
				do   func() (*http.Response, error)
			}{
				{"list buckets", func() (*http.Response, error) {
					_, resp, err := client.CloudBackupsApi.ListExportBuckets(sdkCtx, srv.GroupID).Execute()
					return resp, err
				}},
				{"list roles", func() (*http.Response, error) {
					_, resp, err := client.CloudProviderAccessApi.ListCloudProviderAccess(sdkCtx, srv.GroupID).Execute()
					return resp, err
				}},
				{"list projects", func() (*http.Response, error) {
					_, resp, err := client.ProjectsApi.ListGroups(sdkCtx).Execute()
					return resp, err
				}},
			} {
				resp, err := call.do()
				if err == nil {
					t.Errorf("%s with a revoked token succeeded", call.name)
					continue
				}
				if resp == nil || resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s with a revoked token: %v, want HTTP 401", call.name, err)
					continue
				}
				if apiErr, ok := admin.AsError(err); !ok || apiErr.GetError() != http.StatusUnauthorized || apiErr.GetErrorCode() == "" {
					t.Errorf("%s with a revoked token: the SDK reads ApiError %+v, want error 401 with an errorCode", call.name, apiErr)
				}
			}

			// Revoking is idempotent, and a fresh token works.
			if err := r.revoke(t, srv, tok); err != nil {
				t.Errorf("revoking again: %v", err)
			}
			fresh := oauthClient(t, srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
			if _, _, err := fresh.CloudBackupsApi.ListExportBuckets(sdkCtx, srv.GroupID).Execute(); err != nil {
				t.Errorf("call with a fresh token after revocation: %v", err)
			}
		})
	}
}
