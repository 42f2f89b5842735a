package objectstore_test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopAzurite()
	os.Exit(code)
}
