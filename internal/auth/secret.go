// Package auth authenticates API callers the ways Atlas does: API keys by
// HTTP Digest and service accounts by OAuth 2.0 client-credentials bearer
// tokens. It stores no secret in clear: API keys as their digest HA1 (which
// does not reveal the key but answers digest challenges as well as it does,
// so backups need protecting), client secrets as salted Argon2id hashes,
// bearer tokens as SHA-256 hashes.
package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Realm is the digest realm Atlas announces.
const Realm = "MMS Public API"

// HA1 is MD5(username:realm:password), all digest verification needs.
func HA1(publicKey, privateKey string) string {
	sum := md5.Sum([]byte(publicKey + ":" + Realm + ":" + privateKey))
	return hex.EncodeToString(sum[:])
}

// HashParams tunes the Argon2id hash of client secrets. The parameters are
// stored with each hash, so changing them affects new secrets only.
type HashParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultHashParams follow OWASP's minimum for Argon2id (19 MiB, 2 passes).
var DefaultHashParams = HashParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// HashSecret returns a PHC-formatted Argon2id hash of secret with a random salt.
func HashSecret(secret string, p HashParams) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return phcHash(p, salt, argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, 32))
}

// phcHash writes an Argon2id hash in the PHC string format.
func phcHash(p HashParams, salt, key []byte) string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// VerifySecret reports whether secret matches a hash made by HashSecret.
func VerifySecret(secret, hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// TokenHash is how bearer tokens are stored and looked up.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RandomString returns n random characters from alphabet.
func RandomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const (
	lower    = "abcdefghijklmnopqrstuvwxyz"
	hexChars = "0123456789abcdef"
	alnum    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// NewAPIKeyPair returns a public key (8 lower-case letters, as Atlas issues)
// and a private key (a UUID).
func NewAPIKeyPair() (publicKey, privateKey string) {
	u := RandomString(32, hexChars)
	return RandomString(8, lower), u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32]
}

// NewServiceAccountCredentials returns a client id and secret in Atlas's
// "mdb_sa" format.
func NewServiceAccountCredentials() (clientID, clientSecret string) {
	return "mdb_sa_id_" + RandomString(24, hexChars), "mdb_sa_sk_" + RandomString(40, alnum)
}

// NewTokenID returns a fresh, unique access token id (its jti claim).
func NewTokenID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
