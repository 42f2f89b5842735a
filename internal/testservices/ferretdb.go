package testservices

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
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
		if exec.Command("bash", script, "which").Run() != nil && os.Getenv("CI") != "true" {
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
		var stdout, stderr bytes.Buffer
		start := exec.Command("bash", script, "start", dir)
		start.Stdout, start.Stderr = &stdout, &stderr
		err = start.Run()
		st.mu.Lock()
		defer st.mu.Unlock()
		st.dir = dir
		if err != nil {
			st.err = fmt.Errorf("testservices: scripts/ferretdb start %s: %v\n%s", dir, err, stderr.String())
			return
		}
		st.url = strings.TrimSpace(stdout.String())
	})
	if st.skip != "" {
		t.Skip(st.skip)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.url
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
