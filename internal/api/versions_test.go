package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v4"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

// atlasReference is a shared reference file kept beside the repository:
// MongoDB's published specification and Atlas's recorded answers, read
// and never copied.
func atlasReference(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "..", "shared", "reference", name)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("Atlas reference %s not found: %v", p, err)
			}
			return p
		}
	}
	t.Fatalf("no go.mod above %s", dir)
	return ""
}

// specOperation is one v2 operation of Atlas's specification: the versions
// its successful answers are declared in, and the sunset of each that has
// one.
type specOperation struct {
	method, path string
	sunset       map[string]string // version → x-sunset date, "" for none
}

var specMediaType = regexp.MustCompile(`^application/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json$`)

// specOperations reads the v2 operations of Atlas's specification, by
// operationId.
func specOperations(t *testing.T) map[string]specOperation {
	t.Helper()
	data, err := os.ReadFile(atlasReference(t, "atlas-openapi-backup-export.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type content map[string]struct {
		Sunset string `yaml:"x-sunset"`
	}
	type response struct {
		Ref     string  `yaml:"$ref"`
		Content content `yaml:"content"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string              `yaml:"operationId"`
			Responses   map[string]response `yaml:"responses"`
		} `yaml:"paths"`
		Components struct {
			Responses map[string]response `yaml:"responses"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]specOperation{}
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/api/atlas/v2/") {
			continue
		}
		for method, op := range item {
			if op.OperationID == "" {
				continue // path-level parameters
			}
			so := specOperation{method: strings.ToUpper(method), path: path, sunset: map[string]string{}}
			for status, r := range op.Responses {
				if !strings.HasPrefix(status, "2") {
					continue
				}
				if r.Ref != "" {
					r = doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
				}
				for mt, c := range r.Content {
					if m := specMediaType.FindStringSubmatch(mt); m != nil {
						so.sunset[m[1]] = c.Sunset
					}
				}
			}
			out[op.OperationID] = so
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d v2 operations in the specification", len(out))
	}
	return out
}

// versionFixture sets up what one call of an operation needs, fresh for
// calls that change or remove something, and returns its request (path
// below the project, body).
type versionFixture func(t *testing.T) (path, body string)

