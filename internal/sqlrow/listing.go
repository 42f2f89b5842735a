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

// SeqThen scans a row whose first column is its seq, the creation order a
// list is paged by, which it appends to seqs, and the rest into the
// destinations given to Scan.
func SeqThen(s Scanner, seqs *[]int64) Scanner { return seqThen{s, seqs} }

type seqThen struct {
	s    Scanner
	seqs *[]int64
}

func (a seqThen) Scan(dest ...any) error {
	var seq int64
	err := a.s.Scan(append([]any{&seq}, dest...)...)
	*a.seqs = append(*a.seqs, seq)
	return err
}
