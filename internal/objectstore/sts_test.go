//go:build !snapexport_localbuckets

package objectstore_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/fakests"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

const (
	roleARN    = "arn:aws:iam::123456789012:role/atlas-export"
	externalID = "8b2d0f3e-4c1a-4d7e-9f6b-2a5c3e1d0b9f"
)

func awsRole(arn, ext string) *snapexport.CloudProviderAccessRole {
	return &snapexport.CloudProviderAccessRole{ID: "c0123456789abcdef012345c", Provider: snapexport.AWS,
		IAMAssumedRoleARN: arn, ExternalID: ext, AtlasAWSAccountARN: "arn:aws:iam::000000000000:root"}
}

// stsSetup is gofakes3 plus a fake STS, and Stores assuming roles there.
func stsSetup(t *testing.T, mutate ...func(*objectstore.Config)) (*testservices.S3Server, *fakests.Server, *objectstore.Stores) {
	t.Helper()
	s3 := testservices.S3(t, "export-bucket")
	sts := testservices.STS(t, testservices.STSRole{ARN: roleARN, ExternalID: externalID})
	sts.AllowCaller(testAccessKey)
	cfg := s3Config(s3.URL)
	cfg.AWS.STSEndpoint = sts.URL
	for _, m := range mutate {
		m(&cfg)
	}
	return s3, sts, newStores(t, cfg)
}

func TestAssumeRoleCallsSTS(t *testing.T) {
	_, sts, stores := stsSetup(t)
	role := awsRole(roleARN, externalID)
	if err := stores.AssumeRole(bg(), role); err != nil {
		t.Fatal(err)
	}
	calls := sts.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d STS calls", len(calls))
	}
	c := calls[0]
	if c.RoleARN != roleARN || c.ExternalID != externalID || c.CallerAccessKeyID != testAccessKey ||
		c.DurationSeconds != 3600 || c.RoleSessionName != "snapexport-"+role.ID || c.ErrorCode != "" {
		t.Errorf("call %+v", c)
	}
}

