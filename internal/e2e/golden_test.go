package e2e_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/openapi"
	"github.com/snapexport/snapexport/internal/openapi/openapitest"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// TestRecordedAtlasExchanges replays every exchange recorded from Atlas
// (../shared/reference/recorded-atlas) against a server and compares our
// answer's shape with Atlas's: status, Content-Type, the Deprecation,
// Sunset, X-Error-Code and Ratelimit-* headers, and the body's keys, their
// order and value types at every depth. Each exchange runs in a project
// of its own holding what its request names: the recorded cluster name,
// and for each recorded id one of ours in the state the recording shows.
// What is known to differ is in knownDifferences; anything else fails, and
// so does an entry there that no longer differs.
func TestRecordedAtlasExchanges(t *testing.T) {
	ref, err := openapitest.ReferenceDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ref, "recorded-atlas")
	recs, err := readRecordings(dir)
	if err == nil && len(recs) == 0 {
		err = fmt.Errorf("%w: no recordings", os.ErrNotExist)
	}
	openapitest.RequireReference(t, "Atlas's recorded answers", dir, err)
	spec := filepath.Join(ref, "atlas-openapi-backup-export.yaml")
	known, err := newKnownRoutes(spec)
	openapitest.RequireReference(t, "Atlas's specification", spec, err)

	ts := testserver.NewServer(t, testserver.Options{NoExports: true})
	known.addServed(ts.Server.API.Routes())
	client := &apitest.Client{BaseURL: ts.URL, Auth: apitest.Digest(ts.APIKey.PublicKey, ts.APIKey.PrivateKey)}
	used := map[[2]int]bool{}
	for _, rec := range recs {
		t.Run(strings.TrimSuffix(rec.file, ".snaphost"), func(t *testing.T) {
			r, params, err := known.routes.resolve(rec.encoded)
			if err != nil {
				t.Fatalf("%s: %v", rec.file, err)
			}
			key := rec.method + " " + r.template
			f := &replayFixture{t: t, ts: ts, rec: rec, params: params}
			req := apitest.Request{Method: rec.method, Path: f.path(r), Accept: known.accept(rec, key)}
			if rec.method == "GET" {
				f.listed(r)
			}
			if rec.method == "POST" || rec.method == "PATCH" || rec.method == "PUT" {
				body, ok := requestBodies[key]
				if !ok {
					t.Fatalf("%s: no request body for %s: add one to requestBodies", rec.file, key)
				}
				req.Body = body(f)
			}
			// Try: an operation not served answers before the digest challenge.
			res, err := client.Try(t, req)
			if err != nil {
				t.Fatalf("%s: %v", rec.file, err)
			}
			var unexpected []string
			for _, d := range compareAnswers(rec, res.Status, res.Header, res.Body) {
				if i, j := allowedBy(rec.file, key, d); i >= 0 {
					used[[2]int{i, j}] = true
					continue
				}
				unexpected = append(unexpected, "  "+d.String())
			}
			if len(unexpected) > 0 {
				t.Errorf("%s\n%s %s (Accept %q) answers differently from Atlas:\n%s\nours: %d %s",
					rec.file, req.Method, req.Path, req.Accept, strings.Join(unexpected, "\n"), res.Status, res.Body)
			}
		})
	}
	if t.Failed() {
		return // an entry may look unused only because its exchange stopped early
	}
	for i, k := range knownDifferences {
		for j, check := range k.differs {
			if !used[[2]int{i, j}] {
				t.Errorf("knownDifferences[%d] (%s: %s) no longer differs: remove it here and in docs/compatibility.md", i, k.recordings, check)
			}
		}
	}
}

// recordedRoutes are Atlas's paths that recordings reach and neither
// Atlas's trimmed specification nor ours lists.
var recordedRoutes = []string{
	// The Atlas CLI's snapshot commands try the flex API first (atlas-facts §1.6).
	"/api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/snapshots",
	"/api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/snapshots/{snapshotId}",
	// The Atlas CLI asks for the default MongoDB version before creating a cluster.
	"/api/private/unauth/nds/defaultMongoDBMajorVersion",
}

// knownRoutes are the path templates requests are recovered from, and
// the versions each operation is served in.
type knownRoutes struct {
	routes   routes
	versions map[string][]string // "GET /api/…" → dated versions, oldest first
}

