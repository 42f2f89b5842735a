//go:build !linux

package snapexporttest

func memoryTempDir() string { return "" }
