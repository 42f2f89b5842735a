package auth

import (
	"strings"
	"testing"
)

// FuzzParseDigest: any Authorization header either is refused or parses to
// credentials with a username, a nonce and a response, each taken from the
// header; and a header written as the SDK writes it, of any values without
// a double quote, parses back to those values and, signed with the right
// key, verifies, and with another does not.
func FuzzParseDigest(f *testing.F) {
	f.Add(`Digest username="abcdefgh", realm="MMS Public API", nonce="n0nce", uri="/api/atlas/v2/groups/x/backup/exportBuckets?pageNum=1&itemsPerPage=100", `+
		`response="0123456789abcdef0123456789abcdef", algorithm="MD5", qop=auth, nc=00000001, cnonce="c0ffee"`,
		"abcdefgh", "n0nce", "/api/atlas/v2/groups/x/backup/exportBuckets?pageNum=1&itemsPerPage=100", "c0ffee", "private-key")
	f.Add(`Digest username="u", realm="MMS Public API", nonce="n", uri="/p", cnonce="c", nc=00000002, qop="auth", response="r", opaque="o", algorithm=MD5`,
		"u", "n", "/p?tags=a,b", "c", "k")
	f.Add(`Digest USERNAME="u",Nonce="n",URI="/p",Response="r"`, "u, nonce=x", "=", " ", "", "")
	f.Add(`Digest username="u, nonce="n", response="r`, "", "", "", "", "")
	f.Add(`Digest username=u,nonce=,response=r=`, "ü\x00", "\\", ",", "\t", "secret")
	f.Add("Digest ", "u", "n", "/", "c", "k")
	f.Fuzz(func(t *testing.T, header, username, nonce, uri, cnonce, privateKey string) {
		if c, ok := parseDigest(header); ok {
			for name, v := range map[string]string{"username": c.Username, "nonce": c.Nonce, "response": c.Response} {
				if v == "" || !strings.Contains(header, v) {
					t.Fatalf("%q parses with %s %q", header, name, v)
				}
			}
		}

		if username == "" || nonce == "" {
			return
		}
		for _, v := range []string{username, nonce, uri, cnonce} {
			if strings.Contains(v, `"`) {
				return
			}
		}
		ha1 := HA1(username, privateKey)
		want := digestCredentials{Username: username, Realm: Realm, Nonce: nonce, URI: uri, Algorithm: "MD5", QOP: "auth", NC: "00000001", CNonce: cnonce}
		want.Response = md5hex(ha1 + ":" + nonce + ":" + want.NC + ":" + cnonce + ":auth:" + md5hex("GET:"+uri))
		header = `Digest username="` + username + `", realm="` + Realm + `", nonce="` + nonce + `", uri="` + uri + `", response="` + want.Response +
			`", algorithm="MD5", qop=auth, nc=00000001, cnonce="` + cnonce + `"`
		got, ok := parseDigest(header)
		if !ok || got != want {
			t.Fatalf("%q parses to %+v (%t), want %+v", header, got, ok, want)
		}
		if !got.verify(ha1, "GET") {
			t.Fatalf("%q, signed with the key, does not verify", header)
		}
		if got.verify(HA1(username, privateKey+"x"), "GET") || got.verify(ha1, "POST") {
			t.Fatalf("%q verifies with another key or method", header)
		}
	})
}
