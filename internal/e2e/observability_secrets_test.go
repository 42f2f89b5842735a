package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/metrics"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// nonceRecorder records the digest nonces the server hands out.
type nonceRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

var nonceRE = regexp.MustCompile(`nonce="([^"]+)"`)

func (n *nonceRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(r)
	if err == nil {
		if m := nonceRE.FindStringSubmatch(resp.Header.Get("Www-Authenticate")); m != nil {
			n.mu.Lock()
			n.seen = append(n.seen, m[1])
			n.mu.Unlock()
		}
	}
	return resp, err
}

// TestNoSecretInLogsMetricsOrTraces runs a server with its log at DEBUG,
// metrics and traces on, through digest and OAuth calls, a refused
// credential, and a snapshot of a cluster bound to a deployment whose
// connection string has a password (the deployment cannot be reached, so
// the failure is reported too), then looks for every secret involved in
// every log line, every metric and every span: API keys, the client
// secret, access tokens, digest nonces, the server's secret key and the
// connection string's password.
func TestNoSecretInLogsMetricsOrTraces(t *testing.T) {
	var logs testserver.LogBuffer
	m := metrics.New()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	key := sha256.Sum256([]byte("the secret key of TestNoSecretInLogsMetricsOrTraces"))
	srv := testserver.NewServer(t, testserver.Options{Logger: slog.New(logs.JSONHandler(slog.LevelDebug)), Metrics: m, Tracing: tp, SecretKey: key[:]})
	ctx := context.Background()
	g := srv.GroupID

	nonces := &nonceRecorder{next: apitest.Validating(t, nil)}
	digest := digestClientVia(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey, nonces)
	if _, _, err := digest.CloudBackupsApi.ListExportBuckets(ctx, g).Execute(); err != nil {
		t.Fatal(err)
	}
	token, err := oauthConfig(srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bearer := &apitest.Client{BaseURL: srv.URL, Auth: apitest.Bearer(token.AccessToken)}
	apitest.WantStatus(t, bearer.Do(t, apitest.Request{Path: "/api/atlas/v2/groups/" + g, Accept: apitest.MediaType("2023-01-01")}), http.StatusOK)
	wrongSecret := "mdb_sa_sk_" + strings.Repeat("x", 40)
	if _, err := oauthConfig(srv, srv.ServiceAccount.ClientID, wrongSecret).Token(ctx); err == nil {
		t.Fatal("a wrong client secret got a token")
	}
	wrongKey := "11111111-2222-3333-4444-555555555555"
	if _, _, err := digestClient(t, srv, srv.APIKey.PublicKey, wrongKey).CloudBackupsApi.ListExportBuckets(ctx, g).Execute(); err == nil {
		t.Fatal("a wrong private key was accepted")
	}

	// The console's sign-ins, right and wrong, and a page of a session.
	var sessionCookies []string
	for _, c := range []struct{ kind, id, secret string }{
		{"serviceAccount", srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret},
		{"serviceAccount", srv.ServiceAccount.ClientID, wrongSecret},
		{"apiKey", srv.APIKey.PublicKey, srv.APIKey.PrivateKey},
		{"apiKey", srv.APIKey.PublicKey, wrongKey},
	} {
		if cookie := consoleSignIn(t, srv, c.kind, c.id, c.secret); cookie != "" {
			sessionCookies = append(sessionCookies, cookie)
		}
	}
	if len(sessionCookies) != 2 {
		t.Fatalf("%d console sessions, want the two with the right secrets", len(sessionCookies))
	}

	const password = "pw-of-the-deployment-7Qx"
	if _, err := srv.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: g, Name: "bound"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.BindCluster(ctx, "bound", "mongodb://backup:"+password+"@127.0.0.1:1/?connectTimeoutMS=300&serverSelectionTimeoutMS=300", snapexport.ConsistencyNone); err != nil {
		t.Fatal(err)
	}
	snap, _, err := digest.CloudBackupsApi.TakeSnapshots(ctx, g, "bound", &admin.DiskBackupOnDemandSnapshotRequest{RetentionInDays: admin.PtrInt(1)}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if ended := waitSnapshotEnd(t, digest, g, "bound", snap.GetId()); ended.GetStatus() != "failed" {
		t.Fatalf("snapshot of an unreachable deployment ended %s", ended.GetStatus())
	}

	scrape := httptest.NewServer(m.Handler())
	t.Cleanup(scrape.Close)
	metricsText := scrapeMetrics(t, scrape.URL).raw
	var spanText strings.Builder
	for _, s := range spans.GetSpans() {
		spanText.WriteString(s.Name + " " + s.Status.Description + "\n")
		for _, kv := range s.Attributes {
			spanText.WriteString(string(kv.Key) + "=" + kv.Value.Emit() + "\n")
		}
		for _, e := range s.Events {
			spanText.WriteString(e.Name + "\n")
			for _, kv := range e.Attributes {
				spanText.WriteString(string(kv.Key) + "=" + kv.Value.Emit() + "\n")
			}
		}
	}
	nonces.mu.Lock()
	secrets := map[string]string{
		"API private key": srv.APIKey.PrivateKey, "wrong API private key": wrongKey,
		"client secret": srv.ServiceAccount.ClientSecret, "wrong client secret": wrongSecret,
		"access token": token.AccessToken, "deployment password": password,
		"secret key (base64)": base64.StdEncoding.EncodeToString(key[:]), "secret key (hex)": hex.EncodeToString(key[:]),
	}
	for i, c := range sessionCookies {
		secrets["console session "+strconv.Itoa(i)] = c
	}
	for i, n := range nonces.seen {
		secrets["digest nonce "+strconv.Itoa(i)] = n
	}
	nonces.mu.Unlock()
	if len(nonces.seen) == 0 || len(spans.GetSpans()) == 0 || !strings.Contains(logs.String(), `"msg":"request"`) {
		t.Fatalf("nothing to look in: %d nonces, %d spans, log %d bytes", len(nonces.seen), len(spans.GetSpans()), len(logs.String()))
	}
	for where, text := range map[string]string{"the log": logs.String(), "the metrics": metricsText, "the spans": spanText.String()} {
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the %s", where, what)
			}
		}
	}
}

// consoleSignIn signs in to the console with its form, as a browser
// does, and returns the session cookie's value ("" when refused) once it
// has shown the projects page.
func consoleSignIn(t *testing.T, srv *testserver.Server, kind, id, secret string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	resp, err := client.Get(srv.URL + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(form)
	if m == nil {
		t.Fatalf("no token in the sign-in form: %s", form)
	}
	resp, err = client.PostForm(srv.URL+"/console/signin", url.Values{"csrf": {string(m[1])}, "kind": {kind}, "id": {id}, "secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(srv.URL + "/console/")
	for _, c := range jar.Cookies(u) {
		if c.Name == "snapexport_session" {
			if !strings.Contains(string(page), srv.GroupID) {
				t.Fatalf("signed in, the projects page lacks the project: %s", page)
			}
			return c.Value
		}
	}
	return ""
}
