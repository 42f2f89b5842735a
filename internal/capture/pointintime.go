package capture

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// withoutPointInTime is the advice given with every refusal of a point in
// time.
const withoutPointInTime = "register the cluster with --consistency none to capture it without one"

// deployment is what hello (or isMaster) and buildInfo tell of the server
// a capture reads.
type deployment struct {
	router  bool   // msg: isdbgrid, a mongos
	setName string // "" for a standalone server
	version string
	major   int
	minor   int
	// clusterTime is the latest point in time a snapshot read can use:
	// the majority commit point, else the reply's operationTime, else its
	// $clusterTime; zero when the reply gives none.
	clusterTime bson.Timestamp
}

// inspect asks the deployment what it is.
func (s *Source) inspect(op string) (deployment, error) {
	admin := s.client.Database("admin")
	hello, err := admin.RunCommand(s.ctx, bson.D{{Key: "hello", Value: 1}}).Raw()
	if hasCode(err, codeCommandNotFound) {
		// Servers before 4.4.2 know the command by its old name.
		hello, err = admin.RunCommand(s.ctx, bson.D{{Key: "isMaster", Value: 1}}).Raw()
	}
	if err != nil {
		return deployment{}, s.fail(op, err)
	}
	build, err := admin.RunCommand(s.ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return deployment{}, s.fail(op, err)
	}
	var d deployment
	d.router = stringAt(hello, "msg") == "isdbgrid"
	d.setName = stringAt(hello, "setName")
	for _, path := range [][]string{{"lastWrite", "majorityOpTime", "ts"}, {"operationTime"}, {"$clusterTime", "clusterTime"}} {
		if t, i, ok := hello.Lookup(path...).TimestampOK(); ok && (t != 0 || i != 0) {
			d.clusterTime = bson.Timestamp{T: t, I: i}
			break
		}
	}
	d.version = stringAt(build, "version")
	d.major, d.minor = parseVersion(d.version)
	if d.major == 0 {
		if parts, ok := build.Lookup("versionArray").ArrayOK(); ok {
			values, _ := parts.Values()
			if len(values) >= 2 {
				major, _ := values[0].AsInt64OK()
				minor, _ := values[1].AsInt64OK()
				d.major, d.minor = int(major), int(minor)
			}
			if d.version == "" {
				d.version = fmt.Sprintf("%d.%d", d.major, d.minor)
			}
		}
	}
	return d, nil
}

func stringAt(doc bson.Raw, key string) string {
	v, _ := doc.Lookup(key).StringValueOK()
	return v
}

// parseVersion reads "major.minor" at the start of a version such as
// "7.0.14" or "8.1.0-rc2"; zeros when it is not one.
func parseVersion(v string) (major, minor int) {
	fields := strings.SplitN(v, ".", 3)
	if len(fields) < 2 {
		return 0, 0
	}
	major, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, 0
	}
	minor, err = strconv.Atoi(strings.TrimRightFunc(fields[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err != nil {
		return 0, 0
	}
	return major, minor
}

// refusal tells why the deployment is not captured ("" when it is).
func (d deployment) refusal(pointInTime bool) string {
	switch {
	case d.router:
		return "it is a mongos router of a sharded cluster, and capturing a sharded cluster through mongos is not supported"
	case !pointInTime:
		return ""
	case d.setName == "":
		return "it is a standalone server, which keeps no snapshot history, so it cannot give a point in time; " + withoutPointInTime
	case d.major < 5:
		version := d.version
		if version == "" {
			version = "an unknown version"
		}
		return "it runs MongoDB " + version + ", and snapshot reads at a cluster time need MongoDB 5.0 or later; " + withoutPointInTime
	case d.clusterTime.IsZero():
		return "its hello reply gives no cluster time (lastWrite.majorityOpTime, operationTime or $clusterTime) to read at, so it gives no snapshot reads; " + withoutPointInTime
	}
	return ""
}

// findCommand reads collection coll from its skip-th document on, in
// natural order, at the capture's cluster time when it has one.
func (s *Source) findCommand(coll string, skip int64) bson.D {
	cmd := bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: bson.D{}}}
	// Natural order is the order a repeated read skips along.
	cmd = append(cmd, bson.E{Key: "hint", Value: bson.D{{Key: "$natural", Value: 1}}})
	if skip > 0 {
		cmd = append(cmd, bson.E{Key: "skip", Value: skip})
	}
	if s.batch > 0 {
		cmd = append(cmd, bson.E{Key: "batchSize", Value: s.batch})
	}
	if !s.clusterTime.IsZero() {
		cmd = append(cmd, bson.E{Key: "readConcern", Value: bson.D{
			{Key: "level", Value: "snapshot"}, {Key: "atClusterTime", Value: s.clusterTime}}})
	}
	return cmd
}

// readFailure wraps the error that ended the reading of a collection,
// naming what a point in time adds to the reasons.
func (s *Source) readFailure(op string, err error) error {
	if s.ctx.Err() != nil || s.clusterTime.IsZero() {
		return s.fail(op, err)
	}
	e := classify(op, s.password, err)
	switch {
	case hasCode(err, codeSnapshotTooOld) || hasName(err, "SnapshotTooOld"):
		e.Reason = ErrSnapshotTooOld
		e.Detail = fmt.Sprintf("the server let go of the history of %s before the capture finished: raise minSnapshotHistoryWindowInSeconds (setParameter, default 300) above the capture's duration of %d s, or %s: %s",
			s.PointInTime().Format(time.RFC3339), s.runningSeconds(), withoutPointInTime, e.Detail)
	case hasCode(err, codeSnapshotUnavailable) || hasName(err, "SnapshotUnavailable"):
		e.Reason = ErrSnapshotUnavailable
		e.Detail = fmt.Sprintf("the collection was created, renamed or changed (an index, its options) after %s, the capture's point in time; a new capture takes a later one: %s",
			s.PointInTime().Format(time.RFC3339), e.Detail)
	case !s.snapshotRead.Load() && refusesSnapshots(err):
		e.Reason = ErrRefused
		e.Detail = "the server does not give snapshot reads (readConcern snapshot at a cluster time); " + withoutPointInTime + ": " + e.Detail
	}
	return e
}

// runningSeconds is how long the capture has run since Open chose its
// point in time.
func (s *Source) runningSeconds() int64 {
	return int64(time.Since(s.started).Round(time.Second) / time.Second)
}

// PointInTime is the cluster time every document is read at, as UTC time
// to the second; zero when the capture has no point in time.
func (s *Source) PointInTime() time.Time {
	if s.clusterTime.IsZero() {
		return time.Time{}
	}
	return time.Unix(int64(s.clusterTime.T), 0).UTC()
}

// ClusterTime is the cluster time every document is read at (the
// readConcern's atClusterTime); the zero value when the capture has no
// point in time.
func (s *Source) ClusterTime() bson.Timestamp { return s.clusterTime }
