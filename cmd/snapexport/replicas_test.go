package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/pgtest"
)

// initPostgres runs `snapexport init` on a fresh schema of the test server
// (skipping the test without one, failing it in CI) and returns the
// schema's URL and the credentials.
func initPostgres(t *testing.T) (string, initCreds) {
	t.Helper()
	u := pgtest.Schema(t, pgtest.URL(t))
	creds := initBinary(t, filepath.Join(t.TempDir(), "init"), "--database", u)
	return u, creds
}

// bucketIDs is a page of export buckets as far as the tests read it.
type bucketIDs struct {
	Results []struct {
		ID string `json:"_id"`
	} `json:"results"`
	TotalCount int `json:"totalCount"`
}

// listAll pages through a project's export buckets (itemsPerPage=500) and
// returns their ids in list order, failing on a duplicate or a totalCount
// that disagrees.
func listAll(t *testing.T, c *apitest.Client, groupID string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for page := 1; ; page++ {
		got := c.Do(t, apitest.Request{Path: fmt.Sprintf("/api/atlas/v2/groups/%s/backup/exportBuckets?itemsPerPage=500&pageNum=%d", groupID, page), Accept: apitest.MediaType("2024-05-30")})
		if got.Status != 200 {
			t.Fatalf("list page %d on %s: %s", page, c.BaseURL, got)
		}
		var l bucketIDs
		if err := json.Unmarshal(got.Body, &l); err != nil {
			t.Fatal(err)
		}
		for _, b := range l.Results {
			if seen[b.ID] {
				t.Errorf("%s lists bucket %s twice", c.BaseURL, b.ID)
			}
			seen[b.ID] = true
			out = append(out, b.ID)
		}
		if len(l.Results) < 500 {
			if len(out) != l.TotalCount {
				t.Errorf("%s listed %d buckets, totalCount %d", c.BaseURL, len(out), l.TotalCount)
			}
			return out
		}
	}
}

