// Package metrics keeps the server's Prometheus metrics, served by
// Handler on a listener of their own (serve --metrics-listen). It is told
// of requests by the API (api.Observer), of export jobs by their runner
// (exportrunner.Observer), of snapshots by the service (service.Observer)
// and of store transactions (instrumentedstore.Observer), through methods
// of plain values, so that none of them depends on Prometheus. Every label
// value is one of a bounded set (operation ids, API versions, statuses,
// states, names of limits and schemes): never a path, an id, a name a
// client chose or a credential.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's metrics and the registry that serves them.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	authFailures    *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec

	exportsRunning  prometheus.Gauge
	exportDocuments prometheus.Counter
	exportBytes     *prometheus.CounterVec
	exportFiles     prometheus.Counter
	exportJobs      *prometheus.CounterVec
	exportDuration  *prometheus.HistogramVec

	transactions        *prometheus.CounterVec
	transactionDuration *prometheus.HistogramVec

	snapshotDocuments *prometheus.CounterVec
	snapshotBytes     *prometheus.CounterVec
	snapshots         *prometheus.CounterVec
	snapshotStored    prometheus.Counter
	leaseTakeovers    prometheus.Counter
}

// New makes the metrics, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_http_requests_total",
			Help: "API requests answered, by operation (Atlas's operationId, or snapexport's name of its own), API version (a dated version, v1, v2 when none was negotiated, or none) and status.",
		}, []string{"operation", "version", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "snapexport_http_request_duration_seconds",
			Help:    "Time to answer an API request, from its headers read to its answer written, by operation and API version.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "version"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_authentication_failures_total",
			Help: "Requests whose credentials were refused, by scheme: digest, bearer, client (a client id and secret at the token or revoke endpoint) or other.",
		}, []string{"scheme"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_rate_limited_requests_total",
			Help: "Requests refused with 429 by a rate limit, by limit (its configuration key under rateLimits).",
		}, []string{"limit"}),
		exportsRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snapexport_export_runs_running",
			Help: "Export jobs (replica sets) this server is writing now.",
		}),
		exportDocuments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snapexport_export_documents_total",
			Help: "Documents written by export jobs, counted as each batch is written (a collection written again after an interrupted run counts again).",
		}),
		exportBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_export_bytes_total",
			Help: "Bytes of export jobs: format bson counts the snapshot's BSON read, as each batch is written; format gzip the compressed objects written, as each collection is finished.",
		}, []string{"format"}),
		exportFiles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snapexport_export_files_total",
			Help: "Objects written by export jobs (data objects and metadata.json), as each collection is finished.",
		}),
		exportJobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_export_jobs_ended_total",
			Help: "Export jobs whose end this server recorded (a run's end, a sharded export's conclusion, a queued job's cancellation), by state: Successful, Failed or Cancelled.",
		}, []string{"state"}),
		exportDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "snapexport_export_duration_seconds",
			Help:    "Time from an export job's creation to its end, by state.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 14), // 0.1 s to about 4 h
		}, []string{"state"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_store_transactions_total",
			Help: "Store transactions, by backend (sqlite, postgres), kind (read, write) and outcome (ok, or error: a fault of the database, not an answer such as not found).",
		}, []string{"backend", "kind", "outcome"}),
		transactionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "snapexport_store_transaction_duration_seconds",
			Help:    "Time of a store transaction, retries and waiting for the writer included, by backend and kind.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"backend", "kind"}),
		snapshotDocuments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_snapshot_read_documents_total",
			Help: "Documents read into snapshots as they are read, by source: capture (a bound cluster's deployment) or import (a mongodump archive).",
		}, []string{"source"}),
		snapshotBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_snapshot_read_bytes_total",
			Help: "BSON bytes read into snapshots as they are read, by source: capture or import.",
		}, []string{"source"}),
		snapshots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapexport_snapshots_ended_total",
			Help: "Snapshots this server completed (taken or imported) or failed, by status: completed, failed.",
		}, []string{"status"}),
		snapshotStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snapexport_snapshot_stored_bytes_total",
			Help: "Bytes stored by the snapshots this server completed (their storageSizeBytes).",
		}),
		leaseTakeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snapexport_export_lease_takeovers_total",
			Help: "Export jobs this server took over from a run whose lease had lapsed (its server died or stalled).",
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.authFailures, m.rateLimited,
		m.exportsRunning, m.exportDocuments, m.exportBytes, m.exportFiles, m.exportJobs, m.exportDuration, m.leaseTakeovers,
		m.transactions, m.transactionDuration,
		m.snapshotDocuments, m.snapshotBytes, m.snapshots, m.snapshotStored,
	)
	// Every format and source is there from the start, so that a rate is
	// computed from the first scrape.
	m.exportBytes.WithLabelValues("bson")
	m.exportBytes.WithLabelValues("gzip")
	for _, source := range []string{"capture", "import"} {
		m.snapshotDocuments.WithLabelValues(source)
		m.snapshotBytes.WithLabelValues(source)
	}
	return m
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Gatherer gathers the metrics, for tests to compare with what they expect
// (prometheus/testutil).
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }

