package snapshotstore

import (
	"strings"
	"testing"
)

func TestEscapeName(t *testing.T) {
	long := strings.Repeat("é", 200)
	for name, want := range map[string]string{
		"orders":            "orders",
		"dotted.name":       "dotted.name",
		"a..b":              "a..b",
		".":                 "%2E",
		"..":                "%2E%2E",
		".hidden.":          "%2Ehidden%2E",
		"a/b":               "a%2Fb",
		"100%":              "100%25",
		"__0x41__":          "%5F_0x41%5F_",
		"sp ace:colon*?":    "sp%20ace%3Acolon%2A%3F",
		"système":           "syst%C3%A8me",
		"with\x00nul\nline": "with%00nul%0Aline",
	} {
		if got := escapeName(name); got != want {
			t.Errorf("escapeName(%q) = %q, want %q", name, got, want)
		}
	}
	names := []string{"a", "A", "a%", "a%25", "%2E", ".", "..", "a_", "a__", "a_%5F", long, long + "x", long[:len(long)-2] + "e",
		strings.Repeat("a", maxEscapedName), strings.Repeat("a", maxEscapedName+1), strings.Repeat("a", maxEscapedName+2)}
	seen := map[string]string{}
	for _, n := range names {
		e := escapeName(n)
		if prev, dup := seen[e]; dup {
			t.Errorf("%q and %q both escape to %q", prev, n, e)
		}
		seen[e] = n
		if len(e) > hashedNameKeep+1+64 {
			t.Errorf("escapeName(%q) is %d bytes long", n, len(e))
		}
		if strings.Contains(e, "__") {
			t.Errorf("escapeName(%q) = %q contains __", n, e)
		}
		for i := 0; i < len(e); i++ {
			if !plainByte(e[i]) && e[i] != '%' {
				t.Errorf("escapeName(%q) = %q has byte %q", n, e, e[i])
			}
		}
	}
	if e := escapeName(strings.Repeat("a", maxEscapedName)); e != strings.Repeat("a", maxEscapedName) {
		t.Errorf("a name of %d bytes was hashed", maxEscapedName)
	}
}