// versionFixtures are the calls of every operation of Atlas's
// specification this server serves, each answered with success.
func versionFixtures(t *testing.T, e *env) map[string]versionFixture {
	rs := e.cluster(t, service.ClusterInput{Name: "cluster-209"})
	sh := e.cluster(t, service.ClusterInput{Name: "sharded", Shards: []string{"rs0", "rs1"}})
	var roleID, bucketID string
	role := func(t *testing.T) string {
		if roleID == "" {
			roleID = e.role(t, "AWS", true)
		}
		return roleID
	}
	bucket := func(t *testing.T) string {
		return e.createBucket(t, awsBucketBody("bucket-"+service.NewID(), role(t)))
	}
	sharedBucket := func(t *testing.T) string {
		if bucketID == "" {
			bucketID = bucket(t)
		}
		return bucketID
	}
	endpoint := func(t *testing.T, region string) string {
		got := e.Do(t, apitest.Request{Method: "POST", Path: "/api/atlas/v2/groups/" + e.GroupID + "/backup/AWS/privateEndpoints",
			Accept: apitest.MediaType("2024-11-13"), Body: `{"cloudProvider":"AWS","regionName":"` + region + `"}`})
		apitest.WantStatus(t, got, http.StatusCreated)
		return got.Field(t, "id")
	}
	snapshot := func(t *testing.T) string { return e.putSnapshot(t, rs, snapexport.Snapshot{}).ID }
	job := func(t *testing.T) string {
		return e.createJob(t, "cluster-209", jobBody(snapshot(t), sharedBucket(t))).ID
	}
	get := func(path func(t *testing.T) string) versionFixture {
		return func(t *testing.T) (string, string) { return path(t), "" }
	}
	fixed := func(path string) versionFixture { return get(func(*testing.T) string { return path }) }
	snapshots := "/clusters/cluster-209/backup/snapshots/"
	sharded := "/clusters/sharded/backup/snapshots/shardedCluster/"
	return map[string]versionFixture{
		"listGroupBackupExportBuckets": fixed("/backup/exportBuckets"),
		"createGroupBackupExportBucket": func(t *testing.T) (string, string) {
			return "/backup/exportBuckets", awsBucketBody("bucket-"+service.NewID(), role(t))
		},
		"getGroupBackupExportBucket": get(func(t *testing.T) string { return "/backup/exportBuckets/" + sharedBucket(t) }),
		"updateGroupBackupExportBucket": func(t *testing.T) (string, string) {
			return "/backup/exportBuckets/" + sharedBucket(t), `{"requirePrivateNetworking":false}`
		},
		"deleteGroupBackupExportBucket": get(func(t *testing.T) string { return "/backup/exportBuckets/" + bucket(t) }),

		"listGroupBackupPrivateEndpoints":  fixed("/backup/AWS/privateEndpoints"),
		"createGroupBackupPrivateEndpoint": withBody("/backup/AWS/privateEndpoints", `{"cloudProvider":"AWS","regionName":"US_EAST_1"}`),
		"getGroupBackupPrivateEndpoint":    get(func(t *testing.T) string { return "/backup/AWS/privateEndpoints/" + endpoint(t, "EU_WEST_1") }),
		"deleteGroupBackupPrivateEndpoint": get(func(t *testing.T) string { return "/backup/AWS/privateEndpoints/" + endpoint(t, "US_WEST_2") }),

		"listGroupClusterBackupExports": fixed("/clusters/cluster-209/backup/exports"),
		"createGroupClusterBackupExport": func(t *testing.T) (string, string) {
			return "/clusters/cluster-209/backup/exports", jobBody(snapshot(t), sharedBucket(t))
		},
		"getGroupClusterBackupExport": get(func(t *testing.T) string { return "/clusters/cluster-209/backup/exports/" + job(t) }),

		"listGroupClusterBackupSnapshots": fixed("/clusters/cluster-209/backup/snapshots"),
		// One cluster per call: a cluster takes one snapshot at a time.
		"takeGroupClusterBackupSnapshots": func(t *testing.T) (string, string) {
			c := e.cluster(t, service.ClusterInput{Name: "take-" + service.NewID()[16:]})
			return "/clusters/" + c.Name + "/backup/snapshots", `{"description":"versions","retentionInDays":1}`
		},
		"getGroupClusterBackupSnapshot": get(func(t *testing.T) string { return snapshots + snapshot(t) }),
		"updateGroupClusterBackupSnapshot": func(t *testing.T) (string, string) {
			return snapshots + snapshot(t), `{"retentionUnit":"DAYS","retentionValue":3}`
		},
		"deleteGroupClusterBackupSnapshot":              get(func(t *testing.T) string { return snapshots + snapshot(t) }),
		"listGroupClusterBackupSnapshotShardedClusters": fixed("/clusters/sharded/backup/snapshots/shardedClusters"),
		"getGroupClusterBackupSnapshotShardedCluster": get(func(t *testing.T) string {
			return sharded + e.putShardedSnapshot(t, sh, time.Now().UTC().Truncate(time.Second)).ID
		}),
		"deleteGroupClusterBackupSnapshotShardedCluster": get(func(t *testing.T) string {
			return sharded + e.putShardedSnapshot(t, sh, time.Now().UTC().Truncate(time.Second)).ID
		}),

		"listGroupCloudProviderAccess":   fixed("/cloudProviderAccess"),
		"createGroupCloudProviderAccess": withBody("/cloudProviderAccess", `{"providerName":"AWS"}`),
		"getGroupCloudProviderAccess":    get(func(t *testing.T) string { return "/cloudProviderAccess/" + role(t) }),
		"authorizeGroupCloudProviderAccessRole": func(t *testing.T) (string, string) {
			return "/cloudProviderAccess/" + e.role(t, "AWS", false), `{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/atlas-export"}`
		},
		"deauthorizeGroupCloudProviderAccessRole": get(func(t *testing.T) string { return "/cloudProviderAccess/AWS/" + e.role(t, "AWS", true) }),
	}
}

// withBody is the fixture of a call to a fixed path with a fixed body.
func withBody(path, body string) versionFixture {
	return func(*testing.T) (string, string) { return path, body }
}

