package service

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/objectstore"
)

// PrivateEndpointInput is a create request.
type PrivateEndpointInput struct {
	Provider      snapexport.CloudProvider
	RegionName    string
	VPCRegionName string
}

func endpointNotFound(id string) error {
	return snapexport.Errorf(snapexport.CodePrivateEndpointNotFound, "No object storage private endpoint with ID %s exists.", id)
}

// CreatePrivateEndpoint declares a private endpoint for a bucket region. It
// is ACTIVE when the service can use it: in cloud mode when the server's
// configuration has the VPC endpoint for that region, always otherwise.
func (s *Service) CreatePrivateEndpoint(ctx context.Context, projectID string, in PrivateEndpointInput) (*snapexport.PrivateEndpoint, error) {
	if in.VPCRegionName == "" {
		in.VPCRegionName = in.RegionName
	}
	for _, r := range []struct{ field, value string }{{"regionName", in.RegionName}, {"vpcRegionName", in.VPCRegionName}} {
		if !snapexport.ValidPrivateEndpointRegion(r.value) {
			return nil, snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", r.value)
		}
	}
	e := &snapexport.PrivateEndpoint{ID: NewID(), ProjectID: projectID, Provider: in.Provider, RegionName: in.RegionName,
		VPCRegionName: in.VPCRegionName, Status: snapexport.PrivateEndpointActive, CreatedAt: s.now()}
	if s.Buckets != nil {
		region := snapexport.AWSRegion(in.RegionName)
		switch needed, endpoint := s.Buckets.PrivateLink(region); {
		case needed && endpoint == "":
			e.Status = snapexport.PrivateEndpointFailed
			e.ErrorMessage = "No interface VPC endpoint for Amazon S3 in " + region + " is configured on this server (objectStores.aws.privateEndpoints)."
		case needed:
			e.ConnectionName = connectionName(endpoint)
		}
	}
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		existing, _, err := tx.ListPrivateEndpoints(ctx, projectID, in.Provider, snapexport.Page{})
		if err != nil {
			return err
		}
		for _, x := range existing {
			if x.RegionName == in.RegionName && x.VPCRegionName == in.VPCRegionName {
				return snapexport.Errorf(snapexport.CodePrivateEndpointAlreadyExists,
					"An object storage private endpoint for region %s already exists: %s.", in.RegionName, x.ID)
			}
		}
		return tx.CreatePrivateEndpoint(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// connectionName is the VPC endpoint id in an endpoint URL
// (https://bucket.vpce-0a1b….s3.us-east-1.vpce.amazonaws.com → vpce-0a1b…).
func connectionName(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	for _, label := range strings.Split(u.Hostname(), ".") {
		if strings.HasPrefix(label, "vpce-") {
			return label
		}
	}
	return u.Hostname()
}

// PrivateEndpoints lists a project's endpoints of one provider, in a
// client's pass through the list's pages (see listPage).
func (s *Service) PrivateEndpoints(ctx context.Context, projectID string, provider snapexport.CloudProvider, page snapexport.Page, pass string) ([]*snapexport.PrivateEndpoint, int, error) {
	return listPage(ctx, s, projectID, pass, page, func(tx snapexport.Tx, page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
		return tx.ListPrivateEndpoints(ctx, projectID, provider, page)
	})
}

// PrivateEndpoint returns one endpoint of the provider.
func (s *Service) PrivateEndpoint(ctx context.Context, projectID string, provider snapexport.CloudProvider, id string) (*snapexport.PrivateEndpoint, error) {
	e, err := snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.PrivateEndpoint, error) {
		return tx.PrivateEndpoint(ctx, projectID, id)
	})
	if errors.Is(err, snapexport.ErrNotFound) || (err == nil && e.Provider != provider) {
		return nil, endpointNotFound(id)
	}
	return e, err
}

// DeletePrivateEndpoint removes an endpoint that no bucket relies on.
func (s *Service) DeletePrivateEndpoint(ctx context.Context, projectID string, provider snapexport.CloudProvider, id string) error {
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		e, err := tx.PrivateEndpoint(ctx, projectID, id)
		if errors.Is(err, snapexport.ErrNotFound) || (err == nil && e.Provider != provider) {
			return endpointNotFound(id)
		}
		if err != nil {
			return err
		}
		buckets, _, err := tx.ListExportBuckets(ctx, projectID, []snapexport.CloudProvider{snapexport.AWS}, snapexport.Page{})
		if err != nil {
			return err
		}
		for _, b := range buckets {
			if b.RequirePrivateNetworking && snapexport.AtlasRegion(b.Region) == e.RegionName && s.privateLinkNeeded(b.Region) {
				return snapexport.Errorf(snapexport.CodePrivateEndpointInUse,
					"Export bucket %s requires private networking through object storage private endpoint %s.", b.ID, id)
			}
		}
		return tx.DeletePrivateEndpoint(ctx, projectID, id, s.now())
	})
}

func (s *Service) privateLinkNeeded(region string) bool {
	if s.Buckets == nil {
		return false
	}
	needed, _ := s.Buckets.PrivateLink(region)
	return needed
}

// requirePrivateEndpoint checks, for a bucket that requires private
// networking, that the project declared an active endpoint for the bucket's
// region, where the server reaches buckets through one (cloud mode).
func (s *Service) requirePrivateEndpoint(ctx context.Context, tx snapexport.Tx, projectID, bucketName, region string) error {
	if !s.privateLinkNeeded(region) {
		return nil
	}
	endpoints, _, err := tx.ListPrivateEndpoints(ctx, projectID, snapexport.AWS, snapexport.Page{})
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		if e.RegionName == snapexport.AtlasRegion(region) && e.Status == snapexport.PrivateEndpointActive {
			return nil
		}
	}
	return snapexport.Errorf(snapexport.CodePrivateEndpointRequired,
		"Bucket %s (region %s) requires private networking, but the project has no active object storage private endpoint for %s.",
		bucketName, region, snapexport.AtlasRegion(region))
}

// privateTarget completes t for a bucket that requires private networking:
// its region, looked up when needed, decides the endpoint.
func (s *Service) privateTarget(ctx context.Context, t objectstore.Target) (objectstore.Target, error) {
	t.PrivateNetworking = true
	if t.Region == "" && s.Buckets != nil {
		region, err := s.Buckets.BucketRegion(ctx, t)
		if err != nil {
			return t, err
		}
		t.Region = region
	}
	return t, nil
}
