package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/config"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// The documentation's examples run as they are written. In README.md and
// the pages of docs/ below, every ```sh and ```go block carries a marker
// on the line before it:
//
//	<!-- runs: NAME -->      the block is run by bash, with the settings
//	                          of scenario NAME in the environment;
//	<!-- serves: NAME -->    the block starts a server: it runs until the
//	                          server answers /healthz, is checked, then
//	                          stopped with SIGTERM;
//	<!-- compiles: NAME -->  the Go file is built and its tests run as a
//	                          user's module would;
//	<!-- not run: WHY -->    the block is shown only.
//
// Every ```yaml block is loaded as a configuration file. A block without a
// marker, or with a name that has no scenario, fails TestDocs, so that an
// example cannot be added untested by accident.

// checkedDocs are the pages whose examples run.
var checkedDocs = []string{"README.md", "docs/buckets.md", "docs/postgres.md", "docs/snapshots-and-exports.md", "docs/testing.md", "docs/configuration.md"}

const repoRoot = "../.."

// docBlock is one fenced block of a page.
type docBlock struct {
	file, lang, kind, name, text string
	line                         int
}

var markerRE = regexp.MustCompile(`^<!-- (runs|serves|compiles|not run): (.+?) -->$`)

// readBlocks returns the fenced blocks of a page, with the marker before
// each (indented blocks of list items included).
func readBlocks(t *testing.T, file string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var marker []string
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if m := markerRE.FindStringSubmatch(line); m != nil {
			marker = m[1:]
			continue
		}
		lang, isFence := strings.CutPrefix(line, "```")
		if !isFence || lang == "" {
			if line != "" {
				marker = nil
			}
			continue
		}
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " "))]
		b := docBlock{file: file, lang: lang, line: i + 1}
		if marker != nil {
			b.kind, b.name = marker[0], marker[1]
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, strings.TrimPrefix(lines[i], indent))
		}
		b.text = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, b)
		marker = nil
	}
	return blocks
}

// TestDocs runs every example of the checked pages, each page's in order,
// against installations of their own.
func TestDocs(t *testing.T) {
	bin := buildBinary(t, "./cmd/snapexport", t.TempDir())
	for _, file := range checkedDocs {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".md"), func(t *testing.T) {
			blocks := readBlocks(t, file)
			if len(blocks) == 0 {
				t.Fatalf("%s has no examples", file)
			}
			if file == "docs/postgres.md" {
				pgtest.URL(t) // the page needs a PostgreSQL server
			}
			d := &docRun{t: t, page: t, bin: bin, dir: t.TempDir(), env: map[string]string{}}
			if err := os.Symlink(bin, filepath.Join(d.dir, "snapexport")); err != nil {
				t.Fatal(err)
			}
			for _, b := range blocks {
				d.run(b)
			}
		})
	}
}

// docRun is the state a page's examples share: a working folder holding
// the snapexport binary and a mongodump archive, and the environment the
// scenarios built so far.
type docRun struct {
	t *testing.T
	// page is the test of the whole page: what later examples use lives
	// until it ends.
	page *testing.T
	bin  string
	dir  string
	env  map[string]string
	// printed is what the served example has written to its standard
	// output so far.
	printed func() string
}

