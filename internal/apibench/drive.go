package apibench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// client is one keep-alive HTTP client of a case: its own connection pool,
// its credentials, and the buckets it created (the mixed load deletes
// only its own).
type client struct {
	http   *http.Client
	base   string
	bearer string
	rng    *rand.Rand
	// created are the ids of the buckets this client created and has not
	// deleted.
	created []string
	// page is the page of a list pass this client read last.
	page int
	// answer holds the last answer read, reused: a list page is 150 KB,
	// and a client allocating it anew for every request would make the
	// server's garbage collector, in the same process, run for it.
	answer bytes.Buffer
}

// newClient makes a client with a pool of its own: digest, when
// transport wraps it, answers a challenge before each request.
func newClient(base string, seed uint64, wrap func(http.RoundTripper) http.RoundTripper) *client {
	var rt http.RoundTripper = &http.Transport{MaxIdleConns: 4, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	if wrap != nil {
		rt = wrap(rt)
	}
	return &client{http: &http.Client{Transport: rt}, base: base, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (c *client) close() {
	c.http.CloseIdleConnections()
}

// call sends one request and reads its whole answer (so that the
// connection is reused), which stays valid until c's next call; an answer
// of another status than want is an error naming the request and the
// answer.
func (c *client) call(ctx context.Context, method, path, accept, body string, want int) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	c.answer.Reset()
	_, err = c.answer.ReadFrom(resp.Body)
	resp.Body.Close()
	out := c.answer.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return out, resp.Header, fmt.Errorf("%s %s: %s %.300s", method, path, resp.Status, out)
	}
	return out, resp.Header, nil
}

// step is one operation of a case by one client: it sends its request (a
// digest request's challenge and answer are one step) and names the
// operation it was.
type step func(ctx context.Context, c *client) (op string, err error)

// opTally is what one client, then the whole case, counted of one
// operation.
type opTally struct {
	hist       *histogram
	errors     int
	firstError string
}

// stuckAfter is how long past a case's end its last requests may take
// before the case is called stuck; a variable for the tests.
var stuckAfter = time.Minute

// errStuck ends the requests of a stuck case.
var errStuck = errors.New("apibench: requests still unanswered long after the case's end")

// drive runs step in a loop on each client until the case's time is up
// and tallies each operation's latencies; failed requests are counted,
// not timed. When requests are still unanswered stuckAfter past the end,
// drive writes every goroutine's stack to stuck (when not nil), the
// server's included, and ends them with errStuck: a hung server fails the
// run, telling where it hung, rather than hang it.
func drive(ctx context.Context, clients []*client, d time.Duration, run step, stuck io.Writer) (map[string]*opTally, time.Duration) {
	tallies := make([]map[string]*opTally, len(clients))
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(d+stuckAfter, func() {
		if stuck != nil {
			fmt.Fprintf(stuck, "apibench: a case's requests are unanswered %v after its end; every goroutine:\n", stuckAfter)
			pprof.Lookup("goroutine").WriteTo(stuck, 2)
		}
		cancel(errStuck)
	})
	defer watchdog.Stop()
	for i, c := range clients {
		tallies[i] = map[string]*opTally{}
		wg.Go(func() {
			mine := tallies[i]
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				op, err := run(ctx, c)
				took := time.Since(t0)
				t := mine[op]
				if t == nil {
					t = &opTally{hist: newHistogram()}
					mine[op] = t
				}
				if err != nil {
					if cause := context.Cause(ctx); cause != nil {
						err = fmt.Errorf("%w (%w)", err, cause)
					}
					if t.errors == 0 {
						t.firstError = err.Error()
					}
					t.errors++
					continue
				}
				t.hist.record(took)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := map[string]*opTally{}
	for _, mine := range tallies {
		for op, t := range mine {
			sum := total[op]
			if sum == nil {
				sum = &opTally{hist: newHistogram()}
				total[op] = sum
			}
			sum.hist.merge(t.hist)
			if sum.errors == 0 {
				sum.firstError = t.firstError
			}
			sum.errors += t.errors
		}
	}
	return total, elapsed
}
