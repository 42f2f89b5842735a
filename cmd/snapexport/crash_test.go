package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/apitest"
)

// TestCrashKeepsAcknowledgedBuckets kills serve with SIGKILL while eight
// clients are creating export buckets, restarts it on the same data
// directory and checks what a user relies on: every bucket whose creation
// was answered 200 is there, and whatever else is there is whole.
func TestCrashKeepsAcknowledgedBuckets(t *testing.T) {
	const workers = 8
	load := 1500 * time.Millisecond
	if testing.Short() {
		load = 600 * time.Millisecond
	}
	dir := filepath.Join(t.TempDir(), "data")
	creds := initBinary(t, dir)
	groupID := creds.GroupID
	bucketsPath := "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets"

	p := startServe(t, dir, "--no-rate-limit")
	owner := creds.owner(p.base)
	roleID := awsRole(t, owner, groupID)
	bearer := owner.Token(t, creds.ServiceAccount.ClientID, creds.ServiceAccount.ClientSecret)

	var (
		mu        sync.Mutex
		acked     = map[string]string{} // _id → bucketName of every 200
		attempted = map[string]bool{}   // every bucketName sent
		inFlight  atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	transport := &http.Transport{MaxIdleConnsPerHost: workers}
	defer transport.CloseIdleConnections()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &apitest.Client{BaseURL: p.base, Auth: apitest.Bearer(bearer), HTTP: &http.Client{Transport: transport, Timeout: 10 * time.Second}}
			for i := 0; ; i++ {
				name := fmt.Sprintf("crash-%d-%d", w, i)
				mu.Lock()
				attempted[name] = true
				mu.Unlock()
				inFlight.Add(1)
				got, err := c.Try(t, apitest.Request{Method: "POST", Path: bucketsPath, Accept: apitest.MediaType("2024-05-30"), Body: fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID)})
				inFlight.Add(-1)
				if err != nil {
					if !stop.Load() {
						t.Errorf("create %s before the crash: %v", name, err)
					}
					return // the server is gone
				}
				if got.Status != 200 {
					t.Errorf("create %s: %s", name, got)
					return
				}
				var b struct {
					ID         string `json:"_id"`
					BucketName string `json:"bucketName"`
				}
				if err := json.Unmarshal(got.Body, &b); err != nil || !hex24.MatchString(b.ID) || b.BucketName != name {
					t.Errorf("create %s answered 200 with %s", name, got.Body)
					return
				}
				mu.Lock()
				acked[b.ID] = name
				mu.Unlock()
			}
		}()
	}
	time.Sleep(load)
	stop.Store(true)
	pending := inFlight.Load()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	p.wait(t, 10*time.Second)
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d buckets acknowledged, %d creations sent, %d in flight at SIGKILL", len(acked), len(attempted), pending)
	if len(acked) < workers {
		t.Fatalf("only %d creations were acknowledged before the crash; the test did not load the server", len(acked))
	}

	// Restart on the same directory and read everything back.
	p = startServe(t, dir, "--no-rate-limit")
	owner.BaseURL = p.base
	type bucket struct {
		ID                       string `json:"_id"`
		BucketName               string `json:"bucketName"`
		CloudProvider            string `json:"cloudProvider"`
		IAMRoleID                string `json:"iamRoleId"`
		RequirePrivateNetworking *bool  `json:"requirePrivateNetworking"`
		Region                   string `json:"region"`
	}
	listed := map[string]bucket{}
	total := -1
	for page := 1; ; page++ {
		got := owner.Do(t, apitest.Request{Path: fmt.Sprintf("%s?itemsPerPage=500&pageNum=%d", bucketsPath, page), Accept: apitest.MediaType("2024-05-30")})
		if got.Status != 200 {
			t.Fatalf("list page %d after restart: %s", page, got)
		}
		var l struct {
			Results    []bucket `json:"results"`
			TotalCount *int     `json:"totalCount"`
		}
		if err := json.Unmarshal(got.Body, &l); err != nil || l.TotalCount == nil {
			t.Fatalf("list page %d: %v %s", page, err, got.Body)
		}
		if total >= 0 && *l.TotalCount != total {
			t.Errorf("totalCount changed between pages: %d then %d", total, *l.TotalCount)
		}
		total = *l.TotalCount
		for _, b := range l.Results {
			if _, dup := listed[b.ID]; dup {
				t.Errorf("bucket %s listed twice", b.ID)
			}
			listed[b.ID] = b
		}
		if len(l.Results) < 500 {
			break
		}
		if page > 100 {
			t.Fatal("the list does not end")
		}
	}
	if len(listed) != total {
		t.Errorf("listed %d buckets, totalCount %d", len(listed), total)
	}

	for id, name := range acked {
		b, found := listed[id]
		switch {
		case !found:
			t.Errorf("acknowledged bucket %s (%s) is missing after the crash", id, name)
		case b.BucketName != name:
			t.Errorf("acknowledged bucket %s is named %q after the crash, was %q", id, b.BucketName, name)
		}
	}
	unacked := 0
	for id, b := range listed {
		if !hex24.MatchString(b.ID) || !attempted[b.BucketName] || b.CloudProvider != "AWS" || b.IAMRoleID != roleID ||
			b.RequirePrivateNetworking == nil || *b.RequirePrivateNetworking {
			t.Errorf("listed bucket is not whole: %+v", b)
		}
		if _, ok := acked[id]; ok {
			continue
		}
		// Committed but not answered before the kill: at most one per
		// client, and whole when read on its own too.
		unacked++
		got := owner.Do(t, apitest.Request{Path: bucketsPath + "/" + id, Accept: apitest.MediaType("2024-05-30")})
		var one bucket
		if got.Status != 200 || json.Unmarshal(got.Body, &one) != nil || one.BucketName != b.BucketName || one.IAMRoleID != roleID || one.Region == "" {
			t.Errorf("unacknowledged bucket %s reads back as %s", id, got)
		}
	}
	t.Logf("%d buckets after restart, %d of them committed without an answer", len(listed), unacked)
	if unacked > workers {
		t.Errorf("%d buckets exist that no client was told about; at most %d requests were in flight", unacked, workers)
	}

	// The role's record of the buckets using it agrees with the buckets.
	got := owner.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + groupID + "/cloudProviderAccess/" + roleID, Accept: apitest.MediaType("2023-01-01")})
	var role struct {
		FeatureUsages []struct {
			FeatureID struct {
				ExportBucketID string `json:"exportBucketId"`
			} `json:"featureId"`
		} `json:"featureUsages"`
	}
	if got.Status != 200 || json.Unmarshal(got.Body, &role) != nil {
		t.Fatalf("get role after restart: %s", got)
	}
	used := map[string]bool{}
	for _, u := range role.FeatureUsages {
		used[u.FeatureID.ExportBucketID] = true
	}
	if len(used) != len(listed) {
		t.Errorf("the role lists %d buckets using it, the project has %d", len(used), len(listed))
	}
	for id := range listed {
		if !used[id] {
			t.Errorf("bucket %s is not among the role's feature usages", id)
		}
	}

	// And the restarted server still takes writes.
	if got := owner.Do(t, apitest.Request{Method: "POST", Path: bucketsPath, Accept: apitest.MediaType("2024-05-30"), Body: fmt.Sprintf(`{"bucketName":"after-crash","cloudProvider":"AWS","iamRoleId":%q}`, roleID)}); got.Status != 200 {
		t.Errorf("create after restart: %s", got)
	}
}
