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
// the zero time, as the SQLite store has always read it. FormatTime's text
// (always in UTC) is read field by field, several times faster than
// time.Parse, which a list page's rows would otherwise spend a tenth of
// their time in; anything else goes to time.Parse.
func parseTime(s string) time.Time {
	if t, ok := parseUTC(s); ok {
		return t
	}
	t, _ := time.Parse(TimeFormat, s)
	return t
}

// parseUTC reads "2006-01-02T15:04:05.000000000Z"; ok is false for any
// other text, and for a date or time that does not exist.
func parseUTC(s string) (t time.Time, ok bool) {
	if len(s) != len("2006-01-02T15:04:05.000000000Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	number := func(digits string) int {
		n := 0
		for i := 0; i < len(digits); i++ {
			d := digits[i] - '0'
			if d > 9 {
				return -1
			}
			n = n*10 + int(d)
		}
		return n
	}
	year, month, day := number(s[0:4]), number(s[5:7]), number(s[8:10])
	hour, minute, second, nsec := number(s[11:13]), number(s[14:16]), number(s[17:19]), number(s[20:29])
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		second < 0 || second > 59 || nsec < 0 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, second, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // a day past the month's end, which time.Date would carry over
	}
	return t, true
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
