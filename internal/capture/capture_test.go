package capture_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapexport/snapexport/internal/capture"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

func TestMain(m *testing.M) { testservices.Main(m) }

var loc = snapshotstore.Location{ProjectID: "5f1a2b3c4d5e6f7a8b9c0d1e", SnapshotID: "6a0b1c2d3e4f5a6b7c8d9e0f"}

// codeNotImplemented is FerretDB's answer to what it does not support.
const codeNotImplemented = 238

// connect returns a client of the FerretDB server and a prefix for the
// test's databases, which it drops when the test ends (the server is
// shared by the tests of the binary).
func connect(t testing.TB) (uri string, client *mongo.Client, prefix string) {
	t.Helper()
	uri = testservices.FerretDB(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix = "t" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		names, _ := client.ListDatabaseNames(ctx, bson.D{})
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				_ = client.Database(n).Drop(ctx)
			}
		}
		_ = client.Disconnect(ctx)
	})
	return uri, client, prefix
}

func notImplemented(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(codeNotImplemented)
}

func newStore(t testing.TB) (*snapshotstore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "snapshots")
	s, err := snapshotstore.OpenDir(context.Background(), dir, snapshotstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func insert(t testing.TB, c *mongo.Collection, docs ...any) {
	t.Helper()
	if _, err := c.InsertMany(context.Background(), docs); err != nil {
		t.Fatalf("inserting into %s: %v", c.Name(), err)
	}
}

func createIndex(t testing.TB, c *mongo.Collection, model mongo.IndexModel) bool {
	t.Helper()
	_, err := c.Indexes().CreateOne(context.Background(), model)
	if notImplemented(err) {
		t.Logf("FerretDB does not support the index %v on %s: %v", model.Keys, c.Name(), err)
		return false
	}
	if err != nil {
		t.Fatalf("index on %s: %v", c.Name(), err)
	}
	return true
}

// serverDocs reads a collection back through the driver, in natural order.
func serverDocs(t testing.TB, c *mongo.Collection) [][]byte {
	t.Helper()
	cur, err := c.Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for cur.Next(context.Background()) {
		docs = append(docs, slices.Clone(cur.Current))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

func snapshotDocs(t testing.TB, s *snapshotstore.Store, m *snapshotstore.Manifest, i int) [][]byte {
	t.Helper()
	cr, err := s.OpenCollection(context.Background(), loc, m, i)
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	var docs [][]byte
	for {
		doc, err := cr.Next()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, slices.Clone(doc))
	}
}

// TestCaptureImportsEveryDocumentAndMetadata writes databases, collections
// (a capped one, an empty one, names with dots), documents of every type
// FerretDB stores and indexes, captures the server into a snapshot and
// reads the snapshot back.
func TestCaptureImportsEveryDocumentAndMetadata(t *testing.T) {
	ctx := context.Background()
	uri, client, prefix := connect(t)
	app := client.Database(prefix + "_app")

	types := app.Collection("types")
	for i := range 40 {
		insert(t, types, dumptest.FerretDBTypesDoc(i))
	}
	orders := app.Collection("orders.2024")
	var docs []any
	for i := range 250 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "orderNo", Value: int64(1000 + i)},
			{Key: "customer", Value: fmt.Sprintf("c%03d", i%17)}, {Key: "at", Value: bson.DateTime(1_700_000_000_000 + int64(i))}})
	}
	insert(t, orders, docs...)
	createIndex(t, orders, mongo.IndexModel{Keys: bson.D{{Key: "orderNo", Value: 1}}, Options: options.Index().SetUnique(true)})
	createIndex(t, orders, mongo.IndexModel{Keys: bson.D{{Key: "customer", Value: 1}, {Key: "at", Value: -1}}})
	ttl := createIndex(t, orders, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(86400)})
	if err := app.CreateCollection(ctx, "log", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20)); err != nil {
		t.Fatal(err)
	}
	insert(t, app.Collection("log"), bson.D{{Key: "msg", Value: "first"}}, bson.D{{Key: "msg", Value: "second"}})
	if err := app.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	err := app.CreateView(ctx, "bigOrders", "orders.2024", mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "orderNo", Value: bson.D{{Key: "$gt", Value: 1100}}}}}}})
	view := err == nil
	if err != nil && !notImplemented(err) {
		t.Fatal(err)
	}
	second := client.Database(prefix + "_second")
	insert(t, second.Collection("a.b.c"), bson.D{{Key: "_id", Value: "x"}, {Key: "v", Value: int32(1)}})
	insert(t, second.Collection("plain"), bson.D{{Key: "_id", Value: int32(1)}})

	src, err := capture.Open(ctx, uri, capture.Options{Collections: 3, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := src.Info(); got.Format != capture.Format || got.ServerVersion == "" || strings.Contains(got.Name, passwordOf(t, uri)) {
		t.Errorf("Info() = %+v, want format %q, a server version, and no password in the name", got, capture.Format)
	}
	store, _ := newStore(t)
	m, err := store.Import(ctx, loc, "rs0", src, nil)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]*mongo.Collection{
		app.Name() + ".types":       types,
		app.Name() + ".orders.2024": orders,
		app.Name() + ".log":         app.Collection("log"),
		app.Name() + ".empty":       app.Collection("empty"),
		second.Name() + ".a.b.c":    second.Collection("a.b.c"),
		second.Name() + ".plain":    second.Collection("plain"),
	}
	seen := map[string]bool{}
	for i, c := range m.Namespaces {
		if !strings.HasPrefix(c.DB, prefix) {
			continue // another test's, or the server's own
		}
		ns := c.DB + "." + c.Name
		coll, ok := want[ns]
		if !ok {
			t.Errorf("the snapshot holds %s, which the test did not create", ns)
			continue
		}
		seen[ns] = true
		server := serverDocs(t, coll)
		got := snapshotDocs(t, store, m, i)
		if len(got) != len(server) || c.Count != int64(len(server)) {
			t.Errorf("%s: %d documents in the snapshot (manifest count %d), the server has %d", ns, len(got), c.Count, len(server))
			continue
		}
		for j := range got {
			if !bytes.Equal(got[j], server[j]) {
				t.Errorf("%s: document %d differs:\nsnapshot %s\nserver   %s", ns, j, bson.Raw(got[j]), bson.Raw(server[j]))
				break
			}
		}
		checkMetadata(t, coll, c)
	}
	for ns := range want {
		if !seen[ns] {
			t.Errorf("the snapshot lacks %s", ns)
		}
	}

	// What a user checks of the metadata, whatever the server says.
	orderMeta := metadataOf(t, m, app.Name(), "orders.2024")
	var names []string
	for _, ix := range orderMeta.Indexes {
		names = append(names, ix.Lookup("name").StringValue())
		if ix.Lookup("name").StringValue() == "orderNo_1" && !ix.Lookup("unique").Boolean() {
			t.Errorf("orderNo_1 is not unique in the snapshot: %s", ix)
		}
		if ix.Lookup("name").StringValue() == "customer_1_at_-1" {
			keys, _ := ix.Lookup("key").Document().Elements()
			if len(keys) != 2 || keys[0].Key() != "customer" || keys[1].Key() != "at" {
				t.Errorf("the compound index lost its key order: %s", ix)
			}
		}
	}
	wantNames := []string{"_id_", "orderNo_1", "customer_1_at_-1"}
	if ttl {
		wantNames = append(wantNames, "at_1")
	}
	// Servers list indexes in an order of their own (FerretDB by name).
	slices.Sort(names)
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("indexes of orders.2024 = %v, want %v", names, wantNames)
	}
	if len(orderMeta.UUID) != 32 || orderMeta.CollectionName != "orders.2024" || orderMeta.Type != dump.TypeCollection {
		t.Errorf("orders.2024 metadata: uuid %q, collectionName %q, type %q", orderMeta.UUID, orderMeta.CollectionName, orderMeta.Type)
	}
	logMeta := metadataOf(t, m, app.Name(), "log")
	if capped, _ := logMeta.Options.Lookup("capped").BooleanOK(); !capped {
		t.Errorf("the capped collection's options are %s", logMeta.Options)
	}
	if emptyMeta := metadataOf(t, m, app.Name(), "empty"); emptyMeta.Options != nil {
		t.Errorf("an empty options document is kept: %s (mongodump omits it)", emptyMeta.Options)
	}

	var viewListed bool
	for _, c := range src.Collections() {
		if c.DB == app.Name() && c.Collection == "bigOrders" {
			viewListed = true
			if !c.IsView() || c.Metadata.Options.Lookup("viewOn").StringValue() != "orders.2024" || c.Count != 0 {
				t.Errorf("view listed as %+v", c)
			}
		}
	}
	if viewListed != view {
		t.Errorf("view listed: %v, created: %v", viewListed, view)
	}
}

