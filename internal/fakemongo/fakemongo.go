// Package fakemongo is a MongoDB server for tests that speaks the wire
// protocol (OP_MSG, and OP_QUERY for the legacy handshake) on 127.0.0.1
// and answers the commands a capture sends from small in-memory
// collections: hello and isMaster, buildInfo, ping, listDatabases,
// listCollections, listIndexes, find, getMore, killCursors and
// endSessions. It plays a replica set member, a mongos or a standalone
// server of any version, and lets a test close the connection in the
// middle of a collection or answer a command with an error code.
//
// No replica set can run where the tests run, so the point-in-time path of
// internal/capture (the deployment checks, readConcern snapshot at one
// atClusterTime, retries, the mapping of the server's refusals) is
// verified at the level of the commands the driver sends, against this
// server, not against a real replica set. The server does not keep
// history: it checks nothing of the read concern it is sent and answers
// every read with its current documents.
package fakemongo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// Kind is what the server plays.
type Kind int

const (
	// ReplicaSet is the primary of a one-member replica set, "rs0".
	ReplicaSet Kind = iota
	// Standalone is a server outside any replica set.
	Standalone
	// Router is a mongos (hello's msg "isdbgrid").
	Router
)

// Config is what the server says of itself.
type Config struct {
	Kind Kind
	// Version is buildInfo's version (default "7.0.14").
	Version string
	// MajorityOpTime is hello's lastWrite.majorityOpTime.ts (a replica set
	// member only; zero: left out).
	MajorityOpTime bson.Timestamp
	// OperationTime and ClusterTime are the operationTime and
	// $clusterTime.clusterTime of every reply (zero: left out).
	OperationTime bson.Timestamp
	ClusterTime   bson.Timestamp
	// NoHello answers only isMaster, as servers before 4.4.2 do.
	NoHello bool
	// BatchSize is the size of a batch when the command gives none
	// (default 101).
	BatchSize int
}

// Server is a running fake; Close stops it.
type Server struct {
	cfg      Config
	listener net.Listener
	addr     string

	mu       sync.Mutex
	dbs      map[string]map[string][]bson.Raw // database, collection, documents
	failures []failure
	drops    map[string]*drop // by "db.collection"
	cursors  map[int64]*cursor
	nextID   int64
	conns    map[net.Conn]bool
	closed   bool

	wg sync.WaitGroup
}

type failure struct {
	command, db string
	code        int
	name        string
}

type drop struct {
	at    int
	times int
}

type cursor struct {
	id       int64
	db, coll string
	docs     []bson.Raw
	pos      int
	batch    int
}

// Start runs a server on a free port of 127.0.0.1 until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Version == "" {
		cfg.Version = "7.0.14"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 101
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, listener: l, addr: l.Addr().String(), dbs: map[string]map[string][]bson.Raw{},
		drops: map[string]*drop{}, cursors: map[int64]*cursor{}, nextID: 1000, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URI is a connection string of the server.
func (s *Server) URI() string { return "mongodb://" + s.addr + "/" }

// Add appends documents to a collection, creating it and its database.
func (s *Server) Add(db, coll string, docs ...bson.D) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dbs[db] == nil {
		s.dbs[db] = map[string][]bson.Raw{}
	}
	list := s.dbs[db][coll]
	if list == nil {
		list = []bson.Raw{}
	}
	for _, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			return err
		}
		list = append(list, raw)
	}
	s.dbs[db][coll] = list
	return nil
}

// DropConnection closes the connection of the next times replies of
// db.coll's find or getMore that would hand out the document at position
// at (from 0), instead of answering.
func (s *Server) DropConnection(db, coll string, at, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[db+"."+coll] = &drop{at: at, times: times}
}

// Fail answers every command named command (getMore, find, ...) sent to
// database db ("" for any) with the error code and its name.
func (s *Server) Fail(command, db string, code int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{command: command, db: db, code: code, name: name})
}

// Close stops the server and closes its connections.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.listener.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			_ = conn.Close()
		}()
	}
}

// errDrop is a reply the test asked to replace with a closed connection.
var errDrop = errors.New("connection dropped")

