package sqlrow

import (
	"cmp"
	"time"

	"github.com/snapexport/snapexport"
)

// ExportJobColumns are the columns of export_jobs that ExportJobValues
// fills and ScanExportJob reads, in that order. Components and custom data
// are kept as JSON text, and so is the state reason ("null" when there is
// none).
const ExportJobColumns = `id, project_id, cluster_id, cluster_name, snapshot_id, export_bucket_id, parent_id, replica_set_name,
	source_snapshot_id, components, custom_data, prefix, state, state_reason, created_at, finished_at,
	total_collections, exported_collections, files, documents, bytes, total_documents, total_bytes, cancel_requested`

func ExportJobValues(j *snapexport.ExportJob) []any {
	p := j.Progress
	return []any{j.ID, j.ProjectID, j.ClusterID, j.ClusterName, j.SnapshotID, j.ExportBucketID, j.ParentID, j.ReplicaSetName,
		j.SourceSnapshotID, storedList(j.Components), storedList(j.CustomData), j.Prefix, string(j.State), storedJSON(j.StateReason),
		j.CreatedAt, j.FinishedAt,
		p.TotalCollections, p.ExportedCollections, p.Files, p.Documents, p.Bytes, p.TotalDocuments, p.TotalBytes, j.CancelRequested}
}

func ScanExportJob(s Scanner) (*snapexport.ExportJob, error) {
	var j snapexport.ExportJob
	var components, customData, reason string
	p := &j.Progress
	err := s.Scan(&j.ID, &j.ProjectID, &j.ClusterID, &j.ClusterName, &j.SnapshotID, &j.ExportBucketID, &j.ParentID, &j.ReplicaSetName,
		&j.SourceSnapshotID, &components, &customData, &j.Prefix, (*string)(&j.State), &reason, timeColumn{&j.CreatedAt}, nullTimeColumn{&j.FinishedAt},
		&p.TotalCollections, &p.ExportedCollections, &p.Files, &p.Documents, &p.Bytes, &p.TotalDocuments, &p.TotalBytes, &j.CancelRequested)
	if err != nil {
		return nil, NotFound(err)
	}
	err = cmp.Or(loadList(components, &j.Components, "export job", j.ID, "components"),
		loadList(customData, &j.CustomData, "export job", j.ID, "custom data"),
		loadJSON(reason, &j.StateReason, "export job", j.ID, "state reason"))
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// ExportJobUpdateValues are the values of an update of a job
// (Tx.UpdateExportJob): state, state_reason, finished_at,
// total_collections, exported_collections, files, documents, bytes,
// total_documents, total_bytes and cancel_requested, then the project_id
// and id of the row.
func ExportJobUpdateValues(j *snapexport.ExportJob) []any {
	p := j.Progress
	return []any{string(j.State), storedJSON(j.StateReason), j.FinishedAt,
		p.TotalCollections, p.ExportedCollections, p.Files, p.Documents, p.Bytes, p.TotalDocuments, p.TotalBytes,
		j.CancelRequested, j.ProjectID, j.ID}
}

// ExportJobLeaseColumns are the columns of an export job's lease, read by
// ScanExportJobLease.
const ExportJobLeaseColumns = "runner, lease_until"

// ScanExportJobLease reads a job's lease holder and its end (nil when
// there is none).
func ScanExportJobLease(row Scanner) (runner string, until *time.Time, err error) {
	err = row.Scan(&runner, nullTimeColumn{&until})
	return runner, until, NotFound(err)
}
