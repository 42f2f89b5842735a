// Package snapshotstore keeps the data of snapshots in a bucket
// (gocloud.dev/blob: a local directory through fileblob, S3, Azure Blob
// Storage or Google Cloud Storage), one folder per snapshot, and the
// current data of clusters, whose parts the snapshots taken of it share.
//
// # Layout
//
// A snapshot of project P with id S lives under the prefix "P/S/":
//
//	P/S/manifest.json             written last
//	P/S/data/<db>/<stem>.<n>.bson one part of a collection's documents
//
// A part holds raw BSON documents of one collection, concatenated with
// nothing between them, in dump order; parts are numbered n = 0, 1, ... in
// the order they were written, and reading a collection's parts in that
// order (the order of the manifest's parts list) gives its documents in dump
// order. Archives interleave namespaces, so Import keeps several parts open
// at once; when it would keep more than Options.MaxOpenParts open it closes
// the least recently used one, and later documents of that collection start
// part n+1. A collection without documents has no part. Views have neither
// parts nor a manifest entry.
//
// <db> and <stem> are the database and collection names escaped so that
// keys are valid, and unambiguous, on every backend: bytes outside
// [A-Za-z0-9._-] are written %XX (two upper-case hex digits), as are a
// leading or trailing "." and a "_" followed by another "_" (fileblob would otherwise
// rewrite "__0x..." sequences); an escaped name longer than 160 bytes is cut
// to at most 128 bytes (never inside a %XX) followed by "_" and the 64 hex
// digits of the SHA-256 of the unescaped name. Readers never derive keys
// from names: the manifest lists every part's key. On a case-insensitive
// file system, two collections of one database whose names differ only in
// case share files; the checksums then report the damage when reading.
//
// manifest.json (JSON, formatVersion 1) describes the snapshot: its project
// and snapshot ids, the replica set name, the dump it came from (format,
// gzip, server and tool versions), when it was imported, and each collection
// in dump order: db, name, type ("collection" or "timeseries"), uuid, the
// data collection (system.buckets.<name> for most time-series collections),
// the metadata document as mongodump writes it in <coll>.metadata.json
// (canonical extended JSON embedded as a JSON object, absent when the dump
// had none), the number and total size of its documents, and its parts, each
// with key, count, size and the hex SHA-256 of its bytes.
//
// The manifest is written only after every part is complete, so a snapshot
// folder without manifest.json is an unfinished or failed import: it may be
// deleted at any time, and Import removes it before writing. Delete removes
// the manifest first for the same reason.
//
// # Clusters' data and shared parts
//
// The current data of one replica set of a cluster (Load, ClusterData) is
// a manifest of the same format, without snapshot id, whose parts are
// shared:
//
//	P/.clusters/<clusterId>/<rs>/manifest.json            the current data
//	P/.clusters/<clusterId>/<rs>/superseded/<load>.json   data a load replaced
//	P/.parts/<load>/<db>/<stem>.<n>.bson                  a part a load wrote
//
// (<rs> escaped as names are; the dot keeps these folders apart from
// snapshot ids, which cannot start with one). A load writes its parts
// under its own folder, points every part whose SHA-256 and size equal a
// part of the data it replaces at that part instead (deleting its copy),
// keeps the replaced manifest as superseded, and then writes the new
// manifest over the current one: that write is the switch. A snapshot
// taken of the data (Capture) is a manifest in the snapshot's folder that
// lists the same shared parts, so it costs one small object; a snapshot
// manifest may list parts of its own folder (an import) or of P/.parts/.
// Readers and exports do not tell the two apart.
//
// Shared parts are deleted by SweepShared only, never by Delete: a part
// goes once no manifest lists it (current, snapshot, or superseded less
// than the grace ago) and nothing has written it for the grace. Capture
// writes its manifest within a bound well below the grace after reading
// the current data, so the data it read is still listed, as superseded if
// not as current, until its own manifest lists it.
package snapshotstore
