package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gocloud.dev/blob"

	"github.com/snapexport/snapexport/internal/bytecount"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// Source is one replica set's snapshot data.
type Source struct {
	Store    *snapshotstore.Store
	Location snapshotstore.Location
	Manifest *snapshotstore.Manifest
	// ReplicaSetName names the data objects (<rs>.<n>.json.gz); the
	// manifest's when empty.
	ReplicaSetName string
}

func (s Source) replicaSet() string {
	if s.ReplicaSetName != "" {
		return s.ReplicaSetName
	}
	return s.Manifest.ReplicaSetName
}

// Options tune an export. Only ChunkBytes and GzipLevel change what is
// written.
type Options struct {
	// ChunkBytes is how many bytes of (uncompressed) Extended JSON a data
	// object holds at most before the next one starts (default 64 MiB);
	// documents are never split.
	ChunkBytes int64
	// Parallel is the number of collections Export writes at once
	// (default 1).
	Parallel int
	// Skip is the number of collections, in Collections order, that
	// Export takes as written already: a resumed export starts after them.
	Skip int
	// GzipLevel is the compression level: 0 means gzip.DefaultCompression,
	// otherwise 1-9, gzip.DefaultCompression, gzip.HuffmanOnly or
	// gzip.ConstantCompression of github.com/klauspost/compress/gzip.
	GzipLevel int
	// MarshalWorkers is the number of goroutines converting one
	// collection's documents to Extended JSON (default GOMAXPROCS, at most
	// 4), while one goroutine reads and another compresses and writes.
	MarshalWorkers int
	// WriterBufferSize is blob.WriterOptions.BufferSize of each object
	// (default 8 MiB): per collection in flight, the memory an S3 or
	// Azure upload holds.
	WriterBufferSize int
}

// Defaults.
const (
	DefaultChunkBytes       = 64 << 20
	DefaultWriterBufferSize = 8 << 20
	maxMarshalWorkers       = 4
	// batchBytes is how much BSON the reader hands a marshal worker at a
	// time: large enough to amortize channel hand-offs, small enough that
	// the batches in flight stay a few MiB.
	batchBytes = 256 << 10
	// writeBufferSize groups the compressor's output into fewer writes to
	// the blob writer (one system call each for fileblob).
	writeBufferSize = 256 << 10
)

func (o Options) withDefaults() Options {
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = DefaultChunkBytes
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = gzip.DefaultCompression
	}
	if o.MarshalWorkers <= 0 {
		o.MarshalWorkers = min(runtime.GOMAXPROCS(0), maxMarshalWorkers)
	}
	if o.WriterBufferSize <= 0 {
		o.WriterBufferSize = DefaultWriterBufferSize
	}
	return o
}

// Result is what ExportCollection wrote for one collection.
type Result struct {
	// Index is the collection's index in Manifest.Namespaces.
	Index    int
	DB, Name string
	// Keys are the objects written: the data objects in order, then
	// metadata.json.
	Keys []string
	// Documents and Bytes count the documents and their BSON size.
	Documents, Bytes int64
	// JSONBytes and CompressedBytes are the data objects' sizes before
	// and after compression.
	JSONBytes, CompressedBytes int64
}

// Collections returns the indexes (into m.Namespaces) of the collections
// an export writes, in snapshot order. Atlas skips views and system
// collections except <db>.system.js, and exports time-series collections:
// so no view, nothing of the admin, config and local databases, and no
// system.* collection but system.js.
func Collections(m *snapshotstore.Manifest) []int {
	var out []int
	for i, c := range m.Namespaces {
		switch {
		case c.Type != "collection" && c.Type != "timeseries":
		case c.DB == "admin" || c.DB == "config" || c.DB == "local":
		case strings.HasPrefix(c.Name, "system.") && c.Name != "system.js":
		default:
			out = append(out, i)
		}
	}
	return out
}

