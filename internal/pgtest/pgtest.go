// Package pgtest gives tests a PostgreSQL database to run against: the server
// named by SNAPEXPORT_TEST_POSTGRES_URL (scripts/postgres start prints such a
// URL), and a fresh schema of it per test.
//
// Without SNAPEXPORT_TEST_POSTGRES_URL the tests that need PostgreSQL are
// skipped, except in CI (CI=true), where they fail: a CI run must not pass
// by skipping the PostgreSQL backend.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable holding the server's URL.
const EnvURL = "SNAPEXPORT_TEST_POSTGRES_URL"

// URL returns the URL of the test server, skipping the test when there is
// none, or failing it when CI=true.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(EnvURL + " not set; in CI the PostgreSQL tests must run: start a server with " +
			"`scripts/postgres start DIR` and export the URL it prints as " + EnvURL)
	}
	t.Skip(EnvURL + " not set; run `export " + EnvURL + "=$(scripts/postgres start /tmp/pgtest-dev)` to run the PostgreSQL tests")
	return ""
}

// Schema creates a schema with a new name in the database at u, drops it
// (with everything in it) when the test ends, and returns u with its
// search_path set to that schema alone, so that whatever opens the returned
// URL lives there and unqualified names in SQL refer to it.
func Schema(t testing.TB, u string) string {
	t.Helper()
	name := schemaName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", redact(u), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() { Drop(t, u, name) })
	return WithSearchPath(t, u, name)
}

// Drop drops schema name, with everything in it, if it exists.
func Drop(t testing.TB, u, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Errorf("pgtest: connect to drop schema %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("pgtest: drop schema %s: %v", name, err)
	}
}

// WithSearchPath returns u with its search_path set to schema: a query
// parameter of a postgres:// URL, a keyword of a key=value string.
func WithSearchPath(t testing.TB, u, schema string) string {
	t.Helper()
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatalf("pgtest: %s: %v", EnvURL, err)
		}
		q := parsed.Query()
		q.Set("search_path", schema)
		parsed.RawQuery = q.Encode()
		return parsed.String()
	}
	return u + " search_path=" + schema
}

var unsafe = regexp.MustCompile(`[^a-z0-9]+`)

// schemaName is "t_", a readable part of the test's name and random hex:
// unique, and a plain lower-case identifier.
func schemaName(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	base := strings.Trim(unsafe.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	return "t_" + base + "_" + hex.EncodeToString(b)
}

// redact hides the password of u in messages.
func redact(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.User != nil {
		return parsed.Redacted()
	}
	return "the test server"
}
