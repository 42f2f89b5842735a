package api

import (
	"github.com/snapexport/snapexport"
)

// projectView is Atlas's Group.
type projectView struct {
	ClusterCount int    `json:"clusterCount"`
	Created      string `json:"created"`
	ID           string `json:"id"`
	Links        []link `json:"links"`
	Name         string `json:"name"`
	OrgID        string `json:"orgId"`
}

func (c *call) projectView(p *snapexport.Project) projectView {
	return projectView{Created: formatTime(p.CreatedAt), ID: p.ID, Name: p.Name, OrgID: p.OrgID,
		Links: []link{{Href: c.baseURL() + "/api/atlas/v2/groups/" + p.ID, Rel: "self"}}}
}

func listProjects(c *call) (*response, error) {
	return listPage(c, c.projectView, func(page snapexport.Page) ([]*snapexport.Project, int, error) {
		return c.srv.Service.ListProjects(c.r.Context(), c.principal, page)
	})
}

func getProject(c *call) (*response, error) {
	return ok(c.projectView(c.project))
}

func createProject(c *call) (*response, error) {
	// The Atlas Go SDK's Group model always serializes the read-only
	// clusterCount and created (non-optional fields), so they are accepted
	// and ignored, or the SDK's CreateGroup could never create a project.
	o, err := readAttributes(c.r, []string{"name", "orgId", "withDefaultAlertsSettings", "clusterCount", "created"}, []string{"id", "links"})
	if err != nil {
		return nil, err
	}
	name, err := o.string("name", true)
	if err != nil {
		return nil, err
	}
	orgID, err := o.string("orgId", true)
	if err != nil {
		return nil, err
	}
	if !snapexport.IsObjectID(orgID) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidAttribute, "Invalid attribute %s specified: %s is not a 24-character hexadecimal id.", "orgId", orgID)
	}
	if _, _, err := o.boolean("withDefaultAlertsSettings", false); err != nil {
		return nil, err
	}
	proj, err := c.srv.Service.CreateProject(c.r.Context(), c.principal, orgID, name)
	if err != nil {
		return nil, err
	}
	return ok(c.projectView(proj))
}
