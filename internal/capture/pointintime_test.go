package capture_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/snapexport/snapexport/internal/capture"
	"github.com/snapexport/snapexport/internal/fakemongo"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// The point-in-time path is verified against fakemongo, at the level of
// the commands the driver sends: no replica set runs where the tests run.

var (
	majority  = bson.Timestamp{T: 1_765_000_000, I: 7}
	operation = bson.Timestamp{T: 1_765_000_040, I: 2}
	gossiped  = bson.Timestamp{T: 1_765_000_050, I: 1}
)

func startFake(t testing.TB, cfg fakemongo.Config) *fakemongo.Server {
	t.Helper()
	srv, err := fakemongo.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// numbered makes n documents of collection name.
func numbered(name string, n int) []bson.D {
	docs := make([]bson.D, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "of", Value: name}}
	}
	return docs
}

func addDocs(t testing.TB, srv *fakemongo.Server, db, coll string, docs []bson.D) {
	t.Helper()
	if err := srv.Add(db, coll, docs...); err != nil {
		t.Fatal(err)
	}
}

// commands records what the driver sends and the cursors it gets back.
type commands struct {
	mu      sync.Mutex
	started []sentCommand
	replies map[int64]bson.Raw // by request ID
}

type sentCommand struct {
	name, db  string
	requestID int64
	body      bson.Raw
}

func (c *commands) monitor() *event.CommandMonitor {
	c.replies = map[int64]bson.Raw{}
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.started = append(c.started, sentCommand{name: e.CommandName, db: e.DatabaseName, requestID: e.RequestID, body: slices.Clone(e.Command)})
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.replies[e.RequestID] = slices.Clone(e.Reply)
		},
	}
}

func (c *commands) named(name string) []sentCommand {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sentCommand
	for _, s := range c.started {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

func (c *commands) reply(s sentCommand) (bson.Raw, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.replies[s.requestID]
	return r, ok
}

// capturedDocs imports src and returns every collection's documents, by
// "db.collection", in the order the snapshot keeps them.
func capturedDocs(t testing.TB, src *capture.Source) map[string][][]byte {
	t.Helper()
	store, _ := newStore(t)
	m, err := store.Import(context.Background(), loc, "rs0", src, nil)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	got := map[string][][]byte{}
	for i, c := range m.Namespaces {
		got[c.DB+"."+c.Name] = snapshotDocs(t, store, m, i)
	}
	return got
}

func sameDocs(t testing.TB, ns string, got [][]byte, want []bson.D) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d documents captured, want %d", ns, len(got), len(want))
		return
	}
	for i, d := range want {
		raw, _ := bson.Marshal(d)
		if !bytes.Equal(got[i], raw) {
			t.Errorf("%s: document %d is %s, want %s (each document once, in natural order)", ns, i, bson.Raw(got[i]), bson.Raw(raw))
			return
		}
	}
}

