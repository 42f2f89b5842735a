package e2e_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/snapexport/snapexport/internal/dumptest"
	"github.com/snapexport/snapexport/internal/exporttest"
	"github.com/snapexport/snapexport/internal/testservices"
)

// TestSDKExportCollidingNames exports collections whose keys differ only
// by "/.", "//" or "/.." segments, or that hold what reads like an escape,
// to a local bucket and to each emulator, and reads every document of
// every collection back from its own objects. Each emulator holds the
// objects under Atlas's keys, <prefix>/<db>/<collection>/..., byte for
// byte.
func TestSDKExportCollidingNames(t *testing.T) {
	ds := dumptest.CollidingNames()
	archive := dumptest.ArchiveBytes(ds, true, true)
	azurite := testservices.Azurite(t)
	for _, provider := range []string{"LOCAL", "AWS", "AZURE", "GCP"} {
		t.Run(provider, func(t *testing.T) {
			store, stored, job := exportTo(t, provider, azurite, archive)
			status := job.GetExportStatus()
			if got := status.GetTotalCollections(); got != len(ds.Collections) {
				t.Errorf("totalCollections %d, want %d", got, len(ds.Collections))
			}
			prefix := job.GetPrefix()
			all := exporttest.ListKeys(t, store, prefix+"/")
			var read []string
			for _, col := range ds.Collections {
				read = append(read, checkCollection(t, store, prefix, "Cluster0-shard-0", col, all)...)
			}
			rest := withoutComplete(prefix, all)
			slices.Sort(read)
			if !slices.Equal(read, rest) {
				t.Errorf("objects under the prefix:\n%q\nwant the collections' objects:\n%q", rest, read)
			}
			if stored != nil {
				want := slices.Sorted(slices.Values(append(read, prefix+"/.complete")))
				if got := stored(prefix + "/"); !slices.Equal(got, want) {
					t.Errorf("the store holds\n%q\nwant Atlas's keys\n%q", got, want)
				}
			}
			// read as TestSDKExportToEachCloud does: gofakes3 keeps times
			// to the second, too coarse for readComplete's ordering check
			var doc exporttest.Complete
			if err := json.Unmarshal(exporttest.ReadObject(t, store, prefix+"/.complete"), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.TotalFiles != len(rest) || len(rest) != len(all)-1 {
				t.Errorf(".complete totalFiles %d, want %d", doc.TotalFiles, len(rest))
			}
		})
	}
}
