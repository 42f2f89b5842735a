package auth

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// digestChallenge is the WWW-Authenticate value Atlas sends, byte for byte
// apart from the nonce; the SDK's digest client splits it on `", "`.
func digestChallenge(nonce string, stale bool) string {
	return fmt.Sprintf(`Digest realm="%s", domain="", nonce="%s", algorithm=MD5, qop="auth", stale=%t`, Realm, nonce, stale)
}

// digestCredentials are the fields of an `Authorization: Digest …` header.
type digestCredentials struct {
	Username, Realm, Nonce, URI, Response, Algorithm, QOP, NC, CNonce, Opaque string
}

// parseDigest parses an Authorization header value; ok is false when the
// header is not a digest response.
func parseDigest(header string) (c digestCredentials, ok bool) {
	rest, found := strings.CutPrefix(header, "Digest ")
	if !found {
		return c, false
	}
	fields := map[string]*string{"username": &c.Username, "realm": &c.Realm, "nonce": &c.Nonce, "uri": &c.URI,
		"response": &c.Response, "algorithm": &c.Algorithm, "qop": &c.QOP, "nc": &c.NC, "cnonce": &c.CNonce, "opaque": &c.Opaque}
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, " ,")
		key, after, found := strings.Cut(rest, "=")
		if !found {
			break
		}
		key = strings.TrimSpace(key)
		var value string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				return c, false
			}
			value, rest = after[1:1+end], after[2+end:]
		} else {
			value, rest, _ = strings.Cut(after, ",")
			value = strings.TrimSpace(value)
		}
		if field, known := fields[strings.ToLower(key)]; known {
			*field = value
		}
	}
	return c, c.Username != "" && c.Nonce != "" && c.Response != ""
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// verify checks the response of c against ha1 for method (RFC 7616 with
// MD5, qop "auth" or none).
func (c digestCredentials) verify(ha1, method string) bool {
	if c.Algorithm != "" && !strings.EqualFold(c.Algorithm, "MD5") {
		return false
	}
	ha2 := md5hex(method + ":" + c.URI)
	var want string
	switch c.QOP {
	case "auth":
		want = md5hex(ha1 + ":" + c.Nonce + ":" + c.NC + ":" + c.CNonce + ":auth:" + ha2)
	case "":
		want = md5hex(ha1 + ":" + c.Nonce + ":" + ha2)
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
}