func newKnownRoutes(referenceSpec string) (*knownRoutes, error) {
	atlas, err := os.ReadFile(referenceSpec)
	if err != nil {
		return nil, err
	}
	k := &knownRoutes{versions: map[string][]string{}}
	templates := slices.Clone(recordedRoutes)
	for _, doc := range [][]byte{atlas, openapi.Document} {
		paths, versions, err := openAPIPaths(doc)
		if err != nil {
			return nil, err
		}
		templates = append(templates, paths...)
		for op, vs := range versions {
			for _, v := range vs {
				if !slices.Contains(k.versions[op], v) {
					k.versions[op] = append(k.versions[op], v)
				}
			}
			slices.Sort(k.versions[op])
		}
	}
	slices.Sort(templates)
	for _, p := range slices.Compact(templates) {
		k.routes = append(k.routes, newRoute(p))
	}
	return k, nil
}

// addServed adds the versions the server serves its routes in, for the
// operations that neither document gives a versioned answer (those that
// only ever answer errors, such as the flex-cluster probes).
func (k *knownRoutes) addServed(routes []api.Route) {
	for _, r := range routes {
		op := r.Method + " " + r.Pattern
		for _, v := range r.Versions {
			if !slices.Contains(k.versions[op], v) {
				k.versions[op] = append(k.versions[op], v)
			}
		}
		slices.Sort(k.versions[op])
	}
}

// accept is the Accept header of a recording's request: the version its
// answer declares; for an answer that declares none (errors are plain
// application/json), the newest version Atlas or we serve the operation
// in; application/json when none is known.
func (k *knownRoutes) accept(rec *recording, key string) string {
	if v := version(rec.header.Get("Content-Type")); v != "" {
		return apitest.MediaType(v)
	}
	if vs := k.versions[key]; len(vs) > 0 {
		return apitest.MediaType(vs[len(vs)-1])
	}
	return "application/json"
}

// replayFixture makes, in a project of its own, what one recorded request
// names, each recorded id mapped to one of ours.
type replayFixture struct {
	t      *testing.T
	ts     *testserver.Server
	rec    *recording
	params map[string]string // the recorded path's parameters

	project  string
	cluster  *snapexport.Cluster
	role     string
	bucket   string
	snapshot string
}

var replayCtx = context.Background()

// missingFor says, for each "not found" error code a recording may show,
// which path parameter names the resource that must not exist.
var missingFor = map[string]string{
	snapexport.CodeGroupNotFound:                   "groupId",
	snapexport.CodeClusterNotFound:                 "clusterName",
	snapexport.CodeSnapshotNotFound:                "snapshotId",
	snapexport.CodeExportBucketNotFound:            "exportBucketId",
	snapexport.CodeExportJobNotFound:               "exportId",
	snapexport.CodeCloudProviderAccessRoleNotFound: "roleId",
}

// missing reports whether the recording answers that the resource named
// by parameter is not found.
func (f *replayFixture) missing(parameter string) bool {
	var e struct{ ErrorCode string }
	if json.Unmarshal(f.rec.body, &e) != nil {
		return false
	}
	p, ok := missingFor[e.ErrorCode]
	return ok && (p == parameter || p == "clusterName" && parameter == "name")
}

// path is the request's path on our server: r's template with each
// recorded parameter replaced by ours.
func (f *replayFixture) path(r route) string {
	segs := strings.Split(r.template, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			segs[i] = f.param(seg[1 : len(seg)-1])
		}
	}
	return strings.Join(segs, "/")
}

// param makes what the recorded path parameter name refers to and
// returns our value for it.
func (f *replayFixture) param(name string) string {
	f.t.Helper()
	recorded := f.params[name]
	if f.missing(name) {
		if strings.HasSuffix(name, "Id") {
			return service.NewID() // one of ours that does not exist
		}
		return recorded
	}
	switch name {
	case "groupId":
		return f.projectID()
	case "clusterName", "name":
		return f.clusterNamed(recorded).Name
	case "snapshotId":
		return f.snapshotID()
	case "exportBucketId":
		return f.bucketID()
	case "exportId":
		return f.exportJobID()
	case "roleId":
		return f.roleID()
	case "cloudProvider":
		return recorded
	}
	f.t.Fatalf("%s: no set-up for the path parameter {%s}: teach replayFixture.param to make one", f.rec.file, name)
	return ""
}

// listed makes one item of the list r reads, so that the list's
// elements have a shape to compare.
func (f *replayFixture) listed(r route) {
	switch {
	case strings.HasSuffix(r.template, "/backup/exportBuckets"):
		f.bucketID()
	case strings.HasSuffix(r.template, "/backup/snapshots"):
		f.snapshotID()
	case strings.HasSuffix(r.template, "/backup/exports"):
		f.exportJobID()
	case strings.HasSuffix(r.template, "/cloudProviderAccess"):
		f.roleID()
	case strings.HasSuffix(r.template, "/clusters"):
		f.theCluster()
	}
}

