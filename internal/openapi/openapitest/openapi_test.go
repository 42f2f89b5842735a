package openapitest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/snapexport/snapexport/internal/openapi"

	yaml "go.yaml.in/yaml/v4"
)

const (
	grp    = "5f1e2d3c4b5a69788796a5b4"
	bucket = "6a01b2c3d4e5f60718293a4b"
	role   = "64aa0b1c2d3e4f5061728394"
	org    = "5e0a1b2c3d4e5f6071829304"

	v2      = "/api/atlas/v2/groups/" + grp
	v1      = "/api/atlas/v1.0/groups/" + grp
	ct2023  = "application/vnd.atlas.2023-01-01+json;charset=utf-8"
	ct2024  = "application/vnd.atlas.2024-05-30+json;charset=utf-8"
	acc2023 = "application/vnd.atlas.2023-01-01+json"
	acc2024 = "application/vnd.atlas.2024-05-30+json"
	ctJSON  = "application/json"
)

func newValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func TestDocumentLoadsAndValidates(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi version = %q, want 3.0.3", doc.OpenAPI)
	}
	for _, name := range []string{"DigestAuth", "ServiceAccounts"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("security scheme %s missing", name)
		}
	}
	if ss := doc.Components.SecuritySchemes["ServiceAccounts"]; ss != nil {
		if f := ss.Value.Flows; f == nil || f.ClientCredentials == nil || f.ClientCredentials.TokenURL != "/api/oauth/token" {
			t.Errorf("ServiceAccounts must be an oauth2 clientCredentials flow with tokenUrl /api/oauth/token")
		}
	}

	// Structural promises about error statuses.
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || seen[op.OperationID] {
				t.Errorf("%s: operationId %q missing or duplicated", where, op.OperationID)
			}
			seen[op.OperationID] = true
			if !strings.HasPrefix(path, "/api/atlas/") {
				continue
			}
			want := []string{"401", "500"}
			if strings.HasPrefix(path, "/api/atlas/v2/") && path != "/api/atlas/v2/openapi.yaml" {
				want = append(want, "406", "429")
			}
			if strings.Contains(path, "{groupId}") {
				want = append(want, "404")
			}
			if path == "/api/atlas/v2/openapi.yaml" {
				want = nil
			}
			for _, code := range want {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s: does not declare %s", where, code)
				}
			}
		}
	}
}

// check describes one response and whether it must pass validation.
type check struct {
	name   string
	method string
	target string
	accept string
	status int
	ctype  string
	header map[string]string
	body   string
	ok     bool
}

const (
	awsBucket      = `{"_id":"` + bucket + `","bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":"` + role + `","requirePrivateNetworking":false}`
	awsBucketReg   = `{"_id":"` + bucket + `","bucketName":"test-bucket","cloudProvider":"AWS","iamRoleId":"` + role + `","region":"us-east-1","requirePrivateNetworking":false}`
	azureBucket    = `{"_id":"` + bucket + `","bucketName":"nightly","cloudProvider":"AZURE","roleId":"` + role + `","serviceUrl":"https://acmebackups.blob.core.windows.net/nightly","tenantId":"0b6a2f0e-7f1c-4c55-9a57-1f2e3d4c5b6a"}`
	gcpBucket      = `{"_id":"` + bucket + `","bucketName":"gcs-exports","cloudProvider":"GCP","roleId":"` + role + `"}`
	selfLink       = `{"href":"http://127.0.0.1:8080` + v2 + `/backup/exportBuckets?includeCount=true&pageNum=1&itemsPerPage=100","rel":"self"}`
	awsRolePending = `{"atlasAWSAccountArn":"arn:aws:iam::123456789012:root","atlasAssumedRoleExternalId":"3f1d1c1e-5b0a-4a47-9f3c-0e2d6b7a8c9d","createdDate":"2026-08-10T03:00:00Z","featureUsages":[],"providerName":"AWS","roleId":"` + role + `"}`
	awsRoleAuthz   = `{"atlasAWSAccountArn":"arn:aws:iam::123456789012:root","atlasAssumedRoleExternalId":"3f1d1c1e-5b0a-4a47-9f3c-0e2d6b7a8c9d","authorizedDate":"2026-08-10T03:05:00Z","createdDate":"2026-08-10T03:00:00Z","featureUsages":[{"featureId":{"exportBucketId":"` + bucket + `","groupId":"` + grp + `"},"featureType":"EXPORT_SNAPSHOT"}],"iamAssumedRoleArn":"arn:aws:iam::210987654321:role/snapexport-writer","providerName":"AWS","roleId":"` + role + `"}`
	awsRoleNulls   = `{"atlasAWSAccountArn":"arn:aws:iam::123456789012:root","atlasAssumedRoleExternalId":"3f1d1c1e-5b0a-4a47-9f3c-0e2d6b7a8c9d","authorizedDate":null,"createdDate":"2026-08-10T03:00:00Z","featureUsages":[],"iamAssumedRoleArn":null,"providerName":"AWS","roleId":"` + role + `"}`
	azureRole      = `{"_id":"` + role + `","atlasAzureAppId":"9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d","createdDate":"2026-08-10T03:00:00Z","featureUsages":[],"lastUpdatedDate":"2026-08-10T03:00:00Z","providerName":"AZURE","servicePrincipalId":"7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d","tenantId":"0b6a2f0e-7f1c-4c55-9a57-1f2e3d4c5b6a"}`
	gcpRole        = `{"createdDate":"2026-08-10T03:00:00Z","featureUsages":[],"gcpServiceAccountForAtlas":"mongodb-atlas-0123456789abcdef@p-0123456789abcdef01234567.iam.gserviceaccount.com","providerName":"GCP","roleId":"` + role + `","status":"COMPLETE"}`
	project        = `{"clusterCount":0,"created":"2026-08-10T02:59:00Z","id":"` + grp + `","links":[{"href":"http://127.0.0.1:8080/api/atlas/v2/groups/` + grp + `","rel":"self"}],"name":"exports","orgId":"` + org + `"}`
	exportJob      = `{"createdAt":"2026-08-10T03:28:25Z","customData":[],"exportBucketId":"` + bucket + `","exportStatus":{"exportedCollections":0,"totalCollections":0},"id":"` + role + `","prefix":"exported_snapshots/` + org + `/` + grp + `/cluster-0/2026-08-10T0327/1786332505","snapshotId":"` + bucket + `","state":"Queued"}`
	notFound       = `{"detail":"No group with ID ` + grp + ` exists.","error":404,"errorCode":"GROUP_NOT_FOUND","parameters":["` + grp + `"],"reason":"Not Found"}`
)

