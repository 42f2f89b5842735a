package service_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// request is one snapshot a taker was asked for.
type request struct {
	cluster string
	at      time.Time
	req     service.SnapshotRequest
}

func (r request) String() string {
	return fmt.Sprintf("%s@%s %s %v until %s", r.cluster, r.at.Format(time.RFC3339), r.req.FrequencyType, r.req.PolicyItemIDs,
		r.req.ExpiresAt.Format(time.RFC3339))
}

// recordingTaker records what it is asked for, at the clock's time, and
// answers a completed snapshot; fail makes it fail instead.
type recordingTaker struct {
	clock *clock
	mu    sync.Mutex
	got   []request
	fail  error
}

func (r *recordingTaker) TakeSnapshot(_ context.Context, _, clusterName string, req service.SnapshotRequest) (*snapexport.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	r.got = append(r.got, request{clusterName, r.clock.Now(), req})
	return &snapexport.Snapshot{ID: service.NewID(), Status: snapexport.SnapshotInProgress, SnapshotType: req.SnapshotType,
		FrequencyType: req.FrequencyType, PolicyItems: req.PolicyItemIDs}, nil
}

func (r *recordingTaker) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, g := range r.got {
		out = append(out, g.String())
	}
	r.got = nil
	return out
}

// scheduleEnv is a service over SQLite with a cluster "rs" whose policy
// is hourly every 6 hours (kept 2 days), daily (7 days), Saturdays (4
// weeks), the last day of the month (12 months) and December (2 years),
// at 18:30 UTC, and a clock at 2026-08-10 12:00.
type scheduleEnv struct {
	svc   *service.Service
	clock *clock
	group string
	items map[string]string // frequency type → item id
}

