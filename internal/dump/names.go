package dump

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Name limits of the MongoDB server (src/mongo/db/namespace_string.h).
const (
	// MaxDBNameBytes is the longest database name: the server refuses
	// names of 64 bytes or more (MaxDatabaseNameLen, 64, counts the
	// terminating null).
	MaxDBNameBytes = 63
	// MaxNamespaceBytes is the longest "db.collection" of an unsharded
	// collection or view since MongoDB 4.4 (MaxNsLen; sharded collections
	// are limited to 235 bytes, which a dump does not tell apart).
	MaxNamespaceBytes = 255
)

// ValidateNamespace checks a database and collection name as the MongoDB
// server does on Linux, for every namespace a dump hands out: valid UTF-8,
// a database name that ValidateDBName accepts, a collection name that is
// not empty, does not start with "." and holds neither NUL nor "$"
// (NamespaceString::validCollectionName), "db.collection" of at most
// MaxNamespaceBytes, and no "system." collection but those mongodump
// writes: any in the admin, config and local databases, and elsewhere
// system.js, system.views, system.profile, system.indexes (legacy dumps)
// and the system.buckets.<name> of time-series collections.
func ValidateNamespace(ns Namespace) error {
	if err := ValidateDBName(ns.DB); err != nil {
		return err
	}
	c := ns.Collection
	switch {
	case c == "":
		return errors.New("empty collection name")
	case !utf8.ValidString(c):
		return fmt.Errorf("collection name %q is not valid UTF-8", c)
	case c[0] == '.':
		return fmt.Errorf("collection name %q starts with \".\"", c)
	}
	if i := strings.IndexAny(c, "$\x00"); i >= 0 {
		return fmt.Errorf("collection name %q contains %q", c, c[i])
	}
	if n := len(ns.DB) + 1 + len(c); n > MaxNamespaceBytes {
		return fmt.Errorf("namespace %q is %d bytes long, more than MongoDB's %d", ns.String(), n, MaxNamespaceBytes)
	}
	if strings.HasPrefix(c, "system.") && !dumpedSystemCollection(ns) {
		return fmt.Errorf("collection name %q: system.* collections are reserved to the server and mongodump writes none of this name", c)
	}
	return nil
}

func dumpedSystemCollection(ns Namespace) bool {
	switch ns.DB {
	case "admin", "config", "local":
		return true
	}
	switch ns.Collection {
	case "system.js", "system.views", "system.profile", "system.indexes":
		return true
	}
	return strings.HasPrefix(ns.Collection, "system.buckets.") && len(ns.Collection) > len("system.buckets.")
}

// ValidateDBName checks a database name as the MongoDB server does on
// Linux (and as mongo-tools' common/util ValidateDBName): valid UTF-8, not
// empty, at most MaxDBNameBytes, and none of / \ . space " $ NUL.
func ValidateDBName(name string) error {
	if name == "" {
		return errors.New("empty database name")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("database name %q is not valid UTF-8", name)
	}
	if len(name) > MaxDBNameBytes {
		return fmt.Errorf("database name %q is longer than %d bytes", name, MaxDBNameBytes)
	}
	if i := strings.IndexAny(name, "/\\. \"$\x00"); i >= 0 {
		return fmt.Errorf("database name %q contains %q", name, name[i])
	}
	return nil
}

// invalidNamespace reports a namespace that ValidateNamespace refused; the
// namespace is quoted, since it may hold any byte.
func invalidNamespace(file string, offset int64, ns Namespace, err error) *FormatError {
	return &FormatError{File: file, Offset: offset, Reason: fmt.Sprintf("invalid namespace %q: %v", ns.String(), err), Err: err}
}