func (s *Server) serve(conn net.Conn) {
	for {
		var size [4]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return
		}
		n := int(binary.LittleEndian.Uint32(size[:]))
		if n < 16 || n > 48<<20 {
			return
		}
		msg := make([]byte, n)
		copy(msg, size[:])
		if _, err := io.ReadFull(conn, msg[4:]); err != nil {
			return
		}
		_, requestID, _, opcode, rest, ok := wiremessage.ReadHeader(msg)
		if !ok {
			return
		}
		var reply []byte
		var err error
		switch opcode {
		case wiremessage.OpMsg:
			reply, err = s.opMsg(requestID, rest)
		case wiremessage.OpQuery:
			reply, err = s.opQuery(requestID, rest)
		default:
			return
		}
		if err != nil {
			return
		}
		if _, err := conn.Write(reply); err != nil {
			return
		}
	}
}

func (s *Server) opMsg(requestID int32, src []byte) ([]byte, error) {
	flags, src, ok := wiremessage.ReadMsgFlags(src)
	if !ok {
		return nil, errors.New("no flags")
	}
	var body bson.Raw
	for len(src) > 0 {
		if flags&wiremessage.ChecksumPresent != 0 && len(src) == 4 {
			break
		}
		var stype wiremessage.SectionType
		stype, src, ok = wiremessage.ReadMsgSectionType(src)
		if !ok {
			return nil, errors.New("no section type")
		}
		switch stype {
		case wiremessage.SingleDocument:
			var doc []byte
			doc, src, ok = wiremessage.ReadMsgSectionSingleDocument(src)
			if !ok {
				return nil, errors.New("bad body")
			}
			body = bson.Raw(doc)
		case wiremessage.DocumentSequence:
			_, _, src, ok = wiremessage.ReadMsgSectionDocumentSequence(src)
			if !ok {
				return nil, errors.New("bad document sequence")
			}
		}
	}
	if body == nil {
		return nil, errors.New("no body")
	}
	db, _ := body.Lookup("$db").StringValueOK()
	doc, err := s.command(db, body)
	if err != nil {
		return nil, err
	}
	idx, dst := wiremessage.AppendHeaderStart(nil, wiremessage.NextRequestID(), requestID, wiremessage.OpMsg)
	dst = wiremessage.AppendMsgFlags(dst, 0)
	dst = wiremessage.AppendMsgSectionType(dst, wiremessage.SingleDocument)
	dst = append(dst, doc...)
	binary.LittleEndian.PutUint32(dst[idx:], uint32(len(dst)-int(idx)))
	return dst, nil
}

// opQuery answers the legacy handshake, an isMaster sent to admin.$cmd.
func (s *Server) opQuery(requestID int32, src []byte) ([]byte, error) {
	_, src, ok := wiremessage.ReadQueryFlags(src)
	if !ok {
		return nil, errors.New("no flags")
	}
	ns, src, ok := wiremessage.ReadQueryFullCollectionName(src)
	if !ok {
		return nil, errors.New("no namespace")
	}
	_, src, _ = wiremessage.ReadQueryNumberToSkip(src)
	_, src, _ = wiremessage.ReadQueryNumberToReturn(src)
	query, _, ok := wiremessage.ReadQueryQuery(src)
	if !ok {
		return nil, errors.New("no query")
	}
	body := bson.Raw(query)
	if q, ok := body.Lookup("$query").DocumentOK(); ok {
		body = q
	}
	doc, err := s.command(strings.TrimSuffix(ns, ".$cmd"), body)
	if err != nil {
		return nil, err
	}
	idx, dst := wiremessage.AppendHeaderStart(nil, wiremessage.NextRequestID(), requestID, wiremessage.OpReply)
	dst = wiremessage.AppendReplyFlags(dst, wiremessage.AwaitCapable)
	dst = wiremessage.AppendReplyCursorID(dst, 0)
	dst = wiremessage.AppendReplyStartingFrom(dst, 0)
	dst = wiremessage.AppendReplyNumberReturned(dst, 1)
	dst = append(dst, doc...)
	binary.LittleEndian.PutUint32(dst[idx:], uint32(len(dst)-int(idx)))
	return dst, nil
}

