package objectstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/objectstore"
)

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

var azuriteState struct {
	once     sync.Once
	cmd      *exec.Cmd
	endpoint string // http://127.0.0.1:N
	skip     string
	err      error
}

// azurite returns the blob endpoint of an Azurite started once for the test
// binary (stopped by TestMain). Without azurite-blob the test is skipped,
// except in CI (CI=true), where scripts/azurite installs it and a failure
// fails the test.
func azurite(t *testing.T) string {
	t.Helper()
	st := &azuriteState
	st.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			st.err = err
			return
		}
		script := filepath.Join(root, "scripts", "azurite")
		out, err := exec.Command("bash", script, "--which").Output()
		if err != nil {
			if os.Getenv("CI") != "true" {
				st.skip = "Azurite not found (azurite-blob on PATH, in node_modules/.bin or the scripts/azurite cache); " +
					"run scripts/azurite --install to get it"
				return
			}
			var stderr bytes.Buffer
			install := exec.Command("bash", script, "--install")
			install.Stderr = &stderr
			if out, err = install.Output(); err != nil {
				st.err = fmt.Errorf("scripts/azurite --install: %v\n%s", err, stderr.String())
				return
			}
		}
		bin := strings.TrimSpace(string(out))
		st.endpoint, st.cmd, st.err = startAzurite(bin)
	})
	if st.skip != "" {
		t.Skip(st.skip)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.endpoint
}

var listensRE = regexp.MustCompile(`successfully listens on (http://\S+)`)

func startAzurite(bin string) (string, *exec.Cmd, error) {
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0",
		"--inMemoryPersistence", "--extentMemoryLimit", "256",
		"--disableTelemetry", "--skipApiVersionCheck", "--loose")
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	found := make(chan string, 1)
	var seen strings.Builder
	var seenMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seenMu.Lock()
			seen.WriteString(sc.Text() + "\n")
			seenMu.Unlock()
			if m := listensRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return strings.TrimRight(u, "/"), cmd, nil
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		seenMu.Lock()
		defer seenMu.Unlock()
		return "", nil, fmt.Errorf("azurite did not start within 60s:\n%s%s", seen.String(), stderr.String())
	}
}

func stopAzurite() {
	if c := azuriteState.cmd; c != nil {
		_ = c.Process.Kill()
		_ = c.Wait()
	}
}

func azureConfig(endpoint string) objectstore.Config {
	return objectstore.Config{
		Azure: objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: endpoint + "/" + azuriteAccount,
			AccountName: azuriteAccount, AccountKey: azuriteKey},
		Timeout: 10 * time.Second,
		Retry:   testRetry,
		// Only used by providers left local.
		LocalDir: unusedLocalDir,
	}
}