func (d *docRun) run(b docBlock) {
	t := d.t
	where := fmt.Sprintf("%s:%d", b.file, b.line)
	switch b.lang {
	case "yaml":
		path := filepath.Join(t.TempDir(), "snapexport.yaml")
		if err := os.WriteFile(path, []byte(b.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(path); err != nil {
			t.Errorf("%s: the configuration example does not load: %v", where, err)
		}
		return
	case "sh", "go":
	default:
		return
	}
	if b.kind == "" {
		t.Errorf("%s: a ```%s block with no marker (runs, serves, compiles or not run)", where, b.lang)
		return
	}
	if b.kind == "not run" {
		return
	}
	s, found := docScenarios[b.name]
	if !found || s.kind != b.kind {
		t.Errorf("%s: no %s scenario named %q", where, b.kind, b.name)
		return
	}
	t.Run(b.name, func(t *testing.T) {
		d := &docRun{t: t, page: d.page, bin: d.bin, dir: d.dir, env: d.env}
		if s.setup != nil {
			s.setup(d)
		}
		var out string
		switch b.kind {
		case "runs":
			out = d.bash(where, b.text, s.inRepo)
		case "serves":
			d.serve(where, b.text, s.check)
		case "compiles":
			d.goTest(where, b.text)
		}
		if s.after != nil {
			s.after(d, out)
		}
	})
}

// docScenario prepares and checks one example.
type docScenario struct {
	kind string
	// inRepo runs the block from the repository (go run ./examples/…)
	// instead of the working folder.
	inRepo bool
	setup  func(*docRun)
	// check runs while a served example serves.
	check func(*docRun)
	// after checks what a run printed.
	after func(d *docRun, stdout string)
}

var docScenarios = map[string]docScenario{
	"walkthrough": {kind: "runs", setup: func(d *docRun) {
		d.archive()
		d.env["PORT"] = freePort(d.t)
	}, after: func(d *docRun, out string) {
		if !strings.Contains(out, "exported snapshot ") {
			d.t.Errorf("the walk-through did not say what it exported:\n%s", out)
		}
		wantComplete(d.t, filepath.Join(d.dir, "walkthrough-data", "buckets", "aws", "export-bucket"))
		d.walkthroughRefusals()
	}},
	"buckets-s3-compatible": {kind: "serves", setup: func(d *docRun) {
		s3 := testservices.S3(d.t, "docs-bucket")
		d.env["S3_ENDPOINT"], d.env["S3_ACCESS_KEY"], d.env["S3_SECRET_KEY"] = s3.URL, "AKIADOCS", "docs-secret"
		d.env["PORT"], d.env["DATA"] = freePort(d.t), filepath.Join(d.dir, "s3-data")
	}, check: func(d *docRun) {
		// The owner key serve printed registers a bucket of the S3 server,
		// which the server checked by writing into it.
		c := d.ownerClient(d.printed)
		d.registerBucket(c, "docs-bucket")
	}},
	"postgres-init": {kind: "runs", setup: func(d *docRun) {
		d.env["SNAPEXPORT_DATABASE"] = freshDatabase(d.page)
	}, after: func(d *docRun, _ string) {
		creds := readCreds(d.t, filepath.Join(d.dir, "owner.json"))
		d.env["GROUP"], d.env["PUBLIC_KEY"], d.env["PRIVATE_KEY"] = creds.GroupID, creds.APIKey.PublicKey, creds.APIKey.PrivateKey
	}},
	"postgres-replica": {kind: "serves", setup: func(d *docRun) {
		d.env["PORT"], d.env["DATA"] = freePort(d.t), filepath.Join(d.dir, "replica")
	}, check: func(d *docRun) {
		c := &apitest.Client{BaseURL: "http://127.0.0.1:" + d.env["PORT"], Auth: apitest.Digest(d.env["PUBLIC_KEY"], d.env["PRIVATE_KEY"])}
		r := c.Do(d.t, apitest.Request{Path: "/api/atlas/v2/groups/" + d.env["GROUP"], Accept: apitest.MediaType("2023-01-01")})
		if r.Status != http.StatusOK {
			d.t.Errorf("the replica does not serve the initialized project: %s", r)
		}
	}},
	"postgres-admin": {kind: "runs", after: func(d *docRun, out string) {
		if !strings.Contains(out, "snapexport") {
			d.t.Errorf("admin org list does not list the organization init made:\n%s", out)
		}
	}},
	"postgres-migrate": {kind: "runs"},
	"postgres-backup": {kind: "runs", setup: func(d *docRun) {
		for _, tool := range []string{"pg_dump", "pg_restore"} {
			if _, err := exec.LookPath(tool); err != nil {
				if os.Getenv("CI") == "true" {
					d.t.Fatalf("CI=true and %s is missing: scripts/postgres installs it", tool)
				}
				d.t.Skipf("%s is not installed", tool)
			}
		}
	}, after: func(d *docRun, _ string) {
		// The restored database still serves the project.
		c := d.serveData(filepath.Join(d.dir, "restored"))
		r := c.Do(d.t, apitest.Request{Path: "/api/atlas/v2/groups/" + d.env["GROUP"], Accept: apitest.MediaType("2023-01-01")})
		if r.Status != http.StatusOK {
			d.t.Errorf("after the restore: %s", r)
		}
	}},
	"snapshots-import": {kind: "runs", setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		var snap struct{ ClusterName, ID string }
		if err := json.Unmarshal([]byte(lastJSON(out)), &snap); err != nil || snap.ClusterName != "Cluster1" || len(snap.ID) != 24 {
			d.t.Errorf("the import printed %q (%v)", out, err)
		}
	}},
	"snapshots-upload": {kind: "runs", setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		var snap struct{ ClusterName, ID string }
		if err := json.Unmarshal([]byte(lastJSON(out)), &snap); err != nil || snap.ClusterName != "Cluster0" || len(snap.ID) != 24 {
			d.t.Errorf("the upload answered %q (%v)", out, err)
		}
	}},
	"snapshots-load": {kind: "runs", setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		var data struct {
			ClusterName, ReplicaSetName string
			Collections                 []any
		}
		if err := json.Unmarshal([]byte(lastJSON(out)), &data); err != nil || data.ClusterName != "Cluster0" ||
			data.ReplicaSetName != "Cluster0-shard-0" || len(data.Collections) == 0 {
			d.t.Errorf("the load printed %q (%v)", out, err)
		}
	}},
	"snapshots-take": {kind: "runs", setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		var snap struct{ Status, Description string }
		if err := json.Unmarshal([]byte(lastJSON(out)), &snap); err != nil || snap.Status != "completed" || snap.Description != "before the upgrade" {
			d.t.Errorf("the snapshot ended as %q (%v)", out, err)
		}
	}},
	"exports-create": {kind: "runs", setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		var job struct{ ID, State string }
		if err := json.Unmarshal([]byte(lastJSON(out)), &job); err != nil || len(job.ID) != 24 || job.State != "Queued" {
			d.t.Fatalf("the export job answered %q (%v)", out, err)
		}
		d.env["JOB"] = job.ID
	}},
	"exports-commands": {kind: "runs", after: func(d *docRun, _ string) {
		wantComplete(d.t, filepath.Join(d.env["DATA"], "buckets", "aws", "docs-bucket"))
	}},
	"testing-sdk-example": {kind: "runs", inRepo: true, setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		if !strings.Contains(out, "created export bucket") {
			d.t.Errorf("the SDK example printed:\n%s", out)
		}
	}},
	"testing-curl-oauth": {kind: "runs", setup: func(d *docRun) { d.installation() }, after: func(d *docRun, out string) {
		var b map[string]any
		if err := json.Unmarshal([]byte(lastJSON(out)), &b); err != nil || b["bucketName"] != "export-bucket" || b["requirePrivateNetworking"] != true {
			d.t.Errorf("the last request answered %q (%v)", out, err)
		}
	}},
	"testing-snapexporttest": {kind: "compiles"},
}

