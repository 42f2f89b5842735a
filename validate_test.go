package snapexport

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// validationCase is one input of a table-driven validator test. A case with
// an empty code must be accepted; otherwise it must be rejected with that
// code and a Detail containing reason.
type validationCase struct {
	name   string
	input  string
	code   string
	reason string
}

// checkValidation asserts that err matches c.
func checkValidation(t *testing.T, c validationCase, err error) {
	t.Helper()
	if c.code == "" {
		if err != nil {
			t.Fatalf("%q: unexpected error: %v", c.input, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%q: accepted, want %s (%s)", c.input, c.code, c.reason)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %T is not *Error: %v", c.input, err, err)
	}
	if e.Code != c.code {
		t.Errorf("%q: Code = %q, want %q (detail %q)", c.input, e.Code, c.code, e.Detail)
	}
	if ErrorCode(err) != c.code {
		t.Errorf("%q: ErrorCode = %q, want %q", c.input, ErrorCode(err), c.code)
	}
	if e.Kind != KindInvalid {
		t.Errorf("%q: Kind = %q, want %q (answered 400)", c.input, e.Kind, KindInvalid)
	}
	if len(e.Params) != 1 || e.Params[0] != c.input {
		t.Errorf("%q: Params = %q, want [%q]", c.input, e.Params, c.input)
	}
	if len(c.input) <= validationMaxQuoted && !strings.Contains(e.Detail, strconv.Quote(c.input)) {
		t.Errorf("%q: Detail %q does not quote the value", c.input, e.Detail)
	}
	if !strings.Contains(e.Detail, c.reason) {
		t.Errorf("%q: Detail %q does not contain %q", c.input, e.Detail, c.reason)
	}
	if !strings.HasSuffix(e.Detail, ".") {
		t.Errorf("%q: Detail %q does not end with a period", c.input, e.Detail)
	}
}

func TestIsObjectID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"5f1a2b3c4d5e6f7a8b9c0d1e", true},
		{"000000000000000000000000", true},
		{"abcdefabcdefabcdefabcdef", true},
		{"", false},
		{"5f1a2b3c4d5e6f7a8b9c0d1", false},   // 23
		{"5f1a2b3c4d5e6f7a8b9c0d1e0", false}, // 25
		{"5F1A2B3C4D5E6F7A8B9C0D1E", false},  // uppercase
		{"5f1a2b3c4d5e6f7a8b9c0d1g", false},
		{"5f1a2b3c-d5e6f7a8b9c0d1e", false},
		{" 5f1a2b3c4d5e6f7a8b9c0d1", false},
	} {
		if got := IsObjectID(tc.in); got != tc.want {
			t.Errorf("IsObjectID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestIsUUID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"123e4567-e89b-12d3-a456-426614174000", true},
		{"123E4567-E89B-12D3-A456-426614174000", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"aBcDeF01-2345-6789-abCD-ef0123456789", true},
		{"", false},
		{"123e4567e89b12d3a456426614174000", false},       // no hyphens
		{"{123e4567-e89b-12d3-a456-426614174000}", false}, // braces
		{"123e4567-e89b-12d3-a456-42661417400", false},    // short
		{"123e4567-e89b-12d3-a456-4266141740000", false},  // long
		{"123e4567-e89b-12d3-a456_426614174000", false},
		{"123e456-7e89b-12d3-a456-426614174000", false}, // misplaced hyphen
		{"g23e4567-e89b-12d3-a456-426614174000", false},
		{"urn:uuid:123e4567-e89b-12d3-a456-4266", false},
	} {
		if got := IsUUID(tc.in); got != tc.want {
			t.Errorf("IsUUID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValidateS3BucketName(t *testing.T) {
	const bad = CodeExportBucketNameInvalid
	for _, c := range []validationCase{
		{name: "simple", input: "my-bucket"},
		{name: "min length", input: "abc"},
		{name: "max length", input: strings.Repeat("a", 63)},
		{name: "digits", input: "123"},
		{name: "dots", input: "my.bucket.name"},
		{name: "dot and hyphen", input: "my-.bucket"},
		{name: "three numeric groups", input: "192.168.5"},
		{name: "five numeric groups", input: "192.168.5.4.1"},
		{name: "ip-like with letter", input: "192.168.5.a"},
		{name: "xn not prefix", input: "axn--bucket"},
		{name: "suffix-like inside", input: "a-s3alias-b"},
		{name: "mrap not at end", input: "a.mrap.b"},
		{name: "single hyphen before x-s3", input: "bucket-x-s3"},
		{name: "consecutive hyphens", input: "my--bucket"},

		{name: "empty", input: "", code: bad, reason: "between 3 and 63 characters long, not 0"},
		{name: "too short", input: "ab", code: bad, reason: "between 3 and 63 characters long, not 2"},
		{name: "too long", input: strings.Repeat("a", 64), code: bad, reason: "not 64"},
		{name: "uppercase", input: "Foo_Bar", code: bad, reason: `lowercase letters, numbers, dots (.) and hyphens (-), not "F"`},
		{name: "underscore", input: "foo_bar", code: bad, reason: `not "_"`},
		{name: "space", input: "foo bar", code: bad, reason: `not " "`},
		{name: "slash", input: "foo/bar", code: bad, reason: `not "/"`},
		{name: "non-ascii", input: "bücket", code: bad, reason: `not "ü"`},
		{name: "starts with hyphen", input: "-bucket", code: bad, reason: "begin and end"},
		{name: "ends with hyphen", input: "bucket-", code: bad, reason: "begin and end"},
		{name: "starts with dot", input: ".bucket", code: bad, reason: "begin and end"},
		{name: "ends with dot", input: "bucket.", code: bad, reason: "begin and end"},
		{name: "adjacent dots", input: "my..bucket", code: bad, reason: "two adjacent dots"},
		{name: "ipv4", input: "192.168.5.4", code: bad, reason: "IP address"},
		{name: "ipv4 zeros", input: "0.0.0.0", code: bad, reason: "IP address"},
		{name: "ipv4-shaped out of range", input: "999.999.999.999", code: bad, reason: "IP address"},
		{name: "prefix xn--", input: "xn--bucket", code: bad, reason: `prefix "xn--"`},
		{name: "prefix sthree-", input: "sthree-bucket", code: bad, reason: `prefix "sthree-"`},
		{name: "prefix sthree-configurator", input: "sthree-configurator", code: bad, reason: `prefix "sthree-"`},
		{name: "prefix amzn-s3-demo-", input: "amzn-s3-demo-bucket", code: bad, reason: `prefix "amzn-s3-demo-"`},
		{name: "suffix -s3alias", input: "bucket-s3alias", code: bad, reason: `suffix "-s3alias"`},
		{name: "suffix --ol-s3", input: "bucket--ol-s3", code: bad, reason: `suffix "--ol-s3"`},
		{name: "suffix .mrap", input: "bucket.mrap", code: bad, reason: `suffix ".mrap"`},
		{name: "suffix --x-s3", input: "bucket--x-s3", code: bad, reason: `suffix "--x-s3"`},
		{name: "suffix --table-s3", input: "bucket--table-s3", code: bad, reason: `suffix "--table-s3"`},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidation(t, c, ValidateS3BucketName(c.input)) })
	}
}

func TestValidateS3BucketNameDetail(t *testing.T) {
	err := ValidateS3BucketName("Foo_Bar")
	want := `Export Bucket name is invalid: "Foo_Bar" must contain only lowercase letters, numbers, dots (.) and hyphens (-), not "F".`
	if e := AsError(err); e.Detail != want {
		t.Errorf("Detail = %q, want %q", e.Detail, want)
	}
}

func TestValidateGCSBucketName(t *testing.T) {
	const bad = CodeExportBucketNameInvalid
	label63 := strings.Repeat("a", 63)
	long222 := strings.Repeat(label63+".", 3) + strings.Repeat("b", 222-3*64) // 222 chars
	for _, c := range []validationCase{
		{name: "simple", input: "my-bucket"},
		{name: "underscore", input: "my_bucket"},
		{name: "min length", input: "abc"},
		{name: "max length without dots", input: label63},
		{name: "dots", input: "example.com"},
		{name: "long with dots", input: label63 + "." + label63},
		{name: "max length with dots", input: long222},
		{name: "three numeric groups", input: "10.0.0"},
		{name: "goog not prefix", input: "my-goog-bucket"},
		{name: "single o", input: "gogle-bucket"},
		{name: "logo gleam", input: "logogleam"},

		{name: "too short", input: "ab", code: bad, reason: "at least 3 characters long, not 2"},
		{name: "empty", input: "", code: bad, reason: "at least 3 characters long, not 0"},
		{name: "64 without dots", input: label63 + "a", code: bad, reason: "at most 63 characters long unless it contains dots, not 64"},
		{name: "223 with dots", input: long222 + "b", code: bad, reason: "at most 222 characters long, not 223"},
		{name: "component of 64", input: label63 + "a.bucket", code: bad, reason: "components of at most 63 characters, not 64"},
		{name: "uppercase", input: "MyBucket", code: bad, reason: `not "M"`},
		{name: "space", input: "my bucket", code: bad, reason: `not " "`},
		{name: "starts with underscore", input: "_bucket", code: bad, reason: "begin and end"},
		{name: "ends with dash", input: "bucket-", code: bad, reason: "begin and end"},
		{name: "ends with dot", input: "bucket.", code: bad, reason: "begin and end"},
		{name: "adjacent dots", input: "my..bucket", code: bad, reason: "two adjacent dots"},
		{name: "ipv4", input: "192.168.5.4", code: bad, reason: "IP address"},
		{name: "goog prefix", input: "goog-bucket", code: bad, reason: `begin with "goog"`},
		{name: "goog only", input: "goog", code: bad, reason: `begin with "goog"`},
		{name: "google inside", input: "my-google-bucket", code: bad, reason: `"google" or a close misspelling`},
		{name: "google at end", input: "bucket-google", code: bad, reason: "close misspelling"},
		{name: "g00gle", input: "my-g00gle-bucket", code: bad, reason: "close misspelling"},
		{name: "goog1e", input: "my-goog1e", code: bad, reason: "close misspelling"},
		{name: "gooogle", input: "gooogle-x", code: bad, reason: "close misspelling"},
		{name: "googl3", input: "xgoogl3", code: bad, reason: "close misspelling"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidation(t, c, ValidateGCSBucketName(c.input)) })
	}
}

func TestValidateAzureContainerName(t *testing.T) {
	const bad = CodeExportBucketNameInvalid
	for _, c := range []validationCase{
		{name: "simple", input: "my-container"},
		{name: "min length", input: "abc"},
		{name: "max length", input: strings.Repeat("a", 63)},
		{name: "digits", input: "123"},
		{name: "starts with digit", input: "1container"},

		{name: "too short", input: "ab", code: bad, reason: "between 3 and 63 characters long, not 2"},
		{name: "too long", input: strings.Repeat("a", 64), code: bad, reason: "not 64"},
		{name: "uppercase", input: "MyContainer", code: bad, reason: `not "M"`},
		{name: "dot", input: "my.container", code: bad, reason: `not "."`},
		{name: "underscore", input: "my_container", code: bad, reason: `not "_"`},
		{name: "dollar", input: "$root", code: bad, reason: `not "$"`},
		{name: "starts with hyphen", input: "-container", code: bad, reason: "begin and end"},
		{name: "ends with hyphen", input: "container-", code: bad, reason: "begin and end"},
		{name: "consecutive hyphens", input: "my--container", code: bad, reason: "consecutive hyphens"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidation(t, c, ValidateAzureContainerName(c.input)) })
	}
}

