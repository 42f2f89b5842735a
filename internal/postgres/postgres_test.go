package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/ratelimit/limitertest"
	"github.com/snapexport/snapexport/internal/storetest"
)

func TestStore(t *testing.T) {
	base := pgtest.URL(t)
	storetest.Run(t, func(t *testing.T) snapexport.Store {
		db, err := Open(context.Background(), pgtest.Schema(t, base), Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db // the suite closes it
	})
}

// open opens u and closes the store when the test ends.
func open(t testing.TB, u string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// connect opens a plain connection, around the DB type.
func connect(t testing.TB, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// withParam returns u with the query parameter k set to v.
func withParam(t testing.TB, u, k, v string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	q.Set(k, v)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

func appliedVersions(t testing.TB, conn *pgx.Conn) []int {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

func wantAllVersions(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	var want []int
	for v := 1; v <= SchemaVersion(); v++ {
		want = append(want, v)
	}
	if got := appliedVersions(t, conn); !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}
}

var (
	testOrg = &snapexport.Organization{ID: "6500000000000000000000a1", Name: "org", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6_000, time.UTC)}
)

func createOrg(t testing.TB, db *DB, o *snapexport.Organization) {
	t.Helper()
	ctx := context.Background()
	if err := db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
}

func countOrgs(t testing.TB, db *DB) int {
	t.Helper()
	ctx := context.Background()
	var n int
	err := db.Read(ctx, func(tx snapexport.Tx) error {
		orgs, err := tx.ListOrganizations(ctx)
		n = len(orgs)
		return err
	})
	if err != nil {
		t.Fatalf("ListOrganizations: %v", err)
	}
	return n
}

func TestMigrationFiles(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || SchemaVersion() != len(ms) {
		t.Fatalf("%d migrations, SchemaVersion %d", len(ms), SchemaVersion())
	}
	// The two backends hold the same tables. The SQLite store keeps its
	// schema version in user_version, so versions need not match, but a
	// migration added there without its counterpart here shows.
	// A table built anew (created under another name, the old one
	// dropped, the new one renamed) counts once.
	tables := func(sqls []string) []string {
		re := regexp.MustCompile(`(?i)CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(\w+)|DROP\s+TABLE\s+(\w+)|ALTER\s+TABLE\s+(\w+)\s+RENAME\s+TO\s+(\w+)`)
		var out []string
		for _, s := range sqls {
			for _, m := range re.FindAllStringSubmatch(s, -1) {
				switch {
				case m[1] != "":
					out = append(out, strings.ToLower(m[1]))
				case m[2] != "":
					if i := slices.Index(out, strings.ToLower(m[2])); i >= 0 {
						out = slices.Delete(out, i, i+1)
					}
				default:
					if i := slices.Index(out, strings.ToLower(m[3])); i >= 0 {
						out[i] = strings.ToLower(m[4])
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	var pg []string
	for _, m := range ms {
		pg = append(pg, m.sql)
	}
	files, err := filepath.Glob(filepath.Join("..", "sqlite", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("SQLite migrations: %v, %d files", err, len(files))
	}
	var lite []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lite = append(lite, string(b))
	}
	// rate_limit_buckets is PostgreSQL's alone: one SQLite process
	// limits in memory. So is list_count_changes: SQLite's one writer
	// updates lists' counts in place.
	got := slices.DeleteFunc(tables(pg), func(s string) bool { return s == "rate_limit_buckets" || s == "list_count_changes" })
	if want := tables(lite); !slices.Equal(got, want) {
		t.Errorf("PostgreSQL migrations create tables %v; SQLite's %v", got, want)
	}
}

func TestMigrationsIdempotentAcrossReopen(t *testing.T) {
	u := pgtest.Schema(t, pgtest.URL(t))
	db := open(t, u, Options{})
	createOrg(t, db, testOrg)
	db.Close()
	conn := connect(t, u)
	for range 3 {
		db := open(t, u, Options{})
		if n := countOrgs(t, db); n != 1 {
			t.Errorf("after reopen: %d organizations, want 1", n)
		}
		db.Close()
		wantAllVersions(t, conn)
	}
}

func TestConcurrentOpen(t *testing.T) {
	base := pgtest.URL(t)
	run := func(t *testing.T, u string, opts Options) {
		const replicas = 4
		start := make(chan struct{})
		dbs := make([]*DB, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i := range replicas {
			wg.Go(func() {
				<-start
				dbs[i], errs[i] = Open(context.Background(), u, opts)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: Open: %v", i, err)
				continue
			}
			defer dbs[i].Close()
		}
		if t.Failed() {
			return
		}
		// Every replica works on the one schema.
		for i, db := range dbs {
			createOrg(t, db, &snapexport.Organization{ID: fmt.Sprintf("65000000000000000000000%d", i), Name: "org", CreatedAt: time.Now()})
		}
		for i, db := range dbs {
			if n := countOrgs(t, db); n != replicas {
				t.Errorf("replica %d sees %d organizations, want %d", i, n, replicas)
			}
		}
	}
	t.Run("SearchPathInURL", func(t *testing.T) {
		u := pgtest.Schema(t, base)
		run(t, u, Options{})
		wantAllVersions(t, connect(t, u))
	})
	t.Run("MissingSchemaInOptions", func(t *testing.T) {
		// Open creates the schema, once.
		name := fmt.Sprintf("t_concurrent_open_%d", time.Now().UnixNano())
		t.Cleanup(func() { pgtest.Drop(t, base, name) })
		run(t, base, Options{Schema: name})
		wantAllVersions(t, connect(t, pgtest.WithSearchPath(t, base, name)))
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	u := pgtest.Schema(t, pgtest.URL(t))
	db := open(t, u, Options{})
	createOrg(t, db, testOrg)
	db.Close()

	program := SchemaVersion()
	newer := program + 1
	conn := connect(t, u)
	if _, err := conn.Exec(context.Background(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", newer); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), u, Options{})
	if err == nil {
		db.Close()
		t.Fatalf("Open of a database at schema version %d succeeded; this program knows %d", newer, program)
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open error %v does not wrap ErrSchemaTooNew", err)
	}
	msg := err.Error()
	words := strings.FieldsFunc(msg, func(r rune) bool { return r < '0' || r > '9' })
	for _, v := range []int{newer, program} {
		if !slices.Contains(words, strconv.Itoa(v)) {
			t.Errorf("Open error %q does not name version %d", msg, v)
		}
	}
	if !strings.Contains(msg, "newer") || !strings.Contains(msg, "snapexport_test") {
		t.Errorf("Open error %q does not say the schema is newer, or does not name the database", msg)
	}
	if strings.Contains(msg, "password") || (strings.Contains(u, ":") && strings.Contains(msg, passwordOf(u))) {
		t.Errorf("Open error %q shows the password", msg)
	}
	t.Logf("Open: %v", err)
	// The refused database is left as it was.
	if got := appliedVersions(t, conn); got[len(got)-1] != newer || len(got) != newer {
		t.Errorf("versions after the refused Open = %v", got)
	}
}

func passwordOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.User == nil {
		return "\x00"
	}
	p, ok := parsed.User.Password()
	if !ok || p == "" {
		return "\x00"
	}
	return p
}

// TestConflictKeepsTransaction checks that ErrConflict leaves the
// transaction usable, as in SQLite (a unique violation would abort a
// PostgreSQL transaction).
func TestConflictKeepsTransaction(t *testing.T) {
	db := open(t, pgtest.Schema(t, pgtest.URL(t)), Options{})
	ctx := context.Background()
	createOrg(t, db, testOrg)
	p := &snapexport.Project{ID: "6500000000000000000000b1", OrgID: testOrg.ID, Name: "p", CreatedAt: time.Now()}
	err := db.Write(ctx, func(tx snapexport.Tx) error {
		err := tx.CreateOrganization(ctx, &snapexport.Organization{ID: testOrg.ID, Name: "again", CreatedAt: time.Now()})
		if !errors.Is(err, snapexport.ErrConflict) {
			t.Errorf("CreateOrganization(duplicate) = %v, want ErrConflict", err)
		}
		return tx.CreateProject(ctx, p)
	})
	if err != nil {
		t.Fatalf("Write going on after ErrConflict: %v", err)
	}
	err = db.Read(ctx, func(tx snapexport.Tx) error { _, err := tx.Project(ctx, p.ID); return err })
	if err != nil {
		t.Errorf("Project written after a conflict: %v", err)
	}
}

// TestSerializationRetry runs two Writes whose transactions cannot both
// commit as they ran (each reads what the other writes: a write skew, which
// SERIALIZABLE refuses). Both succeed, one of them at a second attempt that
// sees the other's write.
func TestSerializationRetry(t *testing.T) {
	base := pgtest.URL(t)
	for _, swallow := range []bool{false, true} {
		t.Run(fmt.Sprintf("fnSwallowsError=%v", swallow), func(t *testing.T) {
			db := open(t, pgtest.Schema(t, base), Options{})
			ctx := context.Background()
			createOrg(t, db, testOrg)
			var attempts atomic.Int32
			var firstRead sync.WaitGroup
			firstRead.Add(2)
			seen := make([][]int, 2)
			var mu sync.Mutex
			write := func(i int) error {
				first := true
				return db.Write(ctx, func(tx snapexport.Tx) error {
					attempts.Add(1)
					_, n, err := tx.ListProjects(ctx, []string{testOrg.ID}, nil, snapexport.Page{})
					if err != nil {
						return err
					}
					mu.Lock()
					seen[i] = append(seen[i], n)
					mu.Unlock()
					if first {
						// Both transactions have read before either writes.
						first = false
						firstRead.Done()
						firstRead.Wait()
					}
					err = tx.CreateProject(ctx, &snapexport.Project{ID: fmt.Sprintf("6500000000000000000000c%d", i), OrgID: testOrg.ID,
						Name: fmt.Sprintf("project %d of %d", n+1, i), CreatedAt: time.Now()})
					if swallow {
						return nil
					}
					return err
				})
			}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Go(func() { errs[i] = write(i) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Write %d: %v", i, err)
				}
			}
			if a := attempts.Load(); a < 3 {
				t.Errorf("%d attempts, want at least 3 (one retried)", a)
			}
			t.Logf("attempts %d; projects seen by the attempts of each Write: %v", attempts.Load(), seen)
			// One Write saw no project and committed; the other's last attempt saw it.
			last := []int{seen[0][len(seen[0])-1], seen[1][len(seen[1])-1]}
			slices.Sort(last)
			if !slices.Equal(last, []int{0, 1}) {
				t.Errorf("last attempts saw %v projects, want 0 and 1", last)
			}
			err := db.Read(ctx, func(tx snapexport.Tx) error {
				_, n, err := tx.ListProjects(ctx, []string{testOrg.ID}, nil, snapexport.Page{})
				if n != 2 {
					t.Errorf("%d projects, want 2", n)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("NoRetries", func(t *testing.T) {
		db := open(t, pgtest.Schema(t, base), Options{MaxRetries: -1})
		ctx := context.Background()
		createOrg(t, db, testOrg)
		var firstRead sync.WaitGroup
		firstRead.Add(2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				errs[i] = db.Write(ctx, func(tx snapexport.Tx) error {
					_, n, err := tx.ListProjects(ctx, []string{testOrg.ID}, nil, snapexport.Page{})
					if err != nil {
						return err
					}
					firstRead.Done()
					firstRead.Wait()
					return tx.CreateProject(ctx, &snapexport.Project{ID: fmt.Sprintf("6500000000000000000000d%d", i), OrgID: testOrg.ID,
						Name: fmt.Sprintf("project %d of %d", n+1, i), CreatedAt: time.Now()})
				})
			})
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				failed++
				if !isContention(err) || !IsUnavailable(err) {
					t.Errorf("Write: %v; want a serialization failure, for which IsUnavailable is true", err)
				}
			}
		}
		if failed != 1 {
			t.Errorf("%d of 2 conflicting Writes failed without retries, want 1: %v", failed, errs)
		}
	})
}

func TestLimiterSharedAcrossReplicas(t *testing.T) {
	u := pgtest.Schema(t, pgtest.URL(t))
	replicas := []*DB{open(t, u, Options{}), open(t, u, Options{})}
	ctx := context.Background()
	p := ratelimit.Policy{Name: "test", Capacity: 10, Refill: 1, Period: time.Hour}
	now := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)

	const takes = 20
	decisions := make([]ratelimit.Decision, takes)
	errs := make([]error, takes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range takes {
		wg.Go(func() {
			<-start
			decisions[i], errs[i] = replicas[i%2].Limiter().Take(ctx, ratelimit.ProjectKey("project-1"), p, now)
		})
	}
	close(start)
	wg.Wait()
	var remaining []int
	allowedBy := [2]int{}
	for i, d := range decisions {
		if errs[i] != nil {
			t.Fatalf("Take: %v", errs[i])
		}
		if d.Allowed {
			remaining = append(remaining, d.Remaining)
			allowedBy[i%2]++
		} else if d.RetryAfter <= 0 || d.RetryAfter > p.Period {
			t.Errorf("refused with RetryAfter %v", d.RetryAfter)
		}
	}
	slices.Sort(remaining)
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(remaining, want) {
		t.Errorf("%d concurrent Takes from two replicas, capacity %d: allowed with Remaining %v, want %v", takes, p.Capacity, remaining, want)
	}
	t.Logf("allowed per replica: %v", allowedBy)

	take := func(db *DB, key string, at time.Time) ratelimit.Decision {
		t.Helper()
		d, err := db.Limiter().Take(ctx, ratelimit.ProjectKey(key), p, at)
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		return d
	}
	// Either replica peeks at the shared bucket without spending from it.
	for _, db := range replicas {
		if d, err := db.Limiter().Peek(ctx, ratelimit.ProjectKey("project-1"), p, now); err != nil || d.Allowed || d.Remaining != 0 {
			t.Errorf("Peek of the emptied bucket = %+v, %v; want refused, 0 remaining", d, err)
		}
	}
	if d, err := replicas[1].Limiter().Peek(ctx, ratelimit.ProjectKey("project-never-used"), p, now); err != nil || !d.Allowed || d.Remaining != 10 {
		t.Errorf("Peek of a missing bucket = %+v, %v; want full", d, err)
	}
	// Another key has a bucket of its own.
	if d := take(replicas[0], "project-2", now); !d.Allowed || d.Remaining != 9 {
		t.Errorf("Take(other key) = %+v, want allowed with 9 remaining", d)
	}
	// One token refills after Period/Refill, for either replica.
	if d := take(replicas[1], "project-1", now.Add(time.Hour-time.Nanosecond)); d.Allowed {
		t.Errorf("Take 1ns before the refill = %+v, want refused", d)
	}
	if d := take(replicas[0], "project-1", now.Add(time.Hour)); !d.Allowed || d.Remaining != 0 {
		t.Errorf("Take at the refill = %+v, want allowed with 0 remaining", d)
	}
	if d := take(replicas[1], "project-1", now.Add(time.Hour)); d.Allowed {
		t.Errorf("second Take at the refill, other replica = %+v, want refused", d)
	}
	// A replica whose clock lags mints nothing: the bucket's time stays.
	if d := take(replicas[1], "project-1", now.Add(time.Minute)); d.Allowed {
		t.Errorf("Take from a lagging clock = %+v, want refused", d)
	}

	// Buckets full again are swept.
	l := replicas[0].limiter
	l.calls.Store(sweepEvery - 1)
	take(replicas[0], "project-3", now.Add(100*time.Hour))
	var n int
	if err := replicas[0].pool.QueryRow(ctx, "SELECT count(*) FROM rate_limit_buckets").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d buckets after a sweep long after the others refilled, want 1 (the new one)", n)
	}
}

// TestLimiter runs the limiters' conformance suite, each run in a schema of
// its own.
func TestLimiter(t *testing.T) {
	u := pgtest.URL(t)
	limitertest.Run(t, func(t *testing.T) ratelimit.Limiter {
		return open(t, pgtest.Schema(t, u), Options{}).Limiter()
	})
}

func TestStatementTimeout(t *testing.T) {
	db := open(t, pgtest.Schema(t, pgtest.URL(t)), Options{StatementTimeout: 100 * time.Millisecond})
	ctx := context.Background()
	err := db.Read(ctx, func(t snapexport.Tx) error {
		_, err := t.(*tx).tx.Exec(ctx, "SELECT pg_sleep(2)")
		return err
	})
	if pgCode(err) != "57014" {
		t.Fatalf("a statement over the timeout: %v, want SQLSTATE 57014", err)
	}
	if IsUnavailable(err) {
		t.Errorf("IsUnavailable(statement timeout) = true")
	}
	if n := countOrgs(t, db); n != 0 {
		t.Errorf("%d organizations", n)
	}
}

func TestIsUnavailable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("other"), false},
		{snapexport.ErrNotFound, false},
		{context.Canceled, false},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), false},
		{&pgconn.PgError{Code: "57014"}, false},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "42P01"}, false},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "53300"}, true},
		{fmt.Errorf("gave up: %w", &pgconn.PgError{Code: "40001"}), true},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{pgconn.ErrConnClosed, true},
	} {
		if got := IsUnavailable(c.err); got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestUnavailable(t *testing.T) {
	base := pgtest.URL(t)
	ctx := context.Background()

	t.Run("ClosedPort", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		parsed, _ := url.Parse(base)
		parsed.Host = fmt.Sprintf("127.0.0.1:%d", port)
		db, err := Open(ctx, parsed.String(), Options{})
		if err == nil {
			db.Close()
			t.Fatal("Open of a closed port succeeded")
		}
		if !IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	})

	t.Run("TerminatedBackends", func(t *testing.T) {
		app := fmt.Sprintf("snapexport_test_%d", time.Now().UnixNano())
		u := withParam(t, pgtest.Schema(t, base), "application_name", app)
		const conns = 4
		db := open(t, u, Options{MaxConns: conns})
		admin := connect(t, base)
		// Every connection of the pool in use, then idle in the pool.
		var inUse sync.WaitGroup
		inUse.Add(conns)
		var wg sync.WaitGroup
		for range conns {
			wg.Go(func() {
				db.Read(ctx, func(snapexport.Tx) error { inUse.Done(); inUse.Wait(); return nil })
			})
		}
		wg.Wait()
		terminate := func(where string, args ...any) {
			t.Helper()
			_, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "+where, args...)
			if err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; {
				var n int
				if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE "+where, args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d backends still there", n)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		var n int
		admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
		if n != conns {
			t.Fatalf("%d connections of the pool, want %d", n, conns)
		}

		// The pool's idle connections all killed: the next transactions
		// start on new ones.
		terminate("application_name = $1", app)
		for i := range conns + 1 {
			createOrg(t, db, &snapexport.Organization{ID: fmt.Sprintf("6500000000000000000000e%d", i), Name: "org", CreatedAt: time.Now()})
		}
		if n := countOrgs(t, db); n != conns+1 {
			t.Errorf("%d organizations, want %d", n, conns+1)
		}

		// A connection lost in the middle of a transaction fails it.
		for _, op := range []string{"Read", "Write"} {
			run := db.Read
			if op == "Write" {
				run = db.Write
			}
			err := run(ctx, func(stx snapexport.Tx) error {
				terminate("pid = $1", stx.(*tx).tx.Conn().PgConn().PID())
				_, err := stx.ListOrganizations(ctx)
				return err
			})
			if err == nil {
				t.Fatalf("%s on a terminated backend succeeded", op)
			}
			if !IsUnavailable(err) {
				t.Errorf("%s on a terminated backend: IsUnavailable(%v) = false", op, err)
			}
			t.Logf("%s on a terminated backend: %v", op, err)
			// And the next call succeeds.
			if n := countOrgs(t, db); n != conns+1 {
				t.Errorf("after the lost connection: %d organizations, want %d", n, conns+1)
			}
		}
		// The other stores of the DB recover too.
		terminate("application_name = $1", app)
		now := time.Now()
		nonces := db.Nonces()
		var useErr error
		for range conns + 1 { // a dead connection per call at most
			if useErr = nonces.UseNonce(ctx, "n", now.Add(time.Minute), now); useErr == nil || !IsUnavailable(useErr) {
				break
			}
		}
		if useErr != nil {
			t.Fatalf("UseNonce after the backends were killed: %v", useErr)
		}
		if err := nonces.UseNonce(ctx, "n", now.Add(time.Minute), now); !errors.Is(err, snapexport.ErrConflict) {
			t.Errorf("UseNonce of a used nonce = %v; want ErrConflict", err)
		}
		if d, err := db.Limiter().Take(ctx, ratelimit.ProjectKey("k"), ratelimit.CloudBackups(), now); err != nil || !d.Allowed {
			t.Errorf("Take = %+v, %v", d, err)
		}
	})

	t.Run("ServerGoneAndBack", func(t *testing.T) {
		u := pgtest.Schema(t, base)
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		px := startProxy(t, parsed.Host)
		parsed.Host = px.addr
		db := open(t, parsed.String(), Options{MaxConns: 4})
		createOrg(t, db, testOrg)

		px.stop()
		now := time.Now()
		err = db.Read(ctx, func(tx snapexport.Tx) error { _, err := tx.ListOrganizations(ctx); return err })
		if !IsUnavailable(err) {
			t.Errorf("Read with the server gone: IsUnavailable(%v) = false", err)
		}
		err = db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateOrganization(ctx, testOrg) })
		if !IsUnavailable(err) {
			t.Errorf("Write with the server gone: IsUnavailable(%v) = false", err)
		}
		err = db.Nonces().UseNonce(ctx, "n", now.Add(time.Minute), now)
		if !IsUnavailable(err) {
			t.Errorf("UseNonce with the server gone: IsUnavailable(%v) = false", err)
		}
		_, err = db.Limiter().Take(ctx, ratelimit.ProjectKey("k"), ratelimit.CloudBackups(), now)
		if !IsUnavailable(err) {
			t.Errorf("Take with the server gone: IsUnavailable(%v) = false", err)
		}

		px.restart(t)
		if n := countOrgs(t, db); n != 1 {
			t.Errorf("after the server came back: %d organizations, want 1", n)
		}
		createOrg(t, db, &snapexport.Organization{ID: "6500000000000000000000f1", Name: "after", CreatedAt: time.Now()})
		if d, err := db.Limiter().Take(ctx, ratelimit.ProjectKey("k"), ratelimit.CloudBackups(), now); err != nil || !d.Allowed {
			t.Errorf("Take after the server came back = %+v, %v", d, err)
		}
	})
}

// proxy forwards TCP connections to the test server; stopping it looks to
// the pool like the server going away (refused connections, existing ones
// cut), restarting it like the server coming back on the same address.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{addr: "127.0.0.1:0", target: target}
	p.restart(t)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) restart(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestSnapshotMarkAcrossClusters holds one cluster's snapshot creation
// open while another cluster's is attempted, then reads a mark: the list
// of the mark must stay what the mark's transaction saw once both commit.
// (A mark takes the highest number among all the project's snapshots, so
// creations commit in number order across clusters; ordered per cluster
// only, the other cluster's creation would commit first with a higher
// number and bring the held one into the list of the mark.)
func TestSnapshotMarkAcrossClusters(t *testing.T) {
	db := open(t, pgtest.Schema(t, pgtest.URL(t)), Options{})
	ctx := context.Background()
	createOrg(t, db, testOrg)
	p := &snapexport.Project{ID: "6500000000000000000000c1", OrgID: testOrg.ID, Name: "marks", CreatedAt: time.Now()}
	a := &snapexport.Cluster{ID: "6500000000000000000000c2", ProjectID: p.ID, Name: "a", Type: snapexport.ClusterReplicaSet,
		MongoDBVersion: "8.0.1", Shards: []snapexport.Shard{{ID: "6500000000000000000000c3", ReplicaSetName: "a-rs"}}, CreatedAt: time.Now()}
	b := *a
	b.ID, b.Name, b.Shards = "6500000000000000000000c4", "b", []snapexport.Shard{{ID: "6500000000000000000000c5", ReplicaSetName: "b-rs"}}
	err := db.Write(ctx, func(tx snapexport.Tx) error {
		if err := tx.CreateProject(ctx, p); err != nil {
			return err
		}
		if err := tx.CreateCluster(ctx, a); err != nil {
			return err
		}
		return tx.CreateCluster(ctx, &b)
	})
	if err != nil {
		t.Fatal(err)
	}
	snap := func(c *snapexport.Cluster, id string) *snapexport.Snapshot {
		now := time.Now()
		return &snapexport.Snapshot{ID: id, ProjectID: p.ID, ClusterID: c.ID, ClusterName: c.Name, Kind: snapexport.SnapshotReplicaSet,
			ReplicaSetName: c.Shards[0].ReplicaSetName, SnapshotType: "onDemand", FrequencyType: "ondemand", Status: snapexport.SnapshotCompleted,
			MongodVersion: "8.0.1", CloudProvider: snapexport.AWS, CreatedAt: now, ExpiresAt: now.Add(time.Hour), ImportedAt: now}
	}
	held, release := make(chan struct{}), make(chan struct{})
	heldDone, otherDone := make(chan error, 1), make(chan error, 1)
	go func() {
		first := true
		heldDone <- db.Write(ctx, func(tx snapexport.Tx) error {
			if err := tx.CreateSnapshot(ctx, snap(a, "6500000000000000000000d1")); err != nil {
				return err
			}
			if first {
				first = false
				close(held)
				<-release
			}
			return nil
		})
	}()
	<-held
	go func() {
		otherDone <- db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateSnapshot(ctx, snap(&b, "6500000000000000000000d2")) })
	}()
	// Time for the other creation to commit, were it not held back.
	time.Sleep(300 * time.Millisecond)
	var m snapexport.ListMark
	var seen int
	err = db.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		if m, err = tx.ListMark(ctx, p.ID); err != nil {
			return err
		}
		_, seen, err = tx.ListSnapshots(ctx, p.ID, a.ID, snapexport.SnapshotReplicaSet, snapexport.Page{})
		return err
	})
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	for _, done := range []chan error{heldDone, otherDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	err = db.Read(ctx, func(tx snapexport.Tx) error {
		got, total, err := tx.ListSnapshots(ctx, p.ID, a.ID, snapexport.SnapshotReplicaSet, snapexport.Page{AsOf: &m})
		if err == nil && total != seen {
			t.Errorf("cluster a as of the mark: %d snapshots (%v), the mark's transaction saw %d", total, got, seen)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrationGivesClustersTheDefaultPolicy: clusters registered before
// backup policies were kept get Atlas's default policy when the schema is
// migrated. The clusters are written at the current version, which is
// then taken back to the one before 0007_backup_policies.sql (undoing the
// later migrations too).
func TestMigrationGivesClustersTheDefaultPolicy(t *testing.T) {
	u := pgtest.Schema(t, pgtest.URL(t))
	db := open(t, u, Options{})
	ctx := context.Background()
	createOrg(t, db, testOrg)
	p := &snapexport.Project{ID: "6500000000000000000000c1", OrgID: testOrg.ID, Name: "policies", CreatedAt: time.Now()}
	one := &snapexport.Cluster{ID: "6500000000000000000000c2", ProjectID: p.ID, Name: "one", Type: snapexport.ClusterReplicaSet,
		MongoDBVersion: "8.0.1", Shards: []snapexport.Shard{{ID: "6500000000000000000000c3", ReplicaSetName: "one-rs"}},
		CreatedAt: time.Date(2026, 8, 10, 3, 2, 50, 0, time.UTC)}
	two := *one
	two.ID, two.Name, two.CreatedAt = "6500000000000000000000c4", "two", time.Date(2025, 1, 31, 23, 59, 59, 999_999_000, time.UTC)
	err := db.Write(ctx, func(tx snapexport.Tx) error {
		return cmp.Or(tx.CreateProject(ctx, p), tx.CreateCluster(ctx, one), tx.CreateCluster(ctx, &two))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn := connect(t, u)
	for _, stmt := range []string{
		`DROP INDEX clusters_name, clusters_removed_name`,
		`ALTER TABLE clusters DROP COLUMN tags, DROP COLUMN backup_enabled, DROP COLUMN termination_protection_enabled, DROP COLUMN ready_at,
			DROP COLUMN deleting_until, DROP COLUMN retain_backups, DROP COLUMN removed, ADD CONSTRAINT clusters_project_id_name_key UNIQUE (project_id, name)`,
		`ALTER TABLE clusters DROP COLUMN policy_id, DROP COLUMN policy_items, DROP COLUMN reference_hour_of_day,
			DROP COLUMN reference_minute_of_hour, DROP COLUMN restore_window_days`,
		`ALTER TABLE clusters DROP COLUMN provider_name, DROP COLUMN region_name, DROP COLUMN instance_size`,
		`DROP TABLE server_secrets`,
		`ALTER TABLE rate_limit_buckets DROP CONSTRAINT rate_limit_buckets_pkey, DROP COLUMN scope, ADD PRIMARY KEY (policy, key)`,
		`ALTER TABLE digest_nonces SET UNLOGGED`,
		`ALTER TABLE snapshots DROP COLUMN policy_items`,
		`ALTER TABLE removed_snapshots DROP COLUMN policy_items`,
		`DROP TABLE scheduled_snapshot_claims`,
		`ALTER TABLE clusters DROP COLUMN deployment_uri_sealed, DROP COLUMN deployment_public_uri, DROP COLUMN deployment_hosts, DROP COLUMN deployment_consistency`,
		`ALTER TABLE snapshots DROP COLUMN consistency, DROP COLUMN progress, DROP COLUMN failure_reason`,
		`ALTER TABLE removed_snapshots DROP COLUMN consistency, DROP COLUMN progress, DROP COLUMN failure_reason`,
		`DROP TABLE list_counts, list_count_changes`,
		`DROP FUNCTION list_count_add, count_by_provider, count_snapshots CASCADE`,
		`DROP INDEX export_buckets_list`,
		`CREATE INDEX export_buckets_project ON export_buckets (project_id, seq)`,
		`DROP INDEX snapshots_lease`,
		`ALTER TABLE snapshots DROP COLUMN runner, DROP COLUMN lease_until`,
		`DELETE FROM schema_migrations WHERE version >= 7`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	db = open(t, u, Options{})
	wantAllVersions(t, conn)
	storetest.WantDefaultSchedules(t, db, p.ID, "one", "two")
	storetest.WantMigratedClusters(t, db, p.ID, "one", "two")
}
