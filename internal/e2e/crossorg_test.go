package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

// This file checks that one organization's callers reach nothing of
// another's, over every route the server serves: a route added to
// api/operations.go is walked without a change here.
//
// Forged credentials are checked elsewhere, once: a replayed digest
// answer, one signed for another uri or method, or with a wrong response
// (wrong password) in internal/api's TestDigestAuthentication; a tampered
// response in internal/auth's TestVerifyDigestRFC2617; a tampered, forged,
// expired or revoked bearer token in internal/api's TestOAuthTokenIsJWT.

// crossOrg is organization A, whose resources organization B's callers
// try to reach, and organization B with its callers.
type crossOrg struct {
	f *matrixFixture

	// A's resources (besides f's role and bucket), its owner's API key
	// and service account, and its ids and names no answer to B may show.
	cluster, shardedCluster   *snapexport.Cluster
	snapshot, shardedSnapshot string
	exportID, endpointID      string
	ownerA                    apitest.Auth
	accountA                  service.Credentials
	secrets                   []string

	// B's project, its cluster, the owners' credentials.
	bravoID, bravoCluster         string
	accountB                      service.Credentials
	bravoKey, bravoServiceAccount apitest.Auth
}

// crossOrgARN is A's IAM role, distinct from every other fixture's so that
// it shows only in answers about A's role.
const crossOrgARN = "arn:aws:iam::111111111111:role/alpha-export"

func newCrossOrg(t *testing.T) *crossOrg {
	t.Helper()
	ctx := context.Background()
	f := newMatrixFixture(t)
	svc := f.srv.Service
	x := &crossOrg{f: f}

	// A is an organization and project of its own, with names no other
	// fixture uses, so that any answer showing them is a leak.
	orgA, err := svc.CreateOrganization(ctx, "alpha-organization")
	if err != nil {
		t.Fatal(err)
	}
	projectA, err := svc.CreateProject(ctx, nil, orgA.ID, "alpha-project")
	if err != nil {
		t.Fatal(err)
	}
	f.orgID, f.groupID = orgA.ID, projectA.ID
	f.roleID = f.newRole()
	role, err := svc.AuthorizeRole(ctx, f.groupID, f.roleID, service.RoleInput{Provider: snapexport.AWS, IAMAssumedRoleARN: crossOrgARN})
	if err != nil {
		t.Fatal(err)
	}
	f.bucketID = f.bucket(f.roleID)
	bucket, err := svc.Bucket(ctx, f.groupID, f.bucketID)
	if err != nil {
		t.Fatal(err)
	}
	c, job := f.exportJob()
	x.cluster, x.snapshot, x.exportID = c, job.SnapshotID, job.ID
	x.shardedCluster = f.snapshotCluster("rs0", "rs1")
	sharded := storeShardedSnapshot(t, f.test, x.shardedCluster, time.Now().UTC().Truncate(time.Second))
	x.shardedSnapshot = sharded.ID
	x.endpointID = f.newEndpoint()
	pub, priv := f.apiKey(f.orgID, []snapexport.Role{snapexport.RoleOrgOwner}, "", "")
	x.ownerA = apitest.Digest(pub, priv)
	sa := f.serviceAccount(snapexport.RoleGroupOwner)
	x.accountA = sa
	x.secrets = []string{orgA.ID, orgA.Name, projectA.ID, projectA.Name, f.roleID, role.ExternalID, crossOrgARN,
		f.bucketID, bucket.BucketName, c.ID, c.Name, x.snapshot, x.exportID, x.shardedCluster.ID, x.shardedCluster.Name,
		sharded.ID, sharded.Members[0].ID, sharded.Members[1].ID, x.endpointID, pub, sa.ClientID}

	// B: a project of the other organization, an API key owning the
	// organization and a service account owning the project.
	projectB, err := svc.CreateProject(ctx, nil, f.org2ID, "bravo-project")
	if err != nil {
		t.Fatal(err)
	}
	x.bravoID = projectB.ID
	bc, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: x.bravoID, Name: "bravo-cluster"})
	if err != nil {
		t.Fatal(err)
	}
	x.bravoCluster = bc.Name
	pub, priv = f.apiKey(f.org2ID, []snapexport.Role{snapexport.RoleOrgOwner}, "", "")
	x.bravoKey = apitest.Digest(pub, priv)
	creds, err := svc.CreateServiceAccount(ctx, f.org2ID, "bravo-owner", "cross-organization test", nil, matrixHash)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AssignRole(ctx, service.PrincipalRef{ClientID: creds.ClientID}, x.bravoID, snapexport.RoleGroupOwner); err != nil {
		t.Fatal(err)
	}
	x.accountB = creds
	x.bravoServiceAccount = apitest.Bearer(f.issueToken(creds))
	return x
}

