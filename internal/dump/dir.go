package dump

import (
	"bufio"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FileStem is the file name mongodump gives a collection's files, without
// the .bson/.metadata.json extension (mongodump/prepare.go outputPath): the
// URL path escape of the name (common/util EscapeCollectionName, which is
// url.PathEscape), or when that is longer than 238 bytes its first 208
// bytes, "%24" and the unpadded URL-safe base64 of the SHA-1 of the name.
func FileStem(collection string) string {
	esc := url.PathEscape(collection)
	if len(esc) > 238 {
		sum := sha1.Sum([]byte(collection))
		esc = esc[:208] + "%24" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return esc
}

// isHashedStem is mongorestore's test for a truncated file name, whose
// collection name must be read from the metadata (getInfoFromFile).
func isHashedStem(stem string) bool {
	return len(stem) == 238 && strings.Contains(stem, "%24")
}

type dirReader struct {
	description
	root string
	data []string // data file of each collection, "" for none

	idx  int
	cur  *stream
	file *os.File
	err  error
}

// OpenDir scans a mongodump output directory: <db>/<coll>.bson and
// <db>/<coll>.metadata.json, each possibly gzipped (detected per file by
// its gzip header), time-series data in <db>/system.buckets.<coll>.bson,
// views as metadata only. prelude.json gives the server and tool versions;
// oplog.bson, the $admin.system.* files of --dumpDbUsersAndRoles,
// system.profile, legacy system.indexes and unknown files are skipped and
// noted. Metadata files are read now; documents are streamed by Next,
// collection after collection.
func OpenDir(dir string) (Source, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, &FormatError{File: dir, Offset: -1, Reason: err.Error(), Err: err}
	}
	if !fi.IsDir() {
		return nil, &FormatError{File: dir, Offset: -1, Reason: "not a directory (use OpenArchive for an archive)"}
	}
	d := &dirReader{root: dir, description: description{info: Info{Format: "directory", Name: dir}}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &FormatError{File: dir, Offset: -1, Reason: err.Error(), Err: err}
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		if e.IsDir() {
			if strings.HasPrefix(name, ".") {
				d.note("%s: skipping hidden directory", path)
				continue
			}
			if err := ValidateDBName(name); err != nil {
				return nil, &FormatError{File: path, Offset: -1, Reason: "invalid database directory: " + err.Error()}
			}
			if err := d.scanDB(name, path); err != nil {
				return nil, err
			}
			continue
		}
		switch strings.TrimSuffix(name, ".gz") {
		case "prelude.json":
			d.readPrelude(path)
		case "oplog.bson":
			d.note("%s: ignoring the oplog (not imported)", path)
		default:
			d.note("%s: skipping unknown file", path)
		}
	}
	return d, nil
}

// readPrelude reads prelude.json, which recent mongodump versions write at
// the top of a dump directory: {"ServerVersion":"7.0.16","ToolVersion":"..."}.
func (d *dirReader) readPrelude(path string) {
	b, gz, err := readSmallFile(path, 1<<20)
	if gz {
		d.info.Gzip = true
	}
	var p struct{ ServerVersion, ToolVersion string }
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		d.note("%s: ignoring unreadable prelude.json: %v", path, err)
		return
	}
	d.info.ServerVersion, d.info.ToolVersion = p.ServerVersion, p.ToolVersion
	d.note("%s: read server version %q and tool version %q", path, p.ServerVersion, p.ToolVersion)
}

// readSmallFile reads a whole (possibly gzipped) file of at most limit
// bytes once decompressed.
func readSmallFile(path string, limit int64) ([]byte, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(3)
	var r io.Reader = br
	gz := isGzip(head)
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, err
		}
		defer zr.Close()
		r = zr
	}
	b, tooBig, err := readAllLimited(r, limit)
	if err != nil {
		return nil, gz, err
	}
	if tooBig {
		return nil, gz, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, gz, nil
}

type dirFile struct {
	path  string
	stem  string
	taken bool
}

