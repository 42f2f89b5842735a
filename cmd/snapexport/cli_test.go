package main

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// The command line as a user meets it: what -h prints, what version
// says, and errors that name their command once.

// flagLine is a flag of a usage: its name, an optional kind, and a
// description after two spaces or more.
var flagLine = regexp.MustCompile(`^  --([a-z0-9-]+)( [a-zA-Z=]+)?  +\S`)

// usageFlags checks a command's usage and returns the flags it lists.
func usageFlags(t *testing.T, command, usage string) []string {
	t.Helper()
	if !strings.HasPrefix(usage, "usage: snapexport "+command+" [flags]\n\n") {
		t.Errorf("%s: usage does not begin with its synopsis:\n%s", command, usage)
	}
	head, list, found := strings.Cut(usage, "\nflags:\n")
	if !found {
		head, list = usage, "" // a command without flags
	}
	if strings.Count(strings.TrimSpace(head), "\n") < 2 {
		t.Errorf("%s: usage says nothing of what the command does:\n%s", command, usage)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimRight(list, "\n"), "\n") {
		if list == "" {
			break
		}
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s: %q is not a flag with its description", command, line)
			continue
		}
		names = append(names, m[1])
	}
	return names
}

// TestHelp asks every command and action for its usage, with -h and
// --help: it is printed on stdout, status 0, and names every flag with a
// description.
func TestHelp(t *testing.T) {
	store := []string{"data", "database", "json"}
	exportFlags := append(slices.Clone(store), "snapshot-store", "config", "group", "cluster", "export")
	commands := map[string][]string{
		"init":            append(slices.Clone(store), "org-name", "project-name"),
		"serve":           {"config", "data", "database", "listen", "snapshot-store", "export-jobs"},
		"version":         nil,
		"migrate status":  append(slices.Clone(store), "config"),
		"migrate up":      append(slices.Clone(store), "config"),
		"snapshot import": append(slices.Clone(store), "snapshot-store", "group", "cluster", "archive", "dir", "shard", "taken-at", "retention-days", "frequency", "description"),
		"snapshot list":   append(slices.Clone(store), "group", "cluster"),
		"snapshot show":   append(slices.Clone(store), "group", "cluster", "id"),
		"snapshot take":   append(slices.Clone(store), "group", "cluster", "description", "retention-days", "wait"),
		"export cancel":   exportFlags,
		"export verify":   exportFlags,
		"export watch":    append(slices.Clone(exportFlags), "interval", "stall-after", "timeout"),
	}
	for name := range adminCommands {
		commands["admin "+name] = store
	}
	for command, want := range commands {
		for _, help := range []string{"-h", "--help"} {
			res := runInProcess(t, append(strings.Fields(command), help)...)
			if res.code != 0 || res.stderr != "" {
				t.Errorf("%s %s: exit %d, stderr %q; want 0 and nothing", command, help, res.code, res.stderr)
				continue
			}
			got := usageFlags(t, command, res.stdout)
			for _, f := range want {
				if !slices.Contains(got, f) {
					t.Errorf("%s %s: the usage does not list --%s:\n%s", command, help, f, res.stdout)
				}
			}
		}
	}
	if res := runInProcess(t, "init", "-h"); !strings.Contains(res.stdout, `--data string           data directory, created when missing (default "./snapexport-data")`) {
		t.Errorf("init -h does not give --data's default:\n%s", res.stdout)
	}
	if res := runInProcess(t, "admin", "role", "assign", "-h"); !strings.Contains(res.stdout, "GROUP_READ_ONLY on a --project (required)") {
		t.Errorf("admin role assign -h does not list the roles:\n%s", res.stdout)
	}

	// The group commands print their actions.
	for _, args := range [][]string{
		{"admin", "-h"}, {"admin", "--help"}, {"admin", "role", "--help"}, {"export", "-h"}, {"export", "--help"},
		{"snapshot", "-h"}, {"snapshot", "--help"}, {"migrate", "-h"}, {"migrate", "--help"}, {"-h"}, {"--help"}, {"help"},
	} {
		res := runInProcess(t, args...)
		if res.code != 0 || res.stderr != "" || !strings.HasPrefix(res.stdout, "usage: snapexport ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
	}
	if res := runInProcess(t, "help", "export", "watch"); res.code != 0 || !strings.HasPrefix(res.stdout, "usage: snapexport export watch [flags]") {
		t.Errorf("help export watch: exit %d, stdout %q", res.code, res.stdout)
	}
	if res := runInProcess(t, "-h"); !strings.Contains(res.stdout, "\n  version ") {
		t.Errorf("the usage does not name the version command:\n%s", res.stdout)
	}

	// Through main, as a shell sees it.
	for _, args := range [][]string{{"export", "watch", "--help"}, {"admin", "-h"}, {"serve", "-h"}} {
		res := execBinary(t, args...)
		if res.code != 0 || res.stderr != "" || !strings.HasPrefix(res.stdout, "usage: snapexport "+args[0]) {
			t.Errorf("snapexport %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
	}
}

// TestVersion runs the binary's version command and checks it against
// the build information the toolchain wrote into the binary.
func TestVersion(t *testing.T) {
	info, err := buildinfo.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		res := execBinary(t, args...)
		if res.code != 0 || res.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q", args[0], res.code, res.stderr)
			continue
		}
		line, rest, _ := strings.Cut(res.stdout, "\n")
		if rest != "" {
			t.Errorf("%s printed more than one line: %q", args[0], res.stdout)
		}
		if !strings.HasPrefix(line, "snapexport "+info.Main.Version+",") || !strings.Contains(line, info.GoVersion) {
			t.Errorf("%s = %q, want the module version %s and %s", args[0], line, info.Main.Version, info.GoVersion)
		}
		if rev := settings["vcs.revision"]; rev != "" && !strings.Contains(line, "commit "+rev) {
			t.Errorf("%s = %q, want commit %s", args[0], line, rev)
		}
		if modified := settings["vcs.modified"] == "true"; strings.Contains(line, "uncommitted changes") != modified {
			t.Errorf("%s = %q; the build says vcs.modified=%t", args[0], line, modified)
		}
	}
}

func TestVersionLine(t *testing.T) {
	rev := "b7027b12a0a08e81953cbde9fdfd89f81e12fd90"
	for _, tc := range []struct {
		what string
		info *debug.BuildInfo
		want string
	}{
		{"go install module@version", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}},
			"snapexport v1.2.0, built with go1.26.0"},
		{"go build in a checkout with changes", &debug.BuildInfo{GoVersion: "go1.26.0",
			Main:     debug.Module{Version: "v0.0.0-20261206200227-b7027b12a0a0+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			"snapexport v0.0.0-20261206200227-b7027b12a0a0+dirty, commit " + rev + ", with uncommitted changes, built with go1.26.0"},
		{"go build in a clean checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}},
			"snapexport (devel), commit " + rev + ", built with go1.26.0"},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26.0"}, "snapexport (devel), built with go1.26.0"},
		{"no build information", nil, "snapexport (unknown version: the program carries no build information)"},
	} {
		if got := versionLine(tc.info); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, got, tc.want)
		}
	}
}

