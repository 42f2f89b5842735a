//go:build !snapexport_localbuckets

package objectstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore/transport"
)

// usesSTS reports whether S3 calls carry each role's temporary credentials.
func (s *Stores) usesSTS() bool {
	return s.cfg.AWS.Mode == ModeCloud || s.cfg.AWS.STSEndpoint != ""
}

// awsRetryer is the SDK's standard retryer (5xx, throttling, connection
// errors, attempt timeouts; never 4xx) with the configured attempts and
// backoff.
func (s *Stores) awsRetryer() aws.Retryer {
	p := s.cfg.Retry
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = p.MaxAttempts
		o.MaxBackoff = p.MaxDelay
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return p.delay(attempt - 1), nil
		})
	})
}

// awsBaseConfig is the server's own AWS identity: the static credentials
// when configured, else the standard credential chain.
func (s *Stores) awsBaseConfig(ctx context.Context) (aws.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sdk.awsBase != nil {
		return *s.sdk.awsBase, nil
	}
	c := s.cfg.AWS
	var cfg aws.Config
	if c.AccessKeyID != "" {
		// Static credentials: nothing is read from the environment.
		cfg = aws.Config{
			Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)),
		}
	} else {
		var err error
		cfg, err = config.LoadDefaultConfig(ctx)
		if err != nil {
			return aws.Config{}, fmt.Errorf("objectstore: loading the AWS credential chain: %w", err)
		}
	}
	cfg.Region = c.DefaultRegion
	cfg.HTTPClient = s.clients.Client()
	cfg.Retryer = s.awsRetryer
	cfg.RetryMaxAttempts = 0
	s.sdk.awsBase = &cfg
	return cfg, nil
}

// awsCredentials returns the credentials S3 calls for role carry, and a
// cache key for them.
func (s *Stores) awsCredentials(ctx context.Context, role *snapexport.CloudProviderAccessRole) (aws.CredentialsProvider, string, error) {
	base, err := s.awsBaseConfig(ctx)
	if err != nil {
		return nil, "", err
	}
	if !s.usesSTS() {
		return base.Credentials, "static", nil
	}
	if role == nil || role.IAMAssumedRoleARN == "" {
		return nil, "", errNoRoleARN
	}
	key := role.ID + "|" + role.IAMAssumedRoleARN + "|" + role.ExternalID
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sdk.awsCreds[key]; ok {
		return c, key, nil
	}
	c := s.cfg.AWS
	client := sts.NewFromConfig(base, func(o *sts.Options) {
		if c.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.STSEndpoint)
		}
	})
	name := c.RoleSessionName + "-" + role.ID
	if len(name) > 64 {
		name = name[:64]
	}
	provider := stscreds.NewAssumeRoleProvider(client, role.IAMAssumedRoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = name
		o.Duration = c.SessionDuration
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
	})
	cache := aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = c.RefreshWindow
	})
	s.sdk.awsCreds[key] = cache
	return cache, key, nil
}

var errNoRoleARN = errors.New("objectstore: the role has no iamAssumedRoleArn (not authorized)")

func (s *Stores) stsEndpointName() string {
	if s.cfg.AWS.STSEndpoint != "" {
		return redactURL(s.cfg.AWS.STSEndpoint)
	}
	return "AWS STS (" + s.cfg.AWS.DefaultRegion + ")"
}

// assumeAWSRole really calls AssumeRole (refreshing the cached
// credentials of the role).
func (s *Stores) assumeAWSRole(ctx context.Context, role *snapexport.CloudProviderAccessRole) error {
	if !s.usesSTS() {
		return nil
	}
	o := op{provider: snapexport.AWS, endpoint: s.stsEndpointName(), action: "AssumeRole " + role.IAMAssumedRoleARN,
		role: role, roleRef: role.IAMAssumedRoleARN}
	creds, _, err := s.awsCredentials(ctx, role)
	if errors.Is(err, errNoRoleARN) {
		o.roleRef = role.ID
		return s.fail(ctx, o, fault{kind: kindRole}, err)
	}
	if err != nil {
		return s.fail(ctx, o, fault{kind: kindCredentials}, err)
	}
	if c, ok := creds.(*aws.CredentialsCache); ok {
		c.Invalidate()
	}
	if _, err := creds.Retrieve(ctx); err != nil {
		return s.fail(ctx, o, classifyAWS(err), err)
	}
	return nil
}