func TestAssumeRoleRefused(t *testing.T) {
	s3, sts, stores := stsSetup(t)
	for _, role := range []*snapexport.CloudProviderAccessRole{
		awsRole(roleARN, "00000000-0000-0000-0000-000000000000"),           // wrong external id
		awsRole("arn:aws:iam::123456789012:role/someone-else", externalID), // unknown role
	} {
		err, took := timed(func() error { return stores.AssumeRole(bg(), role) })
		e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
		if want := "Atlas cannot assume the specified role (" + role.IAMAssumedRoleARN + ")."; e.Detail != want {
			t.Errorf("detail %q, want %q", e.Detail, want)
		}
		if took > time.Second {
			t.Errorf("took %s", took)
		}

		// The permission check of a bucket with that role fails the same
		// way, naming the role id, before any S3 request.
		err = stores.CheckPermission(bg(), objectstore.Target{Provider: snapexport.AWS, Bucket: "export-bucket", Region: "us-east-1", Role: role})
		e = requireCode(t, err, http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
		if e.Detail != "Atlas cannot assume the specified role ("+role.ID+")." {
			t.Errorf("detail %q", e.Detail)
		}
	}
	if n := len(s3.Requests()); n != 0 {
		t.Errorf("%d S3 requests", n)
	}
	for _, c := range sts.Calls() {
		if c.ErrorCode != "AccessDenied" {
			t.Errorf("STS answered %q", c.ErrorCode)
		}
	}
	// A role that was never authorized has no ARN.
	e := requireCode(t, stores.AssumeRole(bg(), awsRole("", externalID)), http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
	requireDetail(t, e, "c0123456789abcdef012345c")
}

func TestAssumeRoleWithBadServerCredentials(t *testing.T) {
	_, _, stores := stsSetup(t, func(c *objectstore.Config) { c.AWS.AccessKeyID = "AKIDUNKNOWN" })
	err := stores.AssumeRole(bg(), awsRole(roleARN, externalID))
	requireCode(t, err, http.StatusBadRequest, snapexport.CodeInvalidAWSCredentials)
}

func TestS3CallsCarryTemporaryCredentials(t *testing.T) {
	s3, sts, stores := stsSetup(t)
	role := awsRole(roleARN, externalID)
	tgt := objectstore.Target{Provider: snapexport.AWS, Bucket: "export-bucket", Role: role}
	for i := 0; i < 3; i++ {
		region, err := stores.Verify(bg(), tgt)
		if err != nil {
			t.Fatal(err)
		}
		tgt.Region = region
	}
	if n := s3.ObjectSize(t, "export-bucket", objectstore.PermissionCheckKey); n != 0 {
		t.Errorf("size %d", n)
	}
	// Credentials last an hour: one AssumeRole for every call.
	if n := len(sts.Calls()); n != 1 {
		t.Errorf("%d STS calls, want 1", n)
	}
	reqs := s3.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d S3 requests, want 4", len(reqs))
	}
	for _, r := range reqs {
		creds, ok := sts.Lookup(r.AccessKeyID)
		if !ok || !strings.HasPrefix(r.AccessKeyID, "ASIA") {
			t.Fatalf("S3 request signed with %q, not issued by STS", r.AccessKeyID)
		}
		if r.SecurityToken != creds.SessionToken || creds.RoleARN != roleARN {
			t.Errorf("S3 request carried token %q for %s", r.SecurityToken, creds.RoleARN)
		}
	}
}

func TestTemporaryCredentialsAreRefreshedBeforeExpiry(t *testing.T) {
	s3, sts, stores := stsSetup(t, func(c *objectstore.Config) { c.AWS.RefreshWindow = 10 * time.Minute })
	// Issued credentials expire within the refresh window: each use renews them.
	sts.SetLifetime(9 * time.Minute)
	tgt := objectstore.Target{Provider: snapexport.AWS, Bucket: "export-bucket", Region: "us-east-1", Role: awsRole(roleARN, externalID)}
	for i := 0; i < 3; i++ {
		if err := stores.CheckPermission(bg(), tgt); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sts.Calls()); n != 3 {
		t.Errorf("%d STS calls, want 3", n)
	}
	keys := map[string]bool{}
	for _, r := range s3.Requests() {
		if _, ok := sts.Lookup(r.AccessKeyID); !ok {
			t.Errorf("unknown key %q", r.AccessKeyID)
		}
		keys[r.AccessKeyID] = true
	}
	if len(keys) != 3 {
		t.Errorf("%d distinct keys over 3 checks, want 3", len(keys))
	}

	// Credentials outside the window are kept.
	sts.SetLifetime(11 * time.Minute)
	before := len(sts.Calls())
	for i := 0; i < 3; i++ {
		if err := stores.CheckPermission(bg(), tgt); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sts.Calls()) - before; n != 1 {
		t.Errorf("%d STS calls, want 1", n)
	}
}

func TestAssumeRoleRetriesTransientSTSFaults(t *testing.T) {
	_, sts, stores := stsSetup(t)
	sts.FailNext(2)
	if err := stores.AssumeRole(bg(), awsRole(roleARN, externalID)); err != nil {
		t.Fatal(err)
	}
	if n := len(sts.Calls()); n != 3 {
		t.Errorf("%d STS calls, want 3", n)
	}
}

func TestAssumeRoleNoopWithoutSTS(t *testing.T) {
	s3 := testservices.S3(t)
	stores := newStores(t, s3Config(s3.URL))
	if err := stores.AssumeRole(bg(), awsRole(roleARN, externalID)); err != nil {
		t.Fatal(err)
	}
}

func TestAssumeRoleUnreachableSTS(t *testing.T) {
	dead := testservices.DeadEndpoint(t)
	_, _, stores := stsSetup(t, func(c *objectstore.Config) { c.AWS.STSEndpoint = dead })
	err := stores.AssumeRole(bg(), awsRole(roleARN, externalID))
	e := requireCode(t, err, http.StatusBadGateway, snapexport.CodeObjectStoreUnreachable)
	requireDetail(t, e, "Cannot reach the S3-compatible store", "AssumeRole")
}
