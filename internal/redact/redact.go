// Package redact makes settings that may carry credentials (database URLs,
// endpoint URLs with user info or SAS tokens) safe to print.
package redact

import "net/url"

// URL keeps a URL's scheme, user name, host and path, and drops its
// password, query and fragment, which may hold credentials. Anything that
// does not parse as a URL with a host (a key=value connection string, a
// mistyped URL) is not shown at all.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(a setting that is not a URL; not shown)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}
