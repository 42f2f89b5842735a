//go:build !snapexport_localbuckets

package objectstore_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

func gcsConfig(endpoint string) objectstore.Config {
	return objectstore.Config{
		GCP:     objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: endpoint},
		Timeout: 5 * time.Second,
		Retry:   testRetry,
		// Only used by providers left local.
		LocalDir: unusedLocalDir,
	}
}

func TestGCSPermissionCheckWritesEmptyObject(t *testing.T) {
	gcs := testservices.GCS(t, "export-bucket")
	stores := newStores(t, gcsConfig(gcs.URL)) // "/storage/v1/" is appended

	region, err := stores.Verify(bg(), gcsTarget("export-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	if region != "" {
		t.Errorf("region %q", region)
	}
	obj, err := gcs.Server.GetObject("export-bucket", objectstore.PermissionCheckKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(obj.Content) != 0 {
		t.Errorf("%d bytes, want 0", len(obj.Content))
	}

	// A streamed object larger than one chunk: a resumable upload.
	b, err := stores.Open(bg(), gcsTarget("export-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data := []byte(strings.Repeat("x", 3<<20))
	w, err := b.NewWriter(bg(), "p/db/c/rs0.0.json.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := gcs.Server.GetObject("export-bucket", "p/db/c/rs0.0.json.gz")
	if err != nil || len(got.Content) != len(data) {
		t.Fatalf("object %d bytes, %v", len(got.Content), err)
	}
}

func TestGCSMissingBucket(t *testing.T) {
	gcs := testservices.GCS(t)
	stores := newStores(t, gcsConfig(gcs.URL+"/storage/v1/"))
	err, took := timed(func() error { return stores.CheckPermission(bg(), gcsTarget("no-such-bucket")) })
	e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketNotFound)
	requireDetail(t, e, "no-such-bucket", "the GCS-compatible store", "objects.insert exported_snapshots/.permissioncheck")
	if took > 2*time.Second {
		t.Errorf("took %s", took)
	}
	if n := len(gcs.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestGCSFaults(t *testing.T) {
	gcs := testservices.GCS(t, "b1")
	t.Run("denied", func(t *testing.T) {
		proxy := testservices.StartFaultProxy(t, gcs.URL, func(int, *http.Request) testservices.Verdict {
			return testservices.GCSError(http.StatusForbidden, "forbidden")
		})
		err := newStores(t, gcsConfig(proxy.URL)).CheckPermission(bg(), gcsTarget("b1"))
		e := requireCode(t, err, http.StatusBadRequest, snapexport.CodeBucketAccessDenied)
		requireDetail(t, e, "b1", "the GCS-compatible store", "HTTP 403 forbidden")
		if proxy.Count() != 1 {
			t.Errorf("%d requests, want 1", proxy.Count())
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		proxy := testservices.StartFaultProxy(t, gcs.URL, func(int, *http.Request) testservices.Verdict {
			return testservices.GCSError(http.StatusUnauthorized, "authError")
		})
		err := newStores(t, gcsConfig(proxy.URL)).CheckPermission(bg(), gcsTarget("b1"))
		requireCode(t, err, http.StatusBadRequest, snapexport.CodeInvalidGoogleCloudCredentials)
		if proxy.Count() != 1 {
			t.Errorf("%d requests, want 1", proxy.Count())
		}
	})
	t.Run("transient", func(t *testing.T) {
		proxy := flakyProxy(t, gcs.URL, 3, testservices.GCSError(http.StatusServiceUnavailable, "backendError"))
		checkThrice(t, newStores(t, gcsConfig(proxy.URL)), gcsTarget("b1"))
		if proxy.Count() != 9 {
			t.Errorf("%d requests, want 9", proxy.Count())
		}
	})
}

// fakeGoogle is a token endpoint for a service-account key plus the IAM
// Credentials API's generateAccessToken, on loopback.
type fakeGoogle struct {
	URL     string
	mu      sync.Mutex
	allowed map[string]bool // service accounts the server may impersonate
	calls   []string
}

const baseToken = "base-token-of-the-server"

func startFakeGoogle(t *testing.T, allowed ...string) *fakeGoogle {
	t.Helper()
	g := &fakeGoogle{allowed: map[string]bool{}}
	for _, a := range allowed {
		g.allowed[a] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.PostForm.Get("assertion") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, baseToken)
	})
	mux.HandleFunc("POST /v1/", func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/"), ":generateAccessToken")
		g.mu.Lock()
		g.calls = append(g.calls, name)
		allowed := g.allowed[name]
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Header.Get("Authorization") != "Bearer "+baseToken:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		case !ok || !allowed:
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","errors":[{"reason":"forbidden","message":"denied"}]}}`)
		default:
			var body struct {
				Scope []string `json:"scope"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			if len(body.Scope) == 0 {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = fmt.Fprintf(w, `{"accessToken":%q,"expireTime":%q}`, "impersonated-"+name, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func (g *fakeGoogle) impersonations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

// serviceAccountFile writes a service-account key whose token_uri is the
// fake token endpoint.
func serviceAccountFile(t *testing.T, tokenURI string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "snapexport-test", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "snapexport@snapexport-test.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": tokenURI,
	})
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGCSImpersonatesTheRolesServiceAccount(t *testing.T) {
	const sa = "mongodb-atlas-0123456789abcdef@p-0123456789abcdef01234567.iam.gserviceaccount.com"
	gcs := testservices.GCS(t, "b1")
	google := startFakeGoogle(t, sa)
	cfg := gcsConfig(gcs.URL)
	cfg.GCP.CredentialsFile = serviceAccountFile(t, google.URL+"/token")
	cfg.GCP.IAMCredentialsEndpoint = google.URL + "/"
	stores := newStores(t, cfg)
	role := &snapexport.CloudProviderAccessRole{ID: "6a793f752c88faeba59bba57", Provider: snapexport.GCP, GCPServiceAccount: sa}

	if err := stores.AssumeRole(bg(), role); err != nil {
		t.Fatal(err)
	}
	tgt := gcsTarget("b1")
	tgt.Role = role
	for i := 0; i < 2; i++ {
		if err := stores.CheckPermission(bg(), tgt); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range gcs.Requests() {
		if r.Authorization != "Bearer impersonated-"+sa {
			t.Errorf("GCS request %s %s carried %q", r.Method, r.Path, r.Authorization)
		}
	}
	// One token for AssumeRole, one cached for both checks.
	if calls := google.impersonations(); len(calls) != 2 || calls[0] != sa {
		t.Errorf("impersonations %v", calls)
	}

	// A service account the server may not impersonate.
	other := &snapexport.CloudProviderAccessRole{ID: "6a793f752c88faeba59bba58", Provider: snapexport.GCP,
		GCPServiceAccount: "someone-else@p-0123456789abcdef01234567.iam.gserviceaccount.com"}
	e := requireCode(t, stores.AssumeRole(bg(), other), http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
	if e.Detail != "Atlas cannot assume the specified role ("+other.GCPServiceAccount+")." {
		t.Errorf("detail %q", e.Detail)
	}
	tgt.Role = other
	e = requireCode(t, stores.CheckPermission(bg(), tgt), http.StatusBadRequest, snapexport.CodeCannotAssumeRole)
	if e.Detail != "Atlas cannot assume the specified role ("+other.ID+")." {
		t.Errorf("detail %q", e.Detail)
	}
}
