package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/console"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// browser is an HTTP client that keeps cookies and does not follow
// redirects, so that a test sees each answer.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, srv *testserver.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header http.Header) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (b *browser) get(path string) page { b.t.Helper(); return b.do(http.MethodGet, path, nil, nil) }

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := hiddenCSRF.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page: %s", p.body)
	}
	return m[1]
}

// signIn signs in with the form, as a person would, and returns the
// session's CSRF token.
func (b *browser) signIn(kind, id, secret string) page {
	b.t.Helper()
	form := b.get("/console/signin")
	return b.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrfOf(b.t, form)}, "kind": {kind}, "id": {id}, "secret": {secret}}, nil)
}

// TestSignIn: a service account and an API key sign in with their
// secrets; the session cookie is HttpOnly, SameSite=Strict, scoped to the
// console and not Secure over plain HTTP; a wrong secret is refused with
// the form shown again; every page has a strict Content-Security-Policy;
// signing out ends the session.
func TestSignIn(t *testing.T) {
	srv := testserver.NewServer(t)
	for _, tc := range []struct{ kind, id, secret string }{
		{"serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret},
		{"apiKey", srv.APIKey.PublicKey, srv.APIKey.PrivateKey},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			b := newBrowser(t, srv)
			if p := b.get("/console/projects"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/signin" {
				t.Fatalf("projects before signing in: %d %s", p.status, p.header.Get("Location"))
			}
			wrong := b.signIn(tc.kind, tc.id, tc.secret+"x")
			if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "is wrong") {
				t.Fatalf("wrong secret: %d %s", wrong.status, wrong.body)
			}
			if strings.Contains(wrong.body, tc.secret) {
				t.Error("the form shown again holds the secret")
			}
			p := b.signIn(tc.kind, tc.id, tc.secret)
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/projects" {
				t.Fatalf("sign-in: %d %s %s", p.status, p.header.Get("Location"), p.body)
			}
			var cookie *http.Cookie
			for _, c := range (&http.Response{Header: p.header}).Cookies() {
				if c.Name == "snapexport_session" && c.Value != "" {
					cookie = c
				}
			}
			if cookie == nil {
				t.Fatalf("no session cookie: %v", p.header["Set-Cookie"])
			}
			if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/console/" || cookie.Secure || cookie.MaxAge <= 0 || cookie.MaxAge > 3600 {
				t.Errorf("session cookie %+v", cookie)
			}
			projects := b.get("/console/projects")
			if projects.status != http.StatusOK || !strings.Contains(projects.body, srv.GroupID) {
				t.Fatalf("projects: %d %s", projects.status, projects.body)
			}
			csp := projects.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q allows inline code", csp)
			}
			out := b.do(http.MethodPost, "/console/signout", url.Values{"csrf": {csrfOf(t, projects)}}, nil)
			if out.status != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", out.status, out.body)
			}
			if p := b.get("/console/projects"); p.status != http.StatusSeeOther {
				t.Fatalf("projects after signing out: %d", p.status)
			}
		})
	}
}

// TestSessionEndsWithItsToken: a service account's session ends when its
// access token is revoked, as its API calls would.
func TestSessionEndsWithItsToken(t *testing.T) {
	srv := testserver.NewServer(t)
	b := newBrowser(t, srv)
	b.signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	if p := b.get("/console/projects"); p.status != http.StatusOK {
		t.Fatalf("projects: %d", p.status)
	}
	ctx := context.Background()
	if err := srv.Server.Service.DeletePrincipal(ctx, service.PrincipalRef{ClientID: srv.ServiceAccount.ClientID}); err != nil {
		t.Fatal(err)
	}
	p := b.get("/console/projects")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/console/signin?ended=") {
		t.Fatalf("projects once the service account is gone: %d %s", p.status, p.header.Get("Location"))
	}
}

