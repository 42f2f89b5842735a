package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// This file reads Atlas's recorded exchanges, recovers the request each
// one answered, and compares two answers by shape: status, the headers
// clients act on, and the JSON body's keys, their order and value types,
// values themselves masked (ids, dates, hosts, counts and names differ
// between any two servers).

// recording is one recorded Atlas exchange. The request is known only by
// the file's name; the response is as Atlas sent it.
type recording struct {
	file    string
	method  string
	encoded string // the request's path without its leading "/", with "/" written "_"
	status  int
	header  http.Header
	body    []byte
}

// recordingName is the Atlas CLI's naming of its recordings:
// Test<Suite>__[<Step>__]<METHOD>_<path with / as _>_<n>.snaphost.
var recordingName = regexp.MustCompile(`^Test[A-Za-z0-9]+__(?:.+?__)?(GET|POST|PUT|PATCH|DELETE)_(api_.+)_\d+\.snaphost$`)

// readRecordings reads every *.snaphost file of dir, in name order.
func readRecordings(dir string) ([]*recording, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.snaphost"))
	if err != nil {
		return nil, err
	}
	var out []*recording
	for _, f := range files {
		r, err := readRecording(f)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func readRecording(file string) (*recording, error) {
	name := filepath.Base(file)
	m := recordingName.FindStringSubmatch(name)
	if m == nil {
		return nil, fmt.Errorf("%s: the name does not follow Test<Suite>__[<Step>__]<METHOD>_<path>_<n>.snaphost", name)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: not an HTTP response: %v", name, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the body: %v", name, err)
	}
	return &recording{file: name, method: m[1], encoded: m[2], status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// version is the dated version of a media type, "" when it has none.
func version(contentType string) string {
	if m := datedMediaType.FindStringSubmatch(contentType); m != nil {
		return m[1]
	}
	return ""
}

var datedMediaType = regexp.MustCompile(`application/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json`)

// route is a path template, matched against the underscored path of a
// recording's name.
type route struct {
	template string
	params   []string
	match    *regexp.Regexp
	literal  int // characters outside parameters: the more, the more specific
}

func newRoute(template string) route {
	r := route{template: template}
	var parts []string
	for _, seg := range strings.Split(strings.TrimPrefix(template, "/"), "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			r.params = append(r.params, name)
			parts = append(parts, "("+paramPattern(name)+")")
			continue
		}
		r.literal += len(seg)
		parts = append(parts, regexp.QuoteMeta(seg))
	}
	r.match = regexp.MustCompile("^" + strings.Join(parts, "_") + "$")
	return r
}

// paramPattern narrows a parameter as far as Atlas's values allow, since
// "_" both separates segments and occurs in names: ids are ObjectIds.
func paramPattern(name string) string {
	switch {
	case strings.HasSuffix(name, "Id"):
		return "[0-9a-f]{24}"
	case name == "cloudProvider":
		return "[A-Za-z]+"
	}
	return ".+"
}

// routes recovers requests' paths from the templates it knows.
type routes []route

// resolve finds the one template an underscored path is an instance of:
// the most specific when several match, as ServeMux prefers literal
// segments to wildcards.
func (rs routes) resolve(encoded string) (route, map[string]string, error) {
	var best []route
	for _, r := range rs {
		if !r.match.MatchString(encoded) {
			continue
		}
		switch {
		case len(best) == 0 || r.literal > best[0].literal:
			best = []route{r}
		case r.literal == best[0].literal:
			best = append(best, r)
		}
	}
	switch len(best) {
	case 0:
		return route{}, nil, fmt.Errorf("no known path template matches %q: add Atlas's template to recordedRoutes", encoded)
	case 1:
	default:
		var names []string
		for _, r := range best {
			names = append(names, r.template)
		}
		return route{}, nil, fmt.Errorf("%q matches several path templates equally: %s", encoded, strings.Join(names, ", "))
	}
	r := best[0]
	values := map[string]string{}
	for i, v := range r.match.FindStringSubmatch(encoded)[1:] {
		values[r.params[i]] = v
	}
	return r, values, nil
}

// openAPIPaths reads an OpenAPI document's path templates and, for each
// operation ("GET /api/…"), the dated versions its answers declare, oldest
// first.
func openAPIPaths(doc []byte) ([]string, map[string][]string, error) {
	var d struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, nil, err
	}
	var paths []string
	versions := map[string][]string{}
	for path, ops := range d.Paths {
		paths = append(paths, path)
		for method, node := range ops {
			if !slices.Contains([]string{"get", "put", "post", "delete", "patch"}, method) {
				continue // the path's parameters, summary…
			}
			var op struct {
				Responses map[string]struct {
					Content map[string]any `yaml:"content"`
				} `yaml:"responses"`
			}
			if err := node.Decode(&op); err != nil {
				return nil, nil, fmt.Errorf("%s %s: %v", method, path, err)
			}
			key := strings.ToUpper(method) + " " + path
			for _, resp := range op.Responses {
				for mt := range resp.Content {
					if v := version(mt); v != "" && !slices.Contains(versions[key], v) {
						versions[key] = append(versions[key], v)
					}
				}
			}
			sort.Strings(versions[key])
		}
	}
	return paths, versions, nil
}

// difference is one way our answer is not shaped like Atlas's. check
// names what was compared ("status", "header Sunset", "body $.a.b",
// "order $.a"): the known-difference list refers to it.
type difference struct {
	check  string
	detail string
}

func (d difference) String() string { return d.check + ": " + d.detail }

// compareAnswers compares our answer with a recorded one.
func compareAnswers(rec *recording, status int, header http.Header, body []byte) []difference {
	var diffs []difference
	if status != rec.status {
		diffs = append(diffs, difference{"status", fmt.Sprintf("Atlas %d, ours %d", rec.status, status)})
	}
	if a, o := rec.header.Get("Content-Type"), header.Get("Content-Type"); a != o {
		diffs = append(diffs, difference{"header Content-Type", fmt.Sprintf("Atlas %q, ours %q", a, o)})
	}
	for _, name := range []string{"Deprecation", "Sunset", "X-Error-Code"} {
		a, aok := rec.header[name]
		o, ook := header[name]
		switch {
		case aok != ook:
			diffs = append(diffs, difference{"header " + name, fmt.Sprintf("Atlas %s, ours %s", presence(a, aok), presence(o, ook))})
		case aok && name != "X-Error-Code" && !slices.Equal(a, o):
			diffs = append(diffs, difference{"header " + name, fmt.Sprintf("Atlas %q, ours %q", a, o)})
		}
	}
	for _, name := range headerNames(rec.header, header, "Ratelimit-") {
		a, aok := rec.header[name]
		o, ook := header[name]
		if aok != ook {
			diffs = append(diffs, difference{"header " + name, fmt.Sprintf("Atlas %s, ours %s", presence(a, aok), presence(o, ook))})
		}
	}
	return append(diffs, compareBodies(rec.header.Get("Content-Type"), rec.body, header.Get("Content-Type"), body)...)
}

func presence(values []string, ok bool) string {
	if !ok {
		return "absent"
	}
	return fmt.Sprintf("%q", values)
}

// headerNames is the names with prefix in either header, sorted.
func headerNames(a, b http.Header, prefix string) []string {
	var names []string
	for _, h := range []http.Header{a, b} {
		for name := range h {
			if strings.HasPrefix(name, prefix) && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// compareBodies compares two bodies, each with its Content-Type, by
// shape. A body that is not JSON (none, or plain text) is compared only
// with the other's being JSON.
func compareBodies(atlasType string, atlas []byte, ourType string, ours []byte) []difference {
	a, aerr := parseShape(atlasType, atlas)
	o, oerr := parseShape(ourType, ours)
	switch {
	case aerr != nil && oerr != nil:
		return nil
	case aerr != nil:
		return []difference{{"body $", fmt.Sprintf("Atlas %s, ours a JSON %s", describeRaw(atlas), o.kind)}}
	case oerr != nil:
		return []difference{{"body $", fmt.Sprintf("Atlas a JSON %s, ours %s", a.kind, describeRaw(ours))}}
	}
	var diffs []difference
	compareShapes("$", a, o, &diffs)
	return diffs
}

func describeRaw(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "no body"
	}
	return "a body that is not JSON"
}

// shape is a JSON value with its value masked: its kind, an object's
// keys in order, and an array's elements merged into one shape.
type shape struct {
	kind   string // object, array, string, number, boolean, null
	keys   []string
	fields map[string]*shape
	elem   *shape // nil for an empty array
}

func parseShape(contentType string, body []byte) (*shape, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty")
	}
	if !strings.Contains(contentType, "json") {
		return nil, errors.New("not JSON") // "8.0" in text/plain is a string, not a number
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	s, err := readShape(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return s, nil
}

func readShape(dec *json.Decoder) (*shape, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			s := &shape{kind: "array"}
			for dec.More() {
				e, err := readShape(dec)
				if err != nil {
					return nil, err
				}
				s.elem = mergeShapes(s.elem, e)
			}
			_, err := dec.Token()
			return s, err
		}
		s := &shape{kind: "object", fields: map[string]*shape{}}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := readShape(dec)
			if err != nil {
				return nil, err
			}
			key := k.(string)
			s.keys = append(s.keys, key)
			s.fields[key] = v
		}
		_, err := dec.Token()
		return s, err
	case string:
		return &shape{kind: "string"}, nil
	case json.Number:
		return &shape{kind: "number"}, nil
	case bool:
		return &shape{kind: "boolean"}, nil
	}
	return &shape{kind: "null"}, nil
}

// mergeShapes is the shape of an array holding values of shapes a and b:
// an object's keys in the order they first appear; a null yields to the
// other kind, and two other kinds make "mixed".
func mergeShapes(a, b *shape) *shape {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.kind == "null":
		return b
	case b.kind == "null":
		return a
	case a.kind != b.kind:
		return &shape{kind: "mixed"}
	case a.kind == "array":
		return &shape{kind: "array", elem: mergeShapes(a.elem, b.elem)}
	case a.kind != "object":
		return a
	}
	m := &shape{kind: "object", keys: slices.Clone(a.keys), fields: map[string]*shape{}}
	for k, v := range a.fields {
		m.fields[k] = v
	}
	for _, k := range b.keys {
		if _, ok := m.fields[k]; !ok {
			m.keys = append(m.keys, k)
		}
		m.fields[k] = mergeShapes(m.fields[k], b.fields[k])
	}
	return m
}

