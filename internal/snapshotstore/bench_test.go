package snapshotstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// BenchmarkImport imports a generated interleaved archive of about 48 MiB
// (in memory, so that reading it costs only parsing) into a fileblob
// bucket: MB/s is of the uncompressed archive.
func BenchmarkImport(b *testing.B) {
	ds := dumptest.Generate(dumptest.Options{Seed: 1, BulkBytes: 48 << 20})
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("gzip=%v", gz), func(b *testing.B) {
			data := dumptest.ArchiveBytes(ds, gz, true)
			size := int64(len(data))
			if gz {
				size = int64(len(dumptest.ArchiveBytes(ds, false, true)))
			}
			s, _ := newDirStore(b, snapshotstore.Options{})
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				src := openArchive(b, data)
				if _, err := s.Import(context.Background(), loc, "rs0", src, nil); err != nil {
					b.Fatal(err)
				}
				src.Close()
				b.StopTimer()
				if err := s.Delete(context.Background(), loc); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
