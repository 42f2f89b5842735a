package snapexport

// Pure validation of the identifiers and names the API accepts: object ids,
// UUIDs, bucket and container names, Azure service URLs, IAM role ARNs and
// project names. Nothing here performs I/O. The Validate* and Parse*
// functions return nil or an *Error (kind invalid) whose Detail quotes the
// offending value and states the rule it breaks, and whose Params hold the
// value verbatim.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// validationError builds the error every validator returns:
// "<subject> is invalid: "<value>" <reason>." with Params [value].
func validationError(code, subject, value, reason string) error {
	return newError(code, fmt.Sprintf("%s is invalid: %s %s.", subject, validationQuote(value), reason), []string{value})
}

// validationMaxQuoted bounds how much of a value a Detail repeats, so that a
// huge input does not produce a huge error message. Params keep the full value.
const validationMaxQuoted = 256

// validationQuote quotes s for a Detail, shortening very long values.
func validationQuote(s string) string {
	if utf8.RuneCountInString(s) <= validationMaxQuoted {
		return strconv.Quote(s)
	}
	runes := []rune(s)
	return strconv.Quote(string(runes[:validationMaxQuoted])) +
		fmt.Sprintf("... (%d characters)", len(runes))
}

func validationIsLower(c rune) bool { return c >= 'a' && c <= 'z' }
func validationIsDigit(c rune) bool { return c >= '0' && c <= '9' }
func validationIsLowerOrDigit(c rune) bool {
	return validationIsLower(c) || validationIsDigit(c)
}

// validationFirstInvalid returns the first rune of s that ok rejects.
func validationFirstInvalid(s string, ok func(rune) bool) (rune, bool) {
	for _, c := range s {
		if !ok(c) {
			return c, true
		}
	}
	return 0, false
}

// validationLooksLikeIPv4 reports whether s is four dot-separated groups of
// decimal digits, the "formatted as an IP address" shape (for example
// 192.168.5.4) that S3 and Cloud Storage refuse as bucket names.
func validationLooksLikeIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if !validationIsDigit(c) {
				return false
			}
		}
	}
	return true
}

// IsObjectID reports whether s is a 24-character lowercase hexadecimal
// ObjectId, the form of Atlas resource ids.
func IsObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// IsUUID reports whether s is a UUID in canonical 8-4-4-4-12 hexadecimal
// form, in either letter case. Version and variant bits are not checked.
func IsUUID(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }

const exportBucketSubject = "Export Bucket name"

// invalidFor is the validation error of value for reason, or nil when
// there is no reason.
func invalidFor(code, subject, value, reason string) error {
	if reason == "" {
		return nil
	}
	return validationError(code, subject, value, reason)
}

// bucketCharacterProblem is what is wrong with the characters of a bucket
// or container name: it may hold lowercase letters, numbers and the given
// punctuation (allowed says all of that in words) and must begin and end
// with a lowercase letter or a number.
func bucketCharacterProblem(name, punctuation, allowed string) string {
	if c, bad := validationFirstInvalid(name, func(c rune) bool {
		return validationIsLowerOrDigit(c) || strings.ContainsRune(punctuation, c)
	}); bad {
		return fmt.Sprintf("must contain only %s, not %q", allowed, string(c))
	}
	if !validationIsLowerOrDigit(rune(name[0])) || !validationIsLowerOrDigit(rune(name[len(name)-1])) {
		return "must begin and end with a lowercase letter or a number"
	}
	return ""
}

// S3 reserves these prefixes and suffixes for its own naming schemes (IDN
// punycode, internal hosts, documentation examples, access point aliases,
// Object Lambda, Multi-Region Access Points, directory buckets and table
// buckets).
var (
	s3ReservedPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	s3ReservedSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// ValidateS3BucketName checks name against the Amazon S3 naming rules for
// general purpose buckets. It fails with EXPORT_BUCKET_NAME_INVALID.
func ValidateS3BucketName(name string) error {
	return invalidFor(CodeExportBucketNameInvalid, exportBucketSubject, name, s3BucketNameProblem(name))
}

func s3BucketNameProblem(name string) string {
	if n := utf8.RuneCountInString(name); n < 3 || n > 63 {
		return fmt.Sprintf("must be between 3 and 63 characters long, not %d", n)
	}
	if p := bucketCharacterProblem(name, ".-", "lowercase letters, numbers, dots (.) and hyphens (-)"); p != "" {
		return p
	}
	if strings.Contains(name, "..") {
		return "must not contain two adjacent dots"
	}
	if validationLooksLikeIPv4(name) {
		return "must not be formatted as an IP address"
	}
	for _, p := range s3ReservedPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("must not start with the reserved prefix %q", p)
		}
	}
	for _, s := range s3ReservedSuffixes {
		if strings.HasSuffix(name, s) {
			return fmt.Sprintf("must not end with the reserved suffix %q", s)
		}
	}
	return ""
}

