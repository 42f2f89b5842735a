package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// How `serve --config FILE` combines the file with flags: the file gives
// every setting, a flag given on the command line wins over it.

// inProcessServe is `serve` running in-process, as main runs it.
type inProcessServe struct {
	base           string
	stdout, stderr *testserver.LogBuffer
	// The credentials serve printed on its empty data directory.
	groupID, clientID, secret string
}

// serveInProcess runs `serve args…` until the test ends and waits until it
// serves.
func serveInProcess(t *testing.T, args ...string) *inProcessServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcessServe{stdout: &testserver.LogBuffer{}, stderr: &testserver.LogBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, p.stderr)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop")
		}
	})
	deadline := time.After(20 * time.Second)
	for {
		// The credentials are printed once stored, after serve answers.
		if m := servingAddr.FindStringSubmatch(p.stderr.String()); m != nil && printedSA.MatchString(p.stdout.String()) {
			p.base = "http://" + m[1]
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve stopped before serving: %v\n%s", err, p.stderr)
		case <-deadline:
			t.Fatalf("serve did not start serving\n%s", p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	out := p.stdout.String()
	project, sa := printedProject.FindStringSubmatch(out), printedSA.FindStringSubmatch(out)
	if project == nil || sa == nil {
		t.Fatalf("serve printed no credentials:\n%s", out)
	}
	p.groupID, p.clientID, p.secret = project[1], sa[1], sa[2]
	return p
}

// wantStorage checks that the line serve logged for each provider begins
// as want says.
func (p *inProcessServe) wantStorage(t *testing.T, want map[string]string) {
	t.Helper()
	lines := p.storage(t)
	for provider, w := range want {
		if !strings.HasPrefix(lines[provider], w) {
			t.Errorf("%s: %q, want %q…", provider, lines[provider], w)
		}
	}
}

// storage returns the object-storage lines serve logged, one per provider.
func (p *inProcessServe) storage(t *testing.T) map[string]string {
	t.Helper()
	lines := map[string]string{}
	for _, m := range regexp.MustCompile(`msg="object storage" provider="((AWS|AZURE|GCP): [^"]*)"`).FindAllStringSubmatch(p.stderr.String(), -1) {
		lines[m[2]] = m[1]
	}
	if len(lines) != 3 {
		t.Fatalf("serve logged %d object-storage lines, want 3:\n%s", len(lines), p.stderr)
	}
	return lines
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapexport.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fileSecret = "file-secret-never-logged"

func configFile(t *testing.T, dataDir string) string {
	t.Helper()
	return writeConfig(t, `
listen: 127.0.0.1:0
data: `+dataDir+`
publicUrl: https://from-file.example.com
rateLimits:
  cloudBackups: 5:1/1m
objectStores:
  timeout: 30s
  aws:
    mode: s3-compatible
    endpoint: http://127.0.0.1:9
    accessKeyId: AKIDFROMFILE
    secretAccessKey: `+fileSecret+`
  azure:
    mode: azure-compatible
    endpoint: http://127.0.0.1:10000/devstoreaccount1
    accountName: devstoreaccount1
    accountKey: `+testservices.AzuriteKey+`
  gcp:
    mode: gcs-compatible
    endpoint: http://127.0.0.1:4443
`)
}

// listBuckets lists the project's buckets, returning the rate limit the
// answer reports and its self link.
func listBuckets(t *testing.T, p *inProcessServe) (limit, self string) {
	t.Helper()
	c := &apitest.Client{BaseURL: p.base}
	got := c.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + p.groupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"),
		Auth: apitest.Bearer(c.Token(t, p.clientID, p.secret))})
	if got.Status != 200 {
		t.Fatalf("list buckets: %s", got)
	}
	m := regexp.MustCompile(`"href":"([^"]*)","rel":"self"`).FindSubmatch(got.Body)
	if m == nil {
		t.Fatalf("no self link in %s", got.Body)
	}
	return got.Header.Get("Ratelimit-Limit"), string(m[1])
}

func TestServeConfigFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := serveInProcess(t, "--config", configFile(t, dir))

	if !strings.Contains(p.stderr.String(), "data="+dir) {
		t.Errorf("serve did not use the file's data directory %s:\n%s", dir, p.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.DatabaseFile)); err != nil {
		t.Errorf("database: %v", err)
	}
	p.wantStorage(t, map[string]string{
		"AWS":   "AWS: s3-compatible: http://127.0.0.1:9 (path-style), static credentials AKIDFROMFILE",
		"AZURE": "AZURE: azure-compatible: http://127.0.0.1:10000/devstoreaccount1, shared key of account devstoreaccount1",
		"GCP":   "GCP: gcs-compatible: http://127.0.0.1:4443/storage/v1/",
	})
	limit, self := listBuckets(t, p)
	if limit != "5" || !strings.HasPrefix(self, "https://from-file.example.com/") {
		t.Errorf("rate limit %q and self link %q, want the file's 5 and https://from-file.example.com", limit, self)
	}
	for _, secret := range []string{fileSecret, testservices.AzuriteKey} {
		if strings.Contains(p.stderr.String(), secret) || strings.Contains(p.stdout.String(), secret) {
			t.Errorf("serve printed a secret of the file")
		}
	}
}

