//go:build snapexport_localbuckets

package objectstore

import (
	"context"
	"errors"

	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
)

// SDKsBuiltIn is false: this build (-tags snapexport_localbuckets) has no
// provider's SDK, only ModeLocal.
const SDKsBuiltIn = false

// sdkClients is empty: no SDK is built in.
type sdkClients struct{}

func newSDKClients() sdkClients  { return sdkClients{} }
func (*sdkClients) close() error { return nil }

// errNotBuiltIn answers the provider operations that New never lets a
// Stores of this build reach: they serve modes other than ModeLocal.
var errNotBuiltIn = errors.New("objectstore: built with -tags " + LocalBucketsTag + ": only local buckets")

func (s *Stores) openS3(context.Context, Target) (*blob.Bucket, op, error) {
	return nil, op{}, errNotBuiltIn
}

func (s *Stores) openAzure(context.Context, Target) (*blob.Bucket, op, error) {
	return nil, op{}, errNotBuiltIn
}

func (s *Stores) openGCS(context.Context, Target) (*blob.Bucket, op, error) {
	return nil, op{}, errNotBuiltIn
}

func (s *Stores) s3BucketRegion(context.Context, Target) (string, error) { return "", errNotBuiltIn }

func (s *Stores) gcsEndpoint() string { return "" }

func (s *Stores) s3EndpointName(string) string           { return "" }
func (s *Stores) gcsEndpointName() string                { return "" }
func (s *Stores) azureAccountURL(Target) (string, error) { return "", errNotBuiltIn }

func classifyAWS(error) fault   { return fault{} }
func classifyAzure(error) fault { return fault{} }
func classifyGCS(error) fault   { return fault{} }

// Local buckets act for no role: authorizing one contacts nothing, as in
// the full build.
func (s *Stores) assumeAWSRole(context.Context, *snapexport.CloudProviderAccessRole) error {
	return nil
}

func (s *Stores) authenticateAzure(context.Context, *snapexport.CloudProviderAccessRole) error {
	return nil
}

func (s *Stores) impersonateGCP(context.Context, *snapexport.CloudProviderAccessRole) error {
	return nil
}
