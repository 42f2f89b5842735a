package testservices

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// FerretDBURLEnv names a MongoDB wire-protocol server that is already
// running, as scripts/ferretdb start prints it:
// mongodb://snapexport:PASSWORD@127.0.0.1:PORT/. scripts/test starts one
// FerretDB for the whole run and sets it.
const FerretDBURLEnv = "SNAPEXPORT_TEST_FERRETDB_URL"

var ferretDB struct {
	once sync.Once
	mu   sync.Mutex
	dir  string // of the server started for the test binary
	url  string
	skip string
	err  error
}

// FerretDB returns the URL of a FerretDB server (MongoDB's wire protocol
// over SQLite) whose user has every right, with its password:
//
//   - the one named by $SNAPEXPORT_TEST_FERRETDB_URL when it is set (the
//     test fails when nothing listens there);
//   - otherwise one started once for the test binary with scripts/ferretdb,
//     stopped by StopAll, when its binary is already built. When it is not
//     the test is skipped, except in CI (CI=true), where scripts/ferretdb
//     builds it and any failure fails the test.
//
// Tests share the server: each works in databases of its own.
func FerretDB(t testing.TB) string {
	t.Helper()
	st := &ferretDB
	st.once.Do(func() {
		if u := os.Getenv(FerretDBURLEnv); u != "" {
			st.url, st.err = checkFerretDBURL(u)
			return
		}
		script, err := findScript("ferretdb")
		if err != nil {
			st.err = err
			return
		}
		if !ferretDBBuildable(script) {
			st.skip = "FerretDB is not built and " + FerretDBURLEnv + " is not set; run scripts/ferretdb build, or scripts/test, which starts it"
			return
		}
		dir, err := os.MkdirTemp("", "ferretdb-")
		if err != nil {
			st.err = err
			return
		}
		// scripts/ferretdb start wants a folder of its own or none.
		_ = os.Remove(dir)
		u, err := startFerretDB(script, dir)
		st.mu.Lock()
		defer st.mu.Unlock()
		st.dir, st.url, st.err = dir, u, err
	})
	if st.skip != "" {
		t.Skip(st.skip)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.url
}

// PrivateFerretDB starts a FerretDB server of the test's own, stopped
// when the test ends, and returns its URL as FerretDB does: for tests that
// read a whole deployment, which the shared server's other tests write to.
// Its binary is scripts/ferretdb's: when it is not built the test is
// skipped, except in CI, where it is built and any failure fails the test.
func PrivateFerretDB(t testing.TB) string {
	t.Helper()
	script, err := findScript("ferretdb")
	if err != nil {
		t.Fatal(err)
	}
	if !ferretDBBuildable(script) {
		t.Skip("FerretDB is not built; run scripts/ferretdb build, or scripts/test, which builds it")
	}
	dir := filepath.Join(t.TempDir(), "ferretdb")
	u, err := startFerretDB(script, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("bash", script, "stop", dir).Run() })
	return u
}

// ferretDBBuildable reports whether scripts/ferretdb can start a server
// here: its binary is built, or this is CI, where start builds it.
func ferretDBBuildable(script string) bool {
	return exec.Command("bash", script, "which").Run() == nil || os.Getenv("CI") == "true"
}

// startFerretDB starts a FerretDB server with its data in dir (a folder of
// its own, or none yet) and returns its URL.
func startFerretDB(script, dir string) (string, error) {
	var stdout, stderr bytes.Buffer
	start := exec.Command("bash", script, "start", dir)
	start.Stdout, start.Stderr = &stdout, &stderr
	if err := start.Run(); err != nil {
		return "", fmt.Errorf("testservices: scripts/ferretdb start %s: %v\n%s", dir, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// stopFerretDB stops the FerretDB started for the test binary, if any.
func stopFerretDB() {
	ferretDB.mu.Lock()
	defer ferretDB.mu.Unlock()
	if ferretDB.dir == "" {
		return
	}
	if script, err := findScript("ferretdb"); err == nil {
		_ = exec.Command("bash", script, "stop", ferretDB.dir).Run()
	}
	ferretDB.dir = ""
}

func checkFerretDBURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "mongodb" || u.Host == "" {
		// The URL holds a password: name the variable, not its value.
		return "", fmt.Errorf("testservices: %s is not a mongodb:// URL such as scripts/ferretdb start prints", FerretDBURLEnv)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "27017")
	}
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("testservices: %s names %s, but nothing answers there: %v", FerretDBURLEnv, host, err)
	}
	_ = c.Close()
	return s, nil
}
