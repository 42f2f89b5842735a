//go:build !snapexport_localbuckets

package objectstore_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/testservices"
)

// BenchmarkCloudWrite streams an export's data object of 20 MiB (three
// parts or blocks of export.DefaultWriterBufferSize) in the export's
// 256 KiB writes into gofakes3 and fake-gcs-server through Stores, then a
// small metadata.json. The baseline is S3's PutObject of the same bytes in
// one request, straight from the SDK; B/op is what an upload allocates.
// Azurite is left out: the shared instance of a test run keeps blocks in a
// bounded memory store, which repeated 20 MiB uploads fill.
func BenchmarkCloudWrite(b *testing.B) {
	data := bytes.Repeat([]byte("snapexport"), 2<<20)
	b.Run("s3-putobject", func(b *testing.B) {
		fake := testservices.S3(b, "bench")
		client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(fake.URL), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")})
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			key := fmt.Sprintf("exported_snapshots/o/g/c/2026-08-10T0327/1786332505/app/orders.%d/rs0.0.json.gz", i%8)
			if _, err := client.PutObject(bg(), &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key),
				Body: bytes.NewReader(data), ContentType: aws.String("application/gzip")}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("s3", func(b *testing.B) {
		fake := testservices.S3(b, "bench")
		benchmarkStoresWrite(b, newStores(b, s3Config(fake.URL)), awsTarget("bench"), data)
	})
	b.Run("gcs", func(b *testing.B) {
		fake := testservices.GCS(b, "bench")
		benchmarkStoresWrite(b, newStores(b, gcsConfig(fake.URL)), gcsTarget("bench"), data)
	})
}

func benchmarkStoresWrite(b *testing.B, stores *objectstore.Stores, target objectstore.Target, data []byte) {
	bucket, err := stores.Open(bg(), target)
	if err != nil {
		b.Fatal(err)
	}
	defer bucket.Close()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dir := fmt.Sprintf("exported_snapshots/o/g/c/2026-08-10T0327/1786332505/app/orders.%d/", i%8)
		w, err := bucket.NewWriter(bg(), dir+"rs0.0.json.gz", &blob.WriterOptions{
			ContentType: "application/gzip", BufferSize: export.DefaultWriterBufferSize})
		if err != nil {
			b.Fatal(err)
		}
		for p := data; len(p) > 0; p = p[min(len(p), 256<<10):] {
			if _, err := w.Write(p[:min(len(p), 256<<10)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := bucket.WriteAll(bg(), dir+"metadata.json", []byte(`{"collectionName":"orders"}`), nil); err != nil {
			b.Fatal(err)
		}
	}
}