func TestPointInTimeReadsEveryDocumentAtOneClusterTime(t *testing.T) {
	srv := startFake(t, fakemongo.Config{Kind: fakemongo.ReplicaSet, MajorityOpTime: majority, OperationTime: operation, ClusterTime: gossiped})
	want := map[string][]bson.D{
		"app.orders":    numbered("orders", 23),
		"app.customers": numbered("customers", 9),
		"crm.notes":     numbered("notes", 4),
	}
	for ns, docs := range want {
		db, coll, _ := strings.Cut(ns, ".")
		addDocs(t, srv, db, coll, docs)
	}
	var sent commands
	src, err := capture.Open(context.Background(), srv.URI(), capture.Options{PointInTime: true, BatchSize: 4, Collections: 2, Monitor: sent.monitor()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := src.ClusterTime(); got != majority {
		t.Errorf("ClusterTime() = %v, want the majority commit point %v", got, majority)
	}
	if got, want := src.PointInTime(), time.Unix(int64(majority.T), 0).UTC(); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("PointInTime() = %v, want %v", got, want)
	}
	got := capturedDocs(t, src)
	for ns, docs := range want {
		sameDocs(t, ns, got[ns], docs)
	}

	finds := sent.named("find")
	if len(finds) != len(want) {
		t.Errorf("%d finds sent, want one per collection (%d)", len(finds), len(want))
	}
	cursors := map[int64]bool{}
	for _, f := range finds {
		level, _ := f.body.Lookup("readConcern", "level").StringValueOK()
		at, i, ok := f.body.Lookup("readConcern", "atClusterTime").TimestampOK()
		if level != "snapshot" || !ok || (bson.Timestamp{T: at, I: i}) != majority {
			t.Errorf("find %s carries readConcern %s, want level snapshot at %v", f.body.Lookup("find"), f.body.Lookup("readConcern"), majority)
		}
		if reply, ok := sent.reply(f); ok {
			if id, _ := reply.Lookup("cursor", "id").Int64OK(); id != 0 {
				cursors[id] = true
			}
		}
	}
	getMores := sent.named("getMore")
	if len(getMores) == 0 {
		t.Fatal("no getMore sent: the batches do not exercise the cursors")
	}
	for _, g := range getMores {
		if id, _ := g.body.Lookup("getMore").Int64OK(); !cursors[id] {
			t.Errorf("getMore of cursor %d, which no snapshot find opened (%v)", id, cursors)
		}
	}
}

func TestPointInTimeChoosesTheClusterTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  fakemongo.Config
		want bson.Timestamp
	}{
		{"majority commit point first", fakemongo.Config{MajorityOpTime: majority, OperationTime: operation, ClusterTime: gossiped}, majority},
		{"else the operation time", fakemongo.Config{OperationTime: operation, ClusterTime: gossiped}, operation},
		{"else the gossiped cluster time", fakemongo.Config{ClusterTime: gossiped}, gossiped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, tc.cfg)
			addDocs(t, srv, "app", "c", numbered("c", 3))
			var sent commands
			src, err := capture.Open(context.Background(), srv.URI(), capture.Options{PointInTime: true, Monitor: sent.monitor()})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.ClusterTime() != tc.want {
				t.Errorf("ClusterTime() = %v, want %v", src.ClusterTime(), tc.want)
			}
			sameDocs(t, "app.c", capturedDocs(t, src)["app.c"], numbered("c", 3))
			for _, f := range sent.named("find") {
				at, i, _ := f.body.Lookup("readConcern", "atClusterTime").TimestampOK()
				if (bson.Timestamp{T: at, I: i}) != tc.want {
					t.Errorf("find at %v, want %v", bson.Timestamp{T: at, I: i}, tc.want)
				}
			}
		})
	}
}

func TestPointInTimeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cfg         fakemongo.Config
		pointInTime bool
		wants       []string
	}{
		{"standalone", fakemongo.Config{Kind: fakemongo.Standalone, OperationTime: operation}, true,
			[]string{"standalone", "no snapshot history", "--consistency none"}},
		{"version 4.4", fakemongo.Config{Version: "4.4.29", MajorityOpTime: majority}, true,
			[]string{"4.4.29", "MongoDB 5.0 or later", "--consistency none"}},
		{"no cluster time", fakemongo.Config{}, true,
			[]string{"no cluster time", "--consistency none"}},
		{"mongos", fakemongo.Config{Kind: fakemongo.Router, OperationTime: operation}, true,
			[]string{"mongos", "sharded cluster", "not supported"}},
		{"mongos without a point in time", fakemongo.Config{Kind: fakemongo.Router}, false,
			[]string{"mongos", "sharded cluster", "not supported"}},
		{"mongos that answers only isMaster", fakemongo.Config{Kind: fakemongo.Router, Version: "4.0.28", NoHello: true}, false,
			[]string{"mongos", "sharded cluster", "not supported"}},
		{"replica set that answers only isMaster", fakemongo.Config{Version: "4.2.25", NoHello: true, MajorityOpTime: majority}, true,
			[]string{"4.2.25", "MongoDB 5.0 or later", "--consistency none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, tc.cfg)
			addDocs(t, srv, "app", "c", numbered("c", 3))
			var sent commands
			_, err := capture.Open(context.Background(), srv.URI(), capture.Options{PointInTime: tc.pointInTime, Monitor: sent.monitor()})
			if !errors.Is(err, capture.ErrRefused) {
				t.Fatalf("Open = %v, want ErrRefused", err)
			}
			for _, want := range tc.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			if finds := sent.named("find"); len(finds) != 0 {
				t.Errorf("a refused deployment was read: %d finds", len(finds))
			}
		})
	}
}

