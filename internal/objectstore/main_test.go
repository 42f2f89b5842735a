package objectstore_test

import (
	"testing"

	"github.com/snapexport/snapexport/internal/testservices"
)

func TestMain(m *testing.M) { testservices.Main(m) }
