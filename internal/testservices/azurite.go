package testservices

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azurite's well-known development account.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteURLEnv names an Azurite Blob endpoint that is already running,
// e.g. http://127.0.0.1:10000 (no account path). scripts/test starts one
// Azurite for the whole run and sets it, so that the test binaries of all
// packages share it.
const AzuriteURLEnv = "SNAPEXPORT_TEST_AZURITE_URL"

// azuriteStartTimeout bounds Azurite's start-up (Node.js is slow to start
// on a loaded machine).
const azuriteStartTimeout = 60 * time.Second

var azurite struct {
	once     sync.Once
	mu       sync.Mutex
	cmd      *exec.Cmd
	endpoint string
	skip     string
	err      error
}

// Azurite returns the Blob endpoint of Azurite (http://127.0.0.1:N, no
// account path; see AzuriteAccountURL):
//
//   - the one named by $SNAPEXPORT_TEST_AZURITE_URL when it is set (the
//     test fails when nothing listens there);
//   - otherwise one started once for the test binary, stopped by StopAll,
//     with the azurite-blob that scripts/azurite --which finds. When there
//     is none the test is skipped, except in CI (CI=true), where
//     scripts/azurite --install installs it with npm and any failure to
//     install or start it fails the test: in CI a missing service is a
//     failure, never a skip.
func Azurite(t testing.TB) string {
	t.Helper()
	st := &azurite
	st.once.Do(func() {
		if u := os.Getenv(AzuriteURLEnv); u != "" {
			st.endpoint, st.err = checkAzuriteURL(u)
			return
		}
		script, err := findScript("azurite")
		if err != nil {
			st.err = err
			return
		}
		bin, err := exec.Command("bash", script, "--which").Output()
		if err != nil {
			if os.Getenv("CI") != "true" {
				st.skip = "Azurite not found (azurite-blob on PATH, in node_modules/.bin or the scripts/azurite cache) and " +
					AzuriteURLEnv + " not set; run scripts/azurite --install, or scripts/test, which starts it"
				return
			}
			var stderr bytes.Buffer
			install := exec.Command("bash", script, "--install")
			install.Stderr = &stderr
			if bin, err = install.Output(); err != nil {
				st.err = fmt.Errorf("testservices: CI=true and Azurite is missing; scripts/azurite --install failed: %v\n%s", err, stderr.String())
				return
			}
		}
		cmd, endpoint, err := startAzurite(strings.TrimSpace(string(bin)))
		st.mu.Lock()
		st.cmd, st.endpoint, st.err = cmd, endpoint, err
		st.mu.Unlock()
	})
	if st.skip != "" {
		t.Skip(st.skip)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.endpoint
}

// StopAll stops the services started for the test binary (Azurite,
// FerretDB). Call it from TestMain after m.Run.
func StopAll() {
	stopFerretDB()
	azurite.mu.Lock()
	defer azurite.mu.Unlock()
	if c := azurite.cmd; c != nil {
		_ = c.Process.Kill()
		_ = c.Wait()
		azurite.cmd = nil
	}
}

// Main is a test binary's TestMain: it runs the tests, stops the services
// started for the binary, runs cleanup (for what the binary made once for
// all its tests) and exits with the tests' status.
func Main(m *testing.M, cleanup ...func()) {
	code := m.Run()
	StopAll()
	for _, f := range cleanup {
		f()
	}
	os.Exit(code)
}

// AzuriteAccountURL is the blob service URL of Azurite's account at
// endpoint: the Endpoint of objectstore's azure-compatible mode.
func AzuriteAccountURL(endpoint string) string {
	return strings.TrimRight(endpoint, "/") + "/" + AzuriteAccount
}

// AzuriteContainer creates container name at endpoint and deletes it when
// the test ends (Azurite may outlive the test binary, and -count=N reruns
// tests).
func AzuriteContainer(t testing.TB, endpoint, name string) *container.Client {
	t.Helper()
	cred, err := container.NewSharedKeyCredential(AzuriteAccount, AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(AzuriteAccountURL(endpoint)+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatalf("testservices: create Azurite container %s: %v", name, err)
	}
	t.Cleanup(func() { _, _ = c.Delete(context.Background(), nil) })
	return c
}

// BlobSize returns the size of blob key in container c and whether it
// exists.
func BlobSize(t testing.TB, c *container.Client, key string) (int64, bool) {
	t.Helper()
	props, err := c.NewBlobClient(key).GetProperties(context.Background(), nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == 404 {
		return 0, false
	}
	if err != nil {
		t.Fatalf("testservices: blob %s: %v", key, err)
	}
	if props.ContentLength == nil {
		return 0, true
	}
	return *props.ContentLength, true
}

// BlobNames returns the names of the blobs under prefix in container c,
// sorted, as the store holds them.
func BlobNames(t testing.TB, c *container.Client, prefix string) []string {
	t.Helper()
	var names []string
	for pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix}); pager.More(); {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("testservices: listing blobs under %s: %v", prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	slices.Sort(names)
	return names
}

func checkAzuriteURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("testservices: %s=%q is not an Azurite Blob endpoint such as http://127.0.0.1:10000", AzuriteURLEnv, s)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("testservices: %s=%s, but nothing answers there: %v", AzuriteURLEnv, s, err)
	}
	_ = c.Close()
	return strings.TrimRight(s, "/"), nil
}

// findScript finds scripts/<name> of this repository.
func findScript(name string) (string, error) {
	var roots []string
	if _, file, _, ok := runtime.Caller(0); ok {
		roots = append(roots, filepath.Join(filepath.Dir(file), "..", ".."))
	}
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			roots = append(roots, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, r := range roots {
		p := filepath.Join(r, "scripts", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("testservices: scripts/%s not found above the working directory", name)
}

var listensRE = regexp.MustCompile(`successfully (?:listens on|listening at) (https?://\S+)`)

// startAzurite starts azurite-blob on a free loopback port, in memory, and
// waits until it says where it listens.
func startAzurite(bin string) (*exec.Cmd, string, error) {
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0",
		"--inMemoryPersistence", "--extentMemoryLimit", "256",
		"--disableTelemetry", "--skipApiVersionCheck", "--loose")
	cmd.Dir = dir
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("testservices: start %s: %w", bin, err)
	}
	found := make(chan string, 1)
	var seen strings.Builder
	var seenMu sync.Mutex
	go func() {
		// Read to the end, so that Azurite never blocks on a full pipe.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seenMu.Lock()
			if seen.Len() < 64<<10 {
				seen.WriteString(sc.Text() + "\n")
			}
			seenMu.Unlock()
			if m := listensRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_ = os.RemoveAll(dir)
	}()
	select {
	case u := <-found:
		return cmd, strings.TrimRight(u, "/"), nil
	case <-time.After(azuriteStartTimeout):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		seenMu.Lock()
		defer seenMu.Unlock()
		return nil, "", fmt.Errorf("testservices: azurite did not start within %s:\n%s%s", azuriteStartTimeout, seen.String(), stderr.String())
	}
}
