// Package snapexport holds the domain of the service: the resources of the
// Atlas Cloud Backup export API, their validation rules, the errors they
// produce and the storage contract the rest of the program implements.
package snapexport

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure that reaches an API client as an Atlas ApiError.
// Status is the HTTP status, Code the Atlas errorCode, Detail the
// human-readable text with Params already substituted.
type Error struct {
	Status int
	Code   string
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

// Errorf builds an Error whose detail is format with params substituted; the
// params are also kept verbatim, as Atlas returns them in "parameters".
func Errorf(status int, code, format string, params ...string) *Error {
	args := make([]any, len(params))
	for i, p := range params {
		args[i] = p
	}
	detail := format
	if len(params) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	return &Error{Status: status, Code: code, Detail: detail, Params: params}
}

// AsError returns err as an *Error, or a 500 UNEXPECTED_ERROR when err is
// not a domain error, so that internal failures never leak their text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(http.StatusInternalServerError, CodeUnexpectedError, "Unexpected error.")
}

// ErrorCode reports the Atlas errorCode of err, or "" when err is not a domain error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Atlas errorCodes used by this service. The messages follow Atlas's
// published templates; see docs/compatibility.md for the ones we chose.
const (
	CodeUnexpectedError                      = "UNEXPECTED_ERROR"
	CodeServiceUnavailable                   = "SERVICE_UNAVAILABLE"
	CodeValidationError                      = "VALIDATION_ERROR"
	CodeInvalidAttribute                     = "INVALID_ATTRIBUTE"
	CodeAttributeReadOnly                    = "ATTRIBUTE_READ_ONLY"
	CodeMissingAttribute                     = "MISSING_ATTRIBUTE"
	CodeInvalidEnumValue                     = "INVALID_ENUM_VALUE"
	CodeMalformedJSON                        = "MALFORMED_JSON"
	CodeInvalidJSON                          = "INVALID_JSON"
	CodeInvalidJSONAttribute                 = "INVALID_JSON_ATTRIBUTE"
	CodeInvalidPathParameter                 = "INVALID_PATH_PARAMETER"
	CodeInvalidQueryParameter                = "INVALID_QUERY_PARAMETER"
	CodeInvalidVersionDate                   = "INVALID_VERSION_DATE"
	CodeVersionGone                          = "VERSION_GONE"
	CodeUserUnauthorized                     = "USER_UNAUTHORIZED"
	CodeNotInGroup                           = "NOT_IN_GROUP"
	CodeGroupNotFound                        = "GROUP_NOT_FOUND"
	CodeInvalidGroupID                       = "INVALID_GROUP_ID"
	CodeOrgNotFound                          = "ORG_NOT_FOUND"
	CodeDuplicateGroupName                   = "DUPLICATE_GROUP_NAME"
	CodeResourceNotFound                     = "RESOURCE_NOT_FOUND"
	CodeMethodNotAllowed                     = "METHOD_NOT_ALLOWED"
	CodeRateLimitedTokenBucket               = "RATE_LIMITED_TOKEN_BUCKET"
	CodeExportBucketNotFound                 = "EXPORT_BUCKET_NOT_FOUND"
	CodeExportBucketNameInvalid              = "EXPORT_BUCKET_NAME_INVALID"
	CodeInvalidAzureServiceURL               = "INVALID_AZURE_SERVICE_URL"
	CodeCloudProviderAccessRoleNotFound      = "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND"
	CodeCloudProviderAccessRoleNotAuthorized = "CLOUD_PROVIDER_ACCESS_ROLE_NOT_AUTHORIZED"
	CodeCloudProviderAccessRoleInUse         = "CLOUD_PROVIDER_ACCESS_ROLE_IN_USE"
	CodeCloudProviderMismatch                = "CLOUD_PROVIDER_ACCESS_ROLE_PROVIDER_MISMATCH"
	CodeInvalidIAMRoleARN                    = "INVALID_IAM_ROLE_ARN"
	CodeAzureServicePrincipalInvalid         = "CLOUD_PROVIDER_ACCESS_AZURE_SERVICE_PRINCIPAL_INVALID"
	CodePrivateNetworkingAWSOnly             = "PRIVATE_NETWORKING_NOT_SUPPORTED"
)
