package exportrunner

// CrashEnv names the environment variable that kills the process (SIGKILL,
// as a crash would) at a point of an export, in a binary built with the
// build tag crashpoints, for the tests that prove exports survive crashes:
// "documents:N" once N documents of a job have been handed to the bucket
// (mid-collection, possibly before its metadata.json), "collections:N"
// once N collections are recorded as finished, "complete:1" just before
// .complete is written. Other builds have no crash points: crashAt does
// nothing.
const CrashEnv = "SNAPEXPORT_CRASH_POINT"