func TestValidateResponse(t *testing.T) {
	v := newValidator(t)
	errHdr := func(code string) map[string]string { return map[string]string{"X-Error-Code": code} }
	checks := []check{
		// ---- export buckets, v2, valid
		{name: "list 2024 mixed providers", method: "GET", target: v2 + "/backup/exportBuckets?includeCount=true&itemsPerPage=100&pageNum=1", accept: acc2024, status: 200, ctype: ct2024,
			header: map[string]string{"Ratelimit-Limit": "1200", "Ratelimit-Remaining": "1199"},
			body:   `{"links":[` + selfLink + `],"results":[` + awsBucket + `,` + azureBucket + `,` + gcpBucket + `],"totalCount":3}`, ok: true},
		{name: "list 2024 empty, no count", method: "GET", target: v2 + "/backup/exportBuckets?includeCount=false", accept: acc2024, status: 200, ctype: ct2024,
			body: `{"links":[` + selfLink + `],"results":[]}`, ok: true},
		{name: "list 2023 aws", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2023, status: 200, ctype: ct2023,
			body: `{"links":[` + selfLink + `],"results":[` + awsBucket + `],"totalCount":1}`, ok: true},
		{name: "create 2024 aws (recorded shape)", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: awsBucket, ok: true},
		{name: "create 2024 azure", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: azureBucket, ok: true},
		{name: "create 2024 gcp", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: gcpBucket, ok: true},
		{name: "create 2023 aws", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2023, status: 200, ctype: ct2023, body: awsBucket, ok: true},
		{name: "get 2024 aws with region", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: awsBucketReg, ok: true},
		{name: "get 2024 azure", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: azureBucket, ok: true},
		{name: "get 2023 aws with region", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2023, status: 200, ctype: ct2023, body: awsBucketReg, ok: true},
		{name: "patch private networking", method: "PATCH", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: awsBucketReg, ok: true},
		{name: "delete 204", method: "DELETE", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2023, status: 204, ctype: ct2023, ok: true},
		{name: "pretty body", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket + "?pretty=true", accept: acc2024, status: 200, ctype: ct2024, body: "{\n  \"_id\" : \"" + bucket + "\",\n  \"bucketName\" : \"b-1\",\n  \"cloudProvider\" : \"GCP\",\n  \"roleId\" : \"" + role + "\"\n}", ok: true},
		{name: "envelope body skipped", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket + "?envelope=true", accept: acc2024, status: 200, ctype: ct2024, body: `{"content":` + awsBucketReg + `,"status":200}`, ok: true},

		// ---- export buckets, v2, invalid
		{name: "create with region", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: awsBucketReg},
		{name: "list item with region", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: `{"links":[],"results":[` + awsBucketReg + `]}`},
		{name: "bucket with links", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: strings.TrimSuffix(gcpBucket, "}") + `,"links":[` + selfLink + `]}`},
		{name: "aws missing iamRoleId", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: `{"_id":"` + bucket + `","bucketName":"test-bucket","cloudProvider":"AWS"}`},
		{name: "azure missing tenantId", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: `{"_id":"` + bucket + `","bucketName":"nightly","cloudProvider":"AZURE","roleId":"` + role + `","serviceUrl":"https://acmebackups.blob.core.windows.net/nightly"}`},
		{name: "gcp with aws field", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: strings.TrimSuffix(gcpBucket, "}") + `,"iamRoleId":"` + role + `"}`},
		{name: "wrong type requirePrivateNetworking", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: strings.Replace(awsBucketReg, `"requirePrivateNetworking":false`, `"requirePrivateNetworking":"false"`, 1)},
		{name: "unknown provider", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: strings.Replace(gcpBucket, `"GCP"`, `"OCI"`, 1)},
		{name: "bad id", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, body: strings.Replace(gcpBucket, `"_id":"`+bucket, `"_id":"XYZ`, 1)},
		{name: "azure in 2023 list", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2023, status: 200, ctype: ct2023, body: `{"links":[],"results":[` + azureBucket + `]}`},
		{name: "list missing results", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: `{"links":[],"totalCount":0}`},
		{name: "list negative totalCount", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 200, ctype: ct2024, body: `{"links":[],"results":[],"totalCount":-1}`},
		{name: "create answers 201", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 201, ctype: ct2024, body: awsBucket},
		{name: "success as application/json", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ctJSON, body: awsBucketReg},
		{name: "success without content type", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, body: awsBucketReg},
		{name: "served version differs from asked", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2023, body: awsBucketReg},
		{name: "delete served as 2024", method: "DELETE", target: v2 + "/backup/exportBuckets/" + bucket, status: 204, ctype: ct2024},
		{name: "patch served as 2023", method: "PATCH", target: v2 + "/backup/exportBuckets/" + bucket, status: 200, ctype: ct2023, body: awsBucketReg},
		{name: "bad rate limit header", method: "GET", target: v2 + "/backup/exportBuckets/" + bucket, accept: acc2024, status: 200, ctype: ct2024, header: map[string]string{"Ratelimit-Limit": "lots"}, body: awsBucketReg},

		// ---- export jobs
		{name: "job queued (recorded shape)", method: "POST", target: v2 + "/clusters/cluster-0/backup/exports", accept: acc2023, status: 200, ctype: ct2023, body: exportJob, ok: true},
		{name: "job sharded failed", method: "GET", target: v2 + "/clusters/cluster-0/backup/exports/" + bucket, accept: acc2023, status: 200, ctype: ct2023,
			body: `{"components":[{"exportId":"` + role + `","replicaSetName":"rs0"}],"createdAt":"2026-08-10T03:28:25Z","customData":[{"key":"k","value":"v"}],"exportBucketId":"` + bucket +
				`","exportStatus":{"exportedCollections":1,"totalCollections":3},"finishedAt":"2026-08-10T03:43:05Z","id":"` + role + `","prefix":"p","snapshotId":"` + bucket +
				`","state":"Failed","stateReason":{"errorCode":"BUCKET_ACCESS_DENIED","message":"denied"}}`, ok: true},
		{name: "job list", method: "GET", target: v1 + "/clusters/cluster-0/backup/exports", status: 200, ctype: ctJSON, body: `{"links":[],"results":[` + exportJob + `],"totalCount":1}`, ok: true},
		{name: "job cancel", method: "POST", target: "/api/snapexport/v1/groups/" + grp + "/clusters/cluster-0/backup/exports/" + bucket + "/cancel", status: 200, ctype: ctJSON, body: exportJob, ok: true},
		{name: "job with links", method: "GET", target: v2 + "/clusters/cluster-0/backup/exports/" + bucket, accept: acc2023, status: 200, ctype: ct2023, body: `{"links":[],` + strings.TrimPrefix(exportJob, "{")},
		{name: "job state lower case", method: "GET", target: v2 + "/clusters/cluster-0/backup/exports/" + bucket, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(exportJob, "Queued", "queued", 1)},
		{name: "job create answers 201", method: "POST", target: v2 + "/clusters/cluster-0/backup/exports", accept: acc2023, status: 201, ctype: ct2023, body: exportJob},

		// ---- errors, valid and invalid
		{name: "404 group not found", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ctJSON, header: errHdr("GROUP_NOT_FOUND"), body: notFound, ok: true},
		{name: "406 invalid version", method: "GET", target: v2 + "/backup/exportBuckets", accept: "application/vnd.atlas.2099-01-01+json", status: 406, ctype: ctJSON, header: errHdr("INVALID_VERSION_DATE"),
			body: `{"detail":"Invalid accept header or version date.","error":406,"errorCode":"INVALID_VERSION_DATE","parameters":[],"reason":"Not Acceptable"}`, ok: true},
		{name: "400 with badRequestDetail", method: "POST", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 400, ctype: ctJSON, header: errHdr("INVALID_ATTRIBUTE"),
			body: `{"badRequestDetail":{"fields":[{"description":"unknown","field":"colour"}]},"detail":"Invalid attribute colour specified.","error":400,"errorCode":"INVALID_ATTRIBUTE","parameters":["colour"],"reason":"Bad Request"}`, ok: true},
		{name: "401 digest challenge", method: "GET", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 401, ctype: ctJSON,
			header: map[string]string{"Www-Authenticate": `Digest realm="MMS Public API", domain="", nonce="abc", algorithm=MD5, qop="auth", stale=false`},
			body:   "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}", ok: true},
		{name: "429 rate limited", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 429, ctype: ctJSON, header: map[string]string{"X-Error-Code": "RATE_LIMITED_TOKEN_BUCKET", "Retry-After": "55"},
			body: `{"detail":"Rate limit exceeded.","error":429,"errorCode":"RATE_LIMITED_TOKEN_BUCKET","parameters":[],"reason":"Too Many Requests"}`, ok: true},
		{name: "null parameters", method: "GET", target: v2, accept: acc2023, status: 404, ctype: ctJSON, body: `{"detail":null,"error":404,"errorCode":"GROUP_NOT_FOUND","parameters":null,"reason":"Not Found"}`, ok: true},
		{name: "error envelope skipped", method: "GET", target: v2 + "/backup/exportBuckets?envelope=true", accept: acc2024, status: 404, ctype: ctJSON, body: `{"content":` + notFound + `,"status":404}`, ok: true},
		{name: "error missing errorCode", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ctJSON, body: `{"detail":"x","error":404,"reason":"Not Found"}`},
		{name: "error extra field", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ctJSON, body: strings.TrimSuffix(notFound, "}") + `,"message":"nope"}`},
		{name: "error wrong type", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ctJSON, body: `{"error":"404","errorCode":"GROUP_NOT_FOUND"}`},
		{name: "error code differs from status", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ctJSON, body: `{"error":400,"errorCode":"GROUP_NOT_FOUND"}`},
		{name: "X-Error-Code differs", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ctJSON, header: errHdr("RESOURCE_NOT_FOUND"), body: notFound},
		{name: "error as versioned type", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 404, ctype: ct2024, body: notFound},
		{name: "undeclared 409 on list", method: "GET", target: v2 + "/backup/exportBuckets", accept: acc2024, status: 409, ctype: ctJSON, body: `{"error":409,"errorCode":"CONFLICT"}`},
		{name: "unknown path 404 ApiError", method: "GET", target: "/api/atlas/v2/nothing/here", status: 404, ctype: ctJSON, body: `{"error":404,"errorCode":"RESOURCE_NOT_FOUND"}`, ok: true},
		{name: "unknown method 405 ApiError", method: "PUT", target: v2 + "/backup/exportBuckets", status: 405, ctype: ctJSON, body: `{"error":405,"errorCode":"METHOD_NOT_ALLOWED"}`, ok: true},
		{name: "unknown path 200", method: "GET", target: "/api/atlas/v2/nothing/here", status: 200, ctype: ctJSON, body: `{}`},
		{name: "unknown path plain-text 404", method: "GET", target: "/nope", status: 404, ctype: "text/plain", body: "404 page not found"},

		// ---- cloud provider access
		{name: "cpa list", method: "GET", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023,
			body: `{"awsIamRoles":[` + awsRolePending + `,` + awsRoleAuthz + `],"azureServicePrincipals":[` + azureRole + `],"gcpServiceAccounts":[` + gcpRole + `]}`, ok: true},
		{name: "cpa list empty", method: "GET", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023, body: `{"awsIamRoles":[],"azureServicePrincipals":[],"gcpServiceAccounts":[]}`, ok: true},
		{name: "cpa create aws", method: "POST", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023, body: awsRolePending, ok: true},
		{name: "cpa create aws with nulls", method: "POST", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023, body: awsRoleNulls, ok: true},
		{name: "cpa create azure", method: "POST", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023, body: azureRole, ok: true},
		{name: "cpa create gcp", method: "POST", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023, body: gcpRole, ok: true},
		{name: "cpa get", method: "GET", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: awsRoleAuthz, ok: true},
		{name: "cpa authorize", method: "PATCH", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: awsRoleAuthz, ok: true},
		{name: "cpa authorize conflict", method: "PATCH", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 409, ctype: ctJSON, body: `{"error":409,"errorCode":"CONFLICT"}`, ok: true},
		{name: "cpa deauthorize", method: "DELETE", target: v2 + "/cloudProviderAccess/AWS/" + role, accept: acc2023, status: 204, ctype: ct2023, ok: true},
		{name: "cpa list missing gcp", method: "GET", target: v2 + "/cloudProviderAccess", accept: acc2023, status: 200, ctype: ct2023, body: `{"awsIamRoles":[],"azureServicePrincipals":[]}`},
		{name: "cpa aws with links", method: "GET", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: strings.TrimSuffix(awsRolePending, "}") + `,"links":[]}`},
		{name: "cpa missing providerName", method: "GET", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(gcpRole, `"providerName":"GCP",`, "", 1)},
		{name: "cpa bad uuid", method: "GET", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(azureRole, "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", "not-a-uuid", 1)},
		{name: "cpa bad date", method: "GET", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(gcpRole, "2026-08-10T03:00:00Z", "yesterday", 1)},
		{name: "cpa bad feature type", method: "GET", target: v2 + "/cloudProviderAccess/" + role, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(awsRoleAuthz, "EXPORT_SNAPSHOT", "DATA_LAKE", 1)},
		{name: "cpa answered 2024", method: "GET", target: v2 + "/cloudProviderAccess/" + role, status: 200, ctype: ct2024, body: gcpRole},

		// ---- projects
		{name: "projects list", method: "GET", target: "/api/atlas/v2/groups", accept: acc2023, status: 200, ctype: ct2023,
			body: `{"links":[{"href":"http://127.0.0.1:8080/api/atlas/v2/groups?pageNum=1&itemsPerPage=100","rel":"self"}],"results":[` + project + `],"totalCount":1}`, ok: true},
		{name: "project create", method: "POST", target: "/api/atlas/v2/groups", accept: acc2023, status: 201, ctype: ct2023, body: project, ok: true},
		{name: "project create duplicate", method: "POST", target: "/api/atlas/v2/groups", accept: acc2023, status: 409, ctype: ctJSON, body: `{"error":409,"errorCode":"DUPLICATE_GROUP_NAME"}`, ok: true},
		{name: "project get", method: "GET", target: v2, accept: acc2023, status: 200, ctype: ct2023, body: project, ok: true},
		{name: "project clusterCount string", method: "GET", target: v2, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(project, `"clusterCount":0`, `"clusterCount":"0"`, 1)},
		{name: "project missing orgId", method: "GET", target: v2, accept: acc2023, status: 200, ctype: ct2023, body: strings.Replace(project, `,"orgId":"`+org+`"`, "", 1)},

		// ---- v1.0
		{name: "v1 list", method: "GET", target: v1 + "/backup/exportBuckets", status: 200, ctype: ctJSON, body: `{"links":[],"results":[` + awsBucket + `],"totalCount":1}`, ok: true},
		{name: "v1 create", method: "POST", target: v1 + "/backup/exportBuckets", status: 200, ctype: ctJSON, body: awsBucket, ok: true},
		{name: "v1 get", method: "GET", target: v1 + "/backup/exportBuckets/" + bucket, status: 200, ctype: ctJSON + ";charset=utf-8", body: awsBucketReg, ok: true},
		{name: "v1 delete", method: "DELETE", target: v1 + "/backup/exportBuckets/" + bucket, status: 204, ok: true},
		{name: "v1 cpa list", method: "GET", target: v1 + "/cloudProviderAccess", status: 200, ctype: ctJSON, body: `{"awsIamRoles":[` + awsRoleNulls + `],"azureServicePrincipals":[],"gcpServiceAccounts":[]}`, ok: true},
		{name: "v1 cpa authorize", method: "PATCH", target: v1 + "/cloudProviderAccess/" + role, status: 200, ctype: ctJSON, body: awsRoleAuthz, ok: true},
		{name: "v1 cpa deauthorize", method: "DELETE", target: v1 + "/cloudProviderAccess/AZURE/" + role, status: 204, ok: true},
		{name: "v1 versioned content type", method: "GET", target: v1 + "/backup/exportBuckets/" + bucket, status: 200, ctype: ct2023, body: awsBucketReg},
		{name: "v1 create azure", method: "POST", target: v1 + "/backup/exportBuckets", status: 200, ctype: ctJSON, body: azureBucket},
		{name: "v1 answers 406", method: "GET", target: v1 + "/backup/exportBuckets", status: 406, ctype: ctJSON, body: `{"error":406,"errorCode":"INVALID_VERSION_DATE"}`},

		// ---- OAuth, health, document
		{name: "token", method: "POST", target: "/api/oauth/token", status: 200, ctype: ctJSON, body: `{"access_token":"eyJhbGciOi.x.y","expires_in":3600,"token_type":"Bearer"}`, ok: true},
		{name: "token bad grant", method: "POST", target: "/api/oauth/token", status: 400, ctype: ctJSON, body: `{"error":"unsupported_grant_type","error_description":"only client_credentials is supported"}`, ok: true},
		{name: "token bad client", method: "POST", target: "/api/oauth/token", status: 401, ctype: ctJSON, header: map[string]string{"Www-Authenticate": `Basic realm="snapexport"`}, body: `{"error":"invalid_client"}`, ok: true},
		{name: "token missing token_type", method: "POST", target: "/api/oauth/token", status: 200, ctype: ctJSON, body: `{"access_token":"abc","expires_in":3600}`},
		{name: "token error as ApiError", method: "POST", target: "/api/oauth/token", status: 401, ctype: ctJSON, body: `{"error":401,"errorCode":"USER_UNAUTHORIZED"}`},
		{name: "token unknown oauth code", method: "POST", target: "/api/oauth/token", status: 400, ctype: ctJSON, body: `{"error":"bad_things"}`},
		{name: "revoke", method: "POST", target: "/api/oauth/revoke", status: 200, ok: true},
		{name: "revoke bad request", method: "POST", target: "/api/oauth/revoke", status: 400, ctype: ctJSON, body: `{"error":"invalid_request","error_description":"token is required"}`, ok: true},
		{name: "healthz", method: "GET", target: "/healthz", status: 200, ctype: "text/plain; charset=utf-8", body: "ok\n", ok: true},
		{name: "openapi document", method: "GET", target: "/api/atlas/v2/openapi.yaml", status: 200, ctype: "application/yaml", body: string(openapi.Document), ok: true},
		{name: "HEAD ignored", method: "HEAD", target: v2, status: 200, ok: true},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://snapexport.test"+c.target, nil)
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			h := http.Header{}
			if c.ctype != "" {
				h.Set("Content-Type", c.ctype)
			}
			for k, val := range c.header {
				h.Set(k, val)
			}
			err := v.ValidateResponse(req, c.status, h, []byte(c.body))
			switch {
			case c.ok && err != nil:
				t.Errorf("want valid, got: %v", err)
			case !c.ok && err == nil:
				t.Errorf("want a validation error, got none")
			case err != nil:
				t.Logf("rejected as expected: %v", err)
				msg := err.Error()
				if !strings.Contains(msg, c.method) || !strings.Contains(msg, strings.SplitN(c.target, "?", 2)[0]) || !strings.Contains(msg, fmt.Sprint(c.status)) {
					t.Errorf("error does not name method, path and status: %v", err)
				}
			}
		})
	}
}

