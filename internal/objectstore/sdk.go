//go:build !snapexport_localbuckets

package objectstore

import (
	"errors"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// SDKsBuiltIn is true: this build reaches buckets in every mode (built
// without -tags snapexport_localbuckets).
const SDKsBuiltIn = true

// sdkClients caches the providers' SDK clients and temporary credentials
// (per role, region and tenant); Stores.mu guards it.
type sdkClients struct {
	awsBase    *aws.Config
	awsCreds   map[string]*aws.CredentialsCache
	s3Clients  map[string]*s3.Client
	azCreds    map[string]azcore.TokenCredential
	gcsClients map[string]*storage.Client
}

func newSDKClients() sdkClients {
	return sdkClients{
		awsCreds:   map[string]*aws.CredentialsCache{},
		s3Clients:  map[string]*s3.Client{},
		azCreds:    map[string]azcore.TokenCredential{},
		gcsClients: map[string]*storage.Client{},
	}
}

func (c *sdkClients) close() error {
	var errs []error
	for k, client := range c.gcsClients {
		errs = append(errs, client.Close())
		delete(c.gcsClients, k)
	}
	return errors.Join(errs...)
}
