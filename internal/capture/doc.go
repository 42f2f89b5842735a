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
// credentials are accepted, asks it what it is (hello, or isMaster on
// servers that do not know hello, and buildInfo), and lists databases,
// collections and indexes;
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
// database or collection that could not be read), ErrRefused (a
// deployment not captured, see below), ErrSnapshotTooOld or
// ErrSnapshotUnavailable, as errors.Is tells.
//
// A mongos router (hello's msg "isdbgrid") is always refused: a sharded
// cluster is not captured through mongos, with or without a point in
// time.
//
// # Consistency
//
// Without Options.PointInTime ("consistency none") the reader gives no
// point in time: collections are read one after another (or a few at
// once) with ordinary cursors, so writes made while it reads may show in
// some collections and not in others, and a document moved by an update
// may be seen twice or not at all, as with mongodump without --oplog. A
// consistent capture in this mode needs the deployment to be quiet while
// it runs.
//
// With Options.PointInTime every document is read as it was at one
// cluster time T, whatever is written meanwhile. Open refuses (ErrRefused,
// with the advice to register the cluster with --consistency none) a
// standalone server, which keeps no snapshot history, a server before
// MongoDB 5.0, which has no snapshot reads outside transactions, and a
// hello reply without a cluster time. T is the hello reply's
// lastWrite.majorityOpTime.ts, the replica set's majority commit point,
// which every member can read at and no rollback undoes; else the reply's
// operationTime, else its $clusterTime.clusterTime. Every find carries
// readConcern {level: "snapshot", atClusterTime: T}, and its getMores
// follow its cursor at T. The find is sent as a command
// (Database.RunCommandCursor): the driver's Collection.Find carries
// atClusterTime only inside a snapshot session (SessionOptions'
// SnapshotTime), which is not safe for concurrent use and so would take
// one session per cursor, and the command is one path for both modes
// that carries exactly the read concern written here. listDatabases, listCollections and listIndexes
// are read without a point in time, as Open runs them just after choosing
// T: MongoDB's documentation of read concern "snapshot" lists find,
// aggregate and distinct as the only reads that take it outside a
// transaction, and says that every other read command prohibits it. A
// collection created between T and the listing is therefore listed, and
// its find is answered SnapshotUnavailable (code 246), as it is for a
// collection whose catalog (name, options, an index) changed after T: the
// capture fails with ErrSnapshotUnavailable rather than store it empty or
// skip it, since the server's answer does not tell a collection that did
// not exist at T from one that did, and a new capture chooses a later T.
// If the server refuses the first snapshot read (InvalidOptions,
// CommandNotSupported, NotImplemented, or a message naming readConcern or
// atClusterTime) the capture fails with ErrRefused; once a snapshot read
// was answered, a refusal is reported as the server gave it.
//
// The server keeps the history of T for minSnapshotHistoryWindowInSeconds
// (a setParameter, 300 by default) and no longer: a capture that reads
// past it fails with ErrSnapshotTooOld (SnapshotTooOld, code 239), whose
// message gives the capture's duration so far, above which the window is
// to be raised. Nothing half-read is stored: snapshotstore's Import
// removes what it wrote when its source fails.
//
// A transient failure while a collection is read (a network error, a
// connection pool cleared by another read's failure, a stepped-down or
// shut-down primary, a lost cursor: codes 6, 7, 43, 89, 91, 189, 9001,
// 10107, 11600, 11602, 13435, 13436) takes the reading of that collection
// up again after a pause (Options.RetryBackoff, doubled each time), up to
// Options.Retries times per collection: a new find at the same T, in
// natural order (hint {$natural: 1}), skipping the documents already
// handed out. At one snapshot the natural order does not change, so no
// document is handed out twice or left out. Without a point in time the
// same re-read with skip is exact only on a quiet deployment, as the rest
// of that mode. SnapshotTooOld and SnapshotUnavailable are not retried:
// reading again at the same T gives the same answer.
package capture