// Export writes every collection of Collections(src.Manifest) after the
// first opts.Skip, Parallel at a time, and returns their results in that order. progress (may be nil)
// receives increments of documents and BSON bytes written; done (may be
// nil) is called with each collection's result in snapshot order, as soon
// as it and every collection before it are complete, so a runner can
// count finished collections as Atlas does (its first k are complete).
// Calls to progress and done never overlap. On the first error the
// collections in progress are abandoned (their current object is not
// committed) and the error is returned with the results of the
// collections done before it.
func Export(ctx context.Context, bucket *blob.Bucket, prefix string, src Source, opts Options,
	progress func(docs, bytes int64), done func(Result)) ([]Result, error) {
	opts = opts.withDefaults()
	idx := Collections(src.Manifest)
	idx = idx[min(max(opts.Skip, 0), len(idx)):]
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		results  = make([]*Result, len(idx))
		reported int
		firstErr error
	)
	report := func(docs, bytes int64) {
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		progress(docs, bytes)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Parallel, len(idx)) {
		wg.Go(func() {
			for k := range next {
				res, err := ExportCollection(ctx, bucket, prefix, src, idx[k], opts, report)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					continue
				}
				results[k] = &res
				for reported < len(results) && results[reported] != nil && firstErr == nil {
					if done != nil {
						done(*results[reported])
					}
					reported++
				}
				mu.Unlock()
			}
		})
	}
feed:
	for k := range idx {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	out := make([]Result, 0, reported)
	for _, r := range results[:reported] {
		out = append(out, *r)
	}
	if firstErr == nil && reported < len(idx) {
		firstErr = context.Cause(ctx)
	}
	return out, firstErr
}

// batch is a run of consecutive documents on their way from the reader
// through a marshal worker to the writer.
type batch struct {
	bson  []byte // the documents, concatenated
	docs  int
	json  []byte // their Extended JSON, one line each
	lines []int  // end offset in json of each line
	err   error  // the reader's error, instead of documents
	eof   bool   // the end of the collection, after every document
	// convErr is a worker's failure to convert a document
	convErr error
	ready   chan struct{}
}

// ExportCollection writes collection index of src.Manifest under prefix:
// its data objects <prefix>/<db>/<collection>/<rs>.<n>.json.gz, then its
// metadata.json (see the package documentation). progress (may be nil)
// receives increments of documents and BSON bytes as they are written,
// from one goroutine at a time.
//
// The object being written when an error occurs is never committed.
// Objects finished before it stay: the snapshot reader checks a part's
// checksum only at the part's end, so a damaged part can fail the export
// after earlier objects were committed; metadata.json, written last, marks
// a complete collection. ExportCollection is deterministic: running it
// again overwrites the same keys with the same bytes.
func ExportCollection(ctx context.Context, bucket *blob.Bucket, prefix string, src Source, index int, opts Options,
	progress func(docs, bytes int64)) (res Result, err error) {
	opts = opts.withDefaults()
	if src.Manifest == nil || index < 0 || index >= len(src.Manifest.Namespaces) {
		return Result{}, fmt.Errorf("export: no collection %d in the manifest", index)
	}
	coll := &src.Manifest.Namespaces[index]
	res = Result{Index: index, DB: coll.DB, Name: coll.Name}
	// A span in the trace of the caller's, when it has one.
	ctx, span := trace.SpanFromContext(ctx).TracerProvider().Tracer("github.com/snapexport/snapexport/internal/export").Start(ctx, "export collection",
		trace.WithAttributes(attribute.String("db.namespace", coll.DB), attribute.String("db.collection.name", coll.Name)))
	defer func() {
		span.SetAttributes(attribute.Int64("snapexport.documents", res.Documents), attribute.Int64("snapexport.bson_bytes", res.Bytes),
			attribute.Int64("snapexport.gzip_bytes", res.CompressedBytes), attribute.Int("snapexport.files", len(res.Keys)))
		if err != nil {
			span.SetStatus(codes.Error, "collection not exported")
		}
		span.End()
	}()
	// metadata first, so that a bad metadata document fails the
	// collection before any data is written
	meta, err := MetadataJSON(coll)
	if err != nil {
		return res, fmt.Errorf("export: %s: %w", MetadataKey(prefix, coll.DB, coll.Name), err)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cr, err := src.Store.OpenCollection(ctx, src.Location, src.Manifest, index)
	if err != nil {
		return res, fmt.Errorf("export: reading %s.%s: %w", coll.DB, coll.Name, err)
	}

	workers := opts.MarshalWorkers
	inFlight := 2*workers + 2
	ordered := make(chan *batch, inFlight)
	work := make(chan *batch, inFlight)
	free := make(chan *batch, inFlight+2)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cr.Close()
		defer close(work)
		defer close(ordered)
		readBatches(ctx, cr, coll, ordered, work, free)
	})
	for range workers {
		wg.Go(func() { marshalBatches(work) })
	}

	w := &collectionWriter{
		ctx: ctx, bucket: bucket, opts: opts, res: &res,
		keyOf: func(n int) string { return DataKey(prefix, coll.DB, coll.Name, src.replicaSet(), n) },
	}
	err = w.run(ordered, free, progress)
	if err != nil {
		cancel(err)
	}
	// the reader must be done with cr, and no goroutine left behind
	// holding batches, before returning
	for range ordered {
	}
	wg.Wait()
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	key := MetadataKey(prefix, coll.DB, coll.Name)
	if err := writeSmall(ctx, bucket, key, "application/json", meta); err != nil {
		return res, err
	}
	res.Keys = append(res.Keys, key)
	return res, nil
}

