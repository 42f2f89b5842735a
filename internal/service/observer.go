package service

import (
	"time"

	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// Observer is told how snapshots and export jobs go, for metrics. Every
// value it is given is a count, a size, a duration, a state or the kind of
// a source.
type Observer interface {
	// SnapshotRead is told of documents and their bytes read into a
	// snapshot as they are read: source is capture (a deployment) or
	// import (an archive).
	SnapshotRead(source string, documents, bytes int64)
	// SnapshotEnded is told of each snapshot this server completed
	// (imported or taken) or failed, with the bytes it stores.
	SnapshotEnded(status string, storedBytes int64)
	// ExportEnded is told of each export job that ended (the components
	// of a sharded export are its parts, not jobs of their own), with its
	// state and the time from its creation to its end.
	ExportEnded(state string, sinceCreated time.Duration)
	// ExportLeaseTakenOver is told when a run takes an export job over
	// from a run whose lease lapsed (its server died or stalled).
	ExportLeaseTakenOver()
}

// noObserver is the Observer of a service given none.
type noObserver struct{}

func (noObserver) SnapshotRead(string, int64, int64) {}
func (noObserver) SnapshotEnded(string, int64)       {}
func (noObserver) ExportEnded(string, time.Duration) {}
func (noObserver) ExportLeaseTakenOver()             {}

func (s *Service) observer() Observer {
	if s.Observer == nil {
		return noObserver{}
	}
	return s.Observer
}

// observeRead wraps next, a reader's report of its running totals, so
// that the observer is told of what each report adds.
func (s *Service) observeRead(source string, next func(snapshotstore.Progress)) func(snapshotstore.Progress) {
	var docs, bytes int64
	return func(p snapshotstore.Progress) {
		if p.Documents > docs || p.Bytes > bytes {
			s.observer().SnapshotRead(source, p.Documents-docs, p.Bytes-bytes)
			docs, bytes = p.Documents, p.Bytes
		}
		if next != nil {
			next(p)
		}
	}
}
