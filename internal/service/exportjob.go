package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// ExportQueue runs export jobs: Enqueue asks for a job to be run (again).
type ExportQueue interface {
	Enqueue(ctx context.Context, projectID, jobID string) error
}

func exportJobNotFound(id string) error {
	return snapexport.Errorf(snapexport.CodeExportJobNotFound, "No export job with ID %s exists.", id)
}

// ExportJobInput is an export job to create.
type ExportJobInput struct {
	ProjectID      string
	ClusterName    string
	SnapshotID     string
	ExportBucketID string
	CustomData     []snapexport.Label
}

// CreateExportJob records an export of a snapshot into a bucket and
// queues it: one job for a replica-set snapshot; for a sharded-cluster
// snapshot a parent job with one component per shard. A snapshot has at
// most one active export.
func (s *Service) CreateExportJob(ctx context.Context, in ExportJobInput) (*snapexport.ExportJob, error) {
	for i, l := range in.CustomData {
		if strings.TrimSpace(l.Key) == "" {
			return nil, snapexport.Errorf(snapexport.CodeInvalidAttribute,
				"Invalid attribute %s specified.", fmt.Sprintf("customData[%d].key", i))
		}
	}
	var job *snapexport.ExportJob
	var queued []*snapexport.ExportJob
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		job, queued, err = s.recordExportJob(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.enqueueExports(ctx, queued)
	return job, nil
}

// recordExportJob records an export job in tx as CreateExportJob
// describes; it returns the job and the jobs to queue once tx commits
// (itself, or a sharded export's components).
func (s *Service) recordExportJob(ctx context.Context, tx snapexport.Tx, in ExportJobInput) (*snapexport.ExportJob, []*snapexport.ExportJob, error) {
	project, org, err := projectAndOrg(ctx, tx, in.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.cluster(ctx, tx, in.ProjectID, in.ClusterName)
	if err != nil {
		return nil, nil, err
	}
	snap, err := s.snapshot(ctx, tx, in.ProjectID, in.ClusterName, in.SnapshotID, "")
	if err != nil {
		return nil, nil, err
	}
	if snap.Status != snapexport.SnapshotCompleted {
		return nil, nil, snapexport.Errorf(snapexport.CodeUnfinishedSnapshot,
			"Snapshot %s is %s: only a completed snapshot can be exported.", snap.ID, string(snap.Status))
	}
	if _, err := tx.ExportBucket(ctx, in.ProjectID, in.ExportBucketID); err != nil {
		if errors.Is(err, snapexport.ErrNotFound) {
			return nil, nil, bucketNotFound(in.ExportBucketID)
		}
		return nil, nil, err
	}
	active, err := tx.ActiveExportJobs(ctx, in.ProjectID, snap.ID, "")
	if err != nil {
		return nil, nil, err
	}
	if len(active) > 0 {
		return nil, nil, snapexport.Errorf(snapexport.CodeExportAlreadyInProgress,
			"Snapshot %s is already being exported by export job %s.", snap.ID, active[0].ID)
	}
	now := s.now()
	orgPart, groupPart := org.ID, project.ID
	if c.Schedule.UseOrgAndGroupNamesInExportPrefix {
		orgPart, groupPart = export.SanitizeName(org.Name), export.SanitizeName(project.Name)
	}
	// The prefix ends in the job's creation second: two jobs of the
	// cluster's snapshots of one minute created in the same second
	// would share it, and each overwrite the other's .complete. Such
	// a job is dated one second later instead.
	prior, _, err := tx.ListExportJobs(ctx, in.ProjectID, c.ID, snapexport.Page{})
	if err != nil {
		return nil, nil, err
	}
	taken := map[string]bool{}
	for _, p := range prior {
		taken[p.Prefix] = true
	}
	for taken[export.Prefix(orgPart, groupPart, c.Name, snap.CreatedAt, now)] {
		now = now.Add(time.Second)
	}
	job := &snapexport.ExportJob{ID: NewID(), ProjectID: in.ProjectID, ClusterID: c.ID, ClusterName: c.Name,
		SnapshotID: snap.ID, ExportBucketID: in.ExportBucketID, CustomData: in.CustomData,
		Prefix: export.Prefix(orgPart, groupPart, c.Name, snap.CreatedAt, now), State: snapexport.ExportQueued,
		CreatedAt: now}
	if snap.Kind == snapexport.SnapshotReplicaSet {
		job.ReplicaSetName, job.SourceSnapshotID = snap.ReplicaSetName, snap.ID
		return job, []*snapexport.ExportJob{job}, tx.CreateExportJob(ctx, job)
	}
	var queued []*snapexport.ExportJob
	for _, m := range snap.Members {
		comp := *job
		comp.ID, comp.ParentID, comp.ReplicaSetName, comp.SourceSnapshotID = NewID(), job.ID, m.ReplicaSetName, m.ID
		comp.Components = nil
		job.Components = append(job.Components, snapexport.ExportComponent{ExportID: comp.ID, ReplicaSetName: m.ReplicaSetName})
		queued = append(queued, &comp)
	}
	if err := tx.CreateExportJob(ctx, job); err != nil {
		return nil, nil, err
	}
	for _, q := range queued {
		if err := tx.CreateExportJob(ctx, q); err != nil {
			return nil, nil, err
		}
	}
	return job, queued, nil
}

// enqueueExports queues recorded export jobs. A job recorded but not
// queued (a crash before this, a queue failure) is queued again when the
// server starts: see RequeueExportJobs.
func (s *Service) enqueueExports(ctx context.Context, queued []*snapexport.ExportJob) {
	if s.Exports == nil {
		return
	}
	// The jobs are recorded: queue them even if the client has gone.
	ctx = context.WithoutCancel(ctx)
	for _, q := range queued {
		if err := s.Exports.Enqueue(ctx, q.ProjectID, q.ID); err != nil {
			s.logger().LogAttrs(ctx, slog.LevelWarn, "export job not queued yet", append(q.LogAttrs(), slog.Any("error", err))...)
		}
	}
}

// allProjects lists the projects of every organization.
func allProjects(ctx context.Context, tx snapexport.Tx) ([]*snapexport.Project, error) {
	orgs, err := tx.ListOrganizations(ctx)
	if err != nil || len(orgs) == 0 {
		return nil, err
	}
	var ids []string
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	projects, _, err := tx.ListProjects(ctx, ids, nil, snapexport.Page{})
	return projects, err
}

// RequeueExportJobs queues every active export job of every project again:
// jobs recorded while no queue could take them, and jobs of a runner that
// died (a runner skips a job whose lease another holds).
func (s *Service) RequeueExportJobs(ctx context.Context) error {
	if s.Exports == nil {
		return nil
	}
	var active []*snapexport.ExportJob
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		projects, err := allProjects(ctx, tx)
		if err != nil {
			return err
		}
		for _, p := range projects {
			jobs, err := tx.ActiveExportJobs(ctx, p.ID, "", "")
			if err != nil {
				return err
			}
			active = append(active, jobs...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, j := range active {
		if err := s.Exports.Enqueue(ctx, j.ProjectID, j.ID); err != nil {
			return err
		}
	}
	return nil
}

// ExportJobs lists a cluster's export jobs.
func (s *Service) ExportJobs(ctx context.Context, projectID, clusterName string, page snapexport.Page) ([]*snapexport.ExportJob, int, error) {
	var out []*snapexport.ExportJob
	var total int
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		c, err := s.cluster(ctx, tx, projectID, clusterName)
		if err != nil {
			return err
		}
		if out, total, err = tx.ListExportJobs(ctx, projectID, c.ID, page); err != nil {
			return err
		}
		for _, j := range out {
			if err := sumComponents(ctx, tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	return out, total, err
}

// ExportJob returns one of a cluster's export jobs (not a component).
func (s *Service) ExportJob(ctx context.Context, projectID, clusterName, id string) (*snapexport.ExportJob, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.ExportJob, error) {
		return s.exportJob(ctx, tx, projectID, clusterName, id)
	})
}

func (s *Service) exportJob(ctx context.Context, tx snapexport.Tx, projectID, clusterName, id string) (*snapexport.ExportJob, error) {
	c, err := s.cluster(ctx, tx, projectID, clusterName)
	if err != nil {
		return nil, err
	}
	if !objectIDPattern.MatchString(id) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidExportJobID, "An invalid export job ID %s was specified.", id)
	}
	job, err := tx.ExportJob(ctx, projectID, id)
	if errors.Is(err, snapexport.ErrNotFound) || err == nil && (job.ClusterID != c.ID || job.ParentID != "") {
		return nil, exportJobNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return job, sumComponents(ctx, tx, job)
}

// sumComponents sets a sharded export's progress to its components' sum.
func sumComponents(ctx context.Context, tx snapexport.Tx, job *snapexport.ExportJob) error {
	if len(job.Components) == 0 {
		return nil
	}
	var p snapexport.ExportProgress
	for _, c := range job.Components {
		comp, err := tx.ExportJob(ctx, job.ProjectID, c.ExportID)
		if err != nil {
			return err
		}
		cp := comp.Progress
		p.TotalCollections += cp.TotalCollections
		p.ExportedCollections += cp.ExportedCollections
		p.Files += cp.Files
		p.Documents += cp.Documents
		p.Bytes += cp.Bytes
		p.TotalDocuments += cp.TotalDocuments
		p.TotalBytes += cp.TotalBytes
	}
	job.Progress = p
	return nil
}

// CancelExportJob asks an active export job (and its components) to stop;
// its runner ends it as Cancelled. An ended job is left as it is.
func (s *Service) CancelExportJob(ctx context.Context, projectID, clusterName, id string) (*snapexport.ExportJob, error) {
	var job *snapexport.ExportJob
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if job, err = s.exportJob(ctx, tx, projectID, clusterName, id); err != nil {
			return err
		}
		return requestCancel(ctx, tx, job)
	})
	if err != nil {
		return nil, err
	}
	s.enqueueCancelled(ctx, job)
	return job, nil
}

// CancelExportJobByID is CancelExportJob for the runner, which knows the
// job but not the name of its cluster.
func (s *Service) CancelExportJobByID(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	var job *snapexport.ExportJob
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if job, err = tx.ExportJob(ctx, projectID, id); err != nil {
			return err
		}
		return requestCancel(ctx, tx, job)
	})
	return job, err
}