// crossOrgCaller is one of B's principals.
type crossOrgCaller struct {
	name string
	auth apitest.Auth
}

func (x *crossOrg) callers() []crossOrgCaller {
	return []crossOrgCaller{{"B's API key", x.bravoKey}, {"B's service account", x.bravoServiceAccount}}
}

// param is A's value of a path parameter of pattern; the project is
// group, A's or B's.
func (x *crossOrg) param(t *testing.T, pattern, name, group string) string {
	sharded := strings.Contains(pattern, "/shardedCluster")
	switch name {
	case "groupId":
		return group
	case "clusterName", "name":
		switch {
		case group != x.f.groupID:
			return x.bravoCluster // A's cluster names mean nothing in B's project
		case sharded:
			return x.shardedCluster.Name
		}
		return x.cluster.Name
	case "snapshotId":
		if sharded {
			return x.shardedSnapshot
		}
		return x.snapshot
	case "exportBucketId":
		return x.f.bucketID
	case "roleId":
		return x.f.roleID
	case "cloudProvider":
		return string(snapexport.AWS)
	case "exportId":
		return x.exportID
	case "endpointId":
		return x.endpointID
	}
	t.Fatalf("%s: no value of A for the path parameter {%s}: add one to crossOrg.param", pattern, name)
	return ""
}

// path is pattern with A's values, in project group.
func (x *crossOrg) path(t *testing.T, pattern, group string) string {
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			segs[i] = x.param(t, pattern, strings.TrimSuffix(name, "}"), group)
		}
	}
	return strings.Join(segs, "/")
}

// crossOrgBodies are the least valid bodies of the operations that take
// one, naming A's resources wherever a body names one. (The golden test's
// requestBodies make their resources in a project of their own; these
// must name A's.)
var crossOrgBodies = map[string]func(x *crossOrg, pattern string) string{
	"createGroupBackupExportBucket": func(x *crossOrg, _ string) string {
		return fmt.Sprintf(`{"bucketName":"bravo-bucket","cloudProvider":"AWS","iamRoleId":%q}`, x.f.roleID)
	},
	"updateGroupBackupExportBucket": func(*crossOrg, string) string { return `{"requirePrivateNetworking":true}` },
	"createGroupCluster": func(*crossOrg, string) string {
		return `{"name":"bravo-cluster-new","clusterType":"REPLICASET","replicationSpecs":[{"regionConfigs":[{"providerName":"AWS",` +
			`"regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":3}}]}]}`
	},
	"updateGroupCluster": func(*crossOrg, string) string {
		return `{"terminationProtectionEnabled":true,"labels":[{"key":"by","value":"bravo"}]}`
	},
	"createGroupCloudProviderAccess": func(*crossOrg, string) string { return `{"providerName":"AWS"}` },
	"authorizeGroupCloudProviderAccessRole": func(*crossOrg, string) string {
		return `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::222222222222:role/bravo"}`
	},
	"updateGroupClusterBackupSchedule": func(x *crossOrg, _ string) string {
		return fmt.Sprintf(`{"autoExportEnabled":true,"export":{"exportBucketId":%q,"frequencyType":"monthly"}}`, x.f.bucketID)
	},
	"updateGroupClusterBackupSnapshot": func(*crossOrg, string) string { return `{"retentionUnit":"YEARS","retentionValue":5}` },
	"createGroupClusterBackupExport": func(x *crossOrg, _ string) string {
		return fmt.Sprintf(`{"exportBucketId":%q,"snapshotId":%q}`, x.f.bucketID, x.snapshot)
	},
	"createGroupBackupPrivateEndpoint": func(_ *crossOrg, pattern string) string {
		provider := strings.Split(pattern, "/")[7] // /api/atlas/v2/groups/{groupId}/backup/<provider>/…
		return fmt.Sprintf(`{"cloudProvider":%q,"regionName":"US_WEST_2","vpcRegionName":"GLOBAL"}`, provider)
	},
	"createProject": func(x *crossOrg, _ string) string {
		return fmt.Sprintf(`{"name":"bravo-in-alpha","orgId":%q}`, x.f.orgID)
	},
	"takeGroupClusterBackupSnapshots": func(*crossOrg, string) string { return `{"description":"bravo","retentionInDays":1}` },
	// Not an archive: nothing is imported or loaded, even in B's own project.
	"uploadSnapshot":  func(*crossOrg, string) string { return "not an archive" },
	"loadClusterData": func(*crossOrg, string) string { return "not an archive" },
	"cancelExportJob": func(*crossOrg, string) string { return "" },
}

