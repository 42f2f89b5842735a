package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/exportrunner"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/testserver"
)

// Media types of the two export-bucket versions.
const (
	v20230101 = "application/vnd.atlas.2023-01-01+json"
	v20240530 = "application/vnd.atlas.2024-05-30+json"
)

// ---------------------------------------------------------------- clock

// fakeClock is a settable clock shared by the authenticator, the API and
// the service of a server built with newEnv(…, envOptions{clock: …}).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ---------------------------------------------------------------- environment

// env is a running server, its bootstrap credentials and a client that
// signs with the bootstrap API key and checks every answer against the
// OpenAPI document.
type env struct {
	*apitest.Client
	URL          string
	OrgID        string
	GroupID      string
	PublicKey    string
	PrivateKey   string
	ClientID     string
	ClientSecret string
	// Server is the assembled server, for adding principals and projects.
	Server *server.Server
	// Clock is set when the server runs on a fake clock.
	Clock *fakeClock
	// test is the test server, which names its PostgreSQL
	// schema when it has one.
	test *testserver.Server
}

type envOptions struct {
	limits *api.Limits
	// clock is the clock of the server (authenticator, API and service).
	clock   *fakeClock
	logger  *slog.Logger
	dataDir string
	// noExports leaves export jobs queued; exports tunes the runner
	// otherwise.
	noExports bool
	exports   *exportrunner.Config
	// trustedProxies are the networks whose X-Forwarded-For the server
	// believes.
	trustedProxies []netip.Prefix
	// clusterChangeDelay is how long clusters show CREATING and DELETING.
	clusterChangeDelay time.Duration
	// metrics, when set, is told of the server's requests.
	metrics *metrics.Metrics
}

// testHash keeps client-secret hashing cheap, as the test server does.
var testHash = auth.HashParams{Time: 1, Memory: 64, Threads: 1}

// newEnv starts a test server: on SQLite, or on PostgreSQL
// when SNAPEXPORTTEST_DATABASE names a database.
func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	e := &env{}
	so := testserver.Options{Limits: o.limits, Logger: o.logger, DataDir: o.dataDir, NoExports: o.noExports, Exports: o.exports,
		TrustedProxies: o.trustedProxies, ClusterChangeDelay: o.clusterChangeDelay, Metrics: o.metrics}
	if o.clock != nil {
		so.Now = o.clock.Now
		e.Clock = o.clock
	}
	srv := testserver.NewServer(t, so)
	e.URL, e.OrgID, e.GroupID, e.Server, e.test = srv.URL, srv.OrgID, srv.GroupID, srv.Server, srv
	e.PublicKey, e.PrivateKey = srv.APIKey.PublicKey, srv.APIKey.PrivateKey
	e.ClientID, e.ClientSecret = srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret
	e.Client = &apitest.Client{BaseURL: srv.URL, Auth: apitest.Digest(e.PublicKey, e.PrivateKey), Validate: true}
	return e
}

// ---------------------------------------------------------------- OAuth

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func (e *env) token(t testing.TB) string {
	t.Helper()
	return e.Token(t, e.ClientID, e.ClientSecret)
}

// ---------------------------------------------------------------- principals

// apiKey creates an API key of the organization holding role on the
// project (no project role when role is empty) and returns its digest
// credentials.
func (e *env) apiKey(t testing.TB, role snapexport.Role) apitest.Auth {
	t.Helper()
	ctx := context.Background()
	creds, err := e.Server.Service.CreateAPIKey(ctx, e.OrgID, "role "+string(role), nil)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		if err := e.Server.Service.AssignRole(ctx, service.PrincipalRef{PublicKey: creds.PublicKey}, e.GroupID, role); err != nil {
			t.Fatal(err)
		}
	}
	return apitest.Digest(creds.PublicKey, creds.PrivateKey)
}

// ---------------------------------------------------------------- resources

func (e *env) bucketsPath(apiVersion string) string {
	return "/api/atlas/" + apiVersion + "/groups/" + e.GroupID + "/backup/exportBuckets"
}

func (e *env) rolesPath() string {
	return "/api/atlas/v2/groups/" + e.GroupID + "/cloudProviderAccess"
}

// role creates a cloud provider access role and, when authorize is set,
// authorizes it; it returns the role id.
func (e *env) role(t testing.TB, provider string, authorize bool) string {
	t.Helper()
	create := map[string]string{
		"AWS":   `{"providerName":"AWS"}`,
		"AZURE": `{"providerName":"AZURE","atlasAzureAppId":"9f2deb0d-be22-4524-a403-df531868bac0","servicePrincipalId":"6ab3b2d5-9f2c-4a3e-8f7e-1c2d3e4f5a6b","tenantId":"91402ab4-3bd5-4bd1-8b2a-0123456789ab"}`,
		"GCP":   `{"providerName":"GCP"}`,
	}[provider]
	got := e.Do(t, apitest.Request{Method: "POST", Path: e.rolesPath(), Accept: v20230101, Body: create})
	if got.Status != http.StatusOK {
		t.Fatalf("create %s role: %s", provider, got)
	}
	var v struct {
		ID     string `json:"_id"`
		RoleID string `json:"roleId"`
	}
	got.Decode(t, &v)
	id := v.RoleID
	if provider == "AZURE" {
		id = v.ID
	}
	if id == "" {
		t.Fatalf("create %s role: no id in %s", provider, got.Body)
	}
	if !authorize || provider == "GCP" {
		return id
	}
	patch := map[string]string{
		"AWS":   `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/atlas-export"}`,
		"AZURE": create,
	}[provider]
	got = e.Do(t, apitest.Request{Method: "PATCH", Path: e.rolesPath() + "/" + id, Accept: v20230101, Body: patch})
	if got.Status != http.StatusOK {
		t.Fatalf("authorize %s role: %s", provider, got)
	}
	return id
}

