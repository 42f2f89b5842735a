//go:build !snapexport_localbuckets

package objectstore_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

func azureConfig(endpoint string) objectstore.Config {
	return objectstore.Config{
		Azure: objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: testservices.AzuriteAccountURL(endpoint),
			AccountName: testservices.AzuriteAccount, AccountKey: testservices.AzuriteKey},
		Timeout: 10 * time.Second,
		Retry:   testRetry,
		// Only used by providers left local.
		LocalDir: unusedLocalDir,
	}
}

func azureTarget(endpoint, name string) objectstore.Target {
	return objectstore.Target{Provider: snapexport.Azure, Bucket: name,
		ServiceURL: "https://examplestorageaccount.blob.core.windows.net/" + name}
}

func TestAzurePermissionCheckWritesEmptyBlob(t *testing.T) {
	endpoint := testservices.Azurite(t)
	c := testservices.AzuriteContainer(t, endpoint, "export-container")
	stores := newStores(t, azureConfig(endpoint))

	region, err := stores.Verify(bg(), azureTarget(endpoint, "export-container"))
	if err != nil {
		t.Fatal(err)
	}
	if region != "" {
		t.Errorf("region %q, want none", region)
	}
	props, err := c.NewBlobClient(objectstore.PermissionCheckKey).GetProperties(bg(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if props.ContentLength == nil || *props.ContentLength != 0 {
		t.Errorf("content length %v, want 0", props.ContentLength)
	}

	// Streaming: a blob larger than one block goes up in blocks.
	b, err := stores.Open(bg(), azureTarget(endpoint, "export-container"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data := bytes.Repeat([]byte("snapexport"), 1<<20) // 10 MiB
	if err := b.WriteAll(bg(), "p/db/c/rs0.0.json.gz", data, nil); err != nil {
		t.Fatal(err)
	}
	r, err := b.NewReader(bg(), "p/db/c/rs0.0.json.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes", len(got))
	}
}

func TestAzureMissingContainer(t *testing.T) {
	endpoint := testservices.Azurite(t)
	stores := newStores(t, azureConfig(endpoint))
	err, took := timed(func() error { return stores.CheckPermission(bg(), azureTarget(endpoint, "no-such-container")) })
	e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	requireDetail(t, e, "no-such-container", "the Azure-compatible store", "Put Blob exported_snapshots/.permissioncheck")
	if took > 2*time.Second {
		t.Errorf("took %s", took)
	}
}

func TestAzureWrongKey(t *testing.T) {
	endpoint := testservices.Azurite(t)
	testservices.AzuriteContainer(t, endpoint, "wrong-key")
	cfg := azureConfig(endpoint)
	cfg.Azure.AccountKey = "d3JvbmcgYWNjb3VudCBrZXkgZm9yIHRoZSB0ZXN0cw=="
	proxy := testservices.StartFaultProxy(t, endpoint, func(int, *http.Request) testservices.Verdict { return testservices.Verdict{} })
	cfg.Azure.Endpoint = proxy.URL + "/" + testservices.AzuriteAccount
	stores := newStores(t, cfg)
	err, took := timed(func() error { return stores.CheckPermission(bg(), azureTarget(endpoint, "wrong-key")) })
	// Azurite answers a bad signature with 403 AuthorizationFailure, which
	// Azure itself uses for requests it refuses to an authenticated caller
	// (network rules, role assignments); Azure answers a bad signature with
	// AuthenticationFailed (injected below).
	e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketAccessDenied)
	requireDetail(t, e, "wrong-key", "AuthorizationFailure")
	if proxy.Count() != 1 || took > time.Second {
		t.Errorf("%d requests in %s, want 1 fast", proxy.Count(), took)
	}

	bad := testservices.StartFaultProxy(t, endpoint, func(int, *http.Request) testservices.Verdict {
		return testservices.AzureError(http.StatusForbidden, "AuthenticationFailed")
	})
	cfg.Azure.Endpoint = bad.URL + "/" + testservices.AzuriteAccount
	err = newStores(t, cfg).CheckPermission(bg(), azureTarget(endpoint, "wrong-key"))
	e = requireCode(t, err, http.StatusBadRequest, snapexport.CodeInvalidAzureCredentials)
	requireDetail(t, e, "wrong-key", "Invalid Azure credentials", "AuthenticationFailed")
	if bad.Count() != 1 {
		t.Errorf("%d requests, want 1", bad.Count())
	}
}

func TestAzureDeniedAndTransient(t *testing.T) {
	endpoint := testservices.Azurite(t)
	testservices.AzuriteContainer(t, endpoint, "faults")
	t.Run("denied", func(t *testing.T) {
		proxy := testservices.StartFaultProxy(t, endpoint, func(int, *http.Request) testservices.Verdict {
			return testservices.AzureError(http.StatusForbidden, "AuthorizationPermissionMismatch")
		})
		cfg := azureConfig(endpoint)
		cfg.Azure.Endpoint = proxy.URL + "/" + testservices.AzuriteAccount
		err := newStores(t, cfg).CheckPermission(bg(), azureTarget(endpoint, "faults"))
		e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketAccessDenied)
		requireDetail(t, e, "faults", "AuthorizationPermissionMismatch")
		if proxy.Count() != 1 {
			t.Errorf("%d requests, want 1", proxy.Count())
		}
	})
	t.Run("transient", func(t *testing.T) {
		proxy := flakyProxy(t, endpoint, 3, testservices.AzureError(http.StatusServiceUnavailable, "ServerBusy"))
		cfg := azureConfig(endpoint)
		cfg.Azure.Endpoint = proxy.URL + "/" + testservices.AzuriteAccount
		checkThrice(t, newStores(t, cfg), azureTarget(endpoint, "faults"))
		if proxy.Count() != 9 {
			t.Errorf("%d requests, want 9 (two faults before each success)", proxy.Count())
		}
	})
}
