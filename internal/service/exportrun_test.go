package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// takeovers counts what the service tells of leases taken over; the rest
// of Observer is not looked at.
type takeovers struct {
	service.Observer
	n int
}

func (o *takeovers) ExportLeaseTakenOver() { o.n++ }

// TestLeaseTakeoverObserved: a run that claims a job whose lease lapsed
// under another run is a takeover; a first claim, a claim of a released
// lease, a renewal and a refused claim are not.
func TestLeaseTakeoverObserved(t *testing.T) {
	ctx := context.Background()
	svc, project, _ := newService(t, nil)
	seen := &takeovers{}
	svc.Observer = seen
	job := &snapexport.ExportJob{ID: service.NewID(), ProjectID: project, ClusterID: service.NewID(), ClusterName: "c",
		SnapshotID: service.NewID(), ExportBucketID: service.NewID(), Prefix: "exported_snapshots/x", State: snapexport.ExportQueued,
		CreatedAt: time.Now()}
	if err := svc.Store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateExportJob(ctx, job) }); err != nil {
		t.Fatal(err)
	}
	claim := func(holder string, lease time.Duration) error {
		_, err := svc.ClaimExportJob(ctx, snapexport.ExportClaim{ProjectID: project, JobID: job.ID, Holder: holder, Lease: lease})
		return err
	}
	steps := []struct {
		what      string
		do        func() error
		wantErr   error
		takeovers int
	}{
		{"first claim", func() error { return claim("a", time.Hour) }, nil, 0},
		{"renewal", func() error { return claim("a", 20*time.Millisecond) }, nil, 0},
		{"claim while held", func() error { return claim("b", time.Hour) }, snapexport.ErrLeaseHeld, 0},
		{"claim once lapsed", func() error { time.Sleep(40 * time.Millisecond); return claim("b", time.Hour) }, nil, 1},
		{"claim of a released lease", func() error {
			if err := svc.ReleaseExportJob(ctx, snapexport.ExportClaim{ProjectID: project, JobID: job.ID, Holder: "b"}); err != nil {
				return err
			}
			return claim("c", time.Hour)
		}, nil, 1},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: %v, want %v", s.what, err, s.wantErr)
		}
		if seen.n != s.takeovers {
			t.Errorf("after the %s: %d takeovers told, want %d", s.what, seen.n, s.takeovers)
		}
	}
}

// TestExportRunThatLostItsLease: a run whose lease lapsed while another
// run claimed the job cannot renew it, nor record progress, even once that
// run let the job go again: it stops rather than write beside the run
// that takes the job next.
func TestExportRunThatLostItsLease(t *testing.T) {
	ctx := context.Background()
	svc, project, _ := newService(t, nil)
	job := &snapexport.ExportJob{ID: service.NewID(), ProjectID: project, ClusterID: service.NewID(), ClusterName: "c",
		SnapshotID: service.NewID(), ExportBucketID: service.NewID(), Prefix: "exported_snapshots/x", State: snapexport.ExportQueued,
		CreatedAt: time.Now()}
	if err := svc.Store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateExportJob(ctx, job) }); err != nil {
		t.Fatal(err)
	}
	stale := snapexport.ExportClaim{ProjectID: project, JobID: job.ID, Holder: "stale", Lease: 20 * time.Millisecond}
	if _, err := svc.ClaimExportJob(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RenewExportClaim(ctx, stale, nil); err != nil {
		t.Fatalf("renewal while held: %v", err)
	}
	time.Sleep(40 * time.Millisecond)
	other := snapexport.ExportClaim{ProjectID: project, JobID: job.ID, Holder: "other", Lease: time.Hour}
	if _, err := svc.ClaimExportJob(ctx, other); err != nil {
		t.Fatalf("the claim of the lapsed lease: %v", err)
	}
	if err := svc.ReleaseExportJob(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RenewExportClaim(ctx, stale, nil); !errors.Is(err, snapexport.ErrLeaseHeld) {
		t.Errorf("the stale run's renewal after the other run let the job go: %v, want ErrLeaseHeld", err)
	}
	if err := svc.RecordExportProgress(ctx, stale, snapexport.ExportProgress{}); !errors.Is(err, snapexport.ErrLeaseHeld) {
		t.Errorf("the stale run's progress after the other run let the job go: %v, want ErrLeaseHeld", err)
	}
	// A new claim of the free lease is another matter: a run starting anew.
	if _, err := svc.ClaimExportJob(ctx, stale); err != nil {
		t.Errorf("a new claim by the same holder of the free lease: %v", err)
	}
}
