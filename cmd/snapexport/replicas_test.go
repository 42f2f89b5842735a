package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/pgtest"
)

// initPostgres runs `snapexport init` on a fresh schema of the test server
// (skipping the test without one, failing it in CI) and returns the
// schema's URL and the credentials.
func initPostgres(t *testing.T) (string, initCreds) {
	t.Helper()
	u := pgtest.Schema(t, pgtest.URL(t))
	res := execBinary(t, "init", "--data", filepath.Join(t.TempDir(), "init"), "--database", u, "--json")
	if res.code != 0 {
		t.Fatalf("init --database: exit %d\n%s", res.code, res.stderr)
	}
	var creds initCreds
	if err := json.Unmarshal([]byte(res.stdout), &creds); err != nil {
		t.Fatal(err)
	}
	return u, creds
}

// listAll pages through a project's export buckets (itemsPerPage=500) and
// returns their ids in list order, failing on a duplicate or a totalCount
// that disagrees.
func listAll(t *testing.T, c *apiClient, groupID string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for page := 1; ; page++ {
		st, body := c.do(t, "GET", fmt.Sprintf("/api/atlas/v2/groups/%s/backup/exportBuckets?itemsPerPage=500&pageNum=%d", groupID, page), v2("2024-05-30"), "")
		if st != 200 {
			t.Fatalf("list page %d on %s: %d %s", page, c.base, st, body)
		}
		var l struct {
			Results []struct {
				ID string `json:"_id"`
			} `json:"results"`
			TotalCount int `json:"totalCount"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		for _, b := range l.Results {
			if seen[b.ID] {
				t.Errorf("%s lists bucket %s twice", c.base, b.ID)
			}
			seen[b.ID] = true
			out = append(out, b.ID)
		}
		if len(l.Results) < 500 {
			if len(out) != l.TotalCount {
				t.Errorf("%s listed %d buckets, totalCount %d", c.base, len(out), l.TotalCount)
			}
			return out
		}
	}
}

// TestReplicas runs two `snapexport serve` processes on one PostgreSQL
// schema and checks that what must hold across replicas holds: concurrent
// creates and deletes spread over both leave both listing the same
// buckets, exactly those acknowledged; a digest nonce is accepted once by
// either; an OAuth token revoked on one is refused by the other; and one
// project's rate limit is shared.
func TestReplicas(t *testing.T) {
	u, creds := initPostgres(t)
	groupID := creds.GroupID
	bucketsPath := "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets"
	replicas := []*serveProc{
		startServe(t, filepath.Join(t.TempDir(), "a"), "--database", u, "--no-rate-limit"),
		startServe(t, filepath.Join(t.TempDir(), "b"), "--database", u, "--no-rate-limit"),
	}
	for _, p := range replicas {
		if out := p.stdout.String(); strings.Contains(out, "Initialized") {
			t.Fatalf("serve initialized a database that init had initialized:\n%s", out)
		}
		if !strings.Contains(p.stderr.String(), "database=postgres") {
			t.Fatalf("serve does not say it runs on PostgreSQL:\n%s", p.stderr)
		}
	}
	owner := func(i int) *apiClient {
		return &apiClient{base: replicas[i%2].base, publicKey: creds.APIKey.PublicKey, privateKey: creds.APIKey.PrivateKey}
	}
	roleID := awsRole(t, owner(0), groupID)
	bearer := token(t, replicas[1].base, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret)

	t.Run("ConcurrentCreatesAndDeletes", func(t *testing.T) {
		const workers = 6
		load := 1500 * time.Millisecond
		if testing.Short() {
			load = 600 * time.Millisecond
		}
		var (
			mu      sync.Mutex
			created = map[string]string{} // _id → bucketName of every acknowledged create
			deleted = map[string]bool{}   // _id of every acknowledged delete
			// When each bucket's create was acknowledged and its delete sent.
			ackedAt, removingAt = map[string]time.Time{}, map[string]time.Time{}
			stop                atomic.Bool
			wg                  sync.WaitGroup
			passes              atomic.Int64
		)
		transport := &http.Transport{MaxIdleConnsPerHost: workers}
		defer transport.CloseIdleConnections()
		hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
		client := func(i int) *apiClient {
			return &apiClient{base: replicas[i%2].base, token: bearer, http: hc}
		}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []string // created by this worker, not deleted yet
				for i := 0; !stop.Load(); i++ {
					// Each request goes to the other replica than the last.
					c := client(w + i)
					if i%3 == 2 && len(mine) > 0 {
						id := mine[0]
						mu.Lock()
						removingAt[id] = time.Now()
						mu.Unlock()
						st, body, err := c.try("DELETE", bucketsPath+"/"+id, v2("2023-01-01"), "")
						if err != nil || st != http.StatusNoContent {
							t.Errorf("delete %s on %s: %d %s %v", id, c.base, st, body, err)
							return
						}
						mine = mine[1:]
						mu.Lock()
						deleted[id] = true
						mu.Unlock()
						continue
					}
					name := fmt.Sprintf("replica-%d-%d", w, i)
					st, body, err := c.try("POST", bucketsPath, v2("2024-05-30"),
						fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID))
					if err != nil || st != 200 {
						t.Errorf("create %s on %s: %d %s %v", name, c.base, st, body, err)
						return
					}
					var b struct {
						ID string `json:"_id"`
					}
					if err := json.Unmarshal(body, &b); err != nil || !hex24.MatchString(b.ID) {
						t.Errorf("create %s answered 200 with %s", name, body)
						return
					}
					id := b.ID
					mine = append(mine, id)
					mu.Lock()
					created[id] = name
					ackedAt[id] = time.Now()
					mu.Unlock()
				}
			}()
		}
		// Meanwhile a reader pages through the list, alternating replicas,
		// in small pages: no pass may list a bucket twice or miss one that
		// was there from before the pass began until after it ended, and
		// every page of a pass gives the same totalCount.
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			for pass := 0; !stop.Load(); pass++ {
				seen := map[string]int{}
				began := time.Now()
				total := -1
				for page := 1; page < 1000; page++ {
					c := client(pass + page)
					st, body, err := c.try("GET", fmt.Sprintf("%s?itemsPerPage=7&pageNum=%d", bucketsPath, page), v2("2024-05-30"), "")
					if err != nil || st != 200 {
						t.Errorf("list page %d on %s: %d %s %v", page, c.base, st, body, err)
						return
					}
					var l struct {
						Results []struct {
							ID string `json:"_id"`
						} `json:"results"`
						TotalCount int `json:"totalCount"`
					}
					if err := json.Unmarshal(body, &l); err != nil {
						t.Errorf("list page %d: %v", page, err)
						return
					}
					if total >= 0 && l.TotalCount != total {
						t.Errorf("pass %d: page %d on %s says totalCount %d, page 1 said %d", pass, page, c.base, l.TotalCount, total)
					}
					total = l.TotalCount
					for _, b := range l.Results {
						if p, dup := seen[b.ID]; dup {
							t.Errorf("a pass through the list during creates and deletes listed bucket %s on page %d and again on page %d", b.ID, p, page)
						}
						seen[b.ID] = page
					}
					if len(l.Results) < 7 {
						break
					}
				}
				ended := time.Now()
				mu.Lock()
				for id, acked := range ackedAt {
					removing, removed := removingAt[id]
					if _, listed := seen[id]; !listed && acked.Before(began) && (!removed || removing.After(ended)) {
						t.Errorf("pass %d missed bucket %s, there from before the pass began until after it ended", pass, id)
					}
				}
				mu.Unlock()
				passes.Add(1)
			}
		}()
		time.Sleep(load)
		stop.Store(true)
		wg.Wait()
		<-readerDone
		if t.Failed() {
			t.FailNow()
		}

		var want []string
		for id := range created {
			if !deleted[id] {
				want = append(want, id)
			}
		}
		sort.Strings(want)
		t.Logf("%d creates and %d deletes acknowledged over both replicas; %d buckets remain; %d list passes during the load",
			len(created), len(deleted), len(want), passes.Load())
		if len(created) < 2*workers || len(deleted) < workers {
			t.Fatalf("only %d creates and %d deletes were acknowledged; the test did not load the replicas", len(created), len(deleted))
		}
		var lists [2][]string
		for i := range replicas {
			lists[i] = listAll(t, owner(i), groupID)
			got := slices.Clone(lists[i])
			sort.Strings(got)
			if !slices.Equal(got, want) {
				var lost, extra []string
				for _, id := range want {
					if !slices.Contains(got, id) {
						lost = append(lost, id)
					}
				}
				for _, id := range got {
					if _, ok := created[id]; !ok || deleted[id] {
						extra = append(extra, id)
					}
				}
				t.Errorf("replica %d lists %d buckets, want the %d acknowledged creates not deleted: missing %v, unexpected %v",
					i, len(got), len(want), lost, extra)
			}
		}
		if !slices.Equal(lists[0], lists[1]) {
			t.Errorf("the replicas list the buckets in different orders")
		}
	})

	t.Run("DigestNonceOnce", func(t *testing.T) {
		path := bucketsPath
		a, b := owner(0), owner(1)
		resp, body, err := a.send("GET", path, v2("2024-05-30"), "", "")
		if err != nil {
			t.Fatal(err)
		}
		challenge := resp.Header.Get("Www-Authenticate")
		if resp.StatusCode != 401 || !strings.HasPrefix(challenge, "Digest ") {
			t.Fatalf("unauthenticated GET on A: %d %q %s", resp.StatusCode, challenge, body)
		}
		authz := digestResponse(challenge, "GET", path, creds.APIKey.PublicKey, creds.APIKey.PrivateKey)
		// A's nonce, answered on B.
		resp, body, err = b.send("GET", path, v2("2024-05-30"), "", authz)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("A's challenge answered on B: %d %s", resp.StatusCode, body)
		}
		// The same answer again, on A, then on B: the nonce is spent.
		for _, c := range []*apiClient{a, b} {
			resp, body, err = c.send("GET", path, v2("2024-05-30"), "", authz)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Digest ") {
				t.Errorf("a replayed digest answer on %s: %d %q %s; want 401 with a new challenge",
					c.base, resp.StatusCode, resp.Header.Get("Www-Authenticate"), body)
			}
		}
		// Many replays at once, on both replicas, of one fresh answer:
		// exactly one succeeds.
		resp, _, err = b.send("GET", path, v2("2024-05-30"), "", "")
		if err != nil {
			t.Fatal(err)
		}
		authz = digestResponse(resp.Header.Get("Www-Authenticate"), "GET", path, creds.APIKey.PublicKey, creds.APIKey.PrivateKey)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _, err := owner(i).send("GET", path, v2("2024-05-30"), "", authz)
				if err == nil && resp.StatusCode == 200 {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Errorf("one digest answer sent 10 times at once to both replicas succeeded %d times; want once", ok.Load())
		}
	})

	t.Run("TokenRevokedOnOther", func(t *testing.T) {
		tok := token(t, replicas[0].base, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret)
		a := &apiClient{base: replicas[0].base, token: tok}
		b := &apiClient{base: replicas[1].base, token: tok}
		if st, body := b.do(t, "GET", bucketsPath, v2("2024-05-30"), ""); st != 200 {
			t.Fatalf("A's token on B: %d %s", st, body)
		}
		form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
		req, _ := http.NewRequest("POST", replicas[1].base+"/api/oauth/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(creds.ServiceAccount.ClientID), url.QueryEscape(creds.ServiceAccount.ClientSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("revoke on B: %d", resp.StatusCode)
		}
		for _, c := range []*apiClient{a, b} {
			if st, body := c.do(t, "GET", bucketsPath, v2("2024-05-30"), ""); st != 401 {
				t.Errorf("token revoked on B, used on %s: %d %s; want 401", c.base, st, body)
			}
		}
	})

	t.Run("SharedRateLimit", func(t *testing.T) {
		// Two more replicas, with a Cloud Backups budget of 10 requests
		// per project (refilling one an hour): 20 requests alternating
		// between them get exactly 10 answers of 200 and 10 of 429.
		limited := []*serveProc{
			startServe(t, filepath.Join(t.TempDir(), "c"), "--database", u, "--rate-limit-cloud-backups", "10:1/1h"),
			startServe(t, filepath.Join(t.TempDir(), "d"), "--database", u, "--rate-limit-cloud-backups", "10:1/1h"),
		}
		statuses := map[int]int{}
		var order []int
		for i := range 20 {
			c := &apiClient{base: limited[i%2].base, token: bearer}
			resp, body, err := c.send("GET", bucketsPath, v2("2024-05-30"), "", "Bearer "+bearer)
			if err != nil {
				t.Fatal(err)
			}
			statuses[resp.StatusCode]++
			order = append(order, resp.StatusCode)
			if resp.StatusCode != 200 && resp.StatusCode != 429 {
				t.Fatalf("request %d on replica %d: %d %s", i, i%2, resp.StatusCode, body)
			}
			if resp.StatusCode == 429 && !strings.Contains(string(body), "RATE_LIMITED_TOKEN_BUCKET") {
				t.Errorf("429 without RATE_LIMITED_TOKEN_BUCKET: %s", body)
			}
		}
		if statuses[200] != 10 || statuses[429] != 10 {
			t.Errorf("20 requests over two replicas sharing a budget of 10: %d × 200, %d × 429 (in order %v); want 10 of each",
				statuses[200], statuses[429], order)
		}
		// The first ten pass and the rest are refused, whichever replica
		// they went to.
		if !slices.Equal(order[:10], slices.Repeat([]int{200}, 10)) {
			t.Errorf("statuses in order %v; want ten 200s first", order)
		}
		// Another project's budget is its own.
		var other projectOut
		mustJSON(t, &other, "admin", "project", "create", "--database", u, "--org", creds.OrgID, "--name", "other")
		c := &apiClient{base: limited[0].base, token: bearer}
		if st, body := c.do(t, "GET", "/api/atlas/v2/groups/"+other.ID+"/backup/exportBuckets", v2("2024-05-30"), ""); st != 200 {
			t.Errorf("another project, once the first is out of budget: %d %s", st, body)
		}
	})
}
