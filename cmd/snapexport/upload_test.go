package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
)

func startUploadServer(t *testing.T, dir string, maxUpload int64) string {
	t.Helper()
	srv, err := server.Open(context.Background(), overSQLite(server.Config{DataDir: dir, Limits: api.Limits{Disabled: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxUploadBytes: maxUpload}))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

// TestSnapshotUpload imports archives through the upload endpoint.
func TestSnapshotUpload(t *testing.T) {
	f := newImportFixture(t)
	plain := dumptest.ArchiveBytes(f.ds, false, true)
	gz, err := os.ReadFile(f.archive)
	if err != nil {
		t.Fatal(err)
	}
	base := startUploadServer(t, f.dir, int64(len(plain)))
	creator := f.apiKey(t, base, "GROUP_BACKUP_CREATOR")
	path := "/api/snapexport/v1/groups/" + f.group + "/clusters/Cluster0/snapshots"

	resp := creator.Do(t, apitest.Request{Method: "POST", Path: path + "?takenAt=2026-08-10T03:27:08Z&description=nightly", Accept: "application/json", Body: string(gz)})
	if resp.Status != http.StatusCreated {
		t.Fatalf("upload: %s", resp)
	}
	var got api.ImportView
	decodeStrict(t, string(resp.Body), &got)
	f.checkImport(t, "upload", got, "Cluster0-shard-0")
	snaps := f.snapshots(t, "Cluster0", snapexport.SnapshotReplicaSet)
	if len(snaps) != 1 || snaps[0].ID != got.ID || snaps[0].Description != "nightly" || got.CreatedAt != "2026-08-10T03:27:08Z" {
		t.Fatalf("after upload: %+v", snaps)
	}

	for _, tc := range []struct {
		name, query, body string
		status            int
		code              string
		detail            []string
	}{
		{"truncated", "", string(plain[:len(plain)/2]), 400, "INVALID_DUMP", []string{"request body", "offset"}},
		{"not an archive", "", "{}", 400, "INVALID_DUMP", []string{"request body"}},
		{"invalid namespace", "", string(invalidNamespaceArchive(f.ds)), 400, "INVALID_DUMP", []string{"request body", "offset", `invalid namespace "app.a$b"`}},
		{"too large", "", string(plain) + "x", 413, "SNAPSHOT_UPLOAD_TOO_LARGE", []string{fmt.Sprint(len(plain))}},
		{"bad time", "?takenAt=yesterday", string(gz), 400, "INVALID_QUERY_PARAMETER", []string{"takenAt"}},
		{"bad retention", "?retentionDays=0", string(gz), 400, "INVALID_QUERY_PARAMETER", []string{"retentionDays"}},
		{"unknown shard", "?shard=rs9", string(gz), 400, "INVALID_SNAPSHOT_IMPORT", []string{"rs9"}},
		{"malformed cluster name", "", string(gz), 400, "INVALID_PATH_PARAMETER", []string{"clusterName", "-bad"}},
	} {
		target := path + tc.query
		if tc.name == "malformed cluster name" {
			target = "/api/snapexport/v1/groups/" + f.group + "/clusters/-bad/snapshots"
		}
		resp := creator.Do(t, apitest.Request{Method: "POST", Path: target, Accept: "application/json", Body: tc.body})
		if resp.Status != tc.status || resp.Field(t, "errorCode") != tc.code {
			t.Errorf("%s: %s, want %d %s", tc.name, resp, tc.status, tc.code)
		}
		for _, d := range tc.detail {
			if !strings.Contains(resp.Field(t, "detail"), d) {
				t.Errorf("%s: detail %q does not name %q", tc.name, resp.Field(t, "detail"), d)
			}
		}
	}
	resp = creator.Do(t, apitest.Request{Method: "POST", Path: "/api/snapexport/v1/groups/" + f.group + "/clusters/nope/snapshots", Accept: "application/json", Body: string(gz)})
	if resp.Status != 404 || resp.Field(t, "errorCode") != "CLUSTER_NOT_FOUND" {
		t.Errorf("unknown cluster: %s", resp)
	}

	// A read-only key may not upload.
	reader := f.apiKey(t, base, "GROUP_READ_ONLY")
	if resp := reader.Do(t, apitest.Request{Method: "POST", Path: path, Accept: "application/json", Body: string(gz)}); resp.Status != 401 || resp.Field(t, "errorCode") != "USER_UNAUTHORIZED" {
		t.Errorf("read-only upload: %s", resp)
	}

	// A connection dropped halfway leaves nothing behind.
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	bearer := creator.Token(t, f.creds.ServiceAccount.ClientID, f.creds.ServiceAccount.ClientSecret)
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", path, u.Host, bearer, len(plain))
	conn.Write(plain[:len(plain)*2/3])
	time.Sleep(200 * time.Millisecond)
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := countFiles(t, filepath.Join(f.dir, "snapshots"))
		if n == countFilesOf(t, f, got.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a dropped upload left %d files", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if snaps := f.snapshots(t, "Cluster0", snapexport.SnapshotReplicaSet); len(snaps) != 1 {
		t.Errorf("after failed uploads: %v", ids(snaps))
	}
	f.noOrphans(t)
}

// countFiles counts the files under root. A folder that an import being
// cleaned up removes during the walk holds none.
func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path != root {
			return nil
		}
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countFilesOf(t *testing.T, f *importFixture, snapshotID string) int {
	return countFiles(t, filepath.Join(f.dir, "snapshots", f.group, snapshotID))
}

// apiKey makes an API key holding one role on the fixture's project.
func (f *importFixture) apiKey(t *testing.T, base string, role snapexport.Role) *apitest.Client {
	t.Helper()
	var key service.Credentials
	mustJSON(t, &key, "admin", "apikey", "create", "--data", f.dir, "--org", f.creds.OrgID, "--description", string(role))
	var roles []json.RawMessage
	mustJSON(t, &roles, "admin", "role", "assign", "--data", f.dir, "--public-key", key.PublicKey, "--project", f.group, "--role", string(role))
	return &apitest.Client{BaseURL: base, Auth: apitest.Digest(key.PublicKey, key.PrivateKey)}
}
