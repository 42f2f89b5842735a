package snapexporttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/atlas-sdk/v20250312020/auth/clientcredentials"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/snapexporttest"
)

func digestClient(t *testing.T, srv *snapexporttest.Server, k snapexporttest.APIKey) *admin.APIClient {
	t.Helper()
	c, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(&http.Client{}),
		admin.UseDigestAuth(k.PublicKey, k.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statusOf is the HTTP status of an SDK call's answer.
func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// TestAddedPrincipals gives the test server an API key and a service
// account with fewer rights than its owners, and checks what each may do.
func TestAddedPrincipals(t *testing.T) {
	ctx := context.Background()
	srv := snapexporttest.NewServer(t)
	reader, err := srv.AddAPIKey(ctx, snapexport.RoleGroupReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	c := digestClient(t, srv, reader)
	if _, resp, err := c.CloudBackupsApi.ListExportBuckets(ctx, srv.GroupID).Execute(); err != nil {
		t.Fatalf("a GROUP_READ_ONLY key lists buckets: %d %v", statusOf(resp), err)
	}
	_, resp, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, srv.GroupID,
		&admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
	if statusOf(resp) != http.StatusUnauthorized {
		t.Fatalf("a GROUP_READ_ONLY key creates a role: %d %v, want 401", statusOf(resp), err)
	}
	if !admin.IsErrorCode(err, "USER_UNAUTHORIZED") {
		t.Errorf("refusal %v, want USER_UNAUTHORIZED", err)
	}

	owner, err := srv.AddServiceAccount(ctx, snapexport.RoleOrgOwner)
	if err != nil {
		t.Fatal(err)
	}
	conf := clientcredentials.NewConfig(owner.ClientID, owner.ClientSecret)
	conf.TokenURL = srv.URL + clientcredentials.TokenAPIPath
	sa, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(conf.Client(ctx)))
	if err != nil {
		t.Fatal(err)
	}
	if _, resp, err := sa.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, srv.GroupID,
		&admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute(); err != nil {
		t.Fatalf("an ORG_OWNER service account creates a role: %d %v", statusOf(resp), err)
	}
	if _, err := srv.AddAPIKey(ctx, "GROUP_ADMIRAL"); err == nil {
		t.Error("AddAPIKey took a role Atlas does not have")
	}
}

// TestRateLimitsOption gives the server a tiny token bucket and checks that
// the API answers Atlas's 429 once it is empty.
func TestRateLimitsOption(t *testing.T) {
	ctx := context.Background()
	srv := snapexporttest.NewServer(t, snapexporttest.Options{RateLimits: &snapexporttest.RateLimits{
		CloudBackups: &snapexporttest.TokenBucket{Capacity: 2, Refill: 1, Period: time.Hour}}})
	c := digestClient(t, srv, srv.APIKey)
	for i := range 2 {
		if _, resp, err := c.CloudBackupsApi.ListExportBuckets(ctx, srv.GroupID).Execute(); err != nil {
			t.Fatalf("call %d of 2: %d %v", i+1, statusOf(resp), err)
		}
	}
	_, resp, err := c.CloudBackupsApi.ListExportBuckets(ctx, srv.GroupID).Execute()
	if statusOf(resp) != http.StatusTooManyRequests || !admin.IsErrorCode(err, "RATE_LIMITED_TOKEN_BUCKET") {
		t.Fatalf("third call: %d %v, want 429 RATE_LIMITED_TOKEN_BUCKET", statusOf(resp), err)
	}
	// The other endpoint set keeps Atlas's bucket.
	if _, resp, err := c.CloudProviderAccessApi.ListCloudProviderAccess(ctx, srv.GroupID).Execute(); err != nil {
		t.Fatalf("roles: %d %v", statusOf(resp), err)
	}
}

// TestRateLimitsOptionClustersAndProjects gives the Clusters and Projects
// sets a bucket of one request each: the SDK's second cluster read and
// second project creation get Atlas's 429.
func TestRateLimitsOptionClustersAndProjects(t *testing.T) {
	ctx := context.Background()
	one := &snapexporttest.TokenBucket{Capacity: 1, Refill: 1, Period: time.Hour}
	srv := snapexporttest.NewServer(t, snapexporttest.Options{RateLimits: &snapexporttest.RateLimits{Clusters: one, Projects: one}})
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	c := digestClient(t, srv, srv.APIKey)
	if _, resp, err := c.ClustersApi.GetCluster(ctx, srv.GroupID, "Cluster0").Execute(); err != nil {
		t.Fatalf("first cluster read: %d %v", statusOf(resp), err)
	}
	_, resp, err := c.ClustersApi.ListClusters(ctx, srv.GroupID).Execute()
	if statusOf(resp) != http.StatusTooManyRequests || !admin.IsErrorCode(err, "RATE_LIMITED_TOKEN_BUCKET") {
		t.Fatalf("second cluster read: %d %v, want 429 RATE_LIMITED_TOKEN_BUCKET", statusOf(resp), err)
	}
	if _, resp, err := c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "first", OrgId: srv.OrgID}).Execute(); err != nil {
		t.Fatalf("first project: %d %v", statusOf(resp), err)
	}
	_, resp, err = c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "second", OrgId: srv.OrgID}).Execute()
	if statusOf(resp) != http.StatusTooManyRequests || !admin.IsErrorCode(err, "RATE_LIMITED_TOKEN_BUCKET") {
		t.Fatalf("second project: %d %v, want 429 RATE_LIMITED_TOKEN_BUCKET", statusOf(resp), err)
	}
	// The other endpoint sets keep Atlas's buckets.
	if _, resp, err := c.CloudBackupsApi.ListExportBuckets(ctx, srv.GroupID).Execute(); err != nil {
		t.Fatalf("buckets: %d %v", statusOf(resp), err)
	}
}

