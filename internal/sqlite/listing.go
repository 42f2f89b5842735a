package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) ListMark(ctx context.Context, projectID string) (snapexport.ListMark, error) {
	var m snapexport.ListMark
	var removals int64
	err := queryRow(ctx, t.tx, `SELECT
		coalesce((SELECT removals FROM projects WHERE id = ?1), 0),
		coalesce((SELECT max(seq) FROM export_buckets WHERE project_id = ?1), 0),
		coalesce((SELECT max(seq) FROM private_endpoints WHERE project_id = ?1), 0),
		coalesce((SELECT max(seq) FROM snapshots WHERE project_id = ?1), 0)`, projectID).
		Scan(&removals, &m.Buckets, &m.Endpoints, &m.Snapshots)
	m.Removals = strconv.FormatInt(removals, 10)
	return m, err
}

// listings keeps listings through the connection of the nonces, whose
// commits skip the fsync: a listing lost in a crash costs its pass only the
// guarantee of its later pages.
type listings struct{ db *sql.DB }

// Listings implements snapexport.Store.
func (db *DB) Listings() snapexport.ListingStore { return listings{db.nonce} }

func (ls listings) SaveListing(ctx context.Context, l *snapexport.Listing, now time.Time) error {
	if _, err := exec(ctx, ls.db, `DELETE FROM listings WHERE expires_at <= ?`, now); err != nil {
		return err
	}
	_, err := exec(ctx, ls.db, `INSERT INTO listings (`+sqlrow.ListingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET removals = excluded.removals, buckets = excluded.buckets,
			endpoints = excluded.endpoints, snapshots = excluded.snapshots, expires_at = excluded.expires_at`,
		sqlrow.ListingValues(l)...)
	return err
}

func (ls listings) Listing(ctx context.Context, key string, now time.Time) (*snapexport.Listing, error) {
	return sqlrow.ScanListing(queryRow(ctx, ls.db, `SELECT `+sqlrow.ListingColumns+` FROM listings
		WHERE key = ? AND expires_at > ?`, key, now))
}

// countedPage reads how many rows from (" FROM <table> WHERE …", with the
// parameters args) selects and one page of them, in seq order.
func countedPage[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	columns, from string, args []any, page snapexport.Page) ([]*T, int, error) {
	var total int
	if err := queryRow(ctx, t.tx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := query(ctx, t.tx, scan, `SELECT `+columns+from+` ORDER BY seq`+limitOffset(page), args...)
	return out, total, err
}

// pageOf reads the total and one page of a list: the rows of table that
// match where or, for a page with a mark, the rows of the list of the mark:
// those of table and of removed_<table> created up to the mark's sequence
// number (seq of the mark) and, for removed ones, removed after it. The
// two are merged as a compound SELECT ordered by its first column, which
// SQLite merges from the two index ranges instead of sorting the list.
func pageOf[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	table, columns, where string, args []any, page snapexport.Page, seq func(snapexport.ListMark) int64) ([]*T, int, error) {
	if page.AsOf == nil {
		return countedPage(ctx, t, scan, columns, ` FROM `+table+` WHERE `+where, args, page)
	}
	m := *page.AsOf
	removals, err := strconv.ParseInt(m.Removals, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list mark %+v is not one of SQLite's: %w", m, err)
	}
	live := ` FROM ` + table + ` WHERE ` + where + ` AND seq <= ?`
	removed := ` FROM removed_` + table + ` WHERE ` + where + ` AND seq <= ? AND removal > ?`
	all := slices.Concat(args, []any{seq(m)}, args, []any{seq(m), removals})
	var total int
	if err := queryRow(ctx, t.tx, `SELECT (SELECT count(*)`+live+`) + (SELECT count(*)`+removed+`)`, all...).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := query(ctx, t.tx, func(s sqlrow.Scanner) (*T, error) { return scan(afterSeq{s}) },
		`SELECT seq, `+columns+live+` UNION ALL SELECT seq, `+columns+removed+` ORDER BY 1`+limitOffset(page), all...)
	return out, total, err
}

// afterSeq scans a row without its first column, the seq a compound
// SELECT is ordered by.
type afterSeq struct{ s sqlrow.Scanner }

func (a afterSeq) Scan(dest ...any) error {
	var seq int64
	return a.s.Scan(append([]any{&seq}, dest...)...)
}

// remove keeps the row id of table, one of the lists items are removed
// from, in removed_<table> as its project's next removal; ErrNotFound when
// there is no such row. The caller deletes or changes the row itself.
func (t *tx) remove(ctx context.Context, table, columns, projectID, id string, at time.Time) error {
	err := affected(exec(ctx, t.tx, `INSERT INTO removed_`+table+` (seq, `+columns+`, removal, removed_at)
		SELECT seq, `+columns+`, (SELECT removals + 1 FROM projects WHERE id = ?1), ?2 FROM `+table+`
		WHERE project_id = ?1 AND id = ?3`, projectID, at, id))
	if err != nil {
		return err
	}
	_, err = exec(ctx, t.tx, `UPDATE projects SET removals = removals + 1 WHERE id = ?`, projectID)
	return err
}

// deleteListed deletes the row id of table, one of the lists items are
// removed from, keeping it for the listings of the list (remove).
func (t *tx) deleteListed(ctx context.Context, table, columns, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, table, columns, projectID, id, at); err != nil {
		return err
	}
	return affected(exec(ctx, t.tx, `DELETE FROM `+table+` WHERE project_id = ? AND id = ?`, projectID, id))
}

// removedTables are the tables remove keeps rows in.
var removedTables = []string{"removed_export_buckets", "removed_private_endpoints", "removed_snapshots"}

func (t *tx) PurgeRemoved(ctx context.Context, before time.Time) (int, error) {
	n := 0
	for _, table := range removedTables {
		res, err := exec(ctx, t.tx, `DELETE FROM `+table+` WHERE removed_at < ?`, before)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += int(k)
	}
	return n, nil
}
