package capture

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/redact"
)

// Format is the dump.Info Format of a capture.
const Format = "capture"

// Options configure Open. The zero value is usable.
type Options struct {
	// Collections is how many collections are read at once (default 4,
	// mongodump's --numParallelCollections).
	Collections int
	// BatchSize is the number of documents a cursor asks for at a time (0:
	// the server's default, batches of at most 16 MiB).
	BatchSize int32
	// ServerSelectionTimeout bounds the wait for a server that answers
	// (default 30s, the driver's).
	ServerSelectionTimeout time.Duration
	// PointInTime reads every document at one cluster time, with snapshot
	// reads (see the package documentation); false reads with ordinary
	// cursors, without a point in time ("consistency none").
	PointInTime bool
	// Retries is how many times the reading of one collection is taken up
	// again after a transient failure (default 3; negative: none).
	Retries int
	// RetryBackoff is the wait before the first retry of a collection,
	// doubled before each next one (default 100ms).
	RetryBackoff time.Duration
	// Monitor, for tests and diagnostics, sees every command the capture
	// sends and its outcome.
	Monitor *event.CommandMonitor
}

// Source is a deployment being read, as a dump.Source.
type Source struct {
	info   dump.Info
	colls  []dump.Collection
	notes  []string
	client *mongo.Client
	// password is the URI's, kept out of error messages.
	password string

	// clusterTime is the point in time read at, zero for none.
	clusterTime bson.Timestamp
	// started is when Open chose the point in time.
	started time.Time
	// snapshotRead is set once the server has answered a snapshot read,
	// after which a refusal is no longer taken for the lack of them.
	snapshotRead atomic.Bool
	retries      int
	backoff      time.Duration

	ctx     context.Context
	cancel  context.CancelFunc
	batch   int32
	items   chan item
	workers sync.WaitGroup
	// resume lets the cursor whose document Next handed out last move on.
	resume chan<- struct{}
	err    error
}

// item is a document of collection coll read by a cursor, or the error
// that ended its reading.
type item struct {
	coll   int
	doc    bson.Raw
	err    error
	resume chan<- struct{}
}

// Open connects to the deployment at uri, checks that it answers to the
// credentials the URI gives, and lists what it will read (see the package
// documentation). ctx bounds Open and every later read: Next fails once
// it ends. Close releases the connection.
func Open(ctx context.Context, uri string, opts Options) (_ *Source, err error) {
	var password string
	if cs, perr := connstring.Parse(uri); perr == nil {
		password = cs.Password
	} else {
		return nil, &Error{Op: "reading the deployment's URI", Detail: "not a MongoDB connection string (mongodb:// or mongodb+srv://)", cause: perr}
	}
	shown := redact.URL(uri)
	if opts.Collections <= 0 {
		opts.Collections = 4
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = 3
	case opts.Retries < 0:
		opts.Retries = 0
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 100 * time.Millisecond
	}
	clientOpts := options.Client().ApplyURI(uri).SetAppName("snapexport capture")
	if opts.ServerSelectionTimeout > 0 {
		clientOpts.SetServerSelectionTimeout(opts.ServerSelectionTimeout)
	}
	if opts.Monitor != nil {
		clientOpts.SetMonitor(opts.Monitor)
	}
	client, err := mongo.Connect(clientOpts)
	if err != nil {
		return nil, classify("connecting to "+shown, password, err)
	}
	s := &Source{client: client, password: password, batch: opts.BatchSize, retries: opts.Retries, backoff: opts.RetryBackoff}
	s.ctx, s.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	d, err := s.inspect("connecting to " + shown)
	if err != nil {
		return nil, err
	}
	if why := d.refusal(opts.PointInTime); why != "" {
		return nil, &Error{Op: "capturing " + shown, Reason: ErrRefused, Detail: why}
	}
	if opts.PointInTime {
		s.clusterTime, s.started = d.clusterTime, time.Now()
	}
	s.info = dump.Info{Format: Format, Name: shown, ServerVersion: d.version, ConcurrentCollections: opts.Collections}
	dbs, err := client.ListDatabaseNames(s.ctx, bson.D{})
	if err != nil {
		return nil, s.fail("listing the databases", err)
	}
	slices.Sort(dbs)
	for _, db := range dbs {
		switch db {
		case "admin", "local", "config":
			continue
		}
		if err := s.listCollections(db); err != nil {
			return nil, err
		}
	}
	s.start(opts.Collections)
	return s, nil
}

