package config_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/config"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/service"
)

// writeFile writes a configuration file and returns its path.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "snapexport.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fullFile sets every key of the file.
const fullFile = `
listen: 0.0.0.0:8443
data: /var/lib/snapexport
publicUrl: https://backups.example.com
rateLimits:
  cloudBackups: 100:50/1m
  cloudProviderAccess: 200:100/30s
  clusters: 300:150/2m
  projects: 400:20/1h
  failedAuthentications: 30:10/5m
  disabled: true
trustedProxies:
  - 10.1.0.0/16
  - 2001:db8:ffff::/48
  - 192.0.2.80
  - ::ffff:198.51.100.0/120
objectStores:
  localDir: /srv/buckets
  localRequireExisting: true
  timeout: 45s
  retry:
    maxAttempts: 6
    baseDelay: 100ms
    maxDelay: 10s
  aws:
    mode: s3-compatible
    endpoint: https://minio.example.com:9000
    virtualHostedStyle: true
    accessKeyId: snapexport
    secretAccessKey: minio-secret
    sessionToken: minio-session
    region: eu-central-1
    stsEndpoint: https://minio.example.com:9000
    sessionDuration: 2h
    privateEndpoints:
      eu-central-1: https://bucket.vpce-0123456789abcdef0-abcdefgh.s3.eu-central-1.vpce.amazonaws.com
    accountArn: arn:aws:iam::111122223333:user/snapexport
  azure:
    mode: cloud
    clientId: 0f2c8a8e-6a53-4b5e-9a55-3f0e6f7c1a11
    clientCertificateFile: /etc/snapexport/azure.pem
    authorityHost: https://login.microsoftonline.us/
  gcp:
    mode: gcs-compatible
    endpoint: http://127.0.0.1:4443/storage/v1/
    credentialsFile: /etc/snapexport/google.json
    iamCredentialsEndpoint: http://127.0.0.1:8085/
    projectSuffix: acmesnapexport0000000001
`

