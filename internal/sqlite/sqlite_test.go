package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
	"github.com/snapexport/snapexport/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) snapexport.Store {
		return open(t, filepath.Join(t.TempDir(), "snapexport.db"))
	})
}

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

// programVersion is the schema version this program migrates to.
func programVersion(t *testing.T) int {
	t.Helper()
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded migrations: %v, %d files", err, len(names))
	}
	return len(names)
}

// raw opens the file directly, around the DB type.
// migrateTo applies the first version migrations to db, which is at
// version 0, as a program of that schema version did.
func migrateTo(t *testing.T, db *sql.DB, version int) {
	t.Helper()
	for _, name := range Migrations()[:version] {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(version)); err != nil {
		t.Fatal(err)
	}
}

func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db := raw(t, path)
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// schema is the database's schema as SQLite records it.
func schema(t *testing.T, path string) string {
	t.Helper()
	db := raw(t, path)
	defer db.Close()
	rows, err := db.Query("SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		b.WriteString(typ + " " + name + ": " + text + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	testOrg     = &snapexport.Organization{ID: "6500000000000000000000a1", Name: "org", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6_000, time.UTC)}
	testProject = &snapexport.Project{ID: "6500000000000000000000b1", OrgID: testOrg.ID, Name: "project", CreatedAt: time.Date(2026, 1, 2, 3, 4, 6, 7_891, time.UTC)}
)

func writeFixture(t *testing.T, db *DB) {
	t.Helper()
	err := db.Write(context.Background(), func(tx snapexport.Tx) error {
		if err := tx.CreateOrganization(context.Background(), testOrg); err != nil {
			return err
		}
		return tx.CreateProject(context.Background(), testProject)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkFixture(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	err := db.Read(ctx, func(tx snapexport.Tx) error {
		o, err := tx.Organization(ctx, testOrg.ID)
		if err != nil {
			return err
		}
		p, err := tx.Project(ctx, testProject.ID)
		if err != nil {
			return err
		}
		// SQLite keeps nanoseconds.
		if o.Name != testOrg.Name || !o.CreatedAt.Equal(testOrg.CreatedAt) {
			t.Errorf("organization = %+v, want %+v", o, testOrg)
		}
		if *p != *testProject {
			t.Errorf("project = %+v, want %+v", p, testProject)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the fixture: %v", err)
	}
}

// fixtureDatabase writes the fixture into a fresh database file, closed,
// and returns its path.
func fixtureDatabase(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapexport.db")
	db := open(t, path)
	writeFixture(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMigrationsIdempotentAcrossReopen(t *testing.T) {
	path := fixtureDatabase(t)
	want := programVersion(t)
	if v := userVersion(t, path); v != want {
		t.Fatalf("user_version after first Open = %d, want %d", v, want)
	}
	first := schema(t, path)
	for i := range 3 {
		db := open(t, path)
		checkFixture(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if v := userVersion(t, path); v != want {
			t.Fatalf("user_version after reopen %d = %d, want %d", i+1, v, want)
		}
		if s := schema(t, path); s != first {
			t.Fatalf("schema changed on reopen %d:\nbefore:\n%s\nafter:\n%s", i+1, first, s)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := fixtureDatabase(t)
	program := programVersion(t)
	newer := program + 1
	r := raw(t, path)
	if _, err := r.Exec("PRAGMA user_version = " + strconv.Itoa(newer)); err != nil {
		t.Fatal(err)
	}
	r.Close()

	db, err := Open(context.Background(), path)
	if err == nil {
		db.Close()
		t.Fatalf("Open of a database at schema version %d succeeded; this program knows %d", newer, program)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("Open error %q does not name the file %s", msg, path)
	}
	// Both versions appear as numbers of their own (the path aside).
	words := strings.FieldsFunc(strings.ReplaceAll(msg, path, ""), func(r rune) bool { return r < '0' || r > '9' })
	for _, v := range []int{newer, program} {
		if !slices.Contains(words, strconv.Itoa(v)) {
			t.Errorf("Open error %q does not name version %d", msg, v)
		}
	}
	// The refused database is left as it was.
	if v := userVersion(t, path); v != newer {
		t.Errorf("user_version after the refused Open = %d, want %d", v, newer)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapexport.db")
	db := open(t, path)
	writeFixture(t, db)
	ctx := context.Background()
	// A used nonce is durable state too: a restarted server must still
	// reject a replay of it.
	keep := time.Now().Add(time.Hour)
	if err := db.Nonces().UseNonce(ctx, "used", keep, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, path)
	defer db.Close()
	checkFixture(t, db)
	if err := db.Nonces().UseNonce(ctx, "used", keep, time.Now()); !errors.Is(err, snapexport.ErrConflict) {
		t.Errorf("UseNonce(used before reopen) = %v; want ErrConflict", err)
	}
}

// TestTimesKeepNanoseconds checks the SQLite encoding of times beyond what
// the backend-neutral suite demands (microseconds).
func TestTimesKeepNanoseconds(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "snapexport.db"))
	defer db.Close()
	ctx := context.Background()
	at := time.Date(2026, 7, 8, 9, 10, 11, 123456789, time.FixedZone("", -7*3600))
	o := &snapexport.Organization{ID: "6500000000000000000000c1", Name: "ns", CreatedAt: at}
	if err := db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
		t.Fatal(err)
	}
	err := db.Read(ctx, func(tx snapexport.Tx) error {
		got, err := tx.Organization(ctx, o.ID)
		if err != nil {
			return err
		}
		if !got.CreatedAt.Equal(at) {
			t.Errorf("CreatedAt = %s, want %s", got.CreatedAt.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrationGivesClustersTheDefaultPolicy: clusters registered before
// backup policies were kept get Atlas's default policy when the database
// is migrated.
func TestMigrationGivesClustersTheDefaultPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapexport.db")
	db := raw(t, path)
	const before = 6 // the last migration without backup policies
	migrateTo(t, db, before)
	created := []time.Time{time.Date(2026, 8, 10, 3, 2, 50, 0, time.UTC), time.Date(2025, 1, 31, 23, 59, 59, 999_999_999, time.UTC)}
	for _, stmt := range []string{
		`INSERT INTO organizations (id, name, created_at) VALUES ('6500000000000000000000a1', 'org', '` + sqlrow.FormatTime(created[0]) + `')`,
		`INSERT INTO projects (id, org_id, name, created_at) VALUES ('6500000000000000000000b1', '6500000000000000000000a1', 'project', '` + sqlrow.FormatTime(created[0]) + `')`,
		`INSERT INTO clusters (id, project_id, name, cluster_type, mongodb_version, created_at)
			VALUES ('6500000000000000000000c1', '6500000000000000000000b1', 'one', 'REPLICASET', '8.0.0', '` + sqlrow.FormatTime(created[0]) + `'),
			('6500000000000000000000c2', '6500000000000000000000b1', 'two', 'REPLICASET', '8.0.0', '` + sqlrow.FormatTime(created[1]) + `')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	store := open(t, path)
	defer store.Close()
	storetest.WantDefaultSchedules(t, store, "6500000000000000000000b1", "one", "two")
	storetest.WantMigratedClusters(t, store, "6500000000000000000000b1", "one", "two")
}

// TestClusterRegionsMigration: a cluster registered before clusters had a
// provider, region and instance size reads back with the defaults of
// `admin cluster create` once the database is migrated.
func TestClusterRegionsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v6.db")
	r := raw(t, path)
	migrateTo(t, r, 6)
	now := sqlrow.FormatTime(time.Now())
	for _, q := range []string{
		`INSERT INTO organizations (id, name, created_at) VALUES ('o', 'org', '` + now + `')`,
		`INSERT INTO projects (id, org_id, name, created_at) VALUES ('p', 'o', 'project', '` + now + `')`,
		`INSERT INTO clusters (id, project_id, name, cluster_type, mongodb_version, shards, created_at)
			VALUES ('c', 'p', 'Cluster0', 'REPLICASET', '8.0.4', '[{"id":"s","replicaSetName":"Cluster0-shard-0"}]', '` + now + `')`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	r.Close()

	db := open(t, path)
	defer db.Close()
	var c *snapexport.Cluster
	err := db.Read(context.Background(), func(tx snapexport.Tx) error {
		var err error
		c, err = tx.Cluster(context.Background(), "p", "Cluster0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Provider != snapexport.AWS || c.Region != "US_EAST_1" || c.InstanceSize != "M10" || c.MongoDBVersion != "8.0.4" || c.Shards[0].ReplicaSetName != "Cluster0-shard-0" {
		t.Errorf("migrated cluster %+v, want AWS US_EAST_1 M10 and its other fields kept", c)
	}
}