func TestServeFlagsOverrideConfigFile(t *testing.T) {
	fileDir := filepath.Join(t.TempDir(), "file-data")
	flagDir := filepath.Join(t.TempDir(), "flag-data")
	slow := testservices.SlowEndpoint(t)
	p := serveInProcess(t, "--config", configFile(t, fileDir),
		"--data", flagDir,
		"--public-url", "https://from-flag.example.com",
		"--rate-limit-cloud-backups", "7:1/1m",
		"--aws-endpoint", slow, // the mode and credentials stay the file's
		"--object-store-timeout", "1s", // the file says 30s
		"--azure-mode", "local", // the file's endpoint has no use in local mode
		"--gcp-mode", "cloud", // nor in cloud mode
	)

	if !strings.Contains(p.stderr.String(), "data="+flagDir) {
		t.Errorf("serve did not use --data %s:\n%s", flagDir, p.stderr)
	}
	if _, err := os.Stat(fileDir); err == nil {
		t.Errorf("the file's data directory %s was created", fileDir)
	}
	p.wantStorage(t, map[string]string{
		"AWS":   "AWS: s3-compatible: " + slow + " (path-style), static credentials AKIDFROMFILE",
		"AZURE": "AZURE: local: " + filepath.Join(flagDir, "buckets", "azure"),
		"GCP":   "GCP: cloud: Google Cloud Storage",
	})
	limit, self := listBuckets(t, p)
	if limit != "7" || !strings.HasPrefix(self, "https://from-flag.example.com/") {
		t.Errorf("rate limit %q and self link %q, want the flags' 7 and https://from-flag.example.com", limit, self)
	}

	// --object-store-timeout bounds the bucket check, not the file's 30s.
	c := &apitest.Client{BaseURL: p.base}
	c.Auth = apitest.Bearer(c.Token(t, p.clientID, p.secret))
	roleID := awsRole(t, c, p.groupID)
	start := time.Now()
	got := c.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + p.groupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"),
		Body: `{"bucketName":"slow-bucket","cloudProvider":"AWS","iamRoleId":"` + roleID + `"}`})
	took := time.Since(start)
	if got.Status != 504 || got.Field(t, "errorCode") != "OBJECT_STORE_TIMEOUT" || !strings.Contains(string(got.Body), "within 1s") {
		t.Errorf("bucket in a store that never answers: %s", got)
	}
	if took > 4*time.Second {
		t.Errorf("answered after %s with --object-store-timeout 1s", took)
	}
}

