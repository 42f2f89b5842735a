package console_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// chromium finds the browser: SNAPEXPORT_TEST_CHROMIUM, or chromium on
// the PATH. Without one the test skips, but fails in CI, where the test
// command installs Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SNAPEXPORT_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium: scripts/test installs Debian's chromium package")
	}
	t.Skip("no chromium on the PATH (apt-get install chromium)")
	return ""
}

// screenshotDir is where the tests write a screenshot of each main page,
// for people to look at: SNAPEXPORT_TEST_SCREENSHOTS, or a folder of the
// system's temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SNAPEXPORT_TEST_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "snapexport-console-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// gate holds the S3 writes of export data beyond a number it lets
// through, so that a test sees an export running, part written, for as
// long as it needs to.
type gate struct {
	mu      sync.Mutex
	changed *sync.Cond
	open    bool
	permits int
}

func newGate() *gate {
	g := &gate{open: true}
	g.changed = sync.NewCond(&g.mu)
	return g
}

func (g *gate) wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.open && g.permits == 0 {
		g.changed.Wait()
	}
	if !g.open {
		g.permits--
	}
}

// let lets every write through.
func (g *gate) let() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = true
	g.changed.Broadcast()
}

// hold holds every write from now on.
func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open, g.permits = false, 0
}

// allow lets one more held write through.
func (g *gate) allow() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.permits++
	g.changed.Broadcast()
}

