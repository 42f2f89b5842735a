// Package snapexport holds the domain of the service: the resources of the
// Atlas Cloud Backup export API, their validation rules, the errors they
// produce and the storage contract the rest of the program implements.
package snapexport

import (
	"errors"
	"fmt"
	"iter"
	"maps"
)

// Error is a failure that reaches an API client as an Atlas ApiError.
// Code is the Atlas errorCode, Kind what the failure means (the HTTP
// status is the transport's business: internal/api maps each code to
// one), Detail the human-readable text with Params already substituted.
type Error struct {
	Code   string
	Kind   ErrorKind
	Detail string
	Params []string
	// Fields is rendered as badRequestDetail.fields when not empty.
	Fields []FieldError
}

// FieldError names one attribute of a request body and what is wrong with it.
type FieldError struct {
	Description string `json:"description"`
	Field       string `json:"field"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// Permanent reports whether making the same request again cannot succeed
// before something changes: every kind but unavailable, internal and
// rate-limited, which may pass by themselves.
func (e *Error) Permanent() bool {
	switch e.Kind {
	case KindUnavailable, KindInternal, KindRateLimited:
		return false
	}
	return true
}

// Errorf builds the Error of code, whose kind the catalogue gives and whose
// detail is format with params substituted; the params are also kept
// verbatim, as Atlas returns them in "parameters".
func Errorf(code, format string, params ...string) *Error {
	args := make([]any, len(params))
	for i, p := range params {
		args[i] = p
	}
	detail := format
	if len(params) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	return newError(code, detail, params)
}

// newError builds the Error of code with a finished detail. A code missing
// from the catalogue is internal: the catalogue test keeps that from
// happening.
func newError(code, detail string, params []string) *Error {
	kind, known := catalogue[code]
	if !known {
		kind = KindInternal
	}
	return &Error{Code: code, Kind: kind, Detail: detail, Params: params}
}

// AsError returns err as an *Error, or UNEXPECTED_ERROR when err is not a
// domain error, so that internal failures never leak their text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(CodeUnexpectedError, "Unexpected error.")
}

// ErrorCode reports the Atlas errorCode of err, or "" when err is not a domain error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorKind is what a failure means to whoever made the request, whichever
// layer reports it.
type ErrorKind string

const (
	// KindInvalid: the request itself is wrong (a malformed value, an
	// attribute that does not belong, a bucket or role that cannot be
	// used as given).
	KindInvalid ErrorKind = "invalid"
	// KindNotFound: the resource the request names does not exist.
	KindNotFound ErrorKind = "not-found"
	// KindConflict: the request is well formed but the current state
	// forbids it (a resource in use, one already there, one missing
	// first).
	KindConflict ErrorKind = "conflict"
	// KindUnauthorized: the caller is not authenticated, or lacks the
	// permission.
	KindUnauthorized ErrorKind = "unauthorized"
	// KindRateLimited: the caller sent too many requests; waiting helps.
	KindRateLimited ErrorKind = "rate-limited"
	// KindUnavailable: a dependency (the database, an object store) did
	// not answer, or not in time, or kept failing; it may pass.
	KindUnavailable ErrorKind = "unavailable"
	// KindInternal: an unexpected failure of the service.
	KindInternal ErrorKind = "internal"
)

// Codes lists every errorCode of the catalogue with its kind.
func Codes() iter.Seq2[string, ErrorKind] { return maps.All(catalogue) }

// Atlas errorCodes the service answers. The messages follow Atlas's
// published templates; see docs/compatibility.md for the ones we chose.
// Codes Atlas documents none for are the service's own, named in Atlas's
// style.
const (
	// Requests.
	CodeUnexpectedError        = "UNEXPECTED_ERROR"
	CodeServiceUnavailable     = "SERVICE_UNAVAILABLE"
	CodeValidationError        = "VALIDATION_ERROR"
	CodeInvalidAttribute       = "INVALID_ATTRIBUTE"
	CodeAttributeReadOnly      = "ATTRIBUTE_READ_ONLY"
	CodeMissingAttribute       = "MISSING_ATTRIBUTE"
	CodeInvalidEnumValue       = "INVALID_ENUM_VALUE"
	CodeMalformedJSON          = "MALFORMED_JSON"
	CodeInvalidJSON            = "INVALID_JSON"
	CodeInvalidJSONAttribute   = "INVALID_JSON_ATTRIBUTE"
	CodeInvalidPathParameter   = "INVALID_PATH_PARAMETER"
	CodeInvalidQueryParameter  = "INVALID_QUERY_PARAMETER"
	CodeInvalidVersionDate     = "INVALID_VERSION_DATE"
	CodeVersionGone            = "VERSION_GONE"
	CodeResourceNotFound       = "RESOURCE_NOT_FOUND"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeRateLimitedTokenBucket = "RATE_LIMITED_TOKEN_BUCKET"

	// Requests that HTTP itself refuses, the service's own codes.
	// CodeUnsupportedMediaType: a body of a media type other than JSON
	// sent to an operation that reads JSON. CodeRequestHeadersTooLarge:
	// the request's headers are larger than the server takes.
	CodeUnsupportedMediaType   = "UNSUPPORTED_MEDIA_TYPE"
	CodeRequestHeadersTooLarge = "REQUEST_HEADER_FIELDS_TOO_LARGE"

	// Authentication and authorization. CodeUnauthorized refuses a bearer
	// token that is invalid, expired or revoked (Atlas documents no code).
	CodeUnauthorized     = "UNAUTHORIZED"
	CodeUserUnauthorized = "USER_UNAUTHORIZED"
	CodeNotInGroup       = "NOT_IN_GROUP"

	// Organizations and projects. CodeInvalidGroupName is a project name
	// that breaks the naming rules.
	CodeGroupNotFound      = "GROUP_NOT_FOUND"
	CodeInvalidGroupID     = "INVALID_GROUP_ID"
	CodeInvalidGroupName   = "INVALID_GROUP_NAME"
	CodeOrgNotFound        = "ORG_NOT_FOUND"
	CodeDuplicateGroupName = "DUPLICATE_GROUP_NAME"

	// Cloud provider access roles.
	CodeCloudProviderAccessRoleNotFound      = "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND"
	CodeCloudProviderAccessRoleNotAuthorized = "CLOUD_PROVIDER_ACCESS_ROLE_NOT_AUTHORIZED"
	CodeCloudProviderAccessRoleInUse         = "CLOUD_PROVIDER_ACCESS_ROLE_IN_USE"
	CodeCloudProviderMismatch                = "CLOUD_PROVIDER_ACCESS_ROLE_PROVIDER_MISMATCH"
	CodeInvalidIAMRoleARN                    = "INVALID_IAM_ROLE_ARN"
	CodeAzureServicePrincipalInvalid         = "CLOUD_PROVIDER_ACCESS_AZURE_SERVICE_PRINCIPAL_INVALID"

	// Export buckets. CodeExportBucketInUse refuses to delete a bucket a
	// backup schedule auto-exports to.
	CodeExportBucketNotFound     = "EXPORT_BUCKET_NOT_FOUND"
	CodeExportBucketNameInvalid  = "EXPORT_BUCKET_NAME_INVALID"
	CodeInvalidAzureServiceURL   = "INVALID_AZURE_SERVICE_URL"
	CodePrivateNetworkingAWSOnly = "PRIVATE_NETWORKING_NOT_SUPPORTED"
	CodeExportBucketInUse        = "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE"

	// Object storage private endpoints.
	CodePrivateEndpointNotFound      = "OBJECT_STORAGE_PRIVATE_ENDPOINT_NOT_FOUND"
	CodePrivateEndpointAlreadyExists = "OBJECT_STORAGE_PRIVATE_ENDPOINT_ALREADY_EXISTS"
	CodePrivateEndpointInUse         = "OBJECT_STORAGE_PRIVATE_ENDPOINT_IN_USE"
	CodePrivateEndpointRequired      = "OBJECT_STORAGE_PRIVATE_ENDPOINT_REQUIRED"

	// Clusters and their backup schedules. CodeNonFlexClusterInFlexAPI
	// answers the flex-cluster API for a dedicated cluster, which is how
	// clients that try the flex API first learn to use the other.
	CodeClusterNotFound         = "CLUSTER_NOT_FOUND"
	CodeInvalidBackupPolicy     = "INVALID_BACKUP_POLICY"
	CodeNonFlexClusterInFlexAPI = "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"
	// Creating, changing and deleting clusters; docs/compatibility.md
	// says which of these codes no source shows for clusters.
	CodeDuplicateClusterName            = "DUPLICATE_CLUSTER_NAME"
	CodeInvalidProvider                 = "INVALID_PROVIDER"
	CodeInvalidRegion                   = "INVALID_REGION"
	CodeClusterTerminationProtected     = "CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED"
	CodeClusterAlreadyRequestedDeletion = "CLUSTER_ALREADY_REQUESTED_DELETION"

	// Snapshots. CodeSnapshotBeingExported refuses to delete a snapshot an
	// active export reads. The import codes are the service's own: Atlas
	// does not import snapshots.
	CodeSnapshotNotFound       = "SNAPSHOT_NOT_FOUND"
	CodeBackupConfigNotFound   = "BACKUP_CONFIG_NOT_FOUND"
	CodeInvalidSnapshotID      = "INVALID_SNAPSHOT_ID"
	CodeRetentionValueInvalid  = "BACKUP_SNAPSHOT_RETENTION_VALUE_INVALID"
	CodeSnapshotBeingExported  = "SNAPSHOT_EXPORT_IN_PROGRESS"
	CodeInvalidSnapshotImport  = "INVALID_SNAPSHOT_IMPORT"
	CodeInvalidDump            = "INVALID_DUMP"
	CodeSnapshotUploadTooLarge = "SNAPSHOT_UPLOAD_TOO_LARGE"
	CodeSnapshotUploadTimeout  = "SNAPSHOT_UPLOAD_TIMEOUT"
	// A snapshot still being taken can be neither taken again, deleted,
	// given another expiry nor exported.
	CodeUnfinishedSnapshot              = "UNFINISHED_ON_DEMAND_SNAPSHOT"
	CodeCannotDeleteUnfinished          = "CANNOT_DELETE_IN_PROGRESS_SNAPSHOT"
	CodeCannotChangeUnfinishedRetention = "CANNOT_MODIFY_IN_PROGRESS_SNAPSHOT_RETENTION"

	// Export jobs. CodeExportAlreadyInProgress refuses a second export of
	// a snapshot while one is active.
	CodeExportJobNotFound       = "EXPORT_JOB_NOT_FOUND"
	CodeExportAlreadyInProgress = "EXPORT_ALREADY_IN_PROGRESS"
	CodeInvalidExportJobID      = "INVALID_EXPORT_ID"

	// Object stores. CANNOT_ASSUME_ROLE, CANNOT_AUTHENTICATE_SERVICE_PRINCIPAL
	// and the INVALID_*_CREDENTIALS codes are Atlas's own; the others are
	// the service's, for failures Atlas documents no code for.
	//
	// CodeCannotAssumeRole: AWS STS refused AssumeRole for the role, or GCP
	// refused to impersonate the role's service account. Detail is Atlas's
	// "Atlas cannot assume the specified role (%s).".
	CodeCannotAssumeRole = "CANNOT_ASSUME_ROLE"
	// CodeCannotAuthenticateServicePrincipal: Entra ID refused to sign the
	// server's application in to the role's tenant.
	CodeCannotAuthenticateServicePrincipal = "CANNOT_AUTHENTICATE_SERVICE_PRINCIPAL"
	// CodeBucketNotFound: the bucket or container does not exist in the
	// object store.
	CodeBucketNotFound = "BUCKET_NOT_FOUND"
	// CodeBucketAccessDenied: the store refused the operation to the
	// identity used (missing s3:PutObject, role assignment, …).
	CodeBucketAccessDenied = "BUCKET_ACCESS_DENIED"
	// CodeInvalidAWSCredentials, CodeInvalidAzureCredentials and
	// CodeInvalidGoogleCloudCredentials: the store did not accept the
	// credentials at all (unknown key, bad signature, expired token).
	CodeInvalidAWSCredentials         = "INVALID_AWS_CREDENTIALS"
	CodeInvalidAzureCredentials       = "INVALID_AZURE_CREDENTIALS"
	CodeInvalidGoogleCloudCredentials = "INVALID_GOOGLE_CLOUD_CREDENTIALS"
	// CodePrivateEndpointNotConfigured: a bucket requires private
	// networking in a region the server has no VPC endpoint for.
	CodePrivateEndpointNotConfigured = "PRIVATE_ENDPOINT_NOT_CONFIGURED"
	// CodeObjectStoreUnreachable: no HTTP answer (connection refused or
	// reset, name not resolved, TLS failure) after retries.
	CodeObjectStoreUnreachable = "OBJECT_STORE_UNREACHABLE"
	// CodeObjectStoreTimeout: no answer within the configured timeout.
	CodeObjectStoreTimeout = "OBJECT_STORE_TIMEOUT"
	// CodeObjectStoreError: the store kept answering with an error that is
	// none of the above (5xx after every retry, an unexpected 4xx).
	CodeObjectStoreError = "OBJECT_STORE_ERROR"
	// CodeObjectStoreRefused: the store refused the request in a way that
	// repeating it cannot change (a 4xx other than 401, 403, 404, 408 and
	// 429, such as a key too long or invalid; a local bucket's file name
	// too long or invalid).
	CodeObjectStoreRefused = "OBJECT_STORE_REQUEST_REFUSED"
)

// Codes of a failed export job's stateReason: the refusals of the bucket
// keep the object store's codes; the others are never an API answer.
const (
	ReasonBucketAccessDenied     = CodeBucketAccessDenied
	ReasonBucketNotFound         = CodeBucketNotFound
	ReasonSnapshotDataUnreadable = "SNAPSHOT_DATA_UNREADABLE"
	ReasonExportFailed           = "EXPORT_FAILED"
)

// catalogue gives each errorCode its kind.
var catalogue = map[string]ErrorKind{
	CodeUnexpectedError:        KindInternal,
	CodeServiceUnavailable:     KindUnavailable,
	CodeValidationError:        KindInvalid,
	CodeInvalidAttribute:       KindInvalid,
	CodeAttributeReadOnly:      KindInvalid,
	CodeMissingAttribute:       KindInvalid,
	CodeInvalidEnumValue:       KindInvalid,
	CodeMalformedJSON:          KindInvalid,
	CodeInvalidJSON:            KindInvalid,
	CodeInvalidJSONAttribute:   KindInvalid,
	CodeInvalidPathParameter:   KindInvalid,
	CodeInvalidQueryParameter:  KindInvalid,
	CodeInvalidVersionDate:     KindInvalid,
	CodeVersionGone:            KindInvalid,
	CodeResourceNotFound:       KindNotFound,
	CodeMethodNotAllowed:       KindInvalid,
	CodeUnsupportedMediaType:   KindInvalid,
	CodeRequestHeadersTooLarge: KindInvalid,
	CodeRateLimitedTokenBucket: KindRateLimited,

	CodeUnauthorized:     KindUnauthorized,
	CodeUserUnauthorized: KindUnauthorized,
	CodeNotInGroup:       KindUnauthorized,

	CodeGroupNotFound:      KindNotFound,
	CodeInvalidGroupID:     KindInvalid,
	CodeInvalidGroupName:   KindInvalid,
	CodeOrgNotFound:        KindNotFound,
	CodeDuplicateGroupName: KindConflict,

	CodeCloudProviderAccessRoleNotFound:      KindNotFound,
	CodeCloudProviderAccessRoleNotAuthorized: KindConflict,
	CodeCloudProviderAccessRoleInUse:         KindConflict,
	CodeCloudProviderMismatch:                KindInvalid,
	CodeInvalidIAMRoleARN:                    KindInvalid,
	CodeAzureServicePrincipalInvalid:         KindInvalid,

	CodeExportBucketNotFound:     KindNotFound,
	CodeExportBucketNameInvalid:  KindInvalid,
	CodeInvalidAzureServiceURL:   KindInvalid,
	CodePrivateNetworkingAWSOnly: KindInvalid,
	CodeExportBucketInUse:        KindConflict,

	CodePrivateEndpointNotFound:      KindNotFound,
	CodePrivateEndpointAlreadyExists: KindConflict,
	CodePrivateEndpointInUse:         KindConflict,
	CodePrivateEndpointRequired:      KindConflict,

	CodeClusterNotFound:                 KindNotFound,
	CodeInvalidBackupPolicy:             KindInvalid,
	CodeNonFlexClusterInFlexAPI:         KindInvalid,
	CodeDuplicateClusterName:            KindConflict,
	CodeInvalidProvider:                 KindInvalid,
	CodeInvalidRegion:                   KindInvalid,
	CodeClusterTerminationProtected:     KindConflict,
	CodeClusterAlreadyRequestedDeletion: KindConflict,

	CodeSnapshotNotFound:                KindNotFound,
	CodeBackupConfigNotFound:            KindNotFound,
	CodeInvalidSnapshotID:               KindInvalid,
	CodeRetentionValueInvalid:           KindInvalid,
	CodeSnapshotBeingExported:           KindConflict,
	CodeInvalidSnapshotImport:           KindInvalid,
	CodeInvalidDump:                     KindInvalid,
	CodeSnapshotUploadTooLarge:          KindInvalid,
	CodeSnapshotUploadTimeout:           KindInvalid,
	CodeUnfinishedSnapshot:              KindInvalid,
	CodeCannotDeleteUnfinished:          KindInvalid,
	CodeCannotChangeUnfinishedRetention: KindInvalid,

	CodeExportJobNotFound:       KindNotFound,
	CodeExportAlreadyInProgress: KindConflict,
	CodeInvalidExportJobID:      KindInvalid,

	// What a store refuses (the role, the bucket, the credentials) stays
	// refused until its configuration changes: the bucket or role cannot
	// be used as given.
	CodeCannotAssumeRole:                   KindInvalid,
	CodeCannotAuthenticateServicePrincipal: KindInvalid,
	CodeBucketNotFound:                     KindInvalid,
	CodeBucketAccessDenied:                 KindInvalid,
	CodeInvalidAWSCredentials:              KindInvalid,
	CodeInvalidAzureCredentials:            KindInvalid,
	CodeInvalidGoogleCloudCredentials:      KindInvalid,
	CodePrivateEndpointNotConfigured:       KindConflict,
	CodeObjectStoreUnreachable:             KindUnavailable,
	CodeObjectStoreTimeout:                 KindUnavailable,
	CodeObjectStoreError:                   KindUnavailable,
	CodeObjectStoreRefused:                 KindInvalid,
}
