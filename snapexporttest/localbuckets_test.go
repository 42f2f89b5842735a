//go:build snapexport_localbuckets

package snapexporttest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/snapexporttest"
)

// TestEmulatorsNeedTheSDKs: built without the SDKs, a server given an
// emulator does not start, and the error names the option and the build
// tag.
func TestEmulatorsNeedTheSDKs(t *testing.T) {
	for option, b := range map[string]*snapexporttest.Buckets{
		"Buckets.S3": {S3: &snapexporttest.S3Compatible{Endpoint: "http://127.0.0.1:9000", AccessKeyID: "minio", SecretAccessKey: "minio-secret"}},
		"Buckets.Azure": {Azure: &snapexporttest.AzureCompatible{Endpoint: "http://127.0.0.1:10000/devstoreaccount1",
			AccountName: "devstoreaccount1", AccountKey: "a2V5"}},
		"Buckets.GCS": {GCS: &snapexporttest.GCSCompatible{Endpoint: "http://127.0.0.1:4443"}},
	} {
		srv, err := snapexporttest.Start(context.Background(), snapexporttest.Options{Buckets: b})
		if err == nil {
			srv.Close()
			t.Errorf("%s: the server started in a build without the SDKs", option)
			continue
		}
		for _, part := range []string{option, "-tags snapexport_localbuckets"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q does not name %q", option, err, part)
			}
		}
	}
}
