package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestImportedSnapshotsThroughSDK imports generated dumps, one through the
// test server's import and two shards through the upload endpoint, reads
// them with the SDK, and reads the stored data back.
func TestImportedSnapshotsThroughSDK(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateCluster(ctx, "sharded", "rs0", "rs1"); err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 21, DocsPerCollection: 30})
	archive := dumptest.ArchiveBytes(ds, true, true)

	res, err := srv.ImportArchive(ctx, service.ImportInput{ClusterName: "Cluster0"}, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := c.CloudBackupsApi.ListBackupSnapshots(ctx, g, "Cluster0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if list.GetTotalCount() != 1 || len(list.GetResults()) != 1 {
		t.Fatalf("ListBackupSnapshots = %+v", list)
	}
	got := list.GetResults()[0]
	var size int64
	for _, col := range ds.Collections {
		size += col.TotalSize()
	}
	if got.GetId() != res.Snapshot.ID || got.GetStatus() != "completed" || got.GetType() != "replicaSet" ||
		got.GetReplicaSetName() != "Cluster0" || got.GetMongodVersion() != ds.ServerVersion ||
		got.GetStorageSizeBytes() != size || got.GetSnapshotType() != "onDemand" || got.GetFrequencyType() != "ondemand" {
		t.Errorf("listed snapshot = %+v, want %s of %d bytes", got, res.Snapshot.ID, size)
	}
	one, _, err := c.CloudBackupsApi.GetClusterBackupSnapshot(ctx, g, "Cluster0", res.Snapshot.ID).Execute()
	if err != nil || one.GetId() != res.Snapshot.ID || !one.GetCreatedAt().Equal(res.Snapshot.CreatedAt.Truncate(time.Second)) {
		t.Errorf("GetClusterBackupSnapshot = %+v, %v", one, err)
	}

	// The stored data is the dump's, document for document.
	loc := snapshotstore.Location{ProjectID: g, SnapshotID: res.Snapshot.ID}
	m, err := srv.Server.Snapshots.Manifest(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	for i, col := range m.Namespaces {
		want := ds.Lookup(col.DB, col.Name)
		if want == nil {
			t.Fatalf("stored collection %s.%s is not in the dump", col.DB, col.Name)
		}
		r, err := srv.Server.Snapshots.OpenCollection(ctx, loc, m, i)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			doc, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n >= want.NumDocs || !bytes.Equal(doc, want.Doc(n)) {
				t.Fatalf("%s.%s: document %d differs from the dump's", col.DB, col.Name, n)
			}
			n++
		}
		r.Close()
		if n != want.NumDocs {
			t.Errorf("%s.%s: read %d documents, want %d", col.DB, col.Name, n, want.NumDocs)
		}
	}

	// Two shards through the upload endpoint, with a service account.
	httpClient := oauthConfig(srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret).Client(ctx)
	var uploaded []api.ImportView
	for _, shard := range []string{"rs0", "rs1"} {
		resp, err := httpClient.Post(srv.URL+"/api/snapexport/v1/groups/"+g+"/clusters/sharded/snapshots?shard="+shard+
			"&takenAt=2026-08-10T03:27:08Z", "application/octet-stream", bytes.NewReader(archive))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %s: %d %s", shard, resp.StatusCode, body)
		}
		var v api.ImportView
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		uploaded = append(uploaded, v)
	}
	sharded, _, err := c.CloudBackupsApi.ListBackupShardedClusters(ctx, g, "sharded").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if len(sharded.GetResults()) != 1 || sharded.GetResults()[0].GetId() != uploaded[1].ShardedSnapshotID {
		t.Fatalf("ListBackupShardedClusters = %+v, want %s", sharded, uploaded[1].ShardedSnapshotID)
	}
	sh, _, err := c.CloudBackupsApi.GetBackupShardedCluster(ctx, g, "sharded", uploaded[1].ShardedSnapshotID).Execute()
	if err != nil {
		t.Fatal(err)
	}
	members := sh.GetMembers()
	if len(members) != 2 || members[0].GetId() != uploaded[0].ID || members[1].GetReplicaSetName() != "rs1" ||
		len(sh.GetSnapshotIds()) != 2 || sh.GetStorageSizeBytes() != 2*size || sh.GetType() != "shardedCluster" {
		t.Errorf("GetBackupShardedCluster = %+v", sh)
	}
}
