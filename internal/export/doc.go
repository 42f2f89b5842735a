// Package export writes one replica set's snapshot data into an export
// bucket in the object layout of Atlas's Cloud Backup export. It knows
// nothing of jobs, databases or HTTP: a job runner decides what to export
// and where, and records progress.
//
// # Layout
//
// Every object of an export job lives under the job's prefix (see Prefix):
//
//	exported_snapshots/.permissioncheck                    empty; WritePermissionCheck
//	<prefix>/<db>/<collection>/<rs>.<n>.json.gz           data; n = 0, 1, ...
//	<prefix>/<db>/<collection>/metadata.json              after the collection's data
//	<prefix>/.complete                                    last; WriteComplete
//
// The permission-check key has no leading slash, like the prefix Atlas
// returns (the docs write "/exported_snapshots/.permissioncheck").
//
// <db> and <collection> are the names as they are, as Atlas writes them:
// a collection name holding "/" therefore adds a level to the key, and
// names may hold '.', spaces, empty, "." and ".." segments ("y/.", "y//")
// and any Unicode. Every namespace thus has keys of its own, which each
// bucket keeps apart: gocloud.dev's cloud drivers store keys verbatim but
// for a few characters they escape reversibly (see docs/compatibility.md),
// and local buckets map keys to file paths that no file system folds
// together (package objectstore).
//
// # Data objects
//
// A data object is a gzip stream (one member, header without name or
// modification time, OS byte 255; github.com/klauspost/compress/gzip) of
// canonical Extended JSON v2 exactly as the Go driver writes it
// (bson.MarshalExtJSON, canonical, no HTML escaping), one document per
// line, each line ending with "\n". The driver's encoder allocates for
// every element and was the bottleneck, so documents are converted by
// appendExtJSON, which writes the same bytes (tests compare the two on
// every generated document, on random documents and under fuzzing) and
// hands anything unusual (malformed BSON, for one) to the driver. A
// Decimal128 signalling NaN, or a NaN with a payload, comes back from
// Extended JSON as the quiet NaN, as with mongoexport. Documents
// are in snapshot order; a document is never split, and a new object
// starts before a document that would take the current one past
// Options.ChunkBytes of JSON (so only a single document larger than
// ChunkBytes makes an object larger than ChunkBytes). A collection without
// documents has no data object, only metadata.json.
//
// Time-series collections are exported under their own name with the
// documents the snapshot holds for them: the buckets (system.buckets.<name>
// on servers before 8.3).
//
// Output is a function of the snapshot data and of ChunkBytes and
// GzipLevel only (not of Parallel, MarshalWorkers or timing), so a job that
// crashed can export a collection again and overwrite exactly the objects
// an uninterrupted run writes.
//
// # Pipeline and memory
//
// Per collection, one goroutine reads documents into batches of about
// 256 KiB of BSON, MarshalWorkers goroutines convert batches to JSON, and
// the calling goroutine takes them in order, cuts objects, compresses and
// uploads. At most 2*MarshalWorkers+4 batches exist at once, plus the
// compressor's state, a 256 KiB write buffer and the backend's upload
// buffer (Options.WriterBufferSize): memory does not grow with the
// collection or the object.
package export
