// Command snapexport serves the MongoDB Atlas Cloud Backup export API.
//
//	snapexport init  --data DIR [--json]
//	snapexport serve --data DIR --listen ADDR
//	snapexport admin …
//	snapexport migrate status|up [--data DIR | --database URL]
//	snapexport snapshot import --group ID --cluster NAME (--archive FILE|- | --dir DIR) …
//	snapexport export cancel|watch|verify --group ID --cluster NAME --export ID
//	snapexport version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	// The URL openers of the snapshot store's s3://, azblob:// and gs://
	// URLs (server.Config.SnapshotStore), which the test servers, keeping
	// snapshots in a folder, do not need.
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/backend"
	"github.com/snapexport/snapexport/internal/config"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/redact"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/sqlite"
)

const usage = `usage: snapexport <command> [flags]

commands:
  init      create the database, an organization, a project and owner credentials
  serve     serve the Atlas export API
  admin     manage organizations, projects, API keys, service accounts and roles
  migrate   show (status) or apply (up) the database's schema migrations
  snapshot  import mongodump output as a snapshot
  export    cancel, watch or verify an export job
  version   print the version and the commit of this program (also --version)

Run "snapexport <command> -h" (or "snapexport help <command>") for a
command's usage and flags. Exit status: 0 on success, 1 when the command
fails, 2 for a mistake in the command line, 3 when export watch --timeout
passes before the job ends.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "snapexport:", err)
		os.Exit(exitCode(err))
	}
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode is the exit status of a command that failed with err: 2 for
// a mistake in the command line, 3 when export watch gave up waiting, 1
// otherwise.
func exitCode(err error) int {
	var u usageError
	var timedOut watchTimedOut
	switch {
	case errors.As(err, &u):
		return 2
	case errors.As(err, &timedOut):
		return 3
	}
	return 1
}

// run runs the command line args (without the program name), as main
// does; an error names the command it comes from.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := runCommand(ctx, args, stdout, stderr)
	if help := (helpRequest{}); errors.As(err, &help) {
		fmt.Fprint(stdout, help.text)
		return nil
	}
	return err
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "init":
		return named("init", runInit(ctx, args[1:], stdout, stderr))
	case "serve":
		return named("serve", runServe(ctx, args[1:], stdout, stderr))
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "snapshot":
		return runSnapshot(ctx, args[1:], stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return named("version", runVersion(args[1:], stdout, stderr))
	case "help":
		if len(args) > 1 {
			// help export watch is export watch -h.
			return runCommand(ctx, append(args[1:len(args):len(args)], "-h"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// databaseFlag adds --database to a command that opens the store.
func databaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database", "", "postgres:// URL of the database (default $SNAPEXPORT_DATABASE, else SQLite in the data directory)")
}

// database resolves the store setting: the flag, else
// $SNAPEXPORT_DATABASE, else the configuration file's.
func database(flagValue, fileValue string) string {
	return setting(flagValue, "SNAPEXPORT_DATABASE", fileValue)
}

// snapshotStoreURL resolves the snapshot store setting as database does:
// the flag, else $SNAPEXPORT_SNAPSHOT_STORE, else the file's.
func snapshotStoreURL(flagValue, fileValue string) string {
	return setting(flagValue, "SNAPEXPORT_SNAPSHOT_STORE", fileValue)
}

// setting is the first of a flag's value, the environment variable env and
// the configuration file's value that is set.
func setting(flagValue, env, fileValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return fileValue
}

// withDatabase sets cfg.Backend to the database a command is given:
// PostgreSQL at a postgres:// URL, else SQLite in cfg.DataDir.
func withDatabase(cfg server.Config, database string, pg postgres.Options) (server.Config, error) {
	switch {
	case postgres.IsURL(database):
		cfg.Backend = func(ctx context.Context) (*backend.Backend, error) { return postgres.OpenBackend(ctx, database, pg) }
	case database != "":
		return cfg, fmt.Errorf("database %q: want a postgres:// URL, or none for SQLite in the data directory", redact.URL(database))
	default:
		dir := cfg.DataDir
		cfg.Backend = func(ctx context.Context) (*backend.Backend, error) { return sqlite.OpenBackend(ctx, dir) }
	}
	return cfg, nil
}

// openInstallation opens an existing installation for a command that acts
// on one: a mistyped --data must not quietly create an empty database.
func openInstallation(ctx context.Context, cfg server.Config, database string) (*server.Server, error) {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, sqlite.DatabaseFile)); database == "" && err != nil {
		return nil, fmt.Errorf("data directory %s is not initialized (no %s); run snapexport init --data %s first", cfg.DataDir, sqlite.DatabaseFile, cfg.DataDir)
	}
	cfg, err := withDatabase(cfg, database, postgres.Options{})
	if err != nil {
		return nil, err
	}
	return server.Open(ctx, cfg)
}

// apiFailure turns an Atlas error into the command's message: its
// detail, without the HTTP status and error code.
func apiFailure(err error) error {
	if e := (*snapexport.Error)(nil); errors.As(err, &e) {
		return errors.New(e.Detail)
	}
	return err
}

// loadConfig reads the --config file, when one is named, and reports which
// flags the command line set, since those win over the file.
func loadConfig(fs *flag.FlagSet, path string) (config.File, map[string]bool, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if path == "" {
		return config.File{}, given, nil
	}
	file, err := config.Load(path)
	return file, given, err
}

// mib formats a byte count, or a rate in bytes per second, in the one
// unit every command prints: MiB, to a tenth.
func mib[N int64 | float64](n N) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
