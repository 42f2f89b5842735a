package apibench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDriveStuck: a server that never answers fails the case, naming why,
// and the goroutines' stacks show where the server waits.
func TestDriveStuck(t *testing.T) {
	defer func(d time.Duration) { stuckAfter = d }(stuckAfter)
	stuckAfter = 200 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := newClient(srv.URL, 1, nil)
	defer c.close()
	var stacks bytes.Buffer
	call := func(ctx context.Context, c *client) (string, error) {
		_, _, err := c.call(ctx, http.MethodGet, "/", "", "", http.StatusOK)
		return "get", err
	}
	done := make(chan map[string]*opTally, 1)
	go func() {
		tallies, _ := drive(context.Background(), []*client{c}, 50*time.Millisecond, call, &stacks)
		done <- tallies
	}()
	select {
	case tallies := <-done:
		get := tallies["get"]
		if get == nil || get.errors != 1 || !strings.Contains(get.firstError, errStuck.Error()) {
			t.Errorf("tallies %+v, want the one request failed as stuck", get)
		}
		if !strings.Contains(stacks.String(), "apibench.TestDriveStuck") {
			t.Errorf("the stacks written want the waiting handler's:\n%.2000s", stacks.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("drive still waits for a server that never answers")
	}
}
