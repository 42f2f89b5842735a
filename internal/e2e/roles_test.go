package e2e_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// This file checks who may call what: every operation of the API, in every
// version it is served in, against callers that are not authenticated, are
// authenticated but outside the project, or hold one role. The matrixExpected
// outcome comes from Atlas's role table (atlas-facts §4.3 and, for v1.0,
// SPEC-V1 as quoted in §1 and §4.3), written out below by hand, so that a
// wrong role in api/operations.go makes this test fail.

// matrixNeed is the least an operation requires of its caller.
type matrixNeed string

const (
	notInV1                  matrixNeed = "" // not served in v1.0
	matrixNeedAuthenticated  matrixNeed = "any authenticated caller"
	matrixNeedReadOnly       matrixNeed = "Project Read Only"
	matrixNeedBackupManager  matrixNeed = "Project Backup Manager"
	matrixNeedExportOperator matrixNeed = "Project Backup Export Operator"
	matrixNeedBackupCreator  matrixNeed = "Project Backup Creator"
	matrixNeedProjectOwner   matrixNeed = "Project Owner"
	matrixNeedClusterManager matrixNeed = "Project Cluster Manager"
	matrixNeedOrgOwner       matrixNeed = "Organization Owner"
)

// matrixSatisfiedBy is the "Roles that satisfy it" column of atlas-facts §4.3
// (and §4.2: every project role includes Project Read Only; ORG_OWNER grants
// Project Owner on every project of its organization).
var matrixSatisfiedBy = map[matrixNeed][]snapexport.Role{
	matrixNeedReadOnly: {
		snapexport.RoleGroupReadOnly, snapexport.RoleGroupBackupCreator, snapexport.RoleGroupBackupExportOperator,
		snapexport.RoleGroupBackupManager, snapexport.RoleGroupClusterManager, snapexport.RoleGroupOwner, snapexport.RoleOrgOwner,
	},
	matrixNeedBackupManager: {snapexport.RoleGroupBackupManager, snapexport.RoleGroupOwner, snapexport.RoleOrgOwner},
	matrixNeedExportOperator: {snapexport.RoleGroupBackupExportOperator, snapexport.RoleGroupBackupManager,
		snapexport.RoleGroupOwner, snapexport.RoleOrgOwner},
	matrixNeedProjectOwner:   {snapexport.RoleGroupOwner, snapexport.RoleOrgOwner},
	matrixNeedClusterManager: {snapexport.RoleGroupClusterManager, snapexport.RoleGroupOwner, snapexport.RoleOrgOwner},
	matrixNeedBackupCreator: {snapexport.RoleGroupBackupCreator, snapexport.RoleGroupBackupManager, snapexport.RoleGroupOwner,
		snapexport.RoleOrgOwner},
	matrixNeedOrgOwner: {snapexport.RoleOrgOwner},
}

// matrixOp is one operation in one API version.
type matrixOp struct {
	id      string // Atlas operationId
	api     string // "v2" or "v1.0"
	version string // dated media type for v2
	method  string
	need    matrixNeed
	success int
	// inProject is false for the operations without a groupId in the path.
	inProject bool
	// prepare sets up what one call needs (fresh resources for calls that
	// change them) and returns the path below /api/atlas/<api>, the body,
	// and a check of the state afterwards: changed when allowed, untouched
	// when denied.
	prepare func(t *testing.T, f *matrixFixture, c *matrixCaller) matrixPrepared
}

type matrixPrepared struct {
	path  string
	body  string
	check func(t *testing.T, res *apitest.Response, allowed bool)
}

func (op matrixOp) String() string {
	if op.api == "v2" {
		return op.id + "@" + op.version
	}
	return op.id + "@v1.0"
}

const matrixARN = "arn:aws:iam::123456789012:role/export"