// gcsGoogleLike matches "google" and close misspellings once digits that
// stand in for letters have been replaced (see gcsBucketNameProblem):
// doubled letters ("gooogle", "ggoogle") and digit look-alikes ("g00gle",
// "goog1e", "googl3").
var gcsGoogleLike = regexp.MustCompile(`g+o{2,}g+l+e`)

var gcsLookAlikes = strings.NewReplacer("0", "o", "1", "l", "3", "e")

// ValidateGCSBucketName checks name against the Google Cloud Storage bucket
// naming rules. It fails with EXPORT_BUCKET_NAME_INVALID.
//
// Names with dots are domain names to Cloud Storage, so an empty
// dot-separated component (two adjacent dots) is refused as well.
func ValidateGCSBucketName(name string) error {
	return invalidFor(CodeExportBucketNameInvalid, exportBucketSubject, name, gcsBucketNameProblem(name))
}

func gcsBucketNameProblem(name string) string {
	n := utf8.RuneCountInString(name)
	hasDot := strings.Contains(name, ".")
	switch {
	case n < 3:
		return fmt.Sprintf("must be at least 3 characters long, not %d", n)
	case n > 222:
		return fmt.Sprintf("must be at most 222 characters long, not %d", n)
	case n > 63 && !hasDot:
		return fmt.Sprintf("must be at most 63 characters long unless it contains dots, not %d", n)
	}
	if p := bucketCharacterProblem(name, "-_.", "lowercase letters, numbers, dashes (-), underscores (_) and dots (.)"); p != "" {
		return p
	}
	if hasDot {
		for _, part := range strings.Split(name, ".") {
			if part == "" {
				return "must not contain two adjacent dots"
			}
			if len(part) > 63 {
				return fmt.Sprintf("must have dot-separated components of at most 63 characters, not %d", len(part))
			}
		}
	}
	if validationLooksLikeIPv4(name) {
		return "must not be an IP address in dotted-decimal notation"
	}
	if strings.HasPrefix(name, "goog") {
		return `must not begin with "goog"`
	}
	if gcsGoogleLike.MatchString(gcsLookAlikes.Replace(name)) {
		return `must not contain "google" or a close misspelling of it`
	}
	return ""
}

// ValidateAzureContainerName checks name against the Azure Blob Storage
// container naming rules. It fails with EXPORT_BUCKET_NAME_INVALID.
func ValidateAzureContainerName(name string) error {
	return invalidFor(CodeExportBucketNameInvalid, exportBucketSubject, name, azureContainerNameProblem(name))
}

func azureContainerNameProblem(name string) string {
	if n := utf8.RuneCountInString(name); n < 3 || n > 63 {
		return fmt.Sprintf("must be between 3 and 63 characters long, not %d", n)
	}
	if p := bucketCharacterProblem(name, "-", "lowercase letters, numbers and hyphens (-)"); p != "" {
		return p
	}
	if strings.Contains(name, "--") {
		return "must not contain consecutive hyphens"
	}
	return ""
}

const (
	azureServiceURLSubject = "Azure service URL"
	azureBlobHostSuffix    = ".blob.core.windows.net"
	azureServiceURLMinLen  = len("https://") + 3 + len(azureBlobHostSuffix) // 33
	azureServiceURLMaxLen  = 2048
)

// ParseAzureServiceURL checks serviceURL, the Blob Storage endpoint of a
// storage account, optionally followed by one container, and returns the
// account and the container ("" when absent). Accepted forms:
//
//	https://<account>.blob.core.windows.net
//	https://<account>.blob.core.windows.net/
//	https://<account>.blob.core.windows.net/<container>
//	https://<account>.blob.core.windows.net/<container>/
//
// where account is 3 to 24 lowercase letters and digits and container
// passes ValidateAzureContainerName. The URL must be 33 to 2048 characters
// long and carry no user information, port, query or fragment. Matching is
// exact and case-sensitive. It fails with INVALID_AZURE_SERVICE_URL.
func ParseAzureServiceURL(serviceURL string) (account, container string, err error) {
	account, container, reason := parseAzureServiceURL(serviceURL)
	if reason != "" {
		return "", "", validationError(CodeInvalidAzureServiceURL, azureServiceURLSubject, serviceURL, reason)
	}
	return account, container, nil
}