// readBatches reads the collection into batches, in order, until its end,
// an error (sent as a last batch) or ctx's end.
func readBatches(ctx context.Context, cr *snapshotstore.CollectionReader, coll *snapshotstore.Collection,
	ordered, work chan<- *batch, free <-chan *batch) {
	send := func(b *batch) bool {
		select {
		case ordered <- b:
		case <-ctx.Done():
			return false
		}
		if b.err != nil || b.eof {
			return true
		}
		select {
		case work <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	get := func() *batch {
		var b *batch
		select {
		case b = <-free:
		default:
			b = &batch{bson: make([]byte, 0, batchBytes+batchBytes/4)}
		}
		b.ready = make(chan struct{})
		return b
	}
	b := get()
	for {
		doc, err := cr.Next()
		if err == io.EOF {
			if b.docs > 0 && !send(b) {
				return
			}
			// only an explicit end lets the writer commit the last object:
			// a closed channel alone may be a cancelled read
			end := &batch{eof: true, ready: make(chan struct{})}
			close(end.ready)
			send(end)
			return
		}
		if err != nil {
			e := &batch{err: fmt.Errorf("export: reading %s.%s: %w", coll.DB, coll.Name, err), ready: make(chan struct{})}
			close(e.ready)
			send(e)
			return
		}
		b.bson = append(b.bson, doc...)
		b.docs++
		if len(b.bson) >= batchBytes {
			if !send(b) {
				return
			}
			b = get()
		}
	}
}

// appendWriter lets a worker's one encoder write into whichever batch it
// is converting.
type appendWriter struct{ b *[]byte }

func (w appendWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}

func marshalBatches(work <-chan *batch) {
	var dst *[]byte
	var sink appendWriter
	sink.b = new([]byte)
	dst = sink.b
	// for what appendExtJSON leaves to the driver: a value writer with
	// newlines ends each top-level document with "\n"
	enc := bson.NewEncoder(bson.NewExtJSONValueWriter(sink, true, false))
	for b := range work {
		*dst = b.json[:0]
		b.lines = b.lines[:0]
		rest := b.bson
		for len(rest) > 0 {
			n := le32(rest)
			if out, ok := appendExtJSON(*dst, rest[:n]); ok {
				*dst = append(out, '\n')
				b.lines = append(b.lines, len(*dst))
				rest = rest[n:]
				continue
			}
			if err := enc.Encode(bson.Raw(rest[:n])); err != nil {
				b.convErr = fmt.Errorf("converting a document to Extended JSON: %w", err)
				// the encoder may be mid-document: start a fresh one
				enc = bson.NewEncoder(bson.NewExtJSONValueWriter(sink, true, false))
				break
			}
			b.lines = append(b.lines, len(*dst))
			rest = rest[n:]
		}
		b.json = *dst
		close(b.ready)
	}
}

// collectionWriter cuts the stream of lines into data objects and
// compresses and uploads them.
type collectionWriter struct {
	ctx    context.Context
	bucket *blob.Bucket
	opts   Options
	res    *Result
	keyOf  func(n int) string

	// the object being written; w is nil between objects
	key    string
	cancel context.CancelFunc
	w      *blob.Writer
	count  bytecount.Writer
	buf    *bufio.Writer
	gz     *gzip.Writer
	size   int64 // JSON bytes in the object
	n      int   // objects started
}

func (cw *collectionWriter) run(ordered <-chan *batch, free chan<- *batch, progress func(docs, bytes int64)) error {
	for {
		var b *batch
		var ok bool
		select {
		case b, ok = <-ordered:
		case <-cw.ctx.Done():
			cw.abort()
			return context.Cause(cw.ctx)
		}
		if !ok {
			// the reader stopped before the end: ctx ended
			cw.abort()
			if err := context.Cause(cw.ctx); err != nil {
				return err
			}
			return errors.New("export: the collection reader stopped early")
		}
		if b.eof {
			break
		}
		select {
		case <-b.ready:
		case <-cw.ctx.Done():
			cw.abort()
			return context.Cause(cw.ctx)
		}
		if b.err != nil {
			cw.abort()
			return b.err
		}
		if b.convErr != nil {
			key := cw.key
			if key == "" {
				key = cw.keyOf(cw.n)
			}
			cw.abort()
			return fmt.Errorf("export: writing %s: %w", key, b.convErr)
		}
		if err := cw.writeLines(b); err != nil {
			cw.abort()
			return err
		}
		cw.res.Documents += int64(b.docs)
		cw.res.Bytes += int64(len(b.bson))
		if progress != nil {
			progress(int64(b.docs), int64(len(b.bson)))
		}
		recycle(b, free)
	}
	if cw.w != nil {
		if err := cw.finish(); err != nil {
			return err
		}
	}
	return nil
}

func recycle(b *batch, free chan<- *batch) {
	// let a batch that held a huge document go
	if cap(b.bson) > 4*batchBytes || cap(b.json) > 16*batchBytes {
		return
	}
	b.bson, b.json, b.lines, b.docs, b.err, b.convErr, b.ready = b.bson[:0], b.json[:0], b.lines[:0], 0, nil, nil, nil
	select {
	case free <- b:
	default:
	}
}

// writeLines writes a batch's lines, each to the object it belongs to,
// in as few writes as object boundaries allow.
func (cw *collectionWriter) writeLines(b *batch) error {
	start, prev := 0, 0
	for _, end := range b.lines {
		n := int64(end - prev)
		if cw.size > 0 && cw.size+n > cw.opts.ChunkBytes {
			if err := cw.write(b.json[start:prev]); err != nil {
				return err
			}
			if err := cw.finish(); err != nil {
				return err
			}
			start = prev
		}
		cw.size += n
		prev = end
	}
	return cw.write(b.json[start:prev])
}

func (cw *collectionWriter) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if cw.w == nil {
		if err := cw.open(); err != nil {
			return err
		}
	}
	if _, err := cw.gz.Write(p); err != nil {
		return &WriteError{Key: cw.key, Err: err}
	}
	cw.res.JSONBytes += int64(len(p))
	return nil
}

func (cw *collectionWriter) open() error {
	key := cw.keyOf(cw.n)
	ctx, cancel := context.WithCancel(cw.ctx)
	w, err := cw.bucket.NewWriter(ctx, key, &blob.WriterOptions{
		ContentType: "application/gzip",
		BufferSize:  cw.opts.WriterBufferSize,
	})
	if err != nil {
		cancel()
		return &WriteError{Key: key, Err: err}
	}
	cw.key, cw.cancel, cw.w = key, cancel, w
	cw.count = bytecount.Writer{W: w}
	if cw.buf == nil {
		cw.buf = bufio.NewWriterSize(&cw.count, writeBufferSize)
	} else {
		cw.buf.Reset(&cw.count)
	}
	if cw.gz == nil {
		cw.gz, err = gzip.NewWriterLevel(cw.buf, cw.opts.GzipLevel)
		if err != nil {
			cw.abort()
			return &WriteError{Key: key, Err: err}
		}
	} else {
		cw.gz.Reset(cw.buf)
	}
	// no name, MTIME 0 and OS 255, so that the same data always gives the
	// same bytes; klauspost's writer stores uint32(ModTime.Unix()) even
	// for the zero time (2042-07-14 in the header), unlike compress/gzip,
	// so the epoch is set explicitly
	cw.gz.Header.ModTime = time.Unix(0, 0)
	cw.n++
	return nil
}

// finish completes and commits the current object.
func (cw *collectionWriter) finish() error {
	err := cw.gz.Close()
	if err == nil {
		err = cw.buf.Flush()
	}
	if err != nil {
		cw.abort()
		return &WriteError{Key: cw.key, Err: err}
	}
	err = cw.w.Close()
	cw.cancel()
	key := cw.key
	cw.w, cw.cancel, cw.key, cw.size = nil, nil, "", 0
	if err != nil {
		return &WriteError{Key: key, Err: err}
	}
	cw.res.Keys = append(cw.res.Keys, key)
	cw.res.CompressedBytes += cw.count.N
	return nil
}

// abort drops the current object: cancelling its context before Close
// makes every gocloud driver discard the upload.
func (cw *collectionWriter) abort() {
	if cw.w == nil {
		return
	}
	cw.cancel()
	cw.w.Close()
	cw.w, cw.cancel, cw.key, cw.size = nil, nil, "", 0
}
