package sqlite

import (
	"context"
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

// listings keeps listings through the store's writer, in the commits of
// the writes around them, and reads them on the read connections. A batch
// of listings alone (the first page of a pass, a read) commits without
// waiting for the disk (writer.writeLazily): listings need not survive a
// crash, and one lost in a crash of the machine leaves its pass to go on
// from the list as it is then.
type listings struct{ db *DB }

// Listings implements snapexport.Store.
func (db *DB) Listings() snapexport.ListingStore { return listings{db} }

func (ls listings) SaveListing(ctx context.Context, l *snapexport.Listing, now time.Time) error {
	return ls.db.writer.writeLazily(ctx, func(t *tx) error { return saveListing(ctx, t.tx, l, now) })
}

// saveListing records l through q and forgets the listings expired at now.
func saveListing(ctx context.Context, q querier, l *snapexport.Listing, now time.Time) error {
	if _, err := exec(ctx, q, `DELETE FROM listings WHERE expires_at <= ?`, now); err != nil {
		return err
	}
	_, err := exec(ctx, q, `INSERT INTO listings (`+sqlrow.ListingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET removals = excluded.removals, buckets = excluded.buckets,
			endpoints = excluded.endpoints, snapshots = excluded.snapshots, expires_at = excluded.expires_at`,
		sqlrow.ListingValues(l)...)
	return err
}

// Listing reads in the shared read of ctx, when it has one: a page of a
// pass reads it before its page, in the request's transaction.
func (ls listings) Listing(ctx context.Context, key string, now time.Time) (l *snapexport.Listing, err error) {
	err = ls.db.Read(ctx, func(t snapexport.Tx) error {
		l, err = sqlrow.ScanListing(queryRow(ctx, t.(*tx).tx, `SELECT `+sqlrow.ListingColumns+` FROM listings
		WHERE key = ? AND expires_at > ?`, key, now))
		return err
	})
	return l, err
}

// countedPage reads how many rows of table match where (with the
// parameters args) and one page of them, in seq order.
func countedPage[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	columns, table, where string, args []any, page snapexport.Page) ([]*T, int, error) {
	from := ` FROM ` + table + ` WHERE (` + where + `)`
	return readPage(ctx, t, scan, columns, listArm{`SELECT count(*)` + from, args}, []listArm{{from, args}}, page)
}

// pageOf reads the total and one page of a list: the rows of table that
// match where or, for a page with a mark, the rows of the list of the mark:
// those of table and of removed_<table> created up to the mark's sequence
// number (seq of the mark) and, for removed ones, removed after it. The
// two are merged as a compound SELECT ordered by its first column, which
// SQLite merges from the two index ranges instead of sorting the list.
//
// The total is read from list_counts, the project's items of table in
// parts (all when none; see migration 0014): for a mark, less the rows
// created after it and plus those removed after it, both found in index
// ranges that hold only the changes since the mark. When the project has
// had no removal since the mark, the removed rows are not merged in at
// all: the page reads one index range, a fifth faster.
func pageOf[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	table, columns, where string, args []any, page snapexport.Page, seq func(snapexport.ListMark) int64,
	projectID string, parts ...string) ([]*T, int, error) {
	counted := `SELECT coalesce(sum(items), 0) FROM list_counts WHERE project_id = ? AND list = ?`
	countArgs := []any{projectID, table}
	if len(parts) > 0 {
		counted += ` AND part IN (` + placeholders(len(parts)) + `)`
		for _, p := range parts {
			countArgs = append(countArgs, p)
		}
	}
	from := ` FROM ` + table + ` WHERE (` + where + `)`
	if page.AsOf == nil {
		return readPage(ctx, t, scan, columns, listArm{counted, countArgs}, []listArm{{from, args}}, page)
	}
	m := *page.AsOf
	removals, err := strconv.ParseInt(m.Removals, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list mark %+v is not one of SQLite's: %w", m, err)
	}
	created := listArm{`SELECT (` + counted + `) - (SELECT count(*)` + from + ` AND seq > ?)`, slices.Concat(countArgs, args, []any{seq(m)})}
	marked := listArm{from + ` AND seq <= ?`, slices.Concat(args, []any{seq(m)})}
	var now int64
	if err := queryRow(ctx, t.tx, `SELECT coalesce((SELECT removals FROM projects WHERE id = ?), 0)`, projectID).Scan(&now); err != nil {
		return nil, 0, err
	}
	if now == removals {
		// Nothing was removed since the mark: the list is the table's
		// rows up to it, read without merging in the removed rows' range.
		return readPage(ctx, t, scan, columns, created, []listArm{marked}, page)
	}
	removed := ` FROM removed_` + table + ` WHERE (` + where + `) AND seq <= ? AND removal > ?`
	removedArgs := slices.Concat(args, []any{seq(m), removals})
	return readPage(ctx, t, scan, columns,
		listArm{created.from + ` + (SELECT count(*)` + removed + `)`, slices.Concat(created.args, removedArgs)},
		[]listArm{marked, {removed, removedArgs}}, page)
}

// listArm is one range of rows of a list: from, " FROM <table> WHERE …"
// (which a condition on seq can extend), and its parameters.
type listArm struct {
	from string
	args []any
}

// readPage reads the total (the statement count, unless the page skips it)
// and one page, in seq order, of the list that is the union of arms. A
// page after the first starts from its Seek's After or else at the seq
// found at its offset in the index entries of the arms (seq, the rowid, is
// in every index), so that the rows before the page are skipped without
// being read.
func readPage[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	columns string, count listArm, arms []listArm, page snapexport.Page) ([]*T, int, error) {
	union := func(selected, bound string, boundArgs ...any) (string, []any) {
		var stmt string
		var args []any
		for i, a := range arms {
			if i > 0 {
				stmt += ` UNION ALL `
			}
			stmt += `SELECT ` + selected + a.from + bound
			args = slices.Concat(args, a.args, boundArgs)
		}
		return stmt + ` ORDER BY 1`, args
	}
	total := 0
	if !page.SkipTotal {
		if err := queryRow(ctx, t.tx, count.from, count.args...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	bound, boundArgs := "", []any(nil)
	switch {
	case page.Seek != nil && page.Seek.After > 0:
		bound, boundArgs = ` AND seq > ?`, []any{page.Seek.After}
	case page.Offset > 0:
		stmt, args := union(`seq`, ``)
		var first int64
		if err := queryRow(ctx, t.tx, `SELECT coalesce((`+stmt+` LIMIT 1 OFFSET ?), 0)`, append(args, page.Offset)...).Scan(&first); err != nil {
			return nil, 0, err
		}
		if first == 0 {
			return nil, page.Total(total, 0), nil
		}
		bound, boundArgs = ` AND seq >= ?`, []any{first}
	}
	limit := page.Limit
	if limit <= 0 {
		limit = -1
	} else if page.SkipTotal {
		// One more than the page, which tells whether a page follows.
		limit++
	}
	var rows sqlrow.PageRows
	stmt, args := union(`seq, `+columns, bound, boundArgs...)
	out, err := query(ctx, t.tx, func(s sqlrow.Scanner) (*T, error) { return scan(rows.Row(s)) },
		stmt+` LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, 0, err
	}
	read := len(out)
	out = snapexport.CutPage(page, out, rows.Seqs)
	return out, page.Total(total, read), nil
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
