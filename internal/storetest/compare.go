package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

var timeType = reflect.TypeFor[time.Time]()

// diff lists the differences between got and want, field by field. Times
// are compared with time.Time.Equal; pointers by what they point to, a nil
// pointer differing from a set one.
func diff(got, want any) []string {
	var out []string
	diffValue(&out, "", reflect.ValueOf(got), reflect.ValueOf(want))
	return out
}

func diffValue(out *[]string, path string, got, want reflect.Value) {
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", orRoot(path), got, want))
		}
		return
	}
	if got.Type() != want.Type() {
		*out = append(*out, fmt.Sprintf("%s: got type %s, want %s", orRoot(path), got.Type(), want.Type()))
		return
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", orRoot(path), g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano)))
		}
	case got.Kind() == reflect.Pointer:
		switch {
		case got.IsNil() && want.IsNil():
		case got.IsNil():
			*out = append(*out, fmt.Sprintf("%s: got nil, want %v", orRoot(path), show(want.Elem())))
		case want.IsNil():
			*out = append(*out, fmt.Sprintf("%s: got %v, want nil", orRoot(path), show(got.Elem())))
		default:
			diffValue(out, path, got.Elem(), want.Elem())
		}
	case got.Kind() == reflect.Struct:
		for i := range got.NumField() {
			f := got.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			diffValue(out, join(path, f.Name), got.Field(i), want.Field(i))
		}
	case got.Kind() == reflect.Slice:
		if got.Len() != want.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d items, want %d", orRoot(path), got.Len(), want.Len()))
			return
		}
		for i := range got.Len() {
			diffValue(out, fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", orRoot(path), got.Interface(), want.Interface()))
		}
	}
}

func show(v reflect.Value) any {
	if v.Type() == timeType {
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	}
	return v.Interface()
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func orRoot(path string) string {
	if path == "" {
		return "value"
	}
	return path
}

// wantNil fails the test if got is set (if only to an empty slice) where
// want is nil.
func wantNil[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if want == nil && got != nil {
		t.Errorf("%s = %#v, want nil", what, got)
	}
}

// same fails the test unless got equals want field by field.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

// ids lists the ids of items, to report orders readably.
func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

// sameOrder fails the test unless got has the ids of want in want's order,
// then compares the items field by field.
func sameOrder[T any](t *testing.T, what string, got, want []T, id func(T) string) {
	t.Helper()
	g, w := ids(got, id), ids(want, id)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got ids %v, want %v", what, g, w)
		return
	}
	same(t, what, got, want)
}

func projectID(p *snapexport.Project) string                { return p.ID }
func orgID(o *snapexport.Organization) string               { return o.ID }
func apiKeyID(k *snapexport.APIKey) string                  { return k.ID }
func serviceAccountID(sa *snapexport.ServiceAccount) string { return sa.ID }
func roleID(r *snapexport.CloudProviderAccessRole) string   { return r.ID }
func bucketID(b *snapexport.ExportBucket) string            { return b.ID }
func assignmentKey(ra snapexport.RoleAssignment) string {
	return ra.PrincipalID + "|" + ra.OrgID + "|" + ra.ProjectID + "|" + string(ra.Role)
}
func sortedAssignments(ras []snapexport.RoleAssignment) []string {
	k := ids(ras, assignmentKey)
	slices.Sort(k)
	return k
}

// lookup reads the stored item with the keys of v, an item the suite
// wrote: an organization, a project, a service account or an export job by
// its id, an API key by its public key, an access token by its hash, a
// cloud provider access role, an export bucket or a private endpoint by
// its project and id, a cluster by its project and name, a snapshot by its
// project, cluster and id.
func (e *env) lookup(tx snapexport.Tx, v any) (any, error) {
	switch v := v.(type) {
	case *snapexport.Organization:
		return tx.Organization(e.ctx, v.ID)
	case *snapexport.Project:
		return tx.Project(e.ctx, v.ID)
	case *snapexport.APIKey:
		return tx.APIKeyByPublicKey(e.ctx, v.PublicKey)
	case *snapexport.ServiceAccount:
		return tx.ServiceAccount(e.ctx, v.ID)
	case *snapexport.AccessToken:
		return tx.AccessToken(e.ctx, v.Hash)
	case *snapexport.CloudProviderAccessRole:
		return tx.CloudProviderAccessRole(e.ctx, v.ProjectID, v.ID)
	case *snapexport.ExportBucket:
		return tx.ExportBucket(e.ctx, v.ProjectID, v.ID)
	case *snapexport.PrivateEndpoint:
		return tx.PrivateEndpoint(e.ctx, v.ProjectID, v.ID)
	case *snapexport.Cluster:
		return tx.Cluster(e.ctx, v.ProjectID, v.Name)
	case *snapexport.Snapshot:
		return tx.Snapshot(e.ctx, v.ProjectID, v.ClusterID, v.ID)
	case *snapexport.ExportJob:
		return tx.ExportJob(e.ctx, v.ProjectID, v.ID)
	}
	panic(fmt.Sprintf("storetest: no lookup of %T", v))
}

// found returns a check that a lookup found an item equal to want:
// found(t, "what", want)(tx.Lookup(...)).
func found(t *testing.T, what string, want any) func(any, error) {
	return func(got any, err error) {
		t.Helper()
		noErr(t, what, err)
		same(t, what, got, want)
	}
}

// wantItem fails the test unless tx holds an item equal to want, found by
// want's keys (see lookup).
func (e *env) wantItem(t *testing.T, tx snapexport.Tx, what string, want any) {
	t.Helper()
	found(t, what, want)(e.lookup(tx, want))
}

// wantStored is wantItem in a Read of its own.
func (e *env) wantStored(t *testing.T, what string, want any) {
	t.Helper()
	e.mustRead(func(tx snapexport.Tx) error {
		e.wantItem(t, tx, what, want)
		return nil
	})
}

// wantGone fails the test unless tx holds no item with the keys of v.
func (e *env) wantGone(t *testing.T, tx snapexport.Tx, what string, v any) {
	t.Helper()
	_, err := e.lookup(tx, v)
	wantErr(t, what, err, snapexport.ErrNotFound)
}

// wantWriteErr fails the test unless fn, run in a Write of its own, fails
// with target.
func (e *env) wantWriteErr(t *testing.T, what string, target error, fn func(tx snapexport.Tx) error) {
	t.Helper()
	wantErr(t, what, e.write(fn), target)
}

// missing returns a check that a lookup found nothing:
// missing(t, "what")(tx.Lookup(...)).
func missing(t *testing.T, what string) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		wantErr(t, what, err, snapexport.ErrNotFound)
	}
}

// listed returns a check that a list returned the items of want in want's
// order (see sameOrder): listed(t, "what", want, id)(tx.List(...)).
func listed[T any](t *testing.T, what string, want []T, id func(T) string) func([]T, error) {
	return func(got []T, err error) {
		t.Helper()
		noErr(t, what, err)
		sameOrder(t, what, got, want, id)
	}
}

// paged returns a check that a paginated list returned the items of want
// in want's order, and total as its total:
// paged(t, "what", total, want, id)(tx.List(...)).
func paged[T any](t *testing.T, what string, total int, want []T, id func(T) string) func([]T, int, error) {
	return func(got []T, gotTotal int, err error) {
		t.Helper()
		noErr(t, what, err)
		if gotTotal != total {
			t.Errorf("%s: total %d, want %d", what, gotTotal, total)
		}
		sameOrder(t, what, got, want, id)
	}
}