// fail wraps a driver error of op, or tells that the reading was stopped
// when the context ended.
func (s *Source) fail(op string, err error) error {
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("capture: %s stopped: %w", op, ctxErr)
	}
	return classify(op, s.password, err)
}

// collectionSpec is a listCollections entry.
type collectionSpec struct {
	Name    string   `bson:"name"`
	Type    string   `bson:"type"`
	Options bson.Raw `bson:"options"`
	Info    struct {
		UUID *bson.Binary `bson:"uuid"`
	} `bson:"info"`
}

const bucketsPrefix = "system.buckets."

func (s *Source) listCollections(db string) error {
	cur, err := s.client.Database(db).ListCollections(s.ctx, bson.D{})
	if err != nil {
		return s.fail("listing the collections of database "+db, err)
	}
	var specs []collectionSpec
	if err := cur.All(s.ctx, &specs); err != nil {
		return s.fail("listing the collections of database "+db, err)
	}
	slices.SortFunc(specs, func(a, b collectionSpec) int { return strings.Compare(a.Name, b.Name) })
	buckets := map[string]bool{}
	for _, spec := range specs {
		buckets[spec.Name] = strings.HasPrefix(spec.Name, bucketsPrefix)
	}
	for _, spec := range specs {
		if strings.HasPrefix(spec.Name, "system.") && spec.Name != "system.js" {
			if !strings.HasPrefix(spec.Name, bucketsPrefix) {
				s.notes = append(s.notes, fmt.Sprintf("skipping system collection %s.%s (mongodump leaves it out)", db, spec.Name))
			}
			continue
		}
		c, err := s.describe(db, spec, buckets[bucketsPrefix+spec.Name])
		if err != nil {
			return err
		}
		s.colls = append(s.colls, c)
	}
	return nil
}

// describe makes a collection's entry and its metadata as mongodump
// writes it.
func (s *Source) describe(db string, spec collectionSpec, hasBuckets bool) (dump.Collection, error) {
	c := dump.Collection{Namespace: dump.Namespace{DB: db, Collection: spec.Name}, DataCollection: spec.Name}
	m := dump.Metadata{CollectionName: spec.Name, Type: spec.Type, Indexes: []bson.Raw{}}
	if m.Type == "" {
		m.Type = dump.TypeCollection
	}
	if len(spec.Options) > 5 { // an empty document is 5 bytes
		m.Options = spec.Options
	}
	if u := spec.Info.UUID; u != nil && len(u.Data) == 16 {
		m.UUID = hex.EncodeToString(u.Data)
	}
	switch m.Type {
	case dump.TypeView:
		c.DataCollection = ""
	case dump.TypeTimeseries:
		if !hasBuckets {
			return c, &Error{Op: "reading time-series collection " + c.Namespace.String(),
				Detail: "the server lists no " + bucketsPrefix + spec.Name + " (servers from 8.3 keep buckets under the collection's own name, which a capture does not read yet)"}
		}
		c.DataCollection = bucketsPrefix + spec.Name
	}
	if m.Type != dump.TypeView {
		op := "listing the indexes of " + c.Namespace.String()
		cur, err := s.client.Database(db).Collection(spec.Name).Indexes().List(s.ctx)
		if err != nil {
			return c, s.fail(op, err)
		}
		for cur.Next(s.ctx) {
			m.Indexes = append(m.Indexes, slices.Clone(cur.Current))
		}
		if err := cur.Err(); err != nil {
			return c, s.fail(op, err)
		}
		_ = cur.Close(s.ctx)
	}
	raw := bson.D{}
	if m.Options != nil {
		raw = append(raw, bson.E{Key: "options", Value: m.Options})
	}
	raw = append(raw, bson.E{Key: "indexes", Value: m.Indexes})
	if m.UUID != "" {
		raw = append(raw, bson.E{Key: "uuid", Value: m.UUID})
	}
	raw = append(raw, bson.E{Key: "collectionName", Value: m.CollectionName}, bson.E{Key: "type", Value: m.Type})
	var err error
	if m.Raw, err = bson.Marshal(raw); err != nil {
		return c, fmt.Errorf("capture: metadata of %s: %w", c.Namespace, err)
	}
	c.Metadata = m
	return c, nil
}

