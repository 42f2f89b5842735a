package api

import (
	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// exportProgressView is snapexport's own view of an export job's
// progress: Atlas's exportStatus counts collections only; this adds the
// documents, bytes and files written, against the snapshot's totals. Keys
// are in alphabetical order, as Atlas's are.
type exportProgressView struct {
	// Bytes are the snapshot's BSON bytes read, against TotalBytes.
	Bytes               int64            `json:"bytes"`
	CreatedAt           string           `json:"createdAt"`
	Documents           int64            `json:"documents"`
	ExportBucketID      string           `json:"exportBucketId"`
	ExportedCollections int              `json:"exportedCollections"`
	Files               int              `json:"files"`
	FinishedAt          string           `json:"finishedAt,omitempty"`
	ID                  string           `json:"id"`
	Prefix              string           `json:"prefix"`
	SnapshotID          string           `json:"snapshotId"`
	State               string           `json:"state"`
	StateReason         *stateReasonView `json:"stateReason,omitempty"`
	TotalBytes          int64            `json:"totalBytes"`
	TotalCollections    int              `json:"totalCollections"`
	TotalDocuments      int64            `json:"totalDocuments"`
}

func newExportProgressView(j *snapexport.ExportJob) exportProgressView {
	p := j.Progress
	v := exportProgressView{ID: j.ID, State: string(j.State), StateReason: (*stateReasonView)(j.StateReason),
		Prefix: j.Prefix, ExportBucketID: j.ExportBucketID, SnapshotID: j.SnapshotID, CreatedAt: formatTime(j.CreatedAt),
		ExportedCollections: p.ExportedCollections, TotalCollections: p.TotalCollections,
		Documents: p.Documents, TotalDocuments: p.TotalDocuments, Bytes: p.Bytes, TotalBytes: p.TotalBytes, Files: p.Files}
	if j.FinishedAt != nil {
		v.FinishedAt = formatTime(*j.FinishedAt)
	}
	return v
}

var getExportJobProgress = exportJobHandlerView((*service.Service).ExportJob, newExportProgressView)

type exportObjectView struct {
	Key          string `json:"key"`
	LastModified string `json:"lastModified"`
	Size         int64  `json:"size"`
}

type exportObjectsView struct {
	ExportID string             `json:"exportId"`
	Prefix   string             `json:"prefix"`
	Results  []exportObjectView `json:"results"`
	State    string             `json:"state"`
	// Truncated is true when the prefix holds more objects than listed.
	Truncated bool `json:"truncated"`
}

// listExportJobObjects lists what an export job wrote under its prefix, as
// its bucket holds it now.
func listExportJobObjects(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	objs, err := c.srv.Service.ExportJobObjects(c.r.Context(), c.project.ID, name, c.r.PathValue("exportId"))
	if err != nil {
		return nil, err
	}
	v := exportObjectsView{ExportID: objs.Job.ID, Prefix: objs.Job.Prefix, State: string(objs.Job.State),
		Results: []exportObjectView{}, Truncated: objs.More}
	for _, o := range objs.Objects {
		v.Results = append(v.Results, exportObjectView{Key: o.Key, Size: o.Size, LastModified: formatTime(o.Modified)})
	}
	return ok(v)
}