// checkMetadata compares a collection's metadata in the snapshot with what
// the driver reads of the server: options, indexes and UUID.
func checkMetadata(t testing.TB, coll *mongo.Collection, c snapshotstore.Collection) {
	t.Helper()
	ctx := context.Background()
	meta, err := dump.ParseMetadata(c.Metadata)
	if err != nil {
		t.Fatalf("%s.%s: %v", c.DB, c.Name, err)
	}
	cur, err := coll.Database().ListCollections(ctx, bson.D{{Key: "name", Value: coll.Name()}})
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Next(ctx) {
		t.Fatalf("%s.%s: not listed", c.DB, c.Name)
	}
	spec := slices.Clone(cur.Current)
	_ = cur.Close(ctx)
	if opts := spec.Lookup("options").Document(); len(opts) > 5 && !bytes.Equal(opts, meta.Options) {
		t.Errorf("%s.%s: options %s, the server lists %s", c.DB, c.Name, meta.Options, opts)
	}
	if _, u, ok := spec.Lookup("info", "uuid").BinaryOK(); ok && meta.UUID != hex.EncodeToString(u) {
		t.Errorf("%s.%s: uuid %q, the server's is %x", c.DB, c.Name, meta.UUID, u)
	}
	icur, err := coll.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []bson.Raw
	for icur.Next(ctx) {
		indexes = append(indexes, slices.Clone(icur.Current))
	}
	if !slices.EqualFunc(indexes, meta.Indexes, func(a, b bson.Raw) bool { return bytes.Equal(a, b) }) {
		t.Errorf("%s.%s: indexes %v, the server lists %v", c.DB, c.Name, meta.Indexes, indexes)
	}
}

