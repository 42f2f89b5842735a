package postgres

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/snapexport/snapexport/internal/pgtest"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

// TestScanTimes checks that pgx hands timestamptz columns to the
// sql.Scanner of the shared scans (sqlrow), in the binary format that
// prepared statements get and in the text format of the simple protocol,
// and that they read back as the same instant in UTC, NULL as nil.
func TestScanTimes(t *testing.T) {
	conn := connect(t, pgtest.URL(t))
	ctx := context.Background()
	issued := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.FixedZone("IST", 5*3600+30*60))
	expires := issued.Add(time.Hour)
	for _, tc := range []struct {
		mode   pgx.QueryExecMode
		format int16
	}{
		{pgx.QueryExecModeCacheStatement, pgtype.BinaryFormatCode},
		{pgx.QueryExecModeDescribeExec, pgtype.BinaryFormatCode},
		{pgx.QueryExecModeSimpleProtocol, pgtype.TextFormatCode},
	} {
		for _, revoked := range []*time.Time{nil, &expires} {
			rows, err := conn.Query(ctx, `SELECT 'hash', 'sa', $1::timestamptz, $2::timestamptz, $3::timestamptz`,
				tc.mode, issued, expires, revoked)
			if err != nil {
				t.Fatal(err)
			}
			if !rows.Next() {
				t.Fatalf("%v: no row: %v", tc.mode, rows.Err())
			}
			for _, f := range rows.FieldDescriptions()[2:] {
				if f.Format != tc.format {
					t.Errorf("%v: column %s in format %d, want %d", tc.mode, f.Name, f.Format, tc.format)
				}
			}
			got, err := sqlrow.ScanAccessToken(rows)
			rows.Close()
			if err != nil {
				t.Fatalf("%v: %v", tc.mode, err)
			}
			if !got.IssuedAt.Equal(issued) || got.IssuedAt.Location() != time.UTC || !got.ExpiresAt.Equal(expires) {
				t.Errorf("%v: issued %v, expires %v; want %v and %v in UTC", tc.mode, got.IssuedAt, got.ExpiresAt, issued.UTC(), expires.UTC())
			}
			switch {
			case revoked == nil && got.RevokedAt != nil:
				t.Errorf("%v: NULL revoked_at read as %v", tc.mode, got.RevokedAt)
			case revoked != nil && (got.RevokedAt == nil || !got.RevokedAt.Equal(*revoked)):
				t.Errorf("%v: revoked_at %v, want %v", tc.mode, got.RevokedAt, revoked)
			}
		}
	}
}

// TestNoRowsIsSQLNoRows checks what sqlrow.NotFound relies on: pgx's
// ErrNoRows wraps database/sql's.
func TestNoRowsIsSQLNoRows(t *testing.T) {
	if !errors.Is(pgx.ErrNoRows, sql.ErrNoRows) {
		t.Fatal("pgx.ErrNoRows does not wrap sql.ErrNoRows")
	}
}
