package objectstore_test

import (
	"bytes"
	"fmt"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/snapexport/snapexport/internal/objectstore"
)

// BenchmarkLocalWrite writes objects into a local bucket as an export
// does (a 4 MiB data object streamed, then a small metadata.json) through Stores,
// whose keys are mapped to paths, against fileblob alone as the baseline.
func BenchmarkLocalWrite(b *testing.B) {
	data := bytes.Repeat([]byte("snapexport"), 400<<10)
	open := map[string]func(*testing.B) *blob.Bucket{
		"fileblob": func(b *testing.B) *blob.Bucket {
			bucket, err := fileblob.OpenBucket(b.TempDir(), &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
			if err != nil {
				b.Fatal(err)
			}
			return bucket
		},
		"stores": func(b *testing.B) *blob.Bucket {
			stores, err := objectstore.New(objectstore.Config{LocalDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { stores.Close() })
			bucket, err := stores.Open(bg(), awsTarget("bench"))
			if err != nil {
				b.Fatal(err)
			}
			return bucket
		},
	}
	for _, name := range []string{"fileblob", "stores"} {
		b.Run(name, func(b *testing.B) {
			bucket := open[name](b)
			defer bucket.Close()
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				dir := fmt.Sprintf("exported_snapshots/o/g/c/2026-08-10T0327/1786332505/app/orders.%d/", i%64)
				w, err := bucket.NewWriter(bg(), dir+"rs0.0.json.gz", &blob.WriterOptions{ContentType: "application/gzip"})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if err := bucket.WriteAll(bg(), dir+"metadata.json", []byte(`{"collectionName":"orders"}`), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
