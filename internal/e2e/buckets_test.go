package e2e_test

// Export buckets reached for real: every provider's bucket creation,
// through the official SDK (digest and OAuth), against a server whose
// object-store layer talks to a protocol server on loopback — gofakes3 for
// S3 (with the fake STS for role assumption), Azurite for Azure Blob
// Storage, fake-gcs-server for Cloud Storage — and every failure path
// (missing bucket, denied, unreachable, slow) with its errorCode, in
// bounded time, storing nothing. Responses are validated against our
// OpenAPI document as in every e2e test.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// The server's own static S3 credentials in these tests; no answer may
// ever show the secret.
const (
	s3AccessKey = "AKIDE2ESNAPEXPORT"
	s3SecretKey = "e2e-s3-secret-never-shown"
)

const (
	// storeTimeout is the object-store Timeout of the failure tests.
	storeTimeout = 2 * time.Second
	// answerMargin is how much longer than storeTimeout the API may take
	// to answer a failure: a bound on the time, not a performance claim.
	// It is generous (the race detector on a loaded two-CPU machine has
	// been seen to take 4.5s to deliver an answer after the deadline) yet
	// below what the SDKs' own limits would give without the operation's
	// deadline: storeRetry.MaxAttempts × storeTimeout (12s) for S3 and
	// STS, a minute per Azure try, unbounded GCS upload retries.
	answerMargin = 6 * time.Second
)

// storeRetry retries quickly, so that failures stay fast.
var storeRetry = objectstore.RetryPolicy{MaxAttempts: 6, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}

func s3Compatible(endpoint string) objectstore.AWSConfig {
	return objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: endpoint, AccessKeyID: s3AccessKey, SecretAccessKey: s3SecretKey}
}

func azureCompatible(accountURL string) objectstore.AzureConfig {
	return objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: accountURL,
		AccountName: testservices.AzuriteAccount, AccountKey: testservices.AzuriteKey}
}

func gcsCompatible(endpoint string) objectstore.GCPConfig {
	return objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: endpoint}
}

// storeServer starts a server reaching buckets as cfg says (LocalDir left
// to the server: <data>/buckets) and returns an SDK client of mode for it.
func storeServer(t *testing.T, mode string, cfg objectstore.Config) *sdkClient {
	t.Helper()
	return storeServerWith(t, mode, cfg, testserver.Options{})
}

// storeServerWith is storeServer with more options of the server.
func storeServerWith(t *testing.T, mode string, cfg objectstore.Config, opts testserver.Options) *sdkClient {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Retry == (objectstore.RetryPolicy{}) {
		cfg.Retry = storeRetry
	}
	opts.ObjectStores = &cfg
	return newSDKClient(t, testserver.NewServer(t, opts), mode)
}

// uniqueName is a bucket or container name no other test uses: Azurite is
// shared by every test binary of a scripts/test run.
func uniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// azureServiceURL is a bucket's serviceUrl. In azure-compatible mode the
// account in it is not used: every container lives in the configured
// account.
func azureServiceURL(container string) string {
	return "https://" + testservices.AzuriteAccount + ".blob.core.windows.net/" + container
}

// lastBodyText is the raw body of c's last response.
func lastBodyText(c *sdkClient) string {
	c.bodies.mu.Lock()
	defer c.bodies.mu.Unlock()
	return string(c.bodies.last)
}

// bucketIDs lists the ids of the project's buckets (every provider).
func bucketIDs(t *testing.T, c *sdkClient) []string {
	t.Helper()
	list, resp, err := c.CloudBackupsApi.ListExportBuckets(sdkCtx, c.srv.GroupID).Execute()
	wantStatus(t, "list buckets", resp, err, http.StatusOK)
	var ids []string
	for _, b := range list.GetResults() {
		ids = append(ids, b.GetId())
	}
	return ids
}

