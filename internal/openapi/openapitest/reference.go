package openapitest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ReferenceDir is Atlas's reference material (its specification and
// recorded answers), kept beside the repository: ../shared/reference from
// the module root, found from the working directory; CI has it at the
// same place.
func ReferenceDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "reference"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or above", dir)
		}
	}
}

// RequireReference handles err, the error of reading what of Atlas's
// reference material at path: a test without it is skipped, except in CI
// (CI=true), where it must be present.
func RequireReference(tb testing.TB, what, path string, err error) {
	tb.Helper()
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s %s missing in CI", what, path)
		}
		tb.Skipf("%s %s not present", what, path)
	}
	if err != nil {
		tb.Fatal(err)
	}
}
