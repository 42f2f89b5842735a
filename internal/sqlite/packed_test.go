package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func TestScanPacked(t *testing.T) {
	var (
		text, text2 string
		n           int64
		small       int
		f           float64
		b           bool
		null        sql.NullString
		at          sql.NullTime
	)
	cases := []struct {
		name   string
		packed string
		dest   []any
		want   []any // what dest points to after the scan; nil: an error
	}{
		{"values of each kind", `["a",-42,7,1.5,1,null]`, []any{&text, &n, &small, &f, &b, &null},
			[]any{"a", int64(-42), 7, 1.5, true, sql.NullString{}}},
		{"empty string and false", `["",0]`, []any{&text, &b}, []any{"", false}},
		{"integer into a float", `[3]`, []any{&f}, []any{3.0}},
		{"scanner given text", `["x"]`, []any{&null}, []any{sql.NullString{String: "x", Valid: true}}},
		{"separators inside strings", `["a,\"]b","],["]`, []any{&text, &text2}, []any{`a,"]b`, "],["}},
		{"escapes", `["\"\\\/\b\f\n\r\t\u0000\u001f","é😀 \u00e9 \ud83d\ude00"]`, []any{&text, &text2},
			[]any{"\"\\/\b\f\n\r\t\x00\x1f", "é😀 é 😀"}},
		{"bytes kept as they are", "[\"\xff\xfe\\n\"]", []any{&text}, []any{"\xff\xfe\n"}},
		{"no array", `"a"`, []any{&text}, nil},
		{"fewer values", `["a"]`, []any{&text, &text2}, nil},
		{"more values", `["a","b"]`, []any{&text}, nil},
		{"unterminated string", `["a`, []any{&text}, nil},
		{"unterminated escaped string", `["a\"]`, []any{&text}, nil},
		{"unknown escape", `["\x"]`, []any{&text}, nil},
		{"short \\u escape", `["\u12"]`, []any{&text}, nil},
		{"bool neither 0 nor 1", `[2]`, []any{&b}, nil},
		{"string into an integer", `["1"]`, []any{&n}, nil},
		{"real into an integer", `[1.5]`, []any{&n}, nil},
		{"null into a string", `[null]`, []any{&text}, nil},
		{"no number", `[true]`, []any{&n}, nil},
		{"scanner refusing its value", `["not a time"]`, []any{&at}, nil},
		{"destination of no kind known", `[1]`, []any{new(uint8)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := scanPacked(c.packed, c.dest)
			if c.want == nil {
				if err == nil {
					t.Fatalf("scanPacked(%q) succeeded, want an error", c.packed)
				}
				return
			}
			if err != nil {
				t.Fatalf("scanPacked(%q): %v", c.packed, err)
			}
			for i, d := range c.dest {
				var got any
				switch d := d.(type) {
				case *string:
					got = *d
				case *int64:
					got = *d
				case *int:
					got = *d
				case *float64:
					got = *d
				case *bool:
					got = *d
				case *sql.NullString:
					got = *d
				}
				if got != c.want[i] {
					t.Errorf("value %d = %#v, want %#v", i, got, c.want[i])
				}
			}
		})
	}
}

// FuzzPackedRoundTrip: whatever text and integers columns hold, SQLite's
// json_array packs them as scanPacked reads them back, byte for byte.
func FuzzPackedRoundTrip(f *testing.F) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.TempDir(), "packed.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	f.Add("plain", "\"quoted\" \\ and\nlines\x00\x1f\x7f", int64(-1))
	f.Add("é😀\u2028\ufeff", "\xff\xc0\x80 invalid", int64(1)<<62)
	f.Add("", "]", int64(0))
	f.Fuzz(func(t *testing.T, a, b string, n int64) {
		var packed string
		if err := db.QueryRow(`SELECT json_array(?, ?, ?)`, a, b, n).Scan(&packed); err != nil {
			t.Skip("not a value SQLite packs:", err)
		}
		var gotA, gotB string
		var gotN int64
		if err := scanPacked(packed, []any{&gotA, &gotB, &gotN}); err != nil {
			t.Fatalf("scanPacked(%q): %v", packed, err)
		}
		if gotA != a || gotB != b || gotN != n {
			t.Fatalf("scanPacked(%q) = %q, %q, %d; want %q, %q, %d", packed, gotA, gotB, gotN, a, b, n)
		}
	})
}