// wantErrorAnswer checks a failed call beyond wantAPIError: X-Error-Code
// names the code, the detail names each of names, and neither the detail
// nor the whole body contains any secret.
func wantErrorAnswer(t *testing.T, c *sdkClient, what string, resp *http.Response, err error, status int, code string, names []string, secrets ...string) {
	t.Helper()
	wantAPIError(t, what, err, status, code)
	if resp == nil {
		t.Fatalf("%s: no response", what)
	}
	if got := resp.Header.Get("X-Error-Code"); got != code {
		t.Errorf("%s: X-Error-Code %q, want %q", what, got, code)
	}
	apiErr, _ := admin.AsError(err)
	detail := apiErr.GetDetail()
	t.Logf("%s: %d %s: %s", what, status, code, detail)
	for _, n := range names {
		if !strings.Contains(detail, n) {
			t.Errorf("%s: detail %q does not name %q", what, detail, n)
		}
	}
	body := lastBodyText(c)
	// Every store of these tests is on a local address: a client is never
	// told where the server reaches a store.
	if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "localhost") {
		t.Errorf("%s: the answer names a store's address: %s", what, body)
	}
	for _, s := range append(secrets, s3SecretKey, testservices.AzuriteKey, c.srv.APIKey.PrivateKey, c.srv.ServiceAccount.ClientSecret) {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("%s: the answer contains a secret: %s", what, body)
		}
	}
}

// ---------------------------------------------------------------- success

// TestBucketsS3Compatible creates AWS buckets in an S3-compatible store
// (gofakes3) with the server's static credentials.
func TestBucketsS3Compatible(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s3 := testservices.S3(t, "export-bucket", "paris-exports")
		// gofakes3 answers GetBucketLocation with an empty constraint, so
		// export-bucket gets the configured default region; the test front
		// answers eu-west-3 for paris-exports, as S3 does for a bucket of
		// that region.
		s3.SetRegion("paris-exports", "eu-west-3")
		aws := s3Compatible(s3.URL)
		aws.DefaultRegion = "ca-central-1"
		c := storeServer(t, mode, objectstore.Config{AWS: aws})
		g := c.srv.GroupID
		roleID := c.awsRole(t, g, true)

		for _, tc := range []struct{ bucket, region string }{
			{"export-bucket", "ca-central-1"},
			{"paris-exports", "eu-west-3"},
		} {
			before := len(s3.Requests())
			b := c.createBucket(t, g, awsBucket(tc.bucket, roleID))
			if _, ok := b.GetRegionOk(); ok {
				t.Errorf("create answered region %q; create carries none", b.GetRegion())
			}
			if got := s3.Object(t, tc.bucket, objectstore.PermissionCheckKey); len(got) != 0 {
				t.Errorf("%s/%s holds %d bytes, want an empty object", tc.bucket, objectstore.PermissionCheckKey, len(got))
			}
			got, resp, err := c.CloudBackupsApi.GetExportBucket(sdkCtx, g, b.GetId()).Execute()
			wantStatus(t, "get bucket", resp, err, http.StatusOK)
			if got.GetRegion() != tc.region {
				t.Errorf("%s: region %q, want %q", tc.bucket, got.GetRegion(), tc.region)
			}
			// GetBucketLocation, then PutObject, signed with the static key.
			reqs := s3.Requests()[before:]
			if len(reqs) != 2 || reqs[0].Method != http.MethodGet || !strings.Contains(reqs[0].Query, "location") ||
				reqs[1].Method != http.MethodPut || reqs[1].Path != "/"+tc.bucket+"/"+objectstore.PermissionCheckKey {
				t.Errorf("S3 requests %+v, want GetBucketLocation and PutObject", reqs)
			}
			for _, r := range reqs {
				if r.AccessKeyID != s3AccessKey {
					t.Errorf("S3 request %s %s signed by %q, want %q", r.Method, r.Path, r.AccessKeyID, s3AccessKey)
				}
			}
		}
	})
}

// forEachMode runs f once per SDK authentication mode.
func forEachMode(t *testing.T, f func(t *testing.T, mode string)) {
	t.Helper()
	for _, mode := range authModes {
		t.Run(mode, func(t *testing.T) { f(t, mode) })
	}
}

