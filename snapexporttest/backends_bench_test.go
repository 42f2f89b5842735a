package snapexporttest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/snapexport/snapexport/internal/apitest"
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
				_, err := c.call(b, "POST", path, body, 200)
				return err
			}
			// 500 buckets: the list the list pages read (before the
			// creates grow it), the first 16 for gets, so that gets do
			// not all hit one row.
			var ids []string
			for range 500 {
				body := fmt.Sprintf(`{"bucketName":"bench-%d","cloudProvider":"AWS","iamRoleId":%q}`, n.Add(1), roleID)
				out, err := c.call(b, "POST", path, body, 200)
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
				_, err := c.call(b, "GET", path+"/"+ids[g.Add(1)%16], "", 200)
				return err
			}
			// Pages of 10 of the 500: a first page records its pass's
			// listing, a second is read as of it.
			listPage := func(pageNum int) func() error {
				return func() error {
					_, err := c.call(b, "GET", fmt.Sprintf("%s?itemsPerPage=10&pageNum=%d", path, pageNum), "", 200)
					return err
				}
			}
			createDelete := func() error {
				body := fmt.Sprintf(`{"bucketName":"bench-%d","cloudProvider":"AWS","iamRoleId":%q}`, n.Add(1), roleID)
				out, err := c.call(b, "POST", path, body, 200)
				if err != nil {
					return err
				}
				var bucket struct {
					ID string `json:"_id"`
				}
				if err := json.Unmarshal(out, &bucket); err != nil {
					return err
				}
				_, err = c.call(b, "DELETE", path+"/"+bucket.ID, "", 204)
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

// benchClient calls the API with a bearer token over one keep-alive pool,
// without checking answers against the OpenAPI document: the benchmark
// measures the server.
type benchClient struct{ *apitest.Client }

func newBenchClient(b *testing.B, srv *snapexporttest.Server) benchClient {
	b.Helper()
	c := &apitest.Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	b.Cleanup(c.HTTP.CloseIdleConnections)
	c.Auth = apitest.Bearer(c.Token(b, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret))
	return benchClient{c}
}

// call sends one request and checks its status.
func (c benchClient) call(b *testing.B, method, path, body string, want int) ([]byte, error) {
	accept := apitest.MediaType("2024-05-30")
	if strings.Contains(path, "/cloudProviderAccess") || method == "DELETE" {
		accept = apitest.MediaType("2023-01-01")
	}
	got, err := c.Try(b, apitest.Request{Method: method, Path: path, Accept: accept, Body: body})
	if err != nil {
		return nil, err
	}
	if got.Status != want {
		return got.Body, fmt.Errorf("%s %s: %s", method, path, got)
	}
	return got.Body, nil
}

// role creates and authorizes an AWS role.
func (c benchClient) role(b *testing.B, groupID string) string {
	b.Helper()
	out, err := c.call(b, "POST", "/api/atlas/v2/groups/"+groupID+"/cloudProviderAccess", `{"providerName":"AWS"}`, 200)
	if err != nil {
		b.Fatal(err)
	}
	var r struct {
		RoleID string `json:"roleId"`
	}
	json.Unmarshal(out, &r)
	if _, err := c.call(b, "PATCH", "/api/atlas/v2/groups/"+groupID+"/cloudProviderAccess/"+r.RoleID,
		`{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/bench"}`, 200); err != nil {
		b.Fatal(err)
	}
	return r.RoleID
}