// TestConsoleInABrowser drives the console in headless Chromium as a
// person would: sign in with a service account, see the organization, the
// project's cluster with its schedule and snapshot, the buckets and roles;
// start an export of the snapshot and watch its bar move while it runs and
// reach 100 % with its objects and .complete listed; start another and
// cancel it; then, signed in with a read-only API key, be refused taking a
// snapshot with the API's error. Every main page is saved as a screenshot,
// the project's page also at a phone's width.
func TestConsoleInABrowser(t *testing.T) {
	execPath := chromium(t)
	shots := screenshotDir(t)
	ctx := context.Background()

	const bucketName = "console-exports"
	s3 := testservices.S3(t, bucketName)
	held := newGate()
	s3.SetAuthorizer(func(r testservices.Request) testservices.Verdict {
		if r.Method == "PUT" && strings.Contains(r.Path, "/exported_snapshots/") && !strings.HasSuffix(r.Path, "/.permissioncheck") {
			held.wait()
		}
		return testservices.Verdict{Action: testservices.Forward}
	})
	t.Cleanup(held.let)
	srv := testserver.NewServer(t, testserver.Options{
		ObjectStores: &objectstore.Config{AWS: objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: s3.URL,
			AccessKeyID: "AKIDCONSOLETEST", SecretAccessKey: "console-s3-secret"}},
		Exports: &exportrunner.Config{PollInterval: 50 * time.Millisecond, RetryDelay: 100 * time.Millisecond,
			ChunkBytes: 16 << 10, ParallelCollections: 1, Lease: 900 * time.Millisecond},
	})
	srv.Server.Console.ProgressInterval = 100 * time.Millisecond
	g := srv.GroupID
	svc := srv.Server.Service
	if _, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: g, Name: "Cluster0"}); err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 7, DocsPerCollection: 200})
	imported, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0"}, bytes.NewReader(dumptest.ArchiveBytes(ds, true, true)))
	if err != nil {
		t.Fatal(err)
	}
	role, err := svc.CreateRole(ctx, g, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthorizeRole(ctx, g, role.ID, service.RoleInput{Provider: snapexport.AWS,
		IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/console-export"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateBucket(ctx, g, service.BucketInput{Provider: snapexport.AWS, BucketName: bucketName, RoleID: role.ID}); err != nil {
		t.Fatal(err)
	}
	readOnly, err := srv.AddAPIKey(ctx, snapexport.RoleGroupReadOnly)
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(execPath), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	bctx, cancelTimeout := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	signIn := func(kind, id, secret string) {
		t.Helper()
		run("sign in",
			chromedp.Navigate(srv.URL+"/console/"),
			chromedp.WaitVisible(css(`#signin`)),
			chromedp.Click(css(`input[name=kind][value=`+kind+`]`)),
			chromedp.SendKeys(css(`#id`), id),
			chromedp.SendKeys(css(`#secret`), secret),
			chromedp.Click(css(`#signin`)),
			chromedp.WaitVisible(css(`.org`)))
	}

	run("sign-in page", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(css(`#signin`)))
	shot("signin")
	signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	if got := text(`.org`); !strings.Contains(got, g) {
		t.Errorf("projects page: %q lacks the project %s", got, g)
	}
	shot("projects")

	run("project page", chromedp.Click(css(`ul.projects a`)), chromedp.WaitVisible(css(`.cluster`)))
	snapRow := `tr[data-snapshot="` + imported.Snapshot.ID + `"]`
	if got := text(snapRow); !strings.Contains(got, "completed") {
		t.Errorf("snapshot row %q: want it completed", got)
	}
	if got := text(`.policy`); !strings.Contains(got, "daily") && !strings.Contains(got, "DAILY") {
		t.Errorf("backup schedule %q: want the default policy's daily item", got)
	}
	shot("project")
	run("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	shot("project-phone")
	run("laptop width", chromedp.EmulateViewport(1280, 900))

	run("buckets page", chromedp.Click(css(`nav.tabs a[href$="/buckets"]`)), chromedp.WaitVisible(css(`table.buckets`)))
	if got := text(`table.buckets`); !strings.Contains(got, bucketName) {
		t.Errorf("buckets page %q lacks %s", got, bucketName)
	}
	if got := text(`table.roles`); !strings.Contains(got, "arn:aws:iam::123456789012:role/console-export") {
		t.Errorf("roles %q lack the authorized role", got)
	}
	shot("buckets")

	// An export whose writes are held: its bar must show progress short
	// of the end, then reach it once the writes go through.
	held.hold()
	startExport := func() {
		t.Helper()
		run("start an export",
			chromedp.Navigate(srv.URL+"/console/projects/"+g),
			chromedp.WaitVisible(css(snapRow+` form.export button`)),
			chromedp.Click(css(snapRow+` form.export button`)),
			chromedp.WaitVisible(css(`#confirm`)),
			chromedp.Click(css(`#confirm`)),
			chromedp.WaitVisible(css(`.job[data-export]`)))
	}
	permille := func() int {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.querySelector(".job progress").value`))
		if err != nil {
			t.Fatalf("progress: %v", err)
		}
		return int(v)
	}
	waitFor := func(what string, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				shot("failed")
				for _, q := range s3.Requests() {
					t.Logf("S3 %s %s ?%s", q.Method, q.Path, q.Query)
				}
				t.Fatalf("still not %s after a minute: %s", what, text(`main`))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	startExport()
	// One write at a time, slower than the lease renewals that record
	// the documents written, until the bar shows some.
	lastAllowed := time.Now()
	waitFor("moving", func() bool {
		if p := permille(); p > 0 {
			if p >= 1000 {
				t.Fatalf("the bar is at %d with writes held", p)
			}
			return true
		}
		if time.Since(lastAllowed) > 400*time.Millisecond {
			held.allow()
			lastAllowed = time.Now()
		}
		return false
	})
	midway := permille()
	if state := text(`.job [data-field=state]`); state != "InProgress" {
		t.Errorf("state %q while the export's writes are held, want InProgress", state)
	}
	if got := text(`.job [data-field=documentsText]`); !strings.Contains(got, "documents") {
		t.Errorf("documents %q", got)
	}
	shot("export-running")
	held.let()
	waitFor("at 100 %", func() bool { return permille() == 1000 && text(`.job [data-field=state]`) == "Successful" })
	if got := text(`.job [data-field=percent]`); got != "100 %" {
		t.Errorf("percent %q at the end", got)
	}
	t.Logf("the bar went from %d to 1000 thousandths", midway)
	run("reload the finished job", chromedp.Reload(), chromedp.WaitVisible(css(`#complete`)))
	if got := text(`table.objects`); !strings.Contains(got, ".complete") || !strings.Contains(got, "metadata.json") {
		t.Errorf("objects of the finished export %q: want metadata.json and .complete", got)
	}
	shot("export-done")

	// Another export, cancelled while its writes are held.
	held.hold()
	startExport()
	waitFor("running", func() bool { return text(`.job [data-field=state]`) == "InProgress" })
	run("cancel",
		chromedp.Click(css(`form.cancel button`)),
		chromedp.WaitVisible(css(`#confirm`)),
		chromedp.Click(css(`#confirm`)),
		chromedp.WaitVisible(css(`.flash.ok`)))
	if got := text(`.flash.ok`); !strings.Contains(got, "asked to stop") {
		t.Errorf("after cancelling: %q", got)
	}
	waitFor("cancelled", func() bool { return text(`.job [data-field=state]`) == "Cancelled" })
	held.let()
	run("exports page", chromedp.Click(css(`nav.tabs a[href$="/exports"]`)), chromedp.WaitVisible(css(`.job`)))
	if got := text(`main`); !strings.Contains(got, "Successful") || !strings.Contains(got, "Cancelled") {
		t.Errorf("exports page %q: want the successful and the cancelled export", got)
	}
	shot("exports")

	// A read-only key sees the project and is refused taking a snapshot,
	// with the API's own error.
	run("sign out", chromedp.Click(css(`.who button`)), chromedp.WaitVisible(css(`#signin`)))
	signIn("apiKey", readOnly.PublicKey, readOnly.PrivateKey)
	run("refused snapshot",
		chromedp.Navigate(srv.URL+"/console/projects/"+g),
		chromedp.WaitVisible(css(`form.take-snapshot button`)),
		chromedp.Click(css(`form.take-snapshot button`)),
		chromedp.WaitVisible(css(`#confirm`)),
		chromedp.Click(css(`#confirm`)),
		chromedp.WaitVisible(css(`.flash.error`)))
	if got := text(`.flash.error`); !strings.Contains(got, "USER_UNAUTHORIZED") {
		t.Errorf("refusal shown %q, want the API's USER_UNAUTHORIZED", got)
	}
	shot("refused")
	snaps, _, err := svc.Snapshots(ctx, g, "Cluster0", snapexport.SnapshotReplicaSet, snapexport.Page{Limit: 10}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 {
		t.Errorf("%d snapshots after the read-only key's refused attempt, want the imported one", len(snaps))
	}
	t.Logf("screenshots in %s", shots)
}