// matrixOps is the table: each operation, each version it is served in, the
// minimum role Atlas's specification requires (atlas-facts §4.3; v1.0 per
// SPEC-V1: buckets list/get Read Only, create/delete Backup Manager, cloud
// provider access all Project Owner) and the success status (§1).
func matrixOps() []matrixOp {
	var ops []matrixOp
	// add adds an operation in each v2 version it is served in, needing
	// v2Need, and in v1.0 needing v1Need unless that is notInV1.
	add := func(id string, versions []string, method string, v2Need, v1Need matrixNeed, success int, inProject bool,
		prepare func(t *testing.T, f *matrixFixture, c *matrixCaller) matrixPrepared) {
		for _, v := range versions {
			ops = append(ops, matrixOp{id: id, api: "v2", version: v, method: method, need: v2Need, success: success, inProject: inProject, prepare: prepare})
		}
		if v1Need != notInV1 {
			ops = append(ops, matrixOp{id: id, api: "v1.0", method: method, need: v1Need, success: success, inProject: inProject, prepare: prepare})
		}
	}
	both := []string{"2023-01-01", "2024-05-30"}
	only := func(v string) []string { return []string{v} }

	// Export buckets (§1.1, §4.3).
	add("listGroupBackupExportBuckets", both, "GET", matrixNeedReadOnly, matrixNeedReadOnly, 200, true, matrixPrepListBuckets)
	add("createGroupBackupExportBucket", both, "POST", matrixNeedBackupManager, matrixNeedBackupManager, 200, true, matrixPrepCreateBucket)
	add("getGroupBackupExportBucket", both, "GET", matrixNeedReadOnly, matrixNeedReadOnly, 200, true, matrixPrepGetBucket)
	add("updateGroupBackupExportBucket", only("2024-05-30"), "PATCH", matrixNeedBackupManager, notInV1, 200, true, matrixPrepPatchBucket)
	add("deleteGroupBackupExportBucket", only("2023-01-01"), "DELETE", matrixNeedBackupManager, matrixNeedBackupManager, 204, true, matrixPrepDeleteBucket)

	// Cloud provider access (§1.3, §4.3): list/get Read Only in v2 since
	// July 2026, Project Owner for all five in v1.0.
	add("listGroupCloudProviderAccess", only("2023-01-01"), "GET", matrixNeedReadOnly, matrixNeedProjectOwner, 200, true, matrixPrepListRoles)
	add("createGroupCloudProviderAccess", only("2023-01-01"), "POST", matrixNeedProjectOwner, matrixNeedProjectOwner, 200, true, matrixPrepCreateRole)
	add("getGroupCloudProviderAccess", only("2023-01-01"), "GET", matrixNeedReadOnly, matrixNeedProjectOwner, 200, true, matrixPrepGetRole)
	add("authorizeGroupCloudProviderAccessRole", only("2023-01-01"), "PATCH", matrixNeedProjectOwner, matrixNeedProjectOwner, 200, true, matrixPrepAuthorizeRole)
	add("deauthorizeGroupCloudProviderAccessRole", only("2023-01-01"), "DELETE", matrixNeedProjectOwner, matrixNeedProjectOwner, 204, true, matrixPrepDeauthorizeRole)

	// Projects are outside §4.3. Atlas's role docs: every authenticated
	// caller may list the projects it can see, reading a project needs any
	// role on it, and creating one needs the organization's owner.
	add("listProjects", only("2023-01-01"), "GET", matrixNeedAuthenticated, notInV1, 200, false, matrixPrepListProjects)
	add("createProject", only("2023-01-01"), "POST", matrixNeedOrgOwner, notInV1, 201, false, matrixPrepCreateProject)
	add("getProject", only("2023-01-01"), "GET", matrixNeedReadOnly, notInV1, 200, true, matrixPrepGetProject)

	// Object-storage private endpoints (§1.5, §4.3): Project Owner, 2024-11-13.
	add("listGroupBackupPrivateEndpoints", only("2024-11-13"), "GET", matrixNeedProjectOwner, notInV1, 200, true, matrixPrepListEndpoints)
	add("createGroupBackupPrivateEndpoint", only("2024-11-13"), "POST", matrixNeedProjectOwner, notInV1, 201, true, matrixPrepCreateEndpoint)
	add("getGroupBackupPrivateEndpoint", only("2024-11-13"), "GET", matrixNeedProjectOwner, notInV1, 200, true, matrixPrepGetEndpoint)
	add("deleteGroupBackupPrivateEndpoint", only("2024-11-13"), "DELETE", matrixNeedProjectOwner, notInV1, 204, true, matrixPrepDeleteEndpoint)

	// Clusters (§1.6): read by any project role; the backup schedule is
	// read with Project Read Only, changed and its policy items removed by
	// the Backup Manager (Atlas's x-rolesRequirements), in both versions.
	add("listGroupClusters", []string{"2023-01-01", "2023-02-01", "2024-08-05"}, "GET", matrixNeedReadOnly, notInV1, 200, true, matrixPrepListClusters)
	add("getGroupCluster", []string{"2023-01-01", "2023-02-01", "2024-08-05"}, "GET", matrixNeedReadOnly, notInV1, 200, true, matrixPrepGetCluster)
	// Creating, changing and deleting clusters needs Project Cluster
	// Manager (Atlas's x-xgen role notes; Project Owner includes it); the
	// cluster's status is read with any project role.
	changing := []string{"2023-01-01", "2023-02-01", "2024-08-05", "2024-10-23"}
	add("createGroupCluster", changing, "POST", matrixNeedClusterManager, notInV1, 201, true, matrixPrepCreateCluster)
	add("updateGroupCluster", changing, "PATCH", matrixNeedClusterManager, notInV1, 200, true, matrixPrepPatchCluster)
	add("deleteGroupCluster", []string{"2023-01-01", "2023-02-01"}, "DELETE", matrixNeedClusterManager, notInV1, 202, true, matrixPrepDeleteCluster)
	add("getGroupClusterStatus", only("2023-01-01"), "GET", matrixNeedReadOnly, notInV1, 200, true, matrixPrepClusterStatus)
	schedule := []string{"2023-01-01", "2024-08-05"}
	add("getGroupClusterBackupSchedule", schedule, "GET", matrixNeedReadOnly, notInV1, 200, true, matrixPrepGetSchedule)
	add("updateGroupClusterBackupSchedule", schedule, "PATCH", matrixNeedBackupManager, notInV1, 200, true, matrixPrepPatchSchedule)
	add("deleteGroupClusterBackupSchedule", schedule, "DELETE", matrixNeedBackupManager, notInV1, 200, true, matrixPrepDeleteSchedule)

	// Flex clusters (§1.6): none exists here, so a caller the role lets
	// through gets Atlas's answer for a dedicated cluster, 400
	// CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API; read with any project role.
	add("getGroupFlexCluster", only("2024-11-13"), "GET", matrixNeedReadOnly, notInV1, 400, true, matrixPrepFlex(""))
	add("listGroupFlexBackupSnapshots", only("2024-11-13"), "GET", matrixNeedReadOnly, notInV1, 400, true, matrixPrepFlex("/backup/snapshots"))
	add("getGroupFlexBackupSnapshot", only("2024-11-13"), "GET", matrixNeedReadOnly, notInV1, 400, true, matrixPrepFlex("/backup/snapshots/6a7944f22c88faeba59d3572"))

	// Snapshots (§1.4, §4.3): read with Project Read Only, expiry changes
	// and deletes by the Backup Manager; 2023-01-01 only. v1.0 has the
	// same roles.
	v2023 := only("2023-01-01")
	add("listGroupClusterBackupSnapshots", v2023, "GET", matrixNeedReadOnly, matrixNeedReadOnly, 200, true, matrixPrepListSnapshots)
	add("takeGroupClusterBackupSnapshots", v2023, "POST", matrixNeedBackupCreator, matrixNeedBackupCreator, 200, true, matrixPrepTakeSnapshot)
	add("getGroupClusterBackupSnapshot", v2023, "GET", matrixNeedReadOnly, matrixNeedReadOnly, 200, true, matrixPrepGetSnapshot)
	add("updateGroupClusterBackupSnapshot", v2023, "PATCH", matrixNeedBackupManager, matrixNeedBackupManager, 200, true, matrixPrepPatchSnapshot)
	add("deleteGroupClusterBackupSnapshot", v2023, "DELETE", matrixNeedBackupManager, matrixNeedBackupManager, 204, true, matrixPrepDeleteSnapshot)
	add("listGroupClusterBackupSnapshotShardedClusters", v2023, "GET", matrixNeedReadOnly, matrixNeedReadOnly, 200, true, matrixPrepListShardedSnapshots)
	add("getGroupClusterBackupSnapshotShardedCluster", v2023, "GET", matrixNeedReadOnly, matrixNeedReadOnly, 200, true, matrixPrepGetShardedSnapshot)
	add("deleteGroupClusterBackupSnapshotShardedCluster", v2023, "DELETE", matrixNeedBackupManager, matrixNeedBackupManager, 204, true, matrixPrepDeleteShardedSnapshot)

	// Export jobs (§1.2, §4.3): 2023-01-01; create needs the Export
	// Operator, list and get the Backup Manager; v1.0 all three the Backup
	// Manager.
	add("listGroupClusterBackupExports", v2023, "GET", matrixNeedBackupManager, matrixNeedBackupManager, 200, true, matrixPrepListExports)
	add("createGroupClusterBackupExport", v2023, "POST", matrixNeedExportOperator, matrixNeedBackupManager, 200, true, matrixPrepCreateExport)
	add("getGroupClusterBackupExport", v2023, "GET", matrixNeedBackupManager, matrixNeedBackupManager, 200, true, matrixPrepGetExport)
	return ops
}

