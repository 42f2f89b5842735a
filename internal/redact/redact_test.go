package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://app:s3cret@db.example.com:5432/snapexport?sslmode=disable", "postgres://app@db.example.com:5432/snapexport"},
		{"postgres://app@db/snapexport?password=s3cret", "postgres://app@db/snapexport"},
		{"https://acct.blob.core.windows.net/c?sv=2020&sig=s3cret", "https://acct.blob.core.windows.net/c"},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"host=db user=app password=s3cret", "(a setting that is not a URL; not shown)"},
		{"postgres://u:p%zz@h/db", "(a setting that is not a URL; not shown)"},
	} {
		got := URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("URL(%q) = %q shows the secret", tc.in, got)
		}
	}
}
