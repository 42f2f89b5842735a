package service

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/snapexport/snapexport"
)

// listPage reads one page of a project's list that items are removed from,
// in a client's pass through its pages. Atlas's pages are offsets, computed
// at each request, so a removal before a client's position would move the
// next page's first item onto the page the client has read. The first page
// of a pass therefore records the mark of the list it is cut from (when it
// is full: more pages may follow) and later pages are cut from the list of that mark:
// items present at the first page keep their positions until the pass
// ends, removed ones as they were. pass names the client and the list
// (path and filters); "" reads the list as it is. read lists page in tx
// and returns its items and the list's total, which listPage returns.
//
// The list of a mark does not change, so where a page of a pass ended is
// where the next one starts: the process remembers it (positions), in
// memory, and the next page seeks to it instead of skipping its offset.
func listPage[T any](ctx context.Context, s *Service, projectID, pass string, page snapexport.Page,
	read func(tx snapexport.Tx, page snapexport.Page) ([]T, int, error)) ([]T, int, error) {
	var items []T
	var total int
	if pass == "" {
		err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
			var err error
			items, total, err = read(tx, page)
			return err
		})
		return items, total, err
	}
	key := listingKey(pass)
	now := s.now()
	var asOf *snapexport.ListMark
	if page.Offset > 0 {
		l, err := s.Store.Listings().Listing(ctx, key, now)
		if err == nil {
			asOf = &l.Mark
		} else if !errors.Is(err, snapexport.ErrNotFound) {
			return nil, 0, err
		}
	}
	var opened *snapexport.ListMark
	seek := &snapexport.Seek{}
	if asOf != nil {
		seek.After = s.positions.find(key, *asOf, page.Offset, now)
	}
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		opened = nil
		p := page
		p.AsOf = asOf
		p.Seek = seek
		var mark snapexport.ListMark
		if p.AsOf == nil {
			// A first page, or a pass whose listing has expired.
			var err error
			if mark, err = tx.ListMark(ctx, projectID); err != nil {
				return err
			}
		}
		var err error
		if items, total, err = read(tx, p); err != nil {
			return err
		}
		// A full page may have pages after it, or clients that read on
		// until a short one.
		if p.AsOf == nil && page.Limit > 0 && len(items) == page.Limit {
			opened = &mark
		}
		return nil
	})
	if err != nil {
		return items, total, err
	}
	// Where the page starts and ends, for the next page and for this one
	// read again; a page read without a mark was read from the list of
	// the mark it opened, in the same transaction.
	if mark := cmp.Or(asOf, opened); mark != nil && seek.Last != 0 {
		if page.Offset > 0 {
			s.positions.keep(key, *mark, page.Offset, seek.First-1, now)
		}
		s.positions.keep(key, *mark, page.Offset+len(items), seek.Last, now)
	}
	if opened == nil {
		return items, total, nil
	}
	err = s.Store.Listings().SaveListing(ctx, &snapexport.Listing{Key: key, Mark: *opened, ExpiresAt: now.Add(snapexport.ListingLifetime)}, now)
	return items, total, err
}

// maxPagePositions bounds the positions a process remembers: beyond it,
// the pages of passes find their start through the store's indexes.
const maxPagePositions = 10000

// pagePositions are where pages of passes ended: for a pass's listing key
// and the offset of the page that would follow, the sequence number of the
// last item before it, valid for the list of one mark until the pass's
// listing expires.
type pagePositions struct {
	mu   sync.Mutex
	ends map[pagePosition]pageEnd
}

type pagePosition struct {
	key    string
	offset int
}

type pageEnd struct {
	mark      snapexport.ListMark
	seq       int64
	expiresAt time.Time
}

// find returns the Seek.After of the page at offset of the list of mark
// in pass key, or 0 when it is not known.
func (ps *pagePositions) find(key string, mark snapexport.ListMark, offset int, now time.Time) int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	e, ok := ps.ends[pagePosition{key, offset}]
	if !ok || e.mark != mark || !now.Before(e.expiresAt) {
		return 0
	}
	return e.seq
}

// keep records seq as the Seek.After of the page at offset of the list of
// mark in pass key.
func (ps *pagePositions) keep(key string, mark snapexport.ListMark, offset int, seq int64, now time.Time) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.ends == nil {
		ps.ends = make(map[pagePosition]pageEnd)
	}
	if len(ps.ends) >= maxPagePositions {
		for p, e := range ps.ends {
			if !now.Before(e.expiresAt) {
				delete(ps.ends, p)
			}
		}
		// Still full of live passes: forget any, whose next pages seek
		// through the indexes.
		for p := range ps.ends {
			if len(ps.ends) < maxPagePositions {
				break
			}
			delete(ps.ends, p)
		}
	}
	ps.ends[pagePosition{key, offset}] = pageEnd{mark, seq, now.Add(snapexport.ListingLifetime)}
}

// listingKey is the stored name of a pass: a digest, of fixed size, that
// does not spell out who lists what.
func listingKey(pass string) string {
	sum := sha256.Sum256([]byte(pass))
	return hex.EncodeToString(sum[:])
}

// SweepRemovedItems forgets the deleted items kept for listings once they
// are older than snapexport.RemovedRetention, and reports how many.
func (s *Service) SweepRemovedItems(ctx context.Context) (int, error) {
	return snapexport.WriteValue(ctx, s.Store, func(tx snapexport.Tx) (int, error) {
		return tx.PurgeRemoved(ctx, s.now().Add(-snapexport.RemovedRetention))
	})
}