func TestLoadFullFile(t *testing.T) {
	f, err := config.Load(writeFile(t, fullFile))
	if err != nil {
		t.Fatal(err)
	}
	if f.Listen != "0.0.0.0:8443" || f.Data != "/var/lib/snapexport" || f.PublicURL != "https://backups.example.com" {
		t.Errorf("server keys: %+v", f)
	}
	policies, err := f.Limits()
	if err != nil {
		t.Fatal(err)
	}
	if want := (config.Policies{
		CloudBackups:          ratelimit.Policy{Name: ratelimit.CloudBackups().Name, Capacity: 100, Refill: 50, Period: time.Minute},
		CloudProviderAccess:   ratelimit.Policy{Name: ratelimit.CloudProviderAccess().Name, Capacity: 200, Refill: 100, Period: 30 * time.Second},
		Clusters:              ratelimit.Policy{Name: ratelimit.Clusters().Name, Capacity: 300, Refill: 150, Period: 2 * time.Minute},
		Projects:              ratelimit.Policy{Name: ratelimit.Projects().Name, Capacity: 400, Refill: 20, Period: time.Hour},
		FailedAuthentications: ratelimit.Policy{Name: ratelimit.FailedAuthentications().Name, Capacity: 30, Refill: 10, Period: 5 * time.Minute},
	}); policies != want || !f.RateLimits.Disabled {
		t.Errorf("rate limits: %+v %+v, want %+v", policies, f.RateLimits, want)
	}
	proxies, err := config.ParseTrustedProxies("trustedProxies", f.TrustedProxies)
	if want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2001:db8:ffff::/48"),
		netip.MustParsePrefix("192.0.2.80/32"), netip.MustParsePrefix("198.51.100.0/24")}; err != nil || !slices.Equal(proxies, want) {
		t.Errorf("trusted proxies: %v %v, want %v (a mapped IPv4 network as IPv4)", proxies, err, want)
	}
	got, err := f.ObjectStoreConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := objectstore.Config{
		LocalDir: "/srv/buckets", LocalRequireExisting: true, Timeout: 45 * time.Second,
		Retry: objectstore.RetryPolicy{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second},
		AWS: objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: "https://minio.example.com:9000", VirtualHostedStyle: true,
			AccessKeyID: "snapexport", SecretAccessKey: "minio-secret", SessionToken: "minio-session", DefaultRegion: "eu-central-1",
			STSEndpoint: "https://minio.example.com:9000", SessionDuration: 2 * time.Hour,
			PrivateEndpoints: map[string]string{"eu-central-1": "https://bucket.vpce-0123456789abcdef0-abcdefgh.s3.eu-central-1.vpce.amazonaws.com"}},
		Azure: objectstore.AzureConfig{Mode: objectstore.ModeCloud, ClientID: "0f2c8a8e-6a53-4b5e-9a55-3f0e6f7c1a11",
			ClientCertificateFile: "/etc/snapexport/azure.pem", AuthorityHost: "https://login.microsoftonline.us/"},
		GCP: objectstore.GCPConfig{Mode: objectstore.ModeGCSCompatible, Endpoint: "http://127.0.0.1:4443/storage/v1/",
			CredentialsFile: "/etc/snapexport/google.json", IAMCredentialsEndpoint: "http://127.0.0.1:8085/"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ObjectStoreConfig:\n got %+v\nwant %+v", got, want)
	}
	if id := f.Identities(); id != (service.Identities{AWSAccountARN: "arn:aws:iam::111122223333:user/snapexport",
		AzureAppID: "0f2c8a8e-6a53-4b5e-9a55-3f0e6f7c1a11", GCPProjectSuffix: "acmesnapexport0000000001", DefaultAWSRegion: "eu-central-1"}) {
		t.Errorf("Identities: %+v", id)
	}

	// The Azure keys fullFile cannot set with the others.
	for body, want := range map[string]objectstore.AzureConfig{
		azureCompatibleFile: {Mode: objectstore.ModeAzureCompatible, Endpoint: "http://127.0.0.1:10000/devstoreaccount1",
			AccountName: "devstoreaccount1", AccountKey: "a2V5"},
		azureSecretFile: {Mode: objectstore.ModeCloud, ClientID: "0f2c8a8e-6a53-4b5e-9a55-3f0e6f7c1a11", ClientSecret: "entra-secret"},
	} {
		f, err := config.Load(writeFile(t, body))
		if err != nil {
			t.Fatal(err)
		}
		if c, err := f.ObjectStoreConfig(); err != nil || c.Azure != want {
			t.Errorf("Azure %+v %v, want %+v", c.Azure, err, want)
		}
	}

	// Every key whose mapping this test checks is set by one of these
	// files: a key added there must be added here. (Every key of the file
	// must be in docs/configuration.md: TestDocumentedExamplesLoad.)
	all := fullFile + azureCompatibleFile + azureSecretFile
	for _, key := range fileKeys() {
		if !slices.Contains([]string{"listen", "data", "publicUrl"}, key) &&
			!strings.HasPrefix(key, "rateLimits") && !strings.HasPrefix(key, "objectStores") {
			continue
		}
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(leaf) + `:`).MatchString(all) {
			t.Errorf("no test file sets %s", key)
		}
	}
}

const azureCompatibleFile = `
objectStores:
  azure:
    mode: azure-compatible
    endpoint: http://127.0.0.1:10000/devstoreaccount1
    accountName: devstoreaccount1
    accountKey: a2V5
`

const azureSecretFile = `
objectStores:
  azure:
    mode: cloud
    clientId: 0f2c8a8e-6a53-4b5e-9a55-3f0e6f7c1a11
    clientSecret: entra-secret
`

