package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) ListMark(ctx context.Context, projectID string) (snapexport.ListMark, error) {
	var m snapexport.ListMark
	err := t.queryRow(ctx, `SELECT pg_current_snapshot()::text,
		coalesce((SELECT max(seq) FROM export_buckets WHERE project_id = $1), 0),
		coalesce((SELECT max(seq) FROM private_endpoints WHERE project_id = $1), 0),
		coalesce((SELECT max(seq) FROM snapshots WHERE project_id = $1), 0)`, projectID).
		Scan(&m.Removals, &m.Buckets, &m.Endpoints, &m.Snapshots)
	return m, err
}

// listings runs each operation as one statement outside any transaction
// of Write, on a table that is not logged: a listing lost in a crash costs
// its pass only the guarantee of its later pages.
type listings struct{ db *DB }

// Listings implements snapexport.Store.
func (db *DB) Listings() snapexport.ListingStore { return listings{db} }

func (ls listings) SaveListing(ctx context.Context, l *snapexport.Listing, now time.Time) error {
	_, err := ls.db.pool.Exec(ctx, `WITH expired AS (DELETE FROM listings WHERE expires_at <= $7 AND key <> $1)
		INSERT INTO listings (`+sqlrow.ListingColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO UPDATE SET removals = excluded.removals, buckets = excluded.buckets,
			endpoints = excluded.endpoints, snapshots = excluded.snapshots, expires_at = excluded.expires_at`,
		append(sqlrow.ListingValues(l), now)...)
	return err
}

func (ls listings) Listing(ctx context.Context, key string, now time.Time) (*snapexport.Listing, error) {
	return sqlrow.ScanListing(ls.db.pool.QueryRow(ctx, `SELECT `+sqlrow.ListingColumns+` FROM listings
		WHERE key = $1 AND expires_at > $2`, key, now))
}

// countedPage reads how many rows from (" FROM <table> WHERE …", whose
// parameters args are $1 to $len(args)) selects and one page of them, in
// seq order.
func countedPage[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	columns, from string, args []any, page snapexport.Page) ([]*T, int, error) {
	var total int
	if err := t.queryRow(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit, offset := limitOffset(page)
	n := len(args)
	out, err := query(ctx, t, scan, `SELECT `+columns+from+` ORDER BY seq LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args[:n:n], limit, offset)...)
	return out, total, err
}

// pageOf reads the total and one page of a list: the rows of table that
// match where (whose parameters are $1 to $len(args)) or, for a page with
// a mark, the rows of the list of the mark: those of table and of
// removed_<table> created up to the mark's sequence number (seq of the
// mark) and, for removed ones, removed after it (not visible in the
// mark's snapshot), merged in seq order.
func pageOf[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	table, columns, where string, args []any, page snapexport.Page, seq func(snapexport.ListMark) int64) ([]*T, int, error) {
	limit, offset := limitOffset(page)
	n := len(args)
	param := func(i int) string { return "$" + strconv.Itoa(i) }
	if page.AsOf == nil {
		return countedPage(ctx, t, scan, columns, ` FROM `+table+` WHERE `+where, args, page)
	}
	m := *page.AsOf
	live := ` FROM ` + table + ` WHERE ` + where + ` AND seq <= ` + param(n+1)
	removed := ` FROM removed_` + table + ` WHERE ` + where + ` AND seq <= ` + param(n+1) + ` AND NOT pg_visible_in_snapshot(removal, ` + param(n+2) + `::text::pg_snapshot)`
	args = append(args[:n:n], seq(m), m.Removals)
	var total int
	if err := t.queryRow(ctx, `SELECT (SELECT count(*)`+live+`) + (SELECT count(*)`+removed+`)`, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	// The page is among the first offset+limit live rows and the removed
	// ones (few: an hour's deletions of the list). Bounding the live rows
	// lets the planner merge the two index scans in seq order instead of
	// sorting the whole list.
	out, err := query(ctx, t, scan, `SELECT `+columns+` FROM (
			(SELECT seq, `+columns+live+` ORDER BY seq LIMIT `+param(n+3)+`::bigint + `+param(n+4)+`::bigint)
			UNION ALL SELECT seq, `+columns+removed+`) AS listed
		ORDER BY seq LIMIT `+param(n+3)+`::bigint OFFSET `+param(n+4)+`::bigint`, append(args, limit, offset)...)
	return out, total, err
}

// remove keeps the row id of table, one of the lists items are removed
// from, in removed_<table> with the id of the removing transaction;
// ErrNotFound when there is no such row. The caller deletes or changes the
// row itself.
func (t *tx) remove(ctx context.Context, table, columns, projectID, id string, at time.Time) error {
	return affected(t.exec(ctx, `INSERT INTO removed_`+table+` (seq, `+columns+`, removal, removed_at)
		SELECT seq, `+columns+`, pg_current_xact_id(), $2 FROM `+table+`
		WHERE project_id = $1 AND id = $3`, projectID, at, id))
}

// deleteListed deletes the row id of table, one of the lists items are
// removed from, keeping it for the listings of the list (remove).
func (t *tx) deleteListed(ctx context.Context, table, columns, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, table, columns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.exec(ctx, `DELETE FROM `+table+` WHERE project_id = $1 AND id = $2`, projectID, id))
}

// removedTables are the tables remove keeps rows in.
var removedTables = []string{"removed_export_buckets", "removed_private_endpoints", "removed_snapshots"}

func (t *tx) PurgeRemoved(ctx context.Context, before time.Time) (int, error) {
	n := 0
	for _, table := range removedTables {
		tag, err := t.exec(ctx, `DELETE FROM `+table+` WHERE removed_at < $1`, before)
		if err != nil {
			return n, err
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
