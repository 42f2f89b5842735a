package api

import (
	"net/http"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// privateEndpointView is an object-storage private endpoint.
type privateEndpointView struct {
	CloudProvider                 string `json:"cloudProvider"`
	ErrorMessage                  string `json:"errorMessage,omitempty"`
	ID                            string `json:"id"`
	PrivateEndpointConnectionName string `json:"privateEndpointConnectionName,omitempty"`
	RegionName                    string `json:"regionName"`
	Status                        string `json:"status"`
	VPCRegionName                 string `json:"vpcRegionName"`
}

func newPrivateEndpointView(e *snapexport.PrivateEndpoint) privateEndpointView {
	return privateEndpointView{CloudProvider: string(e.Provider), ErrorMessage: e.ErrorMessage, ID: e.ID,
		PrivateEndpointConnectionName: e.ConnectionName, RegionName: e.RegionName, Status: e.Status, VPCRegionName: e.VPCRegionName}
}

// privateEndpointHandlers serve one provider's path; Atlas offers the
// resource for AWS only, so the others answer 400.
type privateEndpointHandlers struct{ provider snapexport.CloudProvider }

func (h privateEndpointHandlers) check() error {
	if h.provider != snapexport.AWS {
		return invalidPathParameter("cloudProvider", string(h.provider))
	}
	return nil
}

func (h privateEndpointHandlers) list(c *call) (*response, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	return listPage(c, newPrivateEndpointView, func(page snapexport.Page) ([]*snapexport.PrivateEndpoint, int, error) {
		return c.srv.Service.PrivateEndpoints(c.r.Context(), c.project.ID, h.provider, page, c.pass())
	})
}

func (h privateEndpointHandlers) create(c *call) (*response, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, []string{"cloudProvider", "regionName", "vpcRegionName"},
		[]string{"id", "status", "privateEndpointConnectionName", "errorMessage"})
	if err != nil {
		return nil, err
	}
	in := service.PrivateEndpointInput{Provider: h.provider}
	if _, present := o["cloudProvider"]; present {
		p, err := o.provider("cloudProvider", []snapexport.CloudProvider{h.provider})
		if err != nil {
			return nil, err
		}
		in.Provider = p
	}
	if in.RegionName, err = o.string("regionName", true); err != nil {
		return nil, err
	}
	if in.VPCRegionName, err = o.string("vpcRegionName", false); err != nil {
		return nil, err
	}
	e, err := c.srv.Service.CreatePrivateEndpoint(c.r.Context(), c.project.ID, in)
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusCreated, body: newPrivateEndpointView(e)}, nil
}

func (h privateEndpointHandlers) endpointID(c *call) (string, error) {
	if err := h.check(); err != nil {
		return "", err
	}
	return c.pathParameter("endpointId", snapexport.IsObjectID)
}

func (h privateEndpointHandlers) get(c *call) (*response, error) {
	id, err := h.endpointID(c)
	if err != nil {
		return nil, err
	}
	e, err := c.srv.Service.PrivateEndpoint(c.r.Context(), c.project.ID, h.provider, id)
	if err != nil {
		return nil, err
	}
	return ok(newPrivateEndpointView(e))
}

func (h privateEndpointHandlers) delete(c *call) (*response, error) {
	id, err := h.endpointID(c)
	if err != nil {
		return nil, err
	}
	if err := c.srv.Service.DeletePrivateEndpoint(c.r.Context(), c.project.ID, h.provider, id); err != nil {
		return nil, err
	}
	return noContent, nil
}
