package auth

import (
	"crypto/md5"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// rfc2617 is the worked example of RFC 2617 §3.5.
var rfc2617 = struct {
	user, realm, pass, method, nonce, uri, nc, cnonce, response string
}{
	user: "Mufasa", realm: "testrealm@host.com", pass: "Circle Of Life", method: "GET",
	nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", uri: "/dir/index.html", nc: "00000001", cnonce: "0a4f113b",
	response: "6629fae49393a05397450978507c4ef1",
}

func hexMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseDigest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		want   digestCredentials
		ok     bool
	}{
		{
			name: "SDK shape",
			header: `Digest username="abcdefgh", realm="MMS Public API", nonce="n0nce", uri="/api/atlas/v2/groups/x/backup/exportBuckets?pageNum=1&itemsPerPage=100", ` +
				`response="0123456789abcdef0123456789abcdef", algorithm="MD5", qop=auth, nc=00000001, cnonce="c0ffee"`,
			want: digestCredentials{Username: "abcdefgh", Realm: "MMS Public API", Nonce: "n0nce",
				URI: "/api/atlas/v2/groups/x/backup/exportBuckets?pageNum=1&itemsPerPage=100", Response: "0123456789abcdef0123456789abcdef",
				Algorithm: "MD5", QOP: "auth", NC: "00000001", CNonce: "c0ffee"},
			ok: true,
		},
		{
			name:   "curl shape, quoted qop, opaque",
			header: `Digest username="u", realm="MMS Public API", nonce="n", uri="/p", cnonce="c", nc=00000002, qop="auth", response="r", opaque="o", algorithm=MD5`,
			want:   digestCredentials{Username: "u", Realm: "MMS Public API", Nonce: "n", URI: "/p", Response: "r", Algorithm: "MD5", QOP: "auth", NC: "00000002", CNonce: "c", Opaque: "o"},
			ok:     true,
		},
		{
			name:   "comma inside a quoted value",
			header: `Digest username="u", nonce="n", uri="/p?tags=a,b", response="r"`,
			want:   digestCredentials{Username: "u", Nonce: "n", URI: "/p?tags=a,b", Response: "r"},
			ok:     true,
		},
		{
			name:   "no spaces, upper-case keys",
			header: `Digest USERNAME="u",Nonce="n",URI="/p",Response="r"`,
			want:   digestCredentials{Username: "u", Nonce: "n", URI: "/p", Response: "r"},
			ok:     true,
		},
		{
			name:   "unknown parameters ignored",
			header: `Digest username="u", nonce="n", uri="/p", response="r", userhash=false`,
			want:   digestCredentials{Username: "u", Nonce: "n", URI: "/p", Response: "r"},
			ok:     true,
		},
		{name: "basic", header: "Basic dTpw"},
		{name: "bearer", header: "Bearer token"},
		{name: "empty", header: ""},
		{name: "scheme only", header: "Digest "},
		{name: "lower-case scheme", header: `digest username="u", nonce="n", uri="/p", response="r"`},
		{name: "no username", header: `Digest nonce="n", uri="/p", response="r"`},
		{name: "no nonce", header: `Digest username="u", uri="/p", response="r"`},
		{name: "no response", header: `Digest username="u", nonce="n", uri="/p"`},
		{name: "empty username", header: `Digest username="", nonce="n", uri="/p", response="r"`},
		{name: "unterminated quote", header: `Digest username="u, nonce="n", response="r`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseDigest(tc.header)
			if ok != tc.ok {
				t.Fatalf("ok: want %v, got %v (%+v)", tc.ok, ok, got)
			}
			if tc.ok && got != tc.want {
				t.Errorf("parsed\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestVerifyDigestRFC2617(t *testing.T) {
	v := rfc2617
	ha1 := hexMD5(v.user + ":" + v.realm + ":" + v.pass)
	base := digestCredentials{Username: v.user, Realm: v.realm, Nonce: v.nonce, URI: v.uri, Response: v.response,
		QOP: "auth", NC: v.nc, CNonce: v.cnonce}
	if !base.verify(ha1, v.method) {
		t.Fatalf("the RFC 2617 example does not verify")
	}
	for _, tc := range []struct {
		name   string
		edit   func(*digestCredentials)
		method string
		ha1    string
		want   bool
	}{
		{"algorithm MD5", func(c *digestCredentials) { c.Algorithm = "MD5" }, "GET", ha1, true},
		{"algorithm md5", func(c *digestCredentials) { c.Algorithm = "md5" }, "GET", ha1, true},
		{"upper-case response", func(c *digestCredentials) { c.Response = strings.ToUpper(c.Response) }, "GET", ha1, true},
		{"other method", nil, "POST", ha1, false},
		{"other password", nil, "GET", hexMD5(v.user + ":" + v.realm + ":circle of life"), false},
		{"other uri", func(c *digestCredentials) { c.URI = "/dir/index.htm" }, "GET", ha1, false},
		{"other nonce", func(c *digestCredentials) { c.Nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c094" }, "GET", ha1, false},
		{"other nc", func(c *digestCredentials) { c.NC = "00000002" }, "GET", ha1, false},
		{"other cnonce", func(c *digestCredentials) { c.CNonce = "0a4f113c" }, "GET", ha1, false},
		{"tampered response", func(c *digestCredentials) { c.Response = "6629fae49393a05397450978507c4ef2" }, "GET", ha1, false},
		{"truncated response", func(c *digestCredentials) { c.Response = c.Response[:31] }, "GET", ha1, false},
		{"empty response", func(c *digestCredentials) { c.Response = "" }, "GET", ha1, false},
		{"SHA-256", func(c *digestCredentials) { c.Algorithm = "SHA-256" }, "GET", ha1, false},
		{"MD5-sess", func(c *digestCredentials) { c.Algorithm = "MD5-sess" }, "GET", ha1, false},
		{"auth-int", func(c *digestCredentials) { c.QOP = "auth-int" }, "GET", ha1, false},
		{"qop list", func(c *digestCredentials) { c.QOP = "auth,auth-int" }, "GET", ha1, false},
		{"no qop with a qop=auth response", func(c *digestCredentials) { c.QOP = "" }, "GET", ha1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			if tc.edit != nil {
				tc.edit(&c)
			}
			if got := c.verify(tc.ha1, tc.method); got != tc.want {
				t.Errorf("verify: want %v, got %v", tc.want, got)
			}
		})
	}
}

// TestVerifyDigestWithoutQOP checks the RFC 2069 form, response =
// MD5(HA1:nonce:HA2), which older clients send.
func TestVerifyDigestWithoutQOP(t *testing.T) {
	ha1 := HA1("abcdefgh", "0b8e5b1c-6a8d-4a0e-9a57-3e0b6c3c2f10")
	ha2 := hexMD5("DELETE:/api/atlas/v2/groups/g/backup/exportBuckets/b")
	c := digestCredentials{Username: "abcdefgh", Realm: Realm, Nonce: "nonce", URI: "/api/atlas/v2/groups/g/backup/exportBuckets/b",
		Response: hexMD5(ha1 + ":nonce:" + ha2)}
	if !c.verify(ha1, "DELETE") {
		t.Errorf("RFC 2069 response does not verify")
	}
	if c.verify(ha1, "GET") {
		t.Errorf("RFC 2069 response verifies for another method")
	}
}

// TestDigestRoundTrip signs as the SDK's digest transport does and checks
// the server side accepts exactly the right key.
func TestDigestRoundTrip(t *testing.T) {
	pub, priv := NewAPIKeyPair()
	nonce := RandomString(32, alnum)
	uri := "/api/atlas/v2/groups/0123456789abcdef01234567/backup/exportBuckets?includeCount=true&itemsPerPage=100&pageNum=1"
	ha1 := hexMD5(pub + ":" + Realm + ":" + priv)
	ha2 := hexMD5("GET:" + uri)
	response := hexMD5(ha1 + ":" + nonce + ":00000001:deadbeef:auth:" + ha2)
	header := `Digest username="` + pub + `", realm="` + Realm + `", nonce="` + nonce + `", uri="` + uri + `", response="` + response +
		`", algorithm="MD5", qop=auth, nc=00000001, cnonce="deadbeef"`
	c, ok := parseDigest(header)
	if !ok {
		t.Fatalf("parse %q failed", header)
	}
	if !c.verify(HA1(pub, priv), "GET") {
		t.Errorf("a correctly signed request does not verify")
	}
	_, other := NewAPIKeyPair()
	if c.verify(HA1(pub, other), "GET") {
		t.Errorf("the request verifies against another private key")
	}
}

func TestDigestChallenge(t *testing.T) {
	nonce := RandomString(32, alnum)
	for _, stale := range []bool{false, true} {
		want := `Digest realm="MMS Public API", domain="", nonce="` + nonce + `", algorithm=MD5, qop="auth", stale=`
		if stale {
			want += "true"
		} else {
			want += "false"
		}
		if got := digestChallenge(nonce, stale); got != want {
			t.Errorf("challenge:\n got %s\nwant %s", got, want)
		}
	}
	// The SDK's parser splits on `", "` and accepts only these parameters.
	allowed := map[string]bool{"realm": true, "domain": true, "nonce": true, "opaque": true, "stale": true, "algorithm": true, "qop": true}
	for _, part := range strings.Split(strings.TrimPrefix(digestChallenge(nonce, false), "Digest "), ", ") {
		k, _, _ := strings.Cut(part, "=")
		if !allowed[k] {
			t.Errorf("challenge parameter %q would make the SDK's digest client give up", k)
		}
	}
}

func TestSameURI(t *testing.T) {
	for _, tc := range []struct {
		digest, request string
		want            bool
	}{
		{"/a/b?x=1&y=2", "/a/b?x=1&y=2", true},
		{"/a/b?y=2&x=1", "/a/b?x=1&y=2", true},
		{"/a/b?x=a%2Cb", "/a/b?x=a,b", true},
		{"/a/b", "/a/b?x=1", false},
		{"/a/c", "/a/b", false},
		{"/a/b?x=1", "/a/b?x=2", false},
		{"", "/a/b", false},
	} {
		if got := sameURI(tc.digest, tc.request); got != tc.want {
			t.Errorf("sameURI(%q, %q) = %v, want %v", tc.digest, tc.request, got, tc.want)
		}
	}
}

func TestHA1(t *testing.T) {
	if got, want := HA1("abcdefgh", "secret"), hexMD5("abcdefgh:MMS Public API:secret"); got != want {
		t.Errorf("HA1: got %s, want %s", got, want)
	}
	if HA1("abcdefgh", "secret") == HA1("abcdefgh", "secreT") {
		t.Errorf("HA1 ignores the private key")
	}
	if strings.Contains(HA1("abcdefgh", "secret"), "secret") {
		t.Errorf("HA1 contains the private key")
	}
}

var cheap = HashParams{Time: 1, Memory: 64, Threads: 1}

func TestHashSecret(t *testing.T) {
	secret := "mdb_sa_sk_" + RandomString(40, alnum)
	h1, h2 := HashSecret(secret, cheap), HashSecret(secret, cheap)
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h1) {
		t.Errorf("hash %q is not a PHC Argon2id string with a 16-byte salt and a 32-byte key", h1)
	}
	if h1 == h2 {
		t.Errorf("two hashes of one secret are equal: the salt is not random")
	}
	if strings.Contains(h1, secret) || strings.Contains(h1, secret[10:]) {
		t.Errorf("the hash contains the secret")
	}
	for _, h := range []string{h1, h2} {
		if !VerifySecret(secret, h) {
			t.Errorf("VerifySecret rejects the right secret for %s", h)
		}
	}
	for _, wrong := range []string{"", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret)} {
		if VerifySecret(wrong, h1) {
			t.Errorf("VerifySecret accepts %q", wrong)
		}
	}
	// Hashes keep their parameters, so a change of defaults keeps old
	// secrets valid.
	strong := HashSecret(secret, HashParams{Time: 2, Memory: 128, Threads: 2})
	if !strings.HasPrefix(strong, "$argon2id$v=19$m=128,t=2,p=2$") || !VerifySecret(secret, strong) {
		t.Errorf("hash with other parameters: %s", strong)
	}
}

func TestVerifySecretMalformedHash(t *testing.T) {
	secret := "s3cret"
	good := HashSecret(secret, cheap)
	parts := strings.Split(good, "$")
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"the secret itself", secret},
		{"argon2i", strings.Replace(good, "$argon2id$", "$argon2i$", 1)},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"missing part", strings.Join(parts[:5], "$")},
		{"extra part", good + "$x"},
		{"bad params", strings.Join([]string{"", parts[1], parts[2], "m=x,t=1,p=1", parts[4], parts[5]}, "$")},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$")},
		{"bad key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "!!!"}, "$")},
		{"other salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "AAAAAAAAAAAAAAAAAAAAAA", parts[5]}, "$")},
		{"truncated key", good[:len(good)-4]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if VerifySecret(secret, tc.hash) {
				t.Errorf("VerifySecret accepts hash %q", tc.hash)
			}
		})
	}
}

