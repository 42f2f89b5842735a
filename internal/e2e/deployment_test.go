package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/fakemongo"
	"github.com/snapexport/snapexport/internal/testserver"
	"github.com/snapexport/snapexport/internal/testservices"
)

// The Cloud Backup loop of a cluster bound to a running server: its
// snapshots read the server itself through the MongoDB driver. FerretDB
// is a standalone server, so the cluster is bound with consistency none;
// the point-in-time reads are checked at the driver's command level in
// package capture.

// liveData is what the test writes to the server: a collection of every
// BSON type the server stores, one with indexes, a capped one.
type liveData struct {
	client *mongo.Client
	db     *mongo.Database
}

func writeLiveData(t *testing.T, uri string) *liveData {
	t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	d := &liveData{client: client, db: client.Database("shop")}
	var types []any
	for i := range 60 {
		types = append(types, dumptest.FerretDBTypesDoc(i))
	}
	d.insert(t, "types", types...)
	var orders []any
	for i := range 700 {
		orders = append(orders, bson.D{{Key: "_id", Value: int64(i)}, {Key: "orderNo", Value: int64(1000 + i)},
			{Key: "customer", Value: fmt.Sprintf("c%03d", i%17)}})
	}
	d.insert(t, "orders", orders...)
	if _, err := d.db.Collection("orders").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "orderNo", Value: 1}},
		Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	if err := d.db.CreateCollection(ctx, "log", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20)); err != nil {
		t.Fatal(err)
	}
	d.insert(t, "log", bson.D{{Key: "msg", Value: "first"}})
	return d
}

func (d *liveData) insert(t *testing.T, coll string, docs ...any) {
	t.Helper()
	if _, err := d.db.Collection(coll).InsertMany(context.Background(), docs); err != nil {
		t.Fatalf("inserting into %s: %v", coll, err)
	}
}

