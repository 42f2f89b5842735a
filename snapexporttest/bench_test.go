package snapexporttest_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	sdkauth "go.mongodb.org/atlas-sdk/v20250312020/auth"
	"go.mongodb.org/atlas-sdk/v20250312020/auth/clientcredentials"

	"github.com/snapexport/snapexport/snapexporttest"
)

// BenchmarkStart measures what a test pays for a server: Start (data
// directory, migrations, init with its credentials, listener) and Close.
// Start-up must stay under 50 ms; start-ms/op and max-start-ms report the
// Start part alone.
//
//	go test -run '^$' -bench Start -benchtime 50x ./snapexporttest/
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	var starts []time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, err := snapexporttest.Start(ctx, snapexporttest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		starts = append(starts, time.Since(t0))
		s.Close()
	}
	b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms/op")
	var sum time.Duration
	for _, d := range starts {
		sum += d
	}
	b.ReportMetric(ms(sum)/float64(len(starts)), "start-ms/op")
	b.ReportMetric(ms(slices.Max(starts)), "max-start-ms")
}

// BenchmarkCreateBucket registers an AWS export bucket per operation through
// the Atlas Go SDK: over HTTP Digest (each call answers a challenge first,
// as the SDK's digest transport does) and with an OAuth bearer token.
func BenchmarkCreateBucket(b *testing.B) {
	forEachClient(b, func(b *testing.B, c *admin.APIClient, groupID, roleID string) {
		ctx := context.Background()
		var i int
		run(b, func() error {
			i++
			_, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
				CloudProvider: "AWS", BucketName: admin.PtrString(fmt.Sprintf("bench-%d", i)), IamRoleId: admin.PtrString(roleID),
			}).Execute()
			return err
		})
	})
}

// BenchmarkGetBucket reads one export bucket per operation.
func BenchmarkGetBucket(b *testing.B) {
	forEachClient(b, func(b *testing.B, c *admin.APIClient, groupID, roleID string) {
		ctx := context.Background()
		bucket, _, err := c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
			CloudProvider: "AWS", BucketName: admin.PtrString("bench"), IamRoleId: admin.PtrString(roleID),
		}).Execute()
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() error {
			_, _, err := c.CloudBackupsApi.GetExportBucket(ctx, groupID, bucket.GetId()).Execute()
			return err
		})
	})
}

// run times op b.N times and reports requests per second besides ns/op.
func run(b *testing.B, op func() error) {
	b.Helper()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// forEachClient runs bench as a sub-benchmark per authentication method,
// each on its own server (rate limits off) with an authorized AWS role.
func forEachClient(b *testing.B, bench func(b *testing.B, c *admin.APIClient, groupID, roleID string)) {
	for _, method := range []string{"digest", "bearer"} {
		b.Run(method, func(b *testing.B) {
			srv := snapexporttest.NewServer(b, snapexporttest.Options{RateLimits: &snapexporttest.RateLimits{Disabled: true}})
			var c *admin.APIClient
			var err error
			switch method {
			case "digest":
				c, err = admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(&http.Client{}),
					admin.UseDigestAuth(srv.APIKey.PublicKey, srv.APIKey.PrivateKey))
			case "bearer":
				cfg := clientcredentials.NewConfig(srv.ServiceAccount.ClientID, srv.ServiceAccount.ClientSecret)
				cfg.TokenURL = srv.URL + clientcredentials.TokenAPIPath
				cfg.RevokeURL = srv.URL + clientcredentials.RevokeAPIPath
				// An own *http.Client keeps oauth2 away from http.DefaultClient.
				ctx := context.WithValue(context.Background(), sdkauth.HTTPClient, &http.Client{})
				c, err = admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(cfg.Client(ctx)))
			}
			if err != nil {
				b.Fatal(err)
			}
			bench(b, c, srv.GroupID, authorizedAWSRole(b, c, srv.GroupID, "arn:aws:iam::123456789012:role/bench"))
		})
	}
}