// callerKind says how a caller is matrixExpected to fail, if at all.
type callerKind int

const (
	callerNoCredentials callerKind = iota
	callerWrongPassword
	callerExpiredToken
	callerRevokedToken
	callerNotInProject // authenticated, without any role on the target project
	callerWithRole     // holds role on the target project (or ORG_OWNER on its org)
)

type matrixCaller struct {
	name string
	kind callerKind
	role snapexport.Role // callerWithRole
	// inProjectList: whether the caller's project list shows the target project.
	inProjectList bool
	publicKey     string
	privateKey    string
	token         string
}

// matrixFixture is a server with an organization, its target project A, a
// second project B of the same organization and a second organization.
type matrixFixture struct {
	t        *testing.T
	srv      *server.Server
	test     *testserver.Server // srv, as the test server that started it
	client   *apitest.Client
	offset   atomic.Int64 // added to the server's clock, in ns
	orgID    string
	groupID  string // project A, every operation's target
	otherID  string // project B
	org2ID   string
	roleID   string // an authorized AWS role of A, used by bucketID
	bucketID string // an AWS bucket of A
	n        int
}

var matrixHash = auth.HashParams{Time: 1, Memory: 64, Threads: 1}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	ctx := context.Background()
	f := &matrixFixture{t: t}
	// The server's clock can be moved, to age bearer tokens. The server
	// runs on PostgreSQL when SNAPEXPORTTEST_DATABASE names one.
	// Export jobs the matrix creates stay queued: their snapshots have no
	// data to export.
	ts := testserver.NewServer(t, testserver.Options{Limits: &api.Limits{Disabled: true}, NoExports: true,
		Now: func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }})
	srv := ts.Server
	f.srv, f.test, f.client = srv, ts, &apitest.Client{BaseURL: ts.URL}
	f.orgID, f.groupID = ts.OrgID, ts.GroupID
	other, err := srv.Service.CreateProject(ctx, nil, f.orgID, "project-b")
	if err != nil {
		t.Fatal(err)
	}
	f.otherID = other.ID
	org2, err := srv.Service.CreateOrganization(ctx, "other-org")
	if err != nil {
		t.Fatal(err)
	}
	f.org2ID = org2.ID
	f.roleID = f.authorizedRole()
	f.bucketID = f.bucket(f.roleID)
	return f
}

func (f *matrixFixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", prefix, f.n)
}

