//go:build snapexport_localbuckets

package objectstore_test

import (
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// TestLocalBucketsBuildRefusesOtherModes: built without the SDKs, a
// configuration that needs one fails at once, naming the field, the mode
// and the build tag, instead of failing at the first bucket.
func TestLocalBucketsBuildRefusesOtherModes(t *testing.T) {
	for _, c := range []struct {
		field, mode string
		cfg         objectstore.Config
	}{
		{"AWS.Mode", "s3-compatible", objectstore.Config{LocalDir: t.TempDir(), AWS: objectstore.AWSConfig{
			Mode: objectstore.ModeS3Compatible, Endpoint: "http://127.0.0.1:9000", AccessKeyID: "minio", SecretAccessKey: "minio-secret"}}},
		{"AWS.Mode", "cloud", objectstore.Config{LocalDir: t.TempDir(), AWS: objectstore.AWSConfig{Mode: objectstore.ModeCloud}}},
		{"Azure.Mode", "azure-compatible", objectstore.Config{LocalDir: t.TempDir(), Azure: objectstore.AzureConfig{
			Mode: objectstore.ModeAzureCompatible, Endpoint: "http://127.0.0.1:10000/devstoreaccount1", AccountName: "devstoreaccount1", AccountKey: "a2V5"}}},
		{"GCP.Mode", "gcs-compatible", objectstore.Config{LocalDir: t.TempDir(), GCP: objectstore.GCPConfig{
			Mode: objectstore.ModeGCSCompatible, Endpoint: "http://127.0.0.1:4443"}}},
	} {
		stores, err := objectstore.New(c.cfg)
		if err == nil {
			stores.Close()
			t.Errorf("%s %s: New succeeded in a build without the SDKs", c.field, c.mode)
			continue
		}
		for _, part := range []string{c.field, c.mode, "-tags " + objectstore.LocalBucketsTag} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s %s: error %q does not name %q", c.field, c.mode, err, part)
			}
		}
	}
}

// TestLocalBucketsBuildAuthorizesRoles: local buckets act for no role, so
// authorizing a role of any provider contacts nothing and succeeds, as in
// the full build.
func TestLocalBucketsBuildAuthorizesRoles(t *testing.T) {
	stores := newStores(t, objectstore.Config{LocalDir: t.TempDir()})
	for _, role := range []*snapexport.CloudProviderAccessRole{
		{ID: "aws-role", Provider: snapexport.AWS, IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/atlas-export"},
		{ID: "azure-role", Provider: snapexport.Azure, TenantID: "00000000-0000-0000-0000-000000000001"},
		{ID: "gcp-role", Provider: snapexport.GCP, GCPServiceAccount: "atlas@example.iam.gserviceaccount.com"},
	} {
		if err := stores.AssumeRole(bg(), role); err != nil {
			t.Errorf("%s: %v", role.Provider, err)
		}
	}
}