func TestParseAzureServiceURL(t *testing.T) {
	const bad = CodeInvalidAzureServiceURL
	base := "https://myaccount.blob.core.windows.net"
	for _, tc := range []struct {
		validationCase
		account, container string
	}{
		{validationCase: validationCase{name: "account only", input: base}, account: "myaccount"},
		{validationCase: validationCase{name: "trailing slash", input: base + "/"}, account: "myaccount"},
		{validationCase: validationCase{name: "container", input: base + "/my-container"}, account: "myaccount", container: "my-container"},
		{validationCase: validationCase{name: "container trailing slash", input: base + "/my-container/"}, account: "myaccount", container: "my-container"},
		{validationCase: validationCase{name: "min length", input: "https://abc.blob.core.windows.net"}, account: "abc"},
		{validationCase: validationCase{name: "24-char account", input: "https://" + strings.Repeat("a", 24) + ".blob.core.windows.net/c01"}, account: strings.Repeat("a", 24), container: "c01"},
		{validationCase: validationCase{name: "digit account", input: "https://123456.blob.core.windows.net/abc"}, account: "123456", container: "abc"},
		{validationCase: validationCase{name: "63-char container", input: base + "/" + strings.Repeat("c", 63)}, account: "myaccount", container: strings.Repeat("c", 63)},

		{validationCase: validationCase{name: "empty", input: "", code: bad, reason: "between 33 and 2048 characters long, not 0"}},
		{validationCase: validationCase{name: "too short", input: "https://ab.blob.core.windows.net", code: bad, reason: "not 32"}},
		{validationCase: validationCase{name: "too long", input: base + "/" + strings.Repeat("a", 2048-len(base)), code: bad, reason: "not 2049"}},
		{validationCase: validationCase{name: "http", input: "http://myaccount.blob.core.windows.net/container", code: bad, reason: "https scheme"}},
		{validationCase: validationCase{name: "uppercase scheme", input: "HTTPS://myaccount.blob.core.windows.net/container", code: bad, reason: "https scheme"}},
		{validationCase: validationCase{name: "no scheme", input: "myaccount.blob.core.windows.net/container", code: bad, reason: "https scheme"}},
		{validationCase: validationCase{name: "leading space", input: " " + base, code: bad, reason: "https scheme"}},
		{validationCase: validationCase{name: "file endpoint", input: "https://myaccount.file.core.windows.net/share", code: bad, reason: `host <account>.blob.core.windows.net, not "myaccount.file.core.windows.net"`}},
		{validationCase: validationCase{name: "other domain", input: "https://myaccount.blob.core.windows.net.evil.com/container", code: bad, reason: "must have the host"}},
		{validationCase: validationCase{name: "bare suffix", input: "https://blob.core.windows.net/container", code: bad, reason: "must have the host"}},
		{validationCase: validationCase{name: "empty account", input: "https://.blob.core.windows.net/container", code: bad, reason: "must have the host"}},
		{validationCase: validationCase{name: "subdomain", input: "https://a.myaccount.blob.core.windows.net", code: bad, reason: "must have the host"}},
		{validationCase: validationCase{name: "trailing dot host", input: base + "./container", code: bad, reason: "must have the host"}},
		{validationCase: validationCase{name: "uppercase host suffix", input: "https://myaccount.BLOB.core.windows.net", code: bad, reason: "must have the host"}},
		{validationCase: validationCase{name: "uppercase account", input: "https://MyAccount.blob.core.windows.net", code: bad, reason: `lowercase letters and numbers only, not "MyAccount"`}},
		{validationCase: validationCase{name: "hyphen account", input: "https://my-account.blob.core.windows.net", code: bad, reason: "lowercase letters and numbers only"}},
		{validationCase: validationCase{name: "25-char account", input: "https://" + strings.Repeat("a", 25) + ".blob.core.windows.net", code: bad, reason: "3 to 24 characters, not 25"}},
		{validationCase: validationCase{name: "query", input: base + "/container?sv=2020", code: bad, reason: "query string"}},
		{validationCase: validationCase{name: "empty query", input: base + "/container?", code: bad, reason: "query string"}},
		{validationCase: validationCase{name: "fragment", input: base + "/container#frag", code: bad, reason: "fragment"}},
		{validationCase: validationCase{name: "port", input: "https://myaccount.blob.core.windows.net:443/container", code: bad, reason: "port"}},
		{validationCase: validationCase{name: "empty port", input: "https://myaccount.blob.core.windows.net:/container", code: bad, reason: "port"}},
		{validationCase: validationCase{name: "user info", input: "https://user:pass@myaccount.blob.core.windows.net/container", code: bad, reason: "user information"}},
		{validationCase: validationCase{name: "two segments", input: base + "/container/blob", code: bad, reason: "at most one path segment"}},
		{validationCase: validationCase{name: "double slash", input: base + "//container", code: bad, reason: "at most one path segment"}},
		{validationCase: validationCase{name: "double trailing slash", input: base + "/container//", code: bad, reason: "at most one path segment"}},
		{validationCase: validationCase{name: "uppercase container", input: base + "/MyContainer", code: bad, reason: `valid container: "MyContainer"`}},
		{validationCase: validationCase{name: "short container", input: base + "/ab", code: bad, reason: "valid container"}},
		{validationCase: validationCase{name: "64-char container", input: base + "/" + strings.Repeat("c", 64), code: bad, reason: "valid container"}},
		{validationCase: validationCase{name: "double hyphen container", input: base + "/my--container", code: bad, reason: "consecutive hyphens"}},
		{validationCase: validationCase{name: "escaped container", input: base + "/my%2Dcontainer", code: bad, reason: "valid container"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			account, container, err := ParseAzureServiceURL(tc.input)
			checkValidation(t, tc.validationCase, err)
			if account != tc.account || container != tc.container {
				t.Errorf("%q: got (%q, %q), want (%q, %q)", tc.input, account, container, tc.account, tc.container)
			}
		})
	}
}

