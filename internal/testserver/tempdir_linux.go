//go:build linux

package testserver

import "syscall"

// tmpfsMagic is TMPFS_MAGIC of linux/magic.h.
const tmpfsMagic = 0x01021994

// minMemoryFree is the room /dev/shm must have left to take throwaway
// databases: a server's write-ahead log alone may grow to 4 MiB, and
// containers often give /dev/shm only 64 MiB.
const minMemoryFree = 256 << 20

// memoryTempDir returns /dev/shm when it is a memory file system with room
// to spare, "" otherwise.
func memoryTempDir() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Type != tmpfsMagic ||
		uint64(st.Bavail)*uint64(st.Bsize) < minMemoryFree {
		return ""
	}
	return "/dev/shm"
}