// enqueueCancelled wakes the jobs that have not started yet, so that
// they end as Cancelled without waiting for their turn.
func (s *Service) enqueueCancelled(ctx context.Context, job *snapexport.ExportJob) {
	if s.Exports == nil || !job.State.Active() {
		return
	}
	jobs := []*snapexport.ExportJob{job}
	for _, c := range job.Components {
		comp := *job
		comp.ID, comp.ParentID, comp.ReplicaSetName, comp.Components = c.ExportID, job.ID, c.ReplicaSetName, nil
		jobs = append(jobs, &comp)
	}
	ctx = context.WithoutCancel(ctx)
	for _, j := range jobs {
		if err := s.Exports.Enqueue(ctx, j.ProjectID, j.ID); err != nil {
			s.logger().LogAttrs(ctx, slog.LevelWarn, "cancelled export job not queued", append(j.LogAttrs(), slog.Any("error", err))...)
		}
	}
}

func requestCancel(ctx context.Context, tx snapexport.Tx, job *snapexport.ExportJob) error {
	if !job.State.Active() {
		return nil
	}
	jobs := []*snapexport.ExportJob{job}
	for _, c := range job.Components {
		comp, err := tx.ExportJob(ctx, job.ProjectID, c.ExportID)
		if err != nil {
			return err
		}
		jobs = append(jobs, comp)
	}
	for _, j := range jobs {
		if !j.State.Active() || j.CancelRequested {
			continue
		}
		j.CancelRequested = true
		if err := tx.UpdateExportJob(ctx, j); err != nil {
			return err
		}
	}
	job.CancelRequested = true
	return nil
}

