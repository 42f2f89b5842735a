//go:build !linux

package testservices

import (
	"net"
	"os/exec"
	"testing"
)

// dieWithParent does nothing where the kernel offers no parent-death
// signal: StopAll stops the child.
func dieWithParent(*exec.Cmd) {}

// reservedClosedPort returns a loopback port nothing listens on. Elsewhere
// than on Linux the port is only free: another listener may take it later.
func reservedClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}
