package sqlrow

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// row is a Scanner of fixed column values, handed to each destination as
// database/sql hands a driver's value to a sql.Scanner.
type row []any

func (r row) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("%d destinations for %d columns", len(dest), len(r))
	}
	for i, d := range dest {
		if s, ok := d.(sql.Scanner); ok {
			if err := s.Scan(r[i]); err != nil {
				return fmt.Errorf("column %d: %w", i, err)
			}
			continue
		}
		v, to := reflect.ValueOf(r[i]), reflect.ValueOf(d).Elem()
		if !v.Type().ConvertibleTo(to.Type()) {
			return fmt.Errorf("column %d: %T into %T", i, r[i], d)
		}
		to.Set(v.Convert(to.Type()))
	}
	return nil
}

// TestTimeColumns reads a time as each store hands it over: SQLite's text
// (as a string or as bytes) and PostgreSQL's time.Time in any zone; all
// read as the same instant, in UTC.
func TestTimeColumns(t *testing.T) {
	at := time.Date(2026, 7, 8, 9, 10, 11, 123456789, time.FixedZone("", -7*3600))
	text := FormatTime(at)
	if text != "2026-07-08T16:10:11.123456789Z" {
		t.Errorf("FormatTime = %q", text)
	}
	for _, src := range []any{text, []byte(text), at, at.UTC()} {
		got, err := ScanOrganization(row{"id", "name", src})
		if err != nil {
			t.Errorf("created_at %T %v: %v", src, src, err)
			continue
		}
		if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at %T %v read as %v, want %v in UTC", src, src, got.CreatedAt, at.UTC())
		}
	}
}

func TestNullTimeColumns(t *testing.T) {
	issued := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	revoked := issued.Add(time.Minute)
	got, err := ScanAccessToken(row{"hash", "sa", issued, FormatTime(issued), nil})
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokedAt != nil {
		t.Errorf("revoked_at NULL read as %v, want nil", got.RevokedAt)
	}
	for _, src := range []any{revoked, FormatTime(revoked)} {
		got, err := ScanAccessToken(row{"hash", "sa", issued, issued, src})
		if err != nil {
			t.Fatal(err)
		}
		if got.RevokedAt == nil || !got.RevokedAt.Equal(revoked) {
			t.Errorf("revoked_at %T read as %v, want %v", src, got.RevokedAt, revoked)
		}
	}
}

func TestTimeColumnErrors(t *testing.T) {
	if _, err := ScanOrganization(row{"id", "name", nil}); err == nil {
		t.Error("NULL created_at read without an error")
	}
	if _, err := ScanOrganization(row{"id", "name", int64(1)}); err == nil {
		t.Error("an integer created_at read without an error")
	}
}

