package auth_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/sqlite"
)

// newClientAuth returns an authenticator over a fresh SQLite store whose
// service account's secret is hashed with p, and that account's
// credentials.
func newClientAuth(tb testing.TB, p auth.HashParams) (*auth.Authenticator, auth.Client) {
	tb.Helper()
	ctx := context.Background()
	b, err := sqlite.OpenBackend(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	boot, err := (&service.Service{Store: b.Store}).Init(ctx, "org", "project", p)
	if err != nil {
		tb.Fatal(err)
	}
	a := &auth.Authenticator{Store: b.Store, Hash: p}
	return a, auth.Client{ID: boot.ServiceAccount.ClientID, Secret: boot.ServiceAccount.ClientSecret, Address: "198.51.100.1"}
}

// allocated is how many bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestUnknownClientCostsAsKnown checks that a token request for a client id
// that does not exist does the work of one for an id that does, so that the
// time of the answer does not tell which ids exist. The work is measured by
// what it allocates: Argon2id takes the memory its parameters name.
func TestUnknownClientCostsAsKnown(t *testing.T) {
	p := auth.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}
	a, client := newClientAuth(t, p)
	ctx := context.Background()
	if _, err := a.IssueToken(ctx, client); err != nil {
		t.Fatal(err)
	}
	wrong, unknown := client, client
	wrong.Secret = "mdb_sa_sk_wrong"
	unknown.ID, unknown.Secret = "mdb_sa_id_000000000000000000000000", "mdb_sa_sk_wrong"
	issue := func(c auth.Client) func() {
		return func() {
			if _, err := a.IssueToken(ctx, c); !errors.Is(err, auth.ErrInvalidClient) {
				t.Errorf("IssueToken(%s) = %v, want ErrInvalidClient", c.ID, err)
			}
		}
	}
	known := allocated(issue(wrong))
	if known < uint64(p.Memory)*1024 {
		t.Fatalf("a wrong secret of a known client allocated %d bytes, less than its hash's %d KiB", known, p.Memory)
	}
	if got := allocated(issue(unknown)); got < known*9/10 {
		t.Errorf("a token request of an unknown client id allocated %d bytes, one of a known id with a wrong secret %d: "+
			"the unknown id skips the secret's check, and answers faster", got, known)
	}
}

// BenchmarkTokenUnderFlood measures a right token request alone and while
// 16 clients, each from its own address, send wrong secrets as fast as
// they are answered, with the default hash parameters. It reports the
// median time of each (20 requests each way) and their ratio
// (loaded/unloaded), measured in the same run.
func BenchmarkTokenUnderFlood(b *testing.B) {
	a, client := newClientAuth(b, auth.DefaultHashParams)
	ctx := context.Background()
	issue := func() {
		if _, err := a.IssueToken(ctx, client); err != nil {
			b.Fatal(err)
		}
	}
	issue() // the signing key, stored on first use
	timed := func(into *[]time.Duration, n int) {
		for range n {
			start := time.Now()
			issue()
			*into = append(*into, time.Since(start))
		}
	}
	// flood starts the 16 clients and returns once each has had a first
	// answer, with the function that stops them.
	flood := func() (stop func()) {
		done := make(chan struct{})
		var clients, refusedOnce sync.WaitGroup
		for i := range 16 {
			attacker := auth.Client{ID: client.ID, Secret: "mdb_sa_sk_wrong", Address: fmt.Sprintf("192.0.2.%d", i+1)}
			refusedOnce.Add(1)
			clients.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-done:
						return
					default:
					}
					if _, err := a.IssueToken(ctx, attacker); !errors.Is(err, auth.ErrInvalidClient) {
						b.Errorf("a wrong secret: %v", err)
						return
					}
					if n == 0 {
						refusedOnce.Done()
					}
				}
			})
		}
		refusedOnce.Wait()
		return func() { close(done); clients.Wait() }
	}
	median := func(times []time.Duration) time.Duration {
		slices.Sort(times)
		return times[len(times)/2]
	}
	// Rounds alternate the two, so that the machine's other work weighs on
	// both alike, and medians leave out the few requests it delays most.
	var unloaded, loaded time.Duration
	for b.Loop() {
		var alone, flooded []time.Duration
		for range 5 {
			timed(&alone, 4)
			stop := flood()
			timed(&flooded, 4)
			stop()
		}
		unloaded, loaded = median(alone), median(flooded)
	}
	b.ReportMetric(float64(unloaded.Microseconds())/1e3, "ms/unloaded")
	b.ReportMetric(float64(loaded.Microseconds())/1e3, "ms/loaded")
	b.ReportMetric(float64(loaded)/float64(unloaded), "loaded/unloaded")
}

// TestDropToken: a token dropped by its holder no longer authenticates;
// dropping it again, or a token never issued, is no error.
func TestDropToken(t *testing.T) {
	a, client := newClientAuth(t, auth.HashParams{Time: 1, Memory: 64, Threads: 1})
	ctx := context.Background()
	tok, err := a.IssueToken(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if _, f := a.TokenPrincipal(ctx, tok.AccessToken); f != nil {
		t.Fatalf("a fresh token: %v", f)
	}
	for range 2 {
		if err := a.DropToken(ctx, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		if _, f := a.TokenPrincipal(ctx, tok.AccessToken); f == nil || f.Err == nil || f.Err.Code != snapexport.CodeUnauthorized {
			t.Fatalf("a dropped token: %v", f)
		}
	}
	if err := a.DropToken(ctx, "never-issued"); err != nil {
		t.Errorf("dropping a token never issued: %v", err)
	}
}