// TestFormsNeedTheirToken: a POST without the session's CSRF token, or
// sent by another site, changes nothing; a sign-in form without its
// cookie's token is refused.
func TestFormsNeedTheirToken(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	if _, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "Cluster0"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	if p := b.do(http.MethodPost, "/console/signin", url.Values{"kind": {"apiKey"}, "id": {srv.APIKey.PublicKey}, "secret": {srv.APIKey.PrivateKey}}, nil); p.status != http.StatusForbidden {
		t.Fatalf("sign-in without the form's token: %d", p.status)
	}
	b.signIn("apiKey", srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	project := b.get("/console/projects/" + srv.GroupID)
	if project.status != http.StatusOK {
		t.Fatalf("project: %d %s", project.status, project.body)
	}
	take := "/console/projects/" + srv.GroupID + "/clusters/Cluster0/snapshots"
	form := url.Values{"retentionInDays": {"3"}, "confirmed": {"yes"}}
	for name, tc := range map[string]struct {
		form   url.Values
		header http.Header
	}{
		"no token":      {form, nil},
		"wrong token":   {with(form, "csrf", "x"+csrfOf(t, project)), nil},
		"another site":  {with(form, "csrf", csrfOf(t, project)), http.Header{"Origin": {"https://elsewhere.example"}}},
		"cross-site":    {with(form, "csrf", csrfOf(t, project)), http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		"opaque origin": {with(form, "csrf", csrfOf(t, project)), http.Header{"Origin": {"null"}}},
	} {
		if p := b.do(http.MethodPost, take, tc.form, tc.header); p.status != http.StatusForbidden {
			t.Errorf("%s: %d", name, p.status)
		}
	}
	snaps, _, err := srv.Server.Service.Snapshots(ctx, srv.GroupID, "Cluster0", snapexport.SnapshotReplicaSet, snapexport.Page{Limit: 10}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 0 {
		t.Errorf("a refused form took %d snapshots", len(snaps))
	}
	// The form as the page gives it asks for confirmation first, then
	// takes the snapshot.
	good := with(url.Values{"retentionInDays": {"3"}}, "csrf", csrfOf(t, project))
	confirm := b.do(http.MethodPost, take, good, nil)
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Take an on-demand snapshot of Cluster0") {
		t.Fatalf("confirmation: %d %s", confirm.status, confirm.body)
	}
	if p := b.do(http.MethodPost, take, with(good, "confirmed", "yes"), nil); p.status != http.StatusSeeOther {
		t.Fatalf("confirmed: %d %s", p.status, p.body)
	}
	snaps, _, err = srv.Server.Service.Snapshots(ctx, srv.GroupID, "Cluster0", snapexport.SnapshotReplicaSet, snapexport.Page{Limit: 10}, "")
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots after the confirmed form: %d %v", len(snaps), err)
	}
	if p := b.get("/console/projects/" + srv.GroupID); !strings.Contains(p.body, "was requested") {
		t.Errorf("the next page does not tell the snapshot was requested: %s", p.body)
	}
}

func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Set(key, value)
	return out
}

