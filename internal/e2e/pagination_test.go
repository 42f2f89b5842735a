package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/testserver"
)

// bucketPage reads one page of the project's buckets and returns their
// ids, the totalCount and whether a next link is given.
func (c *sdkClient) bucketPage(groupID string, pageNum, itemsPerPage int) (ids []string, total int, next bool, err error) {
	p, resp, err := c.CloudBackupsApi.ListExportBuckets(sdkCtx, groupID).PageNum(pageNum).ItemsPerPage(itemsPerPage).Execute()
	if err != nil {
		return nil, 0, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, false, fmt.Errorf("page %d: status %d", pageNum, resp.StatusCode)
	}
	for _, b := range p.GetResults() {
		ids = append(ids, b.GetId())
	}
	for _, l := range p.GetLinks() {
		next = next || l.GetRel() == "next"
	}
	return ids, p.GetTotalCount(), next, nil
}

func TestPagesOfAPassKeepTheirItemsWhileOthersDelete(t *testing.T) {
	srv := testserver.NewServer(t)
	g := srv.GroupID
	a, b := newSDKClient(t, srv, "digest"), newSDKClient(t, srv, "oauth")
	role := a.gcpRole(t, g)
	var ids []string
	for i := range 12 {
		ids = append(ids, a.createBucket(t, g, gcpBucket(fmt.Sprintf("pass-bucket-%02d", i), role)).GetId())
	}
	page := func(c *sdkClient, pageNum int, want []string, wantTotal int, wantNext bool) {
		t.Helper()
		got, total, next, err := c.bucketPage(g, pageNum, 4)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) || total != wantTotal || next != wantNext {
			t.Errorf("page %d = %v, totalCount %d, next %v; want %v, %d, %v", pageNum, got, total, next, want, wantTotal, wantNext)
		}
	}

	page(a, 1, ids[0:4], 12, true)
	// Another client removes an item of the page a has read and one of the
	// next, and adds one.
	for _, id := range []string{ids[1], ids[6]} {
		if _, err := b.CloudBackupsApi.DeleteExportBucket(sdkCtx, g, id).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	added := b.createBucket(t, g, gcpBucket("pass-bucket-added", role)).GetId()
	now := append(append([]string{ids[0]}, ids[2:6]...), append(ids[7:], added)...)

	// b's own pass starts from the list as it is.
	page(b, 1, now[0:4], 11, true)
	// a's pass goes on from the list its first page was cut from: nothing
	// moves onto the page it has read, the removed item is listed as it
	// was, the new one is not.
	page(a, 2, ids[4:8], 12, true)
	page(a, 3, ids[8:12], 12, false)
	page(b, 2, now[4:8], 11, true)
	page(b, 3, now[8:11], 11, false)
	// A new pass of a's sees the list as it is.
	page(a, 1, now[0:4], 11, true)
	page(a, 2, now[4:8], 11, true)
}

// TestPassesWhileOthersCreateAndDelete pages through a project's buckets
// again and again while another client deletes and creates buckets: every
// pass lists each bucket at most once, and every bucket that existed from
// before the pass began until after it ended.
func TestPassesWhileOthersCreateAndDelete(t *testing.T) {
	srv := testserver.NewServer(t)
	g := srv.GroupID
	reader, writer := newSDKClient(t, srv, "digest"), newSDKClient(t, srv, "oauth")
	role := writer.gcpRole(t, g)

	// Each bucket's life as the writer saw it: created before created
	// (the response came back), removed no earlier than removing (the
	// request was about to be sent).
	type life struct{ created, removing time.Time }
	var mu sync.Mutex
	lives := map[string]*life{}
	var live []string
	create := func(n int) error {
		bk, _, err := writer.CloudBackupsApi.CreateExportBucket(sdkCtx, g, gcpBucket(fmt.Sprintf("churn-%04d", n), role)).Execute()
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		lives[bk.GetId()] = &life{created: time.Now()}
		live = append(live, bk.GetId())
		return nil
	}
	for i := range 30 {
		if err := create(i); err != nil {
			t.Fatal(err)
		}
	}

	stop := make(chan struct{})
	churned := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewPCG(7, 11))
		for n := 30; ; n++ {
			select {
			case <-stop:
				churned <- nil
				return
			default:
			}
			mu.Lock()
			i := rng.IntN(len(live))
			id := live[i]
			live = slices.Delete(live, i, i+1)
			lives[id].removing = time.Now()
			mu.Unlock()
			if _, err := writer.CloudBackupsApi.DeleteExportBucket(sdkCtx, g, id).Execute(); err != nil {
				churned <- err
				return
			}
			if err := create(n); err != nil {
				churned <- err
				return
			}
		}
	}()

	for pass := range 15 {
		start := time.Now()
		counts := map[string]int{}
		firstTotal := -1
		for pageNum := 1; ; pageNum++ {
			ids, total, next, err := reader.bucketPage(g, pageNum, 4)
			if err != nil {
				t.Fatal(err)
			}
			if firstTotal < 0 {
				firstTotal = total
			} else if total != firstTotal {
				t.Errorf("pass %d page %d: totalCount %d, first page said %d", pass, pageNum, total, firstTotal)
			}
			for _, id := range ids {
				counts[id]++
			}
			if !next {
				break
			}
		}
		end := time.Now()
		mu.Lock()
		for id, l := range lives {
			throughout := l.created.Before(start) && (l.removing.IsZero() || l.removing.After(end))
			if throughout && counts[id] != 1 {
				t.Errorf("pass %d: bucket %s, there from before the pass to after it, listed %d times", pass, id, counts[id])
			}
		}
		mu.Unlock()
		for id, n := range counts {
			if n > 1 {
				t.Errorf("pass %d: bucket %s listed %d times", pass, id, n)
			}
		}
	}
	close(stop)
	if err := <-churned; err != nil {
		t.Fatal(err)
	}
}