func parseAzureServiceURL(u string) (account, container, reason string) {
	if n := len(u); n < azureServiceURLMinLen || n > azureServiceURLMaxLen {
		return "", "", fmt.Sprintf("must be between %d and %d characters long, not %d",
			azureServiceURLMinLen, azureServiceURLMaxLen, n)
	}
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		return "", "", `must use the https scheme ("https://")`
	}
	if strings.Contains(rest, "#") {
		return "", "", "must not contain a fragment"
	}
	if strings.Contains(rest, "?") {
		return "", "", "must not contain a query string"
	}
	authority, path, _ := strings.Cut(rest, "/")
	if strings.Contains(authority, "@") {
		return "", "", "must not contain user information"
	}
	if strings.Contains(authority, ":") {
		return "", "", "must not specify a port"
	}
	account, ok = strings.CutSuffix(authority, azureBlobHostSuffix)
	if !ok || account == "" || strings.Contains(account, ".") {
		return "", "", fmt.Sprintf("must have the host <account>%s, not %q", azureBlobHostSuffix, authority)
	}
	if len(account) < 3 || len(account) > 24 {
		return "", "", fmt.Sprintf("must name a storage account of 3 to 24 characters, not %d", len(account))
	}
	if _, bad := validationFirstInvalid(account, validationIsLowerOrDigit); bad {
		return "", "", fmt.Sprintf("must name a storage account made of lowercase letters and numbers only, not %q", account)
	}
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return account, "", ""
	}
	if strings.Contains(path, "/") {
		return "", "", "must have at most one path segment, the container name"
	}
	if r := azureContainerNameProblem(path); r != "" {
		return "", "", fmt.Sprintf("must name a valid container: %q %s", path, r)
	}
	return account, path, ""
}

// AWS partitions whose IAM role ARNs are accepted.
var iamPartitions = []string{"aws", "aws-us-gov", "aws-cn"}

// iamRoleResource matches the resource of a role ARN after "role/": an
// optional path of segments each ending in "/", then the role name.
var iamRoleResource = regexp.MustCompile(`^((?:[\w+=,.@-]+/)*)([\w+=,.@-]+)$`)

// ValidateIAMRoleARN checks that arn is an IAM role ARN,
// arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, with
// partition aws, aws-us-gov or aws-cn, a length of 20 to 2048 characters, a
// role name of 1 to 64 characters from [A-Za-z0-9_+=,.@-] and a path of at
// most 512 characters. It fails with INVALID_IAM_ROLE_ARN.
func ValidateIAMRoleARN(arn string) error {
	return invalidFor(CodeInvalidIAMRoleARN, "IAM role ARN", arn, iamRoleARNProblem(arn))
}

func iamRoleARNProblem(arn string) string {
	if n := len(arn); n < 20 || n > 2048 {
		return fmt.Sprintf("must be between 20 and 2048 characters long, not %d", n)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "must have the form arn:aws:iam::<account id>:role/<role name>"
	}
	partition, service, region, accountID, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	known := false
	for _, p := range iamPartitions {
		known = known || partition == p
	}
	if !known {
		return fmt.Sprintf(`must be in the partition "aws", "aws-us-gov" or "aws-cn", not %q`, partition)
	}
	if service != "iam" {
		return fmt.Sprintf(`must name the service "iam", not %q`, service)
	}
	if region != "" {
		return fmt.Sprintf("must not name a region, found %q", region)
	}
	if len(accountID) != 12 || strings.IndexFunc(accountID, func(c rune) bool { return !validationIsDigit(c) }) >= 0 {
		return fmt.Sprintf("must contain a 12-digit AWS account id, not %q", accountID)
	}
	rest, ok := strings.CutPrefix(resource, "role/")
	if !ok {
		return `must name a role ("role/<role name>")`
	}
	m := iamRoleResource.FindStringSubmatch(rest)
	if m == nil {
		return "must have a role path and name made of letters, numbers and +=,.@_- separated by single slashes"
	}
	if path := "/" + m[1]; len(path) > 512 {
		return fmt.Sprintf("must have a role path of at most 512 characters, not %d", len(path))
	}
	if name := m[2]; len(name) > 64 {
		return fmt.Sprintf("must have a role name of at most 64 characters, not %d", len(name))
	}
	return ""
}

// ValidateProjectName checks that name is a valid Atlas project name: 1 to 64
// characters, not blank, made of letters, numbers, spaces, periods (.),
// underscores (_), parentheses and hyphens (-). It fails with INVALID_GROUP_NAME.
func ValidateProjectName(name string) error {
	return invalidFor(CodeInvalidGroupName, "Project name", name, projectNameProblem(name))
}

func projectNameProblem(name string) string {
	if n := utf8.RuneCountInString(name); n < 1 || n > 64 {
		return fmt.Sprintf("must be between 1 and 64 characters long, not %d", n)
	}
	if strings.Trim(name, " ") == "" {
		return "must not be blank"
	}
	if c, bad := validationFirstInvalid(name, func(c rune) bool {
		return c >= 'A' && c <= 'Z' || validationIsLowerOrDigit(c) ||
			c == ' ' || c == '.' || c == '_' || c == '(' || c == ')' || c == '-'
	}); bad {
		return fmt.Sprintf("must contain only letters, numbers, spaces, periods (.), underscores (_), parentheses and hyphens (-), not %q", string(c))
	}
	return ""
}
