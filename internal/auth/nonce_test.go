package auth

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

func TestNonceRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	shape := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	seen := map[string]bool{}
	for _, issued := range []time.Time{
		time.Date(2026, 8, 10, 3, 0, 0, 123e6, time.UTC),
		time.UnixMilli(0),
		time.Date(2999, 12, 31, 23, 59, 59, 999e6, time.UTC),
	} {
		for range 100 {
			nonce := sealNonce(key, issued)
			if !shape.MatchString(nonce) {
				t.Fatalf("nonce %q is not 32 letters and digits, as Atlas's are", nonce)
			}
			if seen[nonce] {
				t.Fatalf("nonce %q issued twice", nonce)
			}
			seen[nonce] = true
			got, ok := openNonce(key, nonce)
			if !ok || !got.Equal(issued) {
				t.Fatalf("openNonce(%q) = %v, %v; want %v, true", nonce, got, ok, issued)
			}
		}
	}
}

func TestNonceForgeries(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	nonce := sealNonce(key, time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	for name, forged := range map[string]string{
		"issued under another key": sealNonce(bytes.Repeat([]byte{8}, 32), time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC)),
		"one character changed":    nonce[:31] + map[bool]string{true: "b", false: "a"}[nonce[31] == 'a'],
		"issue time changed":       nonce[:3] + map[bool]string{true: "b", false: "a"}[nonce[3] == 'a'] + nonce[4:],
		"all zeros":                strings.Repeat("0", 32),
		"all z":                    strings.Repeat("z", 32),
		"beyond 23 bytes":          strings.Repeat("Z", 32),
		"one character short":      nonce[:31],
		"one character more":       nonce + "a",
		"a sign in front":          "+" + nonce[1:],
		"not letters or digits":    nonce[:31] + "_",
		"empty":                    "",
	} {
		if got, ok := openNonce(key, forged); ok {
			t.Errorf("%s: openNonce(%q) = %v, true; want it refused", name, forged, got)
		}
	}
}

// TestOwnNoncesForgetExpired checks the generations of used nonces: a
// nonce stays refused for a window after its use, whatever other uses
// come, and is forgotten once two windows passed without it (its five
// minutes too).
func TestOwnNoncesForgetExpired(t *testing.T) {
	var o ownNonces
	const window = 6 * time.Minute
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	nonce := func(i int) string { return fmt.Sprintf("%032d", i) }
	if err := o.use(nonce(0), window, start); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		at := start.Add(time.Duration(i) * time.Minute)
		if err := o.use(nonce(i), window, at); err != nil {
			t.Fatalf("a fresh nonce at minute %d: %v", i, err)
		}
		if err := o.use(nonce(0), window, at); i < 6 && !errors.Is(err, snapexport.ErrConflict) {
			t.Fatalf("the nonce used at minute 0, again at minute %d: %v; want ErrConflict", i, err)
		}
	}
	if len(o.previous)+len(o.current) > 8 {
		t.Errorf("after 13 uses over 12 minutes %d nonces are kept; want those of the last two windows at most", len(o.previous)+len(o.current))
	}
	if err := o.use(nonce(0), window, start.Add(time.Hour)); err != nil {
		t.Errorf("a nonce used an hour before is still kept: %v", err)
	}
	if err := o.use("short", window, start); !errors.Is(err, snapexport.ErrConflict) {
		t.Errorf("a nonce of another length: %v; want ErrConflict", err)
	}
}
