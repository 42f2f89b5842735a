package storetest

import (
	"fmt"
	"testing"

	"github.com/snapexport/snapexport"
)

var exportBucketTests = []test{
	{"CreateGet", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		for _, provider := range snapexport.CloudProviders {
			b := e.bucket(e.role(p.ID, provider))
			e.wantStored(t, "ExportBucket("+string(provider)+")", b)
		}
		// The zero values of optional fields round-trip too.
		plain := e.newBucket(e.role(p.ID, snapexport.AWS))
		plain.Region, plain.RequirePrivateNetworking = "", false
		e.mustWrite(func(tx snapexport.Tx) error { return tx.CreateExportBucket(e.ctx, plain) })
		e.wantStored(t, "ExportBucket(optional fields unset)", plain)
	}},
	{"GetMissing", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		b := e.bucket(e.role(p.ID, snapexport.GCP))
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "ExportBucket(missing)")(tx.ExportBucket(e.ctx, p.ID, e.id()))
			missing(t, "ExportBucket(bucket of another project)")(tx.ExportBucket(e.ctx, other.ID, b.ID))
			return nil
		})
	}},
	{"DuplicateID", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		r := e.role(p.ID, snapexport.AWS)
		b := e.bucket(r)
		dup := e.newBucket(r)
		dup.ID = b.ID
		e.wantWriteErr(t, "CreateExportBucket(duplicate id)", snapexport.ErrConflict, func(tx snapexport.Tx) error { return tx.CreateExportBucket(e.ctx, dup) })
		e.wantStored(t, "ExportBucket after a conflicting create", b)
	}},
	{"ListPagination", func(t *testing.T, e *env) {
		o := e.org()
		p, other, empty := e.project(o.ID), e.project(o.ID), e.project(o.ID)
		roles := map[snapexport.CloudProvider]*snapexport.CloudProviderAccessRole{}
		for _, provider := range snapexport.CloudProviders {
			roles[provider] = e.role(p.ID, provider)
		}
		otherRole := e.role(other.ID, snapexport.AWS)
		var all []*snapexport.ExportBucket
		byProvider := map[snapexport.CloudProvider][]*snapexport.ExportBucket{}
		// AWS, GCP, Azure, AWS, GCP, ... with another project's buckets between.
		for i := range 10 {
			provider := []snapexport.CloudProvider{snapexport.AWS, snapexport.GCP, snapexport.Azure}[i%3]
			b := e.bucket(roles[provider])
			all = append(all, b)
			byProvider[provider] = append(byProvider[provider], b)
			if i%4 == 0 {
				e.bucket(otherRole)
			}
		}
		var awsGCP []*snapexport.ExportBucket
		for _, b := range all {
			if b.Provider != snapexport.Azure {
				awsGCP = append(awsGCP, b)
			}
		}
		for _, c := range []struct {
			providers []snapexport.CloudProvider
			want      []*snapexport.ExportBucket
		}{
			{nil, all},
			{[]snapexport.CloudProvider{}, all},
			{snapexport.CloudProviders, all},
			{[]snapexport.CloudProvider{snapexport.AWS}, byProvider[snapexport.AWS]},
			{[]snapexport.CloudProvider{snapexport.Azure}, byProvider[snapexport.Azure]},
			{[]snapexport.CloudProvider{snapexport.GCP, snapexport.AWS}, awsGCP},
		} {
			for _, page := range []snapexport.Page{{}, {Limit: 2}, {Offset: 2, Limit: 2}, {Offset: 3, Limit: 100},
				{Offset: len(c.want) - 1, Limit: 2}, {Offset: len(c.want), Limit: 2}, {Offset: 100, Limit: 5}} {
				what := fmt.Sprintf("ListExportBuckets(providers=%v, %+v)", c.providers, page)
				e.mustRead(func(tx snapexport.Tx) error {
					paged(t, what, len(c.want), pageOf(c.want, page), bucketID)(tx.ListExportBuckets(e.ctx, p.ID, c.providers, page))
					return nil
				})
			}
		}
		e.mustRead(func(tx snapexport.Tx) error {
			got, total, err := tx.ListExportBuckets(e.ctx, empty.ID, nil, snapexport.Page{Limit: 10})
			noErr(t, "ListExportBuckets(project without buckets)", err)
			if total != 0 || len(got) != 0 {
				t.Errorf("ListExportBuckets(project without buckets) = %d items, total %d; want none", len(got), total)
			}
			return nil
		})
	}},
	{"ByRole", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r1, r2, unused := e.role(p.ID, snapexport.AWS), e.role(p.ID, snapexport.AWS), e.role(p.ID, snapexport.AWS)
		b1, _, b3, _ := e.bucket(r1), e.bucket(r2), e.bucket(r1), e.bucket(e.role(other.ID, snapexport.AWS))
		e.mustRead(func(tx snapexport.Tx) error {
			listed(t, "ExportBucketsByRole", []*snapexport.ExportBucket{b1, b3}, bucketID)(tx.ExportBucketsByRole(e.ctx, p.ID, r1.ID))
			listed(t, "ExportBucketsByRole(unused role)", nil, bucketID)(tx.ExportBucketsByRole(e.ctx, p.ID, unused.ID))
			listed(t, "ExportBucketsByRole(role of another project)", nil, bucketID)(tx.ExportBucketsByRole(e.ctx, other.ID, r1.ID))
			return nil
		})
	}},
	{"Update", func(t *testing.T, e *env) {
		p := e.project(e.org().ID)
		b := e.bucket(e.role(p.ID, snapexport.AWS))
		kept := e.bucket(e.role(p.ID, snapexport.AWS))
		for _, c := range []struct {
			require bool
			region  string
		}{{false, b.Region}, {true, b.Region}, {true, "ap-southeast-2"}, {false, ""}} {
			u := *b
			u.RequirePrivateNetworking, u.Region = c.require, c.region
			e.mustWrite(func(tx snapexport.Tx) error { return tx.UpdateExportBucket(e.ctx, &u) })
			e.mustRead(func(tx snapexport.Tx) error {
				found(t, fmt.Sprintf("ExportBucket after update to %+v", c), &u)(tx.ExportBucket(e.ctx, p.ID, b.ID))
				e.wantItem(t, tx, "other ExportBucket", kept)
				return nil
			})
		}
	}},
	{"UpdateMissing", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r := e.role(p.ID, snapexport.AWS)
		b := e.bucket(r)
		missing := e.newBucket(r)
		e.wantWriteErr(t, "UpdateExportBucket(missing)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateExportBucket(e.ctx, missing) })
		elsewhere := *b
		elsewhere.ProjectID = other.ID
		elsewhere.RequirePrivateNetworking = !b.RequirePrivateNetworking
		e.wantWriteErr(t, "UpdateExportBucket(bucket of another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.UpdateExportBucket(e.ctx, &elsewhere) })
		e.wantStored(t, "ExportBucket after failed updates", b)
	}},
	{"Delete", func(t *testing.T, e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		r := e.role(p.ID, snapexport.GCP)
		b, kept := e.bucket(r), e.bucket(r)
		e.wantWriteErr(t, "DeleteExportBucket(bucket of another project)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, other.ID, b.ID, e.now()) })
		e.mustWrite(func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, b.ID, e.now()) })
		e.mustRead(func(tx snapexport.Tx) error {
			missing(t, "ExportBucket(deleted)")(tx.ExportBucket(e.ctx, p.ID, b.ID))
			paged(t, "ListExportBuckets after delete", 1, []*snapexport.ExportBucket{kept}, bucketID)(tx.ListExportBuckets(e.ctx, p.ID, nil, snapexport.Page{}))
			listed(t, "ExportBucketsByRole after delete", []*snapexport.ExportBucket{kept}, bucketID)(tx.ExportBucketsByRole(e.ctx, p.ID, r.ID))
			return nil
		})
		e.wantWriteErr(t, "DeleteExportBucket(already deleted)", snapexport.ErrNotFound, func(tx snapexport.Tx) error { return tx.DeleteExportBucket(e.ctx, p.ID, b.ID, e.now()) })
	}},
}