// documents reads a collection back from the server, in natural order.
func (d *liveData) documents(t *testing.T, coll string) []bson.Raw {
	t.Helper()
	cur, err := d.db.Collection(coll).Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	for cur.Next(context.Background()) {
		docs = append(docs, slices.Clone(cur.Current))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

// wantLiveExport reads an export of the live data back: each collection's
// documents are the server's (want, read when the snapshot was taken),
// in order, and its metadata names it; the unique index is kept.
func wantLiveExport(t *testing.T, b *blob.Bucket, prefix string, want map[string][]bson.Raw) {
	t.Helper()
	all := exporttest.ListKeys(t, b, prefix+"/")
	for coll, docs := range want {
		dir := prefix + "/shop/" + coll + "/"
		var got []bson.Raw
		for n := 0; slices.Contains(all, fmt.Sprintf("%sCluster0-shard-0.%d.json.gz", dir, n)); n++ {
			got = append(got, exporttest.ReadDocuments(t, b, fmt.Sprintf("%sCluster0-shard-0.%d.json.gz", dir, n))...)
		}
		if len(got) != len(docs) {
			t.Errorf("shop.%s: %d documents exported, the server had %d", coll, len(got), len(docs))
			continue
		}
		for i := range docs {
			if !exporttest.SameDocument(got[i], docs[i]) {
				t.Errorf("shop.%s document %d differs:\nexported %s\nserver   %s", coll, i, got[i], docs[i])
				break
			}
		}
		type index struct {
			Name   string `json:"name"`
			Unique bool   `json:"unique"`
		}
		var meta struct {
			CollectionName string  `json:"collectionName"`
			Indexes        []index `json:"indexes"`
			Options        struct {
				Capped bool `json:"capped"`
			} `json:"options"`
		}
		if err := json.Unmarshal(exporttest.ReadObject(t, b, dir+"metadata.json"), &meta); err != nil || meta.CollectionName != coll {
			t.Errorf("shop.%s metadata.json: %v, collectionName %q", coll, err, meta.CollectionName)
		}
		if coll == "orders" && !slices.Contains(meta.Indexes, index{Name: "orderNo_1", Unique: true}) {
			t.Errorf("shop.orders metadata.json lacks the unique index orderNo_1: %+v", meta.Indexes)
		}
		if meta.Options.Capped != (coll == "log") {
			t.Errorf("shop.%s metadata.json options: capped %v", coll, meta.Options.Capped)
		}
	}
	readComplete(t, b, prefix, all)
}

// TestCloudBackupOfALiveDeployment binds a cluster to a running server
// and snapshots it on demand through the SDK and by its backup policy;
// each snapshot is exported and read back, document for document, against
// what the server held when it was taken. The cluster shows the server's
// version and its connection string without the password, and the
// password shows nowhere: not in the server's files, its logs, the API's
// answers, nor the reason of a snapshot that failed with a wrong one.
// Deployments that cannot be read as asked fail their snapshots with a
// reason saying why.
func TestCloudBackupOfALiveDeployment(t *testing.T) {
	uri := testservices.PrivateFerretDB(t)
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	wrong := *u
	wrong.User = url.UserPassword(u.User.Username(), "not-"+password)
	live := writeLiveData(t, uri)
	var version struct {
		Version string `bson:"version"`
	}
	if err := live.client.Database("admin").RunCommand(context.Background(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&version); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	logs := &testserver.LogBuffer{}
	clock := &fakeClock{}
	clock.Set(t, "2026-08-10T12:00:00Z")
	dataDir := t.TempDir()
	srv := testserver.NewServer(t, testserver.Options{DataDir: dataDir, Now: clock.Now, SchedulePollInterval: time.Hour,
		Logger: slog.New(logs.JSONHandler(slog.LevelDebug))})
	c := newSDKClient(t, srv, "digest")
	g := srv.GroupID

	for name, bind := range map[string]struct {
		uri         string
		consistency snapexport.Consistency
	}{
		"Cluster0":      {uri, snapexport.ConsistencyNone},
		"WrongPassword": {wrong.String(), snapexport.ConsistencyNone},
		"PointInTime":   {uri, snapexport.ConsistencyPointInTime},
	} {
		if _, err := srv.CreateCluster(ctx, name); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.BindCluster(ctx, name, bind.uri, bind.consistency); err != nil {
			t.Fatalf("binding %s: %v", name, err)
		}
	}
	bucketID := sdkExportBucket(t, c.APIClient, g, "live-exports")
	b := srv.OpenExportBucket(t, bucketID)

	// On demand.
	want := map[string][]bson.Raw{}
	for _, coll := range []string{"types", "orders", "log"} {
		want[coll] = live.documents(t, coll)
	}
	first, firstAt := takeSnapshotWithSDK(t, c.APIClient, g, "Cluster0", false)
	if !firstAt.Equal(clock.Now()) {
		t.Errorf("snapshot taken at %v, want the server's time %v", firstAt, clock.Now())
	}
	stored, err := srv.Server.Service.Snapshot(ctx, g, "Cluster0", first, snapexport.SnapshotReplicaSet)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Consistency != snapexport.ConsistencyNone || stored.Progress == nil || stored.Progress.Documents != 60+700+1 ||
		stored.MongodVersion != version.Version {
		t.Errorf("snapshot %s: consistency %q, progress %+v, mongod %q; want none, %d documents, %s", first, stored.Consistency,
			stored.Progress, stored.MongodVersion, 60+700+1, version.Version)
	}
	cluster, _, err := c.ClustersApi.GetCluster(ctx, g, "Cluster0").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if cluster.GetMongoDBVersion() != version.Version {
		t.Errorf("cluster mongoDBVersion %q, want the server's %q", cluster.GetMongoDBVersion(), version.Version)
	}
	if cs := cluster.GetConnectionStrings(); !strings.Contains(cs.GetStandard(), u.Host) || strings.Contains(cs.GetStandard(), "@") {
		t.Errorf("connectionStrings.standard %q, want the host %s without credentials", cs.GetStandard(), u.Host)
	}
	wantLiveExport(t, b, exportWithSDK(t, c, "Cluster0", first, bucketID), want)

	// By the backup policy, after the data changed.
	live.insert(t, "orders", bson.D{{Key: "_id", Value: int64(5000)}, {Key: "orderNo", Value: int64(9000)}})
	if _, err := live.db.Collection("types").DeleteOne(ctx, bson.D{{Key: "i", Value: int32(7)}}); err != nil {
		t.Fatal(err)
	}
	for _, coll := range []string{"types", "orders", "log"} {
		want[coll] = live.documents(t, coll)
	}
	if _, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, g, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
		ReferenceMinuteOfHour: admin.PtrInt(30),
		Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{PolicyItems: []admin.DiskBackupApiPolicyItem{
			{FrequencyType: "hourly", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 2},
		}}}}).Execute(); err != nil {
		t.Fatal(err)
	}
	takeScheduled(t, srv, clock, "2026-08-10T12:30:00Z")
	var scheduled admin.DiskBackupReplicaSet
	for _, s := range replicaSetSnapshots(t, c.APIClient, g, "Cluster0") {
		if s.GetSnapshotType() == "scheduled" {
			scheduled = s
		}
	}
	if scheduled.GetStatus() != "completed" || !scheduled.GetCreatedAt().Equal(clock.Now()) {
		t.Fatalf("scheduled snapshot: %+v, want completed at %v", scheduled, clock.Now())
	}
	wantLiveExport(t, b, exportWithSDK(t, c, "Cluster0", scheduled.GetId(), bucketID), want)

	// Deployments that cannot be read as asked.
	wantSnapshotFails(t, c, "WrongPassword", "authentication refused")
	wantSnapshotFails(t, c, "PointInTime", "standalone", "--consistency none")

	// The password nowhere in clear.
	for where, text := range map[string]string{"the logs": logs.String(), "the API's answers": c.bodies.allBodies()} {
		for _, secret := range []string{password, "not-" + password} {
			if strings.Contains(text, secret) {
				t.Errorf("%s hold a connection string's password", where)
			}
		}
	}
	err = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(password)) {
			t.Errorf("%s holds the connection string's password", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// wantSnapshotFails takes an on-demand snapshot of a cluster of c's
// server through the SDK and checks that it fails, for a reason (as
// snapexport keeps it) naming each of want.
func wantSnapshotFails(t *testing.T, c *sdkClient, cluster string, want ...string) {
	t.Helper()
	ctx, g := context.Background(), c.srv.GroupID
	snap, _, err := c.CloudBackupsApi.TakeSnapshots(ctx, g, cluster, &admin.DiskBackupOnDemandSnapshotRequest{RetentionInDays: admin.PtrInt(1)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if ended := waitSnapshotEnd(t, c.APIClient, g, cluster, snap.GetId()); ended.GetStatus() != "failed" {
		t.Errorf("snapshot of %s ended %s, want failed", cluster, ended.GetStatus())
		return
	}
	stored, err := c.srv.Server.Service.Snapshot(ctx, g, cluster, snap.GetId(), snapexport.SnapshotReplicaSet)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot of %s failed: %s", cluster, stored.FailureReason)
	for _, w := range want {
		if !strings.Contains(stored.FailureReason, w) {
			t.Errorf("snapshot of %s failed for %q, want a reason naming %q", cluster, stored.FailureReason, w)
		}
	}
}

// waitSnapshotEnd reads a snapshot until it is no longer queued or in
// progress, and returns it.
func waitSnapshotEnd(t *testing.T, c *admin.APIClient, groupID, cluster, id string) *admin.DiskBackupReplicaSet {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		got, _, err := c.CloudBackupsApi.GetClusterBackupSnapshot(context.Background(), groupID, cluster, id).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if s := got.GetStatus(); s != "queued" && s != "inProgress" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %s of %s still %s after a minute", id, cluster, got.GetStatus())
		}
	}
}

// TestPointInTimeSnapshotsOfAReplicaSet binds clusters to replica sets
// played by a wire-protocol fake (no MongoDB replica set runs here): a
// snapshot reads at the set's majority commit point, which becomes its
// time, goes through a dropped connection mid-collection without losing
// or repeating a document, and exports what the set held; a snapshot that
// outlives the server's history window and one of a mongos fail, saying
// why.
func TestPointInTimeSnapshotsOfAReplicaSet(t *testing.T) {
	ctx := context.Background()
	pointInTime := time.Date(2026, 8, 10, 11, 59, 30, 0, time.UTC)
	start := func(cfg fakemongo.Config) *fakemongo.Server {
		t.Helper()
		fake, err := fakemongo.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fake.Close)
		return fake
	}
	rs := start(fakemongo.Config{Kind: fakemongo.ReplicaSet, Version: "7.0.14",
		MajorityOpTime: bson.Timestamp{T: uint32(pointInTime.Unix()), I: 3}})
	var orders []bson.D
	for i := range 250 {
		orders = append(orders, bson.D{{Key: "_id", Value: int64(i)}, {Key: "orderNo", Value: int64(1000 + i)}})
	}
	if err := rs.Add("shop", "orders", orders...); err != nil {
		t.Fatal(err)
	}
	rs.DropConnection("shop", "orders", 150, 1)
	tooOld := start(fakemongo.Config{Kind: fakemongo.ReplicaSet, MajorityOpTime: bson.Timestamp{T: uint32(pointInTime.Unix()), I: 1}, BatchSize: 10})
	if err := tooOld.Add("shop", "orders", orders...); err != nil {
		t.Fatal(err)
	}
	tooOld.Fail("getMore", "", 239, "SnapshotTooOld")
	router := start(fakemongo.Config{Kind: fakemongo.Router})

	clock := &fakeClock{}
	clock.Set(t, "2026-08-10T12:00:00Z")
	logs := &testserver.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", logs)
		}
	})
	srv := testserver.NewServer(t, testserver.Options{Now: clock.Now, Logger: slog.New(logs.JSONHandler(slog.LevelDebug))})
	c := newSDKClient(t, srv, "digest")
	g := srv.GroupID
	for name, bind := range map[string]struct {
		uri         string
		consistency snapexport.Consistency
	}{
		"Cluster0": {rs.URI(), snapexport.ConsistencyPointInTime},
		"TooOld":   {tooOld.URI(), snapexport.ConsistencyPointInTime},
		"Sharded":  {router.URI(), snapexport.ConsistencyNone},
	} {
		if _, err := srv.CreateCluster(ctx, name); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.BindCluster(ctx, name, bind.uri, bind.consistency); err != nil {
			t.Fatalf("binding %s: %v", name, err)
		}
	}

	id, takenAt := takeSnapshotWithSDK(t, c.APIClient, g, "Cluster0", false)
	if !takenAt.Equal(pointInTime) {
		t.Errorf("snapshot createdAt %v, want the replica set's majority commit point %v", takenAt, pointInTime)
	}
	stored, err := srv.Server.Service.Snapshot(ctx, g, "Cluster0", id, snapexport.SnapshotReplicaSet)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Consistency != snapexport.ConsistencyPointInTime || stored.MongodVersion != "7.0.14" || stored.Progress == nil ||
		stored.Progress.Documents != 250 {
		t.Errorf("snapshot: consistency %q, mongod %q, progress %+v; want pointInTime, 7.0.14, 250 documents",
			stored.Consistency, stored.MongodVersion, stored.Progress)
	}
	bucketID := sdkExportBucket(t, c.APIClient, g, "pit-exports")
	b := srv.OpenExportBucket(t, bucketID)
	prefix := exportWithSDK(t, c, "Cluster0", id, bucketID)
	wantOrdersExported(t, b, prefix, orders)
	if complete := readComplete(t, b, prefix, exporttest.ListKeys(t, b, prefix+"/")); complete.SnapshotInitiationDate != "2026-08-10T11:59:30.000Z" {
		t.Errorf(".complete snapshotInitiationDate %s, want the point in time", complete.SnapshotInitiationDate)
	}

	wantSnapshotFails(t, c, "TooOld", "minSnapshotHistoryWindowInSeconds")
	wantSnapshotFails(t, c, "Sharded", "mongos")
}