func TestParseAzureServiceURLLongDetail(t *testing.T) {
	u := "https://myaccount.blob.core.windows.net/" + strings.Repeat("a", 3000)
	_, _, err := ParseAzureServiceURL(u)
	e := AsError(err)
	if e.Code != CodeInvalidAzureServiceURL {
		t.Fatalf("Code = %q", e.Code)
	}
	if len(e.Detail) > 400 || !strings.Contains(e.Detail, "(3040 characters)") {
		t.Errorf("Detail not shortened: %d bytes: %.120q", len(e.Detail), e.Detail)
	}
	if len(e.Params) != 1 || e.Params[0] != u {
		t.Errorf("Params do not hold the full value")
	}
}

func TestValidateIAMRoleARN(t *testing.T) {
	const bad = CodeInvalidIAMRoleARN
	const prefix = "arn:aws:iam::123456789012:role/"
	for _, c := range []validationCase{
		{name: "simple", input: prefix + "MyRole"},
		{name: "gov partition", input: "arn:aws-us-gov:iam::123456789012:role/MyRole"},
		{name: "china partition", input: "arn:aws-cn:iam::123456789012:role/MyRole"},
		{name: "all name chars", input: prefix + "a_Z0+=,.@-"},
		{name: "path", input: prefix + "service-role/MyRole"},
		{name: "deep path", input: prefix + "a/b.c/d_e/MyRole"},
		{name: "64-char name", input: prefix + strings.Repeat("r", 64)},
		{name: "1-char name", input: prefix + "r"},

		{name: "empty", input: "", code: bad, reason: "between 20 and 2048 characters long, not 0"},
		{name: "too short", input: "arn:aws:iam::1:role", code: bad, reason: "not 19"},
		{name: "too long", input: prefix + strings.Repeat("p/", 1008) + "rr", code: bad, reason: "between 20 and 2048 characters long, not 2049"},
		{name: "2048 chars, path too long", input: prefix + strings.Repeat("p/", 1008) + "r", code: bad, reason: "role path of at most 512 characters, not 2017"},
		{name: "not arn", input: "urn:aws:iam::123456789012:role/MyRole", code: bad, reason: "must have the form"},
		{name: "too few fields", input: "arn:aws:iam:123456789012:role/MyRole", code: bad, reason: "must have the form"},
		{name: "unknown partition", input: "arn:aws-iso:iam::123456789012:role/MyRole", code: bad, reason: `not "aws-iso"`},
		{name: "uppercase partition", input: "arn:AWS:iam::123456789012:role/MyRole", code: bad, reason: "partition"},
		{name: "wrong service", input: "arn:aws:sts::123456789012:assumed-role/MyRole/s", code: bad, reason: `"iam", not "sts"`},
		{name: "region", input: "arn:aws:iam:us-east-1:123456789012:role/MyRole", code: bad, reason: `region, found "us-east-1"`},
		{name: "short account", input: "arn:aws:iam::12345678901:role/MyRole", code: bad, reason: "12-digit AWS account id"},
		{name: "long account", input: "arn:aws:iam::1234567890123:role/MyRole", code: bad, reason: "12-digit"},
		{name: "letter in account", input: "arn:aws:iam::12345678901a:role/MyRole", code: bad, reason: "12-digit"},
		{name: "user not role", input: "arn:aws:iam::123456789012:user/Bob", code: bad, reason: "must name a role"},
		{name: "role colon", input: "arn:aws:iam::123456789012:role:MyRole", code: bad, reason: "must name a role"},
		{name: "empty name", input: prefix, code: bad, reason: "path and name"},
		{name: "trailing slash", input: prefix + "path/", code: bad, reason: "path and name"},
		{name: "leading slash", input: prefix + "/MyRole", code: bad, reason: "path and name"},
		{name: "double slash", input: prefix + "a//MyRole", code: bad, reason: "path and name"},
		{name: "space", input: prefix + "My Role", code: bad, reason: "path and name"},
		{name: "colon in name", input: prefix + "My:Role", code: bad, reason: "path and name"},
		{name: "asterisk", input: prefix + "My*", code: bad, reason: "path and name"},
		{name: "65-char name", input: prefix + strings.Repeat("r", 65), code: bad, reason: "role name of at most 64 characters, not 65"},
		{name: "long path", input: prefix + strings.Repeat("p", 511) + "/r", code: bad, reason: "role path of at most 512 characters, not 513"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidation(t, c, ValidateIAMRoleARN(c.input)) })
	}
	// A path of exactly 512 characters ("/" + 510 + "/") is accepted.
	if err := ValidateIAMRoleARN(prefix + strings.Repeat("p", 510) + "/r"); err != nil {
		t.Errorf("512-character path rejected: %v", err)
	}
}

