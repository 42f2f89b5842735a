package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestTracesOfAnExport collects the spans of an export (the SDK's
// in-memory exporter in place of an OTLP collector): the request that
// creates it, named by its operation and carrying its request id, with
// its store transactions as children; the export job's run, with one
// child span per collection it writes; a client's traceparent continued.
// No span attribute holds a credential.
func TestTracesOfAnExport(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	srv := testserver.NewServer(t, testserver.Options{Tracing: tp})
	ctx := context.Background()
	c := digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey)
	g := srv.GroupID
	ds := dumptest.Generate(dumptest.Options{Seed: 41, DocsPerCollection: 20})
	res := importedCluster(t, srv, "Cluster0", ds)
	bucketID := sdkExportBucket(t, c, g, "traced-bucket")
	created, resp, err := c.CloudBackupsApi.CreateBackupExport(ctx, g, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: res.Snapshot.ID, ExportBucketId: bucketID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	requestID := resp.Header.Get("X-Request-Id")
	waitExport(t, srv, c, g, "Cluster0", created.GetId(), "Successful")

	// A request that continues a client's trace.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	token, err := oauthConfig(srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bearer := &apitest.Client{BaseURL: srv.URL, Auth: apitest.Bearer(token.AccessToken)}
	got := bearer.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + g, Accept: apitest.MediaType("2023-01-01"),
		Header: http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}}})
	apitest.WantStatus(t, got, http.StatusOK)

	all := spans.GetSpans()
	attr := func(s tracetest.SpanStub, key string) string {
		for _, kv := range s.Attributes {
			if string(kv.Key) == key {
				return kv.Value.Emit()
			}
		}
		return ""
	}
	var create tracetest.SpanStub
	for _, s := range all {
		if s.Name == "createGroupClusterBackupExport" && attr(s, "http.response.status_code") == "200" {
			create = s
		}
	}
	if !create.SpanContext.IsValid() {
		t.Fatalf("no span of the create request among %d spans", len(all))
	}
	if attr(create, "snapexport.request_id") != requestID || requestID == "" || attr(create, "snapexport.api_version") != "2023-01-01" {
		t.Errorf("create request span: request id %q (answered %q), version %q", attr(create, "snapexport.request_id"), requestID, attr(create, "snapexport.api_version"))
	}
	children := func(parent tracetest.SpanStub, name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range all {
			if s.Name == name && s.Parent.SpanID() == parent.SpanContext.SpanID() && s.SpanContext.TraceID() == parent.SpanContext.TraceID() {
				out = append(out, s)
			}
		}
		return out
	}
	// Its project was read by earlier requests and is kept: the create is
	// one write.
	if len(children(create, "store write")) == 0 {
		t.Errorf("the create request's span has no store write as a child")
	}
	var job tracetest.SpanStub
	for _, s := range all {
		if s.Name == "export job" && attr(s, "snapexport.export_id") == created.GetId() {
			job = s
		}
	}
	if !job.SpanContext.IsValid() || attr(job, "snapexport.snapshot_id") != res.Snapshot.ID || attr(job, "snapexport.group_id") != g {
		t.Fatalf("export job span %+v", job)
	}
	cols := children(job, "export collection")
	if want := len(exporttest.ExportedCollections(ds)); len(cols) != want {
		t.Errorf("%d collection spans under the export job's, want %d", len(cols), want)
	}
	var docs int64
	for _, s := range cols {
		for _, kv := range s.Attributes {
			if kv.Key == attribute.Key("snapexport.documents") {
				docs += kv.Value.AsInt64()
			}
		}
	}
	if want, _ := exportedDocuments(ds); docs != want {
		t.Errorf("collection spans count %d documents, want %d", docs, want)
	}
	continued := false
	for _, s := range all {
		if s.Name == "getProject" && s.SpanContext.TraceID().String() == traceID {
			continued = true
		}
	}
	if !continued {
		t.Errorf("no getProject span in the client's trace %s", traceID)
	}
	for _, s := range all {
		for _, kv := range s.Attributes {
			v := kv.Value.Emit()
			for _, secret := range []string{srv.APIKey.PrivateKey, srv.ServiceAccount.ClientSecret, token.AccessToken} {
				if strings.Contains(v, secret) {
					t.Errorf("span %s attribute %s holds a credential", s.Name, kv.Key)
				}
			}
		}
	}
}