// TestLoadServerKeys: the keys of how the server runs, and zero values for
// those left out (the command's flags then give the defaults).
func TestLoadServerKeys(t *testing.T) {
	f, err := config.Load(writeFile(t, `
snapshotSweepInterval: 5m
shutdownTimeout: 1m
exports:
  jobs: 2
  parallelCollections: 3
  chunkBytes: 1048576
  lease: 45s
`))
	if err != nil {
		t.Fatal(err)
	}
	exports, err := f.ExportConfig()
	if err != nil || !reflect.DeepEqual(exports, exportrunner.Config{MaxJobs: 2, ParallelCollections: 3, ChunkBytes: 1 << 20, Lease: 45 * time.Second}) {
		t.Errorf("ExportConfig: %+v %v", exports, err)
	}
	if sweep, drain, err := f.Timings(); err != nil || sweep != 5*time.Minute || drain != time.Minute {
		t.Errorf("Timings: %s %s %v, want 5m 1m", sweep, drain, err)
	}

	empty, err := config.Load(writeFile(t, "exports:\n  jobs:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if exports, err := empty.ExportConfig(); err != nil || !reflect.DeepEqual(exports, exportrunner.Config{}) {
		t.Errorf("ExportConfig of a file without exports: %+v %v, want the zero Config", exports, err)
	}
	if sweep, drain, err := empty.Timings(); err != nil || sweep != 0 || drain != 0 {
		t.Errorf("Timings of a file without them: %s %s %v, want zero", sweep, drain, err)
	}
}

// TestLoadAnchorsAndMergeKeys: YAML's anchors, aliases and merge keys are
// checked as the keys they stand for, not refused.
func TestLoadAnchorsAndMergeKeys(t *testing.T) {
	f, err := config.Load(writeFile(t, `
objectStores:
  timeout: &bound 20s
  retry:
    maxDelay: *bound
exports:
  <<: {jobs: 2, lease: 1m}
  lease: 2m
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.ObjectStoreConfig()
	if err != nil || c.Timeout != 20*time.Second || c.Retry.MaxDelay != 20*time.Second {
		t.Errorf("objectStores through an alias: %+v %v", c, err)
	}
	if e, err := f.ExportConfig(); err != nil || e.MaxJobs != 2 || e.Lease != 2*time.Minute {
		t.Errorf("exports through a merge key: %+v %v, want jobs 2 and the section's own lease 2m", e, err)
	}
}

func TestLoadEmptyFileIsTheDefault(t *testing.T) {
	for _, body := range []string{"", "# nothing configured\n", "objectStores: {}\n"} {
		f, err := config.Load(writeFile(t, body))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		c, err := f.ObjectStoreConfig()
		if err != nil || !reflect.DeepEqual(c, objectstore.Config{}) {
			t.Errorf("%q: objectStores %+v %v, want the zero Config (every provider local)", body, c, err)
		}
		if f.Identities() != service.DefaultIdentities {
			t.Errorf("%q: identities %+v", body, f.Identities())
		}
	}
}

// TestLoadRejects: every mistake is refused with a message naming the file
// and the key as the file spells it (or its line).
func TestLoadRejects(t *testing.T) {
	keys := fileKeys()
	for _, tc := range []struct {
		name, body string
		field      string // the key named, as the file spells it ("" for YAML errors)
		want       string // also in the message
	}{
		{"unknown key", "listn: 127.0.0.1:8080\n", "", "line 1: field listn not found"},
		{"unknown nested key", "objectStores:\n  aws:\n    endpont: http://127.0.0.1:9000\n", "", "line 3: field endpont not found"},
		{"unknown provider", "objectStores:\n  ibm:\n    mode: cloud\n", "", "field ibm not found"},
		{"duplicate key", "listen: a\nlisten: b\n", "", `"listen" already defined`},
		{"wrong type", "objectStores:\n  retry:\n    maxAttempts: many\n", "", "line 3"},
		{"not a mapping", "- listen\n", "", "line 1"},
		{"bad timeout", "objectStores:\n  timeout: 5 minutes\n", "objectStores.timeout", "not a duration"},
		{"unitless timeout", "objectStores:\n  timeout: 30\n", "objectStores.timeout", "not a duration"},
		{"negative timeout", "objectStores:\n  timeout: -1s\n", "objectStores.timeout", "not a duration"},
		{"bad base delay", "objectStores:\n  retry:\n    baseDelay: soon\n", "objectStores.retry.baseDelay", "not a duration"},
		{"bad max delay", "objectStores:\n  retry:\n    maxDelay: 1 s\n", "objectStores.retry.maxDelay", "not a duration"},
		{"max below base", "objectStores:\n  retry:\n    baseDelay: 2s\n    maxDelay: 1s\n", "objectStores.retry.maxDelay", "BaseDelay"},
		{"negative attempts", "objectStores:\n  retry:\n    maxAttempts: -1\n", "objectStores.retry.maxAttempts", "negative"},
		{"bad session duration", "objectStores:\n  aws:\n    mode: cloud\n    sessionDuration: forever\n", "objectStores.aws.sessionDuration", "not a duration"},
		{"short session", "objectStores:\n  aws:\n    mode: cloud\n    sessionDuration: 5m\n", "objectStores.aws.sessionDuration", "15m..12h"},
		{"bad AWS mode", "objectStores:\n  aws:\n    mode: s3\n", "objectStores.aws.mode", `"s3" is not one of cloud, s3-compatible, local`},
		{"Azure mode of another provider", "objectStores:\n  azure:\n    mode: s3-compatible\n", "objectStores.azure.mode", "azure-compatible"},
		{"bad GCP mode", "objectStores:\n  gcp:\n    mode: gcs\n", "objectStores.gcp.mode", "gcs-compatible"},
		{"S3 endpoint missing", "objectStores:\n  aws:\n    mode: s3-compatible\n    accessKeyId: a\n    secretAccessKey: b\n",
			"objectStores.aws.endpoint", "required in mode s3-compatible"},
		{"Azure endpoint missing", "objectStores:\n  azure:\n    mode: azure-compatible\n    accountName: a\n    accountKey: a2V5\n",
			"objectStores.azure.endpoint", "required in mode azure-compatible"},
		{"GCS endpoint missing", "objectStores:\n  gcp:\n    mode: gcs-compatible\n", "objectStores.gcp.endpoint", "required in mode gcs-compatible"},
		{"endpoint in cloud mode", "objectStores:\n  aws:\n    mode: cloud\n    endpoint: http://127.0.0.1:9000\n", "objectStores.aws.endpoint", "not used in mode cloud"},
		{"endpoint in local mode", "objectStores:\n  gcp:\n    endpoint: http://127.0.0.1:4443\n", "objectStores.gcp.endpoint", "not used in mode local"},
		{"endpoint not http", "objectStores:\n  aws:\n    mode: s3-compatible\n    endpoint: minio:9000\n    accessKeyId: a\n    secretAccessKey: b\n",
			"objectStores.aws.endpoint", "scheme"},
		{"credentials in the endpoint", "objectStores:\n  azure:\n    mode: azure-compatible\n    endpoint: http://admin:hunter2@127.0.0.1:10000/acct\n    accountName: a\n    accountKey: a2V5\n",
			"objectStores.azure.endpoint", "credentials do not belong in the URL"},
		{"S3 without credentials", "objectStores:\n  aws:\n    mode: s3-compatible\n    endpoint: http://127.0.0.1:9000\n",
			"objectStores.aws.accessKeyId", "required"},
		{"secret without key id", "objectStores:\n  aws:\n    mode: cloud\n    secretAccessKey: s\n", "objectStores.aws.secretAccessKey", "go together"},
		{"STS in local mode", "objectStores:\n  aws:\n    stsEndpoint: http://127.0.0.1:9000\n", "objectStores.aws.stsEndpoint", "local"},
		{"bad region", "objectStores:\n  aws:\n    region: US East\n", "objectStores.aws.region", "not a region"},
		{"Azurite without key", "objectStores:\n  azure:\n    mode: azure-compatible\n    endpoint: http://127.0.0.1:10000/devstoreaccount1\n    accountName: devstoreaccount1\n",
			"objectStores.azure.accountKey", "required"},
		{"Azure secret without client id", "objectStores:\n  azure:\n    mode: cloud\n    clientSecret: s\n", "objectStores.azure.clientId", "required"},
		{"Azure secret and certificate", "objectStores:\n  azure:\n    mode: cloud\n    clientId: c\n    clientSecret: s\n    clientCertificateFile: /c.pem\n",
			"objectStores.azure.clientCertificateFile", "either"},
		{"impersonation in local mode", "objectStores:\n  gcp:\n    iamCredentialsEndpoint: http://127.0.0.1:8085\n", "objectStores.gcp.iamCredentialsEndpoint", "local"},
		{"bad rate limit", "rateLimits:\n  cloudBackups: lots\n", "rateLimits.cloudBackups", "CAPACITY:REFILL/PERIOD"},
		{"bad clusters rate limit", "rateLimits:\n  clusters: 10000:0/1m\n", "rateLimits.clusters", `"10000:0/1m" is not CAPACITY:REFILL/PERIOD`},
		{"bad projects rate limit", "rateLimits:\n  projects: 1200/1m\n", "rateLimits.projects", `"1200/1m" is not CAPACITY:REFILL/PERIOD`},
		{"bad failed authentications rate limit", "rateLimits:\n  failedAuthentications: 100\n", "rateLimits.failedAuthentications", `"100" is not CAPACITY:REFILL/PERIOD`},
		{"trusted proxy not a network", "trustedProxies: [10.0.0.0/8, proxy.internal]\n", "trustedProxies", `"proxy.internal" is not a network such as 10.0.0.0/8`},
		{"trusted proxy with a zone", "trustedProxies: [\"fe80::1%eth0\"]\n", "trustedProxies", `"fe80::1%eth0" is not a network`},
		{"trusted proxies not a list", "trustedProxies: 10.0.0.0/8\n", "", "line 1"},
		{"unknown key named", "listen: 127.0.0.1:8080\nexprots:\n  jobs: 2\n", "", `line 2: field exprots not found: unknown key "exprots"; the file's keys are listen, metricsListen, logFormat, data,`},
		{"unknown nested key named", "exports:\n  jobs: 2\n  jbos: 3\n", "",
			`line 3: field jbos not found: unknown key "jbos" in section exports; its keys are jobs, parallelCollections, chunkBytes, lease`},
		{"unknown key in a merged mapping", "exports:\n  <<: {jbos: 2}\n", "", `unknown key "jbos" in section exports`},
		{"wrongly typed number", "exports:\n  jobs: many\n", "exports.jobs", `line 2: exports.jobs: want a whole number, not "many"`},
		{"wrongly typed switch", "rateLimits:\n  disabled: sometimes\n", "rateLimits.disabled", `line 2: rateLimits.disabled: want true or false, not "sometimes"`},
		{"number too large", "postgres:\n  maxConns: 3000000000\n", "postgres.maxConns", "want a whole number up to 2147483647"},
		{"list for a section", "exports: [1, 2]\n", "exports", "line 1: exports: want a section of keys, not a list"},
		{"section for a value", "objectStores:\n  aws:\n    privateEndpoints: [https://vpce.example.com]\n", "objectStores.aws.privateEndpoints", "not a list"},
		{"duplicate nested key", "exports:\n  jobs: 1\n  jobs: 2\n", "", `line 3: key "exports.jobs" already defined at line 2`},
		{"no export jobs", "exports:\n  jobs: 0\n", "exports.jobs", "0 is not a positive number"},
		{"negative parallel collections", "exports:\n  parallelCollections: -2\n", "exports.parallelCollections", "-2 is not a positive number"},
		{"empty chunks", "exports:\n  chunkBytes: 0\n", "exports.chunkBytes", "0 is not a positive number"},
		{"bad lease", "exports:\n  lease: a while\n", "exports.lease", "not a duration"},
		{"short lease", "exports:\n  lease: 500ms\n", "exports.lease", `"500ms" is shorter than the least lease, 1s`},
		{"no sweep interval", "snapshotSweepInterval: 0s\n", "snapshotSweepInterval", "not a positive duration"},
		{"bad sweep interval", "snapshotSweepInterval: hourly\n", "snapshotSweepInterval", "not a duration"},
		{"no schedule poll interval", "schedulePollInterval: 0s\n", "schedulePollInterval", "not a positive duration"},
		{"bad schedule poll interval", "schedulePollInterval: often\n", "schedulePollInterval", "not a duration"},
		{"negative shutdown timeout", "shutdownTimeout: -5s\n", "shutdownTimeout", "not a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.body)
			_, err := config.Load(path)
			if err == nil {
				t.Fatalf("Load accepted:\n%s", tc.body)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+": ") {
				t.Errorf("%q does not start with the file name", msg)
			}
			if tc.field != "" {
				if !strings.Contains(msg, ": "+tc.field+": ") {
					t.Errorf("%q does not name %s", msg, tc.field)
				}
				if !slices.Contains(keys, tc.field) {
					t.Errorf("the message names %s, which is not a key of the file", tc.field)
				}
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("%q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("%q shows a password", msg)
			}
		})
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// fileKeys lists every key of the file as dotted paths
// (objectStores.aws.endpoint), from File's yaml tags.
func fileKeys() []string {
	var keys []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			key := prefix + name
			keys = append(keys, key)
			if f.Type.Kind() == reflect.Struct {
				walk(key+".", f.Type)
			}
		}
	}
	walk("", reflect.TypeOf(config.File{}))
	return keys
}

// TestReferenceKeysExist: every key the Reference table of
// docs/configuration.md documents is one the file has (loaded with unknown
// keys refused), and every key of the file is in that table.
func TestReferenceKeysExist(t *testing.T) {
	documented := referenceKeys(t, "../../docs/configuration.md")
	var body strings.Builder
	for _, key := range documented {
		// The key with every section above it, valued null: a file with
		// that key alone.
		body.Reset()
		for depth, part := range strings.Split(key, ".") {
			fmt.Fprintf(&body, "%s%s:\n", strings.Repeat("  ", depth), part)
		}
		if _, err := config.Load(writeFile(t, body.String())); err != nil {
			t.Errorf("documented key %s: %v", key, err)
		}
	}
	for _, key := range fileKeys() {
		if !slices.Contains(documented, key) {
			t.Errorf("key %s is not in the Reference table of docs/configuration.md", key)
		}
	}
}

// referenceKeys lists the keys of the Reference table of a Markdown file:
// the first cell of its rows.
func referenceKeys(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "\n## Reference\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var keys []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(section, -1) {
		keys = append(keys, m[1])
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no Reference table", path)
	}
	return keys
}

// yamlBlocks returns the ```yaml blocks of a Markdown file.
func yamlBlocks(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```yaml":
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: unterminated ```yaml block", path)
	}
	return blocks
}