// newRole creates an AWS role in project A, not yet authorized.
func (f *matrixFixture) newRole() string {
	f.t.Helper()
	r, err := f.srv.Service.CreateRole(context.Background(), f.groupID, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ID
}

func (f *matrixFixture) authorizedRole() string {
	f.t.Helper()
	id := f.newRole()
	if _, err := f.srv.Service.AuthorizeRole(context.Background(), f.groupID, id,
		service.RoleInput{Provider: snapexport.AWS, IAMAssumedRoleARN: matrixARN}); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *matrixFixture) bucket(roleID string) string {
	f.t.Helper()
	b, err := f.srv.Service.CreateBucket(context.Background(), f.groupID,
		service.BucketInput{Provider: snapexport.AWS, BucketName: f.unique("matrix-bucket"), RoleID: roleID})
	if err != nil {
		f.t.Fatal(err)
	}
	return b.ID
}

// apiKey creates an API key of org with orgRoles and, when project is
// set, role on that project.
func (f *matrixFixture) apiKey(org string, orgRoles []snapexport.Role, project string, role snapexport.Role) (string, string) {
	f.t.Helper()
	ctx := context.Background()
	creds, err := f.srv.Service.CreateAPIKey(ctx, org, "role matrix", orgRoles)
	if err != nil {
		f.t.Fatal(err)
	}
	if project != "" {
		if err := f.srv.Service.AssignRole(ctx, service.PrincipalRef{PublicKey: creds.PublicKey}, project, role); err != nil {
			f.t.Fatal(err)
		}
	}
	return creds.PublicKey, creds.PrivateKey
}

// serviceAccount creates a service account with role on project A.
func (f *matrixFixture) serviceAccount(role snapexport.Role) service.Credentials {
	f.t.Helper()
	ctx := context.Background()
	creds, err := f.srv.Service.CreateServiceAccount(ctx, f.orgID, f.unique("matrix-sa"), "role matrix", nil, matrixHash)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.srv.Service.AssignRole(ctx, service.PrincipalRef{ClientID: creds.ClientID}, f.groupID, role); err != nil {
		f.t.Fatal(err)
	}
	return creds
}

func (f *matrixFixture) issueToken(creds service.Credentials) string {
	f.t.Helper()
	tok, err := f.srv.Auth.IssueToken(context.Background(), auth.Client{ID: creds.ClientID, Secret: creds.ClientSecret})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok.AccessToken
}

// mustWork checks that a caller's credentials work at all, so that a later
// 401 is due to what the test changed and not to broken set-up.
func (f *matrixFixture) mustWork(c *matrixCaller) {
	f.t.Helper()
	res := f.do(c, "GET", "/api/atlas/v2/groups/"+f.groupID, "application/vnd.atlas.2023-01-01+json", "")
	if res.Status != 200 {
		f.t.Fatalf("set-up: %s cannot read its project: %d %s", c.name, res.Status, res.Body)
	}
}

func (f *matrixFixture) callers() []*matrixCaller {
	t := f.t
	var cs []*matrixCaller
	ownerPub, ownerPriv := f.apiKey(f.orgID, []snapexport.Role{snapexport.RoleOrgOwner}, "", "")

	cs = append(cs, &matrixCaller{name: "no credentials", kind: callerNoCredentials})
	cs = append(cs, &matrixCaller{name: "wrong password", kind: callerWrongPassword, publicKey: ownerPub, privateKey: ownerPriv + "x"})

	// A token of a project owner, issued two hours ago: Atlas tokens live 3600 s.
	expired := &matrixCaller{name: "expired token", kind: callerExpiredToken}
	sa := f.serviceAccount(snapexport.RoleGroupOwner)
	f.offset.Store(int64(-2 * time.Hour))
	expired.token = f.issueToken(sa)
	f.mustWork(expired)
	f.offset.Store(0)
	cs = append(cs, expired)

	// A token of a project owner, revoked through the revocation endpoint.
	revoked := &matrixCaller{name: "revoked token", kind: callerRevokedToken}
	sa = f.serviceAccount(snapexport.RoleGroupOwner)
	revoked.token = f.issueToken(sa)
	f.mustWork(revoked)
	if res := f.client.RevokeToken(t, sa.ClientID, sa.ClientSecret, revoked.token); res.Status != 200 {
		t.Fatalf("set-up: revoke answered %d", res.Status)
	}
	cs = append(cs, revoked)

	// Authenticated callers without a role on project A.
	pub, priv := f.apiKey(f.orgID, nil, f.otherID, snapexport.RoleGroupOwner)
	cs = append(cs, &matrixCaller{name: "key owning only another project", kind: callerNotInProject, publicKey: pub, privateKey: priv})
	pub, priv = f.apiKey(f.org2ID, []snapexport.Role{snapexport.RoleOrgOwner}, "", "")
	cs = append(cs, &matrixCaller{name: "owner of another organization", kind: callerNotInProject, publicKey: pub, privateKey: priv})
	// Organization Member gives no access to a project one was not added to
	// (Atlas docs, "Atlas User Roles").
	pub, priv = f.apiKey(f.orgID, []snapexport.Role{snapexport.RoleOrgMember}, "", "")
	cs = append(cs, &matrixCaller{name: "ORG_MEMBER", kind: callerNotInProject, publicKey: pub, privateKey: priv})

	// One role each.
	for _, role := range []snapexport.Role{snapexport.RoleGroupReadOnly, snapexport.RoleGroupBackupCreator,
		snapexport.RoleGroupBackupExportOperator, snapexport.RoleGroupBackupManager, snapexport.RoleGroupClusterManager, snapexport.RoleGroupOwner} {
		pub, priv := f.apiKey(f.orgID, nil, f.groupID, role)
		cs = append(cs, &matrixCaller{name: "key " + string(role), kind: callerWithRole, role: role, inProjectList: true, publicKey: pub, privateKey: priv})
	}
	cs = append(cs, &matrixCaller{name: "key ORG_OWNER", kind: callerWithRole, role: snapexport.RoleOrgOwner, inProjectList: true,
		publicKey: ownerPub, privateKey: ownerPriv})
	// The same rules through bearer tokens.
	for _, role := range []snapexport.Role{snapexport.RoleGroupReadOnly, snapexport.RoleGroupBackupManager} {
		c := &matrixCaller{name: "service account " + string(role), kind: callerWithRole, role: role, inProjectList: true}
		c.token = f.issueToken(f.serviceAccount(role))
		cs = append(cs, c)
	}
	return cs
}

// auth is how the caller authenticates: not at all, with its bearer
// token, or the digest way (first without credentials, then answering the
// challenge).
func (c *matrixCaller) auth() apitest.Auth {
	switch {
	case c.kind == callerNoCredentials:
		return apitest.NoAuth
	case c.token != "":
		return apitest.Bearer(c.token)
	}
	return apitest.Digest(c.publicKey, c.privateKey)
}

// do calls path as c.
func (f *matrixFixture) do(c *matrixCaller, method, path, accept, body string) *apitest.Response {
	f.t.Helper()
	return f.client.Do(f.t, apitest.Request{Method: method, Path: path, Accept: accept, Body: body, Auth: c.auth()})
}

// matrixExpected is what a caller gets from an operation.
type matrixExpected struct {
	status    int
	code      string // errorCode of a 401 other than the challenge
	challenge bool   // Atlas's digest challenge
	bearer    bool   // bearer-token rejection (code not fixed by Atlas's docs)
}

func (e matrixExpected) allowed() bool { return e.status < 300 }

func matrixExpect(op matrixOp, c *matrixCaller) matrixExpected {
	switch c.kind {
	case callerNoCredentials, callerWrongPassword:
		return matrixExpected{status: 401, challenge: true}
	case callerExpiredToken, callerRevokedToken:
		return matrixExpected{status: 401, bearer: true}
	case callerNotInProject:
		switch {
		case op.inProject:
			return matrixExpected{status: 401, code: "NOT_IN_GROUP"}
		case op.need == matrixNeedAuthenticated:
			return matrixExpected{status: op.success}
		default:
			return matrixExpected{status: 401, code: "USER_UNAUTHORIZED"}
		}
	}
	if op.need == matrixNeedAuthenticated || slices.Contains(matrixSatisfiedBy[op.need], c.role) {
		return matrixExpected{status: op.success}
	}
	return matrixExpected{status: 401, code: "USER_UNAUTHORIZED"}
}

func TestRoleMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	callers := f.callers()
	ops := matrixOps()
	checkMatrixCoversOperations(t, ops)

	for _, op := range ops {
		for _, c := range callers {
			t.Run(op.String()+"/"+c.name, func(t *testing.T) {
				f.t = t
				want := matrixExpect(op, c)
				p := op.prepare(t, f, c)
				accept := "application/json"
				prefix := "/api/atlas/v1.0"
				if op.api == "v2" {
					accept = "application/vnd.atlas." + op.version + "+json"
					prefix = "/api/atlas/v2"
				}
				res := f.do(c, op.method, prefix+p.path, accept, p.body)
				if res.Status != want.status {
					t.Fatalf("%s %s%s as %s: status %d, want %d (needs %s)\n%s", op.method, prefix, p.path, c.name, res.Status, want.status, op.need, res.Body)
				}
				switch {
				case want.challenge:
					apitest.WantChallenge(t, res, false)
				case want.bearer:
					matrixCheckBearerRejection(t, res)
				case want.code != "":
					apitest.WantError(t, res, want.status, want.code)
				}
				p.check(t, res, want.allowed())
			})
		}
	}
}

func matrixCheckBearerRejection(t *testing.T, res *apitest.Response) {
	t.Helper()
	body := res.Object(t)
	code, _ := body["errorCode"].(string)
	if code == "" || body["error"] != float64(401) {
		t.Fatalf("bearer rejection body = %s, want an ApiError with error 401 and an errorCode", res.Body)
	}
	if code == "NOT_IN_GROUP" || code == "USER_UNAUTHORIZED" {
		t.Errorf("an invalid token got %s, which would mean it was accepted as a caller", code)
	}
	if got := res.Header.Get("X-Error-Code"); got != code {
		t.Errorf("X-Error-Code = %q, want %q", got, code)
	}
	if strings.HasPrefix(res.Header.Get("Www-Authenticate"), "Digest ") {
		t.Errorf("a bearer-token rejection carries a digest challenge")
	}
}

