package api

import (
	"net/http"

	"github.com/snapexport/snapexport"
)

// statuses is the HTTP status each errorCode is answered with: Atlas's
// where it documents or shows one, else the one of its kind (see
// docs/compatibility.md).
var statuses = map[string]int{
	snapexport.CodeUnexpectedError:        http.StatusInternalServerError,
	snapexport.CodeServiceUnavailable:     http.StatusServiceUnavailable,
	snapexport.CodeValidationError:        http.StatusBadRequest,
	snapexport.CodeInvalidAttribute:       http.StatusBadRequest,
	snapexport.CodeAttributeReadOnly:      http.StatusBadRequest,
	snapexport.CodeMissingAttribute:       http.StatusBadRequest,
	snapexport.CodeInvalidEnumValue:       http.StatusBadRequest,
	snapexport.CodeMalformedJSON:          http.StatusBadRequest,
	snapexport.CodeInvalidJSON:            http.StatusBadRequest,
	snapexport.CodeInvalidJSONAttribute:   http.StatusBadRequest,
	snapexport.CodeInvalidPathParameter:   http.StatusBadRequest,
	snapexport.CodeInvalidQueryParameter:  http.StatusBadRequest,
	snapexport.CodeInvalidVersionDate:     http.StatusNotAcceptable,
	snapexport.CodeVersionGone:            http.StatusGone,
	snapexport.CodeResourceNotFound:       http.StatusNotFound,
	snapexport.CodeMethodNotAllowed:       http.StatusMethodNotAllowed,
	snapexport.CodeUnsupportedMediaType:   http.StatusUnsupportedMediaType,
	snapexport.CodeRequestHeadersTooLarge: http.StatusRequestHeaderFieldsTooLarge,
	snapexport.CodeRateLimitedTokenBucket: http.StatusTooManyRequests,

	snapexport.CodeUnauthorized:     http.StatusUnauthorized,
	snapexport.CodeUserUnauthorized: http.StatusUnauthorized,
	snapexport.CodeNotInGroup:       http.StatusUnauthorized,

	snapexport.CodeGroupNotFound:      http.StatusNotFound,
	snapexport.CodeInvalidGroupID:     http.StatusNotFound,
	snapexport.CodeInvalidGroupName:   http.StatusBadRequest,
	snapexport.CodeOrgNotFound:        http.StatusNotFound,
	snapexport.CodeDuplicateGroupName: http.StatusConflict,

	snapexport.CodeCloudProviderAccessRoleNotFound:      http.StatusNotFound,
	snapexport.CodeCloudProviderAccessRoleNotAuthorized: http.StatusBadRequest,
	snapexport.CodeCloudProviderAccessRoleInUse:         http.StatusBadRequest,
	snapexport.CodeCloudProviderMismatch:                http.StatusBadRequest,
	snapexport.CodeInvalidIAMRoleARN:                    http.StatusBadRequest,
	snapexport.CodeAzureServicePrincipalInvalid:         http.StatusBadRequest,

	snapexport.CodeExportBucketNotFound:     http.StatusNotFound,
	snapexport.CodeExportBucketNameInvalid:  http.StatusBadRequest,
	snapexport.CodeInvalidAzureServiceURL:   http.StatusBadRequest,
	snapexport.CodePrivateNetworkingAWSOnly: http.StatusBadRequest,
	snapexport.CodeExportBucketInUse:        http.StatusBadRequest,

	snapexport.CodePrivateEndpointNotFound:      http.StatusNotFound,
	snapexport.CodePrivateEndpointAlreadyExists: http.StatusConflict,
	snapexport.CodePrivateEndpointInUse:         http.StatusConflict,
	snapexport.CodePrivateEndpointRequired:      http.StatusBadRequest,

	snapexport.CodeClusterNotFound:                 http.StatusNotFound,
	snapexport.CodeInvalidBackupPolicy:             http.StatusBadRequest,
	snapexport.CodeNonFlexClusterInFlexAPI:         http.StatusBadRequest,
	snapexport.CodeDuplicateClusterName:            http.StatusBadRequest,
	snapexport.CodeInvalidProvider:                 http.StatusBadRequest,
	snapexport.CodeInvalidRegion:                   http.StatusBadRequest,
	snapexport.CodeClusterTerminationProtected:     http.StatusBadRequest,
	snapexport.CodeClusterAlreadyRequestedDeletion: http.StatusBadRequest,

	snapexport.CodeSnapshotNotFound:                http.StatusNotFound,
	snapexport.CodeBackupConfigNotFound:            http.StatusNotFound,
	snapexport.CodeInvalidSnapshotID:               http.StatusNotFound,
	snapexport.CodeRetentionValueInvalid:           http.StatusBadRequest,
	snapexport.CodeSnapshotBeingExported:           http.StatusBadRequest,
	snapexport.CodeInvalidSnapshotImport:           http.StatusBadRequest,
	snapexport.CodeInvalidDump:                     http.StatusBadRequest,
	snapexport.CodeSnapshotUploadTooLarge:          http.StatusRequestEntityTooLarge,
	snapexport.CodeSnapshotUploadTimeout:           http.StatusRequestTimeout,
	snapexport.CodeUnfinishedSnapshot:              http.StatusBadRequest,
	snapexport.CodeCannotDeleteUnfinished:          http.StatusBadRequest,
	snapexport.CodeCannotChangeUnfinishedRetention: http.StatusBadRequest,

	snapexport.CodeExportJobNotFound:       http.StatusNotFound,
	snapexport.CodeExportAlreadyInProgress: http.StatusConflict,
	snapexport.CodeInvalidExportJobID:      http.StatusNotFound,

	snapexport.CodeCannotAssumeRole:                   http.StatusBadRequest,
	snapexport.CodeCannotAuthenticateServicePrincipal: http.StatusBadRequest,
	snapexport.CodeBucketNotFound:                     http.StatusBadRequest,
	snapexport.CodeBucketAccessDenied:                 http.StatusBadRequest,
	snapexport.CodeInvalidAWSCredentials:              http.StatusBadRequest,
	snapexport.CodeInvalidAzureCredentials:            http.StatusBadRequest,
	snapexport.CodeInvalidGoogleCloudCredentials:      http.StatusBadRequest,
	snapexport.CodePrivateEndpointNotConfigured:       http.StatusBadRequest,
	snapexport.CodeObjectStoreUnreachable:             http.StatusBadGateway,
	snapexport.CodeObjectStoreTimeout:                 http.StatusGatewayTimeout,
	snapexport.CodeObjectStoreError:                   http.StatusBadGateway,
	snapexport.CodeObjectStoreRefused:                 http.StatusBadRequest,
}

// Status is the HTTP status errorCode code is answered with; 500 for a
// code outside the catalogue.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
