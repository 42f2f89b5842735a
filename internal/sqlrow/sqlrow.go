// Package sqlrow is the row format of the tables that both SQL stores
// (internal/sqlite and internal/postgres) keep: for each resource the
// columns its statements select and insert, the scan of such a row into the
// domain type and the values of its inserts and updates, in column order.
// The statements themselves, which differ in placeholders, conflict
// handling and locking, stay in the stores.
//
// Values are what both drivers take: strings, integers, booleans, time.Time
// and *time.Time (nil for NULL). The PostgreSQL store passes them on as
// they are; the SQLite store, whose time columns hold text, writes the
// times as FormatTime does in the one place its statements go through.
package sqlrow

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/snapexport/snapexport"
)

// Scanner is a row to read: *sql.Row and *sql.Rows of database/sql, pgx.Row
// and pgx.Rows of pgx, or a store's wrapper of one.
type Scanner = interface{ Scan(dest ...any) error }

// NotFound maps an empty result to snapexport.ErrNotFound: database/sql's
// sql.ErrNoRows, which pgx's ErrNoRows wraps.
func NotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return snapexport.ErrNotFound
	}
	return err
}

// TimeFormat is how a store without a time type (SQLite) keeps a time as
// text: in UTC, so that text order and equality are those of the instants,
// and exact to the nanosecond.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime is the text of t in TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// parseTime reads back what FormatTime wrote. Text in another form reads as
// the zero time, as the SQLite store has always read it.
func parseTime(s string) time.Time {
	t, _ := time.Parse(TimeFormat, s)
	return t
}

// timeColumn scans a time column into *t, in UTC: SQLite's text
// (TimeFormat) or the time.Time that pgx hands a sql.Scanner for a
// timestamptz, in the text and in the binary format alike.
type timeColumn struct{ t *time.Time }

func (c timeColumn) Scan(src any) error {
	t, null, err := timeOf(src)
	if err == nil && null {
		err = errors.New("sqlrow: NULL in a time column that is NOT NULL")
	}
	*c.t = t
	return err
}

// nullTimeColumn scans a time column that may be NULL into *t: nil for
// NULL.
type nullTimeColumn struct{ t **time.Time }

func (c nullTimeColumn) Scan(src any) error {
	t, null, err := timeOf(src)
	if err != nil || null {
		*c.t = nil
	} else {
		*c.t = &t
	}
	return err
}

func timeOf(src any) (t time.Time, null bool, err error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, true, nil
	case time.Time:
		return v.UTC(), false, nil
	case string:
		return parseTime(v), false, nil
	case []byte:
		return parseTime(string(v)), false, nil
	}
	return time.Time{}, false, fmt.Errorf("sqlrow: cannot read %T as a time", src)
}