// TestExportToLocalBuckets exports an imported archive into a local bucket
// kept where Buckets.LocalDir says, with the export options given.
func TestExportToLocalBuckets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := snapexporttest.NewServer(t, snapexporttest.Options{Buckets: &snapexporttest.Buckets{LocalDir: dir},
		Exports: &snapexporttest.Exports{ChunkBytes: 4 << 10, ParallelCollections: 2}})
	c := digestClient(t, srv, srv.APIKey)
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 7})
	imported, err := srv.ImportArchive(ctx, snapexporttest.Import{ClusterName: "Cluster0", Description: "fixture"},
		bytes.NewReader(dumptest.ArchiveBytes(ds, true, false)))
	if err != nil {
		t.Fatal(err)
	}
	if imported.Snapshot.Description != "fixture" || imported.Snapshot.ClusterName != "Cluster0" {
		t.Fatalf("imported %+v", imported.Snapshot)
	}
	bucket := exportsBucket(t, c, srv.GroupID)
	job, _, err := c.CloudBackupsApi.CreateBackupExport(ctx, srv.GroupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: imported.Snapshot.ID, ExportBucketId: bucket}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for job.GetState() != "Successful" {
		if time.Now().After(deadline) || job.GetState() == "Failed" || job.GetState() == "Cancelled" {
			t.Fatalf("export ended %s (%+v)", job.GetState(), job.GetStateReason())
		}
		time.Sleep(20 * time.Millisecond)
		if job, _, err = c.CloudBackupsApi.GetBackupExport(ctx, srv.GroupID, "Cluster0", job.GetId()).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	prefix := filepath.Join(dir, "aws", "exports", filepath.FromSlash(job.GetPrefix()))
	complete, err := os.ReadFile(filepath.Join(prefix, ".complete"))
	if err != nil {
		t.Fatalf("the export's .complete is not in the local bucket: %v", err)
	}
	var c2 struct{ TotalFiles int }
	if err := json.Unmarshal(complete, &c2); err != nil || c2.TotalFiles == 0 {
		t.Fatalf(".complete: %v %s", err, complete)
	}
	// Small chunks: some collection takes several data objects.
	chunks := 0
	filepath.WalkDir(prefix, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".1.json.gz") {
			chunks++
		}
		return nil
	})
	if chunks == 0 {
		t.Error("no collection was split in 4 KiB data objects")
	}
}

