package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// exportProgress is the API's progress of an export job
// (getExportJobProgress).
type exportProgress struct {
	ID                  string       `json:"id"`
	State               string       `json:"state"`
	StateReason         *stateReason `json:"stateReason"`
	Prefix              string       `json:"prefix"`
	ExportBucketID      string       `json:"exportBucketId"`
	SnapshotID          string       `json:"snapshotId"`
	CreatedAt           string       `json:"createdAt"`
	FinishedAt          string       `json:"finishedAt"`
	ExportedCollections int          `json:"exportedCollections"`
	TotalCollections    int          `json:"totalCollections"`
	Documents           int64        `json:"documents"`
	TotalDocuments      int64        `json:"totalDocuments"`
	Bytes               int64        `json:"bytes"`
	TotalBytes          int64        `json:"totalBytes"`
	Files               int          `json:"files"`
}

// exportJob is an export job as Atlas lists it.
type exportJob struct {
	ID             string `json:"id"`
	State          string `json:"state"`
	CreatedAt      string `json:"createdAt"`
	FinishedAt     string `json:"finishedAt"`
	ExportBucketID string `json:"exportBucketId"`
	SnapshotID     string `json:"snapshotId"`
	Prefix         string `json:"prefix"`
	ExportStatus   struct {
		ExportedCollections int `json:"exportedCollections"`
		TotalCollections    int `json:"totalCollections"`
	} `json:"exportStatus"`
	StateReason *stateReason `json:"stateReason"`
}

// stateReason is why an export job failed, as the API tells it.
type stateReason struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

func (r *stateReason) String() string {
	if r.ErrorCode == "" {
		return r.Message
	}
	return r.Message + " (" + r.ErrorCode + ")"
}

// progressOfListed is what the list of a cluster's jobs tells of an
// ended job's progress: its collections, not its documents and bytes,
// which only its own page reads.
func progressOfListed(j exportJob) exportProgress {
	p := exportProgress{ID: j.ID, State: j.State, Prefix: j.Prefix, ExportBucketID: j.ExportBucketID, SnapshotID: j.SnapshotID,
		CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt, StateReason: j.StateReason,
		ExportedCollections: j.ExportStatus.ExportedCollections, TotalCollections: j.ExportStatus.TotalCollections}
	return p
}

type clusterExports struct {
	Cluster string
	Jobs    []exportProgress
	// Total is how many jobs the cluster has; the page shows the newest
	// jobsShown.
	Total int
	Err   error
}

// jobsShown is how many of a cluster's export jobs the exports page shows.
const jobsShown = 100

// newestJobs reads the newest jobsShown export jobs of a cluster, which
// the API lists oldest first: its last page, and the one before when the
// last is not full.
func (s *Server) newestJobs(r *http.Request, path string) ([]exportJob, int, error) {
	list := func(pageNum int) (page[exportJob], error) {
		var p page[exportJob]
		err := s.call(r, http.MethodGet, fmt.Sprintf("%s?itemsPerPage=%d&pageNum=%d&includeCount=true", path, jobsShown, pageNum), v20230101, nil, &p)
		return p, err
	}
	first, err := list(1)
	if err != nil || first.TotalCount <= jobsShown {
		return first.Results, first.TotalCount, err
	}
	last := (first.TotalCount + jobsShown - 1) / jobsShown
	newest, err := list(last)
	if err != nil {
		return nil, 0, err
	}
	jobs := newest.Results
	if len(jobs) < jobsShown {
		before, err := list(last - 1)
		if err != nil {
			return nil, 0, err
		}
		jobs = append(before.Results[len(jobs):], jobs...)
	}
	return jobs, newest.TotalCount, nil
}

type exportsPageData struct {
	GroupID  string
	Clusters []*clusterExports
}

func exportsPath(groupID, clusterName string) string {
	return clusterPath(groupID, clusterName) + "/backup/exports"
}

func ownExportPath(groupID, clusterName, exportID string) string {
	return "/api/snapexport/v1/groups/" + escapeSegment(groupID) + "/clusters/" + escapeSegment(clusterName) +
		"/backup/exports/" + escapeSegment(exportID)
}

