package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/apitest"
)

// The secrets of the deployments bound in TestAdminClusterBind: a
// password and the value of a secret option.
const (
	bindPassword = "Pw-9f3e1c2b7a"
	bindToken    = "Tok-5d8e2a1f"
)

type boundClusterOut struct {
	clusterOut
	Deployment *struct {
		Hosts       []string `json:"hosts"`
		Consistency string   `json:"consistency"`
	} `json:"deployment"`
}

// TestAdminClusterBind binds clusters to deployments with the admin
// commands beside a running serve, and checks that the connection
// string's secrets appear nowhere: not in any command's output, the
// server's log, the API's answers nor the database's files.
func TestAdminClusterBind(t *testing.T) {
	dir := t.TempDir()
	creds := initBinary(t, dir)
	serve := startServe(t, dir)
	owner := creds.owner(serve.base)
	g := creds.GroupID
	d := []string{"--data", dir}
	var seen []string // every output, to search for the secrets
	run := func(args ...string) execResult {
		t.Helper()
		res := runInProcess(t, args...)
		seen = append(seen, res.stdout, res.stderr)
		return res
	}
	bound := func(args ...string) boundClusterOut {
		t.Helper()
		res := run(append(append(args, d...), "--json")...)
		if res.code != 0 {
			t.Fatalf("snapexport %v: exit %d\n%s", args, res.code, res.stderr)
		}
		var out boundClusterOut
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatalf("snapexport %v: %v\n%s", args, err, res.stdout)
		}
		return out
	}

	uri := "mongodb://backup:" + bindPassword + "@db0.example.com:27017,db1.example.com:27018/?replicaSet=rs0&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:" + bindToken
	c := bound("admin", "cluster", "create", "--group", g, "--name", "flagged", "--mongodb-uri", uri)
	if c.Deployment == nil || !slices.Equal(c.Deployment.Hosts, []string{"db0.example.com:27017", "db1.example.com:27018"}) || c.Deployment.Consistency != "pointInTime" {
		t.Errorf("cluster create --mongodb-uri printed %+v", c.Deployment)
	}
	// From a file, kept out of the shell's history; its line end is not
	// part of the string.
	uriFile := filepath.Join(t.TempDir(), "uri")
	if err := os.WriteFile(uriFile, []byte("mongodb+srv://backup:"+bindPassword+"@cluster0.example.net/?tlsCertificateKeyFilePassword="+bindToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = bound("admin", "cluster", "create", "--group", g, "--name", "filed", "--mongodb-uri-file", uriFile, "--consistency", "none")
	if c.Deployment == nil || !slices.Equal(c.Deployment.Hosts, []string{"cluster0.example.net"}) || c.Deployment.Consistency != "none" {
		t.Errorf("cluster create --mongodb-uri-file printed %+v", c.Deployment)
	}
	if c := bound("admin", "cluster", "create", "--group", g, "--name", "plain"); c.Deployment != nil {
		t.Errorf("cluster create without a URI printed deployment %+v", c.Deployment)
	}
	var list []boundClusterOut
	res := run(append([]string{"admin", "cluster", "list", "--group", g, "--json"}, d...)...)
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil || len(list) != 3 || list[0].Deployment == nil ||
		list[1].Deployment.Consistency != "none" || list[2].Deployment != nil {
		t.Errorf("cluster list --json: %v\n%s", err, res.stdout)
	}
	res = run(append([]string{"admin", "cluster", "list", "--group", g}, d...)...)
	for _, want := range []string{"flagged  REPLICASET  8.0.0  bound to db0.example.com:27017,db1.example.com:27018 (pointInTime)",
		"filed  REPLICASET  8.0.0  bound to cluster0.example.net (none)", "plain  REPLICASET  8.0.0  bound to no deployment"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("cluster list does not show %q:\n%s", want, res.stdout)
		}
	}

	// The API shows the connection strings without their secrets.
	get := func(name string) string {
		t.Helper()
		got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + g + "/clusters/" + name, Accept: apitest.MediaType("2024-08-05")})
		apitest.WantStatus(t, got, 200)
		seen = append(seen, string(got.Body))
		var body struct {
			ConnectionStrings map[string]string `json:"connectionStrings"`
		}
		got.Decode(t, &body)
		return body.ConnectionStrings["standard"] + " " + body.ConnectionStrings["standardSrv"]
	}
	if got := get("flagged"); got != "mongodb://db0.example.com:27017,db1.example.com:27018/?replicaSet=rs0&authMechanism=MONGODB-AWS " {
		t.Errorf("flagged's connectionStrings: %q", got)
	}
	if got := get("filed"); got != "mongodb+srv://cluster0.example.net mongodb+srv://cluster0.example.net" {
		t.Errorf("filed's connectionStrings: %q", got)
	}

	// update rebinds, unbinds, and binds again.
	c = bound("admin", "cluster", "update", "--group", g, "--name", "plain", "--mongodb-uri", "mongodb://u:"+bindPassword+"@db9.example.com:27019/")
	if c.Deployment == nil || !slices.Equal(c.Deployment.Hosts, []string{"db9.example.com:27019"}) {
		t.Errorf("cluster update --mongodb-uri printed %+v", c.Deployment)
	}
	if c = bound("admin", "cluster", "update", "--group", g, "--name", "plain", "--no-mongodb-uri"); c.Deployment != nil {
		t.Errorf("cluster update --no-mongodb-uri printed %+v", c.Deployment)
	}
	if got := get("plain"); got != " " {
		t.Errorf("unbound cluster's connectionStrings: %q", got)
	}
	res = run(append([]string{"admin", "cluster", "update", "--group", g, "--name", "filed", "--mongodb-uri-file", uriFile}, d...)...)
	if res.code != 0 || res.stdout != "cluster "+list[1].ID+" \"filed\" bound to cluster0.example.net (pointInTime)\n" {
		t.Errorf("cluster update --mongodb-uri-file: exit %d, %q %s", res.code, res.stdout, res.stderr)
	}

	// Mistakes name the flag, and never show the secrets.
	for _, tc := range []struct {
		code int
		args []string
		want string
	}{
		{2, []string{"update", "--name", "plain"}, "give one of --mongodb-uri URI, --mongodb-uri-file FILE and --no-mongodb-uri"},
		{2, []string{"update", "--name", "plain", "--mongodb-uri", uri, "--no-mongodb-uri"}, "give one of --mongodb-uri, --mongodb-uri-file and --no-mongodb-uri"},
		{2, []string{"create", "--name", "x", "--mongodb-uri", uri, "--mongodb-uri-file", uriFile}, "give one of --mongodb-uri and --mongodb-uri-file"},
		{2, []string{"create", "--name", "x", "--mongodb-uri", uri, "--consistency", "snapshot"}, `--consistency "snapshot": want none or pointInTime`},
		{2, []string{"create", "--name", "x", "--mongodb-uri", "mongodb://u:" + bindPassword + ":x@h/"}, "--mongodb-uri: the MongoDB connection string is invalid: the password must be URL-encoded"},
		{2, []string{"create", "--name", "x", "--mongodb-uri", "mongo://u:" + bindPassword + "@h/"}, `--mongodb-uri: the MongoDB connection string is invalid: scheme must be "mongodb" or "mongodb+srv"`},
		{2, []string{"create", "--name", "x", "--mongodb-uri", "mongodb://u:" + bindPassword + "@h/?authMechanismProperties=" + bindToken + "%zz"},
			"--mongodb-uri: the MongoDB connection string is invalid: invalid option value"},
		{2, []string{"update", "--name", "plain", "--mongodb-uri-file", os.DevNull}, "--mongodb-uri-file " + os.DevNull + ": the file is empty"},
		{1, []string{"update", "--name", "plain", "--mongodb-uri-file", filepath.Join(dir, "missing")}, "--mongodb-uri-file: open"},
		{1, []string{"update", "--name", "nope", "--no-mongodb-uri"}, "No cluster named nope exists"},
	} {
		args := append(append([]string{"admin", "cluster", tc.args[0], "--group", g}, tc.args[1:]...), d...)
		res := run(args...)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("snapexport %v: exit %d, %q; want exit %d and %q", args, res.code, res.stderr, tc.code, tc.want)
		}
	}

	// Another key than the database's is refused at start, by the admin
	// commands and serve alike; none at all refuses only binding.
	otherKey := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(otherKey, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))), 0o600); err != nil {
		t.Fatal(err)
	}
	const mismatch = "the secret key does not match the one this database was initialized with"
	res = run(append([]string{"admin", "cluster", "list", "--group", g, "--secret-key-file", otherKey}, d...)...)
	if res.code != 1 || !strings.Contains(res.stderr, mismatch) {
		t.Errorf("admin with another key file: exit %d, %q", res.code, res.stderr)
	}
	t.Setenv("SNAPEXPORT_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)))
	res = run(append([]string{"admin", "org", "list"}, d...)...)
	if res.code != 1 || !strings.Contains(res.stderr, mismatch) {
		t.Errorf("admin with another $SNAPEXPORT_SECRET_KEY: exit %d, %q", res.code, res.stderr)
	}
	t.Setenv("SNAPEXPORT_SECRET_KEY", "not base64 of 32 bytes")
	res = run(append([]string{"admin", "org", "list"}, d...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "$SNAPEXPORT_SECRET_KEY: want the base64 of 32 bytes") || strings.Contains(res.stderr, "not base64") {
		t.Errorf("admin with a malformed $SNAPEXPORT_SECRET_KEY: exit %d, %q", res.code, res.stderr)
	}
	os.Unsetenv("SNAPEXPORT_SECRET_KEY")
	wrongServe := execBinary(t, "serve", "--data", dir, "--listen", "127.0.0.1:0", "--secret-key-file", otherKey)
	seen = append(seen, wrongServe.stdout, wrongServe.stderr)
	if wrongServe.code != 1 || !strings.Contains(wrongServe.stderr, mismatch) {
		t.Errorf("serve with another key: exit %d, %q", wrongServe.code, wrongServe.stderr)
	}
	keyFile := filepath.Join(dir, "secret.key")
	if err := os.Rename(keyFile, keyFile+".away"); err != nil {
		t.Fatal(err)
	}
	res = run(append([]string{"admin", "cluster", "update", "--group", g, "--name", "plain", "--mongodb-uri", uri}, d...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "no secret key: give --secret-key-file FILE") {
		t.Errorf("binding without a key: exit %d, %q", res.code, res.stderr)
	}
	if res := run(append([]string{"admin", "cluster", "list", "--group", g}, d...)...); res.code != 0 {
		t.Errorf("listing without a key: exit %d, %q", res.code, res.stderr)
	}
	if err := os.Rename(keyFile+".away", keyFile); err != nil {
		t.Fatal(err)
	}

	// No secret anywhere: outputs, the server's log, the database's files.
	seen = append(seen, serve.stdout.String(), serve.stderr.String())
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() && path != keyFile {
			b, err := os.ReadFile(path)
			seen = append(seen, string(b))
			return err
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seen {
		for _, secret := range []string{bindPassword, bindToken} {
			if strings.Contains(s, secret) {
				t.Errorf("output %d shows %s:\n%s", i, secret, s)
			}
		}
	}
}
