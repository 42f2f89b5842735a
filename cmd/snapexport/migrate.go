package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/snapexport/snapexport/internal/redact"

	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/sqlite"
)

const migrateUsage = `usage: snapexport migrate <status|up> [--data DIR | --database URL] [--config FILE] [--json]

  status  print the schema version of the database and of this program, and
          the migrations that up would apply; changes nothing
  up      apply the pending migrations (serve and init also apply them when
          they start; up lets an operator do it first, e.g. before rolling
          out new replicas on PostgreSQL)

The database is PostgreSQL when --database, $SNAPEXPORT_DATABASE or the
configuration file's database: names a postgres:// URL, else the SQLite
database of the data directory. Run "snapexport migrate status -h" for the
flags.
`

// migrateOutput is what `migrate status|up --json` prints.
type migrateOutput struct {
	// Backend is "sqlite" or "postgres".
	Backend string `json:"backend"`
	// Database is the SQLite file, or the PostgreSQL URL without its
	// password.
	Database string `json:"database"`
	// Schema is the PostgreSQL schema holding the tables.
	Schema string `json:"schema,omitempty"`
	// DatabaseVersion is the database's schema version (after up).
	DatabaseVersion int `json:"databaseVersion"`
	// ProgramVersion is the schema version this program works with.
	ProgramVersion int `json:"programVersion"`
	// Pending are the migrations that up would apply.
	Pending []string `json:"pending"`
	// Applied are the migrations this run of up applied.
	Applied []string `json:"applied,omitempty"`
	// UpToDate: the database is at this program's version.
	UpToDate bool `json:"upToDate"`
	// DatabaseNewer: a newer snapexport migrated the database; this one
	// refuses to serve it.
	DatabaseNewer bool `json:"databaseNewer"`
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "up") {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprint(stdout, migrateUsage)
			return nil
		}
		fmt.Fprint(stderr, migrateUsage)
		if len(args) == 0 {
			return usageError{"migrate needs an action: status or up"}
		}
		return usageError{fmt.Sprintf("unknown migrate action %q", args[0])}
	}
	return named("migrate "+args[0], runMigrateAction(ctx, args[0], args[1:], stdout, stderr))
}

// runMigrateAction runs migrate status or migrate up.
func runMigrateAction(ctx context.Context, action string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate "+action, stderr)
	configPath := fs.String("config", "", "configuration file (YAML): its data, database and postgres settings; flags override it")
	dataDir := fs.String("data", defaultDataDir, "data directory (SQLite)")
	db := databaseFlag(fs)
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	file, given, err := loadConfig(fs, *configPath)
	if err != nil {
		return err
	}
	if !given["data"] && file.Data != "" {
		*dataDir = file.Data
	}
	dbURL := database(*db, file.Database)
	if dbURL != "" && !postgres.IsURL(dbURL) {
		return usageError{fmt.Sprintf("--database %q: want a postgres:// URL, or none for SQLite in the data directory", redact.URL(dbURL))}
	}
	pgOptions, err := file.PostgresOptions()
	if err != nil {
		return usageError{err.Error()}
	}

	var out migrateOutput
	if dbURL != "" {
		out, err = migratePostgres(ctx, action, dbURL, pgOptions)
	} else {
		out, err = migrateSQLite(ctx, action, *dataDir)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	printMigrate(stdout, action, out)
	return nil
}

// finish fills in what follows from the versions.
func (o *migrateOutput) finish(names []string) {
	o.ProgramVersion = len(names)
	o.Pending = []string{}
	if o.DatabaseVersion < len(names) {
		o.Pending = names[o.DatabaseVersion:]
	}
	o.UpToDate = o.DatabaseVersion == o.ProgramVersion
	o.DatabaseNewer = o.DatabaseVersion > o.ProgramVersion
}

func migratePostgres(ctx context.Context, action, dbURL string, opts postgres.Options) (migrateOutput, error) {
	out := migrateOutput{Backend: "postgres", Database: redact.URL(dbURL)}
	before, schema, err := postgres.Version(ctx, dbURL, opts)
	if err != nil {
		return out, err
	}
	out.Schema, out.DatabaseVersion = schema, before
	if action == "up" {
		// Open applies the pending migrations, under an advisory lock
		// that replicas starting at the same time also take.
		db, err := postgres.Open(ctx, dbURL, opts)
		if err != nil {
			return out, err
		}
		db.Close()
		after, schema, err := postgres.Version(ctx, dbURL, opts)
		if err != nil {
			return out, err
		}
		out.Schema, out.DatabaseVersion = schema, after
		if names := postgres.Migrations(); after > before && after <= len(names) {
			out.Applied = names[before:after]
		}
	}
	out.finish(postgres.Migrations())
	return out, nil
}

func migrateSQLite(ctx context.Context, action, dataDir string) (migrateOutput, error) {
	file := filepath.Join(dataDir, sqlite.DatabaseFile)
	out := migrateOutput{Backend: "sqlite", Database: file}
	before, err := sqlite.Version(ctx, file)
	if errors.Is(err, fs.ErrNotExist) {
		// A mistyped --data must not quietly create an empty database.
		return out, fmt.Errorf("data directory %s is not initialized (no %s); run snapexport init --data %s first", dataDir, sqlite.DatabaseFile, dataDir)
	}
	if err != nil {
		return out, err
	}
	out.DatabaseVersion = before
	if action == "up" {
		db, err := sqlite.Open(ctx, file)
		if err != nil {
			return out, err
		}
		if err := db.Close(); err != nil {
			return out, err
		}
		after, err := sqlite.Version(ctx, file)
		if err != nil {
			return out, err
		}
		out.DatabaseVersion = after
		if names := sqlite.Migrations(); after > before && after <= len(names) {
			out.Applied = names[before:after]
		}
	}
	out.finish(sqlite.Migrations())
	return out, nil
}

func printMigrate(w io.Writer, action string, o migrateOutput) {
	where := o.Database
	switch {
	case o.Schema != "":
		where += " (schema " + o.Schema + ")"
	case o.Backend == "postgres":
		where += " (no schema of the search_path exists yet: create it, or use the default public)"
	}
	fmt.Fprintf(w, "database:        %s %s\n", o.Backend, where)
	if action == "up" {
		if len(o.Applied) == 0 {
			fmt.Fprintln(w, "applied:         nothing")
		}
		for _, name := range o.Applied {
			fmt.Fprintf(w, "applied:         %s\n", name)
		}
	}
	fmt.Fprintf(w, "schema version:  database %d, snapexport %d\n", o.DatabaseVersion, o.ProgramVersion)
	switch {
	case o.DatabaseNewer:
		fmt.Fprintln(w, "state:           the database is newer than this snapexport; upgrade snapexport")
	case o.UpToDate:
		fmt.Fprintln(w, "state:           up to date")
	default:
		fmt.Fprintf(w, "state:           %d migration(s) pending: %s; run snapexport migrate up\n", len(o.Pending), strings.Join(o.Pending, ", "))
	}
}
