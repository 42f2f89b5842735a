package apibench

import (
	"testing"
	"time"
)

// TestLineWatch: the line is seen once, when the write that makes it
// whole comes, whether it comes in one write or split across several.
func TestLineWatch(t *testing.T) {
	for _, tc := range []struct {
		writes []string
		whole  int // the write that completes the line
	}{
		{[]string{"Initialized.\n", "  Service account (OAuth):  client id x  client secret y\n"}, 1},
		{[]string{"…  client sec", "ret y\n", "client secret again\n"}, 1},
		{[]string{"c", "l", "i", "e", "n", "t", " ", "s", "e", "c", "r", "e", "t"}, 12},
		{[]string{"client id only\n"}, -1},
	} {
		w := &lineWatch{line: []byte("client secret"), seen: make(chan time.Time, 1)}
		for i, b := range tc.writes {
			if n, err := w.Write([]byte(b)); n != len(b) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", b, n, err)
			}
			want := 0
			if tc.whole >= 0 && i >= tc.whole {
				want = 1
			}
			if got := len(w.seen); got != want {
				t.Errorf("%q after write %d: seen %d times, want %d", tc.writes, i, got, want)
			}
		}
	}
}