// foreignRole creates a second project and an authorized AWS role in it,
// and returns the role id.
func (e *env) foreignRole(t testing.TB) string {
	t.Helper()
	got := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups", Accept: v20230101,
		Body: `{"name":"other-` + strings.ToLower(auth.RandomString(6, "abcdefghij")) + `","orgId":"` + e.OrgID + `"}`})
	if got.Status != http.StatusCreated {
		t.Fatalf("create project: %s", got)
	}
	var p struct {
		ID string `json:"id"`
	}
	got.Decode(t, &p)
	other := *e
	other.GroupID = p.ID
	return other.role(t, "AWS", true)
}

// awsBucketBody is the seed create body.
func awsBucketBody(name, roleID string) string {
	return fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q,"requirePrivateNetworking":true}`, name, roleID)
}

// createBucket registers a bucket through v2 2024-05-30 and returns its id.
func (e *env) createBucket(t testing.TB, body string) string {
	t.Helper()
	got := e.Do(t, apitest.Request{Method: "POST", Path: e.bucketsPath("v2"), Accept: v20240530, Body: body})
	if got.Status != http.StatusOK {
		t.Fatalf("create bucket %s: %s", body, got)
	}
	var v struct {
		ID string `json:"_id"`
	}
	got.Decode(t, &v)
	return v.ID
}

// bucketCount is the totalCount of the v2 2024-05-30 list (every provider).
func (e *env) bucketCount(t testing.TB) int {
	t.Helper()
	got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2"), Accept: v20240530})
	if got.Status != http.StatusOK {
		t.Fatalf("list buckets: %s", got)
	}
	var v struct {
		TotalCount *int `json:"totalCount"`
	}
	got.Decode(t, &v)
	if v.TotalCount == nil {
		t.Fatalf("list buckets: no totalCount in %s", got.Body)
	}
	return *v.TotalCount
}

// bucketIDs lists the ids of every bucket of the project (v2 2024-05-30,
// one page of up to 500).
func (e *env) bucketIDs(t testing.TB) []string {
	t.Helper()
	got := e.Do(t, apitest.Request{Path: e.bucketsPath("v2") + "?itemsPerPage=500", Accept: v20240530})
	if got.Status != http.StatusOK {
		t.Fatalf("list buckets: %s", got)
	}
	var page struct {
		Results []struct {
			ID string `json:"_id"`
		} `json:"results"`
	}
	got.Decode(t, &page)
	ids := []string{}
	for _, b := range page.Results {
		ids = append(ids, b.ID)
	}
	return ids
}

// ---------------------------------------------------------------- lists

// listPage is a page of a list of results of type R.
type listPage[R any] struct {
	Links      []link `json:"links"`
	Results    []R    `json:"results"`
	TotalCount *int   `json:"totalCount"`
}

type link struct{ Href, Rel string }

// wantTwoPages checks the paging of the v2 list at path, which holds the
// three results ids in order: a first page of two with its count and its
// self and next links, then a second page of the last one, without count,
// whose second link is the previous page.
func wantTwoPages[R any](t *testing.T, e *env, path string, ids []string, id func(R) string) {
	t.Helper()
	got := e.Do(t, apitest.Request{Path: path + "?itemsPerPage=2", Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)
	apitest.WantSuccessBody(t, got)
	var page listPage[R]
	got.Decode(t, &page)
	if page.TotalCount == nil || *page.TotalCount != 3 || len(page.Results) != 2 || id(page.Results[0]) != ids[0] || id(page.Results[1]) != ids[1] {
		t.Fatalf("page 1: %s", got.Body)
	}
	wantLinks := []link{
		{e.URL + path + "?includeCount=true&pageNum=1&itemsPerPage=2", "self"},
		{e.URL + path + "?includeCount=true&itemsPerPage=2&pageNum=2", "next"},
	}
	if !slices.Equal(page.Links, wantLinks) {
		t.Errorf("page 1 links: %+v, want %+v", page.Links, wantLinks)
	}
	got = e.Do(t, apitest.Request{Path: path + "?itemsPerPage=2&pageNum=2&includeCount=false", Accept: v20230101})
	apitest.WantStatus(t, got, http.StatusOK)
	page = listPage[R]{}
	got.Decode(t, &page)
	if page.TotalCount != nil || len(page.Results) != 1 || id(page.Results[0]) != ids[2] || len(page.Links) != 2 || page.Links[1].Rel != "previous" {
		t.Errorf("page 2 without count: %s", got.Body)
	}
}

// nonceRows counts the digest nonces the server's database holds: in the
// PostgreSQL schema of the test server, or else in the SQLite database of
// the data directory dir.
func (e *env) nonceRows(t *testing.T, dir string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int
	if e.test.Schema != "" {
		conn, err := pgx.Connect(ctx, e.test.Database)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{e.test.Schema, "digest_nonces"}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM digest_nonces`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