// TestReplicas runs two `snapexport serve` processes on one PostgreSQL
// schema and checks that what must hold across replicas holds: concurrent
// creates and deletes spread over both leave both listing the same
// buckets, exactly those acknowledged; a digest nonce is accepted once by
// either; an OAuth token revoked on one is refused by the other (within
// auth.DefaultPrincipalTTL when the other used it just before); and one
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
	owner := func(i int) *apitest.Client {
		return creds.owner(replicas[i%2].base)
	}
	roleID := awsRole(t, owner(0), groupID)
	bearer := owner(1).Token(t, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret)

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
		client := func(i int) *apitest.Client {
			return &apitest.Client{BaseURL: replicas[i%2].base, Auth: apitest.Bearer(bearer), HTTP: hc}
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
						got, err := c.Try(t, apitest.Request{Method: "DELETE", Path: bucketsPath + "/" + id, Accept: apitest.MediaType("2023-01-01")})
						if err != nil || got.Status != http.StatusNoContent {
							t.Errorf("delete %s on %s: %v %v", id, c.BaseURL, got, err)
							return
						}
						mine = mine[1:]
						mu.Lock()
						deleted[id] = true
						mu.Unlock()
						continue
					}
					name := fmt.Sprintf("replica-%d-%d", w, i)
					got, err := c.Try(t, apitest.Request{Method: "POST", Path: bucketsPath, Accept: apitest.MediaType("2024-05-30"), Body: fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID)})
					if err != nil || got.Status != 200 {
						t.Errorf("create %s on %s: %v %v", name, c.BaseURL, got, err)
						return
					}
					var b struct {
						ID string `json:"_id"`
					}
					if err := json.Unmarshal(got.Body, &b); err != nil || !hex24.MatchString(b.ID) {
						t.Errorf("create %s answered 200 with %s", name, got.Body)
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
					got, err := c.Try(t, apitest.Request{Path: fmt.Sprintf("%s?itemsPerPage=7&pageNum=%d", bucketsPath, page), Accept: apitest.MediaType("2024-05-30")})
					if err != nil || got.Status != 200 {
						t.Errorf("list page %d on %s: %v %v", page, c.BaseURL, got, err)
						return
					}
					var l bucketIDs
					if err := json.Unmarshal(got.Body, &l); err != nil {
						t.Errorf("list page %d: %v", page, err)
						return
					}
					if total >= 0 && l.TotalCount != total {
						t.Errorf("pass %d: page %d on %s says totalCount %d, page 1 said %d", pass, page, c.BaseURL, l.TotalCount, total)
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
		list := apitest.Request{Path: path, Accept: apitest.MediaType("2024-05-30")}
		a, b := owner(0), owner(1)
		authz := apitest.SignDigest(t, a.Challenge(t, list), "GET", path, creds.APIKey.PublicKey, creds.APIKey.PrivateKey)
		// A's nonce, answered on B.
		if got := b.Send(t, list, authz); got.Status != 200 {
			t.Fatalf("A's challenge answered on B: %s", got)
		}
		// The same answer again, on A, then on B: the nonce is spent.
		for _, c := range []*apitest.Client{a, b} {
			got := c.Send(t, list, authz)
			if got.Status != 401 || !strings.HasPrefix(got.Header.Get("Www-Authenticate"), "Digest ") {
				t.Errorf("a replayed digest answer on %s: %d %q %s; want 401 with a new challenge",
					c.BaseURL, got.Status, got.Header.Get("Www-Authenticate"), got.Body)
			}
		}
		// Many replays at once, on both replicas, of one fresh answer:
		// exactly one succeeds.
		authz = apitest.SignDigest(t, b.Challenge(t, list), "GET", path, creds.APIKey.PublicKey, creds.APIKey.PrivateKey)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				list := list
				list.Auth = apitest.Authorization(authz)
				got, err := owner(i).Try(t, list)
				if err == nil && got.Status == 200 {
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
		tok := owner(0).Token(t, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret)
		a := &apitest.Client{BaseURL: replicas[0].base, Auth: apitest.Bearer(tok)}
		b := &apitest.Client{BaseURL: replicas[1].base, Auth: apitest.Bearer(tok)}
		for _, c := range []*apitest.Client{a, b} {
			if got := c.Do(t, apitest.Request{Path: bucketsPath, Accept: apitest.MediaType("2024-05-30")}); got.Status != 200 {
				t.Fatalf("A's token on %s: %s", c.BaseURL, got)
			}
		}
		if got := b.RevokeToken(t, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret, tok); got.Status != 200 {
			t.Fatalf("revoke on B: %d", got.Status)
		}
		revoked := time.Now()
		if got := b.Do(t, apitest.Request{Path: bucketsPath, Accept: apitest.MediaType("2024-05-30")}); got.Status != 401 {
			t.Errorf("token revoked on B, used on B right after: %s; want 401", got)
		}
		// A looked the token up before the revocation: it may accept it
		// for auth.DefaultPrincipalTTL, no longer.
		for {
			got := a.Do(t, apitest.Request{Path: bucketsPath, Accept: apitest.MediaType("2024-05-30")})
			if got.Status == 401 {
				break
			}
			if got.Status != 200 || time.Since(revoked) > auth.DefaultPrincipalTTL+500*time.Millisecond {
				t.Fatalf("token revoked on B, used on A %v later: %s; want 401 within %v", time.Since(revoked), got, auth.DefaultPrincipalTTL)
			}
			time.Sleep(50 * time.Millisecond)
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
			c := &apitest.Client{BaseURL: limited[i%2].base, Auth: apitest.Bearer(bearer)}
			got := c.Do(t, apitest.Request{Path: bucketsPath, Accept: apitest.MediaType("2024-05-30")})
			statuses[got.Status]++
			order = append(order, got.Status)
			if got.Status != 200 && got.Status != 429 {
				t.Fatalf("request %d on replica %d: %s", i, i%2, got)
			}
			if got.Status == 429 && !strings.Contains(string(got.Body), "RATE_LIMITED_TOKEN_BUCKET") {
				t.Errorf("429 without RATE_LIMITED_TOKEN_BUCKET: %s", got.Body)
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
		c := &apitest.Client{BaseURL: limited[0].base, Auth: apitest.Bearer(bearer)}
		if got := c.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + other.ID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")}); got.Status != 200 {
			t.Errorf("another project, once the first is out of budget: %s", got)
		}
	})
}

// TestReplicasShareTokenKey: two replicas of a fresh PostgreSQL database,
// asked for their first tokens at once, agree on one signing key, so each
// accepts the other's tokens; the key never appears in their logs.
func TestReplicasShareTokenKey(t *testing.T) {
	u, creds := initPostgres(t)
	replicas := []*serveProc{
		startServe(t, filepath.Join(t.TempDir(), "a"), "--database", u, "--no-rate-limit"),
		startServe(t, filepath.Join(t.TempDir(), "b"), "--database", u, "--no-rate-limit"),
	}
	sa := creds.ServiceAccount
	tokens := make([]string, 4)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() { tokens[i] = creds.owner(replicas[i%2].base).Token(t, sa.ClientID, sa.ClientSecret) })
	}
	wg.Wait()
	bucketsPath := "/api/atlas/v2/groups/" + creds.GroupID + "/backup/exportBuckets"
	for i, tok := range tokens {
		if strings.Count(tok, ".") != 2 {
			t.Errorf("token from replica %d is not a JWT: %q", i%2, tok)
		}
		for j, p := range replicas {
			c := &apitest.Client{BaseURL: p.base, Auth: apitest.Bearer(tok)}
			if got := c.Do(t, apitest.Request{Path: bucketsPath, Accept: apitest.MediaType("2024-05-30")}); got.Status != 200 {
				t.Errorf("token %d from replica %d, used on replica %d: %s", i, i%2, j, got)
			}
		}
	}
	var key string
	db, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	if err := db.QueryRow(context.Background(), `SELECT value FROM server_secrets WHERE name = 'access-token-signing-key'`).Scan(&key); err != nil {
		t.Fatalf("the signing key is not stored: %v", err)
	}
	for i, p := range replicas {
		if out := p.stdout.String() + p.stderr.String(); strings.Contains(out, key) {
			t.Errorf("replica %d logged the signing key", i)
		}
	}
}

