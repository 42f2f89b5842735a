package api

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

type exportComponentView struct {
	ExportID       string `json:"exportId"`
	ReplicaSetName string `json:"replicaSetName"`
}

type exportStatusView struct {
	ExportedCollections int `json:"exportedCollections"`
	TotalCollections    int `json:"totalCollections"`
}

type stateReasonView struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// exportJobView is Atlas's DiskBackupExportJob as recorded: no links,
// customData always present, finishedAt and stateReason only once set,
// components only for a sharded cluster.
type exportJobView struct {
	Components     []exportComponentView `json:"components,omitempty"`
	CreatedAt      string                `json:"createdAt"`
	CustomData     []labelView           `json:"customData"`
	ExportBucketID string                `json:"exportBucketId"`
	ExportStatus   exportStatusView      `json:"exportStatus"`
	FinishedAt     string                `json:"finishedAt,omitempty"`
	ID             string                `json:"id"`
	Prefix         string                `json:"prefix"`
	SnapshotID     string                `json:"snapshotId"`
	State          string                `json:"state"`
	StateReason    *stateReasonView      `json:"stateReason,omitempty"`
}

func newExportJobView(j *snapexport.ExportJob) exportJobView {
	v := exportJobView{CreatedAt: formatTime(j.CreatedAt), CustomData: labelViews(j.CustomData),
		ExportBucketID: j.ExportBucketID, ID: j.ID, Prefix: j.Prefix, SnapshotID: j.SnapshotID, State: string(j.State),
		ExportStatus: exportStatusView{ExportedCollections: j.Progress.ExportedCollections, TotalCollections: j.Progress.TotalCollections},
		StateReason:  (*stateReasonView)(j.StateReason)}
	for _, c := range j.Components {
		v.Components = append(v.Components, exportComponentView(c))
	}
	if j.FinishedAt != nil {
		v.FinishedAt = formatTime(*j.FinishedAt)
	}
	return v
}

func listExportJobs(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	return listPage(c, newExportJobView, func(page snapexport.Page) ([]*snapexport.ExportJob, int, error) {
		return c.srv.Service.ExportJobs(c.r.Context(), c.project.ID, name, page)
	})
}

var (
	getExportJob = exportJobHandler((*service.Service).ExportJob)
	// cancelExportJob asks an export job to stop (snapexport's own
	// operation: Atlas has no way to stop an export) and answers the job as
	// it is then: still Queued or InProgress until its runner ends it as
	// Cancelled, as cancellation is asynchronous. An ended job is answered
	// unchanged.
	cancelExportJob = exportJobHandler((*service.Service).CancelExportJob)
)

// exportJobHandler serves an operation on the export job of the path: act
// reads or changes it, and the job it returns is the answer.
func exportJobHandler(act func(s *service.Service, ctx context.Context, projectID, clusterName, id string) (*snapexport.ExportJob, error)) func(*call) (*response, error) {
	return exportJobHandlerView(act, newExportJobView)
}

// exportJobHandlerView is exportJobHandler answering the job as view
// renders it.
func exportJobHandlerView[V any](act func(s *service.Service, ctx context.Context, projectID, clusterName, id string) (*snapexport.ExportJob, error), view func(*snapexport.ExportJob) V) func(*call) (*response, error) {
	return func(c *call) (*response, error) {
		name, err := c.clusterName()
		if err != nil {
			return nil, err
		}
		j, err := act(c.srv.Service, c.r.Context(), c.project.ID, name, c.r.PathValue("exportId"))
		if err != nil {
			return nil, err
		}
		return ok(view(j))
	}
}

// createExportJob reads DiskBackupExportJobRequest. Malformed ids in the
// body are the body's fault (400 INVALID_ATTRIBUTE, as for the ids of
// other bodies), not a missing resource.
func createExportJob(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, []string{"customData", "exportBucketId", "snapshotId"}, []string{"links"})
	if err != nil {
		return nil, err
	}
	in := service.ExportJobInput{ProjectID: c.project.ID, ClusterName: name}
	if in.SnapshotID, err = o.objectID("snapshotId", true); err != nil {
		return nil, err
	}
	if in.ExportBucketID, err = o.objectID("exportBucketId", true); err != nil {
		return nil, err
	}
	if in.CustomData, err = o.labels("customData"); err != nil {
		return nil, err
	}
	j, err := c.srv.Service.CreateExportJob(c.r.Context(), in)
	if err != nil {
		return nil, err
	}
	return ok(newExportJobView(j))
}

// labels reads an optional array of BackupLabel {key, value}. Attributes
// of an item are named by their place, e.g. customData[1].value.
func (o object) labels(name string) ([]snapexport.Label, error) {
	raw, present := o[name]
	if !present {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, wrongType(name)
	}
	var out []snapexport.Label
	for i, item := range items {
		at := name + "[" + strconv.Itoa(i) + "]"
		var fields object
		if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
			return nil, wrongType(at)
		}
		var l snapexport.Label
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			v := fields[k]
			var s *string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, wrongType(at + "." + k)
			}
			switch k {
			case "key":
				if s != nil {
					l.Key = *s
				}
			case "value":
				if s != nil {
					l.Value = *s
				}
			default:
				return nil, snapexport.Errorf(snapexport.CodeInvalidAttribute, "Invalid attribute %s specified.", at+"."+k)
			}
		}
		out = append(out, l)
	}
	return out, nil
}
