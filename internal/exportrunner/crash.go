package exportrunner

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// CrashEnv names the environment variable that kills the process (SIGKILL,
// as a crash would) at a point of an export, for the tests that prove
// exports survive crashes: "documents:N" once N documents of a job have
// been handed to the bucket (mid-collection, possibly before its
// metadata.json), "collections:N" once N collections are recorded as
// finished, "complete:1" just before .complete is written.
const CrashEnv = "SNAPEXPORT_CRASH_POINT"

var crashPoint = func() (p struct {
	what string
	at   int64
}) {
	what, at, found := strings.Cut(os.Getenv(CrashEnv), ":")
	if !found {
		return p
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return p
	}
	p.what, p.at = what, n
	return p
}()

func crashAt(what string, n int64) {
	if crashPoint.what == what && n >= crashPoint.at {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
