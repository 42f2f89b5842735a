package snapshotstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

const (
	// maxEscapedName keeps "<name>.<n>.bson" plus fileblob's temporary
	// suffix (21 bytes) within the 255 bytes of a file name.
	maxEscapedName = 160
	// hashedNameKeep is how much of a long escaped name stays readable.
	hashedNameKeep = 128
)

func plainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// escapeName makes a database or collection name one key segment that
// every backend stores as is (see the package documentation). Distinct
// names give distinct segments: '%' is always escaped, and a hashed
// segment is longer than any unhashed one.
func escapeName(name string) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		keep := plainByte(c) &&
			// "." and ".." are not names on a file system, and Windows
			// drops a trailing dot
			!(c == '.' && (i == 0 || i == len(name)-1)) &&
			!(c == '_' && i+1 < len(name) && name[i+1] == '_')
		if keep {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	if len(b) <= maxEscapedName {
		return string(b)
	}
	cut := hashedNameKeep
	// never cut inside a %XX
	for j := cut - 2; j < cut; j++ {
		if b[j] == '%' {
			cut = j
			break
		}
	}
	sum := sha256.Sum256([]byte(name))
	return string(b[:cut]) + "_" + hex.EncodeToString(sum[:])
}

func partKey(dataPrefix, db, collection string, n int) string {
	return dataPrefix + escapeName(db) + "/" + escapeName(collection) + "." + strconv.Itoa(n) + ".bson"
}
