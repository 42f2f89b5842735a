package service

import "context"

// ExportQueue runs export jobs: Enqueue asks for a job to be run (again).
type ExportQueue interface {
	Enqueue(ctx context.Context, projectID, jobID string) error
}