// bash runs an example and returns its standard output.
func (d *docRun) bash(where, script string, inRepo bool) string {
	t := d.t
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = d.dir
	if inRepo {
		cmd.Dir = repoRoot
	}
	cmd.Env = d.environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s failed: %v\nstdout:\n%s\nstderr:\n%s", where, err, &stdout, &stderr)
	}
	return stdout.String()
}

// serve starts an example that serves, waits for /healthz on $PORT, runs
// check, and stops the server as an operator would.
func (d *docRun) serve(where, script string, check func(*docRun)) {
	t := d.t
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = d.dir, d.environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, stderr := &testserver.LogBuffer{}, &testserver.LogBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return fmt.Errorf("did not stop within 30s of SIGTERM: %v", <-exited)
		}
	}
	base := "http://127.0.0.1:" + d.env["PORT"]
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("%s stopped before serving: %v\nstdout:\n%s\nstderr:\n%s", where, err, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%s did not serve within a minute\nstderr:\n%s", where, stderr)
		}
	}
	d.printed = stdout.String
	if check != nil {
		check(d)
	}
	if err := stop(); err != nil {
		t.Errorf("%s did not stop cleanly on SIGTERM: %v\nstderr:\n%s", where, err, stderr)
	}
}

// goTest builds a Go example as a test file of a package inside the
// module (so that it resolves the module's own packages as a user's module
// resolves the published ones) and runs its tests.
func (d *docRun) goTest(where, source string) {
	t := d.t
	dir, err := os.MkdirTemp(filepath.Join(repoRoot, "internal", "e2e"), "_docexample")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "example_test.go"), []byte(source), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(repoRoot, dir)
	cmd := exec.Command("go", "test", "-count=1", "./"+filepath.ToSlash(rel))
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s does not build or pass as a test file: %v\n%s", where, err, out)
	}
}

