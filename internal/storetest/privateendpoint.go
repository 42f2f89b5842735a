package storetest

import (
	"testing"

	"github.com/snapexport/snapexport"
)

func (e *env) newEndpoint(projectID, region string) *snapexport.PrivateEndpoint {
	return &snapexport.PrivateEndpoint{ID: e.id(), ProjectID: projectID, Provider: snapexport.AWS, RegionName: region,
		VPCRegionName: "US_WEST_2", Status: snapexport.PrivateEndpointFailed, ConnectionName: "vpce-0123",
		ErrorMessage: "no endpoint", CreatedAt: e.now()}
}

var privateEndpointTests = []test{
	{"CreateGetListDelete", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		var made []*snapexport.PrivateEndpoint
		for _, region := range []string{"US_EAST_1", "EU_WEST_1", "AP_SOUTH_1"} {
			ep := e.newEndpoint(p.ID, region)
			e.mustWrite(func(tx snapexport.Tx) error { return tx.CreatePrivateEndpoint(e.ctx, ep) })
			made = append(made, ep)
		}
		plain := &snapexport.PrivateEndpoint{ID: e.id(), ProjectID: p.ID, Provider: snapexport.AWS, RegionName: "GLOBAL",
			VPCRegionName: "GLOBAL", Status: snapexport.PrivateEndpointActive, CreatedAt: e.now()}
		e.mustWrite(func(tx snapexport.Tx) error { return tx.CreatePrivateEndpoint(e.ctx, plain) })
		made = append(made, plain)

		e.mustRead(func(tx snapexport.Tx) error {
			for _, want := range made {
				e.wantItem(t, tx, "PrivateEndpoint", want)
			}
			missing(t, "PrivateEndpoint(another project's)")(tx.PrivateEndpoint(e.ctx, other.ID, made[0].ID))

			page, total, err := tx.ListPrivateEndpoints(e.ctx, p.ID, snapexport.AWS, snapexport.Page{Offset: 1, Limit: 2})
			noErr(t, "ListPrivateEndpoints", err)
			if total != len(made) || len(page) != 2 || page[0].ID != made[1].ID || page[1].ID != made[2].ID {
				t.Errorf("ListPrivateEndpoints(offset 1, limit 2) = %d items of %d, want %s and %s of %d", len(page), total, made[1].ID, made[2].ID, len(made))
			}
			none, total, err := tx.ListPrivateEndpoints(e.ctx, p.ID, snapexport.GCP, snapexport.Page{})
			noErr(t, "ListPrivateEndpoints(GCP)", err)
			if total != 0 || len(none) != 0 {
				t.Errorf("ListPrivateEndpoints(GCP) = %d of %d, want none", len(none), total)
			}
			return nil
		})

		dup := e.newEndpoint(p.ID, "CA_CENTRAL_1")
		dup.ID = made[0].ID
		e.wantWriteErr(t, "CreatePrivateEndpoint(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreatePrivateEndpoint(e.ctx, dup) })

		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeletePrivateEndpoint(e.ctx, p.ID, made[0].ID, e.now()) })
		e.wantWriteErr(t, "DeletePrivateEndpoint(deleted)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeletePrivateEndpoint(e.ctx, p.ID, made[0].ID, e.now()) })
		e.wantWriteErr(t, "DeletePrivateEndpoint(another project's)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeletePrivateEndpoint(e.ctx, other.ID, made[1].ID, e.now()) })
	}},
}