func TestValidateResponseRelativeURL(t *testing.T) {
	// Server-side requests carry only a path in URL; routing must still work.
	v := newValidator(t)
	req := httptest.NewRequest("GET", v2+"/backup/exportBuckets/"+bucket, nil)
	req.URL.Host, req.URL.Scheme, req.Host = "", "", "elsewhere:9999"
	h := http.Header{"Content-Type": {ct2024}}
	if err := v.ValidateResponse(req, 200, h, []byte(awsBucketReg)); err != nil {
		t.Fatal(err)
	}
}

func TestValidateResponseGzip(t *testing.T) {
	v := newValidator(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, awsBucketReg)
	zw.Close()
	req := httptest.NewRequest("GET", v2+"/backup/exportBuckets/"+bucket, nil)
	h := http.Header{"Content-Type": {ct2024}, "Content-Encoding": {"gzip"}}
	if err := v.ValidateResponse(req, 200, h, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// recordingTB captures Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestTransport(t *testing.T) {
	v := newValidator(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case v2 + "/backup/exportBuckets/" + bucket:
			w.Header().Set("Content-Type", ct2024)
			io.WriteString(w, awsBucketReg)
		case v2 + "/backup/exportBuckets":
			// Invalid: create must not return region.
			w.Header().Set("Content-Type", ct2024)
			io.WriteString(w, awsBucketReg)
		default:
			w.Header().Set("Content-Type", ctJSON)
			w.Header().Set("X-Error-Code", "RESOURCE_NOT_FOUND")
			w.WriteHeader(404)
			io.WriteString(w, `{"error":404,"errorCode":"RESOURCE_NOT_FOUND"}`)
		}
	}))
	defer srv.Close()

	rec := &recordingTB{TB: t}
	client := &http.Client{Transport: v.Transport(rec, nil)}
	do := func(method, path string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Accept", acc2024)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if got := do("GET", v2+"/backup/exportBuckets/"+bucket); got != awsBucketReg {
		t.Errorf("body not restored: %q", got)
	}
	do("GET", "/missing")
	if len(rec.errs) != 0 {
		t.Fatalf("valid responses reported: %v", rec.errs)
	}
	if got := do("POST", v2+"/backup/exportBuckets"); got != awsBucketReg {
		t.Errorf("body not restored after failure: %q", got)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "POST") || !strings.Contains(rec.errs[0], "/backup/exportBuckets") || !strings.Contains(rec.errs[0], "200") {
		t.Fatalf("want one error naming POST, the path and 200; got %v", rec.errs)
	}
}

