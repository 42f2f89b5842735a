package snapexporttest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/snapexport/snapexport/snapexporttest"
)

// A test server driven by the official Atlas Go SDK: authorize an AWS cloud
// provider access role, then register an export bucket that uses it. In a
// test, snapexporttest.NewServer(t) does Start and Close for you.
func Example() {
	ctx := context.Background()
	srv, err := snapexporttest.Start(ctx, snapexporttest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// UseBaseURL comes first; an own *http.Client keeps the SDK away from
	// http.DefaultClient.
	client, err := admin.NewClient(
		admin.UseBaseURL(srv.URL),
		admin.UseHTTPClient(&http.Client{}),
		admin.UseDigestAuth(srv.APIKey.PublicKey, srv.APIKey.PrivateKey),
	)
	if err != nil {
		log.Fatal(err)
	}

	role, _, err := client.CloudProviderAccessApi.CreateCloudProviderAccess(ctx, srv.GroupID,
		&admin.CloudProviderAccessRoleRequest{ProviderName: "AWS"}).Execute()
	if err != nil {
		log.Fatal(err)
	}
	_, authorized := role.GetAuthorizedDateOk()
	fmt.Printf("created %s role, authorized: %t\n", role.GetProviderName(), authorized)

	// The customer creates an IAM role trusting role.GetAtlasAWSAccountArn()
	// with external id role.GetAtlasAssumedRoleExternalId(), then:
	arn := "arn:aws:iam::123456789012:role/atlas-export"
	role, _, err = client.CloudProviderAccessApi.AuthorizeProviderAccessRole(ctx, srv.GroupID, role.GetRoleId(),
		&admin.CloudProviderAccessRoleRequestUpdate{ProviderName: "AWS", IamAssumedRoleArn: &arn}).Execute()
	if err != nil {
		log.Fatal(err)
	}
	_, authorized = role.GetAuthorizedDateOk()
	fmt.Printf("authorized %s: %t\n", role.GetIamAssumedRoleArn(), authorized)

	bucket, _, err := client.CloudBackupsApi.CreateExportBucket(ctx, srv.GroupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS",
		BucketName:    admin.PtrString("export-bucket"),
		IamRoleId:     admin.PtrString(role.GetRoleId()),
	}).Execute()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("export bucket %s on %s, through the role: %t\n",
		bucket.GetBucketName(), bucket.GetCloudProvider(), bucket.GetIamRoleId() == role.GetRoleId())

	list, _, err := client.CloudBackupsApi.ListExportBuckets(ctx, srv.GroupID).Execute()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("the project has %d export bucket(s)\n", list.GetTotalCount())

	// Output:
	// created AWS role, authorized: false
	// authorized arn:aws:iam::123456789012:role/atlas-export: true
	// export bucket export-bucket on AWS, through the role: true
	// the project has 1 export bucket(s)
}