// crossOrgWithoutGroup are the routes without a project in their path,
// with why B reaches nothing of A's through them and what the walk
// expects of B's call.
var crossOrgWithoutGroup = map[string]struct {
	reason string
	status int    // B's answer
	code   string // its errorCode, for a refusal
}{
	"listProjects":  {"lists only the projects of the caller's organization or roles; the walk checks that A's are not shown", 200, ""},
	"createProject": {"creates in the body's orgId only for that organization's owner; the walk names A's", 401, snapexport.CodeUserUnauthorized},
}

// request is the call of route r in version (a date, or "" outside
// /api/atlas/v2) with A's values, in project group.
func (x *crossOrg) request(t *testing.T, r api.Route, version, group string) apitest.Request {
	req := apitest.Request{Method: r.Method, Path: x.path(t, r.Pattern, group), Accept: "application/json"}
	if version != "" {
		req.Accept = apitest.MediaType(version)
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
		body, ok := crossOrgBodies[r.OperationID]
		if !ok {
			t.Fatalf("%s %s: no request body: add one to crossOrgBodies", r.Method, r.Pattern)
		}
		req.Body = body(x, r.Pattern)
	}
	if r.OperationID == "uploadSnapshot" || r.OperationID == "loadClusterData" {
		req.ContentType = "application/gzip"
	}
	return req
}

// versions are the versions route r is called in: each dated one under
// /api/atlas/v2, none elsewhere.
func versions(r api.Route) []string {
	if len(r.Versions) == 0 {
		return []string{""}
	}
	return r.Versions
}

// snapshotOfA is what A sees of its own resources: the answer of every
// GET route, in its newest version, with A's values.
func (x *crossOrg) snapshotOfA(t *testing.T) map[string]string {
	t.Helper()
	seen := map[string]string{}
	for _, r := range x.f.srv.API.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		vs := versions(r)
		req := x.request(t, r, vs[len(vs)-1], x.f.groupID)
		req.Auth = x.ownerA
		res := x.f.client.Do(t, req)
		seen[req.Path] = res.String()
	}
	return seen
}

// leaked is each of A's values that s shows and sent does not.
func (x *crossOrg) leaked(s, sent string) []string {
	var out []string
	for _, v := range x.secrets {
		if strings.Contains(s, v) && !strings.Contains(sent, v) {
			out = append(out, v)
		}
	}
	return out
}

