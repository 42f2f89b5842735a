package service

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
)

// RoleInput is the body of a create or authorize request.
type RoleInput struct {
	Provider           snapexport.CloudProvider
	IAMAssumedRoleARN  string // AWS authorize
	AtlasAzureAppID    string // Azure
	ServicePrincipalID string // Azure
	TenantID           string // Azure
}

// RoleWithUsage is a role and the export buckets that reach storage through it.
type RoleWithUsage struct {
	*snapexport.CloudProviderAccessRole
	Buckets []*snapexport.ExportBucket
}

func roleNotFound(id string) error {
	return snapexport.Errorf(snapexport.CodeCloudProviderAccessRoleNotFound, "No cloud provider access role with ID %s exists.", id)
}

// ListRoles lists a project's roles with their usage.
func (s *Service) ListRoles(ctx context.Context, projectID string) ([]RoleWithUsage, error) {
	var out []RoleWithUsage
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		roles, err := tx.ListCloudProviderAccessRoles(ctx, projectID)
		if err != nil {
			return err
		}
		for _, r := range roles {
			buckets, err := tx.ExportBucketsByRole(ctx, projectID, r.ID)
			if err != nil {
				return err
			}
			out = append(out, RoleWithUsage{r, buckets})
		}
		return nil
	})
	return out, err
}

// Role returns one role with its usage, or CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND.
func (s *Service) Role(ctx context.Context, projectID, id string) (RoleWithUsage, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (RoleWithUsage, error) {
		return roleWithUsage(ctx, tx, projectID, id)
	})
}

func roleWithUsage(ctx context.Context, tx snapexport.Tx, projectID, id string) (RoleWithUsage, error) {
	r, err := tx.CloudProviderAccessRole(ctx, projectID, id)
	if errors.Is(err, snapexport.ErrNotFound) {
		return RoleWithUsage{}, roleNotFound(id)
	}
	if err != nil {
		return RoleWithUsage{}, err
	}
	buckets, err := tx.ExportBucketsByRole(ctx, projectID, id)
	return RoleWithUsage{r, buckets}, err
}

// CreateRole starts the set-up of a role. AWS roles get the service's
// account ARN and a fresh external id to put in the customer's trust policy;
// GCP roles get a service account of their own, usable at once; Azure roles
// record the customer's service principal.
func (s *Service) CreateRole(ctx context.Context, projectID string, in RoleInput) (RoleWithUsage, error) {
	now := s.now()
	r := &snapexport.CloudProviderAccessRole{ID: NewID(), ProjectID: projectID, Provider: in.Provider, CreatedAt: now, UpdatedAt: now}
	switch in.Provider {
	case snapexport.AWS:
		r.AtlasAWSAccountARN = s.Identities.AWSAccountARN
		r.ExternalID = uuid.NewString()
	case snapexport.Azure:
		if err := validateAzurePrincipal(in); err != nil {
			return RoleWithUsage{}, err
		}
		r.AtlasAzureAppID, r.ServicePrincipalID, r.TenantID = strings.ToLower(in.AtlasAzureAppID), strings.ToLower(in.ServicePrincipalID), strings.ToLower(in.TenantID)
	case snapexport.GCP:
		r.GCPServiceAccount = "mongodb-atlas-" + auth.RandomString(16, "abcdefghijklmnopqrstuvwxyz0123456789") + "@p-" + s.Identities.GCPProjectSuffix + ".iam.gserviceaccount.com"
		r.GCPStatus = snapexport.GCPRoleStatusComplete
		r.AuthorizedAt = &now
	}
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateCloudProviderAccessRole(ctx, r) })
	return RoleWithUsage{CloudProviderAccessRole: r}, err
}

func validateAzurePrincipal(in RoleInput) error {
	for _, f := range []struct{ name, value string }{
		{"atlasAzureAppId", in.AtlasAzureAppID}, {"servicePrincipalId", in.ServicePrincipalID}, {"tenantId", in.TenantID},
	} {
		if f.value == "" {
			return snapexport.Errorf(snapexport.CodeMissingAttribute, "The required attribute %s was not specified.", f.name)
		}
		if !snapexport.IsUUID(f.value) {
			return snapexport.Errorf(snapexport.CodeAzureServicePrincipalInvalid,
				"The specified Azure Service Principal (%s) contains invalid tenant id or service principal id.", in.ServicePrincipalID)
		}
	}
	return nil
}

