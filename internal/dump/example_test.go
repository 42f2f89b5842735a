package dump_test

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/dumptest"
)

func Example() {
	// a gzipped, interleaved archive as mongodump --archive --gzip writes it
	ds := dumptest.Generate(dumptest.Options{Seed: 1, DocsPerCollection: 10})
	archive := dumptest.ArchiveBytes(ds, true, true)

	src, err := dump.OpenArchive(bytes.NewReader(archive), "dump.archive.gz")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for {
		_, doc, err := src.Next()
		if err == io.EOF {
			break // every check passed: the documents read can be kept
		}
		if err != nil {
			log.Fatal(err) // a *dump.FormatError: discard what was read
		}
		_ = doc // only valid until the next call: copy it to keep it
	}
	for _, c := range src.Collections() {
		switch {
		case c.IsView():
			fmt.Printf("%s: view on %s\n", c.Namespace, c.Metadata.Options.Lookup("viewOn").StringValue())
		case c.IsTimeseries():
			fmt.Printf("%s: time-series, %d buckets in %s\n", c.Namespace, c.Count, c.DataCollection)
		default:
			fmt.Printf("%s: %d documents, %d bytes, %d indexes\n", c.Namespace, c.Count, c.Size, len(c.Metadata.Indexes))
		}
	}
	// Output:
	// app.types: 10 documents, 10538 bytes, 3 indexes
	// app.orders: 20 documents, 6770 bytes, 7 indexes
	// app.log: 10 documents, 607 bytes, 1 indexes
	// analytics.events: 10 documents, 1498 bytes, 2 indexes
	// analytics.metrics: time-series, 1 buckets in system.buckets.metrics
	// analytics.clicks: view on events
	// edge.empty: 0 documents, 0 bytes, 1 indexes
	// edge.dotted.name: 3 documents, 162 bytes, 1 indexes
	// edge.weird/name é %? 日本: 5 documents, 292 bytes, 1 indexes
	// edge.très-long-éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé-end: 4 documents, 232 bytes, 1 indexes
	// edge.onedoc: 1 documents, 1021 bytes, 1 indexes
}