// TestReadOnlyIsRefused: a read-only principal sees the project but is
// refused taking a snapshot with the API's own error, shown on the page.
func TestReadOnlyIsRefused(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	if _, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "Cluster0"}); err != nil {
		t.Fatal(err)
	}
	key, err := srv.AddAPIKey(ctx, snapexport.RoleGroupReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	b.signIn("apiKey", key.PublicKey, key.PrivateKey)
	project := b.get("/console/projects/" + srv.GroupID)
	if project.status != http.StatusOK || !strings.Contains(project.body, "Cluster0") {
		t.Fatalf("project: %d %s", project.status, project.body)
	}
	p := b.do(http.MethodPost, "/console/projects/"+srv.GroupID+"/clusters/Cluster0/snapshots",
		url.Values{"csrf": {csrfOf(t, project)}, "retentionInDays": {"3"}, "confirmed": {"yes"}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("refused action: %d %s", p.status, p.body)
	}
	after := b.get("/console/projects/" + srv.GroupID)
	if !strings.Contains(after.body, "USER_UNAUTHORIZED") {
		t.Errorf("the refusal is not shown with the API's error code: %s", after.body)
	}
	exports := b.get("/console/projects/" + srv.GroupID + "/exports")
	if exports.status != http.StatusOK || !strings.Contains(exports.body, "USER_UNAUTHORIZED") {
		t.Errorf("exports page of a read-only key: %d %s", exports.status, exports.body)
	}
}

var _ = console.Prefix

// TestChangeExpiry: a snapshot's expiry is changed through the confirmed
// form, and a value the API refuses is shown with its errorCode,
// changing nothing.
func TestChangeExpiry(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	cl, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "Cluster0"})
	if err != nil {
		t.Fatal(err)
	}
	snap := srv.StoreSnapshot(t, cl, snapexport.Snapshot{})
	b := newBrowser(t, srv)
	b.signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	project := b.get("/console/projects/" + srv.GroupID)
	if !strings.Contains(project.body, snap.ID) {
		t.Fatalf("the project's page lacks snapshot %s: %s", snap.ID, project.body)
	}
	path := "/console/projects/" + srv.GroupID + "/clusters/Cluster0/snapshots/" + snap.ID + "/expiry"
	form := url.Values{"csrf": {csrfOf(t, project)}, "retentionUnit": {"WEEKS"}, "retentionValue": {"2"}}
	if p := b.do(http.MethodPost, path, form, nil); p.status != http.StatusOK || !strings.Contains(p.body, "for 2 weeks") {
		t.Fatalf("confirmation: %d %s", p.status, p.body)
	}
	before := time.Now()
	if p := b.do(http.MethodPost, path, with(form, "confirmed", "yes"), nil); p.status != http.StatusSeeOther {
		t.Fatalf("confirmed: %d %s", p.status, p.body)
	}
	after, err := srv.Server.Service.Snapshot(ctx, srv.GroupID, "Cluster0", snap.ID, snapexport.SnapshotReplicaSet)
	if err != nil {
		t.Fatal(err)
	}
	if want := before.AddDate(0, 0, 14); after.ExpiresAt.Before(want.Add(-time.Second)) || after.ExpiresAt.After(time.Now().AddDate(0, 0, 14)) {
		t.Errorf("expiry %v, want two weeks from the change (%v)", after.ExpiresAt, want)
	}
	if p := b.get("/console/projects/" + srv.GroupID); !strings.Contains(p.body, "now expires") {
		t.Errorf("the change is not told: %s", p.body)
	}
	bad := with(with(form, "retentionUnit", "FORTNIGHTS"), "confirmed", "yes")
	b.do(http.MethodPost, path, bad, nil)
	p := b.get("/console/projects/" + srv.GroupID)
	if !strings.Contains(p.body, `class="flash error"`) || !strings.Contains(p.body, "INVALID") {
		t.Errorf("a refused unit is not shown with the API's error: %s", p.body)
	}
	again, err := srv.Server.Service.Snapshot(ctx, srv.GroupID, "Cluster0", snap.ID, snapexport.SnapshotReplicaSet)
	if err != nil {
		t.Fatal(err)
	}
	if !again.ExpiresAt.Equal(after.ExpiresAt) {
		t.Errorf("a refused change moved the expiry to %v", again.ExpiresAt)
	}
}

// queuedExport makes a cluster, a snapshot, a local bucket and an export
// job that stays queued (the server runs no exports).
func queuedExport(t *testing.T, srv *testserver.Server) (cluster, exportID string) {
	t.Helper()
	_, job := queuedExportJob(t, srv)
	return "Cluster0", job.ID
}

// queuedExportJob is queuedExport answering the service's job.
func queuedExportJob(t *testing.T, srv *testserver.Server) (*service.Service, *snapexport.ExportJob) {
	t.Helper()
	ctx := context.Background()
	svc := srv.Server.Service
	cl, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "Cluster0"})
	if err != nil {
		t.Fatal(err)
	}
	snap := srv.StoreSnapshot(t, cl, snapexport.Snapshot{})
	role, err := svc.CreateRole(ctx, srv.GroupID, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthorizeRole(ctx, srv.GroupID, role.ID, service.RoleInput{Provider: snapexport.AWS,
		IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/console"}); err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateBucket(ctx, srv.GroupID, service.BucketInput{Provider: snapexport.AWS, BucketName: "console-bucket", RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	job, err := svc.CreateExportJob(ctx, service.ExportJobInput{ProjectID: srv.GroupID, ClusterName: "Cluster0", SnapshotID: snap.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	return svc, job
}

// firstEvent reads a server-sent event stream up to its first event.
func firstEvent(t *testing.T, body *bufio.Reader) (event, data string) {
	t.Helper()
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before an event: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && event != "":
			return event, data
		}
	}
}

