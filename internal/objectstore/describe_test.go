//go:build !snapexport_localbuckets

package objectstore_test

import (
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/objectstore"
)

func TestDescribe(t *testing.T) {
	stores := newStores(t, objectstore.Config{
		AWS: objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: "http://127.0.0.1:9000", AccessKeyID: "minio",
			SecretAccessKey: "very-secret", STSEndpoint: "http://127.0.0.1:9000"},
		Azure: objectstore.AzureConfig{Mode: objectstore.ModeCloud, ClientID: "00000000-0000-0000-0000-000000000001", ClientSecret: "az-secret"},
		GCP:   objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: "http://127.0.0.1:4443"},
	})
	lines := stores.Describe()
	want := []string{
		"AWS: s3-compatible: http://127.0.0.1:9000 (path-style), each role assumed through STS at http://127.0.0.1:9000 with static credentials minio, default region us-east-1",
		"AZURE: cloud: each bucket's serviceUrl, signed in to each role's tenant as application 00000000-0000-0000-0000-000000000001 (client secret)",
		"GCP: gcs-compatible: http://127.0.0.1:4443/storage/v1/, unauthenticated",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Describe:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, "secret") && strings.Contains(l, "very-secret") || strings.Contains(l, "az-secret") {
			t.Errorf("secret in %q", l)
		}
	}
	local := newStores(t, objectstore.Config{LocalDir: "/data/objectstore"})
	if got := local.Describe(); len(got) != 3 || got[0] != "AWS: local: /data/objectstore/aws (region us-east-1)" {
		t.Errorf("%q", got)
	}
}
