package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/service"
)

// UploadPath is snapexport's own endpoint (not Atlas's) that imports a
// mongodump archive, sent as the request body, as a snapshot of a cluster.
const UploadPath = "/api/snapexport/v1/groups/{groupId}/clusters/{clusterName}/snapshots"

// DefaultMaxUploadBytes bounds an uploaded archive when Server.MaxUploadBytes
// is zero.
const DefaultMaxUploadBytes int64 = 64 << 30

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
		CreatedAt: formatTime(s.CreatedAt), ExpiresAt: formatTime(s.ExpiresAt), StorageSizeBytes: s.StorageSizeBytes,
		Collections: make([]ImportCollectionView, len(s.Collections)), Notes: res.Notes}
	if v.Notes == nil {
		v.Notes = []string{}
	}
	for i, c := range s.Collections {
		v.Collections[i] = ImportCollectionView{Count: c.Count, DB: c.DB, Name: c.Name, Size: c.Size, Type: c.Type, UUID: c.UUID}
		v.Documents += c.Count
	}
	if res.Sharded != nil {
		v.ShardedSnapshotID = res.Sharded.ID
	}
	if res.AutoExport != nil {
		v.AutoExportID = res.AutoExport.ID
	}
	return v
}

// upload imports the request body. It needs the role Atlas asks for
// taking a snapshot (Project Backup Creator). The query names the shard
// (shard), the snapshot time (takenAt, RFC 3339), the retention in days
// (retentionDays), the frequency (frequencyType) and a description.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) { s.writeErr(w, r, err, false, false) }
	project := s.authorizeOwn(w, r, snapexport.RoleGroupBackupCreator, fail)
	if project == nil {
		return
	}
	in, err := uploadInput(r, project.ID)
	if err != nil {
		fail(err)
		return
	}
	limit := s.MaxUploadBytes
	if limit <= 0 {
		limit = DefaultMaxUploadBytes
	}
	if r.ContentLength > limit {
		fail(tooLarge(limit))
		return
	}
	body := &idleReader{r: http.MaxBytesReader(w, r.Body, limit), rc: http.NewResponseController(w)}
	src, err := dump.OpenArchive(body, "request body")
	if err == nil {
		var res *service.ImportResult
		res, err = s.Service.ImportSnapshot(r.Context(), in, src, nil)
		src.Close()
		if err == nil {
			writeJSON(w, http.StatusCreated, NewImportView(res))
			return
		}
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		err = tooLarge(limit)
	}
	fail(service.InvalidDump(err))
}

func tooLarge(limit int64) error {
	return snapexport.Errorf(snapexport.CodeSnapshotUploadTooLarge,
		"The archive is larger than the upload limit of %s bytes.", strconv.FormatInt(limit, 10))
}

func uploadInput(r *http.Request, projectID string) (service.ImportInput, error) {
	name, err := clusterName(r)
	if err != nil {
		return service.ImportInput{}, err
	}
	q := r.URL.Query()
	in := service.ImportInput{ProjectID: projectID, ClusterName: name, Shard: q.Get("shard"),
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
// so that a long upload is bounded by silence rather than total time.
type idleReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func (i *idleReader) Read(p []byte) (int, error) {
	_ = i.rc.SetReadDeadline(time.Now().Add(uploadIdleTimeout))
	return i.r.Read(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encode(v, false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
