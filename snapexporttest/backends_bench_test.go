package snapexporttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/snapexporttest"
)

// BenchmarkBackends measures export-bucket creates, gets, list pages and
// create-then-delete pairs per second over HTTP, with an OAuth bearer token, on each store: sqlite (the data
// directory on disk, under $TMPDIR or the system's temporary directory, not
// /dev/shm: SQLite commits with synchronous=FULL as `snapexport serve`
// does; the local buckets' folders go to /dev/shm, see bucketDir) and postgres (a fresh schema of the server named by
// SNAPEXPORT_TEST_POSTGRES_URL; skipped without one). sequential is one
// client waiting for each answer; parallel is 4×GOMAXPROCS clients at once
// (b.RunParallel with SetParallelism(4)).
//
//	go test -run '^$' -bench Backends -benchtime 2s ./snapexporttest/
//
// The figures depend on the PostgreSQL server's durability settings as
// much as on snapexport: the clusters of scripts/postgres run with fsync
// and synchronous_commit off (docs/performance.md).
func BenchmarkBackends(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			o := snapexporttest.Options{RateLimits: &snapexporttest.RateLimits{Disabled: true}, DataDir: b.TempDir(),
				Buckets: &snapexporttest.Buckets{LocalDir: bucketDir(b)}}
			if backend == "postgres" {
				o.Database = pgtest.URL(b)
			} else {
				b.Setenv(snapexporttest.EnvDatabase, "") // SQLite even when the suite runs on PostgreSQL
			}
			srv := snapexporttest.NewServer(b, o)
			c := newBenchClient(b, srv)
			roleID := c.role(b, srv.GroupID)
			path := "/api/atlas/v2/groups/" + srv.GroupID + "/backup/exportBuckets"
			var n atomic.Int64
			create := func() error {
				body := fmt.Sprintf(`{"bucketName":"bench-%d","cloudProvider":"AWS","iamRoleId":%q}`, n.Add(1), roleID)
				_, err := c.call("POST", path, body, 200)
				return err
			}
			// 500 buckets: the list the list pages read (before the
			// creates grow it), the first 16 for gets, so that gets do
			// not all hit one row.
			var ids []string
			for range 500 {
				body := fmt.Sprintf(`{"bucketName":"bench-%d","cloudProvider":"AWS","iamRoleId":%q}`, n.Add(1), roleID)
				out, err := c.call("POST", path, body, 200)
				if err != nil {
					b.Fatal(err)
				}
				var bucket struct {
					ID string `json:"_id"`
				}
				json.Unmarshal(out, &bucket)
				ids = append(ids, bucket.ID)
			}
			var g atomic.Int64
			get := func() error {
				_, err := c.call("GET", path+"/"+ids[g.Add(1)%16], "", 200)
				return err
			}
			// Pages of 10 of the 500: a first page records its pass's
			// listing, a second is read as of it.
			listPage := func(pageNum int) func() error {
				return func() error {
					_, err := c.call("GET", fmt.Sprintf("%s?itemsPerPage=10&pageNum=%d", path, pageNum), "", 200)
					return err
				}
			}
			createDelete := func() error {
				body := fmt.Sprintf(`{"bucketName":"bench-%d","cloudProvider":"AWS","iamRoleId":%q}`, n.Add(1), roleID)
				out, err := c.call("POST", path, body, 200)
				if err != nil {
					return err
				}
				var bucket struct {
					ID string `json:"_id"`
				}
				if err := json.Unmarshal(out, &bucket); err != nil {
					return err
				}
				_, err = c.call("DELETE", path+"/"+bucket.ID, "", 204)
				return err
			}
			for _, op := range []struct {
				name string
				fn   func() error
			}{{"list-first-page", listPage(1)}, {"list-next-page", listPage(2)}, {"create", create}, {"get", get}, {"create+delete", createDelete}} {
				b.Run(op.name+"/sequential", func(b *testing.B) { run(b, op.fn) })
				b.Run(op.name+"/parallel", func(b *testing.B) {
					b.SetParallelism(4)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := op.fn(); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				})
			}
		})
	}
}

// bucketDir is where the benchmark's local buckets go: a directory of
// /dev/shm when there is one, so that creating a bucket's folder and its
// write check (most of a create's time on a virtual disk) weigh little and
// the same on both stores; else a temporary directory.
func bucketDir(b *testing.B) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "snapexport-bench-"); err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return b.TempDir()
}

// benchClient calls the API with a bearer token over one keep-alive pool.
type benchClient struct {
	base, token string
	hc          *http.Client
}

func newBenchClient(b *testing.B, srv *snapexporttest.Server) *benchClient {
	b.Helper()
	c := &benchClient{base: srv.URL, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	b.Cleanup(c.hc.CloseIdleConnections)
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/api/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(srv.ServiceAccount.ClientID), url.QueryEscape(srv.ServiceAccount.ClientSecret))
	resp, err := c.hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	c.token = tok.AccessToken
	return c
}

// call sends one request and checks its status.
func (c *benchClient) call(method, path, body string, want int) ([]byte, error) {
	accept := "application/vnd.atlas.2024-05-30+json"
	if strings.Contains(path, "/cloudProviderAccess") || method == "DELETE" {
		accept = "application/vnd.atlas.2023-01-01+json"
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", accept)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out, err
}

// role creates and authorizes an AWS role.
func (c *benchClient) role(b *testing.B, groupID string) string {
	b.Helper()
	out, err := c.call("POST", "/api/atlas/v2/groups/"+groupID+"/cloudProviderAccess", `{"providerName":"AWS"}`, 200)
	if err != nil {
		b.Fatal(err)
	}
	var r struct {
		RoleID string `json:"roleId"`
	}
	json.Unmarshal(out, &r)
	if _, err := c.call("PATCH", "/api/atlas/v2/groups/"+groupID+"/cloudProviderAccess/"+r.RoleID,
		`{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/bench"}`, 200); err != nil {
		b.Fatal(err)
	}
	return r.RoleID
}
