package service_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

const (
	benchBuckets  = 100_000
	benchPageSize = 500
	// benchRemoved are deleted after the mark of the benchmark's pass, so
	// that its pages merge removed rows as a pass's do.
	benchRemoved = 100
)

// BenchmarkListPages reads pages of a project of 100,000 export buckets,
// 500 to a page: the first page, a page in the middle and the last one
// reached directly (as a jump does), and the pages of a pass walked in
// order (each from where the one before it ended), with and without the
// total; "today" runs the statements the stores ran before pages sought
// their start (a count, then LIMIT/OFFSET) on the same database in the
// same run. Each reports its p50 and p99 in milliseconds.
//
//	go test ./internal/service/ -run '^$' -bench ListPages -benchtime 400x
//
// PostgreSQL's runs need SNAPEXPORT_TEST_POSTGRES_URL.
func BenchmarkListPages(b *testing.B) {
	ctx := context.Background()
	b.Run("backend=sqlite", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "db")
		store, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { raw.Close() })
		benchListPages(b, store, func(ctx context.Context, projectID string, m snapexport.ListMark, page snapexport.Page) (int, error) {
			return todaySQLitePage(ctx, raw, projectID, m, page)
		}, func() error {
			_, err := raw.ExecContext(ctx, `ANALYZE`)
			return err
		})
	})
	b.Run("backend=postgres", func(b *testing.B) {
		u := pgtest.Schema(b, pgtest.URL(b))
		store, err := postgres.Open(ctx, u, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		pool, err := pgxpool.New(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		benchListPages(b, store, func(ctx context.Context, projectID string, m snapexport.ListMark, page snapexport.Page) (int, error) {
			return todayPostgresPage(ctx, pool, projectID, m, page)
		}, func() error {
			// What autovacuum does to a table that grew by 100,000 rows,
			// without waiting for it: index-only scans need the
			// visibility map.
			_, err := pool.Exec(ctx, `VACUUM ANALYZE`)
			return err
		})
	})
}

// todayPage reads a page of a project's buckets as the stores did before
// pages sought their start, returning how many items it read.
type todayPage func(ctx context.Context, projectID string, m snapexport.ListMark, page snapexport.Page) (int, error)

// benchListPages fills store and measures its pages beside today's;
// settle brings the database to the state its upkeep keeps it in.
func benchListPages(b *testing.B, store snapexport.Store, today todayPage, settle func() error) {
	ctx := context.Background()
	svc := &service.Service{Store: store, Identities: service.DefaultIdentities}
	boot, err := svc.Init(ctx, "org", "project", auth.HashParams{Time: 1, Memory: 64, Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	projectID := boot.Project.ID
	role, err := svc.CreateRole(ctx, projectID, service.RoleInput{Provider: snapexport.AWS})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var ids []string
	for len(ids) < benchBuckets {
		err := store.Write(ctx, func(tx snapexport.Tx) error {
			for i := range 5000 {
				id := service.NewID()
				err := tx.CreateExportBucket(ctx, &snapexport.ExportBucket{ID: id, ProjectID: projectID, Provider: snapexport.AWS,
					BucketName: "bench-" + strconv.Itoa(len(ids)+i), RoleID: role.ID, CreatedAt: now})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for range 5000 {
			ids = append(ids, "")
		}
	}
	var mark snapexport.ListMark
	var first []*snapexport.ExportBucket
	if err := store.Read(ctx, func(tx snapexport.Tx) error {
		if mark, err = tx.ListMark(ctx, projectID); err != nil {
			return err
		}
		first, _, err = tx.ListExportBuckets(ctx, projectID, nil, snapexport.Page{Limit: benchRemoved})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	for _, bucket := range first {
		if err := store.Write(ctx, func(tx snapexport.Tx) error { return tx.DeleteExportBucket(ctx, projectID, bucket.ID, now) }); err != nil {
			b.Fatal(err)
		}
	}

	// The server's periodic sweep (which also folds PostgreSQL's count
	// changes).
	if _, err := svc.SweepRemovedItems(ctx); err != nil {
		b.Fatal(err)
	}
	if err := settle(); err != nil {
		b.Fatal(err)
	}

	pages := benchBuckets / benchPageSize
	kinds := []struct {
		name string
		// offset is the offset of the i-th page read.
		offset func(i int) int
		walk   bool
	}{
		{"first", func(int) int { return 0 }, false},
		{"middle", func(int) int { return pages / 2 * benchPageSize }, false},
		{"last", func(int) int { return (pages - 1) * benchPageSize }, false},
		{"walk", func(i int) int { return i % pages * benchPageSize }, true},
	}
	for _, kind := range kinds {
		// A first page is read without a mark, which it records.
		asOf := func(offset int) *snapexport.ListMark {
			if offset == 0 {
				return nil
			}
			return &mark
		}
		b.Run("page="+kind.name+"/read=today", func(b *testing.B) {
			latencies(b, func(i int) error {
				n, err := today(ctx, projectID, mark, snapexport.Page{Offset: kind.offset(i), Limit: benchPageSize, AsOf: asOf(kind.offset(i))})
				if err == nil && n == 0 {
					err = fmt.Errorf("page at %d is empty", kind.offset(i))
				}
				return err
			})
		})
		for _, counted := range []bool{true, false} {
			b.Run("page="+kind.name+"/read=seek/includeCount="+strconv.FormatBool(counted), func(b *testing.B) {
				var after int64
				latencies(b, func(i int) error {
					offset := kind.offset(i)
					seek := &snapexport.Seek{}
					if kind.walk && offset > 0 {
						// A walk starts again at the first page.
						seek.After = after
					}
					page := snapexport.Page{Offset: offset, Limit: benchPageSize, AsOf: asOf(offset), Seek: seek, SkipTotal: !counted}
					return store.Read(ctx, func(tx snapexport.Tx) error {
						got, _, err := tx.ListExportBuckets(ctx, projectID, nil, page)
						if err == nil && len(got) == 0 {
							err = fmt.Errorf("page at %d is empty", offset)
						}
						after = seek.Last
						return err
					})
				})
			})
		}
	}
	// What a client's pass costs through the service: its first page
	// records the mark, and each later page seeks from where the one
	// before it ended.
	for _, counted := range []bool{true, false} {
		b.Run("page=walk/read=service/includeCount="+strconv.FormatBool(counted), func(b *testing.B) {
			latencies(b, func(i int) error {
				got, _, err := svc.ListBuckets(ctx, projectID, nil,
					snapexport.Page{Offset: i % pages * benchPageSize, Limit: benchPageSize, SkipTotal: !counted}, "bench pass "+strconv.FormatBool(counted))
				if err == nil && len(got) == 0 {
					err = fmt.Errorf("page %d is empty", i%pages)
				}
				return err
			})
		})
	}
}

// latencies runs read b.N times and reports the p50 and p99 of its
// durations in milliseconds.
func latencies(b *testing.B, read func(i int) error) {
	b.Helper()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := read(i); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[min(int(q*float64(len(took))), len(took)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// todaySQLitePage is the SQLite store's page before pages sought their
// start: a count, then the page by LIMIT/OFFSET (for a page with a mark,
// over the union of live and removed rows).
func todaySQLitePage(ctx context.Context, db *sql.DB, projectID string, m snapexport.ListMark, page snapexport.Page) (int, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var total int
	var rows *sql.Rows
	if page.AsOf == nil {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM export_buckets WHERE project_id = ?`, projectID).Scan(&total); err != nil {
			return 0, err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+sqlrow.ExportBucketColumns+` FROM export_buckets WHERE project_id = ? ORDER BY seq LIMIT ? OFFSET ?`,
			projectID, page.Limit, page.Offset)
	} else {
		live := ` FROM export_buckets WHERE project_id = ? AND seq <= ?`
		removed := ` FROM removed_export_buckets WHERE project_id = ? AND seq <= ? AND removal > ?`
		args := []any{projectID, m.Buckets, projectID, m.Buckets, m.Removals}
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*)`+live+`) + (SELECT count(*)`+removed+`)`, args...).Scan(&total); err != nil {
			return 0, err
		}
		rows, err = tx.QueryContext(ctx, `SELECT seq, `+sqlrow.ExportBucketColumns+live+` UNION ALL SELECT seq, `+sqlrow.ExportBucketColumns+removed+
			` ORDER BY 1 LIMIT ? OFFSET ?`, append(args, page.Limit, page.Offset)...)
	}
	if err != nil {
		return 0, err
	}
	return scanBuckets(sqlRows{rows}, page.AsOf != nil)
}

// todayPostgresPage is todaySQLitePage in PostgreSQL's terms.
func todayPostgresPage(ctx context.Context, pool *pgxpool.Pool, projectID string, m snapexport.ListMark, page snapexport.Page) (int, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var total int
	if page.AsOf == nil {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM export_buckets WHERE project_id = $1`, projectID).Scan(&total); err != nil {
			return 0, err
		}
		rows, err := tx.Query(ctx, `SELECT `+sqlrow.ExportBucketColumns+` FROM export_buckets WHERE project_id = $1 ORDER BY seq LIMIT $2 OFFSET $3`,
			projectID, page.Limit, page.Offset)
		if err != nil {
			return 0, err
		}
		return scanBuckets(rows, false)
	}
	live := ` FROM export_buckets WHERE project_id = $1 AND seq <= $2`
	removed := ` FROM removed_export_buckets WHERE project_id = $1 AND seq <= $2 AND NOT pg_visible_in_snapshot(removal, $3::text::pg_snapshot)`
	args := []any{projectID, m.Buckets, m.Removals}
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(*)`+live+`) + (SELECT count(*)`+removed+`)`, args...).Scan(&total); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT `+sqlrow.ExportBucketColumns+` FROM (
			(SELECT seq, `+sqlrow.ExportBucketColumns+live+` ORDER BY seq LIMIT $4::bigint + $5::bigint)
			UNION ALL SELECT seq, `+sqlrow.ExportBucketColumns+removed+`) AS listed
		ORDER BY seq LIMIT $4::bigint OFFSET $5::bigint`, append(args, page.Limit, page.Offset)...)
	if err != nil {
		return 0, err
	}
	return scanBuckets(rows, false)
}

// scanBuckets scans every row of rows as a bucket, after its seq when
// withSeq, as the stores do, and returns how many there were.
func scanBuckets(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}, withSeq bool) (int, error) {
	defer rows.Close()
	n := 0
	var page sqlrow.PageRows
	for rows.Next() {
		var s sqlrow.Scanner = rows
		if withSeq {
			s = page.Row(rows)
		}
		if _, err := sqlrow.ScanExportBucket(s); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// sqlRows gives *sql.Rows the Close of pgx.Rows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