// TestDocumentedExamplesLoad loads every YAML example of
// docs/configuration.md and README.md, so that the documentation cannot
// drift from the file format, and checks that together they show every
// provider in every mode, and that the reference names every key.
func TestDocumentedExamplesLoad(t *testing.T) {
	modes := map[string]bool{}
	var s3WithSTS, s3Static bool
	for _, doc := range []string{"../../docs/configuration.md", "../../README.md"} {
		for i, block := range yamlBlocks(t, doc) {
			f, err := config.Load(writeFile(t, block))
			if err != nil {
				t.Errorf("%s, YAML example %d: %v\n%s", doc, i+1, err, block)
				continue
			}
			c, err := f.ObjectStoreConfig()
			if err != nil {
				t.Errorf("%s, YAML example %d: %v", doc, i+1, err)
				continue
			}
			c.LocalDir = "/data/buckets"
			if _, err := objectstore.New(c); err != nil {
				t.Errorf("%s, YAML example %d: objectstore.New: %v", doc, i+1, err)
			}
			for p, m := range map[string]objectstore.Mode{"aws": c.AWS.Mode, "azure": c.Azure.Mode, "gcp": c.GCP.Mode} {
				if m == "" {
					m = objectstore.ModeLocal
				}
				modes[p+":"+string(m)] = true
			}
			if c.AWS.Mode == objectstore.ModeS3Compatible {
				if c.AWS.STSEndpoint != "" {
					s3WithSTS = true
				} else {
					s3Static = true
				}
			}
		}
	}
	for _, want := range []string{"aws:cloud", "aws:s3-compatible", "aws:local", "azure:cloud", "azure:azure-compatible", "azure:local",
		"gcp:cloud", "gcp:gcs-compatible", "gcp:local"} {
		if !modes[want] {
			t.Errorf("no documented example configures %s", want)
		}
	}
	if !s3WithSTS || !s3Static {
		t.Errorf("S3-compatible examples: with STS %v, static credentials %v; want both", s3WithSTS, s3Static)
	}

	ref, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range fileKeys() {
		if !strings.Contains(string(ref), "`"+key+"`") {
			t.Errorf("docs/configuration.md does not document `%s`: add it to the Reference table", key)
		}
	}
}