// azureContainer creates a container directly with the SDK.
func azureContainer(t *testing.T, endpoint, name string) *container.Client {
	t.Helper()
	cred, err := container.NewSharedKeyCredential(azuriteAccount, azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(endpoint+"/"+azuriteAccount+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// Azurite lives as long as the test binary (-count=N reruns tests).
	t.Cleanup(func() { _, _ = c.Delete(context.Background(), nil) })
	return c
}

func azureTarget(endpoint, name string) objectstore.Target {
	return objectstore.Target{Provider: snapexport.Azure, Bucket: name,
		ServiceURL: "https://examplestorageaccount.blob.core.windows.net/" + name}
}

func TestAzurePermissionCheckWritesEmptyBlob(t *testing.T) {
	endpoint := azurite(t)
	c := azureContainer(t, endpoint, "export-container")
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
	endpoint := azurite(t)
	stores := newStores(t, azureConfig(endpoint))
	err, took := timed(func() error { return stores.CheckPermission(bg(), azureTarget(endpoint, "no-such-container")) })
	e := requireCode(t, err, http.StatusBadRequest, objectstore.CodeBucketNotFound)
	requireDetail(t, e, "no-such-container", endpoint, "Put Blob exported_snapshots/.permissioncheck")
	if took > 2*time.Second {
		t.Errorf("took %s", took)
	}
}

func TestAzureWrongKey(t *testing.T) {
	endpoint := azurite(t)
	azureContainer(t, endpoint, "wrong-key")
	cfg := azureConfig(endpoint)
	cfg.Azure.AccountKey = "d3JvbmcgYWNjb3VudCBrZXkgZm9yIHRoZSB0ZXN0cw=="
	proxy := startFaultProxy(t, endpoint, func(int, *http.Request) verdict { return verdict{} })
	cfg.Azure.Endpoint = proxy.URL + "/" + azuriteAccount
	stores := newStores(t, cfg)
	err, took := timed(func() error { return stores.CheckPermission(bg(), azureTarget(endpoint, "wrong-key")) })
	// Azurite answers a bad signature with 403 AuthorizationFailure, which
	// Azure itself uses for requests it refuses to an authenticated caller
	// (network rules, role assignments); Azure answers a bad signature with
	// AuthenticationFailed (injected below).
	e := requireCode(t, err, http.StatusBadRequest, objectstore.CodeBucketAccessDenied)
	requireDetail(t, e, "wrong-key", "AuthorizationFailure")
	if proxy.count() != 1 || took > time.Second {
		t.Errorf("%d requests in %s, want 1 fast", proxy.count(), took)
	}

	bad := startFaultProxy(t, endpoint, func(int, *http.Request) verdict {
		return azureError(http.StatusForbidden, "AuthenticationFailed")
	})
	cfg.Azure.Endpoint = bad.URL + "/" + azuriteAccount
	err = newStores(t, cfg).CheckPermission(bg(), azureTarget(endpoint, "wrong-key"))
	e = requireCode(t, err, http.StatusBadRequest, objectstore.CodeInvalidAzureCredentials)
	requireDetail(t, e, "wrong-key", "Invalid Azure credentials", "AuthenticationFailed")
	if bad.count() != 1 {
		t.Errorf("%d requests, want 1", bad.count())
	}
}

func azureError(status int, code string) verdict {
	return verdict{action: answer, status: status, header: map[string]string{"x-ms-error-code": code, "Content-Type": "application/xml"},
		body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code><Message>injected</Message></Error>`}
}

func TestAzureDeniedAndTransient(t *testing.T) {
	endpoint := azurite(t)
	azureContainer(t, endpoint, "faults")
	t.Run("denied", func(t *testing.T) {
		proxy := startFaultProxy(t, endpoint, func(int, *http.Request) verdict {
			return azureError(http.StatusForbidden, "AuthorizationPermissionMismatch")
		})
		cfg := azureConfig(endpoint)
		cfg.Azure.Endpoint = proxy.URL + "/" + azuriteAccount
		err := newStores(t, cfg).CheckPermission(bg(), azureTarget(endpoint, "faults"))
		e := requireCode(t, err, http.StatusBadRequest, objectstore.CodeBucketAccessDenied)
		requireDetail(t, e, "faults", "AuthorizationPermissionMismatch")
		if proxy.count() != 1 {
			t.Errorf("%d requests, want 1", proxy.count())
		}
	})
	t.Run("transient", func(t *testing.T) {
		proxy := startFaultProxy(t, endpoint, func(n int, r *http.Request) verdict {
			switch n % 3 {
			case 0:
				return verdict{action: drop}
			case 1:
				return azureError(http.StatusServiceUnavailable, "ServerBusy")
			}
			return verdict{}
		})
		cfg := azureConfig(endpoint)
		cfg.Azure.Endpoint = proxy.URL + "/" + azuriteAccount
		stores := newStores(t, cfg)
		for i := 0; i < 3; i++ {
			if err := stores.CheckPermission(bg(), azureTarget(endpoint, "faults")); err != nil {
				t.Fatalf("check %d: %v", i, err)
			}
		}
		if proxy.count() != 9 {
			t.Errorf("%d requests, want 9 (two faults before each success)", proxy.count())
		}
	})
}
