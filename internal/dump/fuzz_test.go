package dump_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzOpenArchive: any input either reads to io.EOF or fails with a
// *FormatError, never panics, and every document handed out is valid BSON.
func FuzzOpenArchive(f *testing.F) {
	ds := fixture(dumptest.Options{DocsPerCollection: 2, Oplog: true})
	plain := dumptest.ArchiveBytes(ds, false, true)
	f.Add(plain)
	f.Add(dumptest.ArchiveBytes(ds, false, false))
	f.Add(dumptest.ArchiveBytes(ds, true, true))
	f.Add(plain[:len(plain)/2])
	f.Add([]byte{0x6d, 0xe2, 0x99, 0x81})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := dump.OpenArchive(bytes.NewReader(data), "fuzz")
		if err != nil {
			var fe *dump.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("OpenArchive: %v (%T) is not a *FormatError", err, err)
			}
			return
		}
		defer src.Close()
		src.Collections()
		src.Info()
		for {
			_, doc, err := src.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *dump.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("Next: %v (%T) is not a *FormatError", err, err)
				}
				if _, _, again := src.Next(); again != err {
					t.Fatalf("Next after an error returned %v, want the same error", again)
				}
				return
			}
			if err := bson.Raw(doc).Validate(); err != nil {
				t.Fatalf("document that the driver rejects: %v", err)
			}
		}
	})
}