func (d *docRun) environ() []string {
	env := append(os.Environ(), "PATH="+filepath.Dir(d.bin)+":"+os.Getenv("PATH"))
	for k, v := range d.env {
		if !strings.Contains(k, "-") { // the scenarios' own notes
			env = append(env, k+"="+v)
		}
	}
	return env
}

// archive writes the mongodump archive the examples import.
func (d *docRun) archive() {
	path := filepath.Join(d.dir, "dump.archive")
	if _, err := os.Stat(path); err == nil {
		return
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 12, DocsPerCollection: 25})
	if err := os.WriteFile(path, dumptest.ArchiveBytes(ds, true, false), 0o600); err != nil {
		d.t.Fatal(err)
	}
}

// installation makes, once per page, what the README's walk-through makes:
// an initialized data directory with a cluster Cluster0, a snapshot of it,
// a running server, and an authorized role with an export bucket.
func (d *docRun) installation() {
	if d.env["GROUP"] != "" {
		return
	}
	t := d.t
	d.archive()
	data := filepath.Join(d.dir, "data")
	out, err := exec.Command(d.bin, "init", "--data", data, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(d.dir, "creds.json")
	if err := os.WriteFile(credsFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	creds := readCreds(t, credsFile)
	run := func(args ...string) []byte {
		out, err := exec.Command(d.bin, args...).Output()
		if err != nil {
			t.Fatalf("snapexport %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	run("admin", "cluster", "create", "--data", data, "--group", creds.GroupID, "--name", "Cluster0")
	var snap struct{ ID string }
	if err := json.Unmarshal(run("snapshot", "import", "--data", data, "--group", creds.GroupID, "--cluster", "Cluster0",
		"--archive", filepath.Join(d.dir, "dump.archive"), "--json"), &snap); err != nil {
		t.Fatal(err)
	}
	d.env["DATA"], d.env["GROUP"], d.env["CREDS"], d.env["SNAPSHOT"] = data, creds.GroupID, credsFile, snap.ID
	d.env["PUBLIC_KEY"], d.env["PRIVATE_KEY"] = creds.APIKey.PublicKey, creds.APIKey.PrivateKey
	c := d.serveData(data)
	d.env["BUCKET"] = d.registerBucket(c, "docs-bucket")
}

// serveData serves a data directory (and the page's database, if any) on
// a free port until the page's test ends, and returns the owner's client.
func (d *docRun) serveData(data string) *apitest.Client {
	t := d.page
	d.env["PORT"] = freePort(t)
	cmd := exec.Command(d.bin, "serve", "--data", data, "--listen", "127.0.0.1:"+d.env["PORT"])
	cmd.Env = d.environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	base := "http://127.0.0.1:" + d.env["PORT"]
	waitHealthy(t, base)
	return &apitest.Client{BaseURL: base, Auth: apitest.Digest(d.env["PUBLIC_KEY"], d.env["PRIVATE_KEY"])}
}

// registerBucket authorizes an AWS role and registers bucket through it.
func (d *docRun) registerBucket(c *apitest.Client, bucket string) string {
	t := d.t
	v1 := apitest.MediaType("2023-01-01")
	groups := "/api/atlas/v2/groups/" + d.env["GROUP"]
	r := c.Do(t, apitest.Request{Method: "POST", Path: groups + "/cloudProviderAccess", Accept: v1, Body: `{"providerName":"AWS"}`})
	var role struct{ RoleID string }
	if err := json.Unmarshal(r.Body, &role); err != nil || r.Status != http.StatusOK {
		t.Fatalf("create role: %s", r)
	}
	r = c.Do(t, apitest.Request{Method: "PATCH", Path: groups + "/cloudProviderAccess/" + role.RoleID, Accept: v1,
		Body: `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/atlas-export"}`})
	if r.Status != http.StatusOK {
		t.Fatalf("authorize role: %s", r)
	}
	r = c.Do(t, apitest.Request{Method: "POST", Path: groups + "/backup/exportBuckets", Accept: v1,
		Body: fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, bucket, role.RoleID)})
	var b struct {
		ID string `json:"_id"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || r.Status != http.StatusOK {
		t.Fatalf("create bucket %s: %s", bucket, r)
	}
	return b.ID
}

// ownerClient reads the owner's API key from what serve prints on an
// empty data directory once it has stored the credentials.
func (d *docRun) ownerClient(printed func() string) *apitest.Client {
	re := regexp.MustCompile(`Project \(group\) ID:\s+(\S+)[\s\S]*public (\S+)\s+private (\S+)`)
	m := re.FindStringSubmatch(printed())
	for deadline := time.Now().Add(20 * time.Second); m == nil && time.Now().Before(deadline); m = re.FindStringSubmatch(printed()) {
		time.Sleep(10 * time.Millisecond)
	}
	if m == nil {
		d.t.Fatalf("serve printed no credentials:\n%s", printed())
	}
	d.env["GROUP"] = m[1]
	return &apitest.Client{BaseURL: "http://127.0.0.1:" + d.env["PORT"], Auth: apitest.Digest(m[2], m[3])}
}

// walkthroughRefusals runs the README's walk-through again where it must
// stop at once: on its own data directory (which it must not touch), and
// with its port taken by another server.
func (d *docRun) walkthroughRefusals() {
	t := d.t
	script := readWalkthrough(t)
	run := func(env ...string) (string, error) {
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir, cmd.Env = d.dir, append(d.environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	before, _ := os.ReadFile(filepath.Join(d.dir, "walkthrough-data", "snapexport.db"))
	out, err := run()
	if err == nil || !strings.Contains(out, "walkthrough-data exists") {
		t.Errorf("a second run on the same data directory: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(d.dir, "walkthrough-data", "snapexport.db")); !bytes.Equal(before, after) {
		t.Error("a second run changed the first run's database")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go http.Serve(ln, http.NotFoundHandler())
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	out, err = run("PORT="+port, "DATA=./walkthrough-taken-port")
	if err == nil || !strings.Contains(out, "is port "+port+" taken?") {
		t.Errorf("a run on a port another server holds: %v\n%s", err, out)
	}
}

func readWalkthrough(t *testing.T) string {
	for _, b := range readBlocks(t, "README.md") {
		if b.name == "walkthrough" {
			return b.text
		}
	}
	t.Fatal("README.md has no walk-through")
	return ""
}

// wantComplete checks that a local bucket holds a finished export.
func wantComplete(t *testing.T, bucket string) {
	t.Helper()
	found := false
	filepath.WalkDir(bucket, func(path string, e fs.DirEntry, err error) error {
		if err == nil && e.Name() == ".complete" {
			found = true
		}
		return nil
	})
	if !found {
		t.Errorf("no finished export (.complete) in %s", bucket)
	}
}

type initCreds struct {
	GroupID string `json:"groupId"`
	APIKey  struct {
		PublicKey  string `json:"publicKey"`
		PrivateKey string `json:"privateKey"`
	} `json:"apiKey"`
}

func readCreds(t *testing.T, path string) initCreds {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c initCreds
	if err := json.Unmarshal(data, &c); err != nil || c.GroupID == "" {
		t.Fatalf("%s: %v %s", path, err, data)
	}
	return c
}

// freshDatabase creates a database of the test PostgreSQL server, dropped
// when the test ends, and returns its URL: the examples' pg_dump takes no
// search_path, so a schema of a shared database will not do.
func freshDatabase(t *testing.T) string {
	t.Helper()
	server := pgtest.URL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("docs_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, server); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// lastJSON is the last JSON value an example printed (the commands print
// JSON indented over several lines).
func lastJSON(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	var last json.RawMessage
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return string(last)
		}
		last = v
	}
}