// TestBucketsS3AssumeRole has the server assume each role through STS
// (the fake STS on loopback) and reach S3 with the temporary credentials
// only: the S3 server refuses every other key.
func TestBucketsS3AssumeRole(t *testing.T) {
	const (
		trustedARN  = "arn:aws:iam::123456789012:role/atlas-export"
		unknownARN  = "arn:aws:iam::123456789012:role/not-trusting-atlas"
		otherExtARN = "arn:aws:iam::123456789012:role/trusts-another-external-id"
	)
	forEachMode(t, func(t *testing.T, mode string) {
		s3 := testservices.S3(t, "export-bucket")
		sts := testservices.STS(t)
		sts.AllowCaller(s3AccessKey)
		s3.SetAuthorizer(testservices.IssuedBy(sts))
		aws := s3Compatible(s3.URL)
		aws.STSEndpoint = sts.URL
		c := storeServer(t, mode, objectstore.Config{AWS: aws})
		g := c.srv.GroupID
		cpa := c.CloudProviderAccessApi

		role, resp, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
		wantStatus(t, "create AWS role", resp, err, http.StatusOK)
		roleID, externalID := role.GetRoleId(), role.GetAtlasAssumedRoleExternalId()
		// The customer's role trusts the server with the external id the
		// API gave it; another role trusts someone else's external id.
		sts.AddRole(trustedARN, externalID)
		sts.AddRole(otherExtARN, "00000000-0000-4000-8000-000000000000")

		authorize := func(id, arn string) (*admin.CloudProviderAccessRole, *http.Response, error) {
			return cpa.AuthorizeProviderAccessRole(sdkCtx, g, id,
				&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: admin.PtrString(arn)}).Execute()
		}
		authorized, resp, err := authorize(roleID, trustedARN)
		wantStatus(t, "authorize the trusted role", resp, err, http.StatusOK)
		if authorized.GetIamAssumedRoleArn() != trustedARN || authorized.AuthorizedDate == nil {
			t.Errorf("authorized role: iamAssumedRoleArn %q authorizedDate %v", authorized.GetIamAssumedRoleArn(), authorized.AuthorizedDate)
		}
		calls := sts.Calls()
		if len(calls) != 1 {
			t.Fatalf("%d STS calls on authorize, want 1", len(calls))
		}
		if c := calls[0]; c.RoleARN != trustedARN || c.ExternalID != externalID || c.RoleSessionName != "snapexport-"+roleID ||
			c.DurationSeconds != 3600 || c.CallerAccessKeyID != s3AccessKey || c.ErrorCode != "" {
			t.Errorf("AssumeRole call %+v, want the role's ARN and external id, signed with the server's key", c)
		}

		// The bucket check reaches S3 with the role's temporary credentials.
		c.createBucket(t, g, awsBucket("export-bucket", roleID))
		if got := s3.Object(t, "export-bucket", objectstore.PermissionCheckKey); len(got) != 0 {
			t.Errorf("permission check object has %d bytes", len(got))
		}
		reqs := s3.Requests()
		if len(reqs) != 2 {
			t.Errorf("%d S3 requests, want 2 (GetBucketLocation, PutObject)", len(reqs))
		}
		var secrets []string
		for _, r := range reqs {
			creds, ok := sts.Lookup(r.AccessKeyID)
			if !ok || !strings.HasPrefix(r.AccessKeyID, "ASIA") || r.SecurityToken != creds.SessionToken || creds.RoleARN != trustedARN {
				t.Errorf("S3 request %s %s carried key %q token %q, want temporary credentials of %s", r.Method, r.Path, r.AccessKeyID, r.SecurityToken, trustedARN)
			}
			secrets = append(secrets, creds.SecretAccessKey, creds.SessionToken)
		}

		// Refusals: an ARN STS does not let the server assume, and one
		// whose trust policy names another external id.
		for _, arn := range []string{unknownARN, otherExtARN} {
			other, _, err := cpa.CreateCloudProviderAccess(sdkCtx, g, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
			if err != nil {
				t.Fatal(err)
			}
			_, resp, err := authorize(other.GetRoleId(), arn)
			wantErrorAnswer(t, c, "authorize "+arn, resp, err, http.StatusBadRequest, "CANNOT_ASSUME_ROLE", []string{arn}, secrets...)
			wantAPIError(t, "authorize "+arn, err, http.StatusBadRequest, "CANNOT_ASSUME_ROLE", arn)
			last := sts.Calls()[len(sts.Calls())-1]
			if last.RoleARN != arn || last.ExternalID != other.GetAtlasAssumedRoleExternalId() || last.ErrorCode != "AccessDenied" {
				t.Errorf("STS call %+v, want %s with the new role's external id, refused", last, arn)
			}
			got, _, err := cpa.GetCloudProviderAccess(sdkCtx, g, other.GetRoleId()).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got.GetAuthorizedDateOk(); ok || got.IamAssumedRoleArn != nil {
				t.Errorf("refused role was recorded: authorizedDate %v iamAssumedRoleArn %q", got.AuthorizedDate, got.GetIamAssumedRoleArn())
			}
			_, _, err = c.CloudBackupsApi.CreateExportBucket(sdkCtx, g, awsBucket("export-bucket", other.GetRoleId())).Execute()
			wantAPIError(t, "bucket with the refused role", err, http.StatusBadRequest, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_AUTHORIZED")
		}

		// Expiry: credentials that expire within the refresh window (5m by
		// default) are renewed before use, so each use assumes the role
		// again, with fresh keys; credentials outside it are reused.
		sts.SetLifetime(4 * time.Minute)
		_, resp, err = authorize(roleID, trustedARN) // re-authorizing renews the role's credentials
		wantStatus(t, "re-authorize", resp, err, http.StatusOK)
		callsBefore, reqsBefore := len(sts.Calls()), len(s3.Requests())
		c.createBucket(t, g, awsBucket("export-bucket", roleID))
		if n := len(sts.Calls()) - callsBefore; n < 1 {
			t.Errorf("%d AssumeRole calls for a bucket check with credentials about to expire, want a renewal", n)
		}
		keys := map[string]bool{}
		for _, r := range s3.Requests()[reqsBefore:] {
			creds, ok := sts.Lookup(r.AccessKeyID)
			if !ok || !creds.Expiration.After(time.Now()) {
				t.Errorf("S3 request with key %q: issued %v, expires %s", r.AccessKeyID, ok, creds.Expiration)
			}
			keys[r.AccessKeyID] = true
			secrets = append(secrets, creds.SecretAccessKey, creds.SessionToken)
		}
		if len(keys) != 2 {
			t.Errorf("%d distinct keys over GetBucketLocation and PutObject, want 2 (each renewed)", len(keys))
		}
		sts.SetLifetime(0)
		_, resp, err = authorize(roleID, trustedARN)
		wantStatus(t, "re-authorize", resp, err, http.StatusOK)
		callsBefore = len(sts.Calls())
		c.createBucket(t, g, awsBucket("export-bucket", roleID))
		c.createBucket(t, g, awsBucket("export-bucket", roleID))
		if n := len(sts.Calls()) - callsBefore; n != 0 {
			t.Errorf("%d AssumeRole calls with credentials valid for an hour, want 0 (cached)", n)
		}
		for _, r := range s3.Requests() {
			if r.AccessKeyID == s3AccessKey {
				t.Errorf("S3 request %s %s signed with the server's own key", r.Method, r.Path)
			}
		}
	})
}

// TestBucketsAzurite creates an Azure bucket (a container) in Azurite.
func TestBucketsAzurite(t *testing.T) {
	endpoint := testservices.Azurite(t)
	forEachMode(t, func(t *testing.T, mode string) {
		name := uniqueName("e2e-azure")
		container := testservices.AzuriteContainer(t, endpoint, name)
		c := storeServer(t, mode, objectstore.Config{Azure: azureCompatible(testservices.AzuriteAccountURL(endpoint))})
		g := c.srv.GroupID
		roleID, tenantID := c.azureRole(t, g, true)

		b := c.createBucket(t, g, azureBucket(azureServiceURL(name), roleID))
		if b.GetBucketName() != name || b.GetTenantId() != tenantID || b.GetServiceUrl() != azureServiceURL(name) {
			t.Errorf("bucket %+v", fieldsOf(b))
		}
		size, ok := testservices.BlobSize(t, container, objectstore.PermissionCheckKey)
		if !ok || size != 0 {
			t.Errorf("blob %s: exists %v, %d bytes; want an empty blob", objectstore.PermissionCheckKey, ok, size)
		}
		got, resp, err := c.CloudBackupsApi.GetExportBucket(sdkCtx, g, b.GetId()).Execute()
		wantStatus(t, "get bucket", resp, err, http.StatusOK)
		if _, ok := got.GetRegionOk(); ok {
			t.Errorf("Azure bucket has region %q", got.GetRegion())
		}
	})
}

// TestBucketsGCS creates a GCP bucket in fake-gcs-server.
func TestBucketsGCS(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		gcs := testservices.GCS(t, "gcs-exports")
		c := storeServer(t, mode, objectstore.Config{GCP: gcsCompatible(gcs.URL)})
		g := c.srv.GroupID
		roleID := c.gcpRole(t, g)

		b := c.createBucket(t, g, gcpBucket("gcs-exports", roleID))
		if b.GetBucketName() != "gcs-exports" || b.GetRoleId() != roleID {
			t.Errorf("bucket %+v", fieldsOf(b))
		}
		if got := gcs.Object(t, "gcs-exports", objectstore.PermissionCheckKey); len(got) != 0 {
			t.Errorf("permission check object has %d bytes", len(got))
		}
		inserts := 0
		for _, r := range gcs.Requests() {
			if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/upload/storage/v1/b/gcs-exports/o") {
				inserts++
			}
		}
		if inserts != 1 {
			t.Errorf("%d objects.insert requests, want 1: %+v", inserts, gcs.Requests())
		}
	})
}