// s3Client returns the client of region for the given credentials.
func (s *Stores) s3Client(ctx context.Context, role *snapexport.CloudProviderAccessRole, region string, private bool) (*s3.Client, error) {
	creds, key, err := s.awsCredentials(ctx, role)
	if err != nil {
		return nil, err
	}
	key += "|" + region + "|" + strconv.FormatBool(private)
	if needed, endpoint := s.PrivateLink(region); private && needed && endpoint == "" {
		return nil, fmt.Errorf("%w %s", errNoPrivateEndpoint, region)
	}
	base, _ := s.awsBaseConfig(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sdk.s3Clients[key]; ok {
		return c, nil
	}
	c := s.cfg.AWS
	client := s3.NewFromConfig(base, func(o *s3.Options) {
		o.Region = region
		o.Credentials = creds
		if needed, endpoint := s.PrivateLink(region); private && needed {
			o.BaseEndpoint = aws.String(endpoint)
		}
		if c.Mode == ModeS3Compatible {
			o.BaseEndpoint = aws.String(c.Endpoint)
			o.UsePathStyle = !c.VirtualHostedStyle
			// Third-party stores often reject the newer default checksums.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	s.sdk.s3Clients[key] = client
	return client, nil
}

func (s *Stores) s3EndpointName(region string) string {
	if s.cfg.AWS.Mode == ModeS3Compatible {
		return redactURL(s.cfg.AWS.Endpoint)
	}
	return "Amazon S3 (" + region + ")"
}

// lookupRegion is the region GetBucketLocation is sent to: the global
// endpoint's, except in partitions that do not have it.
func (s *Stores) lookupRegion() string {
	r := s.cfg.AWS.DefaultRegion
	if s.cfg.AWS.Mode == ModeS3Compatible || strings.HasPrefix(r, "cn-") || strings.HasPrefix(r, "us-gov-") || strings.HasPrefix(r, "us-iso") {
		return r
	}
	return "us-east-1"
}

func (s *Stores) s3BucketRegion(ctx context.Context, t Target) (string, error) {
	region := s.lookupRegion()
	o := op{provider: snapexport.AWS, bucket: t.Bucket, endpoint: s.s3EndpointName(region), action: "GetBucketLocation",
		role: t.Role, roleRef: roleID(t.Role)}
	client, err := s.s3Client(ctx, t.Role, region, false)
	if errors.Is(err, errNoRoleARN) {
		return "", s.fail(ctx, o, fault{kind: kindRole}, err)
	}
	if err != nil {
		return "", s.fail(ctx, o, fault{kind: kindCredentials}, err)
	}
	out, err := client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(t.Bucket)})
	if err != nil {
		f := classifyAWS(err)
		if s.cfg.AWS.Mode == ModeS3Compatible && (f.code == "NotImplemented" || transport.NotImplemented(f.status)) {
			return s.cfg.AWS.DefaultRegion, nil
		}
		return "", s.fail(ctx, o, f, err)
	}
	switch c := string(out.LocationConstraint); c {
	case "":
		if s.cfg.AWS.Mode == ModeS3Compatible {
			return s.cfg.AWS.DefaultRegion, nil
		}
		return "us-east-1", nil
	case "EU":
		return "eu-west-1", nil
	default:
		return c, nil
	}
}

// errNoPrivateEndpoint: private networking is required in a region
// without a configured VPC endpoint.
var errNoPrivateEndpoint = errors.New("no private endpoint configured for region")

func (s *Stores) openS3(ctx context.Context, t Target) (*blob.Bucket, op, error) {
	region := t.Region
	if region == "" {
		var err error
		if region, err = s.s3BucketRegion(ctx, t); err != nil {
			return nil, op{}, err
		}
	}
	o := op{provider: snapexport.AWS, bucket: t.Bucket, endpoint: s.s3EndpointName(region), action: "open",
		role: t.Role, roleRef: roleID(t.Role)}
	client, err := s.s3Client(ctx, t.Role, region, t.PrivateNetworking)
	if errors.Is(err, errNoRoleARN) {
		return nil, o, s.fail(ctx, o, fault{kind: kindRole}, err)
	}
	if errors.Is(err, errNoPrivateEndpoint) {
		return nil, o, snapexport.Errorf(snapexport.CodePrivateEndpointNotConfigured,
			"No private endpoint for Amazon S3 is configured for region %s; bucket %s requires private networking.", region, t.Bucket)
	}
	if err != nil {
		return nil, o, s.fail(ctx, o, fault{kind: kindCredentials}, err)
	}
	var checksum aws.RequestChecksumCalculation
	if s.cfg.AWS.Mode == ModeS3Compatible {
		checksum = aws.RequestChecksumCalculationWhenRequired
	}
	return newS3Bucket(client, t.Bucket, checksum), o, nil
}

// AWS error codes that mean the credentials themselves were refused.
var awsCredentialCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "ExpiredToken": true, "InvalidToken": true,
	"TokenRefreshRequired": true, "InvalidClientTokenId": true, "IncompleteSignature": true,
	"MissingAuthenticationToken": true, "InvalidSecurity": true, "ExpiredTokenException": true,
	"UnrecognizedClientException": true,
}

func classifyAWS(err error) fault {
	var f fault
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		f.status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		f.code = ae.ErrorCode()
	}
	// A failure of the role's STS call inside an S3 operation.
	var oe *smithy.OperationError
	for e := err; errors.As(e, &oe); e = oe.Err {
		if oe.ServiceID == "STS" {
			switch {
			case awsCredentialCodes[f.code]:
				f.kind = kindCredentials // the server's own identity
			case f.code == "AccessDenied":
				f.kind = kindRole
			default:
				if _, permanent := statusKind(f.status); permanent {
					f.kind = kindRole
				}
			}
			return f
		}
	}
	switch {
	case f.code == "NoSuchBucket":
		f.kind = kindNotFound
	case f.code == "AccessDenied" || f.code == "AllAccessDisabled" || f.code == "AccountProblem":
		f.kind = kindDenied
	case awsCredentialCodes[f.code]:
		f.kind = kindCredentials
	default:
		f.kind, _ = statusKind(f.status)
	}
	return f
}