// WatchQueue adds snapexport_queue_jobs{state}: the job queue's jobs by
// River's state (available, scheduled, retryable, running, and the
// finished ones River keeps), read from depth at each scrape, within a
// second. A scrape whose reading fails shows none, rather than an error
// that may quote the database.
func (m *Metrics) WatchQueue(depth func(context.Context) (map[string]int, error)) {
	m.registry.Register(&queueCollector{depth: depth, desc: prometheus.NewDesc("snapexport_queue_jobs",
		"Jobs in the job queue (export jobs and snapshots being taken), by River's state, as the database holds them when scraped.",
		[]string{"state"}, nil)})
}

type queueCollector struct {
	depth func(context.Context) (map[string]int, error)
	desc  *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	counts, err := c.depth(ctx)
	if err != nil {
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}

// ObserveRequest implements api.Observer.
func (m *Metrics) ObserveRequest(operation, version string, status int, d time.Duration) {
	m.requests.WithLabelValues(operation, version, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(operation, version).Observe(d.Seconds())
}

// AuthenticationFailed implements api.Observer.
func (m *Metrics) AuthenticationFailed(scheme string) { m.authFailures.WithLabelValues(scheme).Inc() }

// RateLimited implements api.Observer.
func (m *Metrics) RateLimited(limit string) { m.rateLimited.WithLabelValues(limit).Inc() }

// ObserveTransaction implements instrumentedstore.Observer.
func (m *Metrics) ObserveTransaction(backend, kind string, d time.Duration, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.transactions.WithLabelValues(backend, kind, outcome).Inc()
	m.transactionDuration.WithLabelValues(backend, kind).Observe(d.Seconds())
}

// SnapshotRead implements service.Observer.
func (m *Metrics) SnapshotRead(source string, documents, bytes int64) {
	m.snapshotDocuments.WithLabelValues(source).Add(float64(documents))
	m.snapshotBytes.WithLabelValues(source).Add(float64(bytes))
}

// SnapshotEnded implements service.Observer.
func (m *Metrics) SnapshotEnded(status string, storedBytes int64) {
	m.snapshots.WithLabelValues(status).Inc()
	m.snapshotStored.Add(float64(storedBytes))
}

// ExportLeaseTakenOver implements service.Observer.
func (m *Metrics) ExportLeaseTakenOver() { m.leaseTakeovers.Inc() }

// ExportRunning implements exportrunner.Observer.
func (m *Metrics) ExportRunning(delta int) { m.exportsRunning.Add(float64(delta)) }

// ExportWritten implements exportrunner.Observer.
func (m *Metrics) ExportWritten(documents, bsonBytes int64) {
	m.exportDocuments.Add(float64(documents))
	m.exportBytes.WithLabelValues("bson").Add(float64(bsonBytes))
}

// ExportCollectionFinished implements exportrunner.Observer.
func (m *Metrics) ExportCollectionFinished(files int, gzipBytes int64) {
	m.exportFiles.Add(float64(files))
	m.exportBytes.WithLabelValues("gzip").Add(float64(gzipBytes))
}

// ExportEnded implements service.Observer.
func (m *Metrics) ExportEnded(state string, d time.Duration) {
	m.exportJobs.WithLabelValues(state).Inc()
	m.exportDuration.WithLabelValues(state).Observe(d.Seconds())
}