// ---------------------------------------------------------------- reference cross-check

var (
	versionedType = regexp.MustCompile(`^application/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json$`)
	pathParam     = regexp.MustCompile(`\{[^}]*\}`)
)

// opFacts is what the cross-check compares for one operation.
type opFacts struct {
	success  []string // 2xx status codes
	versions []string // dates of versioned media types in 2xx responses
	errors   []string // non-2xx status codes
}

func referencePath(t *testing.T) string {
	t.Helper()
	dir, err := ReferenceDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "atlas-openapi-backup-export.yaml")
}

func asMap(v any) map[string]any {
	switch m := v.(type) {
	case map[string]any:
		return m
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[fmt.Sprint(k)] = val
		}
		return out
	}
	return nil
}

// operations walks the paths of an OpenAPI document parsed as plain YAML and
// resolves response $refs (only those are needed) by hand.
func operations(t *testing.T, data []byte) map[string]opFacts {
	t.Helper()
	var root any
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("parse YAML: %v", err)
	}
	doc := asMap(root)
	components := asMap(asMap(doc["components"])["responses"])
	resolve := func(r any) map[string]any {
		m := asMap(r)
		for i := 0; i < 8 && m != nil; i++ {
			ref, ok := m["$ref"].(string)
			if !ok {
				break
			}
			m = asMap(components[strings.TrimPrefix(ref, "#/components/responses/")])
		}
		return m
	}
	out := map[string]opFacts{}
	for path, item := range asMap(doc["paths"]) {
		for method, op := range asMap(item) {
			switch method {
			case "get", "put", "post", "patch", "delete":
			default:
				continue
			}
			var f opFacts
			versions := map[string]bool{}
			for code, resp := range asMap(asMap(op)["responses"]) {
				if !strings.HasPrefix(code, "2") {
					f.errors = append(f.errors, code)
					continue
				}
				f.success = append(f.success, code)
				for mt := range asMap(resolve(resp)["content"]) {
					if m := versionedType.FindStringSubmatch(mt); m != nil {
						versions[m[1]] = true
					}
				}
			}
			for v := range versions {
				f.versions = append(f.versions, v)
			}
			sort.Strings(f.success)
			sort.Strings(f.versions)
			sort.Strings(f.errors)
			key := strings.ToUpper(method) + " " + pathParam.ReplaceAllString(path, "{}")
			out[key] = f
		}
	}
	return out
}

