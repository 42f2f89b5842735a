package objectstore_test

import (
	"os"
	"testing"

	"github.com/snapexport/snapexport/internal/testservices"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testservices.StopAll()
	os.Exit(code)
}
