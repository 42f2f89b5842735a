package sqlite

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

var update = flag.Bool("update", false, "rewrite newdatabase.sql and newdatabase.db.gz from the migrations")

// TestNewDatabaseSchema: a new database made by newdatabase.sql is the
// database every migration and then River's make one by one: the same
// schema, the same user_version, River's migrations recorded as applied
// (its migrator finds nothing to do) and no rows of data, whether made
// from the embedded image (a missing file) or by the script (an empty
// file). With -update it rewrites newdatabase.sql from the migrations and
// newdatabase.db.gz from the script.
func TestNewDatabaseSchema(t *testing.T) {
	stepwise := filepath.Join(t.TempDir(), "stepwise.db")
	migrateStepwise(t, stepwise)
	script := schemaScript(t, stepwise)
	if *update {
		if err := os.WriteFile("newdatabase.sql", []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		newDatabase = script
		if err := os.WriteFile("newdatabase.db.gz", imageOfScript(t), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("newdatabase.db.gz rewritten: run the test again without -update to check it")
		return
	} else if script != newDatabase {
		t.Fatal("newdatabase.sql is not the schema the migrations make: run go test ./internal/sqlite -run TestNewDatabaseSchema -update")
	}

	// A missing file is made from the image; an empty one (left by a
	// process that stopped before making it) by the script.
	for _, made := range []string{"image", "script"} {
		t.Run(made, func(t *testing.T) {
			fresh := filepath.Join(t.TempDir(), DatabaseFile)
			if made == "script" {
				if err := os.WriteFile(fresh, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			checkNewDatabase(t, fresh, stepwise)
			if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("database file %v, %v; want mode 0600", fi.Mode(), err)
			}
		})
	}
}

// imageOfScript is a database newdatabase.sql made, checkpointed and
// compressed: the content of newdatabase.db.gz.
func imageOfScript(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the database's WAL is left after it closed (%v): its image would miss what the WAL holds", err)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// checkNewDatabase opens a backend on the new database file fresh and
// checks it against the database the migrations made one by one at
// stepwise.
func checkNewDatabase(t *testing.T, fresh, stepwise string) {
	t.Helper()
	ctx := context.Background()
	b, err := OpenBackend(ctx, filepath.Dir(fresh))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Store.(*DB).made {
		t.Errorf("Open did not report the database made: River's migrator would run")
	}
	if !b.Made {
		t.Errorf("the backend of a database its open made: Made false, want true")
	}
	if err := b.Queue.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	b.Close()
	again, err := OpenBackend(ctx, filepath.Dir(fresh))
	if err != nil {
		t.Fatal(err)
	}
	if again.Made {
		t.Errorf("the backend of a database made by an earlier open: Made true, want false")
	}
	again.Close()
	var check string
	if err := raw(t, fresh).QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check of a new database: %q, %v", check, err)
	}
	var mode string
	if err := raw(t, fresh).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode of a new database: %q, %v; want wal", mode, err)
	}
	if got, want := schema(t, fresh), schema(t, stepwise); got != want {
		t.Errorf("schema of a new database:\n%s\nwant, as the migrations make it:\n%s", got, want)
	}
	if got, want := userVersion(t, fresh), programVersion(t); got != want {
		t.Errorf("user_version of a new database = %d, want %d", got, want)
	}
	if got, want := riverVersions(t, fresh), riverVersions(t, stepwise); got != want {
		t.Errorf("River migrations recorded = %s, want %s", got, want)
	}
	res, err := rivermigrate.New(riversqlite.New(raw(t, fresh)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := res.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true}); err != nil {
		t.Fatal(err)
	} else if len(plan.Versions) > 0 {
		t.Errorf("River would still apply %d migrations to a new database", len(plan.Versions))
	}
}

// migrateStepwise applies every migration and then River's to a new
// database file at path, one by one, as an upgrade from the first version
// would.
func migrateStepwise(t *testing.T, path string) {
	t.Helper()
	db := raw(t, path)
	for _, name := range Migrations() {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", programVersion(t))); err != nil {
		t.Fatal(err)
	}
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(context.Background(), rivermigrate.DirectionUp, nil); err != nil {
		t.Fatalf("River's migrations: %v", err)
	}
}

// schemaScript is the script that makes the schema of the database at
// path: its tables, indexes and triggers in the order they were made, and
// River's applied migrations. The database must hold no other rows.
func schemaScript(t *testing.T, path string) string {
	t.Helper()
	db := raw(t, path)
	var b strings.Builder
	b.WriteString("-- The schema of a new database: every migration in migrations/ and then\n" +
		"-- River's, applied. Made by: go test ./internal/sqlite -run TestNewDatabaseSchema -update\n\n")
	var tables []string
	err := eachRow(db, "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid", func(rows *sql.Rows) error {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			return err
		}
		if typ == "table" {
			tables = append(tables, name)
		}
		b.WriteString(text + ";\n\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 && table != "river_migration" {
			t.Fatalf("the migrations leave %d rows in %s: newdatabase.sql would need them too", n, table)
		}
	}
	var versions []string
	err = eachRow(db, "SELECT line, version FROM river_migration ORDER BY line, version", func(rows *sql.Rows) error {
		var line string
		var version int
		if err := rows.Scan(&line, &version); err != nil {
			return err
		}
		versions = append(versions, fmt.Sprintf("('%s', %d)", line, version))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("INSERT INTO river_migration (line, version) VALUES\n\t" + strings.Join(versions, ",\n\t") + ";\n")
	return b.String()
}

// riverVersions lists River's migrations recorded in the database at path.
func riverVersions(t *testing.T, path string) string {
	t.Helper()
	var s string
	if err := raw(t, path).QueryRow("SELECT group_concat(line || ' ' || version, ', ') FROM (SELECT line, version FROM river_migration ORDER BY line, version)").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func eachRow(db *sql.DB, query string, fn func(*sql.Rows) error) error {
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// TestNewDatabaseOpenedTogether opens one missing database file from
// several goroutines at once, each writing once it is open, as processes
// starting together on a new data directory do: every Open succeeds, one
// of them puts the image in place and the others use it (no file put
// over another's, so no write lost), and no temporary file is left.
func TestNewDatabaseOpenedTogether(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, DatabaseFile)
	const openers = 8
	dbs := make([]*DB, openers)
	errs := make([]error, openers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range openers {
		wg.Go(func() {
			<-start
			if dbs[i], errs[i] = Open(ctx, path); errs[i] == nil {
				errs[i] = createOrganization(ctx, dbs[i], organization(i))
			}
		})
	}
	close(start)
	wg.Wait()
	placed := 0
	for i, db := range dbs {
		if errs[i] != nil {
			t.Errorf("opener %d: %v", i, errs[i])
		}
		if db != nil {
			if db.made {
				placed++
			}
			defer db.Close()
		}
	}
	if placed != 1 {
		t.Errorf("%d openers made the database, want exactly one", placed)
	}
	ids := make([]string, openers)
	for i := range ids {
		ids[i] = organization(i).ID
	}
	db := open(t, path)
	defer db.Close()
	stored := 0
	for _, ok := range organizationsIn(t, db, ids...) {
		if ok {
			stored++
		}
	}
	if stored != openers {
		t.Errorf("the organizations each opener wrote: %d of %d are in the database", stored, openers)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".new-") {
			t.Errorf("temporary file %s left in the data directory", e.Name())
		}
	}
}