// TestSnapshotQueuedAgainWhileTaken: a snapshot queued again while it is
// being taken, as a server starting beside the one taking it does (or this
// server, when a request takes a snapshot while its job runner starts),
// is taken by one run and exports whole: the second job leaves it to the
// first, which holds its lease.
func TestSnapshotQueuedAgainWhileTaken(t *testing.T) {
	ctx := context.Background()
	rs, err := fakemongo.Start(fakemongo.Config{Kind: fakemongo.ReplicaSet, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	var orders []bson.D
	for i := range 2000 {
		orders = append(orders, bson.D{{Key: "_id", Value: int64(i)}, {Key: "orderNo", Value: int64(1000 + i)}})
	}
	if err := rs.Add("shop", "orders", orders...); err != nil {
		t.Fatal(err)
	}
	// The reading pauses (a retry's backoff) halfway, while the snapshot
	// is queued again.
	rs.DropConnection("shop", "orders", 1000, 1)
	logs := &testserver.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", logs)
		}
	})
	srv := testserver.NewServer(t, testserver.Options{Logger: slog.New(logs.JSONHandler(slog.LevelDebug))})
	c := newSDKClient(t, srv, "digest")
	g := srv.GroupID
	if _, err := srv.CreateCluster(ctx, "Cluster0"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.BindCluster(ctx, "Cluster0", rs.URI(), snapexport.ConsistencyNone); err != nil {
		t.Fatal(err)
	}
	snap, _, err := c.CloudBackupsApi.TakeSnapshots(ctx, g, "Cluster0", &admin.DiskBackupOnDemandSnapshotRequest{
		RetentionInDays: admin.PtrInt(1)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	requeued := 0
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		got, _, err := c.CloudBackupsApi.GetClusterBackupSnapshot(ctx, g, "Cluster0", snap.GetId()).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetStatus() == "completed" {
			break
		}
		if got.GetStatus() == "failed" || time.Now().After(deadline) {
			t.Fatalf("snapshot %s, want completed", got.GetStatus())
		}
		if err := srv.Server.Service.RequeueSnapshots(ctx); err != nil {
			t.Fatal(err)
		}
		requeued++
	}
	if requeued == 0 {
		t.Fatal("the snapshot completed before it could be queued again")
	}
	bucketID := sdkExportBucket(t, c.APIClient, g, "requeued-exports")
	b := srv.OpenExportBucket(t, bucketID)
	prefix := exportWithSDK(t, c, "Cluster0", snap.GetId(), bucketID)
	wantOrdersExported(t, b, prefix, orders)
}

// wantOrdersExported reads shop.orders back from the export at prefix and
// wants exactly orders, in order.
func wantOrdersExported(t *testing.T, b *blob.Bucket, prefix string, orders []bson.D) {
	t.Helper()
	var got []bson.Raw
	for _, key := range exporttest.ListKeys(t, b, prefix+"/shop/orders/") {
		if strings.HasSuffix(key, ".json.gz") {
			got = append(got, exporttest.ReadDocuments(t, b, key)...)
		}
	}
	if len(got) != len(orders) {
		t.Fatalf("%d documents exported, the replica set held %d", len(got), len(orders))
	}
	for i, d := range orders {
		if want, _ := bson.Marshal(d); !exporttest.SameDocument(got[i], want) {
			t.Fatalf("document %d exported as %s, want %s", i, got[i], bson.Raw(want))
		}
	}
}