func (d *dirReader) scanDB(db, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &FormatError{File: dir, Offset: -1, Reason: err.Error(), Err: err}
	}
	metas := map[string]*dirFile{}
	datas := map[string]*dirFile{}
	var metaStems, dataStems []string
	add := func(m map[string]*dirFile, stems *[]string, stem, path string) error {
		if prev := m[stem]; prev != nil {
			return &FormatError{File: path, Offset: -1, Reason: "two files for the same collection: " + filepath.Base(prev.path) + " and " + filepath.Base(path)}
		}
		m[stem] = &dirFile{path: path, stem: stem}
		*stems = append(*stems, stem)
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		if e.IsDir() {
			d.note("%s: skipping subdirectory", path)
			continue
		}
		base := name
		if strings.HasSuffix(name, ".gz") {
			base = strings.TrimSuffix(name, ".gz")
			d.info.Gzip = true
		}
		var err error
		switch {
		case strings.HasSuffix(base, ".metadata.json"):
			err = add(metas, &metaStems, strings.TrimSuffix(base, ".metadata.json"), path)
		case strings.HasSuffix(base, ".bson"):
			err = add(datas, &dataStems, strings.TrimSuffix(base, ".bson"), path)
		case strings.HasSuffix(name, ".bin"): // legacy extension mongorestore still reads
			err = add(datas, &dataStems, strings.TrimSuffix(name, ".bin"), path)
		case base == "prelude.json":
			d.note("%s: skipping prelude.json inside a database directory", path)
		default:
			d.note("%s: skipping unknown file", path)
		}
		if err != nil {
			return err
		}
	}

	skip := func(name, path string) bool {
		switch {
		case strings.HasPrefix(name, "$"):
			d.note("%s: skipping %s.%s (users, roles or auth version of mongodump --dumpDbUsersAndRoles)", path, db, name)
		case name == "system.profile":
			d.note("%s: skipping %s.system.profile, as mongorestore does", path, db)
		case name == "system.indexes" && len(metas) > 0:
			d.note("%s: skipping legacy %s.system.indexes (indexes are in the metadata files)", path, db)
		default:
			return false
		}
		return true
	}

	type entry struct {
		c    Collection
		data string
	}
	var out []entry
	byName := map[string]int{}
	for _, stem := range metaStems {
		mf := metas[stem]
		raw, _, err := readSmallFile(mf.path, MaxMetadataSize)
		if err != nil {
			return &FormatError{File: mf.path, Offset: -1, Reason: "cannot read metadata: " + err.Error(), Err: err}
		}
		md, err := ParseMetadata(raw)
		if err != nil {
			off := int64(-1)
			var me *MetadataError
			if errors.As(err, &me) {
				off = me.Offset
			}
			return &FormatError{File: mf.path, Offset: off, Reason: err.Error(), Err: err}
		}
		name := md.CollectionName
		if !isHashedStem(stem) || name == "" {
			if isHashedStem(stem) {
				return &FormatError{File: mf.path, Offset: -1, Reason: "truncated file name but no collectionName in the metadata"}
			}
			name, err = url.PathUnescape(stem)
			if err != nil {
				return &FormatError{File: mf.path, Offset: -1, Reason: "cannot unescape the collection name in the file name: " + err.Error(), Err: err}
			}
		}
		if skip(name, mf.path) {
			// a skipped collection's data file is skipped with it
			if df := datas[stem]; df != nil {
				df.taken = true
			}
			continue
		}
		if err := ValidateNamespace(Namespace{db, name}); err != nil {
			return invalidNamespace(mf.path, -1, Namespace{db, name}, err)
		}
		c := Collection{Namespace: Namespace{db, name}, Metadata: md, DataCollection: name}
		candidates := []string{stem, FileStem(name)}
		if md.Type == TypeTimeseries {
			candidates = []string{FileStem("system.buckets." + name), "system.buckets." + stem, stem, FileStem(name)}
		}
		var data string
		for _, cand := range candidates {
			if df := datas[cand]; df != nil && !df.taken {
				df.taken = true
				data = df.path
				if md.Type == TypeTimeseries && strings.HasPrefix(cand, "system.buckets.") {
					c.DataCollection = "system.buckets." + name
				}
				break
			}
		}
		switch {
		case md.Type == TypeView && data != "" && md.isViewsAsCollections():
			d.note("%s: %s is a view dumped with --viewsAsCollections; reading it as a collection", mf.path, c.Namespace)
			c.Metadata.Type = TypeCollection
		case md.Type == TypeView && data != "":
			return &FormatError{File: data, Offset: -1, Namespace: c.Namespace.String(), Reason: "a data file for a view"}
		case md.Type == TypeView:
			c.DataCollection = ""
		}
		if _, dup := byName[name]; dup {
			return &FormatError{File: mf.path, Offset: -1, Namespace: c.Namespace.String(), Reason: "two metadata files for the same collection"}
		}
		byName[name] = len(out)
		out = append(out, entry{c, data})
	}
	for _, stem := range dataStems {
		df := datas[stem]
		if df.taken {
			continue
		}
		if isHashedStem(stem) {
			return &FormatError{File: df.path, Offset: -1, Reason: "truncated file name and no metadata file gives the collection name"}
		}
		name, err := url.PathUnescape(stem)
		if err != nil {
			return &FormatError{File: df.path, Offset: -1, Reason: "cannot unescape the collection name in the file name: " + err.Error(), Err: err}
		}
		if skip(name, df.path) {
			continue
		}
		if err := ValidateNamespace(Namespace{db, name}); err != nil {
			return invalidNamespace(df.path, -1, Namespace{db, name}, err)
		}
		if _, dup := byName[name]; dup {
			return &FormatError{File: df.path, Offset: -1, Namespace: db + "." + name, Reason: "two data files for the same collection"}
		}
		d.note("%s: no metadata file for %s.%s; reading it without options or indexes", df.path, db, name)
		byName[name] = len(out)
		out = append(out, entry{Collection{Namespace: Namespace{db, name}, DataCollection: name}, df.path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].c.Collection < out[j].c.Collection })
	for _, e := range out {
		d.colls = append(d.colls, e.c)
		d.data = append(d.data, e.data)
	}
	return nil
}

