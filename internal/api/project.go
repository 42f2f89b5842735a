package api

import (
	"net/http"

	"github.com/snapexport/snapexport"
)

// projectView is Atlas's Group. withDefaultAlertsSettings is only in the
// answer to a creation, which echoes the request's value (Atlas's recorded
// create); nothing else of alert settings is kept.
type projectView struct {
	ClusterCount              int    `json:"clusterCount"`
	Created                   string `json:"created"`
	ID                        string `json:"id"`
	Links                     []link `json:"links"`
	Name                      string `json:"name"`
	OrgID                     string `json:"orgId"`
	WithDefaultAlertsSettings *bool  `json:"withDefaultAlertsSettings,omitempty"`
}

// projectLinkRels are the resources Atlas links a project to after self,
// in its order: the path below the project and the relation.
var projectLinkRels = []string{"containers", "clusters", "databaseUsers", "peers", "processes", "whitelist"}

func (c *call) projectView(p *snapexport.Project, clusterCount int) projectView {
	self := c.baseURL() + "/api/atlas/v2/groups/" + p.ID
	links := []link{{Href: self, Rel: "self"}}
	for _, r := range projectLinkRels {
		links = append(links, link{Href: self + "/" + r, Rel: "https://cloud.mongodb.com/" + r})
	}
	return projectView{ClusterCount: clusterCount, Created: formatTime(p.CreatedAt), ID: p.ID, Name: p.Name, OrgID: p.OrgID, Links: links}
}

func listProjects(c *call) (*response, error) {
	var counts map[string]int
	return listPage(c, func(p *snapexport.Project) projectView { return c.projectView(p, counts[p.ID]) },
		func(page snapexport.Page) ([]*snapexport.Project, int, error) {
			projects, total, err := c.srv.Service.ListProjects(c.r.Context(), c.principal, page)
			if err != nil {
				return nil, 0, err
			}
			ids := make([]string, len(projects))
			for i, p := range projects {
				ids[i] = p.ID
			}
			counts, err = c.srv.Service.ClusterCounts(c.r.Context(), ids)
			return projects, total, err
		})
}

func getProject(c *call) (*response, error) {
	counts, err := c.srv.Service.ClusterCounts(c.r.Context(), []string{c.project.ID})
	if err != nil {
		return nil, err
	}
	return ok(c.projectView(c.project, counts[c.project.ID]))
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
	alerts, present, err := o.boolean("withDefaultAlertsSettings", false)
	if err != nil {
		return nil, err
	}
	if !present {
		alerts = true // Atlas's default
	}
	proj, err := c.srv.Service.CreateProject(c.r.Context(), c.principal, orgID, name)
	if err != nil {
		return nil, err
	}
	v := c.projectView(proj, 0)
	v.WithDefaultAlertsSettings = &alerts
	return &response{status: http.StatusCreated, body: v}, nil
}
