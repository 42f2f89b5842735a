package console

import (
	"testing"
	"time"
)

// TestProgressEvent: the bar follows the bytes read against the
// snapshot's size (the collections when the size is unknown), is full once
// the export succeeded, and the rate and time left come from the window's
// first reading.
func TestProgressEvent(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		p            exportProgress
		first        sample
		now          time.Time
		permille     int64
		rate, eta    string
		ended        bool
		bytesPerSec  float64
		etaSeconds   float64
		documentsTxt string
	}{
		{name: "just started", p: exportProgress{State: "InProgress", TotalBytes: 1000, TotalDocuments: 10},
			first: sample{at: t0}, now: t0, permille: 0, rate: "measuring…", etaSeconds: -1, documentsTxt: "0 of 10 documents"},
		{name: "halfway", p: exportProgress{State: "InProgress", Bytes: 5 << 20, TotalBytes: 10 << 20, Documents: 5000, TotalDocuments: 10000},
			first: sample{at: t0}, now: t0.Add(5 * time.Second), permille: 500, rate: "1,000 documents/s, 1.0 MiB/s", eta: "about 5s left",
			bytesPerSec: 1 << 20, etaSeconds: 5, documentsTxt: "5,000 of 10,000 documents"},
		{name: "by collections", p: exportProgress{State: "InProgress", ExportedCollections: 1, TotalCollections: 4},
			first: sample{at: t0}, now: t0.Add(time.Second), permille: 250, rate: "measuring…", etaSeconds: -1, documentsTxt: "0 of 0 documents"},
		{name: "succeeded", p: exportProgress{State: "Successful", Bytes: 900, TotalBytes: 1000, Documents: 10, TotalDocuments: 10},
			first: sample{at: t0}, now: t0.Add(time.Second), permille: 1000, ended: true, etaSeconds: -1, documentsTxt: "10 of 10 documents"},
		{name: "failed", p: exportProgress{State: "Failed", Bytes: 100, TotalBytes: 1000, StateReason: &stateReason{ErrorCode: "EXPORT_FAILED", Message: "bucket gone"}},
			first: sample{at: t0}, now: t0.Add(time.Second), permille: 100, ended: true, etaSeconds: -1, documentsTxt: "0 of 0 documents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newProgressEvent(tc.p, tc.first, tc.now)
			if e.Permille != tc.permille || e.RateText != tc.rate || e.ETAText != tc.eta || e.Ended != tc.ended ||
				e.BytesPerSecond != tc.bytesPerSec || e.ETASeconds != tc.etaSeconds || e.DocumentsText != tc.documentsTxt {
				t.Errorf("got permille %d rate %q eta %q (%v s) ended %v bytes/s %v documents %q", e.Permille, e.RateText, e.ETAText,
					e.ETASeconds, e.Ended, e.BytesPerSecond, e.DocumentsText)
			}
			if tc.p.StateReason != nil && e.Reason != "bucket gone (EXPORT_FAILED)" {
				t.Errorf("reason %q", e.Reason)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 15 * time.Minute: "15m", 2 * time.Hour: "2h"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