func TestMatchesAtlasReference(t *testing.T) {
	refFile := referencePath(t)
	data, err := os.ReadFile(refFile)
	RequireReference(t, "reference spec", refFile, err)
	ref := operations(t, data)
	ours := operations(t, openapi.Document)

	common := 0
	for key, r := range ref {
		o, ok := ours[key]
		if !ok {
			// Everything Atlas has for the resources we serve must be here.
			// Taking a snapshot is the one snapshot operation not served.
			if strings.Contains(key, "/exportBuckets") || strings.Contains(key, "/cloudProviderAccess") ||
				strings.Contains(key, "/backup/exports") ||
				strings.Contains(key, "/backup/snapshots") && !strings.HasPrefix(key, "POST ") {
				t.Errorf("%s: in the Atlas reference but not documented here", key)
			}
			continue
		}
		common++
		if !slices.Equal(o.success, r.success) {
			t.Errorf("%s: success statuses %v, Atlas declares %v", key, o.success, r.success)
		}
		if !slices.Equal(o.versions, r.versions) {
			t.Errorf("%s: versions %v, Atlas declares %v", key, o.versions, r.versions)
		}
		for _, code := range r.errors {
			if !slices.Contains(o.errors, code) {
				t.Errorf("%s: Atlas declares %s, we do not", key, code)
			}
		}
	}
	// v2: 5 bucket + 5 cloud provider access + 7 snapshot + 3 export-job
	// operations; v1.0: 4 + 5 + 3 export-job ones.
	if common < 32 {
		t.Errorf("only %d operations in common with the reference, want at least 32", common)
	}
	t.Logf("%d operations compared with %s", common, refFile)
}