// TestErrorsNameTheCommandOnce checks that every kind of failure (a
// malformed flag, a missing one, a stray argument, a refusal of the
// service) says "snapexport: <command>: " once, and the cause.
func TestErrorsNameTheCommandOnce(t *testing.T) {
	f := newImportFixture(t)
	dir, g, archive := f.dir, f.group, f.archive
	unknown := "0123456789abcdef01234567"
	job := []string{"--data", dir, "--group", g, "--cluster", "Cluster0", "--export", unknown}
	fresh := filepath.Join(t.TempDir(), "fresh")

	for _, tc := range []struct {
		command string
		args    []string
		code    int
		want    string // the whole message, or its beginning when it ends with "…"
	}{
		{"export watch", nil, 2, "--group is required"},
		{"export cancel", []string{"--group", g}, 2, "--cluster is required"},
		{"export verify", []string{"--group", g, "--cluster", "Cluster0"}, 2, "--export is required"},
		{"export verify", []string{"--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"export watch", append(slices.Clone(job), "--interval", "soon"), 2, `invalid value "soon" for flag -interval: parse error`},
		{"export watch", append(slices.Clone(job), "--interval", "0s"), 2, "--interval 0s must be positive, --stall-after 2m0s and --timeout 0s not negative"},
		{"export watch", job, 1, "…" + unknown},
		{"export cancel", job, 1, "…" + unknown},
		{"export verify", job, 1, "…" + unknown},
		{"init", []string{"--data", fresh, "stray"}, 2, `unexpected argument "stray"`},
		{"serve", []string{"--data", fresh, "--listen"}, 2, "flag needs an argument: -listen"},
		{"admin org create", []string{"--data", dir}, 2, "--name is required"},
		{"admin cluster list", []string{"--data", dir, "--group", unknown}, 1, "…" + unknown},
		{"admin org list", []string{"--data", fresh}, 1, "data directory " + fresh + " is not initialized…"},
		{"snapshot import", []string{"--data", dir, "--group", g}, 2, "--cluster is required"},
		{"snapshot import", []string{"--data", dir, "--group", g, "--cluster", "nope", "--archive", archive}, 1, "…nope"},
		{"migrate status", []string{"--data", dir, "extra"}, 2, `unexpected argument "extra"`},
		{"version", []string{"extra"}, 2, `unexpected argument "extra"`},
	} {
		args := append(strings.Fields(tc.command), tc.args...)
		res := runInProcess(t, args...)
		if tc.command == "export watch" && tc.args == nil || tc.command == "export verify" && tc.args[0] == "--bogus" {
			res = execBinary(t, args...) // through main
		}
		lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
		last := lines[len(lines)-1]
		prefix := "snapexport: " + tc.command + ": "
		switch want := tc.want; {
		case res.code != tc.code:
			t.Errorf("%s: exit %d, want %d\n%s", strings.Join(args, " "), res.code, tc.code, res.stderr)
		case strings.HasPrefix(want, "…") && (!strings.HasPrefix(last, prefix) || !strings.Contains(last, want[len("…"):])),
			strings.HasSuffix(want, "…") && !strings.HasPrefix(last, prefix+strings.TrimSuffix(want, "…")),
			!strings.Contains(want, "…") && last != prefix+want:
			t.Errorf("%s: message %q, want %q", strings.Join(args, " "), last, prefix+want)
		case strings.Count(last, "snapexport:") != 1 || strings.Count(last, tc.command+":") != 1:
			t.Errorf("%s: message %q names the command more than once", strings.Join(args, " "), last)
		case res.stdout != "":
			t.Errorf("%s failed yet printed on stdout: %s", strings.Join(args, " "), res.stdout)
		}
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Errorf("a refused command created %s", fresh)
	}
}
