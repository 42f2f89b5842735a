package console

import (
	"cmp"
	"net/http"
	"slices"

	"golang.org/x/sync/errgroup"
)

type project struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	OrgID string `json:"orgId"`
}

type orgProjects struct {
	ID, Name string
	Projects []project
}

// projectsPage lists the projects the principal sees, by organization.
func (s *Server) projectsPage(w http.ResponseWriter, r *http.Request) {
	var list page[project]
	if err := s.call(r, http.MethodGet, "/api/atlas/v2/groups?itemsPerPage=500", v20230101, nil, &list); err != nil {
		s.renderError(w, r, err, 0, "")
		return
	}
	names := map[string]string{}
	if s.Organizations != nil {
		orgs, err := s.Organizations(r.Context())
		if err != nil {
			s.renderError(w, r, err, 0, "")
			return
		}
		for _, o := range orgs {
			names[o.ID] = o.Name
		}
	}
	byOrg := map[string]*orgProjects{}
	own := visitOf(r.Context()).principal.OrgID
	if own != "" {
		byOrg[own] = &orgProjects{ID: own, Name: names[own]}
	}
	for _, p := range list.Results {
		o := byOrg[p.OrgID]
		if o == nil {
			o = &orgProjects{ID: p.OrgID, Name: names[p.OrgID]}
			byOrg[p.OrgID] = o
		}
		o.Projects = append(o.Projects, p)
	}
	var orgs []*orgProjects
	for _, o := range byOrg {
		slices.SortFunc(o.Projects, func(a, b project) int { return cmp.Compare(a.Name, b.Name) })
		orgs = append(orgs, o)
	}
	slices.SortFunc(orgs, func(a, b *orgProjects) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	s.render(w, r, http.StatusOK, "projects", "Projects", orgs)
}

// projectNav reads the project of the path, for the page's navigation;
// the API refuses a principal who may not see it.
func (s *Server) projectNav(r *http.Request, current string) (*navData, error) {
	var p project
	if err := s.call(r, http.MethodGet, groupPath(r.PathValue("groupId")), v20230101, nil, &p); err != nil {
		return nil, err
	}
	return &navData{GroupID: p.ID, GroupName: p.Name, Current: current}, nil
}

type cluster struct {
	Name           string `json:"name"`
	StateName      string `json:"stateName"`
	ClusterType    string `json:"clusterType"`
	MongoDBVersion string `json:"mongoDBVersion"`
}

type policyItem struct {
	FrequencyType     string `json:"frequencyType"`
	FrequencyInterval int    `json:"frequencyInterval"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

type schedule struct {
	NextSnapshot string `json:"nextSnapshot"`
	Policies     []struct {
		PolicyItems []policyItem `json:"policyItems"`
	} `json:"policies"`
	AutoExportEnabled bool `json:"autoExportEnabled"`
}

type snapshot struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	StorageSizeBytes int64  `json:"storageSizeBytes"`
	SnapshotType     string `json:"snapshotType"`
	FrequencyType    string `json:"frequencyType"`
	Type             string `json:"type"`
	CreatedAt        string `json:"createdAt"`
	ExpiresAt        string `json:"expiresAt"`
	Description      string `json:"description"`
}

type bucket struct {
	ID            string `json:"_id"`
	BucketName    string `json:"bucketName"`
	CloudProvider string `json:"cloudProvider"`
	IAMRoleID     string `json:"iamRoleId"`
	RoleID        string `json:"roleId"`
	ServiceURL    string `json:"serviceUrl"`
	Region        string `json:"region"`
}

// clusterView is one cluster on the project's page; each part the
// principal may not read, or that failed, carries the API's error.
type clusterView struct {
	Cluster     cluster
	Schedule    *schedule
	ScheduleErr error
	Snapshots   []snapshot
	// SnapshotsTotal is how many snapshots the cluster has; the page
	// shows the API's first page of them.
	SnapshotsTotal int
	SnapshotsErr   error
}

type projectPageData struct {
	GroupID    string
	Clusters   []*clusterView
	Buckets    []bucket
	BucketsErr error
}

// maxParallelReads bounds the API requests a page makes at once.
const maxParallelReads = 8

// pageReads runs a page's API requests, maxParallelReads at most at once;
// each records its own error for the page to show.
func pageReads() *errgroup.Group {
	g := new(errgroup.Group)
	g.SetLimit(maxParallelReads)
	return g
}

// projectClusters reads the navigation of a project's page, on tab, and
// the project's clusters; when either fails it has answered the error
// page, and ok is false.
func (s *Server) projectClusters(w http.ResponseWriter, r *http.Request, tab string) (nav *navData, clusters []cluster, ok bool) {
	nav, err := s.projectNav(r, tab)
	if err == nil {
		clusters, err = s.clusters(r, nav.GroupID)
	}
	if err != nil {
		s.renderError(w, r, err, 0, "")
		return nil, nil, false
	}
	return nav, clusters, true
}

// projectPage shows a project's clusters, each with its backup schedule
// and snapshots, and the actions on them.
func (s *Server) projectPage(w http.ResponseWriter, r *http.Request) {
	nav, clusters, ok := s.projectClusters(w, r, "clusters")
	if !ok {
		return
	}
	d := projectPageData{GroupID: nav.GroupID}
	reads := pageReads()
	for _, c := range clusters {
		cv := &clusterView{Cluster: c}
		d.Clusters = append(d.Clusters, cv)
		cbase := clusterPath(nav.GroupID, c.Name) + "/backup"
		reads.Go(func() error {
			var sch schedule
			if cv.ScheduleErr = s.call(r, http.MethodGet, cbase+"/schedule", v20240805, nil, &sch); cv.ScheduleErr == nil {
				cv.Schedule = &sch
			}
			return nil
		})
		reads.Go(func() error {
			// A sharded cluster's snapshots are listed apart.
			list := cbase + "/snapshots?itemsPerPage=100"
			if c.ClusterType == "SHARDED" || c.ClusterType == "GEOSHARDED" {
				list = cbase + "/snapshots/shardedClusters?itemsPerPage=100"
			}
			var snaps page[snapshot]
			cv.SnapshotsErr = s.call(r, http.MethodGet, list, v20230101, nil, &snaps)
			cv.Snapshots, cv.SnapshotsTotal = snaps.Results, snaps.TotalCount
			return nil
		})
	}
	reads.Go(func() error {
		d.Buckets, d.BucketsErr = s.buckets(r, nav.GroupID)
		return nil
	})
	reads.Wait()
	s.renderNav(w, r, http.StatusOK, "project", nav.GroupName, nav, d)
}

type accessRole struct {
	ID                 string `json:"_id"`
	RoleID             string `json:"roleId"`
	ProviderName       string `json:"providerName"`
	IAMAssumedRoleARN  any    `json:"iamAssumedRoleArn"`
	ServicePrincipalID string `json:"servicePrincipalId"`
	GCPServiceAccount  string `json:"gcpServiceAccountForAtlas"`
	CreatedDate        string `json:"createdDate"`
	AuthorizedDate     any    `json:"authorizedDate"`
	Status             string `json:"status"`
}

// Authorized tells whether the role was authorized.
func (a accessRole) Authorized() bool {
	s, _ := a.AuthorizedDate.(string)
	return s != "" || a.Status == "COMPLETE"
}

type bucketsPageData struct {
	Buckets    []bucket
	BucketsErr error
	Roles      []accessRole
	RolesErr   error
}

// bucketsPage shows a project's export buckets and cloud provider access
// roles.
func (s *Server) bucketsPage(w http.ResponseWriter, r *http.Request) {
	nav, err := s.projectNav(r, "buckets")
	if err != nil {
		s.renderError(w, r, err, 0, "")
		return
	}
	var d bucketsPageData
	d.Buckets, d.BucketsErr = s.buckets(r, nav.GroupID)
	var roles struct {
		AWS   []accessRole `json:"awsIamRoles"`
		Azure []accessRole `json:"azureServicePrincipals"`
		GCP   []accessRole `json:"gcpServiceAccounts"`
	}
	d.RolesErr = s.call(r, http.MethodGet, groupPath(nav.GroupID)+"/cloudProviderAccess", v20230101, nil, &roles)
	d.Roles = slices.Concat(roles.AWS, roles.Azure, roles.GCP)
	s.renderNav(w, r, http.StatusOK, "buckets", nav.GroupName+": buckets", nav, d)
}
