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
