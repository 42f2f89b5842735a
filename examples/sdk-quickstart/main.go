// Command sdk-quickstart drives a snapexport server with the official Atlas
// Go SDK: it authorizes an AWS cloud provider access role, creates an export
// bucket with it and lists the project's export buckets.
//
//	go run ./examples/sdk-quickstart -base-url http://127.0.0.1:8080 -creds creds.json
//
// creds.json is what `snapexport init --json` printed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

type credentials struct {
	GroupID string `json:"groupId"`
	APIKey  struct {
		PublicKey  string `json:"publicKey"`
		PrivateKey string `json:"privateKey"`
	} `json:"apiKey"`
}

func main() {
	baseURL := flag.String("base-url", "http://127.0.0.1:8080", "snapexport base URL")
	credsFile := flag.String("creds", "creds.json", "output of `snapexport init --json`")
	flag.Parse()

	data, err := os.ReadFile(*credsFile)
	if err != nil {
		log.Fatal(err)
	}
	var creds credentials
	if err := json.Unmarshal(data, &creds); err != nil {
		log.Fatalf("%s: %v", *credsFile, err)
	}

	// UseBaseURL comes first; an own *http.Client keeps the SDK away from
	// http.DefaultClient.
	client, err := admin.NewClient(
		admin.UseBaseURL(*baseURL),
		admin.UseHTTPClient(&http.Client{}),
		admin.UseDigestAuth(creds.APIKey.PublicKey, creds.APIKey.PrivateKey),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	role, _, err := client.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, creds.GroupID,
		&admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trust %s with external id %s\n", role.GetAtlasAWSAccountArn(), role.GetAtlasAssumedRoleExternalId())

	arn := "arn:aws:iam::123456789012:role/atlas-export"
	if _, _, err := client.CloudProviderAccessApi.AuthorizeProviderAccessRole(ctx, creds.GroupID, role.GetRoleId(),
		&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute(); err != nil {
		log.Fatal(err)
	}

	bucket, _, err := client.CloudBackupsApi.CreateExportBucket(ctx, creds.GroupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS",
		BucketName:    admin.PtrString("export-bucket"),
		IamRoleId:     admin.PtrString(role.GetRoleId()),
	}).Execute()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created export bucket %s (%s)\n", bucket.GetId(), bucket.GetBucketName())

	list, _, err := client.CloudBackupsApi.ListExportBuckets(ctx, creds.GroupID).Execute()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("the project has %d export bucket(s)\n", list.GetTotalCount())
}
