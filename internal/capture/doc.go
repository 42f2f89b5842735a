// Package capture reads a running MongoDB deployment through the official
// Go driver and presents it as a dump.Source, so that snapshotstore's Import
// and Load store a capture exactly as they store an imported mongodump.
//
// # What is read
//
// Every database listDatabases names except admin, local and config, and
// in each the collections listCollections returns, with mongodump's
// choices: system.* collections are left out except system.js, and a
// time-series collection's system.buckets.<name> is read as that
// collection's documents rather than listed on its own. Each collection's
// metadata is what mongodump writes in <coll>.metadata.json: the
// listCollections options (omitted when empty), the listIndexes
// specifications (an empty list for a view), the UUID of the
// listCollections info when the server gives one, the collection's name
// and its type ("collection", "view" or "timeseries"). A view has its
// definition (viewOn, pipeline) and no documents.
//
// # How
//
// Open connects, checks that the deployment answers and that the
// credentials are accepted, and lists databases, collections and indexes;
// Next then streams the documents. Options.Collections collections are
// read at once, each with its own cursor; their documents come out of Next
// interleaved, as an archive's may, the documents of one collection in the
// server's natural order. A reading cursor waits until Next has handed out
// its current document and been called again before it moves on, so a
// document is never copied and memory holds at most one cursor batch per
// collection being read (the server caps a batch at 16 MiB). The context
// given to Open bounds every read: once it ends, Next returns its error
// and the cursors are closed.
//
// Failures name what failed without the URI's password: *Error with
// ErrUnreachable, ErrAuthentication, ErrTLS or ErrUnauthorized (the
// database or collection that could not be read), as errors.Is tells.
//
// # Consistency
//
// The reader gives no point in time by itself: collections are read one
// after another (or a few at once) with ordinary cursors, so writes made
// while it reads may show in some collections and not in others, and a
// document moved by an update may be seen twice or not at all, as with
// mongodump without --oplog. A consistent capture needs the deployment to
// be quiet while it runs, or a point in time taken by other means.
package capture
