package service_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

func TestPassListingExpires(t *testing.T) {
	ctx := context.Background()
	svc, project, roleID := newService(t, &cloudAWS{})
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return clock }
	ids := createBuckets(t, svc, project, roleID, "pass", 6)
	page := func(pass string, offset int, want []string, wantTotal int) {
		t.Helper()
		got, total, err := svc.ListBuckets(ctx, project, nil, snapexport.Page{Offset: offset, Limit: 2}, pass)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, b := range got {
			gotIDs = append(gotIDs, b.ID)
		}
		if !slices.Equal(gotIDs, want) || total != wantTotal {
			t.Errorf("pass %q offset %d: %v of %d, want %v of %d", pass, offset, gotIDs, total, want, wantTotal)
		}
	}

	page("a", 0, ids[0:2], 6)
	clock = clock.Add(time.Minute)
	if err := svc.DeleteBucket(ctx, project, ids[0]); err != nil {
		t.Fatal(err)
	}
	page("a", 2, ids[2:4], 6)
	page("b", 2, ids[3:5], 5) // a pass that never read its first page
	page("", 2, ids[3:5], 5)  // no pass at all

	// Past its lifetime, a's listing is gone: the pass goes on from the
	// list as it is, and later pages keep to that list.
	clock = clock.Add(snapexport.ListingLifetime)
	page("a", 2, ids[3:5], 5)
	if err := svc.DeleteBucket(ctx, project, ids[1]); err != nil {
		t.Fatal(err)
	}
	page("a", 4, ids[5:6], 5)
	// A new pass starts from the list as it is.
	page("a", 0, ids[2:4], 4)
}

func TestSweepRemovedItems(t *testing.T) {
	ctx := context.Background()
	svc, project, roleID := newService(t, &cloudAWS{})
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return clock }
	b, err := svc.CreateBucket(ctx, project, service.BucketInput{Provider: snapexport.AWS, BucketName: "swept", RoleID: roleID})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteBucket(ctx, project, b.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after time.Duration
		want  int
	}{{snapexport.RemovedRetention, 0}, {time.Second, 1}, {time.Hour, 0}} {
		clock = clock.Add(c.after)
		n, err := svc.SweepRemovedItems(ctx)
		if err != nil || n != c.want {
			t.Errorf("SweepRemovedItems at +%v = %d, %v; want %d", c.after, n, err, c.want)
		}
	}
}

// TestPassesSharingAKey: a first page read again under the same pass
// replaces its listing. The older pass goes on from the newer point: it
// may miss an item deleted between the two first pages (documented), but
// it lists none twice.
func TestPassesSharingAKey(t *testing.T) {
	ctx := context.Background()
	svc, project, roleID := newService(t, &cloudAWS{})
	ids := createBuckets(t, svc, project, roleID, "shared", 6)
	read := func(offset int) []string {
		t.Helper()
		got, _, err := svc.ListBuckets(ctx, project, nil, snapexport.Page{Offset: offset, Limit: 2}, "shared key")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range got {
			out = append(out, b.ID)
		}
		return out
	}
	older := read(0)
	if err := svc.DeleteBucket(ctx, project, ids[0]); err != nil {
		t.Fatal(err)
	}
	if newer := read(0); !slices.Equal(newer, ids[1:3]) {
		t.Fatalf("the newer pass's first page = %v, want %v", newer, ids[1:3])
	}
	older = append(older, read(2)...)
	older = append(older, read(4)...)
	seen := map[string]bool{}
	for _, id := range older {
		if seen[id] {
			t.Errorf("the older pass lists %s twice: %v", id, older)
		}
		seen[id] = true
	}
	if want := []string{ids[0], ids[1], ids[3], ids[4], ids[5]}; !slices.Equal(older, want) {
		t.Errorf("the older pass = %v, want %v (the newer point's pages)", older, want)
	}
}

// createBuckets creates n AWS buckets named prefix-0, prefix-1… and
// returns their ids in creation order.
func createBuckets(t *testing.T, svc *service.Service, project, roleID, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		b, err := svc.CreateBucket(context.Background(), project, service.BucketInput{Provider: snapexport.AWS, BucketName: fmt.Sprintf("%s-%d", prefix, i), RoleID: roleID})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	return ids
}

// TestPassPagesWherePositionsAreUnknown: a pass's pages are the same from
// the process that served its page before (which remembers where that page
// ended) as from another process sharing the store (which does not), in
// order or out of it, while buckets are created and deleted.
func TestPassPagesWherePositionsAreUnknown(t *testing.T) {
	ctx := context.Background()
	served, project, roleID := newService(t, &cloudAWS{})
	other := &service.Service{Store: served.Store, Identities: service.DefaultIdentities}
	ids := createBuckets(t, served, project, roleID, "walk", 20)
	read := func(svc *service.Service, offset int) ([]string, int) {
		t.Helper()
		got, total, err := svc.ListBuckets(ctx, project, nil, snapexport.Page{Offset: offset, Limit: 3}, "walker")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range got {
			out = append(out, b.ID)
		}
		return out, total
	}
	first, _ := read(served, 0)
	if !slices.Equal(first, ids[:3]) {
		t.Fatalf("first page = %v, want %v", first, ids[:3])
	}
	created := createBuckets(t, served, project, roleID, "later", 2)
	for i, offset := range []int{3, 6, 12, 9, 15, 18, 21, 6} {
		if err := served.DeleteBucket(ctx, project, ids[(i*7)%len(ids)]); err != nil && snapexport.ErrorCode(err) != snapexport.CodeExportBucketNotFound {
			t.Fatal(err)
		}
		if i == 4 {
			if err := served.DeleteBucket(ctx, project, created[0]); err != nil {
				t.Fatal(err)
			}
		}
		want := ids[min(offset, len(ids)):min(offset+3, len(ids))]
		for _, from := range []struct {
			name string
			svc  *service.Service
		}{{"the serving process", served}, {"another process", other}} {
			got, total := read(from.svc, offset)
			if !slices.Equal(got, want) || total != len(ids) {
				t.Errorf("offset %d from %s: %v of %d, want %v of %d", offset, from.name, got, total, want, len(ids))
			}
		}
	}
}
