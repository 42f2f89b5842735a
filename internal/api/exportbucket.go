package api

import (
	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// bucketView is an export bucket as the API shows it. AWS buckets carry
// iamRoleId, region and requirePrivateNetworking; Azure roleId, serviceUrl
// and tenantId; GCP roleId.
type bucketView struct {
	ID                       string `json:"_id"`
	BucketName               string `json:"bucketName"`
	CloudProvider            string `json:"cloudProvider"`
	IAMRoleID                string `json:"iamRoleId,omitempty"`
	Region                   string `json:"region,omitempty"`
	RequirePrivateNetworking *bool  `json:"requirePrivateNetworking,omitempty"`
	RoleID                   string `json:"roleId,omitempty"`
	ServiceURL               string `json:"serviceUrl,omitempty"`
	TenantID                 string `json:"tenantId,omitempty"`
}

// newBucketView renders b; Atlas shows region only when reading one bucket.
func newBucketView(b *snapexport.ExportBucket, withRegion bool) bucketView {
	v := bucketView{ID: b.ID, BucketName: b.BucketName, CloudProvider: string(b.Provider)}
	switch b.Provider {
	case snapexport.AWS:
		v.IAMRoleID = b.RoleID
		v.RequirePrivateNetworking = &b.RequirePrivateNetworking
		if withRegion {
			v.Region = b.Region
		}
	case snapexport.Azure:
		v.RoleID, v.ServiceURL, v.TenantID = b.RoleID, b.ServiceURL, b.TenantID
	case snapexport.GCP:
		v.RoleID = b.RoleID
	}
	return v
}

// multiCloud reports whether the call's version shows Azure and GCP
// buckets; 2023-01-01 and v1.0 know AWS buckets only.
func (c *call) multiCloud() bool { return c.version != v1 && c.version != v20230101Buckets.Date }

func (c *call) bucketProviders() []snapexport.CloudProvider {
	if c.multiCloud() {
		return nil
	}
	return []snapexport.CloudProvider{snapexport.AWS}
}

func listBuckets(c *call) (*response, error) {
	return listPage(c, func(b *snapexport.ExportBucket) bucketView { return newBucketView(b, false) },
		func(page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
			return c.srv.Service.ListBuckets(c.r.Context(), c.project.ID, c.bucketProviders(), page, c.pass())
		})
}

// bucket loads the bucket of the path, hiding other providers' buckets
// from versions that cannot show them.
func (c *call) bucket() (*snapexport.ExportBucket, error) { return c.bucketOf(c.multiCloud()) }

// bucketOf loads the bucket of the path; unless anyProvider is set, only
// an AWS bucket is found.
func (c *call) bucketOf(anyProvider bool) (*snapexport.ExportBucket, error) {
	id, err := c.pathParameter("exportBucketId", snapexport.IsObjectID)
	if err != nil {
		return nil, err
	}
	var providers []snapexport.CloudProvider
	if !anyProvider {
		providers = []snapexport.CloudProvider{snapexport.AWS}
	}
	return c.srv.Service.Bucket(c.r.Context(), c.project.ID, id, providers...)
}

func getBucket(c *call) (*response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	return ok(newBucketView(b, true))
}

func createBucket(c *call) (*response, error) {
	in, err := c.bucketInput()
	if err != nil {
		return nil, err
	}
	b, err := c.srv.Service.CreateBucket(c.r.Context(), c.project.ID, in)
	if err != nil {
		return nil, err
	}
	return ok(newBucketView(b, false))
}

var bucketReadOnly = []string{"_id", "id", "region", "links", "tenantId"}

// bucketInput reads a create body by the schema of the call's version:
// AWS only for 2023-01-01 and v1.0, discriminated by cloudProvider after.
func (c *call) bucketInput() (service.BucketInput, error) {
	var in service.BucketInput
	o, err := readObject(c.r)
	if err != nil {
		return in, err
	}
	providers := snapexport.CloudProviders
	if !c.multiCloud() {
		providers = []snapexport.CloudProvider{snapexport.AWS}
	}
	if in.Provider, err = o.provider("cloudProvider", providers); err != nil {
		return in, err
	}
	readOnly := bucketReadOnly
	switch in.Provider {
	case snapexport.AWS:
		err = o.only([]string{"cloudProvider", "bucketName", "iamRoleId", "requirePrivateNetworking"}, readOnly)
	case snapexport.Azure:
		// Atlas ignores the deprecated tenantId on input: the role's is used.
		err = o.only([]string{"cloudProvider", "bucketName", "roleId", "serviceUrl", "tenantId"}, readOnly)
	case snapexport.GCP:
		err = o.only([]string{"cloudProvider", "bucketName", "roleId"}, readOnly)
	}
	if err != nil {
		return in, err
	}
	roleField := "roleId"
	if in.Provider == snapexport.AWS {
		roleField = "iamRoleId"
	}
	if in.BucketName, err = o.string("bucketName", in.Provider != snapexport.Azure); err != nil {
		return in, err
	}
	if in.RoleID, err = o.objectID(roleField, true); err != nil {
		return in, err
	}
	if in.Provider == snapexport.Azure {
		if in.ServiceURL, err = o.string("serviceUrl", true); err != nil {
			return in, err
		}
	}
	if in.RequirePrivateNetworking, _, err = o.boolean("requirePrivateNetworking", false); err != nil {
		return in, err
	}
	return in, nil
}

func updateBucket(c *call) (*response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, []string{"requirePrivateNetworking"}, append(bucketReadOnly, "bucketName", "cloudProvider", "iamRoleId", "roleId", "serviceUrl"))
	if err != nil {
		return nil, err
	}
	require, _, err := o.boolean("requirePrivateNetworking", true)
	if err != nil {
		return nil, err
	}
	b, err = c.srv.Service.SetPrivateNetworking(c.r.Context(), c.project.ID, b.ID, require)
	if err != nil {
		return nil, err
	}
	return ok(newBucketView(b, true))
}

func deleteBucket(c *call) (*response, error) {
	// v2 serves DELETE in 2023-01-01 only, the version every client (the
	// SDK included) sends to delete a bucket of any provider.
	b, err := c.bucketOf(c.version != v1)
	if err != nil {
		return nil, err
	}
	if err := c.srv.Service.DeleteBucket(c.r.Context(), c.project.ID, b.ID); err != nil {
		return nil, err
	}
	return noContent, nil
}