// compareShapes records how o, ours, differs from a, Atlas's, at path:
// keys missing or extra, kinds, and the order of the keys both have. An
// empty array matches any array: how many elements there are is a value.
func compareShapes(path string, a, o *shape, diffs *[]difference) {
	if a.kind != o.kind {
		*diffs = append(*diffs, difference{"body " + path, fmt.Sprintf("Atlas a %s, ours a %s", a.kind, o.kind)})
		return
	}
	switch a.kind {
	case "array":
		if a.elem != nil && o.elem != nil {
			compareShapes(path+"[]", a.elem, o.elem, diffs)
		}
	case "object":
		var common, ourCommon []string
		for _, k := range a.keys {
			if _, ok := o.fields[k]; !ok {
				*diffs = append(*diffs, difference{"body " + keyPath(path, k), fmt.Sprintf("missing (Atlas has a %s)", a.fields[k].kind)})
				continue
			}
			common = append(common, k)
		}
		for _, k := range o.keys {
			if _, ok := a.fields[k]; !ok {
				*diffs = append(*diffs, difference{"body " + keyPath(path, k), fmt.Sprintf("not in Atlas's answer (ours a %s)", o.fields[k].kind)})
				continue
			}
			ourCommon = append(ourCommon, k)
		}
		if !slices.Equal(common, ourCommon) {
			*diffs = append(*diffs, difference{"order " + path, fmt.Sprintf("Atlas %v, ours %v", common, ourCommon)})
		}
		for _, k := range common {
			compareShapes(keyPath(path, k), a.fields[k], o.fields[k], diffs)
		}
	}
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func keyPath(path, key string) string {
	if plainKey.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// TestCompareAnswers checks that the comparison reports each way an answer
// can differ in shape, and nothing for values alone.
func TestCompareAnswers(t *testing.T) {
	rec := &recording{status: 200, header: http.Header{
		"Content-Type":        {"application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		"Deprecation":         {"Mon, 5 Aug 2024 00:00:00 GMT"},
		"Ratelimit-Limit":     {"1200"},
		"Ratelimit-Remaining": {"1199"},
	}, body: []byte(`{"a":"x","b":1,"c":{"d":true,"e":null},"list":[{"id":"1"},{"id":"2","more":[]}],"empty":[]}`)}
	same := http.Header{
		"Content-Type":        {"application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		"Deprecation":         {"Mon, 5 Aug 2024 00:00:00 GMT"},
		"Ratelimit-Limit":     {"10"},
		"Ratelimit-Remaining": {"3"},
	}
	if d := compareAnswers(rec, 200, same, []byte(`{"a":"y","b":2.5,"c":{"d":false,"e":null},"list":[{"id":"9","more":[1]}],"empty":[{"z":1}]}`)); len(d) != 0 {
		t.Errorf("values alone differ, yet: %v", d)
	}

	other := http.Header{
		"Content-Type":    {"application/vnd.atlas.2024-08-05+json;charset=utf-8"},
		"Deprecation":     {"Tue, 6 Aug 2024 00:00:00 GMT"},
		"Sunset":          {"Thu, 1 Jul 2027 00:00:00 GMT"},
		"Ratelimit-Limit": {"1200"},
	}
	got := compareAnswers(rec, 201, other, []byte(`{"b":"1","a":"x","c":{"d":true},"list":[{"id":"1","more":{}}],"extra":1,"empty":[]}`))
	var checks []string
	for _, d := range got {
		checks = append(checks, d.String())
	}
	want := []string{
		"status: Atlas 200, ours 201",
		`header Content-Type: Atlas "application/vnd.atlas.2023-01-01+json;charset=utf-8", ours "application/vnd.atlas.2024-08-05+json;charset=utf-8"`,
		`header Deprecation: Atlas ["Mon, 5 Aug 2024 00:00:00 GMT"], ours ["Tue, 6 Aug 2024 00:00:00 GMT"]`,
		`header Sunset: Atlas absent, ours ["Thu, 1 Jul 2027 00:00:00 GMT"]`,
		`header Ratelimit-Remaining: Atlas ["1199"], ours absent`,
		"body $.extra: not in Atlas's answer (ours a number)",
		"order $: Atlas [a b c list empty], ours [b a c list empty]",
		"body $.b: Atlas a number, ours a string",
		"body $.c.e: missing (Atlas has a null)",
		"body $.list[].more: Atlas a array, ours a object",
	}
	if !slices.Equal(checks, want) {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(checks, "\n"), strings.Join(want, "\n"))
	}

	if d := compareAnswers(&recording{status: 200, header: http.Header{"Content-Type": {"text/plain;charset=iso-8859-1"}}, body: []byte("8.0")},
		200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"x":1}`)); len(d) != 2 || d[1].check != "body $" {
		t.Errorf("a plain-text answer against a JSON one: %v", d)
	}
}

// TestResolveRoute checks that a path with "_" in its names resolves to
// the most specific template, and that an unknown one is an error.
func TestResolveRoute(t *testing.T) {
	rs := routes{newRoute("/api/atlas/v2/groups/{groupId}/clusters/{clusterName}"),
		newRoute("/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/snapshots"),
		newRoute("/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/snapshots/{snapshotId}")}
	r, params, err := rs.resolve("api_atlas_v2_groups_6a793f4dc0eb9e7a17713383_clusters_my_cluster_backup_snapshots_6a7944f22c88faeba59d3572")
	if err != nil || r.template != rs[2].template || params["clusterName"] != "my_cluster" || params["snapshotId"] != "6a7944f22c88faeba59d3572" {
		t.Errorf("resolve: %s %v %v", r.template, params, err)
	}
	r, params, err = rs.resolve("api_atlas_v2_groups_6a793f4dc0eb9e7a17713383_clusters_my_cluster_backup_snapshots")
	if err != nil || r.template != rs[1].template || params["clusterName"] != "my_cluster" {
		t.Errorf("resolve: %s %v %v", r.template, params, err)
	}
	if _, _, err := rs.resolve("api_atlas_v2_groups_6a793f4dc0eb9e7a17713383_backup_exportBuckets"); err == nil || !strings.Contains(err.Error(), "recordedRoutes") {
		t.Errorf("an unknown path: %v", err)
	}
}
