package export

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gocloud.dev/blob"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/unescapedjson"
)

// Root is the folder of every export in a bucket.
const Root = "exported_snapshots"

// PermissionCheckKey is the empty object written when a bucket is created
// and when every export starts.
const PermissionCheckKey = Root + "/.permissioncheck"

// Prefix builds a job's key prefix:
// exported_snapshots/<org>/<group>/<cluster>/<YYYY-MM-DDTHHMM>/<epoch>,
// where the date is the snapshot's creation time in UTC cut to the minute
// and epoch the job's creation time in Unix seconds. orgIDOrName and
// groupIDOrName are the ids, or the names when the backup schedule sets
// useOrgAndGroupNamesInExportPrefix; both go through SanitizeName, which
// leaves 24-hex ids unchanged. The cluster name is used as it is: Atlas
// cluster names are letters, digits and hyphens.
func Prefix(orgIDOrName, groupIDOrName, clusterName string, snapshotTime, jobCreated time.Time) string {
	return Root + "/" + SanitizeName(orgIDOrName) + "/" + SanitizeName(groupIDOrName) + "/" + clusterName + "/" +
		snapshotTime.UTC().Format("2006-01-02T1504") + "/" + strconv.FormatInt(jobCreated.Unix(), 10)
}

// SanitizeName makes an organization or project name one key segment:
// spaces become "_" and every character AWS's object key naming guidelines
// (docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html) list as
// "might require special handling" or "to avoid" is removed. That is
// exactly:
//
//   - special handling: & $ @ = ; / : + , ? and ASCII 0x00-0x1F and 0x7F
//     (the space, also listed, is replaced rather than removed);
//   - to avoid: \ { ^ } % ` ] " ' > [ ~ < # | and every character outside
//     ASCII (AWS lists "non-printable ASCII characters (128-255 decimal)",
//     that is every byte of a multi-byte UTF-8 character, so a name like
//     "Société" keeps only "Socit").
//
// AWS lists "quotation marks" without saying which, so both ' and " go.
// Invalid UTF-8 is removed with the rest of the non-ASCII bytes. A name
// that is removed entirely gives "": the caller decides whether to fall
// back to the id.
func SanitizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		case c < 0x20 || c >= 0x7f:
		case strings.IndexByte(removedPunctuation, c) >= 0:
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

const removedPunctuation = "&$@=;/:+,?" + "\\{^}%`]\"'>[~<#|"

// WritePermissionCheck writes the empty exported_snapshots/.permissioncheck
// object, overwriting any.
func WritePermissionCheck(ctx context.Context, bucket *blob.Bucket) error {
	return writeSmall(ctx, bucket, PermissionCheckKey, "application/octet-stream", nil)
}

// Complete is the .complete document that ends a successful export.
type Complete struct {
	OrgID, OrgName               string
	GroupID, GroupName           string
	ClusterUniqueID, ClusterName string
	SnapshotInitiationDate       time.Time
	// TotalFiles is the number of objects the job wrote under its prefix:
	// data objects and metadata.json files (Result.Objects summed), not
	// .complete itself nor .permissioncheck, which is outside the prefix.
	TotalFiles int
	Labels     []snapexport.Label
	CustomData []snapexport.Label
}

// MarshalJSON writes the fields in the order Atlas documents, labels and
// customData as [] when empty, and the date as ISO-8601 UTC with
// milliseconds.
func (c Complete) MarshalJSON() ([]byte, error) {
	type ordered struct {
		OrgID                  string             `json:"orgId"`
		OrgName                string             `json:"orgName"`
		GroupID                string             `json:"groupId"`
		GroupName              string             `json:"groupName"`
		ClusterUniqueID        string             `json:"clusterUniqueId"`
		ClusterName            string             `json:"clusterName"`
		SnapshotInitiationDate string             `json:"snapshotInitiationDate"`
		TotalFiles             int                `json:"totalFiles"`
		Labels                 []snapexport.Label `json:"labels"`
		CustomData             []snapexport.Label `json:"customData"`
	}
	o := ordered{
		OrgID: c.OrgID, OrgName: c.OrgName, GroupID: c.GroupID, GroupName: c.GroupName,
		ClusterUniqueID: c.ClusterUniqueID, ClusterName: c.ClusterName,
		SnapshotInitiationDate: c.SnapshotInitiationDate.UTC().Format("2006-01-02T15:04:05.000Z"),
		TotalFiles:             c.TotalFiles, Labels: c.Labels, CustomData: c.CustomData,
	}
	if o.Labels == nil {
		o.Labels = []snapexport.Label{}
	}
	if o.CustomData == nil {
		o.CustomData = []snapexport.Label{}
	}
	// names and custom data are the customer's text: keep '<' and '&'
	return unescapedjson.Marshal(o)
}

// CompleteKey is the key of a job's .complete object.
func CompleteKey(prefix string) string { return join(prefix, ".complete") }

// WriteComplete writes <prefix>/.complete: compact JSON, no trailing
// newline. It must be the job's last object.
func WriteComplete(ctx context.Context, bucket *blob.Bucket, prefix string, c Complete) error {
	data, err := c.MarshalJSON()
	if err != nil {
		return fmt.Errorf("export: %s: %w", CompleteKey(prefix), err)
	}
	return writeSmall(ctx, bucket, CompleteKey(prefix), "application/json", data)
}

// DataKey is the key of data object n of a collection.
func DataKey(prefix, db, collection, replicaSet string, n int) string {
	return join(prefix, db+"/"+collection+"/"+replicaSet+"."+strconv.Itoa(n)+".json.gz")
}

// MetadataKey is the key of a collection's metadata.json.
func MetadataKey(prefix, db, collection string) string {
	return join(prefix, db+"/"+collection+"/metadata.json")
}

func join(prefix, rest string) string {
	return strings.TrimSuffix(prefix, "/") + "/" + rest
}

// WriteError is the failure of writing the object Key to the bucket; Err
// is the bucket's error.
type WriteError struct {
	Key string
	Err error
}

func (e *WriteError) Error() string { return "export: writing " + e.Key + ": " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// writeSmall writes data at key in one go; a failure cancels the writer's
// context so that nothing is committed.
func writeSmall(ctx context.Context, bucket *blob.Bucket, key, contentType string, data []byte) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("export: writing %q: key is not valid UTF-8", key)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return &WriteError{Key: key, Err: err}
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		w.Close()
		return &WriteError{Key: key, Err: err}
	}
	if err := w.Close(); err != nil {
		return &WriteError{Key: key, Err: err}
	}
	return nil
}
