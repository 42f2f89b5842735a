package apitest

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// ParseChallenge reads the parameters of a `Digest …` challenge the way
// the SDK's digest transport does, split on `", "`, tolerating the
// unquoted algorithm and stale values.
func ParseChallenge(t testing.TB, challenge string) map[string]string {
	t.Helper()
	params, err := parseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	return params
}

func parseChallenge(challenge string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(challenge, "Digest ")
	if !ok {
		return nil, fmt.Errorf("not a digest challenge: %q", challenge)
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("challenge %q: bad parameter %q", challenge, part)
		}
		out[k] = strings.Trim(v, `"`)
	}
	return out, nil
}

// SignDigest answers a digest challenge for method and uri (a request URI,
// see RequestURI) with qop=auth and nc=00000001, in the header shape of
// github.com/mongodb-forks/digest, the Atlas SDK's digest transport.
func SignDigest(t testing.TB, challenge, method, uri, user, pass string) string {
	t.Helper()
	authorization, err := signDigest(challenge, method, uri, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	return authorization
}

func signDigest(challenge, method, uri, user, pass string) (string, error) {
	c, err := parseChallenge(challenge)
	if err != nil {
		return "", err
	}
	return DigestHeader(user, pass, c["realm"], c["nonce"], method, uri), nil
}

// DigestHeader is the Authorization header answering realm and nonce,
// whatever challenge they came from.
func DigestHeader(user, pass, realm, nonce, method, uri string) string {
	b := make([]byte, 8)
	rand.Read(b)
	cnonce := hex.EncodeToString(b)
	const nc = "00000001"
	ha1 := md5hex(user + ":" + realm + ":" + pass)
	ha2 := md5hex(method + ":" + uri)
	response := md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="%s"`,
		user, realm, nonce, uri, response, nc, cnonce)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