// recordedBucketCall matches the request part of a recorded export-bucket
// response file name, e.g. "GET_api_atlas_v2_groups_<id>_backup_exportBuckets_<id>_1.snaphost".
var recordedBucketCall = regexp.MustCompile(`__(GET|POST|PATCH|DELETE)_api_atlas_v2_groups_([0-9a-f]{24})_backup_exportBuckets(?:_([0-9a-f]{24}))?_\d+\.snaphost$`)

// TestRecordedAtlasResponses replays the real Atlas export-bucket responses
// kept beside the reference spec through the validator.
func TestRecordedAtlasResponses(t *testing.T) {
	replayRecorded(t, recordedCalls{call: recordedBucketCall, prefix: "TestExportBuckets__", atLeast: 4, what: "export-bucket",
		path: func(m []string) string {
			path := "/api/atlas/v2/groups/" + m[2] + "/backup/exportBuckets"
			if m[3] != "" {
				path += "/" + m[3]
			}
			return path
		}})
}

// recordedSnapshotCall matches a recorded read or delete of one snapshot,
// e.g. "GET_api_atlas_v2_groups_<id>_clusters_<name>_backup_snapshots_<id>_1.snaphost".
var recordedSnapshotCall = regexp.MustCompile(`__(GET|DELETE)_api_atlas_v2_groups_([0-9a-f]{24})_clusters_([a-zA-Z0-9-]+)_backup_snapshots_([0-9a-f]{24})_\d+\.snaphost$`)