func (f *replayFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: set-up: %v", f.rec.file, err)
	}
}

func (f *replayFixture) projectID() string {
	if f.project == "" {
		p, err := f.ts.Server.Service.CreateProject(replayCtx, nil, f.ts.OrgID, "replay-"+service.NewID())
		f.must(err)
		f.project = p.ID
	}
	return f.project
}

// clusterNamed registers the recording's cluster, under its recorded name.
func (f *replayFixture) clusterNamed(name string) *snapexport.Cluster {
	if f.cluster == nil {
		c, err := f.ts.Server.Service.CreateCluster(replayCtx, service.ClusterInput{ProjectID: f.projectID(), Name: name, MongoDBVersion: "8.0.29"})
		f.must(err)
		f.cluster = c
	}
	return f.cluster
}

// theCluster is the cluster of the path, or one for a request that names
// none.
func (f *replayFixture) theCluster() *snapexport.Cluster {
	name := cmp.Or(f.params["clusterName"], f.params["name"], "cluster-0")
	return f.clusterNamed(name)
}

// snapshotID stores a snapshot in the status the recording shows.
func (f *replayFixture) snapshotID() string {
	if f.snapshot == "" {
		status := snapexport.SnapshotStatus(recordedField(f.rec.body, "status"))
		if f.params["exportId"] != "" || !strings.Contains(f.rec.encoded, "_backup_snapshots") {
			status = snapexport.SnapshotCompleted // an export's snapshot
		}
		s := f.ts.StoreSnapshot(f.t, f.theCluster(), snapexport.Snapshot{Status: status, Description: "test-snapshot"})
		f.snapshot = s.ID
	}
	return f.snapshot
}

func (f *replayFixture) roleID() string {
	if f.role == "" {
		r, err := f.ts.Server.Service.CreateRole(replayCtx, f.projectID(), service.RoleInput{Provider: snapexport.AWS})
		f.must(err)
		_, err = f.ts.Server.Service.AuthorizeRole(replayCtx, f.projectID(), r.ID,
			service.RoleInput{Provider: snapexport.AWS, IAMAssumedRoleARN: "arn:aws:iam::123456789012:role/export"})
		f.must(err)
		f.role = r.ID
	}
	return f.role
}

func (f *replayFixture) bucketID() string {
	if f.bucket == "" {
		b, err := f.ts.Server.Service.CreateBucket(replayCtx, f.projectID(),
			service.BucketInput{Provider: snapexport.AWS, BucketName: "test-bucket", RoleID: f.roleID()})
		f.must(err)
		f.bucket = b.ID
	}
	return f.bucket
}

// exportJobID creates an export job and takes it to the state the
// recording shows, as a runner would.
func (f *replayFixture) exportJobID() string {
	c := f.theCluster()
	j, err := f.ts.Server.Service.CreateExportJob(replayCtx, service.ExportJobInput{ProjectID: f.projectID(), ClusterName: c.Name,
		SnapshotID: f.snapshotID(), ExportBucketID: f.bucketID()})
	f.must(err)
	state := snapexport.ExportState(recordedField(f.rec.body, "state"))
	if state == "" || state == snapexport.ExportQueued {
		return j.ID
	}
	svc := f.ts.Server.Service
	claim := snapexport.ExportClaim{ProjectID: j.ProjectID, JobID: j.ID, Holder: "replay", Lease: time.Hour}
	_, err = svc.ClaimExportJob(replayCtx, claim)
	f.must(err)
	f.must(svc.RecordExportProgress(replayCtx, claim, snapexport.ExportProgress{}))
	if !state.Active() {
		f.must(svc.EndExportJob(replayCtx, claim, state, nil))
	}
	return j.ID
}

// recordedField is a string field of a recorded body, or of the first of
// its results for a list.
func recordedField(body []byte, name string) string {
	var b map[string]any
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	if results, ok := b["results"].([]any); ok && len(results) > 0 {
		b, _ = results[0].(map[string]any)
	}
	s, _ := b[name].(string)
	return s
}