// checkMatrixCoversOperations reads api/operations.go for its operation ids
// and versions (not its roles) so that an operation added there without a
// row here fails the test.
func checkMatrixCoversOperations(t *testing.T, ops []matrixOp) {
	t.Helper()
	src, err := os.ReadFile("../api/operations.go")
	if err != nil {
		t.Fatal(err)
	}
	dates := map[string]string{"v20230101": "2023-01-01", "v20230101Buckets": "2023-01-01", "v20230101Schedule": "2023-01-01", "v20240530": "2024-05-30", "v20241113": "2024-11-13",
		"v20230201": "2023-02-01", "v20240805": "2024-08-05", "v20230101Clusters": "2023-01-01", "v20241023": "2024-10-23", "v20230201Deletion": "2023-02-01"}
	have := map[string]bool{}
	for _, op := range ops {
		have[op.String()] = true
	}
	line := regexp.MustCompile(`\{id: "(\w+)".*?v2: \[\]version\{([^}]*)\}(.*)`)
	found := 0
	for _, m := range line.FindAllStringSubmatch(string(src), -1) {
		found++
		id := m[1]
		var want []string
		for _, v := range strings.Split(m[2], ",") {
			v = strings.TrimSpace(v)
			d, ok := dates[v]
			if !ok {
				t.Errorf("operations.go: %s serves version %s, unknown to the role matrix", id, v)
				continue
			}
			want = append(want, id+"@"+d)
		}
		if strings.Contains(m[3], "v1: true") {
			want = append(want, id+"@v1.0")
		}
		for _, w := range want {
			if !have[w] {
				t.Errorf("operations.go serves %s; the role matrix has no row for it", w)
			}
			delete(have, w)
		}
	}
	if found == 0 {
		t.Fatal("found no operations in api/operations.go")
	}
	for w := range have {
		t.Errorf("the role matrix has a row for %s, which operations.go does not serve", w)
	}
}

// Preparation and checks for each operation.

func matrixBucketsPath(f *matrixFixture) string {
	return "/groups/" + f.groupID + "/backup/exportBuckets"
}
func matrixRolesPath(f *matrixFixture) string { return "/groups/" + f.groupID + "/cloudProviderAccess" }

func matrixPrepListBuckets(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return matrixPrepared{path: matrixBucketsPath(f) + "?itemsPerPage=500", check: matrixListed("results", "_id", f.bucketID, "bucket")}
}

func matrixPrepCreateBucket(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	roleID := f.authorizedRole()
	name := f.unique("created-bucket")
	body := fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID)
	return matrixPrepared{path: matrixBucketsPath(f), body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		r, err := f.srv.Service.Role(context.Background(), f.groupID, roleID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case allowed && (len(r.Buckets) != 1 || r.Buckets[0].BucketName != name || res.Object(t)["_id"] != r.Buckets[0].ID):
			t.Errorf("after a 200, the role's buckets are %v, want the one created (%s)", r.Buckets, res.Body)
		case !allowed && len(r.Buckets) != 0:
			t.Errorf("a refused create still created bucket %s", r.Buckets[0].ID)
		}
	}}
}

func matrixPrepGetBucket(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return matrixPrepared{path: matrixBucketsPath(f) + "/" + f.bucketID, check: matrixGot("_id", f.bucketID, "bucket")}
}

func matrixPrepPatchBucket(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	id := f.bucket(f.roleID)
	return matrixPrepared{path: matrixBucketsPath(f) + "/" + id, body: `{"requirePrivateNetworking":true}`, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		b, err := f.srv.Service.Bucket(context.Background(), f.groupID, id)
		if err != nil {
			t.Fatal(err)
		}
		if b.RequirePrivateNetworking != allowed {
			t.Errorf("requirePrivateNetworking = %v after a call that was allowed=%v", b.RequirePrivateNetworking, allowed)
		}
	}}
}

func matrixPrepDeleteBucket(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	id := f.bucket(f.roleID)
	return matrixPrepared{path: matrixBucketsPath(f) + "/" + id, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		_, err := f.srv.Service.Bucket(context.Background(), f.groupID, id)
		if gone := err != nil; gone != allowed {
			t.Errorf("bucket gone = %v (%v) after a call that was allowed=%v", gone, err, allowed)
		}
		if allowed && len(res.Body) != 0 {
			t.Errorf("204 with a body: %s", res.Body)
		}
	}}
}

func matrixPrepListRoles(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return matrixPrepared{path: matrixRolesPath(f), check: matrixListed("awsIamRoles", "roleId", f.roleID, "role")}
}

func matrixCountRoles(t *testing.T, f *matrixFixture) int {
	roles, err := f.srv.Service.ListRoles(context.Background(), f.groupID)
	if err != nil {
		t.Fatal(err)
	}
	return len(roles)
}

func matrixPrepCreateRole(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	before := matrixCountRoles(t, f)
	return matrixPrepared{path: matrixRolesPath(f), body: `{"providerName":"AWS"}`, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		after := matrixCountRoles(t, f)
		want := before
		if allowed {
			want++
			if id, _ := res.Object(t)["roleId"].(string); !snapexport.IsObjectID(id) {
				t.Errorf("created role has no roleId: %s", res.Body)
			}
		}
		if after != want {
			t.Errorf("the project has %d roles, want %d (allowed=%v)", after, want, allowed)
		}
	}}
}

func matrixPrepGetRole(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return matrixPrepared{path: matrixRolesPath(f) + "/" + f.roleID, check: matrixGot("roleId", f.roleID, "role")}
}

func matrixPrepAuthorizeRole(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	id := f.newRole()
	body := fmt.Sprintf(`{"providerName":"AWS","iamAssumedRoleArn":%q}`, matrixARN)
	return matrixPrepared{path: matrixRolesPath(f) + "/" + id, body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		r, err := f.srv.Service.Role(context.Background(), f.groupID, id)
		if err != nil {
			t.Fatal(err)
		}
		if authorized := r.Authorized(); authorized != allowed {
			t.Errorf("role authorized = %v after a call that was allowed=%v", authorized, allowed)
		}
	}}
}

func matrixPrepDeauthorizeRole(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	id := f.authorizedRole()
	return matrixPrepared{path: matrixRolesPath(f) + "/AWS/" + id, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		_, err := f.srv.Service.Role(context.Background(), f.groupID, id)
		if gone := err != nil; gone != allowed {
			t.Errorf("role gone = %v (%v) after a call that was allowed=%v", gone, err, allowed)
		}
	}}
}

func matrixPrepListProjects(t *testing.T, f *matrixFixture, c *matrixCaller) matrixPrepared {
	return matrixPrepared{path: "/groups?itemsPerPage=500", check: func(t *testing.T, res *apitest.Response, allowed bool) {
		if !allowed {
			return
		}
		var ids []string
		results, _ := res.Object(t)["results"].([]any)
		for _, r := range results {
			if m, _ := r.(map[string]any); m != nil {
				id, _ := m["id"].(string)
				ids = append(ids, id)
			}
		}
		if shown := slices.Contains(ids, f.groupID); shown != c.inProjectList {
			t.Errorf("project A shown = %v, want %v (projects: %v)", shown, c.inProjectList, ids)
		}
	}}
}

