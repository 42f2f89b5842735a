package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// migrateJSON runs `migrate ACTION --json` with args and decodes its output.
func migrateJSON(t *testing.T, action string, args ...string) migrateOutput {
	t.Helper()
	res := runInProcess(t, append([]string{"migrate", action, "--json"}, args...)...)
	if res.code != 0 {
		t.Fatalf("migrate %s %v: exit %d\n%s", action, args, res.code, res.stderr)
	}
	var out migrateOutput
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("migrate %s: not the JSON expected: %v\n%s", action, err, res.stdout)
	}
	return out
}

func wantMigrate(t *testing.T, what string, got migrateOutput, version int, pending, applied []string) {
	t.Helper()
	program := len(sqlite.Migrations())
	if got.Backend == "postgres" {
		program = postgres.SchemaVersion()
	}
	if got.DatabaseVersion != version || got.ProgramVersion != program || !slices.Equal(got.Pending, pending) ||
		!slices.Equal(got.Applied, applied) || got.UpToDate != (version == program) || got.DatabaseNewer != (version > program) {
		t.Errorf("%s: %+v; want database version %d, program %d, pending %v, applied %v", what, got, version, program, pending, applied)
	}
}

// undoLastSQLite and undoLastPostgres undo the last migration of each
// backend: SQLite's 0016_snapshot_leases.sql, PostgreSQL's
// 0017_snapshot_leases.sql.
const (
	undoLastSQLite   = "DROP INDEX snapshots_lease; ALTER TABLE snapshots DROP COLUMN runner; ALTER TABLE snapshots DROP COLUMN lease_until; "
	undoLastPostgres = "DROP INDEX snapshots_lease; ALTER TABLE snapshots DROP COLUMN runner, DROP COLUMN lease_until; "
)

// TestMigrate runs status and up on each backend: on a database one
// migration behind, up applies exactly that one; on a current one, nothing.
func TestMigrate(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		names := sqlite.Migrations()
		if len(names) < 2 || sqlite.SchemaVersion() != len(names) {
			t.Fatalf("sqlite migrations %v, version %d", names, sqlite.SchemaVersion())
		}
		last := names[len(names)-1]
		if last != "0016_snapshot_leases.sql" {
			t.Fatalf("the test undoes 0016_snapshot_leases.sql; the last migration is now %s", last)
		}
		dir := filepath.Join(t.TempDir(), "data")
		mustFail(t, 1, []string{"not initialized", dir}, "migrate", "status", "--data", dir)
		mustFail(t, 1, []string{"not initialized", dir}, "migrate", "up", "--data", dir)
		if res := runInProcess(t, "init", "--data", dir, "--json"); res.code != 0 {
			t.Fatalf("init: %s", res.stderr)
		}
		n := len(names)
		wantMigrate(t, "status after init", migrateJSON(t, "status", "--data", dir), n, []string{}, nil)

		// Undo the last migration, as if the database came from the
		// previous release.
		db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.DatabaseFile))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(undoLastSQLite + "PRAGMA user_version = " + strconv.Itoa(n-1)); err != nil {
			t.Fatal(err)
		}
		db.Close()
		wantMigrate(t, "status one behind", migrateJSON(t, "status", "--data", dir), n-1, []string{last}, nil)
		res := runInProcess(t, "migrate", "status", "--data", dir)
		if res.code != 0 || !strings.Contains(res.stdout, "1 migration(s) pending: "+last) || !strings.Contains(res.stdout, "database "+strconv.Itoa(n-1)+", snapexport "+strconv.Itoa(n)) {
			t.Errorf("migrate status:\n%s%s", res.stdout, res.stderr)
		}
		wantMigrate(t, "up", migrateJSON(t, "up", "--data", dir), n, []string{}, []string{last})
		wantMigrate(t, "up again", migrateJSON(t, "up", "--data", dir), n, []string{}, nil)
		res = runInProcess(t, "migrate", "status", "--data", dir)
		if res.code != 0 || !strings.Contains(res.stdout, "up to date") {
			t.Errorf("migrate status after up:\n%s%s", res.stdout, res.stderr)
		}
		// The migrated database serves.
		if res := runInProcess(t, "admin", "org", "list", "--data", dir, "--json"); res.code != 0 {
			t.Errorf("admin org list after migrate up: %s", res.stderr)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		u := pgtest.Schema(t, pgtest.URL(t))
		names := postgres.Migrations()
		n := len(names)
		if n < 2 || postgres.SchemaVersion() != n {
			t.Fatalf("postgres migrations %v, version %d", names, postgres.SchemaVersion())
		}
		// An empty schema: everything pending, nothing created by status.
		st := migrateJSON(t, "status", "--database", u)
		wantMigrate(t, "status of an empty schema", st, 0, names, nil)
		if st.Schema == "" || !strings.HasPrefix(st.Schema, "t_") {
			t.Errorf("status names schema %q", st.Schema)
		}
		if strings.Contains(st.Database, passwordOf(t, u)) {
			t.Errorf("status shows the password: %s", st.Database)
		}
		wantMigrate(t, "status again", migrateJSON(t, "status", "--database", u), 0, names, nil)
		wantMigrate(t, "up", migrateJSON(t, "up", "--database", u), n, []string{}, names)
		wantMigrate(t, "up again", migrateJSON(t, "up", "--database", u), n, []string{}, nil)

		// From $SNAPEXPORT_DATABASE too, and init then finds the tables.
		t.Setenv("SNAPEXPORT_DATABASE", u)
		wantMigrate(t, "status from the environment", migrateJSON(t, "status"), n, []string{}, nil)
		if res := runInProcess(t, "init", "--data", t.TempDir(), "--json"); res.code != 0 {
			t.Fatalf("init after migrate up: %s", res.stderr)
		}

		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, undoLastPostgres+"DELETE FROM schema_migrations WHERE version = "+strconv.Itoa(n)); err != nil {
			t.Fatal(err)
		}
		wantMigrate(t, "status one behind", migrateJSON(t, "status"), n-1, names[n-1:], nil)
		wantMigrate(t, "up one", migrateJSON(t, "up"), n, []string{}, names[n-1:])

		// A database from a newer snapexport: status says so, up refuses.
		if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", n+1); err != nil {
			t.Fatal(err)
		}
		st = migrateJSON(t, "status")
		if !st.DatabaseNewer || st.UpToDate || st.DatabaseVersion != n+1 {
			t.Errorf("status of a newer database: %+v", st)
		}
		res := runInProcess(t, "migrate", "status")
		if !strings.Contains(res.stdout, "newer than this snapexport") {
			t.Errorf("migrate status of a newer database:\n%s", res.stdout)
		}
		mustFail(t, 1, []string{"newer", strconv.Itoa(n + 1)}, "migrate", "up")
	})

	t.Run("usage", func(t *testing.T) {
		mustFail(t, 2, []string{"status or up"}, "migrate")
		mustFail(t, 2, []string{"down"}, "migrate", "down")
		mustFail(t, 2, []string{"postgres://"}, "migrate", "status", "--database", "mysql://x")
		mustFail(t, 2, []string{"unexpected argument"}, "migrate", "status", "extra")
	})
}

func passwordOf(t *testing.T, u string) string {
	t.Helper()
	i, j := strings.Index(u, "://"), strings.Index(u, "@")
	if i < 0 || j < i {
		return "\x00"
	}
	_, pw, ok := strings.Cut(u[i+3:j], ":")
	if !ok || pw == "" {
		return "\x00"
	}
	return pw
}
