package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// The command's contract as an operator and a script see it: what init
// prints, how it refuses to run twice, how flags are checked, what the
// admin commands do to the API's view of who may do what, and how serve
// starts and stops.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) { testservices.Main(m, func() { os.RemoveAll(buildDir) }) }

// binary builds the snapexport command once per test run, with the crash
// points of the export runner (exportrunner.CrashEnv) that the crash tests
// trigger; the shipped binary has none (TestShippedBinaryHasNoCrashPoints).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "snapexport-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "snapexport")
		buildErr = goBuild(binPath, "-tags", "crashpoints")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// goBuild builds the command into out with extra flags.
func goBuild(out string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, ".")
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// execResult is what a finished command left behind.
type execResult struct {
	stdout, stderr string
	code           int
}

// execBinary runs the binary to completion.
func execBinary(t *testing.T, args ...string) execResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("snapexport %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return execResult{stdout.String(), stderr.String(), code}
}

// runInProcess calls run as main does and returns what main would print
// and its exit status.
func runInProcess(t *testing.T, args ...string) execResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	code := 0
	if err != nil {
		fmt.Fprintln(&stderr, "snapexport:", err)
		code = exitCode(err)
	}
	return execResult{stdout.String(), stderr.String(), code}
}

// mustJSON runs an admin command in-process with --json and decodes its
// output into v.
func mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	res := runInProcess(t, append(args, "--json")...)
	if res.code != 0 {
		t.Fatalf("snapexport %s: exit %d\n%s", strings.Join(args, " "), res.code, res.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("snapexport %s: output is not the JSON expected: %v\n%s", strings.Join(args, " "), err, res.stdout)
	}
}

// mustFail runs a command in-process and checks that it fails with exit
// status code and a message containing every want.
func mustFail(t *testing.T, code int, want []string, args ...string) {
	t.Helper()
	res := runInProcess(t, args...)
	if res.code != code {
		t.Errorf("snapexport %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, code, res.stdout, res.stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("snapexport %s: message %q does not name %q", strings.Join(args, " "), res.stderr, w)
		}
	}
	if res.stdout != "" {
		t.Errorf("snapexport %s failed yet printed on stdout: %s", strings.Join(args, " "), res.stdout)
	}
}

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

func fileHash(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// initCreds is init's JSON output.
type initCreds struct {
	OrgID   string `json:"orgId"`
	GroupID string `json:"groupId"`
	APIKey  struct {
		PublicKey  string `json:"publicKey"`
		PrivateKey string `json:"privateKey"`
	} `json:"apiKey"`
	ServiceAccount struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	} `json:"serviceAccount"`
	SecretKeyFile string `json:"secretKeyFile"`
}

// initBinary runs the binary's init --json on dir, with more flags, and
// returns the credentials it printed.
func initBinary(t *testing.T, dir string, flags ...string) initCreds {
	t.Helper()
	res := execBinary(t, append([]string{"init", "--data", dir, "--json"}, flags...)...)
	if res.code != 0 {
		t.Fatalf("init %v: exit %d\n%s", flags, res.code, res.stderr)
	}
	var creds initCreds
	if err := json.Unmarshal([]byte(res.stdout), &creds); err != nil {
		t.Fatal(err)
	}
	return creds
}

// initServed initializes a fresh data directory in-process and serves it
// until the test ends, as a server running beside the admin commands; it
// returns the directory, the credentials init printed and a client of the
// organization's owner.
func initServed(t *testing.T) (dir string, creds initCreds, owner *apitest.Client) {
	t.Helper()
	dir = t.TempDir()
	mustJSON(t, &creds, "init", "--data", dir)
	return dir, creds, creds.owner(startInProcess(t, dir))
}

// owner is a client of the server at base signing with init's API key,
// which owns the organization.
func (c initCreds) owner(base string) *apitest.Client {
	return &apitest.Client{BaseURL: base, Auth: apitest.Digest(c.APIKey.PublicKey, c.APIKey.PrivateKey)}
}

func TestInitJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	res := execBinary(t, "init", "--data", dir, "--json")
	if res.code != 0 {
		t.Fatalf("init: exit %d\n%s", res.code, res.stderr)
	}

	// Exactly one JSON object, with exactly these fields.
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, res.stdout)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("stdout has more than one JSON object: %q", rest)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout has more than one JSON value (%v)", err)
	}
	wantKeys := map[string][]string{"orgId": nil, "groupId": nil, "secretKeyFile": nil,
		"apiKey": {"privateKey", "publicKey"}, "serviceAccount": {"clientId", "clientSecret"}}
	if got := sortedKeys(raw); !slices.Equal(got, sortedKeys(wantKeys)) {
		t.Errorf("init --json fields = %v, want %v", got, sortedKeys(wantKeys))
	}
	for k, sub := range wantKeys {
		if sub == nil {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw[k], &m); err != nil {
			t.Fatalf("%s is not an object: %s", k, raw[k])
		}
		if got := sortedKeys(m); !slices.Equal(got, sub) {
			t.Errorf("%s fields = %v, want %v", k, got, sub)
		}
		for f, v := range m {
			if s, _ := v.(string); s == "" {
				t.Errorf("%s.%s = %v, want a non-empty string", k, f, v)
			}
		}
	}
	var creds initCreds
	if err := json.Unmarshal([]byte(res.stdout), &creds); err != nil {
		t.Fatal(err)
	}
	if !hex24.MatchString(creds.OrgID) || !hex24.MatchString(creds.GroupID) {
		t.Errorf("orgId %q, groupId %q: want 24 lower-case hex digits", creds.OrgID, creds.GroupID)
	}
	// The secret key it wrote: owner-only, 32 bytes in base64.
	if creds.SecretKeyFile != filepath.Join(dir, "secret.key") {
		t.Errorf("secretKeyFile %q, want %s", creds.SecretKeyFile, filepath.Join(dir, "secret.key"))
	}
	if fi, err := os.Stat(creds.SecretKeyFile); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret key file mode %v, want 0600", fi.Mode())
	}
	if text, err := os.ReadFile(creds.SecretKeyFile); err != nil || len(strings.TrimSpace(string(text))) != 44 {
		t.Errorf("secret key file holds %d characters (%v), want 44 of base64", len(strings.TrimSpace(string(text))), err)
	}

	// A second init refuses and changes nothing.
	db := filepath.Join(dir, sqlite.DatabaseFile)
	before := fileHash(t, db)
	again := execBinary(t, "init", "--data", dir, "--json")
	if again.code == 0 {
		t.Fatalf("second init succeeded:\n%s", again.stdout)
	}
	if again.stdout != "" {
		t.Errorf("second init printed on stdout (a script would take it for credentials): %q", again.stdout)
	}
	if !strings.Contains(again.stderr, "already initialized") || !strings.Contains(again.stderr, dir) {
		t.Errorf("second init message %q should say that %s is already initialized", again.stderr, dir)
	}
	if after := fileHash(t, db); after != before {
		t.Errorf("second init changed %s", db)
	}

	// The printed credentials work.
	base := startInProcess(t, dir)
	owner := creds.owner(base)
	got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + creds.GroupID, Accept: apitest.MediaType("2023-01-01")})
	if got.Status != 200 || got.Field(t, "orgId") != creds.OrgID {
		t.Errorf("the printed API key cannot read the printed project: %s", got)
	}
	sa := &apitest.Client{BaseURL: base, Auth: apitest.Bearer(owner.Token(t, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret))}
	if got := sa.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + creds.GroupID, Accept: apitest.MediaType("2023-01-01")}); got.Status != 200 {
		t.Errorf("the printed service account cannot read the printed project: %s", got)
	}
}