// AuthorizeRole completes a role's set-up: AWS with the ARN of the
// customer's IAM role, Azure with the service principal, GCP with nothing.
// The provider named in the request must be the role's. The service first
// proves it can act for the role (AWS: STS AssumeRole), outside any
// transaction, and records the authorization only when it can.
func (s *Service) AuthorizeRole(ctx context.Context, projectID, id string, in RoleInput) (RoleWithUsage, error) {
	var candidate *snapexport.CloudProviderAccessRole
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		cur, err := roleWithUsage(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		if candidate, err = s.authorized(*cur.CloudProviderAccessRole, in); err != nil {
			return err
		}
		// Buckets record the tenant they were created in; moving the role
		// to another tenant would leave them pointing at storage it no
		// longer reaches.
		if len(cur.Buckets) > 0 && candidate.TenantID != cur.TenantID {
			return snapexport.Errorf(snapexport.CodeCloudProviderAccessRoleInUse,
				"The cloud provider access role %s is used by export bucket %s; its tenant cannot change.", id, cur.Buckets[0].ID)
		}
		return nil
	})
	if err != nil {
		return RoleWithUsage{}, err
	}
	if s.Buckets != nil {
		if err := s.Buckets.AssumeRole(ctx, candidate); err != nil {
			return RoleWithUsage{}, err
		}
	}
	var out RoleWithUsage
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if out, err = roleWithUsage(ctx, tx, projectID, id); err != nil {
			return err
		}
		r, err := s.authorized(*out.CloudProviderAccessRole, in)
		if err != nil {
			return err
		}
		out.CloudProviderAccessRole = r
		return tx.UpdateCloudProviderAccessRole(ctx, r)
	})
	return out, err
}

// authorized returns r as the authorize request in makes it.
func (s *Service) authorized(r snapexport.CloudProviderAccessRole, in RoleInput) (*snapexport.CloudProviderAccessRole, error) {
	if r.Provider != in.Provider {
		return nil, snapexport.Errorf(snapexport.CodeCloudProviderMismatch,
			"The cloud provider access role %s belongs to %s, not %s.", r.ID, string(r.Provider), string(in.Provider))
	}
	now := s.now()
	switch r.Provider {
	case snapexport.AWS:
		if in.IAMAssumedRoleARN == "" {
			return nil, snapexport.Errorf(snapexport.CodeMissingAttribute, "The required attribute %s was not specified.", "iamAssumedRoleArn")
		}
		if err := snapexport.ValidateIAMRoleARN(in.IAMAssumedRoleARN); err != nil {
			return nil, err
		}
		r.IAMAssumedRoleARN = in.IAMAssumedRoleARN
	case snapexport.Azure:
		if err := validateAzurePrincipal(in); err != nil {
			return nil, err
		}
		r.AtlasAzureAppID, r.ServicePrincipalID, r.TenantID = strings.ToLower(in.AtlasAzureAppID), strings.ToLower(in.ServicePrincipalID), strings.ToLower(in.TenantID)
	}
	if r.AuthorizedAt == nil {
		r.AuthorizedAt = &now
	}
	r.UpdatedAt = now
	return &r, nil
}

// DeauthorizeRole withdraws and removes a role. A role that export buckets still use
// cannot be withdrawn, or those buckets would become unreachable.
func (s *Service) DeauthorizeRole(ctx context.Context, projectID string, provider snapexport.CloudProvider, id string) error {
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		out, err := roleWithUsage(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		r := out.CloudProviderAccessRole
		if r.Provider != provider {
			return roleNotFound(id)
		}
		if len(out.Buckets) > 0 {
			return snapexport.Errorf(snapexport.CodeCloudProviderAccessRoleInUse,
				"The cloud provider access role %s is used by export bucket %s.", id, out.Buckets[0].ID)
		}
		return tx.DeleteCloudProviderAccessRole(ctx, projectID, id)
	})
}
