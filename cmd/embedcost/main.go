// Command embedcost measures what package snapexporttest costs a user's
// module: the modules whose packages its test binary builds, the size of
// their downloads, and the test binary's first build (an empty build cache,
// the standard library already built), beside a baseline measured in the
// same run: a test that uses the Atlas Go SDK against net/http/httptest,
// which a user of snapexporttest has anyway.
//
//	go run ./cmd/embedcost [-repo DIR] [-keep]
//
// The user's module is made in a temporary directory with a replace
// directive pointing at -repo; its snapexporttest test is the example of
// docs/testing.md, compiled as the docs show it. Figures are kept in
// docs/performance.md.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

const (
	atlasSDK       = "go.mongodb.org/atlas-sdk/v20250312020"
	atlasSDKVer    = "v20250312020.0.0"
	docsExample    = "docs/testing.md"
	docsMarker     = "<!-- compiles: testing-snapexporttest -->"
	localBucketTag = "snapexport_localbuckets"
)

const baselineTest = `package baseline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

func TestBaseline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	client, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.CloudBackupsApi.ListExportBuckets(context.Background(), "0123456789abcdef01234567").Execute(); err == nil {
		t.Fatal("no error from a server that knows nothing")
	}
}
`

type variant struct {
	name string
	pkg  string
	tags string
}

type figures struct {
	modules  []string         // path@version of the modules whose packages are built
	sizes    map[string]int64 // their zips' sizes, by path@version
	download int64            // bytes of their zips in the module cache
	missing  int              // modules without a zip (the replaced snapexport)
	build    time.Duration
}

func main() {
	repo := flag.String("repo", ".", "the snapexport repository to measure")
	keep := flag.Bool("keep", false, "keep the user's module and build caches")
	flag.Parse()
	if err := run(*repo, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "embedcost:", err)
		os.Exit(1)
	}
}

func run(repo string, keep bool) error {
	repo, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "embedcost-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "embedcost: working in", work)
	} else {
		defer os.RemoveAll(work)
	}
	mod := filepath.Join(work, "usermod")
	if err := writeUserModule(repo, mod); err != nil {
		return err
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if _, err := goCmd(mod, env, "mod", "tidy"); err != nil {
		return err
	}
	graph, err := goCmd(mod, env, "list", "-m", "all")
	if err != nil {
		return err
	}
	modCache, err := goCmd(mod, env, "env", "GOMODCACHE")
	if err != nil {
		return err
	}
	variants := []variant{
		{name: "baseline (Atlas SDK + httptest)", pkg: "./baseline"},
		{name: "snapexporttest", pkg: "./backups"},
		{name: "snapexporttest -tags " + localBucketTag, pkg: "./backups", tags: localBucketTag},
	}
	results := make([]figures, len(variants))
	for i, v := range variants {
		f, err := measure(mod, env, strings.TrimSpace(modCache), filepath.Join(work, fmt.Sprintf("gocache%d", i)), v)
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		results[i] = f
	}
	fmt.Printf("user module: %d modules in its graph (go list -m all)\n\n", len(nonEmptyLines(graph)))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "test binary\tmodules built\tdownload\tfirst build\tbuild ratio")
	base := results[0]
	for i, v := range variants {
		f := results[i]
		fmt.Fprintf(tw, "%s\t%d\t%.1f MiB\t%.1f s\t%.2f×\n", v.name, len(f.modules)+f.missing,
			float64(f.download)/(1<<20), f.build.Seconds(), f.build.Seconds()/base.build.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("\n(download: the modules' zips, snapexport itself excluded; first build: go test -c with an empty build cache and the standard library built)\n")
	for i, v := range variants[1:] {
		fmt.Printf("\nlargest downloads of %s:\n", v.name)
		f := results[i+1]
		sort.Slice(f.modules, func(a, b int) bool { return f.sizes[f.modules[a]] > f.sizes[f.modules[b]] })
		for _, m := range f.modules[:min(6, len(f.modules))] {
			fmt.Printf("  %6.1f MiB  %s\n", float64(f.sizes[m])/(1<<20), m)
		}
	}
	return nil
}

// writeUserModule writes a module requiring snapexport (replaced by repo)
// with the baseline test and the docs' snapexporttest example.
func writeUserModule(repo, dir string) error {
	example, err := docsTest(filepath.Join(repo, docsExample))
	if err != nil {
		return err
	}
	goMod := fmt.Sprintf("module example.com/usermod\n\ngo 1.26\n\nrequire (\n\tgithub.com/snapexport/snapexport v0.0.0\n\t%s %s\n)\n\nreplace github.com/snapexport/snapexport => %s\n",
		atlasSDK, atlasSDKVer, repo)
	files := map[string]string{
		"go.mod":                    goMod,
		"baseline/baseline_test.go": baselineTest,
		"backups/backups_test.go":   example,
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// docsTest returns the Go block following the compiles marker in path.
func docsTest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	_, after, ok := strings.Cut(string(data), docsMarker)
	if !ok {
		return "", fmt.Errorf("%s: no %s", path, docsMarker)
	}
	_, after, ok = strings.Cut(after, "```go\n")
	if !ok {
		return "", fmt.Errorf("%s: no go block after %s", path, docsMarker)
	}
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		return "", fmt.Errorf("%s: the go block after %s does not end", path, docsMarker)
	}
	return block, nil
}

func measure(mod string, env []string, modCache, gocache string, v variant) (figures, error) {
	f := figures{sizes: map[string]int64{}}
	args := []string{"list", "-deps", "-test", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}"}
	if v.tags != "" {
		args = append(args, "-tags", v.tags)
	}
	out, err := goCmd(mod, env, append(args, v.pkg)...)
	if err != nil {
		return f, err
	}
	seen := map[string]bool{}
	for _, m := range nonEmptyLines(out) {
		if seen[m] {
			continue
		}
		seen[m] = true
		path, version, _ := strings.Cut(m, "@")
		zip := filepath.Join(modCache, "cache", "download", escape(path), "@v", escape(version)+".zip")
		info, err := os.Stat(zip)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			f.missing++
			continue
		case err != nil:
			return f, err
		}
		f.modules = append(f.modules, m)
		f.sizes[m] = info.Size()
		f.download += info.Size()
	}
	sort.Strings(f.modules)

	cacheEnv := append(env[:len(env):len(env)], "GOCACHE="+gocache)
	if _, err := goCmd(mod, cacheEnv, "build", "std"); err != nil {
		return f, err
	}
	build := []string{"test", "-c", "-o", filepath.Join(gocache, "x.test")}
	if v.tags != "" {
		build = append(build, "-tags", v.tags)
	}
	start := time.Now()
	if _, err := goCmd(mod, cacheEnv, append(build, v.pkg)...); err != nil {
		return f, err
	}
	f.build = time.Since(start)
	return f, nil
}

// escape is the module cache's case encoding: an upper-case letter becomes
// '!' and its lower case.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func goCmd(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func nonEmptyLines(s string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
