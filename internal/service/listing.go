package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

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
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		opened = nil
		p := page
		p.AsOf = asOf
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
	if err != nil || opened == nil {
		return items, total, err
	}
	err = s.Store.Listings().SaveListing(ctx, &snapexport.Listing{Key: key, Mark: *opened, ExpiresAt: now.Add(snapexport.ListingLifetime)}, now)
	return items, total, err
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