// TestReplicasShareFailedAuthentications: two replicas on one PostgreSQL
// database draw on one budget of failed authentications per client
// address, so spreading wrong keys and secrets over replicas gains
// nothing; once it is spent both refuse the right credentials too.
func TestReplicasShareFailedAuthentications(t *testing.T) {
	u, creds := initPostgres(t)
	limit := []string{"--database", u, "--rate-limit-failed-authentications", "4:1/1h"}
	replicas := []*serveProc{
		startServe(t, filepath.Join(t.TempDir(), "a"), limit...),
		startServe(t, filepath.Join(t.TempDir(), "b"), limit...),
	}
	list := apitest.Request{Path: "/api/atlas/v2/groups/" + creds.GroupID + "/backup/exportBuckets", Accept: apitest.MediaType("2024-05-30")}
	sa := creds.ServiceAccount
	for i := range 4 {
		c := creds.owner(replicas[i%2].base)
		if i < 2 {
			c.Auth = apitest.Digest(creds.APIKey.PublicKey, "wrong-private-key")
			if got := c.Do(t, list); got.Status != http.StatusUnauthorized {
				t.Fatalf("wrong key %d on replica %d: %s, want 401", i, i%2, got)
			}
		} else if got := c.RequestToken(t, sa.ClientID, "wrong-secret"); got.Status != http.StatusUnauthorized {
			t.Fatalf("wrong secret %d on replica %d: %s, want 401", i, i%2, got)
		}
	}
	for i, p := range replicas {
		c := creds.owner(p.base)
		for _, got := range []*apitest.Response{c.Do(t, list), c.RequestToken(t, sa.ClientID, sa.ClientSecret)} {
			if got.Status != http.StatusTooManyRequests || got.Header.Get("Retry-After") == "" || got.Header.Get("X-Error-Code") != "RATE_LIMITED_TOKEN_BUCKET" {
				t.Errorf("right credentials on replica %d once the budget is spent: %s (Retry-After %q), want 429 RATE_LIMITED_TOKEN_BUCKET",
					i, got, got.Header.Get("Retry-After"))
			}
		}
	}
}
