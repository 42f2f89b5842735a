package testservices

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
)

// dieWithParent kills the child when the test binary dies without
// running StopAll (a panic, a -timeout, a kill).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// reservedClosedPort returns a loopback port that refuses connections and
// that nothing else can take until the test ends: a TCP socket bound to it
// that never listens (no SO_REUSEADDR, so no other socket may bind it, and
// the kernel hands it out to nobody else).
func reservedClosedPort(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd)
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatal(fmt.Errorf("testservices: socket bound to %T", sa))
	}
	return in4.Port
}
