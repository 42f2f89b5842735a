//go:build crashpoints && unix

package exportrunner

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

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
