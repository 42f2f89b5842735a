package service

import (
	"context"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// BucketInput is the body of a bucket create request, already decoded.
type BucketInput struct {
	Provider                 snapexport.CloudProvider
	BucketName               string
	RoleID                   string
	RequirePrivateNetworking bool
	ServiceURL               string
}

func bucketNotFound(id string) error {
	return snapexport.Errorf(snapexport.CodeExportBucketNotFound, "No export Bucket with ID %s does not exist.", id)
}

// ListBuckets lists a project's buckets of the given providers (all when
// empty), in a client's pass through the list's pages (see listPage).
func (s *Service) ListBuckets(ctx context.Context, projectID string, providers []snapexport.CloudProvider, page snapexport.Page, pass string) ([]*snapexport.ExportBucket, int, error) {
	return listPage(ctx, s, projectID, pass, page, func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
		return tx.ListExportBuckets(ctx, projectID, providers, page)
	})
}

// Bucket returns one bucket of the given providers (any when none are
// given), or EXPORT_BUCKET_NOT_FOUND.
func (s *Service) Bucket(ctx context.Context, projectID, id string, providers ...snapexport.CloudProvider) (*snapexport.ExportBucket, error) {
	b, err := snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.ExportBucket, error) {
		return tx.ExportBucket(ctx, projectID, id)
	})
	if errors.Is(err, snapexport.ErrNotFound) || err == nil && len(providers) > 0 && !slices.Contains(providers, b.Provider) {
		return nil, bucketNotFound(id)
	}
	return b, err
}

// CreateBucket registers a bucket. The role must be an authorized role of
// the same project and provider; names follow the provider's rules.
func (s *Service) CreateBucket(ctx context.Context, projectID string, in BucketInput) (*snapexport.ExportBucket, error) {
	b := &snapexport.ExportBucket{ID: NewID(), ProjectID: projectID, Provider: in.Provider, BucketName: in.BucketName,
		RoleID: in.RoleID, RequirePrivateNetworking: in.RequirePrivateNetworking, CreatedAt: s.now()}
	switch in.Provider {
	case snapexport.AWS:
		if err := snapexport.ValidateS3BucketName(in.BucketName); err != nil {
			return nil, err
		}
		b.Region = s.Identities.DefaultAWSRegion
	case snapexport.GCP:
		if err := snapexport.ValidateGCSBucketName(in.BucketName); err != nil {
			return nil, err
		}
		// Atlas caps bucketName at 63 characters for every provider, below
		// the 222 that Cloud Storage allows for dotted names.
		if n := utf8.RuneCountInString(in.BucketName); n > 63 {
			return nil, snapexport.Errorf(snapexport.CodeExportBucketNameInvalid,
				"Export Bucket name is invalid: %s must be at most 63 characters long.", in.BucketName)
		}
	case snapexport.Azure:
		_, container, err := snapexport.ParseAzureServiceURL(in.ServiceURL)
		if err != nil {
			return nil, err
		}
		switch {
		case container == "" && in.BucketName == "":
			return nil, snapexport.Errorf(snapexport.CodeMissingAttribute, "The required attribute %s was not specified.", "bucketName")
		case container != "" && in.BucketName != "" && container != in.BucketName:
			return nil, snapexport.Errorf(snapexport.CodeInvalidAzureServiceURL,
				"The container %s in serviceUrl does not match bucketName %s.", container, in.BucketName)
		case container != "":
			b.BucketName = container
		}
		if err := snapexport.ValidateAzureContainerName(b.BucketName); err != nil {
			return nil, err
		}
		b.ServiceURL = in.ServiceURL
	}
	if in.RequirePrivateNetworking && in.Provider != snapexport.AWS {
		return nil, errPrivateNetworkingAWSOnly
	}
	// The bucket is reached outside any transaction: a slow store must not
	// hold the database. The role is checked again when the bucket is stored.
	role, err := snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.CloudProviderAccessRole, error) {
		return usableRole(ctx, tx, projectID, in)
	})
	if err != nil {
		return nil, err
	}
	b.TenantID = role.TenantID
	if s.Buckets != nil {
		target := objectstore.Target{Provider: b.Provider, Bucket: b.BucketName, ServiceURL: b.ServiceURL, Role: role}
		if b.RequirePrivateNetworking {
			if target, err = s.privateTarget(ctx, target); err != nil {
				return nil, err
			}
			err = s.Store.Read(ctx, func(tx snapexport.Tx) error {
				return s.requirePrivateEndpoint(ctx, tx, projectID, b.BucketName, target.Region)
			})
			if err != nil {
				return nil, err
			}
		}
		region, err := s.Buckets.Verify(ctx, target)
		if err != nil {
			return nil, err
		}
		if b.Provider == snapexport.AWS && region != "" {
			b.Region = region
		}
	}
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		if _, err := usableRole(ctx, tx, projectID, in); err != nil {
			return err
		}
		if b.RequirePrivateNetworking {
			if err := s.requirePrivateEndpoint(ctx, tx, projectID, b.BucketName, b.Region); err != nil {
				return err
			}
		}
		return tx.CreateExportBucket(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// usableRole returns the role a new bucket names if buckets may use it: a
// role of the same project and provider that has been authorized.
func usableRole(ctx context.Context, tx snapexport.Tx, projectID string, in BucketInput) (*snapexport.CloudProviderAccessRole, error) {
	role, err := tx.CloudProviderAccessRole(ctx, projectID, in.RoleID)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, snapexport.Errorf(snapexport.CodeCloudProviderAccessRoleNotFound,
			"No cloud provider access role with ID %s exists.", in.RoleID)
	}
	if err != nil {
		return nil, err
	}
	if role.Provider != in.Provider {
		return nil, snapexport.Errorf(snapexport.CodeCloudProviderMismatch,
			"The cloud provider access role %s belongs to %s, not %s.", in.RoleID, string(role.Provider), string(in.Provider))
	}
	if !role.Authorized() {
		return nil, snapexport.Errorf(snapexport.CodeCloudProviderAccessRoleNotAuthorized,
			"The specified Cloud Provider Access role (%s) has not been authorized.", in.RoleID)
	}
	return role, nil
}