// TestInitConcurrent runs several inits on one empty directory at once, as
// a deployment script retried in parallel might: exactly one initializes,
// every other one says the directory is already initialized, and the one
// organization is the winner's.
func TestInitConcurrent(t *testing.T) {
	const n = 4
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	bin := binary(t)
	for round := range rounds {
		dir := filepath.Join(t.TempDir(), "data")
		results := make([]execResult, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "init", "--data", dir, "--json")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				results[i] = execResult{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
				if err != nil && cmd.ProcessState == nil {
					results[i].code = -1
				}
			}()
		}
		wg.Wait()
		var winner initCreds
		wins := 0
		for _, r := range results {
			if r.code == 0 {
				wins++
				if err := json.Unmarshal([]byte(r.stdout), &winner); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				continue
			}
			if !strings.Contains(r.stderr, "already initialized") {
				t.Errorf("round %d: a losing init said %q (exit %d), want that the directory is already initialized", round, r.stderr, r.code)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d inits succeeded, want exactly 1", round, wins)
		}
		var orgs []orgOut
		mustJSON(t, &orgs, "admin", "org", "list", "--data", dir)
		if len(orgs) != 1 || orgs[0].ID != winner.OrgID {
			t.Errorf("round %d: organizations %+v, want only the winner's %s", round, orgs, winner.OrgID)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // named in the message
	}{
		{[]string{}, "no command"},
		{[]string{"frobnicate"}, "frobnicate"},
		{[]string{"init", "--bogus"}, "bogus"},
		{[]string{"init", "--json=maybe"}, "json"},
		{[]string{"init", "stray"}, "stray"},
		{[]string{"serve", "--rate-limit-cloud-backups=lots"}, "rate-limit-cloud-backups"},
		{[]string{"serve", "--rate-limit-cloud-provider-access=10:5"}, "rate-limit-cloud-provider-access"},
		{[]string{"serve", "--shutdown-timeout=soon"}, "shutdown-timeout"},
		{[]string{"serve", "--listen"}, "listen"},
		{[]string{"admin"}, "resource and an action"},
		{[]string{"admin", "org", "explode"}, "org explode"},
		{[]string{"admin", "org", "create", "--colour", "red"}, "colour"},
		{[]string{"admin", "project", "create", "--org", "0123456789abcdef01234567"}, "--name"},
		{[]string{"admin", "apikey", "create"}, "--org"},
		{[]string{"admin", "apikey", "create", "--org", "0123456789abcdef01234567", "--org-role", "GROUP_OWNER"}, "org-role"},
		{[]string{"admin", "role", "assign", "--public-key", "abcdefgh"}, "--role"},
		{[]string{"admin", "serviceaccount", "delete"}, "--client-id"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			// Point every command that would open a data directory at a
			// fresh one, right after the command's words, so that a usage
			// error cannot touch a real one and can be seen not to create it.
			args := slices.Clone(tc.args)
			words := 0
			switch {
			case len(args) > 0 && (args[0] == "init" || args[0] == "serve"):
				words = 1
			case len(args) >= 3 && args[0] == "admin":
				words = 3
			}
			if words > 0 {
				args = slices.Insert(args, words, "--data", dir)
			}
			res := execBinary(t, args...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr %q does not name %q", res.stderr, tc.want)
			}
			if res.stdout != "" && !strings.Contains(res.stdout, "usage") {
				t.Errorf("a usage error printed on stdout: %s", res.stdout)
			}
			if len(args) > 0 && (args[0] == "init" || args[0] == "serve") {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("a usage error created the data directory %s", dir)
				}
			}
		})
	}
	// -h asks for the usage, which is what the command then does: on
	// standard output, with status 0.
	if res := execBinary(t, "init", "-h"); res.code != 0 || !strings.Contains(res.stdout, "--data") || res.stderr != "" {
		t.Errorf("init -h: exit %d, stdout %q, stderr %q; want 0 and the flag list on stdout", res.code, res.stdout, res.stderr)
	}
}