// TestEveryVersionAtlasLists walks Atlas's specification: every operation
// of it the server serves answers in each version the specification lists
// for it, and in no other, with that version's Content-Type, and with
// Deprecation and Sunset exactly for the versions the specification gives
// a sunset. Operations without a fixture fail the test, so that a newly
// served one is walked too.
func TestEveryVersionAtlasLists(t *testing.T) {
	spec := specOperations(t)
	e := newEnv(t, envOptions{noExports: true})
	fixtures := versionFixtures(t, e)
	routes := map[string][]string{}
	for _, r := range e.Server.API.Routes() {
		if strings.HasPrefix(r.Pattern, "/api/atlas/v2/") {
			routes[r.OperationID] = r.Versions
			if so, ok := spec[r.OperationID]; ok && (so.method != r.Method || !samePath(so.path, r.Pattern)) {
				t.Errorf("%s is %s %s here, %s %s in Atlas's specification", r.OperationID, r.Method, r.Pattern, so.method, so.path)
			}
		}
	}
	walked := 0
	for id, so := range spec {
		served, ok := routes[id]
		if !ok {
			continue
		}
		versions := slices.Sorted(func(yield func(string) bool) {
			for v := range so.sunset {
				if !yield(v) {
					return
				}
			}
		})
		if !slices.Equal(slices.Sorted(slices.Values(served)), versions) {
			t.Errorf("%s: served in %v, Atlas's specification lists %v", id, served, versions)
		}
		fixture, ok := fixtures[id]
		if !ok {
			t.Errorf("%s: served, but this test has no fixture to call it", id)
			continue
		}
		for _, v := range versions {
			t.Run(id+"@"+v, func(t *testing.T) {
				path, body := fixture(t)
				got := e.Do(t, apitest.Request{Method: so.method, Path: "/api/atlas/v2/groups/" + e.GroupID + path,
					Accept: apitest.MediaType(v), ContentType: apitest.MediaType(v), Body: body})
				if got.Status < 200 || got.Status > 299 {
					t.Fatalf("%s %s in %s: %s", so.method, path, v, got)
				}
				if ct := got.Header.Get("Content-Type"); ct != apitest.MediaType(v)+";charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				wantSunset, wantDeprecation := "", ""
				if s := so.sunset[v]; s != "" {
					sunset, err := time.Parse(time.DateOnly, s)
					if err != nil {
						t.Fatal(err)
					}
					wantSunset = sunset.Format("Mon, 2 Jan 2006 15:04:05 GMT")
					wantDeprecation = got.Header.Get("Deprecation")
					if _, err := time.Parse("Mon, 2 Jan 2006 15:04:05 GMT", wantDeprecation); err != nil {
						t.Errorf("Deprecation %q: want an HTTP date with Sunset %s", wantDeprecation, wantSunset)
					}
				}
				if s, d := got.Header.Get("Sunset"), got.Header.Get("Deprecation"); s != wantSunset || d != wantDeprecation {
					t.Errorf("Sunset %q, Deprecation %q; want Sunset %q", s, d, wantSunset)
				}
			})
			walked++
		}
	}
	if walked < 20 {
		t.Errorf("only %d operation versions walked", walked)
	}
}

// samePath compares a path of Atlas's specification with a route's
// pattern, whose parameters may be named otherwise or spelled out (the
// private endpoints' provider).
func samePath(spec, pattern string) bool {
	a, b := strings.Split(spec, "/"), strings.Split(pattern, "/")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !strings.HasPrefix(a[i], "{") {
			return false
		}
	}
	return true
}

// recordedCall is the request part of a recorded Atlas answer's file name,
// e.g. "TestSnapshots__List__GET_api_atlas_v2_groups_<id>_clusters_<name>_backup_snapshots_1.snaphost".
var recordedCall = regexp.MustCompile(`__(GET|POST|PATCH|DELETE)_api_atlas_v2_(groups_.*)_\d+\.snaphost$`)

// TestRecordedVersionsServed walks Atlas's recorded answers: each answered
// in a dated version on a route served here (the backup schedule aside,
// which another test owns) must be served in that version, and a GET of
// the same path in that version here must carry the recorded Deprecation
// and Sunset headers, whatever it finds.
func TestRecordedVersionsServed(t *testing.T) {
	dir := filepath.Dir(atlasReference(t, "recorded-atlas"))
	files, err := filepath.Glob(filepath.Join(dir, "recorded-atlas", "*.snaphost"))
	if err != nil || len(files) == 0 {
		t.Skipf("no recorded Atlas answers in %s: %v", dir, err)
	}
	e := newEnv(t)
	routes := e.Server.API.Routes()
	checked := 0
	for _, f := range files {
		m := recordedCall.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			continue
		}
		method, path := m[1], "/api/atlas/v2/"+strings.ReplaceAll(m[2], "_", "/")
		if strings.HasSuffix(path, "/backup/schedule") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(data), "\n\n")
		header := http.Header{}
		for _, line := range strings.Split(head, "\n")[1:] {
			if k, v, ok := strings.Cut(line, ": "); ok {
				header.Add(k, v)
			}
		}
		mt := strings.Split(header.Get("Content-Type"), ";")[0]
		version := specMediaType.FindStringSubmatch(mt)
		if version == nil {
			continue
		}
		i := slices.IndexFunc(routes, func(r api.Route) bool { return r.Method == method && samePath(r.Pattern, path) })
		if i < 0 {
			continue // an operation not served here (creating clusters, taking snapshots)
		}
		r := routes[i]
		name := filepath.Base(f)
		if !slices.Contains(r.Versions, version[1]) {
			t.Errorf("%s: Atlas answered %s %s in %s; served here in %v", name, method, r.Pattern, version[1], r.Versions)
			continue
		}
		checked++
		if method != "GET" {
			continue
		}
		ours := strings.Replace(path, "/groups/"+strings.Split(m[2], "_")[1], "/groups/"+e.GroupID, 1)
		got := e.Do(t, apitest.Request{Path: ours, Accept: apitest.MediaType(version[1])})
		for _, h := range []string{"Deprecation", "Sunset"} {
			if got.Header.Get(h) != header.Get(h) {
				t.Errorf("%s: %s %q here, %q recorded", name, h, got.Header.Get(h), header.Get(h))
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d recorded answers checked", checked)
	}
	t.Logf("%d recorded answers checked", checked)
}