// TestBucketsLocalByDefault: with no object-store configuration every
// provider's bucket is a folder under <data>/buckets, created on demand,
// and the permission check file appears there.
func TestBucketsLocalByDefault(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		dir := t.TempDir()
		srv := testserver.NewServer(t, testserver.Options{DataDir: dir})
		c := newSDKClient(t, srv, mode)
		g := srv.GroupID
		awsRoleID := c.awsRole(t, g, true)
		azureRoleID, _ := c.azureRole(t, g, true)
		gcpRoleID := c.gcpRole(t, g)

		aws := c.createBucket(t, g, awsBucket("local-aws", awsRoleID))
		c.createBucket(t, g, azureBucket(azureServiceURL("local-azure"), azureRoleID))
		c.createBucket(t, g, gcpBucket("local-gcp", gcpRoleID))
		for _, p := range []string{"aws/local-aws", "azure/local-azure", "gcp/local-gcp"} {
			file := filepath.Join(dir, "buckets", filepath.FromSlash(p), filepath.FromSlash(objectstore.PermissionCheckKey))
			info, err := os.Stat(file)
			if err != nil {
				t.Errorf("permission check file: %v", err)
				continue
			}
			if info.Size() != 0 {
				t.Errorf("%s has %d bytes", file, info.Size())
			}
		}
		got, _, err := c.CloudBackupsApi.GetExportBucket(sdkCtx, g, aws.GetId()).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetRegion() != objectstore.DefaultAWSRegion {
			t.Errorf("local AWS bucket region %q, want %q", got.GetRegion(), objectstore.DefaultAWSRegion)
		}
	})
}

