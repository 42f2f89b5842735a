package console

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
)

var funcs = template.FuncMap{
	"bytes":    humanBytes,
	"count":    humanCount,
	"when":     humanTime,
	"pathEsc":  escapeSegment,
	"ended":    exportEnded,
	"lower":    strings.ToLower,
	"join":     strings.Join,
	"div":      func(a, b int64) int64 { return a / b },
	"progress": progressPermille,
	"trimPrefix": func(s, prefix string) string {
		return strings.TrimPrefix(s, prefix+"/")
	},
	"jobArgs": func(group, cluster string, job exportProgress, csrf string) map[string]any {
		return map[string]any{"group": group, "cluster": cluster, "job": job, "csrf": csrf}
	},
}

// parsePages parses each page with the layout and the parts
// (templates/_*.html) they share.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		pages[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", n))
	}
	return pages
}

// pageData is what every page gets: its own data beside the layout's.
type pageData struct {
	Title     string
	Principal *snapexport.Principal
	CSRF      string
	Flash     []flash
	Nav       *navData
	Data      any
}

// navData is the project a page is about, for the navigation bar.
type navData struct {
	GroupID, GroupName, Current string
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	s.renderNav(w, r, status, page, title, nil, data)
}

func (s *Server) renderNav(w http.ResponseWriter, r *http.Request, status int, page, title string, nav *navData, data any) {
	pd := pageData{Title: title, Nav: nav, Data: data}
	if v := visitOf(r.Context()); v != nil {
		pd.Principal, pd.CSRF, pd.Flash = v.principal, v.sess.csrf, s.sessions.takeFlash(v.sess)
	}
	var buf bytes.Buffer
	if err := pages()[page].Execute(&buf, pd); err != nil {
		s.logger().ErrorContext(r.Context(), "console page failed", "page", page, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorData struct {
	Message string
	Code    string
}

// renderError shows a page that could not be: err as the API gave it, or
// message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error, status int, message string) {
	d := errorData{Message: message}
	status = cmp.Or(status, http.StatusInternalServerError)
	if e, ok := err.(*apiError); ok {
		d.Message, d.Code, status = e.Detail, e.ErrorCode, cmp.Or(e.Status, status)
	} else if err != nil {
		s.logger().ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
		d.Message, status = "The console failed to show this page.", http.StatusInternalServerError
	}
	s.render(w, r, status, "error", "Error", d)
}

// escapeSegment escapes one path segment of a console link.
func escapeSegment(s string) string {
	return strings.ReplaceAll(template.URLQueryEscaper(s), "+", "%20")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func humanCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// progressPermille is an export's progress in thousandths, for a
// <progress> element: by bytes when the snapshot's size is known, else by
// collections; 1000 once it succeeded.
func progressPermille(p exportProgress) int64 {
	switch {
	case p.State == "Successful":
		return 1000
	case p.TotalBytes > 0:
		return min(1000, p.Bytes*1000/p.TotalBytes)
	case p.TotalCollections > 0:
		return int64(p.ExportedCollections * 1000 / p.TotalCollections)
	}
	return 0
}

// humanTime shows an API timestamp in UTC, to the minute.
func humanTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func exportEnded(state string) bool {
	return state == "Successful" || state == "Failed" || state == "Cancelled"
}

// humanDuration shows a duration to the minute: "1h", "1h30m", "15m".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return strconv.Itoa(m) + "m"
	case m == 0:
		return strconv.Itoa(h) + "h"
	}
	return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
}
