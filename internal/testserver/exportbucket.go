package testserver

import (
	"context"
	"testing"

	"gocloud.dev/blob"
)

// OpenExportBucket opens an export bucket of the server's project as the
// export runner does, until the test ends.
func (s *Server) OpenExportBucket(tb testing.TB, bucketID string) *blob.Bucket {
	tb.Helper()
	ctx := context.Background()
	target, err := s.Server.Service.ExportTarget(ctx, s.GroupID, bucketID)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := s.Server.Buckets.Open(ctx, target)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}
