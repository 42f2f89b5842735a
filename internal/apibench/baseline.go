package apibench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the driver of the store, for the same costs

	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/service"
)

// baseline is the bare net/http server the API is compared with: GET
// /read/{id} does one SQLite point read and writes the bytes a GET of a
// bucket answers; POST /create does one INSERT in a durable transaction
// and makes the bucket's folder and its permission-check object, as the
// create of a local bucket does. Its database is opened as the SQLite
// store opens its own: WAL, synchronous=FULL, one writer connection, a
// pool of readers.
type baseline struct {
	URL         string
	contentType string
	read, write *sql.DB
	bucketsDir  string
	http        *http.Server
	served      chan error
}

// startBaseline creates the baseline's database in dir, with one row per
// id holding body, and starts serving it on a loopback port.
func startBaseline(ctx context.Context, dir string, ids []string, body []byte, contentType string) (*baseline, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "baseline.db")
	dsn := func(txlock string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", txlock)
		return "file:" + file + "?" + q.Encode()
	}
	b := &baseline{contentType: contentType, bucketsDir: filepath.Join(dir, "buckets", "aws")}
	var err error
	if b.write, err = sql.Open("sqlite", dsn("immediate")); err != nil {
		return nil, err
	}
	b.write.SetMaxOpenConns(1)
	if b.read, err = sql.Open("sqlite", dsn("deferred")); err != nil {
		b.close()
		return nil, err
	}
	b.read.SetMaxOpenConns(8)
	if err := b.load(ctx, ids, body); err != nil {
		b.close()
		return nil, fmt.Errorf("baseline database %s: %w", file, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.close()
		return nil, err
	}
	b.URL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /read/{id}", b.get)
	mux.HandleFunc("POST /create", b.create)
	b.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	b.served = make(chan error, 1)
	go func() { b.served <- b.http.Serve(ln) }()
	return b, nil
}

func (b *baseline) load(ctx context.Context, ids []string, body []byte) error {
	tx, err := b.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TABLE t (id TEXT PRIMARY KEY, body BLOB NOT NULL)`,
		`CREATE TABLE buckets (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at TEXT NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, body) VALUES (?, ?)`, id, body); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (b *baseline) get(w http.ResponseWriter, r *http.Request) {
	var body []byte
	err := b.read.QueryRowContext(r.Context(), `SELECT body FROM t WHERE id = ?`, r.PathValue("id")).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", b.contentType)
	w.Write(body)
}

func (b *baseline) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		BucketName string `json:"bucketName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.BucketName == "" || filepath.Base(in.BucketName) != in.BucketName {
		http.Error(w, "bad bucketName", http.StatusBadRequest)
		return
	}
	id := service.NewID()
	if err := b.insert(r.Context(), id, in.BucketName); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := b.makeFolder(in.BucketName); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", b.contentType)
	fmt.Fprintf(w, `{"_id":%q,"bucketName":%q}`, id, in.BucketName)
}

func (b *baseline) insert(ctx context.Context, id, name string) error {
	tx, err := b.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO buckets (id, name, created_at) VALUES (?, ?, ?)`, id, name,
		time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	return tx.Commit()
}

// makeFolder makes a bucket's folder and writes its empty
// permission-check object beside a temporary name first, as the local
// object store does.
func (b *baseline) makeFolder(name string) error {
	check := filepath.Join(b.bucketsDir, name, filepath.FromSlash(objectstore.PermissionCheckKey))
	if err := os.MkdirAll(filepath.Dir(check), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(check), filepath.Base(check)+".*.tmp")
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), check)
}

func (b *baseline) close() {
	if b.http != nil {
		b.http.Close()
		<-b.served
	}
	if b.read != nil {
		b.read.Close()
	}
	b.write.Close()
}
