package api

import (
	"encoding/json"
	"net/http"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// roleView is a cloud provider access role. The fields shown depend on the
// provider: AWS roleId and the trust-policy values, Azure _id and the
// service principal, GCP roleId and the service account. An AWS role not
// yet authorized shows authorizedDate and iamAssumedRoleArn as null, as
// Atlas does, so those two hold either a string or jsonNull.
type roleView struct {
	ID                         string         `json:"_id,omitempty"`
	AtlasAWSAccountARN         string         `json:"atlasAWSAccountArn,omitempty"`
	AtlasAssumedRoleExternalID string         `json:"atlasAssumedRoleExternalId,omitempty"`
	AtlasAzureAppID            string         `json:"atlasAzureAppId,omitempty"`
	AuthorizedDate             any            `json:"authorizedDate,omitempty"`
	CreatedDate                string         `json:"createdDate"`
	FeatureUsages              []featureUsage `json:"featureUsages"`
	GCPServiceAccountForAtlas  string         `json:"gcpServiceAccountForAtlas,omitempty"`
	IAMAssumedRoleARN          any            `json:"iamAssumedRoleArn,omitempty"`
	LastUpdatedDate            string         `json:"lastUpdatedDate,omitempty"`
	ProviderName               string         `json:"providerName"`
	RoleID                     string         `json:"roleId,omitempty"`
	ServicePrincipalID         string         `json:"servicePrincipalId,omitempty"`
	Status                     string         `json:"status,omitempty"`
	TenantID                   string         `json:"tenantId,omitempty"`
}

// jsonNull renders as null in a field that omitempty would otherwise drop.
var jsonNull = json.RawMessage("null")

type featureUsage struct {
	FeatureID   featureID `json:"featureId"`
	FeatureType string    `json:"featureType"`
}

type featureID struct {
	ExportBucketID string `json:"exportBucketId"`
	GroupID        string `json:"groupId"`
}

func newRoleView(r service.RoleWithUsage) roleView {
	v := roleView{CreatedDate: formatTime(r.CreatedAt), ProviderName: string(r.Provider), FeatureUsages: []featureUsage{}}
	for _, b := range r.Buckets {
		v.FeatureUsages = append(v.FeatureUsages, featureUsage{FeatureID: featureID{ExportBucketID: b.ID, GroupID: b.ProjectID}, FeatureType: "EXPORT_SNAPSHOT"})
	}
	switch r.Provider {
	case snapexport.AWS:
		v.RoleID, v.AtlasAWSAccountARN, v.AtlasAssumedRoleExternalID = r.ID, r.AtlasAWSAccountARN, r.ExternalID
		v.AuthorizedDate, v.IAMAssumedRoleARN = jsonNull, jsonNull
		if r.AuthorizedAt != nil {
			v.AuthorizedDate = formatTime(*r.AuthorizedAt)
		}
		if r.IAMAssumedRoleARN != "" {
			v.IAMAssumedRoleARN = r.IAMAssumedRoleARN
		}
	case snapexport.Azure:
		v.ID, v.AtlasAzureAppID, v.ServicePrincipalID, v.TenantID = r.ID, r.AtlasAzureAppID, r.ServicePrincipalID, r.TenantID
		v.LastUpdatedDate = formatTime(r.UpdatedAt)
	case snapexport.GCP:
		v.RoleID, v.GCPServiceAccountForAtlas, v.Status = r.ID, r.GCPServiceAccount, r.GCPStatus
	}
	return v
}

type rolesView struct {
	AWSIAMRoles            []roleView `json:"awsIamRoles"`
	AzureServicePrincipals []roleView `json:"azureServicePrincipals"`
	GCPServiceAccounts     []roleView `json:"gcpServiceAccounts"`
}

func listRoles(c *call) (*response, error) {
	roles, err := c.srv.Service.ListRoles(c.r.Context(), c.project.ID)
	if err != nil {
		return nil, err
	}
	v := rolesView{AWSIAMRoles: []roleView{}, AzureServicePrincipals: []roleView{}, GCPServiceAccounts: []roleView{}}
	for _, r := range roles {
		switch r.Provider {
		case snapexport.AWS:
			v.AWSIAMRoles = append(v.AWSIAMRoles, newRoleView(r))
		case snapexport.Azure:
			v.AzureServicePrincipals = append(v.AzureServicePrincipals, newRoleView(r))
		case snapexport.GCP:
			v.GCPServiceAccounts = append(v.GCPServiceAccounts, newRoleView(r))
		}
	}
	return ok(v)
}

func (c *call) roleID() (string, error) { return c.pathParameter("roleId", snapexport.IsObjectID) }

func getRole(c *call) (*response, error) {
	id, err := c.roleID()
	if err != nil {
		return nil, err
	}
	r, err := c.srv.Service.Role(c.r.Context(), c.project.ID, id)
	if err != nil {
		return nil, err
	}
	return ok(newRoleView(r))
}

var roleReadOnly = []string{"_id", "roleId", "atlasAWSAccountArn", "atlasAssumedRoleExternalId", "authorizedDate", "createdDate",
	"featureUsages", "gcpServiceAccountForAtlas", "lastUpdatedDate", "status"}

// roleInput reads the body of a create (authorize false) or authorize
// request.
func roleInput(r *http.Request, authorize bool) (service.RoleInput, error) {
	var in service.RoleInput
	o, err := readObject(r)
	if err != nil {
		return in, err
	}
	if in.Provider, err = o.provider("providerName", snapexport.CloudProviders); err != nil {
		return in, err
	}
	writable := []string{"providerName"}
	readOnly := roleReadOnly
	switch in.Provider {
	case snapexport.AWS:
		if authorize {
			writable = append(writable, "iamAssumedRoleArn")
		} else {
			readOnly = append(readOnly, "iamAssumedRoleArn")
		}
	case snapexport.Azure:
		writable = append(writable, "atlasAzureAppId", "servicePrincipalId", "tenantId")
	}
	if err := o.only(writable, readOnly); err != nil {
		return in, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"iamAssumedRoleArn", &in.IAMAssumedRoleARN}, {"atlasAzureAppId", &in.AtlasAzureAppID},
		{"servicePrincipalId", &in.ServicePrincipalID}, {"tenantId", &in.TenantID},
	} {
		if *f.dst, err = o.string(f.name, false); err != nil {
			return in, err
		}
	}
	return in, nil
}

func createRole(c *call) (*response, error) {
	in, err := roleInput(c.r, false)
	if err != nil {
		return nil, err
	}
	r, err := c.srv.Service.CreateRole(c.r.Context(), c.project.ID, in)
	if err != nil {
		return nil, err
	}
	return ok(newRoleView(r))
}

func authorizeRole(c *call) (*response, error) {
	id, err := c.roleID()
	if err != nil {
		return nil, err
	}
	in, err := roleInput(c.r, true)
	if err != nil {
		return nil, err
	}
	r, err := c.srv.Service.AuthorizeRole(c.r.Context(), c.project.ID, id, in)
	if err != nil {
		return nil, err
	}
	return ok(newRoleView(r))
}

func deauthorizeRole(c *call) (*response, error) {
	provider := snapexport.CloudProvider(c.r.PathValue("cloudProvider"))
	switch provider {
	case snapexport.AWS, snapexport.Azure, snapexport.GCP:
	default:
		return nil, invalidPathParameter("cloudProvider", string(provider))
	}
	id, err := c.roleID()
	if err != nil {
		return nil, err
	}
	if err := c.srv.Service.DeauthorizeRole(c.r.Context(), c.project.ID, provider, id); err != nil {
		return nil, err
	}
	return noContent, nil
}
