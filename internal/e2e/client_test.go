package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/atlas-sdk/v20250312020/auth"
	"go.mongodb.org/atlas-sdk/v20250312020/auth/clientcredentials"

	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/testserver"
)

// digestClient returns an SDK client authenticating with the server's API
// key, every response checked against our OpenAPI document.
func digestClient(t *testing.T, srv *testserver.Server, publicKey, privateKey string) *admin.APIClient {
	t.Helper()
	return digestClientVia(t, srv, publicKey, privateKey, apitest.Validating(t, nil))
}

// digestClientVia is digestClient sending its requests through rt, which
// should end in apitest.Validating.
func digestClientVia(t *testing.T, srv *testserver.Server, publicKey, privateKey string, rt http.RoundTripper) *admin.APIClient {
	t.Helper()
	// admin.UseDigestAuth would replace the HTTP client with one on
	// http.DefaultTransport, bypassing rt; this is the same digest
	// transport on top of rt.
	c, err := admin.NewClient(
		admin.UseBaseURL(srv.URL),
		admin.UseHTTPClient(&http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(publicKey, privateKey, rt)}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oauthClient returns an SDK client authenticating as a service account.
// The token client is built by hand so that the SDK's OAuth modifier does
// not replace http.DefaultClient's transport.
func oauthClient(t *testing.T, srv *testserver.Server, clientID, clientSecret string) *admin.APIClient {
	t.Helper()
	return oauthClientVia(t, srv, clientID, clientSecret, apitest.Validating(t, nil))
}

// oauthClientVia is oauthClient sending its token requests and API calls
// through rt, which should end in apitest.Validating.
func oauthClientVia(t *testing.T, srv *testserver.Server, clientID, clientSecret string, rt http.RoundTripper) *admin.APIClient {
	t.Helper()
	cfg := oauthConfig(srv, clientID, clientSecret)
	// The token requests and, through oauth2's transport, the API calls
	// go through this client's transport.
	ctx := context.WithValue(context.Background(), auth.HTTPClient, &http.Client{Transport: rt})
	httpClient := cfg.Client(ctx)
	c, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(httpClient))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oauthConfig is the SDK's client-credentials configuration with the
// token and revoke URLs of srv.
func oauthConfig(srv *testserver.Server, clientID, clientSecret string) *clientcredentials.Config {
	cfg := clientcredentials.NewConfig(clientID, clientSecret)
	cfg.TokenURL = srv.URL + clientcredentials.TokenAPIPath
	cfg.RevokeURL = srv.URL + clientcredentials.RevokeAPIPath
	return cfg
}

// bootstrapClients are SDK clients of srv's bootstrap API key and service
// account, by authentication mode.
func bootstrapClients(t *testing.T, srv *testserver.Server) map[string]*admin.APIClient {
	t.Helper()
	return map[string]*admin.APIClient{
		"digest": digestClient(t, srv, srv.APIKey.PublicKey, srv.APIKey.PrivateKey),
		"oauth":  oauthClient(t, srv, srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret),
	}
}

func TestSDKSmoke(t *testing.T) {
	srv := testserver.NewServer(t)
	ctx := context.Background()
	for name, c := range bootstrapClients(t, srv) {
		t.Run(name, func(t *testing.T) {
			role, _, err := c.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, srv.GroupID, &admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
			if err != nil {
				t.Fatal(err)
			}
			arn := "arn:aws:iam::123456789012:role/export"
			_, _, err = c.CloudProviderAccessApi.AuthorizeProviderAccessRole(ctx, srv.GroupID, role.GetRoleId(), &admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute()
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, srv.GroupID, &admin.DiskBackupSnapshotExportBucketRequest{
				BucketName: admin.PtrString("export-bucket"), CloudProvider: "AWS", IamRoleId: admin.PtrString(role.GetRoleId()),
			}).Execute()
			if err != nil {
				t.Fatal(err)
			}
			list, _, err := c.CloudBackupsApi.ListExportBuckets(ctx, srv.GroupID).Execute()
			if err != nil {
				t.Fatal(err)
			}
			t.Log(b.GetId(), list.GetTotalCount())
			if _, err := c.CloudBackupsApi.DeleteExportBucket(ctx, srv.GroupID, b.GetId()).Execute(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
