package sqlrow

import "github.com/snapexport/snapexport"

// ListingColumns are the columns of listings that ListingValues fills and
// ScanListing reads, in that order.
const ListingColumns = `key, removals, buckets, endpoints, snapshots, expires_at`

func ListingValues(l *snapexport.Listing) []any {
	return []any{l.Key, l.Mark.Removals, l.Mark.Buckets, l.Mark.Endpoints, l.Mark.Snapshots, l.ExpiresAt}
}

func ScanListing(s Scanner) (*snapexport.Listing, error) {
	var l snapexport.Listing
	m := &l.Mark
	if err := s.Scan(&l.Key, &m.Removals, &m.Buckets, &m.Endpoints, &m.Snapshots, timeColumn{&l.ExpiresAt}); err != nil {
		return nil, NotFound(err)
	}
	return &l, nil
}

// PageRows scans the rows of a list page, whose first column is the row's
// seq, the creation order a list is paged by: Row makes it the Scanner of
// a row, which appends the row's seq to Seqs and scans its other columns
// into the destinations given to Scan. One PageRows serves every row of a
// page, so that scanning a row allocates nothing of its own.
type PageRows struct {
	Seqs []int64
	row  Scanner
	seq  int64
	args []any
}

// Row returns p as the Scanner of row s.
func (p *PageRows) Row(s Scanner) Scanner {
	p.row = s
	return p
}

func (p *PageRows) Scan(dest ...any) error {
	p.args = append(append(p.args[:0], &p.seq), dest...)
	err := p.row.Scan(p.args...)
	clear(p.args) // the destinations are the caller's row's, not to be kept
	p.Seqs = append(p.Seqs, p.seq)
	return err
}
