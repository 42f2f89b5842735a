package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildBinary compiles a main package of this module into dir.
func buildBinary(t *testing.T, pkg, dir string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// TestREADMEQuickstart runs the README's curl quickstart verbatim with the
// real binary, so the README cannot drift from what the server does.
func TestREADMEQuickstart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, found := strings.Cut(string(readme), "<!-- quickstart:begin -->\n```sh\n")
	block, _, found2 := strings.Cut(block, "```\n<!-- quickstart:end -->")
	if !found || !found2 {
		t.Fatal("README has no quickstart block between the quickstart markers")
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		t.Fatalf("the quickstart needs 127.0.0.1:8080: %v", err)
	} else {
		ln.Close()
	}
	dir := t.TempDir()
	buildBinary(t, "./cmd/snapexport", dir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
		t.Fatalf("quickstart failed: %v\nstdout: %s\nstderr: %s\nserver log: %s", err, &stdout, &stderr, log)
	}
	var bucket map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &bucket); err != nil {
		t.Fatalf("the quickstart's last request printed %q, not a bucket: %v", &stdout, err)
	}
	want := map[string]any{"bucketName": "export-bucket", "cloudProvider": "AWS", "requirePrivateNetworking": true}
	for k, v := range want {
		if bucket[k] != v {
			t.Errorf("bucket %s = %v, want %v", k, bucket[k], v)
		}
	}
	if id, _ := bucket["_id"].(string); len(id) != 24 {
		t.Errorf("bucket _id = %v, want a 24-hex id", bucket["_id"])
	}
}

// TestSDKQuickstartExample runs examples/sdk-quickstart against a server
// initialized the README's way.
func TestSDKQuickstartExample(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, "./cmd/snapexport", dir)
	example := buildBinary(t, "./examples/sdk-quickstart", dir)

	data := filepath.Join(dir, "data")
	creds, err := exec.Command(bin, "init", "--data", data, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(credsFile, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	serve := exec.Command(bin, "serve", "--data", data, "--listen", addr)
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	base := "http://" + addr
	waitHealthy(t, base)

	out, err := exec.Command(example, "-base-url", base, "-creds", credsFile).CombinedOutput()
	if err != nil {
		t.Fatalf("example failed: %v\n%s", err, out)
	}
	for _, want := range []string{"created export bucket", "(export-bucket)", "the project has 1 export bucket(s)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("example output lacks %q:\n%s", want, out)
		}
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/healthz did not answer 200 within 10s", base)
}