// command answers one command; errDrop when the connection is to be
// closed instead.
func (s *Server) command(db string, body bson.Raw) ([]byte, error) {
	elems, err := body.Elements()
	if err != nil || len(elems) == 0 {
		return nil, errors.New("empty command")
	}
	name := elems[0].Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.failures {
		if f.command == name && (f.db == "" || f.db == db) {
			return s.reply(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: fmt.Sprintf("%s failed on %s (injected by the test)", name, db)},
				{Key: "code", Value: int32(f.code)}, {Key: "codeName", Value: f.name}})
		}
	}
	if name == "hello" && s.cfg.NoHello {
		return s.reply(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "no such command: 'hello'"},
			{Key: "code", Value: int32(59)}, {Key: "codeName", Value: "CommandNotFound"}})
	}
	switch strings.ToLower(name) {
	case "hello", "ismaster":
		return s.reply(s.hello(name != "hello"))
	case "buildinfo":
		var parts bson.A
		major, minor, patch := 0, 0, 0
		_, _ = fmt.Sscanf(s.cfg.Version, "%d.%d.%d", &major, &minor, &patch)
		parts = bson.A{int32(major), int32(minor), int32(patch), int32(0)}
		return s.reply(bson.D{{Key: "version", Value: s.cfg.Version}, {Key: "versionArray", Value: parts}, {Key: "ok", Value: 1.0}})
	case "ping", "endsessions":
		return s.reply(bson.D{{Key: "ok", Value: 1.0}})
	case "listdatabases":
		var list bson.A
		for name := range s.dbs {
			list = append(list, bson.D{{Key: "name", Value: name}, {Key: "sizeOnDisk", Value: int64(4096)}, {Key: "empty", Value: false}})
		}
		return s.reply(bson.D{{Key: "databases", Value: list}, {Key: "totalSize", Value: int64(4096 * len(list))}, {Key: "ok", Value: 1.0}})
	case "listcollections":
		var list []bson.Raw
		for coll := range s.dbs[db] {
			raw, _ := bson.Marshal(bson.D{{Key: "name", Value: coll}, {Key: "type", Value: "collection"}, {Key: "options", Value: bson.D{}},
				{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}}}})
			list = append(list, raw)
		}
		return s.firstBatch(db+".$cmd.listCollections", list)
	case "listindexes":
		coll, _ := elems[0].Value().StringValueOK()
		raw, _ := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
		return s.firstBatch(db+"."+coll, []bson.Raw{raw})
	case "find":
		return s.find(db, body)
	case "getmore":
		return s.getMore(body)
	case "killcursors":
		var killed bson.A
		cursors, _ := body.Lookup("cursors").ArrayOK()
		values, _ := cursors.Values()
		for _, v := range values {
			if id, ok := v.Int64OK(); ok {
				delete(s.cursors, id)
				killed = append(killed, id)
			}
		}
		return s.reply(bson.D{{Key: "cursorsKilled", Value: killed}, {Key: "cursorsNotFound", Value: bson.A{}},
			{Key: "cursorsAlive", Value: bson.A{}}, {Key: "cursorsUnknown", Value: bson.A{}}, {Key: "ok", Value: 1.0}})
	}
	return s.reply(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "no such command: '" + name + "'"},
		{Key: "code", Value: int32(59)}, {Key: "codeName", Value: "CommandNotFound"}})
}

