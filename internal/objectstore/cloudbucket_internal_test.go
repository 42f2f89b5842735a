//go:build !snapexport_localbuckets

package objectstore

import (
	"strings"
	"testing"
)

func TestKeyEscapeIsInjectiveAndNarrow(t *testing.T) {
	for _, tc := range []struct {
		escape    keyEscape
		key, name string
	}{
		{azureKeys, `a\b`, "a%5Cb"},
		{azureKeys, "a%5Cb", "a%255Cb"},
		{azureKeys, "a%255Cb", "a%25255Cb"},
		{azureKeys, "a%5cb%2F%%", "a%5cb%2F%%"},
		{azureKeys, "100%", "100%"},
		{azureKeys, "a\r\n\"#?/../__0x2f__", "a\r\n\"#?/../__0x2f__"},
		{gcsKeys, "a\r\nb", "a%0D%0Ab"},
		{gcsKeys, "a%0A%0D%25", "a%250A%250D%2525"},
		{gcsKeys, `a\%5C`, `a\%5C`},
		{"", "a\\\r\n%25", "a\\\r\n%25"},
	} {
		if got := tc.escape.name(tc.key); got != tc.name {
			t.Errorf("%q: name %q, want %q", tc.key, got, tc.name)
		}
		if got := tc.escape.key(tc.name); got != tc.key {
			t.Errorf("%q: key of %q is %q", tc.key, tc.name, got)
		}
	}
	// every key of bytes that matter, up to 4 long, has a name of its own
	alphabet := []string{"%", "5", "C", "2", "0", "A", "D", `\`, "\r", "\n", "a"}
	for _, e := range []keyEscape{azureKeys, gcsKeys} {
		seen := map[string]string{}
		var walk func(key string)
		walk = func(key string) {
			name := e.name(key)
			if other, ok := seen[name]; ok {
				t.Fatalf("%q and %q share the name %q", other, key, name)
			}
			seen[name] = key
			if got := e.key(name); got != key {
				t.Fatalf("%q: key of %q is %q", key, name, got)
			}
			if strings.ContainsAny(name, string(e)) {
				t.Fatalf("%q: name %q holds a byte of %q", key, name, string(e))
			}
			if len(key) < 4 {
				for _, c := range alphabet {
					walk(key + c)
				}
			}
		}
		walk("")
	}
}

func TestListPrefixCoversLongerKeys(t *testing.T) {
	for _, tc := range []struct {
		escape      keyEscape
		prefix, key string
	}{
		{azureKeys, "a%5", "a%5Cb"},
		{azureKeys, "a%", "a%25"},
		{azureKeys, "a%2", "a%25"},
		{azureKeys, `a\`, `a\b`},
		{gcsKeys, "a%0", "a%0A"},
		{gcsKeys, "p/", "p/\n"},
	} {
		if p := tc.escape.listPrefix(tc.prefix); !strings.HasPrefix(tc.escape.name(tc.key), p) {
			t.Errorf("list prefix %q of %q misses %q (stored %q)", p, tc.prefix, tc.key, tc.escape.name(tc.key))
		}
	}
}