func TestNotFound(t *testing.T) {
	for _, err := range []error{sql.ErrNoRows, fmt.Errorf("wrapped: %w", sql.ErrNoRows)} {
		if got := NotFound(err); !errors.Is(got, snapexport.ErrNotFound) {
			t.Errorf("NotFound(%v) = %v, want ErrNotFound", err, got)
		}
	}
	other := errors.New("other")
	if got := NotFound(other); got != other {
		t.Errorf("NotFound(%v) = %v, want it unchanged", other, got)
	}
	if _, err := ScanProject(errRow{sql.ErrNoRows}); !errors.Is(err, snapexport.ErrNotFound) {
		t.Errorf("ScanProject of no row: %v, want ErrNotFound", err)
	}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// TestStoredLists checks the JSON text of lists: "[]" when empty, read
// back as nil, as the domain keeps empty lists.
func TestStoredLists(t *testing.T) {
	c := &snapexport.Cluster{ID: "c", Labels: []snapexport.Label{{Key: "k", Value: "v"}}, Shards: []snapexport.Shard{}}
	values := ClusterValues(c)
	labels, shards := values[8], values[9]
	if labels != `[{"key":"k","value":"v"}]` || shards != "[]" {
		t.Errorf("labels %v, shards %v", labels, shards)
	}
	var back []snapexport.Shard
	if err := loadList("[]", &back, "cluster", "c", "shards"); err != nil || back != nil {
		t.Errorf(`loadList("[]") = %v, %v; want nil`, back, err)
	}
}

// TestStoredListErrors checks that a list that does not read back names
// the item and the list.
func TestStoredListErrors(t *testing.T) {
	at := FormatTime(time.Now())
	_, err := ScanCluster(row{"c1", "p", "n", "SHARDED", "8.0.1", "AWS", "US_EAST_1", "M10", "[]", "not JSON", true, "", "", false, "", "[]", 0, 0, 7, at,
		"[]", true, false, at, nil, false, false, []byte(nil), "", "[]", ""})
	if err == nil || !strings.Contains(err.Error(), "cluster c1 shards") {
		t.Errorf("ScanCluster of bad shards: %v, want an error naming cluster c1 shards", err)
	}
	_, err = ScanCluster(row{"c1", "p", "n", "SHARDED", "8.0.1", "AWS", "US_EAST_1", "M10", "[]", "[]", true, "", "", false, "", "{", 0, 0, 7, at,
		"[]", true, false, at, nil, false, false, []byte(nil), "", "[]", ""})
	if err == nil || !strings.Contains(err.Error(), "cluster c1 policy_items") {
		t.Errorf("ScanCluster of bad policy items: %v, want an error naming cluster c1 policy_items", err)
	}
	_, err = ScanCluster(row{"c1", "p", "n", "SHARDED", "8.0.1", "AWS", "US_EAST_1", "M10", "[]", "[]", true, "", "", false, "", "[]", 0, 0, 7, at,
		"[{", true, false, at, nil, false, false, []byte(nil), "", "[]", ""})
	if err == nil || !strings.Contains(err.Error(), "cluster c1 tags") {
		t.Errorf("ScanCluster of bad tags: %v, want an error naming cluster c1 tags", err)
	}
	_, err = ScanCluster(row{"c1", "p", "n", "SHARDED", "8.0.1", "AWS", "US_EAST_1", "M10", "[]", "[]", true, "", "", false, "", "[]", 0, 0, 7, at,
		"[]", true, false, at, nil, false, false, []byte("sealed"), "mongodb://db", "db", "none"})
	if err == nil || !strings.Contains(err.Error(), "cluster c1 deployment_hosts") {
		t.Errorf("ScanCluster of bad deployment hosts: %v, want an error naming cluster c1 deployment_hosts", err)
	}
}

// TestParseTimeAsTimeParse: parseTime reads every text as time.Parse with
// TimeFormat reads it, the zero time where time.Parse refuses it: times
// FormatTime wrote, and text in other forms or of dates that do not exist.
func TestParseTimeAsTimeParse(t *testing.T) {
	texts := []string{
		"2026-07-08T16:10:11.123456789Z", "0001-01-01T00:00:00.000000000Z", "9999-12-31T23:59:59.999999999Z",
		"2024-02-29T00:00:00.000000000Z", "2025-02-29T00:00:00.000000000Z", "2026-04-31T12:00:00.000000000Z",
		"2026-13-01T00:00:00.000000000Z", "2026-00-10T00:00:00.000000000Z", "2026-01-00T00:00:00.000000000Z",
		"2026-01-01T24:00:00.000000000Z", "2026-01-01T23:60:00.000000000Z", "2026-01-01T23:59:60.000000000Z",
		"2026-01-01T00:00:00.000000000+02:00", "2026-01-01T00:00:00.00000000Z", "2026-01-01 00:00:00.000000000Z",
		"2026-01-0aT00:00:00.000000000Z", "2026-01-01T00:00:00.00000000aZ", "+026-01-01T00:00:00.000000000Z",
		"", "garbage",
	}
	for at := time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC); at.Year() < 2100; at = at.Add(97*24*time.Hour + 3*time.Hour + 7*time.Minute + 11*time.Second + 123456789) {
		texts = append(texts, FormatTime(at))
	}
	for _, text := range texts {
		want, _ := time.Parse(TimeFormat, text)
		if got := parseTime(text); !got.Equal(want) || got.Location() != want.Location() {
			t.Errorf("parseTime(%q) = %v, want %v as time.Parse reads it", text, got, want)
		}
	}
}

// BenchmarkParseTime compares parseTime with time.Parse on the text of a
// stored time.
//
//	go test ./internal/sqlrow -run '^$' -bench ParseTime
func BenchmarkParseTime(b *testing.B) {
	text := FormatTime(time.Date(2026, 7, 8, 9, 10, 11, 123456789, time.UTC))
	b.Run("parser=time.Parse", func(b *testing.B) {
		for b.Loop() {
			time.Parse(TimeFormat, text)
		}
	})
	b.Run("parser=parseTime", func(b *testing.B) {
		for b.Loop() {
			parseTime(text)
		}
	})
}

// TestExportBucketRows: the buckets of a page, read through one
// ExportBucketRows across more than one block, each read as
// ScanExportBucket reads it and none changed by the rows read after it;
// a failed row is the scanner's error.
func TestExportBucketRows(t *testing.T) {
	at := time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)
	columns := func(i int) row {
		n := fmt.Sprint(i)
		return row{"id" + n, "p" + n, "AZURE", "bucket" + n, "role" + n, "region" + n, i%2 == 0, "https://" + n, "tenant" + n,
			FormatTime(at.Add(time.Duration(i) * time.Second))}
	}
	var rows ExportBucketRows
	var got []*snapexport.ExportBucket
	for i := range 2*exportBucketBlock + 3 {
		b, err := rows.Scan(columns(i))
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		got = append(got, b)
	}
	for i, b := range got {
		want, err := ScanExportBucket(columns(i))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b, want) {
			t.Errorf("row %d read as %+v, want %+v", i, b, want)
		}
	}
	if _, err := rows.Scan(row{"too", "few"}); err == nil {
		t.Error("a row of 2 columns scanned without an error")
	}
	if _, err := rows.Scan(row{}); err == nil || !strings.Contains(err.Error(), "destinations") {
		t.Errorf("a failed scan = %v, want the scanner's error", err)
	}
}
