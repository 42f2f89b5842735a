package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/capture"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// DefaultProgressInterval is how often a snapshot being read from a
// deployment records how far it has gone.
const DefaultProgressInterval = time.Second

// captureFailure is a capture that trying again cannot mend (the
// deployment refused, unreachable, not a point in time): the snapshot
// fails at once with Reason.
type captureFailure struct {
	Reason string
	err    error
}

func (e *captureFailure) Error() string { return e.Reason }
func (e *captureFailure) Unwrap() error { return e.err }

// captureDeployment reads the deployment t's cluster is bound to into the
// snapshot that holds its data, recording when the reading started (the
// point in time when there is one) and how far it has gone. A snapshot
// whose data was already read by an earlier run keeps it.
func (s *Service) captureDeployment(ctx context.Context, t *takenSnapshot) error {
	if len(t.holders) != 1 {
		return &captureFailure{Reason: fmt.Sprintf("cluster %s is sharded: a deployment is read through its mongos, which snapshots do not read yet", t.cluster.Name)}
	}
	h := t.holders[0]
	loc := snapshotstore.Location{ProjectID: h.ProjectID, SnapshotID: h.ID}
	if m, err := s.SnapshotData.Manifest(ctx, loc); err == nil {
		s.keepCaptured(h, m)
		return nil
	} else if !errors.Is(err, snapshotstore.ErrNotFound) {
		return err
	}
	uri, err := s.DeploymentURI(t.cluster)
	if err != nil {
		return &captureFailure{Reason: "the deployment's connection string cannot be read: " + err.Error(), err: err}
	}
	opts := s.Capture
	opts.PointInTime = t.cluster.Deployment.Consistency != snapexport.ConsistencyNone
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	src, err := capture.Open(ctx, uri, opts)
	if err != nil {
		return captureError(err)
	}
	defer src.Close()
	taken := src.PointInTime()
	if taken.IsZero() {
		taken = s.now()
	}
	progress := &snapexport.SnapshotProgress{Collections: len(src.Collections()), UpdatedAt: s.now()}
	if err := s.recordCaptureStart(ctx, t, taken, src.Info().ServerVersion, progress); err != nil {
		return err
	}
	h = t.holders[0]
	rec := s.progressRecorder(ctx, cancel, t, progress)
	m, err := s.SnapshotData.Import(ctx, loc, h.ReplicaSetName, src, s.observeRead("capture", rec.update))
	rec.stop()
	if err != nil {
		if rec.gone() {
			// Deleted or ended while being read: nothing to complete.
			return errSnapshotEnded
		}
		return captureError(err)
	}
	s.keepCaptured(h, m)
	return nil
}

// errSnapshotEnded stops a run whose snapshot ended or went away under it.
var errSnapshotEnded = errors.New("the snapshot ended while its deployment was read")

// keepCaptured notes what the capture of h stored.
func (s *Service) keepCaptured(h *snapexport.Snapshot, m *snapshotstore.Manifest) {
	h.Collections, h.StorageSizeBytes = m.Collections(), m.Size()
	if v := m.Source.ServerVersion; snapexport.MongoDBMajorVersion(v) != "" {
		h.MongodVersion = v
	}
	p := snapexport.SnapshotProgress{UpdatedAt: s.now()}
	if h.Progress != nil {
		p = *h.Progress
	}
	p.CollectionsStarted, p.Documents, p.Bytes = p.Collections, 0, 0
	for _, c := range m.Namespaces {
		p.Documents += c.Count
		p.Bytes += c.Size
	}
	h.Progress = &p
}

// captureError tells a failure that trying again cannot mend (a capture
// error with its reason named) from one that it may (the snapshot store,
// an unexpected fault).
func captureError(err error) error {
	var ce *capture.Error
	if errors.As(err, &ce) && ce.Reason != nil {
		return &captureFailure{Reason: strings.TrimPrefix(ce.Error(), "capture: "), err: err}
	}
	return err
}

// recordCaptureStart records that the deployment is being read: the
// snapshot's time, its server's version and what is to be read.
func (s *Service) recordCaptureStart(ctx context.Context, t *takenSnapshot, taken time.Time, version string,
	progress *snapexport.SnapshotProgress) error {
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		current, err := unfinishedSnapshot(ctx, tx, t.top.ProjectID, t.top.ID)
		if err != nil {
			return err
		}
		if current == nil {
			return errSnapshotEnded
		}
		for _, snap := range current.all() {
			snap.CreatedAt, snap.Progress = taken, progress
			if snapexport.MongoDBMajorVersion(version) != "" {
				snap.MongodVersion = version
			}
		}
		t.top, t.holders = current.top, current.holders
		return current.record(ctx, tx)
	})
}

// progressRecorder records a capture's progress every ProgressInterval,
// and cancels the capture when the snapshot was deleted or ended. What the
// capture wrote is then left where it is (snapshotstore.ErrTakenOver): a
// run that completed the snapshot meanwhile wrote its data there, and the
// data of a deleted snapshot is the sweep's to remove.
type progressRecorder struct {
	s       *Service
	ctx     context.Context
	cancel  context.CancelCauseFunc
	t       *takenSnapshot
	every   time.Duration
	mu      sync.Mutex
	last    time.Time
	current snapexport.SnapshotProgress
	ended   bool
}

func (s *Service) progressRecorder(ctx context.Context, cancel context.CancelCauseFunc, t *takenSnapshot, start *snapexport.SnapshotProgress) *progressRecorder {
	every := s.ProgressInterval
	if every <= 0 {
		every = DefaultProgressInterval
	}
	return &progressRecorder{s: s, ctx: ctx, cancel: cancel, t: t, every: every, last: time.Now(), current: *start}
}

func (r *progressRecorder) update(p snapshotstore.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current.CollectionsStarted, r.current.Documents, r.current.Bytes = p.Collections, p.Documents, p.Bytes
	if r.ended || time.Since(r.last) < r.every {
		return
	}
	r.last = time.Now()
	r.current.UpdatedAt = r.s.now()
	progress := r.current
	err := r.s.Store.Write(r.ctx, func(tx snapexport.Tx) error {
		current, err := unfinishedSnapshot(r.ctx, tx, r.t.top.ProjectID, r.t.top.ID)
		if err != nil || current == nil {
			r.ended = err == nil
			return err
		}
		for _, snap := range current.all() {
			snap.Progress = &progress
		}
		return current.record(r.ctx, tx)
	})
	if r.ended {
		r.cancel(snapshotstore.ErrTakenOver)
	} else if err != nil && r.ctx.Err() == nil {
		r.s.logger().Warn("snapshot progress not recorded", "group", r.t.top.ProjectID, "snapshot", r.t.top.ID, "error", err)
	}
}

func (r *progressRecorder) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.t.holders {
		p := r.current
		h.Progress = &p
	}
}

func (r *progressRecorder) gone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended
}

// recordDeploymentVersion makes the version of the server a snapshot read
// the cluster's mongoDBVersion, as Atlas shows the version its cluster
// runs.
func (s *Service) recordDeploymentVersion(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, version string) error {
	if snapexport.MongoDBMajorVersion(version) == "" {
		return nil
	}
	current, err := tx.Cluster(ctx, c.ProjectID, c.Name)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil
	}
	if err != nil || current.ID != c.ID || current.MongoDBVersion == version {
		return err
	}
	current.MongoDBVersion = version
	return tx.UpdateCluster(ctx, current)
}