// TestCrossOrganization walks every route as organization B's API key
// and service account with organization A's project and resources: each
// call is refused, none shows anything of A's the caller did not send, and
// A's resources read back the same afterwards. Then it walks them in B's
// own project naming A's resources (path ids and body ids): none of those
// calls succeeds.
func TestCrossOrganization(t *testing.T) {
	x := newCrossOrg(t)
	f := x.f
	routes := f.srv.API.Routes()
	before := x.snapshotOfA(t)

	// call calls r in version v as c in project group, and checks that
	// the answer shows nothing of A's that the request did not send.
	call := func(t *testing.T, r api.Route, v string, c crossOrgCaller, group string) (apitest.Request, *apitest.Response) {
		t.Helper()
		req := x.request(t, r, v, group)
		req.Auth = c.auth
		res := f.client.Do(t, req)
		var headers strings.Builder
		for k, vs := range res.Header {
			fmt.Fprintf(&headers, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		if leaks := x.leaked(headers.String()+string(res.Body), req.Path+" "+req.Body); len(leaks) > 0 {
			t.Errorf("%s %s answered %s, showing A's %q", req.Method, req.Path, res, leaks)
		}
		return req, res
	}

	for _, r := range routes {
		for _, v := range versions(r) {
			for _, c := range x.callers() {
				t.Run(fmt.Sprintf("A's project/%s %s@%s/%s", r.Method, r.Pattern, v, c.name), func(t *testing.T) {
					_, res := call(t, r, v, c, f.groupID)
					status, code := http.StatusUnauthorized, snapexport.CodeNotInGroup
					if !strings.Contains(r.Pattern, "{groupId}") {
						want, ok := crossOrgWithoutGroup[r.OperationID]
						if !ok {
							t.Fatalf("%s %s takes no project: add it to crossOrgWithoutGroup with the reason B reaches nothing of A's", r.Method, r.Pattern)
						}
						status, code = want.status, want.code
					}
					if code == "" {
						apitest.WantStatus(t, res, status)
						return
					}
					apitest.WantError(t, res, status, code)
				})
			}
		}
	}

	// In B's own project, with A's ids: a call naming one of A's
	// resources, in its path or body, must not succeed; one naming none
	// acts on B's own.
	for _, r := range routes {
		if !strings.Contains(r.Pattern, "{groupId}") {
			continue
		}
		for _, v := range versions(r) {
			for _, c := range x.callers() {
				t.Run(fmt.Sprintf("B's project/%s %s@%s/%s", r.Method, r.Pattern, v, c.name), func(t *testing.T) {
					req, res := call(t, r, v, c, x.bravoID)
					if namesA := slices.ContainsFunc(x.secrets, func(s string) bool {
						return strings.Contains(req.Path+" "+req.Body, s)
					}); namesA && res.Status < 300 {
						t.Errorf("%s %s (%s) succeeded naming A's resources in B's project: %s", req.Method, req.Path, req.Body, res)
					}
					if res.Status >= 500 {
						t.Errorf("%s %s: %s", req.Method, req.Path, res)
					}
				})
			}
		}
	}

	checkCrossOrgUnrouted(t, x)
	after := x.snapshotOfA(t)
	for path, was := range before {
		if now := after[path]; now != was {
			t.Errorf("A's %s changed during B's calls:\nbefore %s\nafter  %s", path, was, now)
		}
	}
}

// checkCrossOrgUnrouted covers what the server answers outside its
// operations' routes (api.Server.Handler): the health check and the
// OpenAPI document show no one's data; the token endpoint grants a
// service account's token only for its own client secret (B's secret
// with A's client id is refused); and the revocation endpoint revokes
// only the caller's own tokens, so B cannot end A's session.
func checkCrossOrgUnrouted(t *testing.T, x *crossOrg) {
	t.Helper()
	f := x.f
	for _, path := range []string{"/healthz", "/api/atlas/v2/openapi.yaml"} {
		req := apitest.Request{Path: path, Auth: apitest.NoAuth}
		res := f.client.Do(t, req)
		apitest.WantStatus(t, res, http.StatusOK)
		if leaks := x.leaked(string(res.Body), ""); len(leaks) > 0 {
			t.Errorf("%s shows A's %q", path, leaks)
		}
	}
	if res := f.client.RequestToken(t, x.accountA.ClientID, x.accountB.ClientSecret); res.Status != http.StatusUnauthorized {
		t.Errorf("a token for A's client id with B's secret: %s, want 401", res)
	}
	tokenA := f.client.Token(t, x.accountA.ClientID, x.accountA.ClientSecret)
	readA := apitest.Request{Path: "/api/atlas/v2/groups/" + f.groupID, Accept: apitest.MediaType("2023-01-01"), Auth: apitest.Bearer(tokenA)}
	apitest.WantStatus(t, f.client.Do(t, readA), http.StatusOK)
	res := f.client.RevokeToken(t, x.accountB.ClientID, x.accountB.ClientSecret, tokenA)
	if leaks := x.leaked(string(res.Body), tokenA); len(leaks) > 0 {
		t.Errorf("revoking A's token as B answered %s, showing A's %q", res, leaks)
	}
	if got := f.client.Do(t, readA); got.Status != http.StatusOK {
		t.Errorf("A's token after B asked to revoke it: %s, want it still valid", got)
	}
}
