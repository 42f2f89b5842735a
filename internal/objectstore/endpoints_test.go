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

// configFor points provider p's compatible mode at endpoint.
func configFor(p snapexport.CloudProvider, endpoint string, timeout time.Duration) objectstore.Config {
	cfg := objectstore.Config{Timeout: timeout, Retry: testRetry, LocalDir: unusedLocalDir}
	switch p {
	case snapexport.AWS:
		cfg.AWS = s3Config(endpoint).AWS
	case snapexport.Azure:
		cfg.Azure = objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: testservices.AzuriteAccountURL(endpoint),
			AccountName: testservices.AzuriteAccount, AccountKey: testservices.AzuriteKey}
	case snapexport.GCP:
		cfg.GCP = objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: endpoint + "/storage/v1/"}
	}
	return cfg
}

func target(p snapexport.CloudProvider, bucket string) objectstore.Target {
	t := objectstore.Target{Provider: p, Bucket: bucket}
	if p == snapexport.AWS {
		t.Region = "us-east-1"
	}
	return t
}

func TestDeadEndpointIsUnreachable(t *testing.T) {
	for _, p := range snapexport.CloudProviders {
		t.Run(string(p), func(t *testing.T) {
			endpoint := testservices.DeadEndpoint(t)
			stores := newStores(t, configFor(p, endpoint, 3*time.Second))
			err, took := timed(func() error { return stores.CheckPermission(bg(), target(p, "dead-bucket")) })
			e := requireCode(t, err, http.StatusBadGateway, snapexport.CodeObjectStoreUnreachable)
			requireDetail(t, e, "dead-bucket", "-compatible store")
			if took > 3*time.Second {
				t.Errorf("took %s, more than the timeout", took)
			}
		})
	}
}

func TestSlowEndpointTimesOut(t *testing.T) {
	const timeout = 700 * time.Millisecond
	for _, p := range snapexport.CloudProviders {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			endpoint := testservices.SlowEndpoint(t)
			stores := newStores(t, configFor(p, endpoint, timeout))
			err, took := timed(func() error { return stores.CheckPermission(bg(), target(p, "slow-bucket")) })
			e := requireCode(t, err, http.StatusGatewayTimeout, snapexport.CodeObjectStoreTimeout)
			requireDetail(t, e, "slow-bucket", "-compatible store", timeout.String())
			if took < timeout/2 || took > timeout+2*time.Second {
				t.Errorf("took %s with a timeout of %s", took, timeout)
			}
		})
	}
	// Region lookup is bounded the same way.
	t.Run("GetBucketLocation", func(t *testing.T) {
		t.Parallel()
		endpoint := testservices.SlowEndpoint(t)
		stores := newStores(t, configFor(snapexport.AWS, endpoint, timeout))
		err, took := timed(func() error { _, err := stores.BucketRegion(bg(), awsTarget("slow-bucket")); return err })
		e := requireCode(t, err, http.StatusGatewayTimeout, snapexport.CodeObjectStoreTimeout)
		requireDetail(t, e, "GetBucketLocation")
		if took > timeout+2*time.Second {
			t.Errorf("took %s", took)
		}
	})
}