func TestTokenHash(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	if got := TokenHash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("TokenHash(abc) = %s", got)
	}
	tok := NewTokenID()
	if h := TokenHash(tok); strings.Contains(h, tok) || h == TokenHash(NewTokenID()) {
		t.Errorf("TokenHash(%s) = %s", tok, h)
	}
}

func TestNewTokenID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewTokenID()
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Fatalf("token %q is not 32 bytes of unpadded base64url", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
}

func TestNewAPIKeyPair(t *testing.T) {
	pubs := map[string]bool{}
	for range 50 {
		pub, priv := NewAPIKeyPair()
		if !regexp.MustCompile(`^[a-z]{8}$`).MatchString(pub) {
			t.Errorf("public key %q is not 8 lower-case letters", pub)
		}
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(priv) {
			t.Errorf("private key %q is not a UUID", priv)
		}
		pubs[pub] = true
	}
	if len(pubs) < 49 {
		t.Errorf("only %d distinct public keys in 50", len(pubs))
	}
}

func TestNewServiceAccountCredentials(t *testing.T) {
	id, secret := NewServiceAccountCredentials()
	if !regexp.MustCompile(`^mdb_sa_id_[0-9a-f]{24}$`).MatchString(id) {
		t.Errorf("client id %q", id)
	}
	if !regexp.MustCompile(`^mdb_sa_sk_[A-Za-z0-9]{40}$`).MatchString(secret) {
		t.Errorf("client secret %q", secret)
	}
	id2, secret2 := NewServiceAccountCredentials()
	if id == id2 || secret == secret2 {
		t.Errorf("credentials repeat: %s %s", id2, secret2)
	}
}

func TestRandomString(t *testing.T) {
	for _, alphabet := range []string{lower, hexChars, alnum, "ab"} {
		s := RandomString(256, alphabet)
		if len(s) != 256 {
			t.Errorf("length %d", len(s))
		}
		used := map[rune]bool{}
		for _, c := range s {
			if !strings.ContainsRune(alphabet, c) {
				t.Fatalf("%q outside alphabet %q", c, alphabet)
			}
			used[c] = true
		}
		// 256 draws leave a letter of a 62-letter alphabet unused with
		// probability below 2%; all of it unused in half would be broken.
		if len(used) < len(alphabet)/2 {
			t.Errorf("only %d of %d letters of %q used", len(used), len(alphabet), alphabet)
		}
	}
	if RandomString(0, alnum) != "" {
		t.Errorf("RandomString(0) not empty")
	}
}