func metadataOf(t testing.TB, m *snapshotstore.Manifest, db, name string) dump.Metadata {
	t.Helper()
	for _, c := range m.Namespaces {
		if c.DB == db && c.Name == name {
			meta, err := dump.ParseMetadata(c.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			return meta
		}
	}
	t.Fatalf("no %s.%s in the snapshot", db, name)
	return dump.Metadata{}
}

// filesUnder lists the regular files below dir.
func filesUnder(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func passwordOf(t testing.TB, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := u.User.Password()
	if !ok || p == "" {
		t.Fatalf("the FerretDB URL has no password")
	}
	return p
}

// cancellingSource cancels the capture's context after its nth document.
type cancellingSource struct {
	dump.Source
	n      int
	cancel context.CancelFunc
}

func (c *cancellingSource) Next() (dump.Namespace, bson.Raw, error) {
	ns, doc, err := c.Source.Next()
	if err == nil {
		if c.n--; c.n == 0 {
			c.cancel()
		}
	}
	return ns, doc, err
}

func TestCaptureCancelledLeavesNoSnapshot(t *testing.T) {
	uri, client, prefix := connect(t)
	var docs []any
	for i := range 300 {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "pad", Value: strings.Repeat("p", 200)}})
	}
	insert(t, client.Database(prefix+"_big").Collection("docs"), docs...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := capture.Open(ctx, uri, capture.Options{BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	store, dir := newStore(t)
	_, err = store.Import(ctx, loc, "rs0", &cancellingSource{Source: src, n: 50, cancel: cancel}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Import of a cancelled capture = %v, want context.Canceled", err)
	}
	if _, err := store.Manifest(context.Background(), loc); !errors.Is(err, snapshotstore.ErrNotFound) {
		t.Errorf("Manifest after a cancelled capture = %v, want ErrNotFound", err)
	}
	if files := filesUnder(t, dir); len(files) != 0 {
		t.Errorf("a cancelled capture left %v", files)
	}
	if _, _, err := src.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancellation = %v, want context.Canceled again", err)
	}
}

func TestCaptureUnreachable(t *testing.T) {
	dead := strings.Replace(testservices.DeadEndpoint(t), "http://", "mongodb://someone:s3cr3t-pw@", 1) + "/"
	_, err := capture.Open(context.Background(), dead, capture.Options{ServerSelectionTimeout: 2 * time.Second})
	if !errors.Is(err, capture.ErrUnreachable) {
		t.Fatalf("Open of a URI nothing answers = %v, want ErrUnreachable", err)
	}
	host := strings.TrimPrefix(strings.TrimSuffix(dead, "/"), "mongodb://someone:s3cr3t-pw@")
	if msg := err.Error(); strings.Contains(msg, "s3cr3t-pw") || !strings.Contains(msg, host) || !strings.Contains(msg, "cannot be reached") {
		t.Errorf("error %q: want the address %s, the reason, and no password", msg, host)
	}
}

func TestCaptureWrongPassword(t *testing.T) {
	uri, _, _ := connect(t)
	password := passwordOf(t, uri)
	wrong := strings.Replace(uri, ":"+password+"@", ":not-the-Password-42@", 1)
	_, err := capture.Open(context.Background(), wrong, capture.Options{ServerSelectionTimeout: 5 * time.Second})
	if !errors.Is(err, capture.ErrAuthentication) {
		t.Fatalf("Open with a wrong password = %v, want ErrAuthentication", err)
	}
	if msg := err.Error(); strings.Contains(msg, "not-the-Password-42") || strings.Contains(msg, password) || !strings.Contains(msg, "authentication refused") {
		t.Errorf("error %q: want the reason and no password", msg)
	}
}

func TestCaptureRefusesAnInvalidURI(t *testing.T) {
	_, err := capture.Open(context.Background(), "mongodb://user:s3cr3t@host:notaport/", capture.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "connection string") {
		t.Errorf("Open of an invalid URI = %v, want an error naming the connection string without its password", err)
	}
}

func TestCaptureUntrustedCertificate(t *testing.T) {
	// A TLS server whose certificate no authority the client knows signed.
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	uri := "mongodb://someone:s3cr3t-pw@" + strings.TrimPrefix(srv.URL, "https://") + "/?tls=true"
	_, err := capture.Open(context.Background(), uri, capture.Options{ServerSelectionTimeout: 2 * time.Second})
	if !errors.Is(err, capture.ErrTLS) {
		t.Fatalf("Open of a server with an untrusted certificate = %v, want ErrTLS", err)
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t-pw") || !strings.Contains(msg, "TLS") {
		t.Errorf("error %q: want the reason and no password", msg)
	}
}
