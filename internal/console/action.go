package console

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// An action is a change a person asks for with a form: confirmed on a
// page of its own first, then made through the API, whose answer (or
// error, as it came) the next page shows.
type action struct {
	// Question is what the confirmation page asks.
	Question string
	// Fields are the form's fields to post again once confirmed.
	Fields url.Values
	// Action is the form's target.
	Action string
	// Back is the page to return to.
	Back string
}

// confirmed tells whether the request confirms its action; when not, it
// shows the confirmation page and returns false.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, question string) bool {
	if r.PostFormValue("confirmed") == "yes" {
		return true
	}
	fields := url.Values{}
	for k, vs := range r.PostForm {
		if k != "csrf" && k != "confirmed" {
			fields[k] = vs
		}
	}
	a := action{Question: question, Fields: fields, Action: r.URL.EscapedPath(), Back: s.back(r)}
	s.render(w, r, http.StatusOK, "confirm", "Confirm", a)
	return false
}

// back is the console page a form returns to: its "back" field when that
// is a path under Prefix, with no scheme, host or control character, once
// cleaned; else the project's page.
func (s *Server) back(r *http.Request) string {
	fallback := Prefix + "projects/" + escapeSegment(r.PathValue("groupId"))
	b := r.PostFormValue("back")
	if strings.ContainsFunc(b, unicode.IsControl) {
		return fallback
	}
	u, err := url.Parse(b)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, Prefix) {
		return fallback
	}
	return (&url.URL{Path: clean, RawQuery: u.RawQuery}).String()
}

// done keeps the outcome of an action for the next page and goes there.
func (s *Server) done(w http.ResponseWriter, r *http.Request, err error, success, to string) {
	v := visitOf(r.Context())
	switch e, ok := err.(*apiError); {
	case err == nil:
		s.sessions.addFlash(v.sess, flash{Message: success})
	case ok:
		s.sessions.addFlash(v.sess, flash{Error: true, Message: e.Detail, Code: e.ErrorCode})
	default:
		s.logger().ErrorContext(r.Context(), "console action failed", "path", r.URL.Path, "err", err)
		s.sessions.addFlash(v.sess, flash{Error: true, Message: "The action failed on the server's side; see its log."})
	}
	if to == "" {
		to = s.back(r)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// takeSnapshot takes an on-demand snapshot.
func (s *Server) takeSnapshot(w http.ResponseWriter, r *http.Request) {
	cluster := r.PathValue("clusterName")
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("retentionInDays")))
	if err != nil {
		s.renderError(w, r, nil, http.StatusBadRequest, "Kept (days) must be a whole number of days, not "+strconv.Quote(r.PostFormValue("retentionInDays"))+": go back to change it.")
		return
	}
	description := strings.TrimSpace(r.PostFormValue("description"))
	if !s.confirmed(w, r, "Take an on-demand snapshot of "+cluster+", kept "+strconv.Itoa(days)+" days?") {
		return
	}
	var snap snapshot
	err = s.call(r, http.MethodPost, clusterPath(r.PathValue("groupId"), r.PathValue("clusterName"))+"/backup/snapshots", v20230101,
		map[string]any{"description": description, "retentionInDays": days}, &snap)
	s.done(w, r, err, "Snapshot "+snap.ID+" of "+cluster+" was requested.", "")
}

// changeExpiry changes when a snapshot expires.
func (s *Server) changeExpiry(w http.ResponseWriter, r *http.Request) {
	id, unit := r.PathValue("snapshotId"), r.PostFormValue("retentionUnit")
	value, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("retentionValue")))
	if err != nil {
		s.renderError(w, r, nil, http.StatusBadRequest, "The retention must be a whole number, not "+strconv.Quote(r.PostFormValue("retentionValue"))+": go back to change it.")
		return
	}
	if !s.confirmed(w, r, "Keep snapshot "+id+" for "+strconv.Itoa(value)+" "+strings.ToLower(unit)+" from now?") {
		return
	}
	var snap snapshot
	err = s.call(r, http.MethodPatch, clusterPath(r.PathValue("groupId"), r.PathValue("clusterName"))+"/backup/snapshots/"+escapeSegment(id), v20230101,
		map[string]any{"retentionUnit": unit, "retentionValue": value}, &snap)
	s.done(w, r, err, "Snapshot "+id+" now expires "+humanTime(snap.ExpiresAt)+".", "")
}

// startExport exports a snapshot to a bucket and shows the job.
func (s *Server) startExport(w http.ResponseWriter, r *http.Request) {
	snapshotID, bucketID := r.PostFormValue("snapshotId"), r.PostFormValue("exportBucketId")
	if !s.confirmed(w, r, "Export snapshot "+snapshotID+" to bucket "+bucketID+"?") {
		return
	}
	var job exportJob
	err := s.call(r, http.MethodPost, clusterPath(r.PathValue("groupId"), r.PathValue("clusterName"))+"/backup/exports", v20230101,
		map[string]any{"snapshotId": snapshotID, "exportBucketId": bucketID}, &job)
	to := ""
	if err == nil {
		to = Prefix + "projects/" + escapeSegment(r.PathValue("groupId")) + "/clusters/" + escapeSegment(r.PathValue("clusterName")) +
			"/exports/" + escapeSegment(job.ID)
	}
	s.done(w, r, err, "Export "+job.ID+" was started.", to)
}

// cancelExport asks an export job to stop.
func (s *Server) cancelExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("exportId")
	if !s.confirmed(w, r, "Cancel export "+id+"? What it wrote stays in the bucket, without .complete.") {
		return
	}
	var job exportJob
	err := s.call(r, http.MethodPost, ownExportPath(r.PathValue("groupId"), r.PathValue("clusterName"), id)+"/cancel", "application/json", nil, &job)
	message := "Export " + id + " was asked to stop."
	if err == nil && exportEnded(job.State) {
		message = "Export " + id + " had already ended " + job.State + "."
	}
	s.done(w, r, err, message, "")
}