type orgOut struct {
	ID, Name, Created string
}
type projectOut struct {
	ID      string `json:"id"`
	OrgID   string `json:"orgId"`
	Name    string `json:"name"`
	Created string `json:"created"`
}
type roleOut struct {
	OrgID     string `json:"orgId"`
	ProjectID string `json:"projectId"`
	Role      string `json:"role"`
}
type credsOut struct {
	ID           string `json:"id"`
	PublicKey    string `json:"publicKey"`
	PrivateKey   string `json:"privateKey"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// TestAdmin drives the admin commands against a data directory that a
// running server also has open, and checks their effect through the API.
func TestAdmin(t *testing.T) {
	dir, creds, owner := initServed(t)
	base := owner.BaseURL
	d := []string{"--data", dir}
	unknown := "0123456789abcdef01234567"

	// Organizations.
	var org2 orgOut
	mustJSON(t, &org2, append([]string{"admin", "org", "create", "--name", "second"}, d...)...)
	if !hex24.MatchString(org2.ID) || org2.Name != "second" {
		t.Errorf("org create printed %+v", org2)
	}
	var orgs []orgOut
	mustJSON(t, &orgs, append([]string{"admin", "org", "list"}, d...)...)
	if ids := orgIDs(orgs); !slices.Contains(ids, creds.OrgID) || !slices.Contains(ids, org2.ID) || len(ids) != 2 {
		t.Errorf("org list = %+v, want the init organization and %s", orgs, org2.ID)
	}
	if res := runInProcess(t, append([]string{"admin", "org", "list"}, d...)...); !strings.Contains(res.stdout, org2.ID) || !strings.Contains(res.stdout, "second") {
		t.Errorf("org list (text) does not show the new organization: %q", res.stdout)
	}

	// Projects.
	var p2, p3 projectOut
	mustJSON(t, &p2, append([]string{"admin", "project", "create", "--org", creds.OrgID, "--name", "backups"}, d...)...)
	mustJSON(t, &p3, append([]string{"admin", "project", "create", "--org", org2.ID, "--name", "elsewhere"}, d...)...)
	if !hex24.MatchString(p2.ID) || p2.OrgID != creds.OrgID || p2.Name != "backups" {
		t.Errorf("project create printed %+v", p2)
	}
	var projects []projectOut
	mustJSON(t, &projects, append([]string{"admin", "project", "list", "--org", creds.OrgID}, d...)...)
	var pids []string
	for _, p := range projects {
		pids = append(pids, p.ID)
	}
	if !slices.Contains(pids, creds.GroupID) || !slices.Contains(pids, p2.ID) || slices.Contains(pids, p3.ID) {
		t.Errorf("project list --org %s = %v, want %s and %s but not %s", creds.OrgID, pids, creds.GroupID, p2.ID, p3.ID)
	}
	mustFail(t, 1, []string{unknown}, append([]string{"admin", "project", "create", "--org", unknown, "--name", "x"}, d...)...)
	mustFail(t, 1, []string{unknown}, append([]string{"admin", "project", "list", "--org", unknown}, d...)...)
	mustFail(t, 1, []string{"backups"}, append([]string{"admin", "project", "create", "--org", creds.OrgID, "--name", "backups"}, d...)...)

	// An API key with Backup Manager on p2 only.
	mustFail(t, 1, []string{unknown}, append([]string{"admin", "apikey", "create", "--org", unknown}, d...)...)
	var key credsOut
	mustJSON(t, &key, append([]string{"admin", "apikey", "create", "--org", creds.OrgID, "--description", "ci"}, d...)...)
	if key.PublicKey == "" || key.PrivateKey == "" {
		t.Fatalf("apikey create printed %+v, want publicKey and privateKey", key)
	}
	var roles []roleOut
	mustJSON(t, &roles, append([]string{"admin", "role", "assign", "--public-key", key.PublicKey, "--project", p2.ID, "--role", "GROUP_BACKUP_MANAGER"}, d...)...)
	wantRoles := []roleOut{{OrgID: creds.OrgID, ProjectID: p2.ID, Role: "GROUP_BACKUP_MANAGER"}}
	if !slices.Equal(roles, wantRoles) {
		t.Errorf("role assign printed %+v, want %+v", roles, wantRoles)
	}
	roles = nil
	mustJSON(t, &roles, append([]string{"admin", "role", "list", "--public-key", key.PublicKey}, d...)...)
	if !slices.Equal(roles, wantRoles) {
		t.Errorf("role list = %+v, want %+v", roles, wantRoles)
	}
	mustFail(t, 1, []string{p3.ID}, append([]string{"admin", "role", "assign", "--public-key", key.PublicKey, "--project", p3.ID, "--role", "GROUP_OWNER"}, d...)...)
	mustFail(t, 1, []string{"GROUP_SUPERUSER"}, append([]string{"admin", "role", "assign", "--public-key", key.PublicKey, "--project", p2.ID, "--role", "GROUP_SUPERUSER"}, d...)...)
	mustFail(t, 1, []string{unknown}, append([]string{"admin", "role", "assign", "--public-key", key.PublicKey, "--project", unknown, "--role", "GROUP_OWNER"}, d...)...)
	mustFail(t, 1, []string{"nosuchkey"}, append([]string{"admin", "role", "list", "--public-key", "nosuchkey"}, d...)...)
	roles = nil
	mustJSON(t, &roles, append([]string{"admin", "role", "list", "--public-key", key.PublicKey}, d...)...)
	if !slices.Equal(roles, wantRoles) {
		t.Errorf("after refused assignments role list = %+v, want %+v", roles, wantRoles)
	}

	// What that key may do, as the running server sees it.
	roleID := awsRole(t, owner, p2.ID)
	manager := &apitest.Client{BaseURL: base, Auth: apitest.Digest(key.PublicKey, key.PrivateKey)}
	bucket := fmt.Sprintf(`{"bucketName":"cli-bucket","cloudProvider":"AWS","iamRoleId":%q}`, roleID)
	got := manager.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + p2.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"), Body: bucket})
	if got.Status != 200 || !hex24.MatchString(got.Field(t, "_id")) {
		t.Errorf("Backup Manager creating a bucket in its project: %s", got)
	}
	got = manager.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + creds.GroupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")})
	if got.Status != 401 || got.Field(t, "errorCode") != "NOT_IN_GROUP" {
		t.Errorf("the key on a project it has no role on: %s, want 401 NOT_IN_GROUP", got)
	}
	other := awsRole(t, owner, creds.GroupID)
	got = manager.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + creds.GroupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"), Body: fmt.Sprintf(`{"bucketName":"cli-bucket","cloudProvider":"AWS","iamRoleId":%q}`, other)})
	if got.Status != 401 {
		t.Errorf("the key creating a bucket in another project: %s, want 401", got)
	}
	got = manager.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + p2.ID + "/cloudProviderAccess", Accept: apitest.MediaType("2023-01-01"), Body: `{"providerName":"AWS"}`})
	if got.Status != 401 || got.Field(t, "errorCode") != "USER_UNAUTHORIZED" {
		t.Errorf("Backup Manager creating a cloud provider access role (Project Owner): %s, want 401 USER_UNAUTHORIZED", got)
	}

	// Listing keys never shows a secret; deleting one locks it out.
	res := runInProcess(t, append([]string{"admin", "apikey", "list", "--org", creds.OrgID, "--json"}, d...)...)
	if !strings.Contains(res.stdout, key.PublicKey) || strings.Contains(res.stdout, key.PrivateKey) || strings.Contains(res.stdout, creds.APIKey.PrivateKey) {
		t.Errorf("apikey list should show the public key and no private key:\n%s", res.stdout)
	}
	mustJSON(t, &map[string]bool{}, append([]string{"admin", "apikey", "delete", "--public-key", key.PublicKey}, d...)...)
	if got := withinPrincipalTTL(t, func() *apitest.Response {
		return manager.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + p2.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")})
	}, func(r *apitest.Response) bool { return r.Status == 401 }); got.Status != 401 {
		t.Errorf("a deleted API key still reads the project: %d", got.Status)
	}
	mustFail(t, 1, []string{key.PublicKey}, append([]string{"admin", "role", "list", "--public-key", key.PublicKey}, d...)...)
	mustFail(t, 1, []string{key.PublicKey}, append([]string{"admin", "apikey", "delete", "--public-key", key.PublicKey}, d...)...)
	if res := runInProcess(t, append([]string{"admin", "apikey", "list", "--org", creds.OrgID, "--json"}, d...)...); strings.Contains(res.stdout, key.PublicKey) {
		t.Errorf("apikey list still shows the deleted key:\n%s", res.stdout)
	}

	// Service accounts.
	var sa credsOut
	mustJSON(t, &sa, append([]string{"admin", "serviceaccount", "create", "--org", creds.OrgID, "--name", "ci-sa"}, d...)...)
	if sa.ClientID == "" || sa.ClientSecret == "" {
		t.Fatalf("serviceaccount create printed %+v, want clientId and clientSecret", sa)
	}
	res = runInProcess(t, append([]string{"admin", "serviceaccount", "list", "--org", creds.OrgID, "--json"}, d...)...)
	if !strings.Contains(res.stdout, sa.ClientID) || strings.Contains(res.stdout, sa.ClientSecret) {
		t.Errorf("serviceaccount list should show the client id and no secret:\n%s", res.stdout)
	}
	mustJSON(t, &roles, append([]string{"admin", "role", "assign", "--client-id", sa.ClientID, "--project", p2.ID, "--role", "GROUP_READ_ONLY"}, d...)...)
	reader := &apitest.Client{BaseURL: base, Auth: apitest.Bearer(owner.Token(t, sa.ClientID, sa.ClientSecret))}
	if got := reader.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + p2.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")}); got.Status != 200 {
		t.Errorf("a read-only service account listing buckets: %s", got)
	}
	if got := reader.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + p2.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30"), Body: bucket}); got.Status != 401 {
		t.Errorf("a read-only service account creating a bucket: %s", got)
	}
	roles = nil
	mustJSON(t, &roles, append([]string{"admin", "role", "unassign", "--client-id", sa.ClientID, "--project", p2.ID, "--role", "GROUP_READ_ONLY"}, d...)...)
	if len(roles) != 0 {
		t.Errorf("after unassigning its only role, role unassign printed %+v", roles)
	}
	if got := withinPrincipalTTL(t, func() *apitest.Response {
		return reader.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + p2.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")})
	}, func(r *apitest.Response) bool { return r.Status == 401 }); got.Status != 401 || got.Field(t, "errorCode") != "NOT_IN_GROUP" {
		t.Errorf("a service account without roles listing buckets: %s, want 401 NOT_IN_GROUP", got)
	}
	mustFail(t, 1, []string{"GROUP_READ_ONLY"}, append([]string{"admin", "role", "unassign", "--client-id", sa.ClientID, "--project", p2.ID, "--role", "GROUP_READ_ONLY"}, d...)...)
	mustJSON(t, &map[string]bool{}, append([]string{"admin", "serviceaccount", "delete", "--client-id", sa.ClientID}, d...)...)
	res = runInProcess(t, append([]string{"admin", "serviceaccount", "list", "--org", creds.OrgID, "--json"}, d...)...)
	if strings.Contains(res.stdout, sa.ClientID) {
		t.Errorf("serviceaccount list still shows the deleted account:\n%s", res.stdout)
	}
	if got := reader.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + p2.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")}); got.Status != 401 {
		t.Errorf("the token of a deleted service account still works: %d", got.Status)
	}
	if st := owner.RequestToken(t, sa.ClientID, sa.ClientSecret).Status; st != 401 {
		t.Errorf("a deleted service account still gets tokens: %d", st)
	}
}

func orgIDs(orgs []orgOut) []string {
	var out []string
	for _, o := range orgs {
		out = append(out, o.ID)
	}
	return out
}

// overSQLite is cfg over SQLite in its data directory.
func overSQLite(cfg server.Config) server.Config {
	cfg, _ = withDatabase(cfg, "", postgres.Options{})
	return cfg
}

// startInProcess serves dir in-process, as `serve` would, until the test ends.
func startInProcess(t *testing.T, dir string) string {
	t.Helper()
	srv, err := server.Open(context.Background(), overSQLite(server.Config{DataDir: dir, Limits: api.Limits{Disabled: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

func jsonField(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, body)
	}
	s, _ := m[field].(string)
	return s
}

// awsRole creates and authorizes an AWS cloud provider access role.
func awsRole(t *testing.T, c *apitest.Client, groupID string) string {
	t.Helper()
	path := "/api/atlas/v2/groups/" + groupID + "/cloudProviderAccess"
	got := c.Do(t, apitest.Request{Method: "POST", Path: path, Accept: apitest.MediaType("2023-01-01"), Body: `{"providerName":"AWS"}`})
	if got.Status != 200 {
		t.Fatalf("create role: %s", got)
	}
	id := got.Field(t, "roleId")
	got = c.Do(t, apitest.Request{Method: "PATCH", Path: path + "/" + id, Accept: apitest.MediaType("2023-01-01"),
		Body: `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/export"}`})
	if got.Status != 200 {
		t.Fatalf("authorize role: %s", got)
	}
	return id
}

