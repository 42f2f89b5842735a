//go:build !snapexport_localbuckets

package objectstore_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

// Cloud mode, exercised only where it reaches nothing but loopback: STS
// through the endpoint override, and the role checks made before any call.

func TestCloudModeAssumeRoleThroughSTSOverride(t *testing.T) {
	sts := testservices.STS(t, testservices.STSRole{ARN: roleARN, ExternalID: externalID})
	stores := newStores(t, objectstore.Config{
		AWS: objectstore.AWSConfig{Mode: objectstore.ModeCloud, AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
			STSEndpoint: sts.URL, SessionDuration: 2 * time.Hour},
		LocalDir: unusedLocalDir,
		Retry:    testRetry,
	})
	if err := stores.AssumeRole(bg(), awsRole(roleARN, externalID)); err != nil {
		t.Fatal(err)
	}
	if calls := sts.Calls(); len(calls) != 1 || calls[0].DurationSeconds != 7200 || calls[0].CallerAccessKeyID != testAccessKey {
		t.Errorf("calls %+v", calls)
	}
	e := requireCode(t, stores.AssumeRole(bg(), awsRole(roleARN, "wrong")), http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
	if e.Detail != "Atlas cannot assume the specified role ("+roleARN+")." || len(e.Params) != 1 || e.Params[0] != roleARN {
		t.Errorf("%q %q", e.Detail, e.Params)
	}
}

func TestCloudModeAzureRoleChecks(t *testing.T) {
	stores := newStores(t, objectstore.Config{
		Azure:    objectstore.AzureConfig{Mode: objectstore.ModeCloud, ClientID: "11111111-1111-1111-1111-111111111111", ClientSecret: "s"},
		LocalDir: unusedLocalDir,
	})
	noTenant := &snapexport.CloudProviderAccessRole{ID: "6a793f752c88faeba59bba59", Provider: snapexport.Azure,
		ServicePrincipalID: "22222222-2222-2222-2222-222222222222"}
	otherApp := &snapexport.CloudProviderAccessRole{ID: "6a793f752c88faeba59bba5a", Provider: snapexport.Azure,
		ServicePrincipalID: "22222222-2222-2222-2222-222222222222", TenantID: "33333333-3333-3333-3333-333333333333",
		AtlasAzureAppID: "44444444-4444-4444-4444-444444444444"}
	for _, role := range []*snapexport.CloudProviderAccessRole{noTenant, otherApp} {
		e := requireCode(t, stores.AssumeRole(bg(), role), http.StatusBadRequest, snapexport.CodeCannotAuthenticateServicePrincipal)
		if e.Detail != "Atlas cannot authenticate with the service principal (22222222-2222-2222-2222-222222222222)." {
			t.Errorf("detail %q", e.Detail)
		}
		tgt := objectstore.Target{Provider: snapexport.Azure, Bucket: "c1", ServiceURL: "https://acct.blob.core.windows.net/c1", Role: role}
		requireCode(t, stores.CheckPermission(bg(), tgt), http.StatusBadRequest, snapexport.CodeCannotAuthenticateServicePrincipal)
	}
}

func TestCloudModeGCPRoleWithoutServiceAccount(t *testing.T) {
	stores := newStores(t, objectstore.Config{GCP: objectstore.GCPConfig{Mode: objectstore.ModeCloud}, LocalDir: unusedLocalDir})
	role := &snapexport.CloudProviderAccessRole{ID: "6a793f752c88faeba59bba5b", Provider: snapexport.GCP}
	e := requireCode(t, stores.AssumeRole(bg(), role), http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
	requireDetail(t, e, role.ID)
	requireCode(t, stores.CheckPermission(bg(), objectstore.Target{Provider: snapexport.GCP, Bucket: "b1", Role: role}),
		http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
}

func TestTargetChecks(t *testing.T) {
	stores := newStores(t, objectstore.Config{LocalDir: t.TempDir()})
	for _, tgt := range []objectstore.Target{
		{Provider: "IBM", Bucket: "b"},
		{Provider: snapexport.AWS},
		{Provider: snapexport.AWS, Bucket: "b", Role: &snapexport.CloudProviderAccessRole{Provider: snapexport.GCP}},
	} {
		err := stores.CheckPermission(bg(), tgt)
		if err == nil || snapexport.ErrorCode(err) != "" {
			t.Errorf("%+v: %v, want a plain (internal) error", tgt, err)
		}
	}
}

func TestUnreadableServerCredentials(t *testing.T) {
	stores := newStores(t, objectstore.Config{
		GCP:      objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: "http://127.0.0.1:1", CredentialsFile: "/nonexistent/sa.json"},
		LocalDir: unusedLocalDir,
	})
	e := requireCode(t, stores.CheckPermission(bg(), gcsTarget("b1")), http.StatusBadRequest, snapexport.CodeInvalidGoogleCloudCredentials)
	requireDetail(t, e, "b1")
}