// TestSweepsExpiredSnapshots imports a snapshot kept an hour, moves the
// server's clock past it and waits for the sweep to remove it.
func TestSweepsExpiredSnapshots(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv := snapexporttest.NewServer(t, snapexporttest.Options{Now: now, SweepInterval: 20 * time.Millisecond})
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	ds := dumptest.Generate(dumptest.Options{Seed: 1, DocsPerCollection: 3})
	imported, err := srv.ImportArchive(ctx, snapexporttest.Import{ClusterName: "Cluster0", Retention: time.Hour},
		bytes.NewReader(dumptest.ArchiveBytes(ds, false, false)))
	if err != nil {
		t.Fatal(err)
	}
	c := digestClient(t, srv, srv.APIKey)
	get := func() int {
		_, resp, err := c.CloudBackupsApi.GetClusterBackupSnapshot(ctx, srv.GroupID, "Cluster0", imported.Snapshot.ID).Execute()
		if err != nil && statusOf(resp) != http.StatusNotFound {
			t.Fatalf("get snapshot: %d %v", statusOf(resp), err)
		}
		return statusOf(resp)
	}
	time.Sleep(100 * time.Millisecond) // several sweeps
	if st := get(); st != http.StatusOK {
		t.Fatalf("the snapshot is gone (%d) before it expired", st)
	}
	offset.Store(int64(2 * time.Hour))
	deadline := time.Now().Add(10 * time.Second)
	for get() != http.StatusNotFound {
		if time.Now().After(deadline) {
			t.Fatal("the expired snapshot was not swept")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterChangeDelayOption creates a cluster with the SDK on a
// server whose clusters take a minute to create and to delete, and moves
// the server's clock through both.
func TestClusterChangeDelayOption(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv := snapexporttest.NewServer(t, snapexporttest.Options{Now: now, ClusterChangeDelay: time.Minute})
	c := digestClient(t, srv, srv.APIKey)
	spec := admin.ReplicationSpec20240805{RegionConfigs: &[]admin.CloudRegionConfig20240805{{ProviderName: admin.PtrString("AWS"),
		RegionName: admin.PtrString("US_EAST_1"), ElectableSpecs: &admin.HardwareSpec20240805{InstanceSize: admin.PtrString("M10")}}}}
	created, _, err := c.ClustersApi.CreateCluster(ctx, srv.GroupID, &admin.ClusterDescription20240805{Name: admin.PtrString("Cluster0"),
		ClusterType: admin.PtrString("REPLICASET"), ReplicationSpecs: &[]admin.ReplicationSpec20240805{spec}}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		got, resp, err := c.ClustersApi.GetCluster(ctx, srv.GroupID, "Cluster0").Execute()
		if statusOf(resp) == http.StatusNotFound {
			return "gone"
		}
		if err != nil {
			t.Fatal(err)
		}
		return got.GetStateName()
	}
	if created.GetStateName() != "CREATING" || state() != "CREATING" {
		t.Errorf("a new cluster is %s, then %s; want CREATING", created.GetStateName(), state())
	}
	offset.Store(int64(time.Minute))
	if s := state(); s != "IDLE" {
		t.Errorf("a minute later the cluster is %s, want IDLE", s)
	}
	if _, err := c.ClustersApi.DeleteCluster(ctx, srv.GroupID, "Cluster0").Execute(); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "DELETING" {
		t.Errorf("a deleted cluster is %s, want DELETING", s)
	}
	offset.Store(int64(2 * time.Minute))
	if s := state(); s != "gone" {
		t.Errorf("a minute after its deletion the cluster is %s, want gone", s)
	}
}

// TestCloseCutsRequestsShort checks that Close returns at once with a
// request still in flight, as httptest.Server.Close does.
func TestCloseCutsRequestsShort(t *testing.T) {
	srv, err := snapexporttest.Start(context.Background(), snapexporttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conf := clientcredentials.NewConfig(srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
	conf.TokenURL = srv.URL + clientcredentials.TokenAPIPath
	token, err := conf.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	sent := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL+"/api/atlas/v2/groups/"+srv.GroupID+"/backup/exportBuckets", pr)
		req.Header.Set("Authorization", "Bearer "+token.AccessToken)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		req.Header.Set("Content-Type", "application/json")
		_, err := (&apitest.Client{BaseURL: srv.URL}).RoundTrip(t, req)
		sent <- err
	}()
	fmt.Fprint(pw, `{"bucketName":`) // and nothing more: the server waits for the rest
	time.Sleep(100 * time.Millisecond)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("Close waited for a request in flight")
	}
	pw.CloseWithError(io.ErrClosedPipe)
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Error("the request in flight did not end")
	}
	<-closed
}

// authorizedAWSRole creates an AWS cloud provider access role of the
// project with the SDK and authorizes it for arn.
// exportsBucket registers the AWS bucket "exports", reached through an
// authorized role, and returns its id.
func exportsBucket(tb testing.TB, c *admin.APIClient, groupID string) string {
	tb.Helper()
	roleID := authorizedAWSRole(tb, c, groupID, "arn:aws:iam::123456789012:role/atlas-export")
	bucket, _, err := c.CloudBackupsApi.CreateExportBucket(context.Background(), groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("exports"), IamRoleId: admin.PtrString(roleID)}).Execute()
	if err != nil {
		tb.Fatal(err)
	}
	return bucket.GetId()
}

func authorizedAWSRole(tb testing.TB, c *admin.APIClient, groupID, arn string) string {
	tb.Helper()
	ctx := context.Background()
	role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, groupID,
		&admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := c.CloudProviderAccessApi.AuthorizeProviderAccessRole(ctx, groupID, role.GetRoleId(),
		&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute(); err != nil {
		tb.Fatal(err)
	}
	return role.GetRoleId()
}