// ---------------------------------------------------------------- failures

// storeFault is one way of failing to reach a bucket.
type storeFault struct {
	name   string
	status int
	code   string
}

var storeFaults = []storeFault{
	{"missing", http.StatusBadRequest, snapexport.CodeBucketNotFound},
	{"denied", http.StatusBadRequest, snapexport.CodeBucketAccessDenied},
	{"unreachable", http.StatusBadGateway, snapexport.CodeObjectStoreUnreachable},
	{"slow", http.StatusGatewayTimeout, snapexport.CodeObjectStoreTimeout},
}

// faultySetup is a store configuration for provider that fails as f says
// for bucket, and a way to tell whether anything was written to the
// bucket (nil where there is no bucket to look at).
func faultySetup(t *testing.T, provider string, f storeFault, bucket string) (objectstore.Config, func() bool) {
	t.Helper()
	cfg := objectstore.Config{Timeout: storeTimeout, Retry: storeRetry}
	var endpoint string
	var written func() bool
	switch f.name {
	case "unreachable":
		endpoint = testservices.DeadEndpoint(t)
	case "slow":
		endpoint = testservices.SlowEndpoint(t)
	}
	switch provider {
	case "AWS":
		switch f.name {
		case "missing":
			endpoint = testservices.S3(t).URL
		case "denied":
			// The role may look the bucket up but not write to it (no
			// s3:PutObject).
			s3 := testservices.S3(t, bucket)
			endpoint = testservices.StartFaultProxy(t, s3.URL, func(_ int, r *http.Request) testservices.Verdict {
				if r.Method == http.MethodPut {
					return testservices.S3Error(http.StatusForbidden, "AccessDenied")
				}
				return testservices.Verdict{}
			}).URL
			written = func() bool { return s3.HasObject(bucket, objectstore.PermissionCheckKey) }
		}
		cfg.AWS = s3Compatible(endpoint)
	case "AZURE":
		switch f.name {
		case "missing":
			endpoint = testservices.Azurite(t)
		case "denied":
			azurite := testservices.Azurite(t)
			container := testservices.AzuriteContainer(t, azurite, bucket)
			endpoint = testservices.StartFaultProxy(t, azurite, func(int, *http.Request) testservices.Verdict {
				return testservices.AzureError(http.StatusForbidden, "AuthorizationPermissionMismatch")
			}).URL
			written = func() bool {
				_, ok := testservices.BlobSize(t, container, objectstore.PermissionCheckKey)
				return ok
			}
		}
		cfg.Azure = azureCompatible(testservices.AzuriteAccountURL(endpoint))
	case "GCP":
		switch f.name {
		case "missing":
			endpoint = testservices.GCS(t).URL
		case "denied":
			gcs := testservices.GCS(t, bucket)
			endpoint = testservices.StartFaultProxy(t, gcs.URL, func(int, *http.Request) testservices.Verdict {
				return testservices.GCSError(http.StatusForbidden, "forbidden")
			}).URL
			written = func() bool { return gcs.HasObject(bucket, objectstore.PermissionCheckKey) }
		}
		cfg.GCP = gcsCompatible(endpoint)
	}
	return cfg, written
}

