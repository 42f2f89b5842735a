//go:build !crashpoints || !unix

package exportrunner

func crashAt(string, int64) {}