// TestProgressStream: a job's page is sent its progress as server-sent
// events; a principal whose role cannot read export jobs gets the API's
// refusal as a "failure" event; a server shutting down ends the streams
// rather than waiting for their exports.
func TestProgressStream(t *testing.T) {
	srv := testserver.NewServer(t, testserver.Options{NoExports: true})
	cluster, id := queuedExport(t, srv)
	events := "/console/projects/" + srv.GroupID + "/clusters/" + cluster + "/exports/" + id + "/events"
	open := func(b *browser) (*http.Response, *bufio.Reader) {
		t.Helper()
		resp, err := b.client.Get(b.base + events)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
			t.Fatalf("events: %d %s", resp.StatusCode, ct)
		}
		return resp, bufio.NewReader(resp.Body)
	}

	owner := newBrowser(t, srv)
	owner.signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	_, body := open(owner)
	event, data := firstEvent(t, body)
	var p struct {
		ID, State, CollectionsText string
		Ended                      bool
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil || event != "progress" || p.ID != id || p.State != "Queued" || p.Ended {
		t.Fatalf("first event %s %s (%v)", event, data, err)
	}

	key, err := srv.AddAPIKey(context.Background(), snapexport.RoleGroupReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	reader := newBrowser(t, srv)
	reader.signIn("apiKey", key.PublicKey, key.PrivateKey)
	_, refused := open(reader)
	if event, data := firstEvent(t, refused); event != "failure" || !strings.Contains(data, `"errorCode":"USER_UNAUTHORIZED"`) {
		t.Errorf("a read-only key's stream: %s %s", event, data)
	}

	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, body)
		done <- err
	}()
	srv.Server.Console.EndStreams()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stream ended with %v, want its end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream goes on after EndStreams")
	}
}