func (s *Server) hello(legacy bool) bson.D {
	primary := "isWritablePrimary"
	if legacy {
		primary = "ismaster"
	}
	d := bson.D{{Key: primary, Value: true}}
	if !s.cfg.NoHello {
		d = append(d, bson.E{Key: "helloOk", Value: true})
	}
	switch s.cfg.Kind {
	case ReplicaSet:
		d = append(d, bson.E{Key: "hosts", Value: bson.A{s.addr}}, bson.E{Key: "setName", Value: "rs0"},
			bson.E{Key: "setVersion", Value: int32(1)}, bson.E{Key: "secondary", Value: false},
			bson.E{Key: "primary", Value: s.addr}, bson.E{Key: "me", Value: s.addr})
		if !s.cfg.MajorityOpTime.IsZero() {
			d = append(d, bson.E{Key: "lastWrite", Value: bson.D{
				{Key: "opTime", Value: bson.D{{Key: "ts", Value: s.cfg.MajorityOpTime}, {Key: "t", Value: int64(1)}}},
				{Key: "majorityOpTime", Value: bson.D{{Key: "ts", Value: s.cfg.MajorityOpTime}, {Key: "t", Value: int64(1)}}},
			}})
		}
	case Router:
		d = append(d, bson.E{Key: "msg", Value: "isdbgrid"})
	}
	return append(d,
		bson.E{Key: "maxBsonObjectSize", Value: int32(16 << 20)}, bson.E{Key: "maxMessageSizeBytes", Value: int32(48_000_000)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(100_000)}, bson.E{Key: "localTime", Value: bson.NewDateTimeFromTime(time.Now())},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)}, bson.E{Key: "connectionId", Value: int32(1)},
		bson.E{Key: "minWireVersion", Value: int32(0)}, bson.E{Key: "maxWireVersion", Value: int32(21)},
		bson.E{Key: "readOnly", Value: false}, bson.E{Key: "ok", Value: 1.0})
}

// reply adds the cluster times of the configuration to a reply.
func (s *Server) reply(d bson.D) ([]byte, error) {
	if !s.cfg.OperationTime.IsZero() {
		d = append(d, bson.E{Key: "operationTime", Value: s.cfg.OperationTime})
	}
	if !s.cfg.ClusterTime.IsZero() {
		d = append(d, bson.E{Key: "$clusterTime", Value: bson.D{{Key: "clusterTime", Value: s.cfg.ClusterTime},
			{Key: "signature", Value: bson.D{{Key: "hash", Value: bson.Binary{Data: make([]byte, 20)}}, {Key: "keyId", Value: int64(0)}}}}})
	}
	return bson.Marshal(d)
}

func (s *Server) firstBatch(ns string, docs []bson.Raw) ([]byte, error) {
	batch := bson.A{}
	for _, d := range docs {
		batch = append(batch, d)
	}
	return s.reply(bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: batch}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: ns}}}, {Key: "ok", Value: 1.0}})
}

func (s *Server) find(db string, body bson.Raw) ([]byte, error) {
	coll, _ := body.Lookup("find").StringValueOK()
	c := &cursor{db: db, coll: coll, docs: s.dbs[db][coll], batch: s.cfg.BatchSize}
	if skip, ok := body.Lookup("skip").AsInt64OK(); ok {
		c.pos = int(min(skip, int64(len(c.docs))))
	}
	if n, ok := body.Lookup("batchSize").AsInt64OK(); ok && n > 0 {
		c.batch = int(n)
	}
	return s.batch(c, "firstBatch")
}

func (s *Server) getMore(body bson.Raw) ([]byte, error) {
	id, _ := body.Lookup("getMore").Int64OK()
	c, ok := s.cursors[id]
	if !ok {
		return s.reply(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: fmt.Sprintf("cursor id %d not found", id)},
			{Key: "code", Value: int32(43)}, {Key: "codeName", Value: "CursorNotFound"}})
	}
	if n, ok := body.Lookup("batchSize").AsInt64OK(); ok && n > 0 {
		c.batch = int(n)
	}
	return s.batch(c, "nextBatch")
}

// batch answers the next batch of cursor c, registering it while
// documents remain.
func (s *Server) batch(c *cursor, field string) ([]byte, error) {
	end := min(c.pos+c.batch, len(c.docs))
	if d := s.drops[c.db+"."+c.coll]; d != nil && d.times > 0 && c.pos <= d.at && d.at < end {
		d.times--
		return nil, errDrop
	}
	docs := bson.A{}
	for _, d := range c.docs[c.pos:end] {
		docs = append(docs, d)
	}
	c.pos = end
	switch {
	case c.pos >= len(c.docs):
		delete(s.cursors, c.id)
		c.id = 0
	case c.id == 0:
		s.nextID++
		c.id = s.nextID
		s.cursors[c.id] = c
	}
	return s.reply(bson.D{{Key: "cursor", Value: bson.D{{Key: field, Value: docs}, {Key: "id", Value: c.id}, {Key: "ns", Value: c.db + "." + c.coll}}}, {Key: "ok", Value: 1.0}})
}
