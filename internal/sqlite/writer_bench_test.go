package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// The benchmarks of writes compare the writer (one transaction, one fsync
// for the writes waiting together) with the way before it, kept here as
// the baseline: one transaction and one fsync per write on a connection of
// its own, nonces and listings on a second connection committing without
// fsync (synchronous NORMAL). Both run on disk, at synchronous FULL as
// serve runs, in the same run:
//
//	go test -run '^$' -bench 'Writes' -benchtime 2000x ./internal/sqlite/

// serialStore writes the way before the writer.
type serialStore struct {
	write, nonce *sql.DB
	used         atomic.Int64
}

func newSerialStore(b *testing.B, path string) *serialStore {
	s := &serialStore{write: openPool(path, "immediate", "FULL", 1), nonce: openPool(path, "immediate", "NORMAL", 1)}
	b.Cleanup(func() { s.write.Close(); s.nonce.Close() })
	return s
}

func (s *serialStore) Write(ctx context.Context, fn func(snapexport.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	if err := fn(&tx{tx: sqlTx}); err != nil {
		return err
	}
	return sqlTx.Commit()
}

func (s *serialStore) UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error {
	return useNonce(ctx, s.nonce, &s.used, nonce, keepUntil, now)
}

func (s *serialStore) SaveListing(ctx context.Context, l *snapexport.Listing, now time.Time) error {
	return saveListing(ctx, s.nonce, l, now)
}

// writeStore is what the benchmarks write through: the DB, or the serial
// baseline.
type writeStore interface {
	Write(ctx context.Context, fn func(snapexport.Tx) error) error
	UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error
	SaveListing(ctx context.Context, l *snapexport.Listing, now time.Time) error
}

type batchedStore struct{ *DB }

func (s batchedStore) UseNonce(ctx context.Context, nonce string, keepUntil, now time.Time) error {
	return s.Nonces().UseNonce(ctx, nonce, keepUntil, now)
}

func (s batchedStore) SaveListing(ctx context.Context, l *snapexport.Listing, now time.Time) error {
	return s.Listings().SaveListing(ctx, l, now)
}

// storeModes opens a fresh database on disk with the fixture's project for
// each way of writing.
var storeModes = []struct {
	name string
	open func(b *testing.B) writeStore
}{
	{"serial", func(b *testing.B) writeStore {
		db := benchDB(b)
		return newSerialStore(b, db.path)
	}},
	{"batched", func(b *testing.B) writeStore { return batchedStore{benchDB(b)} }},
}

func benchDB(b *testing.B) *DB {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "snapexport.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	err = db.Write(context.Background(), func(tx snapexport.Tx) error {
		if err := tx.CreateOrganization(context.Background(), testOrg); err != nil {
			return err
		}
		return tx.CreateProject(context.Background(), testProject)
	})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func benchBucket(i int64) *snapexport.ExportBucket {
	return &snapexport.ExportBucket{ID: fmt.Sprintf("%024x", i), ProjectID: testProject.ID, Provider: snapexport.AWS,
		BucketName: "bucket-" + strconv.FormatInt(i, 10), RoleID: "6500000000000000000000d1", Region: "US_EAST_1", CreatedAt: time.Now()}
}

// runClients runs op b.N times over clients goroutines and reports the
// operations per second and the p50 and p99 of their latencies.
func runClients(b *testing.B, clients int, op func(ctx context.Context, i int64) error) {
	ctx := context.Background()
	var next atomic.Int64
	latencies := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				t := time.Now()
				if err := op(ctx, i); err != nil {
					b.Error(err)
					return
				}
				latencies[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// reportCommits returns a function reporting the writes per commit since
// its call: how many share an fsync.
func reportCommits(b *testing.B, s writeStore) func() {
	batched, ok := s.(batchedStore)
	if !ok {
		return func() { b.ReportMetric(1, "writes/commit") }
	}
	before := batched.writer.commits.Load()
	return func() { b.ReportMetric(float64(b.N)/float64(batched.writer.commits.Load()-before), "writes/commit") }
}

// BenchmarkWritesCreateBucket: clients creating export buckets, each in a
// Write of its own.
func BenchmarkWritesCreateBucket(b *testing.B) {
	for _, clients := range []int{1, 8, 50} {
		for _, mode := range storeModes {
			b.Run(fmt.Sprintf("clients=%d/%s", clients, mode.name), func(b *testing.B) {
				s := mode.open(b)
				defer reportCommits(b, s)()
				runClients(b, clients, func(ctx context.Context, i int64) error {
					return s.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateExportBucket(ctx, benchBucket(i)) })
				})
			})
		}
	}
}

// BenchmarkWritesMixed: 50 clients each creating export buckets, using
// digest nonces and saving listings in turn, the writes a mixed load of the
// API makes.
func BenchmarkWritesMixed(b *testing.B) {
	for _, mode := range storeModes {
		b.Run(mode.name, func(b *testing.B) {
			s := mode.open(b)
			defer reportCommits(b, s)()
			now := time.Now()
			runClients(b, 50, func(ctx context.Context, i int64) error {
				switch i % 3 {
				case 0:
					return s.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateExportBucket(ctx, benchBucket(i)) })
				case 1:
					return s.UseNonce(ctx, "nonce-"+strconv.FormatInt(i, 10), now.Add(time.Hour), now)
				default:
					return s.SaveListing(ctx, &snapexport.Listing{Key: "pass-" + strconv.FormatInt(i%500, 10),
						Mark: snapexport.ListMark{Removals: "0", Buckets: i}, ExpiresAt: now.Add(time.Hour)}, now)
				}
			})
		})
	}
}

// BenchmarkReadsExportBucket: reading a bucket with its statement prepared
// on the connection once (the DB) or compiled on every call (a transaction
// of the pool, the way before).
//
//	go test -run '^$' -bench 'ReadsExportBucket' ./internal/sqlite/
func BenchmarkReadsExportBucket(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	bucket := benchBucket(1)
	if err := db.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateExportBucket(ctx, bucket) }); err != nil {
		b.Fatal(err)
	}
	unprepared := openPool(db.path, "deferred", "FULL", 1)
	defer unprepared.Close()
	reads := map[string]func(fn func(snapexport.Tx) error) error{
		"unprepared": func(fn func(snapexport.Tx) error) error {
			sqlTx, err := unprepared.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer sqlTx.Rollback()
			return fn(&tx{tx: sqlTx})
		},
		"prepared": func(fn func(snapexport.Tx) error) error { return db.Read(ctx, fn) },
	}
	for _, name := range []string{"unprepared", "prepared"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				err := reads[name](func(tx snapexport.Tx) error {
					_, err := tx.ExportBucket(ctx, bucket.ProjectID, bucket.ID)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