func TestValidateProjectName(t *testing.T) {
	const bad = CodeInvalidGroupName
	for _, c := range []validationCase{
		{name: "simple", input: "Project0"},
		{name: "one char", input: "a"},
		{name: "64 chars", input: strings.Repeat("p", 64)},
		{name: "all allowed chars", input: "My Project_1.0 (prod)-x"},
		{name: "leading space", input: " project"},

		{name: "empty", input: "", code: bad, reason: "between 1 and 64 characters long, not 0"},
		{name: "65 chars", input: strings.Repeat("p", 65), code: bad, reason: "not 65"},
		{name: "blank", input: "   ", code: bad, reason: "must not be blank"},
		{name: "slash", input: "a/b", code: bad, reason: `not "/"`},
		{name: "tab", input: "a\tb", code: bad, reason: `not "\t"`},
		{name: "non-ascii", input: "projét", code: bad, reason: `not "é"`},
		{name: "brackets", input: "a[b]", code: bad, reason: `not "["`},
		{name: "percent", input: "100%", code: bad, reason: `not "%"`},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidation(t, c, ValidateProjectName(c.input)) })
	}
}

// TestValidateReturnsUntypedNil guards against a nil *Error stored in an
// error interface, which would compare non-nil.
func TestValidateReturnsUntypedNil(t *testing.T) {
	_, _, azErr := ParseAzureServiceURL("https://myaccount.blob.core.windows.net/c01")
	for name, err := range map[string]error{
		"S3":      ValidateS3BucketName("bucket"),
		"GCS":     ValidateGCSBucketName("bucket"),
		"Azure":   ValidateAzureContainerName("bucket"),
		"URL":     azErr,
		"IAM":     ValidateIAMRoleARN("arn:aws:iam::123456789012:role/r"),
		"Project": ValidateProjectName("p"),
	} {
		if err != nil {
			t.Errorf("%s: got %#v, want nil", name, err)
		}
	}
}