// TestRecordedAtlasSnapshotResponses replays Atlas's recorded snapshot
// answers, from queued to completed and the delete, through the
// validator: the document must accept what Atlas really sends.
func TestRecordedAtlasSnapshotResponses(t *testing.T) {
	replayRecorded(t, recordedCalls{call: recordedSnapshotCall, accept: acc2023, atLeast: 5, what: "snapshot",
		path: func(m []string) string {
			return "/api/atlas/v2/groups/" + m[2] + "/clusters/" + m[3] + "/backup/snapshots/" + m[4]
		}})
}

// recordedExportJobCall matches a recorded export-job call, e.g.
// "POST_api_atlas_v2_groups_<id>_clusters_<name>_backup_exports_1.snaphost"
// or "GET_…_backup_exports_<id>_1.snaphost".
var recordedExportJobCall = regexp.MustCompile(`__(GET|POST)_api_atlas_v2_groups_([0-9a-f]{24})_clusters_([a-zA-Z0-9-]+)_backup_exports(?:_([0-9a-f]{24}))?_\d+\.snaphost$`)

// TestRecordedAtlasExportJobResponses replays Atlas's recorded export-job
// answers (create, each state while watching, get and list) through the
// validator.
func TestRecordedAtlasExportJobResponses(t *testing.T) {
	replayRecorded(t, recordedCalls{call: recordedExportJobCall, accept: acc2023, atLeast: 6, what: "export-job",
		path: func(m []string) string {
			path := "/api/atlas/v2/groups/" + m[2] + "/clusters/" + m[3] + "/backup/exports"
			if m[4] != "" {
				path += "/" + m[4]
			}
			return path
		}})
}

