package snapexport

import (
	"slices"
	"testing"
	"time"
)

// parseTime reads an RFC 3339 time.
func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestNextSnapshot: the next instant each kind of policy item calls for,
// strictly after now, at the reference time (03:16 unless a case says
// otherwise); the earliest of several items; none without items.
func TestNextSnapshot(t *testing.T) {
	at := func(s string) time.Time { return parseTime(t, s) }
	item := func(typ string, interval int) PolicyItem {
		return PolicyItem{FrequencyType: typ, FrequencyInterval: interval, RetentionUnit: "days", RetentionValue: 1}
	}
	defaults := DefaultPolicyItems(func() string { return "id" })
	for _, tc := range []struct {
		name         string
		items        []PolicyItem
		hour, minute int
		now, want    string // want empty: no next snapshot
	}{
		{"Atlas's default policy, as recorded", defaults, 3, 16, "2026-08-10T03:16:54Z", "2026-08-10T09:16:00Z"},
		{"hourly every hour", []PolicyItem{item(FrequencyHourly, 1)}, 3, 16, "2026-08-10T03:16:54Z", "2026-08-10T04:16:00Z"},
		{"hourly every 12 hours from 22:30", []PolicyItem{item(FrequencyHourly, 12)}, 22, 30, "2026-08-10T03:16:00Z", "2026-08-10T10:30:00Z"},
		{"hourly every 8 hours across midnight", []PolicyItem{item(FrequencyHourly, 8)}, 0, 0, "2026-08-10T23:59:00Z", "2026-08-11T00:00:00Z"},
		{"daily, today's time passed", []PolicyItem{item(FrequencyDaily, 1)}, 3, 16, "2026-08-10T03:16:54Z", "2026-08-11T03:16:00Z"},
		{"daily, today's time to come", []PolicyItem{item(FrequencyDaily, 1)}, 3, 16, "2026-08-10T03:15:59Z", "2026-08-10T03:16:00Z"},
		{"daily, exactly now", []PolicyItem{item(FrequencyDaily, 1)}, 3, 16, "2026-08-10T03:16:00Z", "2026-08-11T03:16:00Z"},
		{"weekly on Monday, on a Monday after the time", []PolicyItem{item(FrequencyWeekly, 1)}, 3, 16, "2026-08-10T03:16:54Z", "2026-08-17T03:16:00Z"},
		{"weekly on Monday, on a Monday before the time", []PolicyItem{item(FrequencyWeekly, 1)}, 3, 16, "2026-08-10T03:00:00Z", "2026-08-10T03:16:00Z"},
		{"weekly on Saturday", []PolicyItem{item(FrequencyWeekly, 6)}, 3, 16, "2026-08-10T03:16:54Z", "2026-08-15T03:16:00Z"},
		{"weekly on Sunday", []PolicyItem{item(FrequencyWeekly, 7)}, 3, 16, "2026-08-10T03:16:54Z", "2026-08-16T03:16:00Z"},
		{"monthly on the last day of February", []PolicyItem{item(FrequencyMonthly, LastDayOfMonth)}, 3, 16, "2027-02-10T00:00:00Z", "2027-02-28T03:16:00Z"},
		{"monthly on the last day of a leap February", []PolicyItem{item(FrequencyMonthly, LastDayOfMonth)}, 3, 16, "2028-02-10T00:00:00Z", "2028-02-29T03:16:00Z"},
		{"monthly on the last day, that day's time passed", []PolicyItem{item(FrequencyMonthly, LastDayOfMonth)}, 3, 16, "2026-08-31T04:00:00Z", "2026-09-30T03:16:00Z"},
		{"monthly on the 15th, next month", []PolicyItem{item(FrequencyMonthly, 15)}, 3, 16, "2026-08-20T00:00:00Z", "2026-09-15T03:16:00Z"},
		{"monthly on the 1st, next year", []PolicyItem{item(FrequencyMonthly, 1)}, 3, 16, "2026-12-05T00:00:00Z", "2027-01-01T03:16:00Z"},
		{"yearly in December", []PolicyItem{item(FrequencyYearly, 12)}, 3, 16, "2026-08-10T00:00:00Z", "2026-12-01T03:16:00Z"},
		{"yearly in January", []PolicyItem{item(FrequencyYearly, 1)}, 3, 16, "2026-08-10T00:00:00Z", "2027-01-01T03:16:00Z"},
		{"yearly, exactly now", []PolicyItem{item(FrequencyYearly, 8)}, 3, 16, "2026-08-01T03:16:00Z", "2027-08-01T03:16:00Z"},
		{"the earliest item wins", []PolicyItem{item(FrequencyMonthly, 11), item(FrequencyWeekly, 2)}, 3, 16, "2026-08-10T12:00:00Z", "2026-08-11T03:16:00Z"},
		{"no items", nil, 3, 16, "2026-08-10T03:16:54Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := BackupSchedule{PolicyItems: tc.items, ReferenceHourOfDay: tc.hour, ReferenceMinuteOfHour: tc.minute}
			// The clock's zone does not matter: the schedule is in UTC.
			next, ok := s.NextSnapshot(at(tc.now).In(time.FixedZone("UTC+5", 5*3600)))
			if tc.want == "" {
				if ok {
					t.Errorf("NextSnapshot = %v, want none", next)
				}
				return
			}
			if !ok || !next.Equal(at(tc.want)) || next.Location() != time.UTC {
				t.Errorf("NextSnapshot(%s) = %v, %v; want %s", tc.now, next, ok, tc.want)
			}
		})
	}
}

