package objectstore_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

// Test-only static credentials; the failure tests check that no detail
// ever contains them.
const (
	testAccessKey = "AKIDSNAPEXPORTTEST"
	testSecretKey = "test-secret-key-never-shown"
)

// unusedLocalDir satisfies Validate in configs that use no local provider.
const unusedLocalDir = "/nonexistent/snapexport-objectstore-test"

// testRetry retries fast so that the tests stay quick.
var testRetry = objectstore.RetryPolicy{MaxAttempts: 4, BaseDelay: 5 * time.Millisecond, MaxDelay: 40 * time.Millisecond}

func awsTarget(bucket string) objectstore.Target {
	return objectstore.Target{Provider: snapexport.AWS, Bucket: bucket}
}

func gcsTarget(bucket string) objectstore.Target {
	return objectstore.Target{Provider: snapexport.GCP, Bucket: bucket}
}

func s3Config(endpoint string) objectstore.Config {
	return objectstore.Config{
		AWS: objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: endpoint,
			AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		Timeout: 5 * time.Second,
		Retry:   testRetry,
		// Only used by providers left local.
		LocalDir: unusedLocalDir,
	}
}

func newStores(t testing.TB, cfg objectstore.Config) *objectstore.Stores {
	t.Helper()
	s, err := objectstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// requireCode fails unless err is a *snapexport.Error with the code, which
// the API answers with status, and returns it. Its detail must name no secret.
func requireCode(t *testing.T, err error, status int, code string) *snapexport.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	e, ok := err.(*snapexport.Error)
	if !ok {
		t.Fatalf("error %T %v, want *snapexport.Error %s", err, err, code)
	}
	if got := api.Status(e.Code); e.Code != code || got != status {
		t.Fatalf("error %d %s (%s), want %d %s", got, e.Code, e.Detail, status, code)
	}
	for _, secret := range []string{testSecretKey, testservices.AzuriteKey} {
		if strings.Contains(e.Detail, secret) || strings.Contains(strings.Join(e.Params, " "), secret) {
			t.Fatalf("detail names a secret: %s", e.Detail)
		}
	}
	// The stores of the tests are local hosts and temporary directories:
	// a client is told neither.
	for _, address := range []string{"127.0.0.1", "localhost", "://", os.TempDir()} {
		if strings.Contains(e.Detail, address) || strings.Contains(strings.Join(e.Params, " "), address) {
			t.Fatalf("detail names a store's address (%s): %s", address, e.Detail)
		}
	}
	return e
}

func requireDetail(t *testing.T, e *snapexport.Error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(e.Detail, p) {
			t.Errorf("detail %q does not contain %q", e.Detail, p)
		}
	}
}

// flakyProxy proxies to target and, of every period requests, drops the
// connection of the first and answers the second with fault.
func flakyProxy(t *testing.T, target string, period int, fault testservices.Verdict) *testservices.FaultProxy {
	return testservices.StartFaultProxy(t, target, func(n int, r *http.Request) testservices.Verdict {
		switch n % period {
		case 0:
			return testservices.Verdict{Action: testservices.Drop}
		case 1:
			return fault
		}
		return testservices.Verdict{}
	})
}

// checkThrice checks the permission on target three times, each of which
// must succeed.
func checkThrice(t *testing.T, stores *objectstore.Stores, target objectstore.Target) {
	t.Helper()
	for i := 0; i < 3; i++ {
		if err := stores.CheckPermission(bg(), target); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
}

// timed runs f and returns its error and duration.
func timed(f func() error) (error, time.Duration) {
	start := time.Now()
	err := f()
	return err, time.Since(start)
}

func bg() context.Context { return context.Background() }
