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
	_, err := ls.db.conns(ctx).Exec(ctx, `WITH expired AS (DELETE FROM listings WHERE expires_at <= $7 AND key <> $1)
		INSERT INTO listings (`+sqlrow.ListingColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO UPDATE SET removals = excluded.removals, buckets = excluded.buckets,
			endpoints = excluded.endpoints, snapshots = excluded.snapshots, expires_at = excluded.expires_at`,
		append(sqlrow.ListingValues(l), now)...)
	return err
}

func (ls listings) Listing(ctx context.Context, key string, now time.Time) (*snapexport.Listing, error) {
	return sqlrow.ScanListing(ls.db.conns(ctx).QueryRow(ctx, `SELECT `+sqlrow.ListingColumns+` FROM listings
		WHERE key = $1 AND expires_at > $2`, key, now))
}

// countedPage reads how many rows of table match where (whose parameters
// args are $1 to $len(args)) and one page of them, in seq order.
func countedPage[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	columns, table, where string, args []any, page snapexport.Page) ([]*T, int, error) {
	from := ` FROM ` + table + ` WHERE (` + where + `)`
	return readPage(ctx, t, scan, columns, `SELECT count(*)`+from, args, []string{from}, args, page)
}

// pageOf reads the total and one page of a list: the rows of table that
// match where (whose parameters are $1 to $len(args)) or, for a page with
// a mark, the rows of the list of the mark: those of table and of
// removed_<table> created up to the mark's sequence number (seq of the
// mark) and, for removed ones, removed after it (not visible in the
// mark's snapshot), merged in seq order.
//
// The total is read from list_counts and list_count_changes, the project's
// items of table in parts (all when none; see migration 0016): for a mark,
// less the rows created after it and plus those removed after it, both
// found in index ranges that hold only the changes since the mark.
func pageOf[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	table, columns, where string, args []any, page snapexport.Page, seq func(snapexport.ListMark) int64,
	projectID string, parts ...string) ([]*T, int, error) {
	from := ` FROM ` + table + ` WHERE (` + where + `)`
	arms := []string{from}
	args = args[:len(args):len(args)]
	var mark, removed string
	if page.AsOf != nil {
		m := *page.AsOf
		mark = param(&args, seq(m))
		removed = ` FROM removed_` + table + ` WHERE (` + where + `) AND seq <= ` + mark +
			` AND NOT pg_visible_in_snapshot(removal, ` + param(&args, m.Removals) + `::text::pg_snapshot)`
		arms = []string{from + ` AND seq <= ` + mark, removed}
	}
	// The count refers to the list's parameters only through the mark's
	// arms, and PostgreSQL must be able to tell the type of every one.
	var countArgs []any
	if page.AsOf != nil {
		countArgs = args[:len(args):len(args)]
	}
	inList := ` WHERE project_id = ` + param(&countArgs, projectID) + ` AND list = ` + param(&countArgs, table)
	if len(parts) > 0 {
		inList += ` AND part = ANY(` + param(&countArgs, parts) + `)`
	}
	count := `SELECT coalesce((SELECT sum(items) FROM list_counts` + inList + `), 0) +
		coalesce((SELECT sum(items) FROM list_count_changes` + inList + `), 0)`
	if page.AsOf != nil {
		count += ` - (SELECT count(*)` + from + ` AND seq > ` + mark + `) + (SELECT count(*)` + removed + `)`
	}
	return readPage(ctx, t, scan, columns, count, countArgs, arms, args, page)
}

// param appends v to args and returns its placeholder.
func param(args *[]any, v any) string {
	*args = append(*args, v)
	return "$" + strconv.Itoa(len(*args))
}

// readPage reads the total (the statement count, with the parameters
// countArgs, unless the page skips it) and one page, in seq order, of the
// list that is the union of arms (" FROM <table> WHERE …", which a
// condition on seq can extend), whose parameters are args. A page after
// the first starts from its Seek's After or else at the seq found at its
// offset in the arms' index entries, so that the rows before the page are
// skipped without being read. Each arm is bounded to the rows the page can
// be among, which lets the planner merge the index scans in seq order
// instead of sorting the list (the removed rows are few: an hour's
// deletions of the list).
func readPage[T any](ctx context.Context, t *tx, scan func(sqlrow.Scanner) (*T, error),
	columns, count string, countArgs []any, arms []string, args []any, page snapexport.Page) ([]*T, int, error) {
	n := len(args)
	// union selects the list's rows past bound, at most limit of them
	// (NULL: no limit) after skipping offset.
	union := func(selected, bound string, args *[]any, limit any, offset int) string {
		lim, off := param(args, limit), param(args, offset)
		var stmt string
		for i, a := range arms {
			if i > 0 {
				stmt += ` UNION ALL `
			}
			stmt += `(SELECT ` + selected + a + bound + ` ORDER BY seq LIMIT ` + lim + `::bigint + ` + off + `::bigint)`
		}
		return `SELECT ` + selected + ` FROM (` + stmt + `) AS listed ORDER BY seq LIMIT ` + lim + `::bigint OFFSET ` + off + `::bigint`
	}
	total := 0
	if !page.SkipTotal {
		if err := t.queryRow(ctx, count, countArgs...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	pageArgs := args[:n:n]
	bound := ""
	switch {
	case page.Seek != nil && page.Seek.After > 0:
		bound = ` AND seq > ` + param(&pageArgs, page.Seek.After)
	case page.Offset > 0:
		firstArgs := args[:n:n]
		var first int64
		if err := t.queryRow(ctx, `SELECT coalesce((`+union(`seq`, ``, &firstArgs, 1, page.Offset)+`), 0)`, firstArgs...).Scan(&first); err != nil {
			return nil, 0, err
		}
		if first == 0 {
			return nil, page.Total(total, 0), nil
		}
		bound = ` AND seq >= ` + param(&pageArgs, first)
	}
	var limit any
	if page.Limit > 0 {
		limit = page.Limit
		if page.SkipTotal {
			// One more than the page, which tells whether a page follows.
			limit = page.Limit + 1
		}
	}
	var rows sqlrow.PageRows
	stmt := union(`seq, `+columns, bound, &pageArgs, limit, 0)
	out, err := query(ctx, t, func(s sqlrow.Scanner) (*T, error) { return scan(rows.Row(s)) }, stmt, pageArgs...)
	if err != nil {
		return nil, 0, err
	}
	read := len(out)
	out = snapexport.CutPage(page, out, rows.Seqs)
	return out, page.Total(total, read), nil
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
	// The changes of lists' counts are folded into the counts here too,
	// by the same periodic sweep, so that few are summed when a page is
	// counted.
	if _, err := t.exec(ctx, `WITH folded AS (DELETE FROM list_count_changes RETURNING project_id, list, part, items)
		INSERT INTO list_counts (project_id, list, part, items)
		SELECT project_id, list, part, sum(items) FROM folded GROUP BY project_id, list, part
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = list_counts.items + excluded.items`); err != nil {
		return 0, err
	}
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