var errPrivateNetworkingAWSOnly = snapexport.Errorf(snapexport.CodePrivateNetworkingAWSOnly,
	"Private networking for snapshot export is supported for AWS export buckets only.")

// SetPrivateNetworking changes requirePrivateNetworking of an AWS bucket.
// Turning it on needs the project's private endpoint for the bucket's
// region (where the server reaches buckets through one) and proves the
// bucket is reachable that way.
func (s *Service) SetPrivateNetworking(ctx context.Context, projectID, id string, require bool) (*snapexport.ExportBucket, error) {
	var b *snapexport.ExportBucket
	var role *snapexport.CloudProviderAccessRole
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		if b, err = tx.ExportBucket(ctx, projectID, id); err != nil {
			return err
		}
		if b.Provider != snapexport.AWS {
			return errPrivateNetworkingAWSOnly
		}
		if !require || s.Buckets == nil {
			return nil
		}
		if err := s.requirePrivateEndpoint(ctx, tx, projectID, b.BucketName, b.Region); err != nil {
			return err
		}
		role, err = usableRole(ctx, tx, projectID, BucketInput{Provider: b.Provider, RoleID: b.RoleID})
		return err
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, bucketNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if require && s.Buckets != nil {
		t := objectstore.Target{Provider: b.Provider, Bucket: b.BucketName, Region: b.Region, Role: role, PrivateNetworking: true}
		if _, err := s.Buckets.Verify(ctx, t); err != nil {
			return nil, err
		}
	}
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if b, err = tx.ExportBucket(ctx, projectID, id); err != nil {
			return err
		}
		if require {
			if err := s.requirePrivateEndpoint(ctx, tx, projectID, b.BucketName, b.Region); err != nil {
				return err
			}
		}
		b.RequirePrivateNetworking = require
		return tx.UpdateExportBucket(ctx, b)
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, bucketNotFound(id)
	}
	return b, err
}

// DeleteBucket removes a bucket record; the bucket's contents are untouched.
// A bucket a backup schedule auto-exports to cannot be deleted.
func (s *Service) DeleteBucket(ctx context.Context, projectID, id string) error {
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		if _, err := tx.ExportBucket(ctx, projectID, id); err != nil {
			return err
		}
		if err := releaseBucket(ctx, tx, projectID, id); err != nil {
			return err
		}
		return tx.DeleteExportBucket(ctx, projectID, id, s.now())
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return bucketNotFound(id)
	}
	return err
}
