package api

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/service"
)

// DefaultMaxUploadBytes bounds an uploaded archive when Server.MaxUploadBytes
// is zero.
const DefaultMaxUploadBytes int64 = 64 << 30

// DefaultUploadTimeout bounds an upload when Server.UploadTimeout is zero:
// 64 GiB at 25 Mbit/s.
const DefaultUploadTimeout = 6 * time.Hour

// uploadIdleTimeout is how long an upload may send nothing before it is
// dropped; the server's overall read timeout does not apply to uploads.
const uploadIdleTimeout = time.Minute

// ImportView is a finished import, as `snapexport snapshot import --json`
// prints it and the upload endpoint answers it.
type ImportView struct {
	AutoExportID      string                 `json:"autoExportId,omitempty"`
	ClusterName       string                 `json:"clusterName"`
	Collections       []ImportCollectionView `json:"collections"`
	CreatedAt         string                 `json:"createdAt"`
	Documents         int64                  `json:"documents"`
	ExpiresAt         string                 `json:"expiresAt"`
	GroupID           string                 `json:"groupId"`
	ID                string                 `json:"id"`
	Notes             []string               `json:"notes"`
	ReplicaSetName    string                 `json:"replicaSetName"`
	ShardedSnapshotID string                 `json:"shardedSnapshotId,omitempty"`
	StorageSizeBytes  int64                  `json:"storageSizeBytes"`
}

// ImportCollectionView is one collection of an import, its fields in
// alphabetical order like every body (the compact form keeps the order of
// the fields, the pretty one sorts them).
type ImportCollectionView struct {
	Count int64  `json:"count"`
	DB    string `json:"db"`
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Type  string `json:"type"`
	UUID  string `json:"uuid,omitempty"`
}

// NewImportView describes an import's result.
func NewImportView(res *service.ImportResult) ImportView {
	s := res.Snapshot
	v := ImportView{ID: s.ID, GroupID: s.ProjectID, ClusterName: s.ClusterName, ReplicaSetName: s.ReplicaSetName,
		CreatedAt: formatTime(s.CreatedAt), ExpiresAt: formatTime(s.ExpiresAt), StorageSizeBytes: s.StorageSizeBytes, Notes: res.Notes}
	v.Collections, v.Documents = collectionViews(s.Collections)
	if v.Notes == nil {
		v.Notes = []string{}
	}
	if res.Sharded != nil {
		v.ShardedSnapshotID = res.Sharded.ID
	}
	if res.AutoExport != nil {
		v.AutoExportID = res.AutoExport.ID
	}
	return v
}

// collectionViews describes collections and counts their documents.
func collectionViews(colls []snapexport.SnapshotCollection) ([]ImportCollectionView, int64) {
	out := make([]ImportCollectionView, len(colls))
	var docs int64
	for i, c := range colls {
		out[i] = ImportCollectionView{Count: c.Count, DB: c.DB, Name: c.Name, Size: c.Size, Type: c.Type, UUID: c.UUID}
		docs += c.Count
	}
	return out, docs
}

// uploadSnapshot imports the request body, a mongodump archive, as a
// snapshot of the path's cluster (snapexport's own operation: Atlas takes
// snapshots, it does not import them). The query names the shard (shard),
// the snapshot time (takenAt, RFC 3339), the retention in days
// (retentionDays), the frequency (frequencyType) and a description.
func uploadSnapshot(c *call) (*response, error) {
	in, err := uploadInput(c)
	if err != nil {
		return nil, err
	}
	return readUpload(c, func(ctx context.Context, src dump.Source) (*response, error) {
		res, err := c.srv.Service.ImportSnapshot(ctx, in, src, nil)
		if err != nil {
			return nil, err
		}
		return &response{status: http.StatusCreated, body: NewImportView(res)}, nil
	})
}

// readUpload hands the request body, a mongodump archive, to use within
// the upload's limits of size (MaxUploadBytes) and time (UploadTimeout,
// and a minute of silence), and answers what use does or why it failed.
func readUpload(c *call, use func(ctx context.Context, src dump.Source) (*response, error)) (*response, error) {
	limit := c.srv.MaxUploadBytes
	if limit <= 0 {
		limit = DefaultMaxUploadBytes
	}
	if c.r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	timeout := cmp.Or(c.srv.UploadTimeout, DefaultUploadTimeout)
	deadline := time.Now().Add(timeout)
	// The import stops at the deadline too, and removes what it stored.
	ctx, cancel := context.WithDeadline(c.r.Context(), deadline)
	defer cancel()
	body := &idleReader{r: http.MaxBytesReader(c.w, c.r.Body, limit), rc: http.NewResponseController(c.w), deadline: deadline}
	src, err := dump.OpenArchive(body, "request body")
	if err == nil {
		var res *response
		res, err = use(ctx, src)
		src.Close()
		if err == nil {
			return res, nil
		}
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		err = tooLarge(limit)
	}
	if err != nil && !time.Now().Before(deadline) {
		c.w.Header().Set("Connection", "close")
		err = snapexport.Errorf(snapexport.CodeSnapshotUploadTimeout,
			"The upload took longer than the limit of %s; nothing was kept.", timeout.String())
	}
	return nil, service.InvalidDump(err)
}

func tooLarge(limit int64) error {
	return snapexport.Errorf(snapexport.CodeSnapshotUploadTooLarge,
		"The archive is larger than the upload limit of %s bytes.", strconv.FormatInt(limit, 10))
}

func uploadInput(c *call) (service.ImportInput, error) {
	name, err := c.clusterName()
	if err != nil {
		return service.ImportInput{}, err
	}
	q := c.r.URL.Query()
	in := service.ImportInput{ProjectID: c.project.ID, ClusterName: name, Shard: q.Get("shard"),
		Description: q.Get("description"), FrequencyType: q.Get("frequencyType")}
	bad := func(name string) error {
		return snapexport.Errorf(snapexport.CodeInvalidQueryParameter, "Invalid query parameter %s specified.", name)
	}
	if v := q.Get("takenAt"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return in, bad("takenAt")
		}
		in.TakenAt = t.UTC()
	}
	if v := q.Get("retentionDays"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			return in, bad("retentionDays")
		}
		in.Retention = time.Duration(days) * 24 * time.Hour
	}
	return in, nil
}

// idleReader pushes the connection's read deadline forward on every read,
// so that a long upload is bounded by silence, never past deadline, the
// upload's total time limit.
type idleReader struct {
	r        io.Reader
	rc       *http.ResponseController
	deadline time.Time
}

func (i *idleReader) Read(p []byte) (int, error) {
	idle := time.Now().Add(uploadIdleTimeout)
	if idle.After(i.deadline) {
		idle = i.deadline
	}
	_ = i.rc.SetReadDeadline(idle)
	return i.r.Read(p)
}