func TestWithoutPointInTimeStandaloneAndOldServersAreRead(t *testing.T) {
	for _, cfg := range []fakemongo.Config{{Kind: fakemongo.Standalone}, {Version: "4.4.29"}, {Version: "4.0.28", NoHello: true}} {
		t.Run(fmt.Sprintf("kind %d version %q", cfg.Kind, cfg.Version), func(t *testing.T) {
			srv := startFake(t, cfg)
			addDocs(t, srv, "app", "c", numbered("c", 12))
			var sent commands
			src, err := capture.Open(context.Background(), srv.URI(), capture.Options{BatchSize: 5, Monitor: sent.monitor()})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			sameDocs(t, "app.c", capturedDocs(t, src)["app.c"], numbered("c", 12))
			if !src.PointInTime().IsZero() || !src.ClusterTime().IsZero() {
				t.Errorf("PointInTime() = %v, ClusterTime() = %v without a point in time, want zeros", src.PointInTime(), src.ClusterTime())
			}
			for _, f := range sent.named("find") {
				if rc := f.body.Lookup("readConcern"); rc.Type != 0 {
					t.Errorf("find without a point in time carries readConcern %s", rc)
				}
			}
		})
	}
}

// openFailing opens a point-in-time capture of a replica set whose
// collection app.c holds n documents and which answers every command
// named command with the error code and its name.
func openFailing(t testing.TB, command string, code int, name string, n int, opts capture.Options) *capture.Source {
	t.Helper()
	srv := startFake(t, fakemongo.Config{MajorityOpTime: majority})
	addDocs(t, srv, "app", "c", numbered("c", n))
	srv.Fail(command, "", code, name)
	opts.PointInTime = true
	src, err := capture.Open(context.Background(), srv.URI(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestPointInTimeSnapshotTooOldLeavesNoSnapshot(t *testing.T) {
	src := openFailing(t, "getMore", 239, "SnapshotTooOld", 30, capture.Options{BatchSize: 5})
	store, dir := newStore(t)
	_, err := store.Import(context.Background(), loc, "rs0", src, nil)
	if !errors.Is(err, capture.ErrSnapshotTooOld) {
		t.Fatalf("Import = %v, want ErrSnapshotTooOld", err)
	}
	for _, want := range []string{"minSnapshotHistoryWindowInSeconds", "app.c", "duration of"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, err := store.Manifest(context.Background(), loc); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Errorf("Manifest after SnapshotTooOld = %v, want ErrNotFound", err)
	}
	if files := filesUnder(t, dir); len(files) != 0 {
		t.Errorf("a failed capture left %v", files)
	}
}

func TestPointInTimeRefusedSnapshotRead(t *testing.T) {
	src := openFailing(t, "find", 72, "InvalidOptions", 3, capture.Options{})
	_, _, err := src.Next()
	if !errors.Is(err, capture.ErrRefused) {
		t.Fatalf("Next = %v, want ErrRefused", err)
	}
	for _, want := range []string{"does not give snapshot reads", "--consistency none"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestPointInTimeRefusalAfterSnapshotReadsIsNotTakenForTheirLack(t *testing.T) {
	src := openFailing(t, "getMore", 72, "InvalidOptions", 10, capture.Options{BatchSize: 4})
	var err error
	for err == nil {
		_, _, err = src.Next()
	}
	if err == io.EOF || errors.Is(err, capture.ErrRefused) || !strings.Contains(err.Error(), "InvalidOptions") {
		t.Fatalf("Next = %v, want the server's InvalidOptions, not ErrRefused: the find at the cluster time was answered", err)
	}
}

func TestPointInTimeCollectionNewerThanTheClusterTime(t *testing.T) {
	var sent commands
	src := openFailing(t, "find", 246, "SnapshotUnavailable", 3, capture.Options{RetryBackoff: time.Millisecond, Monitor: sent.monitor()})
	_, _, err := src.Next()
	if !errors.Is(err, capture.ErrSnapshotUnavailable) || !strings.Contains(err.Error(), "app.c") || !strings.Contains(err.Error(), "new capture") {
		t.Fatalf("Next = %v, want ErrSnapshotUnavailable naming app.c and a new capture", err)
	}
	if finds := sent.named("find"); len(finds) != 1 {
		t.Errorf("%d finds, want 1: reading again at the same time gives the same answer", len(finds))
	}
}

func TestPointInTimeUnauthorizedDatabase(t *testing.T) {
	srv := startFake(t, fakemongo.Config{MajorityOpTime: majority})
	addDocs(t, srv, "secret", "c", numbered("c", 3))
	srv.Fail("listCollections", "secret", 13, "Unauthorized")
	_, err := capture.Open(context.Background(), srv.URI(), capture.Options{PointInTime: true})
	if !errors.Is(err, capture.ErrUnauthorized) || !strings.Contains(err.Error(), "database secret") {
		t.Fatalf("Open = %v, want ErrUnauthorized naming database secret", err)
	}
}

func TestPointInTimeRetriesADroppedConnectionAtTheSameTime(t *testing.T) {
	for _, pointInTime := range []bool{true, false} {
		t.Run(fmt.Sprintf("point in time %v", pointInTime), func(t *testing.T) { testRetriesADroppedConnection(t, pointInTime) })
	}
}

func testRetriesADroppedConnection(t *testing.T, pointInTime bool) {
	srv := startFake(t, fakemongo.Config{MajorityOpTime: majority})
	docs := numbered("c", 20)
	addDocs(t, srv, "app", "c", docs)
	addDocs(t, srv, "app", "other", numbered("other", 6))
	// The getMore that would hand out documents 8 to 11 closes the
	// connection instead.
	srv.DropConnection("app", "c", 8, 1)
	var sent commands
	src, err := capture.Open(context.Background(), srv.URI(), capture.Options{PointInTime: pointInTime, BatchSize: 4, RetryBackoff: time.Millisecond, Monitor: sent.monitor()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := capturedDocs(t, src)
	sameDocs(t, "app.c", got["app.c"], docs)
	sameDocs(t, "app.other", got["app.other"], numbered("other", 6))

	var finds []sentCommand
	for _, f := range sent.named("find") {
		if name, _ := f.body.Lookup("find").StringValueOK(); name == "c" {
			finds = append(finds, f)
		}
	}
	if len(finds) != 2 {
		t.Fatalf("%d finds of app.c, want the first and one retry", len(finds))
	}
	retry := finds[1].body
	if skip, ok := retry.Lookup("skip").AsInt64OK(); !ok || skip != 8 {
		t.Errorf("the retried find skips %s, want the 8 documents handed out", retry.Lookup("skip"))
	}
	at, i, _ := retry.Lookup("readConcern", "atClusterTime").TimestampOK()
	level, _ := retry.Lookup("readConcern", "level").StringValueOK()
	switch {
	case pointInTime && (level != "snapshot" || (bson.Timestamp{T: at, I: i}) != majority):
		t.Errorf("the retried find reads at %s, want snapshot at %v", retry.Lookup("readConcern"), majority)
	case !pointInTime && retry.Lookup("readConcern").Type != 0:
		t.Errorf("the retried find without a point in time carries readConcern %s", retry.Lookup("readConcern"))
	}
	if hint := retry.Lookup("hint", "$natural"); hint.Type == 0 {
		t.Errorf("the retried find has no natural-order hint: %s", retry)
	}
}

func TestPointInTimeGivesUpAfterTheRetries(t *testing.T) {
	srv := startFake(t, fakemongo.Config{MajorityOpTime: majority})
	addDocs(t, srv, "app", "c", numbered("c", 20))
	srv.DropConnection("app", "c", 8, 3)
	var sent commands
	src, err := capture.Open(context.Background(), srv.URI(), capture.Options{PointInTime: true, BatchSize: 4, Retries: 2, RetryBackoff: time.Millisecond, Monitor: sent.monitor()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var n int
	for {
		_, _, err = src.Next()
		if err != nil {
			break
		}
		n++
	}
	if err == io.EOF || !errors.Is(err, capture.ErrUnreachable) || !strings.Contains(err.Error(), "app.c") {
		t.Fatalf("Next after %d documents = %v, want ErrUnreachable naming app.c", n, err)
	}
	if n != 8 {
		t.Errorf("%d documents handed out before the failure, want the 8 before the dropped batch, once each", n)
	}
	if finds := sent.named("find"); len(finds) != 3 {
		t.Errorf("%d finds, want the first and 2 retries", len(finds))
	}
}

func TestPointInTimeRefusesFerretDB(t *testing.T) {
	uri, _, _ := connect(t)
	_, err := capture.Open(context.Background(), uri, capture.Options{PointInTime: true})
	if !errors.Is(err, capture.ErrRefused) || !strings.Contains(err.Error(), "standalone") || !strings.Contains(err.Error(), "--consistency none") {
		t.Fatalf("Open of FerretDB with a point in time = %v, want ErrRefused naming a standalone server and --consistency none", err)
	}
	if strings.Contains(err.Error(), passwordOf(t, uri)) {
		t.Errorf("error %q shows the password", err)
	}
}