// exportsPage shows the export jobs of every cluster of a project, newest
// first, the running ones with a live progress bar. Only the active jobs'
// progress is read, one request each: the page costs a few of the
// project's rate-limit tokens however many jobs have ended.
func (s *Server) exportsPage(w http.ResponseWriter, r *http.Request) {
	nav, clusters, ok := s.projectClusters(w, r, "exports")
	if !ok {
		return
	}
	d := exportsPageData{GroupID: nav.GroupID}
	reads := pageReads()
	for _, c := range clusters {
		ce := &clusterExports{Cluster: c.Name}
		d.Clusters = append(d.Clusters, ce)
		reads.Go(func() error {
			defer slices.SortFunc(ce.Jobs, func(a, b exportProgress) int { return strings.Compare(b.CreatedAt+b.ID, a.CreatedAt+a.ID) })
			var jobs []exportJob
			if jobs, ce.Total, ce.Err = s.newestJobs(r, exportsPath(nav.GroupID, c.Name)); ce.Err != nil {
				return nil
			}
			for _, j := range jobs {
				if exportEnded(j.State) {
					ce.Jobs = append(ce.Jobs, progressOfListed(j))
					continue
				}
				var p exportProgress
				if err := s.call(r, http.MethodGet, ownExportPath(nav.GroupID, c.Name, j.ID)+"/progress", "application/json", nil, &p); err != nil {
					ce.Err = err
					return nil
				}
				ce.Jobs = append(ce.Jobs, p)
			}
			return nil
		})
	}
	reads.Wait()
	s.renderNav(w, r, http.StatusOK, "exports", nav.GroupName+": exports", nav, d)
}

type exportObject struct {
	Key          string `json:"key"`
	Size         int64  `json:"size"`
	LastModified string `json:"lastModified"`
}

type exportPageData struct {
	GroupID, Cluster string
	Job              exportProgress
	Objects          []exportObject
	Truncated        bool
	ObjectsErr       error
	Complete         bool
}

// exportPage shows one export job: its progress, live while it runs, why
// it failed, and the objects it wrote.
func (s *Server) exportPage(w http.ResponseWriter, r *http.Request) {
	nav, err := s.projectNav(r, "exports")
	if err != nil {
		s.renderError(w, r, err, 0, "")
		return
	}
	d := exportPageData{GroupID: nav.GroupID, Cluster: r.PathValue("clusterName")}
	own := ownExportPath(nav.GroupID, d.Cluster, r.PathValue("exportId"))
	if err := s.call(r, http.MethodGet, own+"/progress", "application/json", nil, &d.Job); err != nil {
		s.renderError(w, r, err, 0, "")
		return
	}
	var objs struct {
		Results   []exportObject `json:"results"`
		Truncated bool           `json:"truncated"`
	}
	d.ObjectsErr = s.call(r, http.MethodGet, own+"/objects", "application/json", nil, &objs)
	d.Objects, d.Truncated = objs.Results, objs.Truncated
	for _, o := range d.Objects {
		if strings.HasSuffix(o.Key, "/.complete") {
			d.Complete = true
		}
	}
	s.renderNav(w, r, http.StatusOK, "export", "Export "+d.Job.ID, nav, d)
}

// progressEvent is what an export's page is sent: the progress and the
// rates since the stream began.
type progressEvent struct {
	exportProgress
	Percent         string  `json:"percent"`
	Permille        int64   `json:"permille"`
	DocumentsText   string  `json:"documentsText"`
	BytesText       string  `json:"bytesText"`
	CollectionsText string  `json:"collectionsText"`
	DocsPerSecond   float64 `json:"docsPerSecond"`
	BytesPerSecond  float64 `json:"bytesPerSecond"`
	RateText        string  `json:"rateText"`
	// ETASeconds is the time left at the current rate; -1 when unknown.
	ETASeconds float64 `json:"etaSeconds"`
	ETAText    string  `json:"etaText"`
	Ended      bool    `json:"ended"`
	Reason     string  `json:"reason,omitempty"`
}

type sample struct {
	at         time.Time
	docs, size int64
}

