package api

import (
	"net/http"
	"testing"

	"github.com/snapexport/snapexport"
)

// kindStatus is the status each kind of failure is answered with, unless
// atlasStatus names the code.
var kindStatus = map[snapexport.ErrorKind]int{
	snapexport.KindInvalid:      http.StatusBadRequest,
	snapexport.KindNotFound:     http.StatusNotFound,
	snapexport.KindConflict:     http.StatusConflict,
	snapexport.KindUnauthorized: http.StatusUnauthorized,
	snapexport.KindRateLimited:  http.StatusTooManyRequests,
	snapexport.KindUnavailable:  http.StatusServiceUnavailable,
	snapexport.KindInternal:     http.StatusInternalServerError,
}

// atlasStatus spells out the codes answered with a status their kind does
// not predict, as Atlas answers them (its error table, or observed), and a
// few whose status is easy to get wrong.
var atlasStatus = map[string]int{
	// Malformed ids of the path that Atlas's error table answers 404.
	snapexport.CodeInvalidGroupID:     http.StatusNotFound,
	snapexport.CodeInvalidSnapshotID:  http.StatusNotFound,
	snapexport.CodeInvalidExportJobID: http.StatusNotFound,
	// A role on no project of the caller: 401, like too weak a role.
	snapexport.CodeNotInGroup: http.StatusUnauthorized,
	// Requests wrong in the HTTP sense.
	snapexport.CodeMethodNotAllowed:       http.StatusMethodNotAllowed,
	snapexport.CodeInvalidVersionDate:     http.StatusNotAcceptable,
	snapexport.CodeVersionGone:            http.StatusGone,
	snapexport.CodeSnapshotUploadTooLarge: http.StatusRequestEntityTooLarge,
	snapexport.CodeSnapshotUploadTimeout:  http.StatusRequestTimeout,
	snapexport.CodeUnsupportedMediaType:   http.StatusUnsupportedMediaType,
	snapexport.CodeRequestHeadersTooLarge: http.StatusRequestHeaderFieldsTooLarge,
	// Refusals of the current state that Atlas answers 400, like its
	// failed-delete codes.
	snapexport.CodeCloudProviderAccessRoleNotAuthorized: http.StatusBadRequest,
	snapexport.CodeCloudProviderAccessRoleInUse:         http.StatusBadRequest,
	snapexport.CodeExportBucketInUse:                    http.StatusBadRequest,
	snapexport.CodeSnapshotBeingExported:                http.StatusBadRequest,
	snapexport.CodePrivateEndpointRequired:              http.StatusBadRequest,
	snapexport.CodePrivateEndpointNotConfigured:         http.StatusBadRequest,
	// Atlas answers a taken cluster name and a refused cluster deletion
	// 400 too.
	snapexport.CodeDuplicateClusterName:            http.StatusBadRequest,
	snapexport.CodeClusterTerminationProtected:     http.StatusBadRequest,
	snapexport.CodeClusterAlreadyRequestedDeletion: http.StatusBadRequest,
	// An object store that failed to answer is a bad gateway, one that
	// answered too late a gateway timeout.
	snapexport.CodeObjectStoreUnreachable: http.StatusBadGateway,
	snapexport.CodeObjectStoreError:       http.StatusBadGateway,
	snapexport.CodeObjectStoreTimeout:     http.StatusGatewayTimeout,
}

func TestEveryCodeHasItsStatus(t *testing.T) {
	n := 0
	for code, kind := range snapexport.Codes() {
		n++
		got, ok := statuses[code]
		if !ok {
			t.Errorf("%s (%s) has no status", code, kind)
			continue
		}
		want, spelled := atlasStatus[code]
		if !spelled {
			want = kindStatus[kind]
		}
		if got != want {
			t.Errorf("%s (%s) is answered %d, want %d", code, kind, got, want)
		}
		if Status(code) != got {
			t.Errorf("Status(%s) = %d, the table says %d", code, Status(code), got)
		}
	}
	if n != len(statuses) {
		t.Errorf("the catalogue has %d codes, the status table %d", n, len(statuses))
	}
	for code := range atlasStatus {
		if _, ok := statuses[code]; !ok {
			t.Errorf("%s is spelled out but not in the table", code)
		}
	}
}

// TestStatusesMatchKinds checks the ranges every kind keeps to, exceptions
// included: a not-found is never a 5xx, an unavailable dependency never a 4xx.
func TestStatusesMatchKinds(t *testing.T) {
	for code, kind := range snapexport.Codes() {
		s := Status(code)
		var ok bool
		switch kind {
		case snapexport.KindInvalid, snapexport.KindConflict:
			ok = s >= 400 && s < 500 && s != http.StatusUnauthorized && s != http.StatusTooManyRequests
		case snapexport.KindNotFound:
			ok = s == http.StatusNotFound
		case snapexport.KindUnauthorized:
			ok = s == http.StatusUnauthorized
		case snapexport.KindRateLimited:
			ok = s == http.StatusTooManyRequests
		case snapexport.KindUnavailable:
			ok = s == http.StatusBadGateway || s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout
		case snapexport.KindInternal:
			ok = s == http.StatusInternalServerError
		}
		if !ok {
			t.Errorf("%s: kind %s answered %d", code, kind, s)
		}
	}
	if Status("NOT_A_CODE") != http.StatusInternalServerError {
		t.Errorf("a code outside the catalogue is answered %d, want 500", Status("NOT_A_CODE"))
	}
}
