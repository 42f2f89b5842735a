package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/pgtest"
)

// pgCluster is a PostgreSQL server of the test's own, made by
// scripts/postgres, that the test may stop and start again.
type pgCluster struct {
	t      *testing.T
	script string
	dir    string
	url    string
}

// startCluster starts a cluster in a new directory under /tmp (the user
// postgres, which runs the server when the tests run as root, must be able
// to reach it; t.TempDir's parent is private), removed when the test ends.
func startCluster(t *testing.T) *pgCluster {
	t.Helper()
	pgtest.URL(t) // the PostgreSQL tests are on: skipped without, required in CI
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "snapexport-pgrestart-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{t: t, script: script, dir: dir}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("scripts/postgres stop %s: %v\n%s", dir, err, out)
		}
	})
	c.url = c.run("start")
	return c
}

// run runs scripts/postgres ACTION DIR [args] and returns what it printed.
func (c *pgCluster) run(action string, args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.script, append([]string{action, c.dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("scripts/postgres %s %s: %v\n%s", action, c.dir, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// exec runs SQL on the cluster.
func (c *pgCluster) exec(sql string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// outcome is one request of the load.
type outcome struct {
	what          string
	start, end    time.Time
	status        int
	errorCode     string // X-Error-Code
	bodyErrorCode string // errorCode of the JSON body
	err           error
}

// TestPostgresRestartUnderLoad stops PostgreSQL under one `snapexport serve`
// while clients create export buckets, and starts it again: twice, first a
// clean (fast) shutdown, then a crash (immediate). While the database is
// away every request is answered 503 SERVICE_UNAVAILABLE, promptly; none
// 500, none hangs; once it is back, requests succeed again without
// restarting snapexport; and every create answered 200 is there at the end.
func TestPostgresRestartUnderLoad(t *testing.T) {
	cluster := startCluster(t)
	// The test cluster skips synchronous commits for speed; a commit
	// acknowledged to snapexport must survive the crash below.
	cluster.exec("ALTER SYSTEM SET synchronous_commit = on")
	cluster.exec("SELECT pg_reload_conf()")

	data := filepath.Join(t.TempDir(), "data")
	creds := initBinary(t, data, "--database", cluster.url)
	groupID := creds.GroupID
	bucketsPath := "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets"
	p := startServe(t, data, "--database", cluster.url, "--no-rate-limit")
	owner := creds.owner(p.base)
	roleID := awsRole(t, owner, groupID)
	bearer := owner.Token(t, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret)

	const creators = 4
	// bound is how long any request may take, outage or not: the pool's
	// connect timeout (5 s) is the longest wait for a database that went
	// away, and a refused connection fails at once.
	const bound = 10 * time.Second
	var (
		mu       sync.Mutex
		outcomes []outcome
		acked    = map[string]string{} // _id → bucketName of every 200
		lastOK   time.Time             // start of the latest acknowledged create
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	record := func(o outcome) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	transport := &http.Transport{MaxIdleConnsPerHost: creators + 1}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 2 * bound}
	for w := range creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &apitest.Client{BaseURL: p.base, Auth: apitest.Bearer(bearer), HTTP: hc}
			for i := 0; !stop.Load(); i++ {
				name := fmt.Sprintf("restart-%d-%d", w, i)
				o := outcome{what: "create " + name, start: time.Now()}
				got, err := c.Try(t, apitest.Request{Method: "POST", Path: bucketsPath, Accept: apitest.MediaType("2024-05-30"),
					Body: fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID)})
				o.end, o.err = time.Now(), err
				if err == nil {
					o.status, o.errorCode = got.Status, got.Header.Get("X-Error-Code")
					if got.Status == 200 {
						var b struct {
							ID string `json:"_id"`
						}
						if err := json.Unmarshal(got.Body, &b); err != nil || !hex24.MatchString(b.ID) {
							t.Errorf("%s answered 200 with %s", o.what, got.Body)
						}
						mu.Lock()
						acked[b.ID] = name
						if o.start.After(lastOK) {
							lastOK = o.start
						}
						mu.Unlock()
					} else {
						var e struct{ ErrorCode string }
						json.Unmarshal(got.Body, &e)
						o.bodyErrorCode = e.ErrorCode
						time.Sleep(20 * time.Millisecond) // no busy loop while the database is away
					}
				}
				record(o)
			}
		}()
	}
	// And a digest client reading, the way the Atlas SDK does: a
	// challenge first, then the answer (its nonce is recorded in the
	// database).
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := creds.owner(p.base)
		c.HTTP = hc
		for !stop.Load() {
			o := outcome{what: "digest list", start: time.Now()}
			got, err := c.Try(t, apitest.Request{Path: bucketsPath, Accept: apitest.MediaType("2024-05-30")})
			o.end, o.err = time.Now(), err
			if err == nil {
				o.status = got.Status
			}
			if err == nil && got.Status != 200 {
				var e struct{ ErrorCode string }
				json.Unmarshal(got.Body, &e)
				o.bodyErrorCode, o.errorCode = e.ErrorCode, e.ErrorCode
				time.Sleep(20 * time.Millisecond)
			}
			record(o)
		}
	}()

	type outage struct {
		mode        string
		down, up    time.Time
		resumedOK   bool
		unavailable int
	}
	var outages []*outage
	wait := func(d time.Duration) { time.Sleep(d) }
	wait(700 * time.Millisecond)
	for _, mode := range []string{"fast", "immediate"} {
		o := &outage{mode: mode, down: time.Now()}
		cluster.run("pause", mode)
		wait(2 * time.Second)
		if u := cluster.run("resume"); u != cluster.url {
			t.Fatalf("the cluster came back at %s, was %s", u, cluster.url)
		}
		o.up = time.Now()
		outages = append(outages, o)
		// Load on until creates have succeeded again for a while (or
		// long enough to tell that they do not).
		for deadline := o.up.Add(15 * time.Second); time.Now().Before(deadline); {
			mu.Lock()
			ok := lastOK.After(o.up.Add(time.Second))
			mu.Unlock()
			if ok {
				break
			}
			wait(50 * time.Millisecond)
		}
	}
	stop.Store(true)
	wg.Wait()
	if p.exited() {
		t.Fatalf("serve exited: %v\n%s", p.err, p.stderr)
	}

	// What the clients saw.
	counts := map[string]int{}
	var slowest time.Duration
	for _, o := range outcomes {
		d := o.end.Sub(o.start)
		slowest = max(slowest, d)
		switch {
		case o.err != nil:
			t.Errorf("%s: no answer: %v", o.what, o.err)
		case d > bound:
			t.Errorf("%s took %v, more than %v", o.what, d, bound)
		}
		if o.err != nil {
			continue
		}
		counts[fmt.Sprint(o.status)]++
		switch o.status {
		case 200:
			for _, g := range outages {
				if o.start.After(g.up) {
					g.resumedOK = true
				}
			}
		case 503:
			if o.errorCode != "SERVICE_UNAVAILABLE" || o.bodyErrorCode != "SERVICE_UNAVAILABLE" {
				t.Errorf("%s: 503 with X-Error-Code %q, errorCode %q; want SERVICE_UNAVAILABLE", o.what, o.errorCode, o.bodyErrorCode)
			}
			for _, g := range outages {
				// Within the outage, or just after it (a second,
				// less than the load between two outages).
				if !o.end.Before(g.down) && !o.start.After(g.up.Add(time.Second)) {
					g.unavailable++
				}
			}
		default:
			t.Errorf("%s: status %d (X-Error-Code %q); want 200, or 503 while the database is away", o.what, o.status, o.errorCode)
		}
	}
	t.Logf("%d requests: %v; slowest %v; %d creates acknowledged", len(outcomes), counts, slowest, len(acked))
	for _, g := range outages {
		t.Logf("%s restart: %d requests answered 503 around it, %v down", g.mode, g.unavailable, g.up.Sub(g.down).Round(time.Millisecond))
		if g.unavailable == 0 {
			t.Errorf("no request was answered 503 while PostgreSQL was down (%s); the test did not reach the outage", g.mode)
		}
		if !g.resumedOK {
			t.Errorf("no request succeeded after PostgreSQL came back (%s) without restarting snapexport", g.mode)
		}
	}
	if t.Failed() {
		t.Logf("serve's log:\n%s", tail(p.stderr.String(), 40))
	}

	// Nothing acknowledged was lost.
	listed := map[string]bool{}
	for _, id := range listAll(t, owner, groupID) {
		listed[id] = true
	}
	lost := 0
	for id, name := range acked {
		if !listed[id] {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged bucket %s (%s) is missing after the restarts", id, name)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged buckets are missing", lost, len(acked))
	}
	t.Logf("%d buckets listed after the restarts, %d acknowledged", len(listed), len(acked))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
