//go:build !snapexport_localbuckets

package objectstore_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/testservices"
)

// The cloud buckets store every key as the object's name, byte for byte,
// as Atlas writes it, so that any other reader sees Atlas's layout; and
// list those names back as keys. Two stores cannot hold some bytes
// (docs/buckets.md): Azure reads '\' as '/', so '\' is stored "%5C";
// Cloud Storage refuses CR and LF, stored "%0D" and "%0A"; a '%' that
// would read as one of those escapes (or as "%25") is stored "%25".

// storedNames is the name of each key of collidingKeys in a store that
// holds collection coll of keys as stored[coll], the others verbatim.
func storedNames(keys []string, stored map[string]string) []string {
	var names []string
	for _, k := range keys {
		for coll, name := range stored {
			if rest, ok := strings.CutPrefix(k, "x/"+coll+"/"); ok {
				k = "x/" + name + "/" + rest
				break
			}
		}
		names = append(names, keysPrefix+k)
	}
	return names
}

func TestS3KeepsEveryKeyApart(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	_, keys := openDistinctKeys(t, newStores(t, s3Config(s3.URL)), awsTarget("b1"))
	names := storedNames(keys, nil)
	for i, k := range keys {
		if got := s3.Object(t, "b1", names[i]); !bytes.Equal(got, content(i, k)) {
			t.Errorf("S3 holds %q under %q", got, k)
		}
	}
	if got, want := s3.Keys(t, "b1", keysPrefix), slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Errorf("S3 holds\n%q\nwant\n%q", got, want)
	}
}

func TestAzureKeepsEveryKeyApart(t *testing.T) {
	endpoint := testservices.Azurite(t)
	c := testservices.AzuriteContainer(t, endpoint, "keys")
	_, keys := openDistinctKeys(t, newStores(t, azureConfig(endpoint)), azureTarget(endpoint, "keys"))
	names := storedNames(keys, map[string]string{`y"#?\`: `y"#?%5C`, "y%5C%0A%25": "y%255C%0A%2525"})
	for i, k := range keys {
		if size, ok := testservices.BlobSize(t, c, names[i]); !ok || size != int64(len(content(i, k))) {
			t.Errorf("Azurite holds %d bytes (%v) under %q, want %d", size, ok, names[i], len(content(i, k)))
		}
	}
	if got, want := testservices.BlobNames(t, c, keysPrefix), slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Errorf("Azurite holds\n%q\nwant\n%q", got, want)
	}
}

func TestGCSKeepsEveryKeyApart(t *testing.T) {
	gcs := testservices.GCS(t, "b1")
	_, keys := openDistinctKeys(t, newStores(t, gcsConfig(gcs.URL)), gcsTarget("b1"))
	names := storedNames(keys, map[string]string{"y\r\n": "y%0D%0A", "y%5C%0A%25": "y%5C%250A%2525"})
	for i, k := range keys {
		if got := gcs.Object(t, "b1", names[i]); !bytes.Equal(got, content(i, k)) {
			t.Errorf("fake-gcs-server holds %q under %q", got, k)
		}
	}
	if got, want := gcs.Keys(t, "b1", keysPrefix), slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Errorf("fake-gcs-server holds\n%q\nwant\n%q", got, want)
	}
}