// TestShardedAndFailed: a sharded cluster's snapshots are listed, and a
// failed export shows its stateReason on the exports page.
func TestShardedAndFailed(t *testing.T) {
	srv := testserver.NewServer(t, testserver.Options{NoExports: true})
	ctx := context.Background()
	sh, err := srv.CreateCluster(ctx, "Sharded0", "rs0", "rs1")
	if err != nil {
		t.Fatal(err)
	}
	sharded := snapexport.Snapshot{ID: service.NewID(), Kind: snapexport.SnapshotShardedCluster}
	for _, shard := range sh.Shards {
		m := srv.StoreSnapshot(t, sh, snapexport.Snapshot{ParentID: sharded.ID, ReplicaSetName: shard.ReplicaSetName})
		sharded.Members = append(sharded.Members, snapexport.SnapshotMember{ID: m.ID, ReplicaSetName: m.ReplicaSetName})
	}
	snap := srv.StoreSnapshot(t, sh, sharded)
	cluster, id := queuedExport(t, srv)
	err = srv.Server.Store.Write(ctx, func(tx snapexport.Tx) error {
		j, err := tx.ExportJob(ctx, srv.GroupID, id)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		j.State, j.FinishedAt = snapexport.ExportFailed, &now
		j.StateReason = &snapexport.ExportStateReason{ErrorCode: "EXPORT_BUCKET_UNREACHABLE", Message: "The bucket console-bucket could not be reached."}
		return tx.UpdateExportJob(ctx, j)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	b.signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	if p := b.get("/console/projects/" + srv.GroupID); !strings.Contains(p.body, `data-snapshot="`+snap.ID+`"`) {
		t.Errorf("the sharded cluster's snapshot %s is not listed: %s", snap.ID, p.body)
	}
	p := b.get("/console/projects/" + srv.GroupID + "/exports")
	if !strings.Contains(p.body, "The bucket console-bucket could not be reached. (EXPORT_BUCKET_UNREACHABLE)") || !strings.Contains(p.body, cluster) {
		t.Errorf("the failed export's reason is not shown: %s", p.body)
	}
	if strings.Contains(p.body, "data-events=") {
		t.Errorf("an ended export is followed live: %s", p.body)
	}
	job := b.get("/console/projects/" + srv.GroupID + "/clusters/" + cluster + "/exports/" + id)
	if !strings.Contains(job.body, "The bucket console-bucket could not be reached. (EXPORT_BUCKET_UNREACHABLE)") {
		t.Errorf("the failed export's page lacks its reason: %s", job.body)
	}
}

// TestFormsFailSafely: a value that is no number is refused with a page
// naming it, taking nothing; a "back" outside the console, however
// spelled, returns to the project instead.
func TestFormsFailSafely(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	if _, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: srv.GroupID, Name: "Cluster0"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	b.signIn("apiKey", srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	project := b.get("/console/projects/" + srv.GroupID)
	take := "/console/projects/" + srv.GroupID + "/clusters/Cluster0/snapshots"
	p := b.do(http.MethodPost, take, url.Values{"csrf": {csrfOf(t, project)}, "retentionInDays": {"seven"}, "confirmed": {"yes"}}, nil)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "&#34;seven&#34;") {
		t.Errorf("a retention that is no number: %d %s", p.status, p.body)
	}
	snaps, _, err := srv.Server.Service.Snapshots(ctx, srv.GroupID, "Cluster0", snapexport.SnapshotReplicaSet, snapexport.Page{Limit: 10}, "")
	if err != nil || len(snaps) != 0 {
		t.Fatalf("%d snapshots after a refused form (%v)", len(snaps), err)
	}
	for _, back := range []string{"https://elsewhere.example/", "//elsewhere.example/console/", "/console/../%09/elsewhere.example", "/console/	/x", "/api/atlas/v2"} {
		p := b.do(http.MethodPost, take, url.Values{"csrf": {csrfOf(t, project)}, "retentionInDays": {"1"}, "confirmed": {"yes"}, "back": {back}}, nil)
		if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || loc != "/console/projects/"+srv.GroupID {
			t.Errorf("back %q: %d to %q", back, p.status, loc)
		}
	}
	p = b.do(http.MethodPost, take, url.Values{"csrf": {csrfOf(t, project)}, "retentionInDays": {"1"}, "confirmed": {"yes"},
		"back": {"/console/projects/" + srv.GroupID + "/exports"}}, nil)
	if loc := p.header.Get("Location"); loc != "/console/projects/"+srv.GroupID+"/exports" {
		t.Errorf("a console page as back: to %q", loc)
	}
}

// TestConsoleRequestsLogged: a page's request has a log line with its
// request_id, returned in X-Request-Id, and its principal; the API
// requests it made carry the same request_id.
func TestConsoleRequestsLogged(t *testing.T) {
	var logs testserver.LogBuffer
	srv := testserver.NewServer(t, testserver.Options{Logger: slog.New(logs.JSONHandler(slog.LevelInfo))})
	b := newBrowser(t, srv)
	b.signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	p := b.get("/console/projects/" + srv.GroupID)
	id := p.header.Get("X-Request-Id")
	if p.status != http.StatusOK || len(id) != 32 {
		t.Fatalf("project page: %d, X-Request-Id %q", p.status, id)
	}
	records, err := logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	var page, apiCalls int
	for _, r := range records {
		if r.Str("request_id") != id {
			continue
		}
		switch r.Msg() {
		case "console request":
			page++
			if r.Str("principal") != srv.ServiceAccount.ClientID || r.Str("path") != "/console/projects/"+srv.GroupID {
				t.Errorf("console request line %v", r)
			}
		case "request":
			apiCalls++
		}
	}
	if page != 1 || apiCalls < 2 {
		t.Errorf("%d console lines and %d API lines with the page's request id %s", page, apiCalls, id)
	}
}

// TestNewestExportJobs: of a cluster with more export jobs than a page
// shows, the exports page shows the newest, and says how many there are.
func TestNewestExportJobs(t *testing.T) {
	srv := testserver.NewServer(t, testserver.Options{NoExports: true})
	ctx := context.Background()
	svc, first := queuedExportJob(t, srv)
	ids := []string{first.ID}
	for len(ids) < 130 {
		err := srv.Server.Store.Write(ctx, func(tx snapexport.Tx) error {
			j, err := tx.ExportJob(ctx, srv.GroupID, ids[len(ids)-1])
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			j.State, j.FinishedAt = snapexport.ExportSuccessful, &now
			return tx.UpdateExportJob(ctx, j)
		})
		if err != nil {
			t.Fatal(err)
		}
		job, err := svc.CreateExportJob(ctx, service.ExportJobInput{ProjectID: srv.GroupID, ClusterName: "Cluster0",
			SnapshotID: first.SnapshotID, ExportBucketID: first.ExportBucketID})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
	}
	b := newBrowser(t, srv)
	b.signIn("serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	p := b.get("/console/projects/" + srv.GroupID + "/exports")
	if !strings.Contains(p.body, "The newest 100 of 130 export jobs.") {
		t.Errorf("the page does not say it shows the newest 100 of 130")
	}
	for i, id := range ids {
		if shown := strings.Contains(p.body, `data-export="`+id+`"`); shown != (i >= 30) {
			t.Errorf("job %d of 130 shown: %v", i+1, shown)
		}
	}
}