func matrixPrepCreateProject(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.unique("created-project")
	body := fmt.Sprintf(`{"name":%q,"orgId":%q}`, name, f.orgID)
	return matrixPrepared{path: "/groups", body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		ps, err := f.srv.Service.OrgProjects(context.Background(), f.orgID)
		if err != nil {
			t.Fatal(err)
		}
		exists := slices.ContainsFunc(ps, func(p *snapexport.Project) bool { return p.Name == name })
		if exists != allowed {
			t.Errorf("project %s exists = %v after a call that was allowed=%v", name, exists, allowed)
		}
	}}
}

func matrixPrepGetProject(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return matrixPrepared{path: "/groups/" + f.groupID, check: matrixGot("id", f.groupID, "project")}
}

// TestRoleMatrixDigestSigner checks that the digest signer the matrix
// calls with is sound: the same request answered with the right password passes,
// so "wrong password" failures in the matrix are due to the password.
func TestRoleMatrixDigestSigner(t *testing.T) {
	f := newMatrixFixture(t)
	pub, priv := f.apiKey(f.orgID, []snapexport.Role{snapexport.RoleOrgOwner}, "", "")
	good := &matrixCaller{name: "owner", kind: callerWithRole, publicKey: pub, privateKey: priv}
	path := "/api/atlas/v2/groups/" + f.groupID + "/backup/exportBuckets?pageNum=1&itemsPerPage=5"
	if res := f.do(good, "GET", path, "application/vnd.atlas.2024-05-30+json", ""); res.Status != 200 {
		t.Fatalf("right password: %d %s", res.Status, res.Body)
	}
	bad := &matrixCaller{name: "owner", kind: callerWrongPassword, publicKey: pub, privateKey: priv[:len(priv)-1]}
	if res := f.do(bad, "GET", path, "application/vnd.atlas.2024-05-30+json", ""); res.Status != 401 {
		t.Fatalf("wrong password: %d %s", res.Status, res.Body)
	}
}

func matrixEndpointsPath(f *matrixFixture) string {
	return "/groups/" + f.groupID + "/backup/AWS/privateEndpoints"
}

// newEndpoint declares a private endpoint in a region not used before.
func (f *matrixFixture) newEndpoint() string {
	f.t.Helper()
	f.n++
	region := snapexport.PrivateEndpointRegions[f.n%len(snapexport.PrivateEndpointRegions)]
	e, err := f.srv.Service.CreatePrivateEndpoint(context.Background(), f.groupID, service.PrivateEndpointInput{
		Provider: snapexport.AWS, RegionName: region, VPCRegionName: snapexport.PrivateEndpointRegions[(f.n/len(snapexport.PrivateEndpointRegions))%len(snapexport.PrivateEndpointRegions)]})
	if err != nil {
		f.t.Fatal(err)
	}
	return e.ID
}

func matrixCountEndpoints(t *testing.T, f *matrixFixture) int {
	_, total, err := f.srv.Service.PrivateEndpoints(context.Background(), f.groupID, snapexport.AWS, snapexport.Page{}, "")
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func matrixPrepListEndpoints(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	want := matrixCountEndpoints(t, f)
	return matrixPrepared{path: matrixEndpointsPath(f) + "?itemsPerPage=500", check: func(t *testing.T, res *apitest.Response, allowed bool) {
		if !allowed {
			return
		}
		if results, _ := res.Object(t)["results"].([]any); len(results) != want {
			t.Errorf("listed %d endpoints, want %d", len(results), want)
		}
	}}
}

func matrixPrepCreateEndpoint(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	before := matrixCountEndpoints(t, f)
	f.n++
	body := fmt.Sprintf(`{"cloudProvider":"AWS","regionName":%q,"vpcRegionName":"GLOBAL"}`, snapexport.PrivateEndpointRegions[f.n%(len(snapexport.PrivateEndpointRegions)-1)])
	return matrixPrepared{path: matrixEndpointsPath(f), body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		after := matrixCountEndpoints(t, f)
		want := before
		if allowed {
			want++
		}
		if after != want {
			t.Errorf("the project has %d private endpoints, want %d (allowed=%v)", after, want, allowed)
		}
	}}
}

func matrixPrepGetEndpoint(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	id := f.newEndpoint()
	return matrixPrepared{path: matrixEndpointsPath(f) + "/" + id, check: matrixGot("id", id, "endpoint")}
}

func matrixPrepDeleteEndpoint(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	id := f.newEndpoint()
	return matrixPrepared{path: matrixEndpointsPath(f) + "/" + id, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		_, err := f.srv.Service.PrivateEndpoint(context.Background(), f.groupID, snapexport.AWS, id)
		if gone := err != nil; gone != allowed {
			t.Errorf("endpoint gone = %v (%v) after a call that was allowed=%v", gone, err, allowed)
		}
	}}
}

// cluster registers a new cluster in project A.
func (f *matrixFixture) cluster() string {
	f.t.Helper()
	c, err := f.srv.Service.CreateCluster(context.Background(), service.ClusterInput{ProjectID: f.groupID, Name: f.unique("matrix-cluster")})
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Name
}

func matrixClustersPath(f *matrixFixture) string { return "/groups/" + f.groupID + "/clusters" }

func matrixPrepListClusters(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	return matrixPrepared{path: matrixClustersPath(f) + "?itemsPerPage=500", check: matrixListed("results", "name", name, "cluster")}
}

// matrixClusterBody creates a replica set named name.
func matrixClusterBody(name string) string {
	return fmt.Sprintf(`{"name":%q,"clusterType":"REPLICASET","replicationSpecs":[{"regionConfigs":[{"providerName":"AWS","regionName":"US_EAST_1",`+
		`"priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":3}}]}]}`, name)
}

func matrixPrepCreateCluster(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.unique("created-cluster")
	return matrixPrepared{path: matrixClustersPath(f), body: matrixClusterBody(name), check: func(t *testing.T, res *apitest.Response, allowed bool) {
		_, err := f.srv.Service.Cluster(context.Background(), f.groupID, name)
		if exists := err == nil; exists != allowed {
			t.Errorf("cluster %s exists = %v (%v) after a call that was allowed=%v", name, exists, err, allowed)
		}
		if allowed && res.Object(t)["name"] != name {
			t.Errorf("201 without the cluster: %s", res.Body)
		}
	}}
}

