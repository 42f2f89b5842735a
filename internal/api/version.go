package api

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
)

// version is one dated media type of a v2 operation.
type version struct {
	Date string
	// Deprecated is when a newer version replaced this one; zero if current.
	Deprecated time.Time
	// Sunset is when the version stops being served; zero if not planned.
	Sunset time.Time
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	v20230101 = version{Date: "2023-01-01"}
	// The AWS-only export-bucket schemas of 2023-01-01, replaced by the
	// multi-cloud ones of 2024-05-30 (Atlas spec: x-sunset 2027-07-01).
	v20230101Buckets = version{Date: "2023-01-01", Deprecated: date("2024-05-30"), Sunset: date("2027-07-01")}
	v20240530        = version{Date: "2024-05-30"}
	v20241113        = version{Date: "2024-11-13"}
)

// v1 is the pseudo version of the legacy /api/atlas/v1.0 paths; v2 that of
// the dated /api/atlas/v2 paths until negotiation picks a date.
const (
	v1 = "1.0"
	v2 = "2"
)

// httpDate is the form of Deprecation and Sunset headers Atlas sends
// ("Thu, 1 Jul 2027 00:00:00 GMT": day without leading zero).
const httpDate = "Mon, 2 Jan 2006 15:04:05 GMT"

func (v version) setHeaders(h http.Header) {
	if !v.Deprecated.IsZero() {
		h.Set("Deprecation", v.Deprecated.UTC().Format(httpDate))
	}
	if !v.Sunset.IsZero() {
		h.Set("Sunset", v.Sunset.UTC().Format(httpDate))
	}
}

func (v version) contentType() string {
	return "application/vnd.atlas." + v.Date + "+json;charset=utf-8"
}

var errInvalidVersion = snapexport.Errorf(snapexport.CodeInvalidVersionDate, "Invalid accept header or version date.")

// negotiate picks the version the Accept header names among those the
// operation serves. Atlas has no fallback to a nearby version: anything
// else is 406, and a version past its sunset is 410.
func negotiate(accept string, served []version, now time.Time) (version, error) {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		d, ok := strings.CutPrefix(mt, "application/vnd.atlas.")
		if !ok {
			continue
		}
		d, ok = strings.CutSuffix(d, "+json")
		if !ok {
			continue
		}
		for _, v := range served {
			if v.Date != d {
				continue
			}
			if !v.Sunset.IsZero() && !now.Before(v.Sunset) {
				return v, snapexport.Errorf(snapexport.CodeVersionGone,
					"The API version %s was sunset on %s and is no longer available.", d, v.Sunset.Format(time.DateOnly))
			}
			return v, nil
		}
	}
	return version{}, errInvalidVersion
}