// projectAndOrg reads a project and its organization, whose ids and names
// name an export's objects.
func projectAndOrg(ctx context.Context, tx snapexport.Tx, projectID string) (*snapexport.Project, *snapexport.Organization, error) {
	project, err := tx.Project(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	org, err := tx.Organization(ctx, project.OrgID)
	return project, org, err
}

// CompleteDocument is the .complete object of a job, all but totalFiles.
func (s *Service) CompleteDocument(ctx context.Context, job *snapexport.ExportJob) (export.Complete, error) {
	var c export.Complete
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		project, org, err := projectAndOrg(ctx, tx, job.ProjectID)
		if err != nil {
			return err
		}
		snap, err := tx.Snapshot(ctx, job.ProjectID, job.ClusterID, job.SnapshotID)
		if err != nil {
			return err
		}
		c = export.Complete{OrgID: org.ID, OrgName: org.Name, GroupID: project.ID, GroupName: project.Name,
			ClusterUniqueID: job.ClusterID, ClusterName: job.ClusterName, SnapshotInitiationDate: snap.CreatedAt,
			CustomData: job.CustomData}
		// The labels are the cluster's now; a cluster deleted since keeps
		// none.
		cl, err := tx.Cluster(ctx, job.ProjectID, job.ClusterName)
		if err == nil && cl.ID == job.ClusterID {
			c.Labels = cl.Labels
		} else if err != nil && !errors.Is(err, snapexport.ErrNotFound) {
			return err
		}
		return nil
	})
	return c, err
}

// ExportTarget is how the runner reaches a job's bucket.
func (s *Service) ExportTarget(ctx context.Context, projectID, bucketID string) (objectstore.Target, error) {
	var t objectstore.Target
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		b, err := tx.ExportBucket(ctx, projectID, bucketID)
		if err != nil {
			if errors.Is(err, snapexport.ErrNotFound) {
				return bucketNotFound(bucketID)
			}
			return err
		}
		role, err := tx.CloudProviderAccessRole(ctx, projectID, b.RoleID)
		if errors.Is(err, snapexport.ErrNotFound) {
			return snapexport.Errorf(snapexport.CodeCloudProviderAccessRoleNotFound,
				"No cloud provider access role with ID %s exists.", b.RoleID)
		}
		if err != nil {
			return err
		}
		t = objectstore.Target{Provider: b.Provider, Bucket: b.BucketName, ServiceURL: b.ServiceURL, Region: b.Region,
			Role: role, PrivateNetworking: b.RequirePrivateNetworking}
		return nil
	})
	return t, err
}

// ExportJobByID returns a job, components included, by id alone.
func (s *Service) ExportJobByID(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	var job *snapexport.ExportJob
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		job, err = tx.ExportJob(ctx, projectID, id)
		if errors.Is(err, snapexport.ErrNotFound) {
			return exportJobNotFound(id)
		}
		return err
	})
	return job, err
}