func matrixPrepPatchCluster(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	return matrixPrepared{path: matrixClustersPath(f) + "/" + name, body: `{"terminationProtectionEnabled":true}`,
		check: func(t *testing.T, res *apitest.Response, allowed bool) {
			c, err := f.srv.Service.Cluster(context.Background(), f.groupID, name)
			if err != nil {
				t.Fatal(err)
			}
			if c.TerminationProtectionEnabled != allowed {
				t.Errorf("terminationProtectionEnabled = %v after a call that was allowed=%v", c.TerminationProtectionEnabled, allowed)
			}
		}}
}

func matrixPrepDeleteCluster(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	return matrixPrepared{path: matrixClustersPath(f) + "/" + name, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		_, err := f.srv.Service.Cluster(context.Background(), f.groupID, name)
		if gone := err != nil; gone != allowed {
			t.Errorf("cluster gone = %v (%v) after a call that was allowed=%v", gone, err, allowed)
		}
		if allowed && string(res.Body) != "{}" {
			t.Errorf("202 with %s, want {}", res.Body)
		}
	}}
}

func matrixPrepClusterStatus(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return matrixPrepared{path: matrixClustersPath(f) + "/" + f.cluster() + "/status", check: matrixGot("changeStatus", "APPLIED", "status")}
}

func matrixPrepGetCluster(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	return matrixPrepared{path: matrixClustersPath(f) + "/" + name, check: matrixGot("name", name, "cluster")}
}

// matrixPrepFlex calls the flex-cluster path below a dedicated cluster,
// extended by suffix, and checks the refusal a permitted caller gets.
func matrixPrepFlex(suffix string) func(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	return func(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
		name := f.cluster()
		return matrixPrepared{path: "/groups/" + f.groupID + "/flexClusters/" + name + suffix,
			check: func(t *testing.T, res *apitest.Response, _ bool) {
				if res.Status == 400 {
					apitest.WantError(t, res, 400, snapexport.CodeNonFlexClusterInFlexAPI)
				}
			}}
	}
}

func matrixPrepGetSchedule(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	return matrixPrepared{path: matrixClustersPath(f) + "/" + name + "/backup/schedule", check: matrixGot("clusterName", name, "the schedule of cluster")}
}

func matrixPrepPatchSchedule(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	body := fmt.Sprintf(`{"autoExportEnabled":false,"export":{"exportBucketId":%q,"frequencyType":"monthly"}}`, f.bucketID)
	return matrixPrepared{path: matrixClustersPath(f) + "/" + name + "/backup/schedule", body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		c, err := f.srv.Service.Cluster(context.Background(), f.groupID, name)
		if err != nil {
			t.Fatal(err)
		}
		if set := c.Schedule.ExportBucketID == f.bucketID; set != allowed {
			t.Errorf("export policy set = %v after a call that was allowed=%v", set, allowed)
		}
	}}
}

func matrixPrepDeleteSchedule(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	name := f.cluster()
	return matrixPrepared{path: matrixClustersPath(f) + "/" + name + "/backup/schedule", check: func(t *testing.T, res *apitest.Response, allowed bool) {
		c, err := f.srv.Service.Cluster(context.Background(), f.groupID, name)
		if err != nil {
			t.Fatal(err)
		}
		if removed := len(c.Schedule.PolicyItems) == 0; removed != allowed {
			t.Errorf("policy items removed = %v after a call that was allowed=%v", removed, allowed)
		}
	}}
}

// snapshotCluster registers a new cluster in project A, sharded when
// shards are named.
func (f *matrixFixture) snapshotCluster(shards ...string) *snapexport.Cluster {
	f.t.Helper()
	c, err := f.srv.Service.CreateCluster(context.Background(), service.ClusterInput{ProjectID: f.groupID, Name: f.unique("matrix-snapshots"), Shards: shards})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func matrixSnapshotsPath(f *matrixFixture, c *snapexport.Cluster) string {
	return matrixClustersPath(f) + "/" + c.Name + "/backup/snapshots"
}

// matrixListed checks that an allowed list shows, in its array field,
// the object whose key is want.
func matrixListed(field, key, want, what string) func(t *testing.T, res *apitest.Response, allowed bool) {
	return func(t *testing.T, res *apitest.Response, allowed bool) {
		if !allowed {
			return
		}
		items, _ := res.Object(t)[field].([]any)
		for _, r := range items {
			if m, _ := r.(map[string]any); m[key] == want {
				return
			}
		}
		t.Errorf("the list does not show %s %s: %s", what, want, res.Body)
	}
}

// matrixGot checks that an allowed get answers the object whose key is
// want.
func matrixGot(key, want, what string) func(t *testing.T, res *apitest.Response, allowed bool) {
	return func(t *testing.T, res *apitest.Response, allowed bool) {
		if allowed && res.Object(t)[key] != want {
			t.Errorf("got %s, want %s %s", res.Body, what, want)
		}
	}
}

// matrixGone checks that a snapshot is gone exactly when the call was allowed.
func matrixGone(f *matrixFixture, c *snapexport.Cluster, ids ...string) func(t *testing.T, res *apitest.Response, allowed bool) {
	return func(t *testing.T, res *apitest.Response, allowed bool) {
		for _, id := range ids {
			if gone := !f.test.SnapshotStored(t, c, id); gone != allowed {
				t.Errorf("snapshot %s gone = %v after a call that was allowed=%v", id, gone, allowed)
			}
		}
		if allowed && len(res.Body) != 0 {
			t.Errorf("204 with a body: %s", res.Body)
		}
	}
}

func matrixPrepListSnapshots(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster()
	s := f.test.StoreSnapshot(t, c, snapexport.Snapshot{})
	return matrixPrepared{path: matrixSnapshotsPath(f, c), check: matrixListed("results", "id", s.ID, "snapshot")}
}

func matrixPrepTakeSnapshot(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster()
	return matrixPrepared{path: matrixSnapshotsPath(f, c), body: `{"description":"matrix","retentionInDays":1}`, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		snaps, _, err := f.srv.Service.Snapshots(context.Background(), f.groupID, c.Name, snapexport.SnapshotReplicaSet, snapexport.Page{}, "")
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case allowed && (len(snaps) != 1 || res.Object(t)["id"] != snaps[0].ID):
			t.Errorf("after a 200 the cluster's snapshots are %v, want the one taken (%s)", snaps, res.Body)
		case !allowed && len(snaps) != 0:
			t.Errorf("a refused take still took snapshot %s", snaps[0].ID)
		}
	}}
}

func matrixPrepGetSnapshot(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster()
	s := f.test.StoreSnapshot(t, c, snapexport.Snapshot{})
	return matrixPrepared{path: matrixSnapshotsPath(f, c) + "/" + s.ID, check: matrixGot("id", s.ID, "snapshot")}
}