// TestPackedBucketsListed: a list page reads buckets from their packed
// column (migration 0015), which the triggers keep equal to the columns
// through creates, updates and removals: every field of each bucket, odd
// characters included, reads back from a page as from the bucket's own
// read, before and after an update, and from the removed rows of a listing
// whose mark precedes their deletion.
func TestPackedBucketsListed(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "snapexport.db"))
	defer db.Close()
	org := &snapexport.Organization{ID: "6500000000000000000000a1", Name: "org", CreatedAt: time.Now()}
	project := &snapexport.Project{ID: "6500000000000000000000b1", OrgID: org.ID, Name: "project", CreatedAt: time.Now()}
	buckets := []*snapexport.ExportBucket{
		{ID: "6500000000000000000000c1", ProjectID: project.ID, Provider: snapexport.AWS, BucketName: "plain-bucket",
			RoleID: "6500000000000000000000d1", Region: "us-east-1", CreatedAt: time.Date(2026, 12, 7, 1, 2, 3, 456_789_012, time.UTC)},
		{ID: "6500000000000000000000c2", ProjectID: project.ID, Provider: snapexport.Azure, BucketName: "odd \"name\" \\ ,] \n\x00 é😀 \xff",
			RoleID: "6500000000000000000000d2", Region: "", RequirePrivateNetworking: true,
			ServiceURL: "https://account.blob.core.windows.net/?a=\"b\"&c=\\", TenantID: "tenant\t1",
			CreatedAt: time.Date(2025, 1, 31, 23, 59, 59, 999_999_999, time.UTC)},
		{ID: "6500000000000000000000c3", ProjectID: project.ID, Provider: snapexport.GCP, BucketName: "gcs-bucket",
			RoleID: "6500000000000000000000d3", CreatedAt: time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
	}
	err := db.Write(ctx, func(tx snapexport.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, project); err != nil {
			return err
		}
		for _, b := range buckets {
			if err := tx.CreateExportBucket(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantListed(t, db, project.ID, nil, buckets)

	buckets[0].Region, buckets[0].RequirePrivateNetworking = "eu-west-1", true
	var mark snapexport.ListMark
	err = db.Write(ctx, func(tx snapexport.Tx) error {
		if err := tx.UpdateExportBucket(ctx, buckets[0]); err != nil {
			return err
		}
		var err error
		mark, err = tx.ListMark(ctx, project.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantListed(t, db, project.ID, nil, buckets)

	err = db.Write(ctx, func(tx snapexport.Tx) error {
		return tx.DeleteExportBucket(ctx, project.ID, buckets[1].ID, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	wantListed(t, db, project.ID, &mark, buckets)
	wantListed(t, db, project.ID, nil, []*snapexport.ExportBucket{buckets[0], buckets[2]})
}

// wantListed reads the list of project (of mark, when not nil) as one page
// and wants it to be want, field by field.
func wantListed(t *testing.T, db *DB, projectID string, mark *snapexport.ListMark, want []*snapexport.ExportBucket) {
	t.Helper()
	var got []*snapexport.ExportBucket
	err := db.Read(context.Background(), func(tx snapexport.Tx) error {
		var err error
		got, _, err = tx.ListExportBuckets(context.Background(), projectID, nil, snapexport.Page{Limit: 10, AsOf: mark})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d buckets, want %d", len(got), len(want))
	}
	for i, b := range got {
		w := *want[i]
		w.CreatedAt = w.CreatedAt.UTC()
		if *b != w {
			t.Errorf("bucket %d listed as\n%+v, want\n%+v", i, *b, w)
		}
	}
}

// TestPackedBucketsMigrated: buckets kept before migration 0015, live and
// removed, list with every field once the database is migrated.
func TestPackedBucketsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v14.db")
	r := raw(t, path)
	const before = 14 // the last migration without packed buckets
	migrateTo(t, r, before)
	created := sqlrow.FormatTime(time.Date(2026, 8, 10, 3, 2, 50, 123, time.UTC))
	for _, q := range []string{
		`INSERT INTO organizations (id, name, created_at) VALUES ('o', 'org', '` + created + `')`,
		`INSERT INTO projects (id, org_id, name, created_at, removals) VALUES ('p', 'o', 'project', '` + created + `', 1)`,
		`INSERT INTO export_buckets (seq, ` + sqlrow.ExportBucketColumns + `)
			VALUES (1, 'b1', 'p', 'AWS', 'one "quoted"', 'r1', 'us-east-1', 1, '', '', '` + created + `'),
			(3, 'b3', 'p', 'AZURE', 'three', 'r3', '', 0, 'https://a.blob.core.windows.net', 'tenant', '` + created + `')`,
		`INSERT INTO removed_export_buckets (seq, ` + sqlrow.ExportBucketColumns + `, removal, removed_at)
			VALUES (2, 'b2', 'p', 'GCP', 'two', 'r2', '', 0, '', '', '` + created + `', 1, '` + created + `')`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	r.Close()

	db := open(t, path)
	defer db.Close()
	at, _ := time.Parse(sqlrow.TimeFormat, created)
	b1 := &snapexport.ExportBucket{ID: "b1", ProjectID: "p", Provider: snapexport.AWS, BucketName: `one "quoted"`, RoleID: "r1",
		Region: "us-east-1", RequirePrivateNetworking: true, CreatedAt: at}
	b2 := &snapexport.ExportBucket{ID: "b2", ProjectID: "p", Provider: snapexport.GCP, BucketName: "two", RoleID: "r2", CreatedAt: at}
	b3 := &snapexport.ExportBucket{ID: "b3", ProjectID: "p", Provider: snapexport.Azure, BucketName: "three", RoleID: "r3",
		ServiceURL: "https://a.blob.core.windows.net", TenantID: "tenant", CreatedAt: at}
	wantListed(t, db, "p", nil, []*snapexport.ExportBucket{b1, b3})
	// A listing marked before the removal (removals 0) still holds b2.
	wantListed(t, db, "p", &snapexport.ListMark{Removals: "0", Buckets: 3}, []*snapexport.ExportBucket{b1, b2, b3})
}

// TestPackedColumnsInOrder: the triggers of a new database pack the
// columns of sqlrow.ExportBucketColumns, in its order, so that a column
// added to the row format and not to the triggers fails here.
func TestPackedColumnsInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapexport.db")
	open(t, path).Close()
	r := raw(t, path)
	defer r.Close()
	packs := "json_array(new." + strings.Join(strings.Split(sqlrow.ExportBucketColumns, ", "), ", new.") + ")"
	for _, trigger := range []string{"export_buckets_packed", "export_buckets_repacked", "removed_export_buckets_packed"} {
		var body string
		if err := r.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`, trigger).Scan(&body); err != nil {
			t.Fatalf("trigger %s: %v", trigger, err)
		}
		if got := strings.Join(strings.Fields(body), " "); !strings.Contains(got, packs) {
			t.Errorf("trigger %s does not pack %s:\n%s", trigger, packs, got)
		}
	}
}
