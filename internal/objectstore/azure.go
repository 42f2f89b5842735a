//go:build !snapexport_localbuckets

package objectstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
)

// azureStorageScope is the token scope of Azure Storage.
const azureStorageScope = "https://storage.azure.com/.default"

// azureClientOptions carries the retry policy, timeouts and transport.
func (s *Stores) azureClientOptions() azcore.ClientOptions {
	p := s.cfg.Retry
	retries := int32(p.MaxAttempts - 1)
	if retries == 0 {
		retries = -1 // 0 would mean the SDK's default of 3
	}
	o := azcore.ClientOptions{
		Retry: policy.RetryOptions{
			MaxRetries:    retries,
			RetryDelay:    p.BaseDelay,
			MaxRetryDelay: p.MaxDelay,
			// One try may carry a whole block of a streamed upload.
			TryTimeout: max(s.cfg.Timeout, time.Minute),
		},
		Transport: s.clients.Client(),
		Telemetry: policy.TelemetryOptions{ApplicationID: "snapexport"},
	}
	if s.cfg.Azure.AuthorityHost != "" {
		o.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: s.cfg.Azure.AuthorityHost, Services: cloud.AzurePublic.Services}
	}
	return o
}

var errNoTenant = errors.New("objectstore: the Azure role has no tenant id")

// azureCredential is the server's Entra ID application signed in to the
// role's tenant.
func (s *Stores) azureCredential(role *snapexport.CloudProviderAccessRole) (azcore.TokenCredential, error) {
	if role == nil || role.TenantID == "" {
		return nil, errNoTenant
	}
	c := s.cfg.Azure
	if c.ClientID != "" && role.AtlasAzureAppID != "" && !strings.EqualFold(role.AtlasAzureAppID, c.ClientID) {
		return nil, fmt.Errorf("objectstore: the role names application %s, the server signs in as %s", role.AtlasAzureAppID, c.ClientID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cred, ok := s.sdk.azCreds[role.TenantID]; ok {
		return cred, nil
	}
	opts := s.azureClientOptions()
	var cred azcore.TokenCredential
	var err error
	switch {
	case c.ClientSecret != "":
		cred, err = azidentity.NewClientSecretCredential(role.TenantID, c.ClientID, c.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	case c.ClientCertificateFile != "":
		var data []byte
		if data, err = os.ReadFile(c.ClientCertificateFile); err != nil {
			return nil, fmt.Errorf("objectstore: Azure.ClientCertificateFile: %w", err)
		}
		certs, key, perr := azidentity.ParseCertificates(data, nil)
		if perr != nil {
			return nil, fmt.Errorf("objectstore: Azure.ClientCertificateFile: %w", perr)
		}
		cred, err = azidentity.NewClientCertificateCredential(role.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts})
	default:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: opts, TenantID: role.TenantID, AdditionallyAllowedTenants: []string{"*"}})
	}
	if err != nil {
		return nil, err
	}
	s.sdk.azCreds[role.TenantID] = cred
	return cred, nil
}

// azureAccountURL is the storage account's blob endpoint for t.
func (s *Stores) azureAccountURL(t Target) (string, error) {
	if s.cfg.Azure.Mode == ModeAzureCompatible {
		return strings.TrimRight(s.cfg.Azure.Endpoint, "/"), nil
	}
	u, err := url.Parse(t.ServiceURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("objectstore: Azure bucket %s has no usable serviceUrl", t.Bucket)
	}
	return u.Scheme + "://" + u.Host, nil
}

func (s *Stores) openAzure(ctx context.Context, t Target) (*blob.Bucket, op, error) {
	account, err := s.azureAccountURL(t)
	if err != nil {
		return nil, op{}, err
	}
	o := op{provider: snapexport.Azure, bucket: t.Bucket, endpoint: redactURL(account), action: "open", role: t.Role, roleRef: roleID(t.Role)}
	containerURL := account + "/" + url.PathEscape(t.Bucket)
	opts := &container.ClientOptions{ClientOptions: s.azureClientOptions()}
	var client *container.Client
	if s.cfg.Azure.Mode == ModeAzureCompatible {
		key, kerr := container.NewSharedKeyCredential(s.cfg.Azure.AccountName, s.cfg.Azure.AccountKey)
		if kerr != nil {
			// A key that is not base64: the credentials are invalid.
			return nil, o, s.fail(ctx, o, fault{kind: kindCredentials}, kerr)
		}
		client, err = container.NewClientWithSharedKeyCredential(containerURL, key, opts)
	} else {
		cred, cerr := s.azureCredential(t.Role)
		if cerr != nil {
			return nil, o, s.fail(ctx, o, fault{kind: kindRole}, cerr)
		}
		client, err = container.NewClient(containerURL, cred, opts)
	}
	if err != nil {
		return nil, o, err
	}
	return newAzureBucket(client), o, nil
}

// authenticateAzure gets a storage token in the role's tenant (cloud mode).
func (s *Stores) authenticateAzure(ctx context.Context, role *snapexport.CloudProviderAccessRole) error {
	if s.cfg.Azure.Mode != ModeCloud {
		return nil
	}
	host := s.cfg.Azure.AuthorityHost
	if host == "" {
		host = cloud.AzurePublic.ActiveDirectoryAuthorityHost
	}
	o := op{provider: snapexport.Azure, endpoint: redactURL(host), action: "token request for tenant " + role.TenantID,
		role: role, roleRef: role.ID}
	cred, err := s.azureCredential(role)
	if err != nil {
		return s.fail(ctx, o, fault{kind: kindRole}, err)
	}
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{azureStorageScope}, TenantID: role.TenantID}); err != nil {
		return s.fail(ctx, o, classifyAzure(err), err)
	}
	return nil
}

var (
	azureNotFound = []bloberror.Code{bloberror.ContainerNotFound, bloberror.ResourceNotFound, bloberror.ContainerBeingDeleted}
	azureDenied   = []bloberror.Code{bloberror.AuthorizationFailure, bloberror.AuthorizationPermissionMismatch,
		bloberror.AuthorizationProtocolMismatch, bloberror.AuthorizationResourceTypeMismatch, bloberror.AuthorizationServiceMismatch,
		bloberror.AuthorizationSourceIPMismatch, bloberror.InsufficientAccountPermissions, bloberror.AccountIsDisabled,
		bloberror.ContainerDisabled}
	azureCredentials = []bloberror.Code{bloberror.AuthenticationFailed, bloberror.InvalidAuthenticationInfo, bloberror.NoAuthenticationInformation}
)

func classifyAzure(err error) fault {
	var f fault
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		f.kind = kindRole
		if authErr.RawResponse != nil {
			f.status = authErr.RawResponse.StatusCode
		}
		return f
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		f.status, f.code = re.StatusCode, re.ErrorCode
	}
	switch {
	case bloberror.HasCode(err, azureNotFound...):
		f.kind = kindNotFound
	case bloberror.HasCode(err, azureDenied...):
		f.kind = kindDenied
	case bloberror.HasCode(err, azureCredentials...):
		f.kind = kindCredentials
	default:
		f.kind, _ = statusKind(f.status)
	}
	return f
}