func matrixPrepPatchSnapshot(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster()
	s := f.test.StoreSnapshot(t, c, snapexport.Snapshot{})
	body := `{"retentionUnit":"YEARS","retentionValue":5}`
	return matrixPrepared{path: matrixSnapshotsPath(f, c) + "/" + s.ID, body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		got, err := f.srv.Service.Snapshot(context.Background(), f.groupID, c.Name, s.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if changed := !got.ExpiresAt.Equal(s.ExpiresAt); changed != allowed {
			t.Errorf("expiresAt changed = %v (%v) after a call that was allowed=%v", changed, got.ExpiresAt, allowed)
		}
	}}
}

func matrixPrepDeleteSnapshot(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster()
	s := f.test.StoreSnapshot(t, c, snapexport.Snapshot{})
	return matrixPrepared{path: matrixSnapshotsPath(f, c) + "/" + s.ID, check: matrixGone(f, c, s.ID)}
}

func matrixPrepListShardedSnapshots(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster("rs0", "rs1")
	s := storeShardedSnapshot(t, f.test, c, time.Now().UTC().Truncate(time.Second))
	return matrixPrepared{path: matrixSnapshotsPath(f, c) + "/shardedClusters", check: matrixListed("results", "id", s.ID, "snapshot")}
}

func matrixPrepGetShardedSnapshot(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster("rs0", "rs1")
	s := storeShardedSnapshot(t, f.test, c, time.Now().UTC().Truncate(time.Second))
	return matrixPrepared{path: matrixSnapshotsPath(f, c) + "/shardedCluster/" + s.ID, check: matrixGot("id", s.ID, "snapshot")}
}

func matrixPrepDeleteShardedSnapshot(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c := f.snapshotCluster("rs0", "rs1")
	s := storeShardedSnapshot(t, f.test, c, time.Now().UTC().Truncate(time.Second))
	return matrixPrepared{path: matrixSnapshotsPath(f, c) + "/shardedCluster/" + s.ID, check: matrixGone(f, c, s.ID, s.Members[0].ID, s.Members[1].ID)}
}

// exportCluster registers a new cluster in project A with one snapshot
// to export.
func (f *matrixFixture) exportCluster() (*snapexport.Cluster, *snapexport.Snapshot) {
	f.t.Helper()
	c := f.snapshotCluster()
	return c, f.test.StoreSnapshot(f.t, c, snapexport.Snapshot{})
}

// exportJob creates an export job of a new cluster.
func (f *matrixFixture) exportJob() (*snapexport.Cluster, *snapexport.ExportJob) {
	f.t.Helper()
	c, s := f.exportCluster()
	j, err := f.srv.Service.CreateExportJob(context.Background(), service.ExportJobInput{ProjectID: f.groupID, ClusterName: c.Name,
		SnapshotID: s.ID, ExportBucketID: f.bucketID})
	if err != nil {
		f.t.Fatal(err)
	}
	return c, j
}

func matrixExportsPath(f *matrixFixture, c *snapexport.Cluster) string {
	return matrixClustersPath(f) + "/" + c.Name + "/backup/exports"
}

func matrixPrepListExports(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c, j := f.exportJob()
	return matrixPrepared{path: matrixExportsPath(f, c), check: matrixListed("results", "id", j.ID, "export job")}
}

func matrixPrepCreateExport(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c, s := f.exportCluster()
	body := fmt.Sprintf(`{"exportBucketId":%q,"snapshotId":%q}`, f.bucketID, s.ID)
	return matrixPrepared{path: matrixExportsPath(f, c), body: body, check: func(t *testing.T, res *apitest.Response, allowed bool) {
		jobs, _, err := f.srv.Service.ExportJobs(context.Background(), f.groupID, c.Name, snapexport.Page{})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case allowed && (len(jobs) != 1 || res.Object(t)["id"] != jobs[0].ID || jobs[0].SnapshotID != s.ID):
			t.Errorf("after a 200 the cluster's jobs are %v, want the one created (%s)", jobs, res.Body)
		case !allowed && len(jobs) != 0:
			t.Errorf("a refused create still created job %s", jobs[0].ID)
		}
	}}
}

func matrixPrepGetExport(t *testing.T, f *matrixFixture, _ *matrixCaller) matrixPrepared {
	c, j := f.exportJob()
	return matrixPrepared{path: matrixExportsPath(f, c) + "/" + j.ID, check: matrixGot("id", j.ID, "export job")}
}

// TestCredentialChangesHoldAtOnce checks that the principals the server
// keeps between requests (auth.Authenticator's cache) never outlive a
// change made through it: a role taken away or a principal deleted is
// refused on the very next request, a role given is granted on it.
func TestCredentialChangesHoldAtOnce(t *testing.T) {
	f := newMatrixFixture(t)
	ctx := context.Background()
	svc := f.srv.Service
	project := "/api/atlas/v2/groups/" + f.groupID
	const accept = "application/vnd.atlas.2023-01-01+json"
	wantStatus := func(what string, c *matrixCaller, want int) {
		t.Helper()
		if res := f.do(c, "GET", project, accept, ""); res.Status != want {
			t.Fatalf("%s: %d %s, want %d", what, res.Status, res.Body, want)
		}
	}

	pub, priv := f.apiKey(f.orgID, nil, f.groupID, snapexport.RoleGroupReadOnly)
	key := &matrixCaller{name: "key", kind: callerWithRole, publicKey: pub, privateKey: priv}
	wantStatus("key with GROUP_READ_ONLY", key, 200)
	if err := svc.UnassignRole(ctx, service.PrincipalRef{PublicKey: pub}, f.groupID, snapexport.RoleGroupReadOnly); err != nil {
		t.Fatal(err)
	}
	wantStatus("key right after its role was taken away", key, 401)
	if err := svc.AssignRole(ctx, service.PrincipalRef{PublicKey: pub}, f.groupID, snapexport.RoleGroupReadOnly); err != nil {
		t.Fatal(err)
	}
	wantStatus("key right after its role was given back", key, 200)
	if err := svc.DeletePrincipal(ctx, service.PrincipalRef{PublicKey: pub}); err != nil {
		t.Fatal(err)
	}
	wantStatus("key right after it was deleted", key, 401)

	creds := f.serviceAccount(snapexport.RoleGroupReadOnly)
	sa := &matrixCaller{name: "service account", kind: callerWithRole, token: f.issueToken(creds)}
	wantStatus("service account's token", sa, 200)
	if err := svc.DeletePrincipal(ctx, service.PrincipalRef{ClientID: creds.ClientID}); err != nil {
		t.Fatal(err)
	}
	wantStatus("token right after its service account was deleted", sa, 401)
}