// TestDefaultPolicyItemsValid: Atlas's default policy passes Atlas's
// rules, and each item has an id of its own.
func TestDefaultPolicyItemsValid(t *testing.T) {
	n := 0
	items := DefaultPolicyItems(func() string { n++; return string(rune('a' + n)) })
	if err := ValidatePolicyItems(items); err != nil {
		t.Errorf("ValidatePolicyItems(default) = %v", err)
	}
	if n != 5 || items[0].ID == items[4].ID {
		t.Errorf("%d ids for %d items: %+v", n, len(items), items)
	}
}

// TestRetentionOrder: a less frequent item may keep snapshots as long as a
// more frequent one, 12 months as long as a year, not less.
func TestRetentionOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items []PolicyItem
		ok    bool
	}{
		{"equal", []PolicyItem{{FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7}, {FrequencyType: "weekly", FrequencyInterval: 1, RetentionUnit: "weeks", RetentionValue: 1}}, true},
		{"12 months then 1 year", []PolicyItem{{FrequencyType: "monthly", FrequencyInterval: 1, RetentionUnit: "months", RetentionValue: 12}, {FrequencyType: "yearly", FrequencyInterval: 1, RetentionUnit: "years", RetentionValue: 1}}, true},
		{"13 months then 1 year", []PolicyItem{{FrequencyType: "monthly", FrequencyInterval: 1, RetentionUnit: "months", RetentionValue: 13}, {FrequencyType: "yearly", FrequencyInterval: 1, RetentionUnit: "years", RetentionValue: 1}}, false},
		{"order of the list does not matter", []PolicyItem{{FrequencyType: "yearly", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 1}, {FrequencyType: "hourly", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 2}}, false},
	} {
		err := ValidatePolicyItems(tc.items)
		if (err == nil) != tc.ok {
			t.Errorf("%s: ValidatePolicyItems = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestDueAt: the one snapshot of an instant lists every item that calls
// for it, is labelled with the least frequent of them and kept as long as
// the longest retention among them, counted on the calendar; an instant
// no item calls for has none.
func TestDueAt(t *testing.T) {
	at := func(s string) time.Time { return parseTime(t, s) }
	hourly := PolicyItem{ID: "h", FrequencyType: FrequencyHourly, FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: 2}
	daily := PolicyItem{ID: "d", FrequencyType: FrequencyDaily, FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7}
	saturday := PolicyItem{ID: "w", FrequencyType: FrequencyWeekly, FrequencyInterval: 6, RetentionUnit: "weeks", RetentionValue: 4}
	lastDay := PolicyItem{ID: "m", FrequencyType: FrequencyMonthly, FrequencyInterval: LastDayOfMonth, RetentionUnit: "months", RetentionValue: 12}
	december := PolicyItem{ID: "y", FrequencyType: FrequencyYearly, FrequencyInterval: 12, RetentionUnit: "years", RetentionValue: 2}
	first := PolicyItem{ID: "m1", FrequencyType: FrequencyMonthly, FrequencyInterval: 1, RetentionUnit: "months", RetentionValue: 1}
	s := BackupSchedule{PolicyItems: []PolicyItem{hourly, daily, saturday, lastDay, december, first}, ReferenceHourOfDay: 18}
	for _, tc := range []struct {
		name, at   string
		want       []string
		frequency  string
		expiresAt  string
		hour, mins int
	}{
		{"an hourly instant only", "2026-08-10T00:00:00Z", []string{"h"}, FrequencyHourly, "2026-08-12T00:00:00Z", 18, 0},
		{"hourly and daily", "2026-08-10T18:00:00Z", []string{"h", "d"}, FrequencyDaily, "2026-08-17T18:00:00Z", 18, 0},
		{"Saturday", "2026-08-15T18:00:00Z", []string{"h", "d", "w"}, FrequencyWeekly, "2026-09-12T18:00:00Z", 18, 0},
		{"the last day of a 31-day month", "2026-08-31T18:00:00Z", []string{"h", "d", "m"}, FrequencyMonthly, "2027-08-31T18:00:00Z", 18, 0},
		{"the last day of a leap February", "2028-02-29T18:00:00Z", []string{"h", "d", "m"}, FrequencyMonthly, "2029-03-01T18:00:00Z", 18, 0},
		{"the 28th of a leap February is not its last day", "2028-02-28T18:00:00Z", []string{"h", "d"}, FrequencyDaily, "2028-03-06T18:00:00Z", 18, 0},
		{"the last day of a common February", "2027-02-28T18:00:00Z", []string{"h", "d", "m"}, FrequencyMonthly, "2028-02-28T18:00:00Z", 18, 0},
		{"December 1st: yearly and monthly on the 1st", "2026-12-01T18:00:00Z", []string{"h", "d", "y", "m1"}, FrequencyYearly, "2028-12-01T18:00:00Z", 18, 0},
		{"between instants", "2026-08-10T19:00:00Z", nil, "", "", 18, 0},
		{"the reference minute moves every instant", "2026-08-10T18:30:00Z", []string{"h", "d"}, FrequencyDaily, "2026-08-17T18:30:00Z", 18, 30},
		{"the old reference time after a change", "2026-08-10T18:00:00Z", nil, "", "", 18, 30},
		{"not on the minute", "2026-08-10T18:00:01Z", nil, "", "", 18, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			s.ReferenceHourOfDay, s.ReferenceMinuteOfHour = tc.hour, tc.mins
			items, frequency, expires := s.DueAt(at(tc.at))
			var got []string
			for _, it := range items {
				got = append(got, it.ID)
			}
			if !slices.Equal(got, tc.want) || frequency != tc.frequency {
				t.Errorf("DueAt(%s) items %v, %q; want %v, %q", tc.at, got, frequency, tc.want, tc.frequency)
			}
			if tc.expiresAt == "" {
				if !expires.IsZero() {
					t.Errorf("DueAt(%s) expires %v, want none", tc.at, expires)
				}
			} else if !expires.Equal(at(tc.expiresAt)) {
				t.Errorf("DueAt(%s) expires %v, want %s", tc.at, expires, tc.expiresAt)
			}
		})
	}
}

// TestInstantsBetween: every instant of a policy in (from, to], each once
// though several items call for it, across a month's and a year's end.
func TestInstantsBetween(t *testing.T) {
	at := func(s string) time.Time { return parseTime(t, s) }
	s := BackupSchedule{ReferenceHourOfDay: 23, ReferenceMinuteOfHour: 45, PolicyItems: []PolicyItem{
		{FrequencyType: FrequencyHourly, FrequencyInterval: 12, RetentionUnit: "days", RetentionValue: 1},
		{FrequencyType: FrequencyDaily, FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 1},
		{FrequencyType: FrequencyMonthly, FrequencyInterval: LastDayOfMonth, RetentionUnit: "days", RetentionValue: 1},
	}}
	got := s.InstantsBetween(at("2026-12-30T23:45:00Z"), at("2027-01-01T11:45:00Z"))
	want := []time.Time{at("2026-12-31T11:45:00Z"), at("2026-12-31T23:45:00Z"), at("2027-01-01T11:45:00Z")}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("InstantsBetween = %v, want %v", got, want)
	}
	if got := (BackupSchedule{}).InstantsBetween(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")); got != nil {
		t.Errorf("InstantsBetween without items = %v", got)
	}
}

// TestRetainedUntil: a snapshot's expiry under a policy is the longest
// retention among those of its items the policy still has, counted from
// its creation.
func TestRetainedUntil(t *testing.T) {
	created := time.Date(2026, 1, 31, 18, 0, 0, 0, time.UTC)
	s := BackupSchedule{PolicyItems: []PolicyItem{
		{ID: "d", FrequencyType: FrequencyDaily, FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 10},
		{ID: "m", FrequencyType: FrequencyMonthly, FrequencyInterval: LastDayOfMonth, RetentionUnit: "months", RetentionValue: 1},
	}}
	for _, tc := range []struct {
		ids  []string
		want time.Time
		ok   bool
	}{
		{[]string{"d"}, created.AddDate(0, 0, 10), true},
		{[]string{"d", "m"}, time.Date(2026, 3, 3, 18, 0, 0, 0, time.UTC), true}, // January 31st plus a month
		{[]string{"gone", "d"}, created.AddDate(0, 0, 10), true},
		{[]string{"gone"}, time.Time{}, false},
	} {
		got, ok := s.RetainedUntil(created, tc.ids)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("RetainedUntil(%v) = %v, %v; want %v, %v", tc.ids, got, ok, tc.want, tc.ok)
		}
	}
}