// recordedScheduleCall matches a recorded call of a backup schedule, e.g.
// "Describe__GET_api_atlas_v2_groups_<id>_clusters_<name>_backup_schedule_1.snaphost".
var recordedScheduleCall = regexp.MustCompile(`__(GET|PATCH|DELETE)_api_atlas_v2_groups_([0-9a-f]{24})_clusters_([a-zA-Z0-9-]+)_backup_schedule_\d+\.snaphost$`)

// TestRecordedAtlasScheduleResponses replays Atlas's recorded backup
// schedule answers (GET and PATCH in 2023-01-01, DELETE in 2024-08-05)
// through the validator.
func TestRecordedAtlasScheduleResponses(t *testing.T) {
	replayRecorded(t, recordedCalls{call: recordedScheduleCall, atLeast: 3, what: "backup schedule",
		path: func(m []string) string {
			return "/api/atlas/v2/groups/" + m[2] + "/clusters/" + m[3] + "/backup/schedule"
		}})
}

// recordedCalls are the recorded Atlas answers of one resource.
type recordedCalls struct {
	// call matches the file names: the method first, then what path
	// needs to rebuild the request's path.
	call   *regexp.Regexp
	prefix string // of the file names, when only some match
	path   func(m []string) string
	// accept is the request's Accept; the answer's own media type when
	// empty.
	accept  string
	atLeast int
	what    string
}

// replayRecorded validates every recorded answer of rc and fails unless
// there were at least rc.atLeast of them.
func replayRecorded(t *testing.T, rc recordedCalls) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(referencePath(t)), "recorded-atlas")
	entries, err := os.ReadDir(dir)
	RequireReference(t, "recorded responses", dir, err)
	v := newValidator(t)
	replayed := 0
	for _, e := range entries {
		m := rc.call.FindStringSubmatch(e.Name())
		if m == nil || !strings.HasPrefix(e.Name(), rc.prefix) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(m[1], "http://localhost:8080"+rc.path(m), nil)
		resp, err := http.ReadResponse(bufioReader(raw), req)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if rc.accept != "" {
			req.Header.Set("Accept", rc.accept)
		} else if mt := resp.Header.Get("Content-Type"); mt != "" {
			req.Header.Set("Accept", strings.SplitN(mt, ";", 2)[0])
		}
		if err := v.ValidateResponse(req, resp.StatusCode, resp.Header, body); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
		replayed++
	}
	if replayed < rc.atLeast {
		t.Errorf("replayed %d recorded %s responses, want at least %d", replayed, rc.what, rc.atLeast)
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func TestValidatorConcurrentUse(t *testing.T) {
	v := newValidator(t)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				req := httptest.NewRequest("GET", v2+"/cloudProviderAccess/"+role, nil)
				h := http.Header{"Content-Type": {ct2023}}
				if err := v.ValidateResponse(req, 200, h, []byte(azureRole)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