// start sets n cursors reading the collections that hold documents, in
// order.
func (s *Source) start(n int) {
	todo := make(chan int, len(s.colls))
	for i, c := range s.colls {
		if !c.IsView() {
			todo <- i
		}
	}
	close(todo)
	s.items = make(chan item)
	for range n {
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			resume := make(chan struct{}, 1)
			for i := range todo {
				if !s.read(i, resume) {
					return
				}
			}
		}()
	}
	go func() {
		s.workers.Wait()
		close(s.items)
	}()
}

// read hands the documents of collection i to Next one by one, waiting
// for Next to be called again before moving the cursor on, and takes the
// reading up again after a transient failure; false when the reading
// stopped.
func (s *Source) read(i int, resume chan struct{}) (read bool) {
	c := s.colls[i]
	op := "reading " + c.Namespace.String()
	if c.DataCollection != c.Collection {
		op += " (" + c.DB + "." + c.DataCollection + ")"
	}
	var handed int64
	// A span in the trace of the capture's caller, when it has one.
	_, span := trace.SpanFromContext(s.ctx).TracerProvider().Tracer("github.com/snapexport/snapexport/internal/capture").Start(s.ctx, "capture collection",
		trace.WithAttributes(attribute.String("db.namespace", c.DB), attribute.String("db.collection.name", c.DataCollection)))
	defer func() {
		span.SetAttributes(attribute.Int64("snapexport.documents", handed))
		if !read {
			span.SetStatus(codes.Error, "collection not read whole")
		}
		span.End()
	}()
	backoff := s.backoff
	for retry := 0; ; retry++ {
		err := s.scan(i, &handed, resume)
		switch {
		case err == nil:
			return true
		case errors.Is(err, errStopped):
			return false
		case s.ctx.Err() == nil && transient(err) && retry < s.retries:
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-s.ctx.Done():
				timer.Stop()
				return false
			}
			backoff *= 2
			continue
		}
		select {
		case s.items <- item{err: s.readFailure(op, err)}:
		case <-s.ctx.Done():
		}
		return false
	}
}

// errStopped is a reading that stopped because the capture's context
// ended.
var errStopped = errors.New("capture: reading stopped")

// scan reads collection i from its handed-th document on, counting the
// documents it hands to Next in handed.
func (s *Source) scan(i int, handed *int64, resume chan struct{}) error {
	c := s.colls[i]
	cur, err := s.client.Database(c.DB).RunCommandCursor(s.ctx, s.findCommand(c.DataCollection, *handed))
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(s.ctx))
	s.snapshotRead.Store(true)
	if s.batch > 0 {
		cur.SetBatchSize(s.batch)
	}
	for cur.Next(s.ctx) {
		select {
		case s.items <- item{coll: i, doc: cur.Current, resume: resume}:
		case <-s.ctx.Done():
			return errStopped
		}
		*handed++
		select {
		case <-resume:
		case <-s.ctx.Done():
			return errStopped
		}
	}
	return cur.Err()
}

// Info describes the capture: Format "capture", the URI without its
// password as Name, the server's version.
func (s *Source) Info() dump.Info { return s.info }

// Collections lists the collections read, views included, by database and
// name.
func (s *Source) Collections() []dump.Collection { return slices.Clone(s.colls) }

// Notes lists the system collections left out.
func (s *Source) Notes() []string { return slices.Clone(s.notes) }

// Next returns the next document and its collection; the document is
// valid until the next call. At the end it returns io.EOF; any other error
// (an *Error, or the context's error wrapped) is returned again by later
// calls.
func (s *Source) Next() (dump.Namespace, bson.Raw, error) {
	if s.err != nil {
		return dump.Namespace{}, nil, s.err
	}
	if s.resume != nil {
		s.resume <- struct{}{}
		s.resume = nil
	}
	var it item
	var ok bool
	select {
	case it, ok = <-s.items:
	case <-s.ctx.Done():
	}
	switch {
	case s.ctx.Err() != nil:
		s.err = fmt.Errorf("capture: reading stopped: %w", s.ctx.Err())
	case !ok:
		return dump.Namespace{}, nil, io.EOF
	case it.err != nil:
		s.err = it.err
	}
	if s.err != nil {
		s.cancel()
		return dump.Namespace{}, nil, s.err
	}
	s.resume = it.resume
	c := &s.colls[it.coll]
	c.Count++
	c.Size += int64(len(it.doc))
	return c.Namespace, it.doc, nil
}

// Close stops the cursors and disconnects.
func (s *Source) Close() error {
	s.cancel()
	s.workers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return classify("disconnecting", s.password, err)
	}
	return nil
}

var _ dump.Source = (*Source)(nil)