func newScheduleEnv(t *testing.T) *scheduleEnv {
	t.Helper()
	ctx := context.Background()
	svc, group, _ := newService(t, &cloudAWS{})
	e := &scheduleEnv{svc: svc, group: group, clock: &clock{now: time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)}, items: map[string]string{}}
	svc.Now = e.clock.Now
	if _, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: group, Name: "rs"}); err != nil {
		t.Fatal(err)
	}
	hour, minute := 18, 30
	c, err := svc.UpdateBackupSchedule(ctx, group, "rs", service.ScheduleInput{ReferenceHourOfDay: &hour, ReferenceMinuteOfHour: &minute,
		Policy: &service.PolicyInput{Items: []snapexport.PolicyItem{
			{FrequencyType: "hourly", FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: 2},
			{FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7},
			{FrequencyType: "weekly", FrequencyInterval: 6, RetentionUnit: "weeks", RetentionValue: 4},
			{FrequencyType: "monthly", FrequencyInterval: snapexport.LastDayOfMonth, RetentionUnit: "months", RetentionValue: 12},
			{FrequencyType: "yearly", FrequencyInterval: 12, RetentionUnit: "years", RetentionValue: 2},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range c.Schedule.PolicyItems {
		e.items[it.FrequencyType] = it.ID
	}
	return e
}

// want is the request String of a snapshot of rs at the given time.
func (e *scheduleEnv) want(at, frequency, until string, types ...string) string {
	var ids []string
	for _, typ := range types {
		ids = append(ids, e.items[typ])
	}
	return fmt.Sprintf("rs@%s %s %v until %s", at, frequency, ids, until)
}

// scheduler is a started scheduler of e's service with a recording taker.
func (e *scheduleEnv) scheduler() (*recordingTaker, *service.Scheduler) {
	taker := &recordingTaker{clock: e.clock}
	sc := &service.Scheduler{Service: e.svc, Taker: taker}
	sc.Start()
	return taker, sc
}

// setClock sets the clock to an RFC 3339 time.
func (e *scheduleEnv) setClock(t *testing.T, to string) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, to)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.mu.Lock()
	e.clock.now = at
	e.clock.mu.Unlock()
}

// tick sets the clock and ticks sc.
func (e *scheduleEnv) tick(t *testing.T, sc *service.Scheduler, to string) {
	t.Helper()
	e.setClock(t, to)
	if _, err := sc.Tick(context.Background()); err != nil {
		t.Fatalf("Tick at %s: %v", to, err)
	}
}

// TestSchedulerTakesTheInstants: a scheduler following the clock asks for
// one snapshot per instant of the policy, with every item that falls on
// it, the longest period's frequency and the longest retention; passing
// an instant a second time takes nothing; of instants passed in one step
// only the latest is taken, and none from before the scheduler started.
func TestSchedulerTakesTheInstants(t *testing.T) {
	e := newScheduleEnv(t)
	taker, sc := e.scheduler()

	e.tick(t, sc, "2026-08-10T12:29:59Z")
	if got := taker.take(); len(got) != 0 {
		t.Errorf("before the first instant: %v", got)
	}
	e.tick(t, sc, "2026-08-10T12:30:00Z")
	e.tick(t, sc, "2026-08-10T12:30:30Z")
	e.tick(t, sc, "2026-08-10T18:30:05Z")
	want := []string{
		e.want("2026-08-10T12:30:00Z", "hourly", "2026-08-12T12:30:00Z", "hourly"),
		e.want("2026-08-10T18:30:05Z", "daily", "2026-08-17T18:30:00Z", "hourly", "daily"),
	}
	if got := taker.take(); !slices.Equal(got, want) {
		t.Errorf("first day:\n got %q\nwant %q", got, want)
	}

	// Saturday the 15th, then Monday the 31st, the last day of August:
	// the instants in between are not taken.
	e.tick(t, sc, "2026-08-15T18:31:00Z")
	e.tick(t, sc, "2026-08-31T19:00:00Z")
	want = []string{
		e.want("2026-08-15T18:31:00Z", "weekly", "2026-09-12T18:30:00Z", "hourly", "daily", "weekly"),
		e.want("2026-08-31T19:00:00Z", "monthly", "2027-08-31T18:30:00Z", "hourly", "daily", "monthly"),
	}
	if got := taker.take(); !slices.Equal(got, want) {
		t.Errorf("Saturday and the month's end:\n got %q\nwant %q", got, want)
	}

	// December 1st: the yearly item and the hourly and daily ones.
	e.tick(t, sc, "2026-12-01T18:30:00Z")
	want = []string{e.want("2026-12-01T18:30:00Z", "yearly", "2028-12-01T18:30:00Z", "hourly", "daily", "yearly")}
	if got := taker.take(); !slices.Equal(got, want) {
		t.Errorf("December:\n got %q\nwant %q", got, want)
	}

	// A scheduler started after an instant does not take it.
	late := &service.Scheduler{Service: e.svc, Taker: taker}
	e.tick(t, late, "2026-12-02T00:31:00Z")
	late.Tick(context.Background())
	if got := taker.take(); len(got) != 0 {
		t.Errorf("a scheduler started after the instant took %v", got)
	}
}

// TestSchedulerSkipsClustersWithoutBackup: a cluster whose backup is
// disabled takes no scheduled snapshot; enabled again, it takes the next.
func TestSchedulerSkipsClustersWithoutBackup(t *testing.T) {
	e := newScheduleEnv(t)
	taker, sc := e.scheduler()
	setBackup := func(enabled bool) {
		t.Helper()
		if _, err := e.svc.UpdateCluster(context.Background(), e.group, "rs", service.ClusterChange{BackupEnabled: &enabled}); err != nil {
			t.Fatal(err)
		}
	}
	setBackup(false)
	e.tick(t, sc, "2026-08-10T12:30:00Z")
	if got := taker.take(); len(got) != 0 {
		t.Errorf("backup disabled, the scheduler took %q", got)
	}
	setBackup(true)
	e.tick(t, sc, "2026-08-10T18:30:00Z")
	want := []string{e.want("2026-08-10T18:30:00Z", "daily", "2026-08-17T18:30:00Z", "hourly", "daily")}
	if got := taker.take(); !slices.Equal(got, want) {
		t.Errorf("backup enabled again:\n got %q\nwant %q", got, want)
	}
}

// TestSchedulerReferenceTimeChange: once the reference time moves, the
// instants follow it, and the instant of the old time is not taken.
func TestSchedulerReferenceTimeChange(t *testing.T) {
	e := newScheduleEnv(t)
	taker, sc := e.scheduler()
	e.tick(t, sc, "2026-08-10T12:15:00Z")
	hour, minute := 12, 10
	if _, err := e.svc.UpdateBackupSchedule(context.Background(), e.group, "rs",
		service.ScheduleInput{ReferenceHourOfDay: &hour, ReferenceMinuteOfHour: &minute}); err != nil {
		t.Fatal(err)
	}
	e.tick(t, sc, "2026-08-10T12:31:00Z")
	e.tick(t, sc, "2026-08-10T18:10:00Z")
	want := []string{e.want("2026-08-10T18:10:00Z", "hourly", "2026-08-12T18:10:00Z", "hourly")}
	if got := taker.take(); !slices.Equal(got, want) {
		t.Errorf("after the change:\n got %q\nwant %q", got, want)
	}
}

// TestSchedulersShareInstants: schedulers over one store (servers sharing
// a database), ticking at the same time, take each instant once.
func TestSchedulersShareInstants(t *testing.T) {
	e := newScheduleEnv(t)
	taker := &recordingTaker{clock: e.clock}
	var schedulers []*service.Scheduler
	for range 4 {
		sc := &service.Scheduler{Service: e.svc, Taker: taker}
		sc.Start()
		schedulers = append(schedulers, sc)
	}
	for _, at := range []string{"2026-08-10T12:30:00Z", "2026-08-10T18:30:00Z", "2026-08-11T00:30:00Z"} {
		e.setClock(t, at)
		var wg sync.WaitGroup
		for _, sc := range schedulers {
			wg.Go(func() {
				if _, err := sc.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := taker.take(); len(got) != 1 || !strings.HasPrefix(got[0], "rs@"+at) {
			t.Errorf("at %s: %q, want one snapshot", at, got)
		}
	}
}

// TestSchedulerRetriesAFailedSnapshot: a snapshot the taker could not take
// is asked for again at the next tick, while its instant is the latest.
func TestSchedulerRetriesAFailedSnapshot(t *testing.T) {
	e := newScheduleEnv(t)
	taker := &recordingTaker{clock: e.clock, fail: errors.New("cluster unreachable")}
	sc := &service.Scheduler{Service: e.svc, Taker: taker}
	sc.Start()
	e.clock.Add(31 * time.Minute) // 12:31
	if _, err := sc.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "cluster unreachable") {
		t.Errorf("Tick = %v, want the taker's error", err)
	}
	taker.fail = nil
	e.tick(t, sc, "2026-08-10T12:32:00Z")
	want := []string{e.want("2026-08-10T12:32:00Z", "hourly", "2026-08-12T12:30:00Z", "hourly")}
	if got := taker.take(); !slices.Equal(got, want) {
		t.Errorf("retry:\n got %q\nwant %q", got, want)
	}
}
