package objectstore

import (
	"strings"
	"testing"
)

func TestLocalPath(t *testing.T) {
	for key, want := range map[string]string{
		"p/app/orders/rs0.0.json.gz":   "p/app/orders/rs0.0.json.gz",
		"exported_snapshots/.complete": "exported_snapshots/.complete",
		"p/x/y/./rs0.0.json.gz":        "p/x/y/%2E/rs0.0.json.gz",
		"p/x/y/../metadata.json":       "p/x/y/.%2E/metadata.json",
		"p/x/y///rs0.0.json.gz":        "p/x/y/%/%/rs0.0.json.gz",
		"p/x//y/metadata.json":         "p/x/%/y/metadata.json",
		"p/x/100%/a%2E/metadata.json":  "p/x/100%25/a%252E/metadata.json",
		"p/x/tab\there\x7f/m":          "p/x/tab%09here%7F/m",
		"p/x/trailing. /trailing./m":   "p/x/trailing.%20/trailing%2E/m",
		"p/x/y/a.attrs":                "p/x/y/a%2Eattrs",
		"p/x/y.attrs/a.1f.tmp":         "p/x/y.attrs/a.1f%2Etmp",
		"p/x/__0x2f__/m":               "p/x/__0x2f__/m",
		"p/x/é 日本/m":                   "p/x/é 日本/m",
		"trailing/":                    "trailing/%",
		"/leading":                     "%/leading",
	} {
		if got := localPath(key); got != want {
			t.Errorf("localPath(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestLocalPathIsInjectiveAndReversible(t *testing.T) {
	long := strings.Repeat("c", 253)
	accents := strings.Repeat("é", 126)
	var keys []string
	for _, coll := range []string{"y", "y/.", "y//", "y/..", "y/../z", "/y", "y/", "y%", "y%25", "y%2E", "y.", "y%~", "y%~/z",
		"y.", "y ", "y\x01", long, long[:200], long[:200] + "/" + long[200:], long[:200] + "%~/" + long[200:],
		accents, accents + "x", "x" + accents, strings.Repeat("%", 120), strings.Repeat("%a", 100)} {
		for _, file := range []string{"rs0.0.json.gz", "metadata.json", "", ".", "..", "a.attrs", "a.1.tmp"} {
			keys = append(keys, "exported_snapshots/o/g/c/2026-08-10T0327/1786332505/x/"+coll+"/"+file)
		}
	}
	seen := map[string]string{}
	for _, key := range keys {
		path := localPath(key)
		if prev, dup := seen[path]; dup && prev != key {
			t.Errorf("%q and %q both map to %q", prev, key, path)
		}
		seen[path] = key
		back, ok := keyOfLocalPath(path)
		if !ok || back != key {
			t.Errorf("keyOfLocalPath(localPath(%q)) = %q, %v", key, back, ok)
		}
		for _, seg := range strings.Split(path, "/") {
			if seg == "" || seg == "." || seg == ".." || len(seg) > maxLocalSegment+2 ||
				strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") || strings.ContainsAny(seg, "\x00\x01\x7f") {
				t.Errorf("localPath(%q) = %q has segment %q", key, path, seg)
			}
		}
	}
	for _, path := range []string{"a/%4", "a/%zz", "a/%41", "a/b%~", "a/%2e"} {
		if key, ok := keyOfLocalPath(path); ok {
			t.Errorf("keyOfLocalPath(%q) = %q, want none: localPath does not make it", path, key)
		}
	}
}
