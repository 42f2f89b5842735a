package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapexport/snapexport/internal/testservices"
)

// TestSnapshotTakeOfABoundCluster binds clusters to a running server
// (FerretDB, a standalone server) from files holding the connection
// string and takes their snapshots with the binary beside a running
// serve: the one bound with consistency none completes with every
// document, shows its consistency and what it read; the one bound for a
// point in time fails, saying why and what to do; the password is in no
// output and no log line.
func TestSnapshotTakeOfABoundCluster(t *testing.T) {
	uri := testservices.PrivateFerretDB(t)
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	const n = 2500
	var docs []any
	for i := range n {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "sku", Value: "sku-" + strings.Repeat("x", i%50)}})
	}
	if _, err := client.Database("app").Collection("items").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "data")
	g := initBinary(t, dir).GroupID
	uriFile := filepath.Join(t.TempDir(), "uri")
	if err := os.WriteFile(uriFile, []byte(uri+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for name, consistency := range map[string]string{"Live": "none", "PointInTime": "pointInTime"} {
		res := execBinary(t, "admin", "cluster", "create", "--data", dir, "--group", g, "--name", name, "--mongodb-uri-file", uriFile,
			"--consistency", consistency)
		if res.code != 0 {
			t.Fatalf("cluster create %s: %s", name, res.stderr)
		}
		outputs = append(outputs, res.stdout, res.stderr)
	}
	serve := startServe(t, dir, "--no-rate-limit")

	res := execBinary(t, "snapshot", "take", "--data", dir, "--group", g, "--cluster", "Live", "--wait")
	outputs = append(outputs, res.stdout, res.stderr)
	if res.code != 0 || !strings.Contains(res.stdout, "completed: 1 collections, 2,500 documents") {
		t.Fatalf("take --wait of the bound cluster: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	id := strings.Fields(res.stdout)[1]
	var shown snapshotJSON
	runBinaryJSON(t, &shown, "snapshot", "show", "--data", dir, "--group", g, "--cluster", "Live", "--id", id)
	if shown.Consistency != "none" || shown.Progress == nil || shown.Progress.Documents != n || shown.MongodVersion == "" ||
		len(shown.Collections) != 1 || shown.Collections[0].Count != n {
		t.Errorf("snapshot show: %+v, want consistency none and %d documents read", shown, n)
	}
	text := execBinary(t, "snapshot", "list", "--data", dir, "--group", g, "--cluster", "Live")
	outputs = append(outputs, text.stdout, text.stderr)
	if !strings.Contains(text.stdout, id) || !strings.Contains(text.stdout, "none") {
		t.Errorf("snapshot list does not show the snapshot's consistency:\n%s", text.stdout)
	}

	res = execBinary(t, "snapshot", "take", "--data", dir, "--group", g, "--cluster", "PointInTime", "--wait")
	outputs = append(outputs, res.stdout, res.stderr)
	if res.code != 1 || !strings.Contains(res.stderr, "standalone server") || !strings.Contains(res.stderr, "--consistency none") {
		t.Errorf("take --wait of a standalone server for a point in time: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}

	outputs = append(outputs, serve.stdout.String(), serve.stderr.String())
	for _, out := range outputs {
		if strings.Contains(out, password) {
			t.Fatalf("the connection string's password shows in output or logs:\n%s", out)
		}
	}
}
