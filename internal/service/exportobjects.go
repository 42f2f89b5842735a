package service

import (
	"context"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// MaxExportObjects bounds the objects ExportJobObjects lists: an export
// of many collections writes two objects per collection.
const MaxExportObjects = 1000

// ExportObjects is what an export job wrote to its bucket so far.
type ExportObjects struct {
	Job     *snapexport.ExportJob
	Objects []objectstore.Object
	// More is true when the prefix holds more than MaxExportObjects.
	More bool
}

// ExportJobObjects lists the objects under the prefix of one of a
// cluster's export jobs, as its bucket holds them now: the data and
// metadata files, and .complete once the export succeeded.
func (s *Service) ExportJobObjects(ctx context.Context, projectID, clusterName, id string) (*ExportObjects, error) {
	job, err := s.ExportJob(ctx, projectID, clusterName, id)
	if err != nil {
		return nil, err
	}
	if s.Buckets == nil {
		return nil, snapexport.Errorf(snapexport.CodeServiceUnavailable, "This server reaches no bucket.")
	}
	t, err := s.ExportTarget(ctx, projectID, job.ExportBucketID)
	if err != nil {
		return nil, err
	}
	objects, more, err := s.Buckets.List(ctx, t, job.Prefix+"/", MaxExportObjects)
	if err != nil {
		return nil, err
	}
	return &ExportObjects{Job: job, Objects: objects, More: more}, nil
}