// requestBodies are the least valid bodies of the operations that take
// one, by operation; recordings do not keep requests' bodies.
var requestBodies = map[string]func(f *replayFixture) string{
	"POST /api/atlas/v2/groups": func(f *replayFixture) string {
		return fmt.Sprintf(`{"name":%q,"orgId":%q}`, "replay-"+service.NewID(), f.ts.OrgID)
	},
	"POST /api/atlas/v2/groups/{groupId}/backup/exportBuckets": func(f *replayFixture) string {
		return fmt.Sprintf(`{"bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":%q}`, f.roleID())
	},
	"PATCH /api/atlas/v2/groups/{groupId}/backup/exportBuckets/{exportBucketId}": func(*replayFixture) string {
		return `{"requirePrivateNetworking":false}`
	},
	"POST /api/atlas/v2/groups/{groupId}/cloudProviderAccess": func(*replayFixture) string {
		return `{"providerName":"AWS"}`
	},
	"PATCH /api/atlas/v2/groups/{groupId}/cloudProviderAccess/{roleId}": func(*replayFixture) string {
		return `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/export"}`
	},
	"POST /api/atlas/v2/groups/{groupId}/clusters": func(f *replayFixture) string {
		name := cmp.Or(recordedField(f.rec.body, "name"), "cluster-0")
		return fmt.Sprintf(`{"name":%q,"clusterType":"REPLICASET","replicationSpecs":[{"regionConfigs":[{"providerName":"AWS",`+
			`"regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":3}}]}]}`, name)
	},
	"PATCH /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/schedule": func(*replayFixture) string {
		return `{"useOrgAndGroupNamesInExportPrefix":true}`
	},
	"POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/snapshots": func(*replayFixture) string {
		return `{"description":"test-snapshot","retentionInDays":1}`
	},
	"PATCH /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/snapshots/{snapshotId}": func(*replayFixture) string {
		return `{"retentionUnit":"DAYS","retentionValue":5}`
	},
	"POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/exports": func(f *replayFixture) string {
		return fmt.Sprintf(`{"exportBucketId":%q,"snapshotId":%q}`, f.bucketID(), f.snapshotID())
	},
}

// knownDiff is a way our answers are known to differ from Atlas's
// recorded ones. Every entry is listed, with its reason, in
// docs/compatibility.md ("Known differences from recorded Atlas answers").
type knownDiff struct {
	// recordings is an operation ("GET /api/atlas/v2/…/{clusterName}") or
	// a pattern of recordings' file names (path.Match).
	recordings string
	// differs names the checks that may fail: "status", "header <Name>",
	// "body" (any key), "body $.a.b" (that key and below), "order $.a"
	// (the order of that object's keys).
	differs []string
	reason  string
}

var knownDifferences = []knownDiff{
	{"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}", []string{"body $.connectionStrings.standard", "body $.connectionStrings.standardSrv"},
		"a cluster the API creates is bound to no deployment, so its connectionStrings hold no standard or standardSrv URI " +
			"(a cluster bound with admin cluster create --mongodb-uri shows them)"},
	{"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/snapshots/{snapshotId}",
		[]string{"body $.cloudProvider", "body $.mongodVersion"},
		"a snapshot in progress: Atlas shows its cloudProvider and mongodVersion some time after it starts, " +
			"snapexport as soon as it starts"},
}

// allowedBy finds the entry and check of knownDifferences that
// allow d in the exchange of file (operation key); -1 when none does.
func allowedBy(file, key string, d difference) (int, int) {
	for i, k := range knownDifferences {
		if k.recordings != key {
			if ok, _ := path.Match(k.recordings, file); !ok {
				continue
			}
		}
		for j, check := range k.differs {
			if d.check == check || strings.HasPrefix(d.check, check+".") || strings.HasPrefix(d.check, check+"[") ||
				(check == "body" || check == "order") && strings.HasPrefix(d.check, check+" ") {
				return i, j
			}
		}
	}
	return -1, -1
}

// knownDifferencesHeading is the section of docs/compatibility.md that
// lists knownDifferences.
const knownDifferencesHeading = "## Known differences from recorded Atlas answers"

// TestKnownDifferencesDocumented checks that docs/compatibility.md lists
// exactly the entries of knownDifferences, in order, with their reasons.
func TestKnownDifferencesDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "compatibility.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+knownDifferencesHeading+"\n")
	if !ok {
		t.Fatalf("docs/compatibility.md has no section %q", knownDifferencesHeading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `") {
			documented = append(documented, line)
		}
	}
	var want []string
	for _, k := range knownDifferences {
		want = append(want, knownDifferenceRow(k))
	}
	if !slices.Equal(documented, want) {
		t.Errorf("the table of %q in docs/compatibility.md does not list knownDifferences; it should have these rows:\n%s",
			knownDifferencesHeading, strings.Join(want, "\n"))
	}
}

// knownDifferenceRow is k as a row of the documentation's table.
func knownDifferenceRow(k knownDiff) string {
	return fmt.Sprintf("| `%s` | `%s` | %s |", k.recordings, strings.Join(k.differs, "`, `"), k.reason)
}
