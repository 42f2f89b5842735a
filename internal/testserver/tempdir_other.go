//go:build !linux

package testserver

func memoryTempDir() string { return "" }
