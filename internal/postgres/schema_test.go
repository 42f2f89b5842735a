package postgres

import (
	"context"
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// TestSchemasAlike migrates a new SQLite database and a new PostgreSQL
// schema and compares the tables and columns they define: the stores share
// their row format (internal/sqlrow), so a table or column that one
// migration adds and the other forgets shows here, before a statement
// fails on it. Tables that are not the store's own (the job queue's
// river_*, the migration bookkeeping, SQLite's internal ones) are left out.
//
// The differences the stores are built with are listed in
// schemaDifferences; one that is gone fails the test too, so that the list
// stays true.
func TestSchemasAlike(t *testing.T) {
	pg := postgresColumns(t)
	lite := sqliteColumns(t)
	found := columnDifferences(lite, pg)
	for _, d := range found {
		if _, known := schemaDifferences[d]; !known {
			t.Error(d)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(schemaDifferences)) {
		if !slices.Contains(found, d) {
			t.Errorf("%s: no longer so; remove it from schemaDifferences", d)
		}
	}
}

// schemaDifferences are the differences between the schemas that the
// stores are built with, and why.
var schemaDifferences = map[string]string{
	"column organizations.seq: in PostgreSQL only":         "creation order breaking ties of created_at: SQLite has the rowid",
	"column api_keys.seq: in PostgreSQL only":              "creation order breaking ties of created_at: SQLite has the rowid",
	"column service_accounts.seq: in PostgreSQL only":      "creation order breaking ties of created_at: SQLite has the rowid",
	"column projects.removals: in SQLite only":             "SQLite counts a project's removals; PostgreSQL marks them with transaction ids",
	"table rate_limit_buckets: in PostgreSQL only":         "replicas share rate limits through the database; SQLite's one process keeps them in memory",
	"table list_count_changes: in PostgreSQL only":         "concurrent changes of a list add rows rather than update its count; SQLite's one writer updates it",
	"column export_buckets.packed: in SQLite only":         "a list page reads SQLite's rows packed in one column, which its driver hands over far faster than ten; pgx reads a row in one message",
	"column removed_export_buckets.packed: in SQLite only": "the removed rows a listing's page merges in are read packed too",
}

// columns maps each table to the set of its columns.
type columns map[string]map[string]bool

func (c columns) add(table, column string) {
	if c[table] == nil {
		c[table] = map[string]bool{}
	}
	c[table][column] = true
}

// storeColumns reads rows of (table, column) of the store's own tables.
func storeColumns(t *testing.T, rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) columns {
	t.Helper()
	out := columns{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		if storeTable(table) {
			out.add(table, column)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// storeTable reports whether table is one of the store's own.
func storeTable(table string) bool {
	return !strings.HasPrefix(table, "river_") && !strings.HasPrefix(table, "sqlite_") && table != "schema_migrations"
}

func sqliteColumns(t *testing.T) columns {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snapexport.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	db.Close()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	return storeColumns(t, rows)
}

func postgresColumns(t *testing.T) columns {
	t.Helper()
	ctx := context.Background()
	u := pgtest.Schema(t, pgtest.URL(t))
	open(t, u, Options{})
	rows, err := connect(t, u).Query(ctx, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := storeColumns(t, rows)
	if len(out) == 0 {
		t.Fatal("no tables in the migrated PostgreSQL schema")
	}
	return out
}

// columnDifferences lists, in order, each table and each column of a
// table that one schema has and the other has not.
func columnDifferences(lite, pg columns) []string {
	var out []string
	for _, table := range slices.Sorted(maps.Keys(lite)) {
		if pg[table] == nil {
			out = append(out, "table "+table+": in SQLite only")
			continue
		}
		for _, c := range slices.Sorted(maps.Keys(lite[table])) {
			if !pg[table][c] {
				out = append(out, "column "+table+"."+c+": in SQLite only")
			}
		}
		for _, c := range slices.Sorted(maps.Keys(pg[table])) {
			if !lite[table][c] {
				out = append(out, "column "+table+"."+c+": in PostgreSQL only")
			}
		}
	}
	for _, table := range slices.Sorted(maps.Keys(pg)) {
		if lite[table] == nil {
			out = append(out, "table "+table+": in PostgreSQL only")
		}
	}
	return out
}
