//go:build !snapexport_localbuckets

package objectstore_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/testservices"
)

// The object stores keep every key apart and read it back as it was
// written. gocloud.dev's drivers store most keys verbatim, "//" and "/./"
// included, but escape a few characters as "__0x<hex>__" in the stored
// name (reversed when reading and listing): the "/" after "..", the "_"
// that starts a "__0x" sequence, control characters, and on Azure also
// " # % ? and \. Only keys without those are checked on the server.
func storedVerbatim(key string, azure bool) bool {
	if strings.Contains(key, "../") || strings.Contains(key, "__0x") {
		return false
	}
	return !azure || !strings.ContainsAny(key, "\"#%?\\")
}

func TestS3KeepsEveryKeyApart(t *testing.T) {
	s3 := testservices.S3(t, "b1")
	_, keys := openDistinctKeys(t, newStores(t, s3Config(s3.URL)), awsTarget("b1"))
	for i, k := range keys {
		if !storedVerbatim(k, false) {
			continue
		}
		if got := s3.Object(t, "b1", keysPrefix+k); !bytes.Equal(got, content(i, k)) {
			t.Errorf("S3 holds %q under %q", got, k)
		}
	}
}

func TestAzureKeepsEveryKeyApart(t *testing.T) {
	endpoint := testservices.Azurite(t)
	c := testservices.AzuriteContainer(t, endpoint, "keys")
	_, keys := openDistinctKeys(t, newStores(t, azureConfig(endpoint)), azureTarget(endpoint, "keys"))
	for i, k := range keys {
		if !storedVerbatim(k, true) {
			continue
		}
		if size, ok := testservices.BlobSize(t, c, keysPrefix+k); !ok || size != int64(len(content(i, k))) {
			t.Errorf("Azurite holds %d bytes (%v) under %q, want %d", size, ok, k, len(content(i, k)))
		}
	}
}

func TestGCSKeepsEveryKeyApart(t *testing.T) {
	gcs := testservices.GCS(t, "b1")
	_, keys := openDistinctKeys(t, newStores(t, gcsConfig(gcs.URL)), gcsTarget("b1"))
	for i, k := range keys {
		if !storedVerbatim(k, false) {
			continue
		}
		if got := gcs.Object(t, "b1", keysPrefix+k); !bytes.Equal(got, content(i, k)) {
			t.Errorf("fake-gcs-server holds %q under %q", got, k)
		}
	}
}