func TestServeNoRateLimitFlagOverridesConfigFile(t *testing.T) {
	p := serveInProcess(t, "--config", configFile(t, filepath.Join(t.TempDir(), "data")), "--no-rate-limit",
		"--aws-mode", "local") // the file's S3 endpoint and credentials stay unused
	if !strings.Contains(p.stderr.String(), "rateLimits=false") {
		t.Errorf("--no-rate-limit did not turn the file's rate limits off:\n%s", p.stderr)
	}
	if got := p.storage(t)["AWS"]; !strings.HasPrefix(got, "AWS: local: ") {
		t.Errorf("--aws-mode local: %q", got)
	}
	if limit, _ := listBuckets(t, p); limit != "" {
		t.Errorf("Ratelimit-Limit %q with --no-rate-limit", limit)
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	unknownKey := writeConfig(t, "objectStores:\n  aws:\n    endpont: http://127.0.0.1:9000\n")
	badMode := writeConfig(t, "objectStores:\n  gcp:\n    mode: gcs\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"missing file", []string{"--config", missing}, 1, []string{missing}},
		{"unknown key", []string{"--config", unknownKey}, 1, []string{unknownKey, "endpont"}},
		{"bad mode", []string{"--config", badMode}, 1, []string{badMode, "objectStores.gcp.mode"}},
		{"compatible mode without endpoint", []string{"--aws-mode", "s3-compatible"}, 2, []string{"objectStores.aws.endpoint", "required"}},
		{"flag turns the file's mode bad", []string{"--config", configFile(t, dir), "--azure-mode", "azurite"}, 2, []string{"objectStores.azure.mode", "azurite"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runInProcess(t, append([]string{"serve", "--data", dir, "--listen", "127.0.0.1:0"}, tc.args...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.code, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("message %q does not name %q", res.stderr, w)
				}
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("a configuration error created the data directory")
			}
		})
	}
}

// serveFlagKeys is the configuration-file key of each serve flag: the one
// it wins over. --config, which names the file, is the one flag without.
var serveFlagKeys = map[string]string{
	"data":                              "data",
	"database":                          "database",
	"secret-key-file":                   "secretKeyFile",
	"listen":                            "listen",
	"metrics-listen":                    "metricsListen",
	"log-format":                        "logFormat",
	"public-url":                        "publicUrl",
	"snapshot-store":                    "snapshotStore",
	"snapshot-sweep-interval":           "snapshotSweepInterval",
	"schedule-poll-interval":            "schedulePollInterval",
	"capture-collections":               "captureCollections",
	"shutdown-timeout":                  "shutdownTimeout",
	"upload-timeout":                    "uploadTimeout",
	"cluster-change-delay":              "clusterChangeDelay",
	"export-jobs":                       "exports.jobs",
	"export-parallel-collections":       "exports.parallelCollections",
	"export-chunk-bytes":                "exports.chunkBytes",
	"export-lease":                      "exports.lease",
	"rate-limit-cloud-backups":          "rateLimits.cloudBackups",
	"rate-limit-cloud-provider-access":  "rateLimits.cloudProviderAccess",
	"rate-limit-clusters":               "rateLimits.clusters",
	"rate-limit-projects":               "rateLimits.projects",
	"rate-limit-failed-authentications": "rateLimits.failedAuthentications",
	"trusted-proxies":                   "trustedProxies",
	"no-rate-limit":                     "rateLimits.disabled",
	"aws-mode":                          "objectStores.aws.mode",
	"azure-mode":                        "objectStores.azure.mode",
	"gcp-mode":                          "objectStores.gcp.mode",
	"aws-endpoint":                      "objectStores.aws.endpoint",
	"azure-endpoint":                    "objectStores.azure.endpoint",
	"gcp-endpoint":                      "objectStores.gcp.endpoint",
	"object-store-timeout":              "objectStores.timeout",
}

// TestServeFlagsHaveKeys walks serve's flags: each has a key of the
// configuration file (serveFlagKeys), the flag table of
// docs/configuration.md says which, and its Reference table documents
// that key. (internal/config's TestReferenceKeysExist checks that the
// Reference table's keys are the file's.)
func TestServeFlagsHaveKeys(t *testing.T) {
	fs, _ := newServeFlags(io.Discard)
	flags := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = true })
	for name := range flags {
		if _, ok := serveFlagKeys[name]; !ok && name != "config" {
			t.Errorf("serve's flag --%s has no key in serveFlagKeys", name)
		}
	}
	for name := range serveFlagKeys {
		if !flags[name] {
			t.Errorf("serveFlagKeys has --%s, which serve does not have", name)
		}
	}

	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(doc), "\n## Flags that override the file\n")
	documented := map[string]string{}
	for _, row := range regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)[^`]*`[^|]*\\| `([^`]+)`").FindAllStringSubmatch(table, -1) {
		documented[row[1]] = row[2]
	}
	for name := range flags {
		if documented[name] != serveFlagKeys[name] {
			t.Errorf("the flag table of docs/configuration.md gives --%s the key %q, want %q", name, documented[name], serveFlagKeys[name])
		}
	}
	for name, key := range serveFlagKeys {
		if !strings.Contains(string(doc), "\n| `"+key+"` |") {
			t.Errorf("--%s's key %s is not in the Reference table of docs/configuration.md", name, key)
		}
	}
}