// serveProc is a running `snapexport serve`.
type serveProc struct {
	cmd            *exec.Cmd
	stdout, stderr *testserver.LogBuffer
	base           string
	done           chan struct{}
	err            error // of Wait, once done is closed
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

// startServe starts serve on dir, on a free loopback port, and waits until
// /healthz answers 200.
func startServe(t *testing.T, dir string, extra ...string) *serveProc {
	t.Helper()
	return startServeEnv(t, dir, nil, extra...)
}

// startServeEnv is startServe with more environment variables.
func startServeEnv(t *testing.T, dir string, env []string, extra ...string) *serveProc {
	t.Helper()
	args := append([]string{"serve", "--data", dir, "--listen", "127.0.0.1:0"}, extra...)
	p := &serveProc{cmd: exec.Command(binary(t), args...), stdout: &testserver.LogBuffer{}, stderr: &testserver.LogBuffer{}, done: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(p.stderr.String()); m != nil {
			p.base = "http://" + m[1]
			break
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited before serving: %v\nstdout: %s\nstderr: %s", p.err, p.stdout, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start serving\nstderr: %s", p.stderr)
		}
	}
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(body, []byte(`"OK"`)) {
				return p
			}
			t.Fatalf("GET /healthz: %d %s", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// printed waits until serve's standard output matches re (the
// credentials of an empty data directory come once they are stored, after
// serve answers) and returns the output so far.
func (p *serveProc) printed(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !re.MatchString(p.stdout.String()) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("serve did not print %s\nstdout: %s\nstderr: %s", re, p.stdout, p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p.stdout.String()
}

// wait waits for the process to exit and returns its exit status.
func (p *serveProc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("serve did not exit within %v\nstderr: %s", within, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *serveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

var (
	printedOrg     = regexp.MustCompile(`Organization ID:\s+([0-9a-f]{24})`)
	printedProject = regexp.MustCompile(`Project \(group\) ID:\s+([0-9a-f]{24})`)
	printedKey     = regexp.MustCompile(`public (\S+)\s+private (\S+)`)
	printedSA      = regexp.MustCompile(`client id (\S+)\s+client secret (\S+)`)
	printedKeyFile = regexp.MustCompile(`secret key, which seals[^\n]*\n[^\n]*is in (\S+): back it up`)
)

// TestServe starts serve on an empty directory, checks the credentials it
// prints, and stops it with SIGTERM and then, restarted, with SIGINT while
// a request is in flight: each must finish that request and exit 0.
func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, dir)

	out := p.printed(t, printedSA)
	org, project, key, sa := printedOrg.FindStringSubmatch(out), printedProject.FindStringSubmatch(out), printedKey.FindStringSubmatch(out), printedSA.FindStringSubmatch(out)
	if org == nil || project == nil || key == nil || sa == nil {
		t.Fatalf("serve on an empty directory should print the organization, project, API key and service account:\n%s", out)
	}
	for _, secret := range []string{key[2], sa[2]} {
		if n := strings.Count(out, secret); n != 1 {
			t.Errorf("secret %q printed %d times, want once", secret, n)
		}
	}
	if strings.Contains(p.stderr.String(), key[2]) || strings.Contains(p.stderr.String(), sa[2]) {
		t.Errorf("a secret reached the log (stderr)")
	}
	groupID := project[1]
	owner := &apitest.Client{BaseURL: p.base, Auth: apitest.Digest(key[1], key[2])}
	if got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + groupID, Accept: apitest.MediaType("2023-01-01")}); got.Status != 200 || got.Field(t, "orgId") != org[1] {
		t.Fatalf("the printed API key cannot read the printed project: %s", got)
	}
	clientID, secret := sa[1], sa[2]
	roleID := awsRole(t, owner, groupID)

	// The secret key it made, printed with the credentials, is the
	// database's: another is refused at the next start.
	keyFile := filepath.Join(dir, "secret.key")
	if printed := printedKeyFile.FindStringSubmatch(p.printed(t, printedKeyFile)); printed[1] != keyFile {
		t.Errorf("serve printed the secret key file %s, want %s", printed[1], keyFile)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret key file: %v, %v; want mode 0600", fi, err)
	}

	first := inFlightShutdown(t, p, clientID, secret, groupID, roleID, syscall.SIGTERM, "drained-term")

	otherKey := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(otherKey, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))), 0o600); err != nil {
		t.Fatal(err)
	}
	if wrong := execBinary(t, "serve", "--data", dir, "--listen", "127.0.0.1:0", "--secret-key-file", otherKey); wrong.code != 1 ||
		!strings.Contains(wrong.stderr, "the secret key does not match the one this database was initialized with") {
		t.Errorf("serve with another key than the one the first serve made: exit %d, %q", wrong.code, wrong.stderr)
	}

	// Restarted: no credentials again, and the drained request's bucket
	// was kept.
	p = startServe(t, dir)
	if s := p.stdout.String(); strings.Contains(s, key[2]) || strings.Contains(s, sa[2]) || strings.Contains(s, "Organization ID") {
		t.Errorf("serve on an initialized directory printed credentials again:\n%s", s)
	}
	owner.BaseURL = p.base
	if got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets/" + first, Accept: apitest.MediaType("2024-05-30")}); got.Status != 200 {
		t.Errorf("the bucket created during the SIGTERM drain is gone after restart: %s", got)
	}

	// A second server on the same address fails to start, naming it.
	addr := strings.TrimPrefix(p.base, "http://")
	busy := execBinary(t, "serve", "--data", dir, "--listen", addr)
	if busy.code != 1 || !strings.Contains(busy.stderr, addr) {
		t.Errorf("serve on a busy address: exit %d, stderr %q; want 1 and the address", busy.code, busy.stderr)
	}

	inFlightShutdown(t, p, clientID, secret, groupID, roleID, syscall.SIGINT, "drained-int")
}

