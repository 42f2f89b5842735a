package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
)

// wildcard is a {name} segment of a route's pattern.
var wildcard = regexp.MustCompile(`\{[^}]+\}`)

// TestEveryRouteRefusesOtherMethods walks every route the server serves
// and asks each path for every method it does not serve: without
// credentials the digest challenge, as on every route; authenticated,
// 405 METHOD_NOT_ALLOWED with an Allow header naming the methods the path
// serves, or, on snapexport's own paths, 404 RESOURCE_NOT_FOUND.
func TestEveryRouteRefusesOtherMethods(t *testing.T) {
	e := newEnv(t)
	served := map[string][]string{}
	own := map[string]bool{}
	for _, r := range e.Server.API.Routes() {
		served[r.Pattern] = append(served[r.Pattern], r.Method)
		own[r.Pattern] = r.Own
	}
	if len(served) < 30 {
		t.Fatalf("only %d routes: %v", len(served), served)
	}
	for pattern, methods := range served {
		// Any value of the right form reaches the route: the method is
		// refused before the handler reads it.
		path := wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
			switch w {
			case "{groupId}":
				return e.GroupID
			case "{clusterName}", "{name}":
				return "cluster-0"
			case "{cloudProvider}":
				return "AWS"
			}
			return "6a01b2c3d4e5f60718293a4b"
		})
		allow := slices.Sorted(slices.Values(methods))
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if slices.Contains(methods, m) {
				continue
			}
			t.Run(m+" "+pattern, func(t *testing.T) {
				r := apitest.Request{Method: m, Path: path, Accept: v20230101}
				if m == "HEAD" {
					if got := e.Send(t, r, ""); got.Status != http.StatusUnauthorized || got.Header.Get("Www-Authenticate") == "" {
						t.Errorf("without credentials: %d %v", got.Status, got.Header)
					}
				} else {
					apitest.WantChallenge(t, e.Send(t, r, ""), false)
				}
				got := e.Do(t, r)
				if own[pattern] {
					if m != "HEAD" {
						apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeResourceNotFound)
					} else if got.Status != http.StatusNotFound {
						t.Errorf("HEAD: %d", got.Status)
					}
					return
				}
				if got.Status != http.StatusMethodNotAllowed || got.Header.Get("X-Error-Code") != snapexport.CodeMethodNotAllowed {
					t.Fatalf("want 405 METHOD_NOT_ALLOWED: %s", got)
				}
				if m != "HEAD" {
					apitest.WantError(t, got, http.StatusMethodNotAllowed, snapexport.CodeMethodNotAllowed)
				}
				if a := got.Header.Get("Allow"); a != strings.Join(allow, ", ") {
					t.Errorf("Allow %q, want %q", a, strings.Join(allow, ", "))
				}
			})
		}
	}
}

// TestUnknownPathsAfterAuthentication: a path no route serves is 404
// RESOURCE_NOT_FOUND, and only to an authenticated caller.
func TestUnknownPathsAfterAuthentication(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{
		"/api/atlas/v2/groups/" + e.GroupID + "/backup/exportBucketz",
		"/api/atlas/v3/groups",
		"/api/snapexport/v1/groups/" + e.GroupID + "/clusters",
		"/nothing/here",
	} {
		r := apitest.Request{Path: path, Accept: v20230101}
		apitest.WantChallenge(t, e.Send(t, r, ""), false)
		got := e.Do(t, r)
		ae := apitest.WantError(t, got, http.StatusNotFound, snapexport.CodeResourceNotFound)
		if ae.Detail != "Cannot find resource "+path+"." || got.Header.Get("Allow") != "" {
			t.Errorf("%s: %s, Allow %q", path, got.Body, got.Header.Get("Allow"))
		}
	}
}