// TestBucketsFailures creates a bucket of every provider in a store that
// fails in each way: the API answers the documented code within the
// object-store timeout plus a margin, names the bucket, shows no secret,
// and stores no bucket.
func TestBucketsFailures(t *testing.T) {
	for _, provider := range []string{"AWS", "AZURE", "GCP"} {
		for _, f := range storeFaults {
			for _, mode := range authModes {
				t.Run(provider+"/"+f.name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					bucket := uniqueName("e2e-" + f.name)
					cfg, written := faultySetup(t, provider, f, bucket)
					c := storeServer(t, mode, cfg)
					g := c.srv.GroupID
					var req *admin.DiskBackupSnapshotExportBucketRequest
					switch provider {
					case "AWS":
						req = awsBucket(bucket, c.awsRole(t, g, true))
					case "AZURE":
						roleID, _ := c.azureRole(t, g, true)
						req = azureBucket(azureServiceURL(bucket), roleID)
					case "GCP":
						req = gcpBucket(bucket, c.gcpRole(t, g))
					}
					// A bucket that works (the other providers are local),
					// so that "nothing stored" is checked against a list
					// that is not empty.
					if provider == "GCP" {
						c.createBucket(t, g, awsBucket("working-bucket", c.awsRole(t, g, true)))
					} else {
						c.createBucket(t, g, gcpBucket("working-bucket", c.gcpRole(t, g)))
					}
					before := bucketIDs(t, c)
					if len(before) != 1 {
						t.Fatalf("buckets before the failure: %v", before)
					}

					start := time.Now()
					_, resp, err := c.CloudBackupsApi.CreateExportBucket(sdkCtx, g, req).Execute()
					took := time.Since(start)
					t.Logf("answered after %s", took)
					wantErrorAnswer(t, c, "create "+provider+" bucket, "+f.name, resp, err, f.status, f.code, []string{bucket})
					if took > storeTimeout+answerMargin {
						t.Errorf("answered after %s, more than the timeout %s plus %s", took, storeTimeout, answerMargin)
					}
					if f.name == "slow" && took < storeTimeout {
						t.Errorf("answered after %s, before the timeout %s", took, storeTimeout)
					}
					if after := bucketIDs(t, c); !slices.Equal(after, before) {
						t.Errorf("buckets after the failure %v, before %v", after, before)
					}
					if written != nil && written() {
						t.Errorf("the permission check object was written despite the failure")
					}
				})
			}
		}
	}
}

