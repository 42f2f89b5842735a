package e2e_test

import (
	"testing"

	"github.com/snapexport/snapexport/internal/testservices"
)

// TestMain stops the services the tests started once for the binary
// (Azurite, when scripts/test did not provide one).
func TestMain(m *testing.M) { testservices.Main(m) }