// inFlightShutdown starts a bucket creation whose body is still being
// sent, signals the server, then completes the body: the request must get
// its 200 and the server must then exit 0. It returns the bucket id.
func inFlightShutdown(t *testing.T, p *serveProc, clientID, secret, groupID, roleID string, sig syscall.Signal, name string) string {
	t.Helper()
	c := &apitest.Client{BaseURL: p.base}
	bearer := c.Token(t, clientID, secret)
	body := fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID)
	half := len(body) / 2
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", p.base+"/api/atlas/v2/groups/"+groupID+"/backup/exportBuckets", pr)
	req.Header.Set("Accept", apitest.MediaType("2024-05-30"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	type result struct {
		got *apitest.Response
		err error
	}
	results := make(chan result, 1)
	go func() {
		got, err := c.RoundTrip(t, req)
		results <- result{got, err}
	}()
	if _, err := pw.Write([]byte(body[:half])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let the server take the request in
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	// Once the signal is handled, new connections are refused ...
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := fresh.Get(p.base + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("serve still accepts new requests 10 s after %v", sig)
		}
	}
	// ... but the server waits for the request it is reading.
	time.Sleep(200 * time.Millisecond)
	if p.exited() {
		t.Fatalf("serve exited on %v with a request in flight: %v\nstderr: %s", sig, p.err, p.stderr)
	}
	if _, err := pw.Write([]byte(body[half:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var r result
	select {
	case r = <-results:
	case <-time.After(10 * time.Second):
		t.Fatalf("the in-flight request did not complete after %v", sig)
	}
	if r.err != nil || r.got.Status != 200 {
		t.Fatalf("the in-flight request during %v: %v %v", sig, r.err, r.got)
	}
	id := r.got.Field(t, "_id")
	if !hex24.MatchString(id) {
		t.Errorf("in-flight create answered %s", r.got.Body)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("serve exited %d after %v, want 0\nstderr: %s", code, sig, p.stderr)
	}
	return id
}

// withinPrincipalTTL sends do until done holds of the answer, for as long
// as a change made by another process (snapexport admin beside a running
// serve) may take to show (auth.DefaultPrincipalTTL), and returns the
// last answer.
func withinPrincipalTTL(t *testing.T, do func() *apitest.Response, done func(*apitest.Response) bool) *apitest.Response {
	t.Helper()
	deadline := time.Now().Add(auth.DefaultPrincipalTTL + 500*time.Millisecond)
	for {
		got := do()
		if done(got) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeStoppedWhileInitializing: a serve on an empty data directory
// stopped right once it answers, while it may still be initializing the
// database (the secret's hash takes a while), exits 0; the data directory
// is either initialized with its credentials printed or left for the next
// start to initialize, never initialized without them.
func TestServeStoppedWhileInitializing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, dir)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("serve stopped while initializing exited %d\nstderr: %s", code, p.stderr)
	}
	printedFirst := printedSA.MatchString(p.stdout.String())

	p = startServe(t, dir)
	if printedFirst {
		time.Sleep(200 * time.Millisecond) // the time an initialization would take to print
		if printedSA.MatchString(p.stdout.String()) {
			t.Fatalf("the first serve printed credentials and so did the second:\n%s", p.stdout)
		}
		return
	}
	out := p.printed(t, printedSA)
	key := printedKey.FindStringSubmatch(out)
	project := printedProject.FindStringSubmatch(out)
	owner := &apitest.Client{BaseURL: p.base, Auth: apitest.Digest(key[1], key[2])}
	if got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + project[1], Accept: apitest.MediaType("2023-01-01")}); got.Status != 200 {
		t.Fatalf("the credentials of the start after the stopped one cannot read their project: %s", got)
	}
}