func (d *dirReader) closeFile() error {
	var err error
	if d.cur != nil {
		err = d.cur.close()
		d.cur = nil
	}
	if d.file != nil {
		if cerr := d.file.Close(); err == nil {
			err = cerr
		}
		d.file = nil
	}
	return err
}

func (d *dirReader) Close() error {
	if d.err == nil {
		d.err = errClosed
	}
	return d.closeFile()
}

func (d *dirReader) fail(err error) (Namespace, bson.Raw, error) {
	d.err = err
	d.closeFile()
	return Namespace{}, nil, err
}

func (d *dirReader) Next() (Namespace, bson.Raw, error) {
	if d.err != nil {
		return Namespace{}, nil, d.err
	}
	for {
		if d.idx >= len(d.colls) {
			return Namespace{}, nil, io.EOF
		}
		c := &d.colls[d.idx]
		if d.cur == nil {
			path := d.data[d.idx]
			if path == "" {
				d.idx++
				continue
			}
			f, err := os.Open(path)
			if err != nil {
				return d.fail(&FormatError{File: path, Offset: -1, Namespace: c.Namespace.String(), Reason: err.Error(), Err: err})
			}
			d.file = f
			s, err := newStream(f, path, nil)
			if err != nil {
				var fe *FormatError
				if errors.As(err, &fe) {
					fe.Namespace = c.Namespace.String()
				}
				return d.fail(err)
			}
			if s.gz {
				d.info.Gzip = true
			}
			d.cur = s
		}
		doc, _, _, err := d.cur.readItem(false, c.Namespace.String(), "a document")
		if err == io.EOF {
			if err := d.closeFile(); err != nil {
				return d.fail(&FormatError{File: d.data[d.idx], Offset: -1, Namespace: c.Namespace.String(), Reason: err.Error(), Err: err})
			}
			d.idx++
			continue
		}
		if err != nil {
			return d.fail(err)
		}
		c.Count++
		c.Size += int64(len(doc))
		return c.Namespace, doc, nil
	}
}