// rateWindow is how far back the rate of an export is measured.
const rateWindow = 10 * time.Second

// rateLimitedWait is how long a progress stream waits when the API
// refused a read for the project's rate limit.
const rateLimitedWait = 5 * time.Second

// maxETA is the longest time left told in hours and minutes.
const maxETA = 24 * time.Hour

// newProgressEvent describes p, read at now; first is the oldest sample
// of the rate's window.
func newProgressEvent(p exportProgress, first sample, now time.Time) progressEvent {
	e := progressEvent{exportProgress: p, Permille: progressPermille(p), ETASeconds: -1, Ended: exportEnded(p.State)}
	e.Percent = fmt.Sprintf("%d %%", e.Permille/10)
	e.DocumentsText = humanCount(p.Documents) + " of " + humanCount(p.TotalDocuments) + " documents"
	e.BytesText = humanBytes(p.Bytes) + " of " + humanBytes(p.TotalBytes)
	e.CollectionsText = fmt.Sprintf("%d of %d collections", p.ExportedCollections, p.TotalCollections)
	if p.StateReason != nil {
		e.Reason = p.StateReason.String()
	}
	if secs := now.Sub(first.at).Seconds(); secs > 0 && !e.Ended {
		e.DocsPerSecond = float64(p.Documents-first.docs) / secs
		e.BytesPerSecond = float64(p.Bytes-first.size) / secs
	}
	switch {
	case e.Ended:
		e.RateText, e.ETAText = "", ""
	case e.BytesPerSecond > 0:
		e.RateText = humanCount(int64(e.DocsPerSecond)) + " documents/s, " + humanBytes(int64(e.BytesPerSecond)) + "/s"
		if p.TotalBytes > p.Bytes {
			e.ETASeconds = float64(p.TotalBytes-p.Bytes) / e.BytesPerSecond
			if left := time.Duration(e.ETASeconds * float64(time.Second)); e.ETASeconds < maxETA.Seconds() {
				e.ETAText = "about " + left.Round(time.Second).String() + " left"
			} else {
				e.ETAText = "more than a day left"
			}
		}
	default:
		e.RateText, e.ETAText = "measuring…", ""
	}
	return e
}

// exportEvents streams an export's progress as server-sent events
// ("progress", then "end" once it ended, or "failure" with the API's
// error), reading it through the API at each interval, so the principal's
// role is checked at each read.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// A stream outlives the server's read timeout, which would otherwise
	// cancel it.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	path := ownExportPath(r.PathValue("groupId"), r.PathValue("clusterName"), r.PathValue("exportId")) + "/progress"
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		data, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// samples are the readings of the last rateWindow, oldest first.
	var samples []sample
	var last []byte
	ended := s.streamsEnded()
	tick := time.NewTicker(s.progressInterval())
	defer tick.Stop()
	heartbeat := s.now()
	for {
		var p exportProgress
		err := s.call(r, http.MethodGet, path, "application/json", nil, &p)
		if e, ok := err.(*apiError); ok && e.Status == http.StatusTooManyRequests {
			// The project's budget is spent for now: wait for it rather
			// than end the stream.
			select {
			case <-r.Context().Done():
				return
			case <-ended:
				return
			case <-time.After(rateLimitedWait):
			}
			continue
		}
		if err != nil {
			e, ok := err.(*apiError)
			if !ok {
				e = &apiError{Detail: "The progress could not be read."}
				s.logger().ErrorContext(r.Context(), "console progress failed", "path", r.URL.Path, "err", err)
			}
			send("failure", e)
			return
		}
		now := s.now()
		samples = append(samples, sample{at: now, docs: p.Documents, size: p.Bytes})
		for len(samples) > 2 && now.Sub(samples[1].at) >= rateWindow {
			samples = samples[1:]
		}
		ev := newProgressEvent(p, samples[0], now)
		data, _ := json.Marshal(ev.exportProgress)
		if string(data) != string(last) || now.Sub(heartbeat) > 15*time.Second {
			if !send("progress", ev) {
				return
			}
			last, heartbeat = data, now
		}
		if ev.Ended {
			send("end", ev)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-ended:
			return
		case <-tick.C:
		}
	}
}
