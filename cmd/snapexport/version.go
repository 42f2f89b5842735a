package main

import (
	"cmp"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

func runVersion(args []string, stdout, stderr io.Writer) error {
	if err := parse(newFlags("version", stderr), args); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	fmt.Fprintln(stdout, versionLine(info))
	return nil
}

// versionLine is the program's version as the Go toolchain recorded it:
// the main module's version (a release such as v1.2.0 after `go install
// module@version`, a pseudo-version or "(devel)" for a build in a
// checkout), the commit and whether the checkout had changes, when the
// build recorded them, and the Go version.
func versionLine(info *debug.BuildInfo) string {
	if info == nil {
		return "snapexport (unknown version: the program carries no build information)"
	}
	words := []string{"snapexport " + cmp.Or(info.Main.Version, "(devel)")}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		words = append(words, "commit "+rev)
		if settings["vcs.modified"] == "true" {
			words = append(words, "with uncommitted changes")
		}
	}
	if info.GoVersion != "" {
		words = append(words, "built with "+info.GoVersion)
	}
	return strings.Join(words, ", ")
}

// moduleVersion is the main module's version as the build recorded it,
// "(devel)" for a build in a checkout.
func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