// TestBucketsFailuresV1 checks one object-store failure through the legacy
// v1.0 path over raw HTTP, validated against the document like the rest.
func TestBucketsFailuresV1(t *testing.T) {
	cfg := objectstore.Config{AWS: s3Compatible(testservices.DeadEndpoint(t)), Timeout: storeTimeout, Retry: storeRetry}
	c := storeServer(t, "oauth", cfg)
	roleID := c.awsRole(t, c.srv.GroupID, true)
	tok, err := c.srv.Server.Auth.IssueToken(context.Background(),
		auth.Client{ID: c.srv.ServiceAccount.ClientID, Secret: c.srv.ServiceAccount.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"bucketName":"v1-dead","cloudProvider":"AWS","iamRoleId":"` + roleID + `"}`
	api := &apitest.Client{BaseURL: c.srv.URL, Auth: apitest.Bearer(tok.AccessToken), Validate: true}
	got := api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/api/atlas/v1.0/groups/" + c.srv.GroupID + "/backup/exportBuckets", Body: body})
	if got.Status != http.StatusBadGateway || got.Header.Get("X-Error-Code") != snapexport.CodeObjectStoreUnreachable ||
		!strings.Contains(string(got.Body), "v1-dead") || strings.Contains(string(got.Body), s3SecretKey) {
		t.Errorf("v1.0 create against a dead store: %d %s %s", got.Status, got.Header.Get("X-Error-Code"), got.Body)
	}
}

// TestAuthorizeFailures: authorizing an AWS role whose STS cannot be
// reached, or does not answer, fails with the object-store codes in
// bounded time and leaves the role unauthorized.
func TestAuthorizeFailures(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/atlas-export"
	for _, f := range storeFaults[2:] { // unreachable, slow
		for _, mode := range authModes {
			t.Run(f.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				sts := testservices.DeadEndpoint(t)
				if f.name == "slow" {
					sts = testservices.SlowEndpoint(t)
				}
				aws := s3Compatible(testservices.S3(t).URL)
				aws.STSEndpoint = sts
				c := storeServer(t, mode, objectstore.Config{AWS: aws, Timeout: storeTimeout, Retry: storeRetry})
				g := c.srv.GroupID
				roleID := c.awsRole(t, g, false)

				start := time.Now()
				_, resp, err := c.CloudProviderAccessApi.AuthorizeProviderAccessRole(sdkCtx, g, roleID,
					&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: admin.PtrString(arn)}).Execute()
				took := time.Since(start)
				t.Logf("answered after %s", took)
				wantErrorAnswer(t, c, "authorize with STS "+f.name, resp, err, f.status, f.code, []string{arn, "the S3-compatible store"})
				if took > storeTimeout+answerMargin || (f.name == "slow" && took < storeTimeout) {
					t.Errorf("answered after %s with a timeout of %s", took, storeTimeout)
				}
				got, _, err := c.CloudProviderAccessApi.GetCloudProviderAccess(sdkCtx, g, roleID).Execute()
				if err != nil {
					t.Fatal(err)
				}
				if got.AuthorizedDate != nil || got.IamAssumedRoleArn != nil {
					t.Errorf("role recorded as authorized after a failed authorize: %v %q", got.AuthorizedDate, got.GetIamAssumedRoleArn())
				}
			})
		}
	}
}
