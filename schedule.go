package snapexport

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Export frequencies of an automatic export policy. Atlas's specification
// lists monthly and yearly; its documentation adds daily and weekly.
var ExportFrequencies = []string{FrequencyDaily, FrequencyWeekly, FrequencyMonthly, FrequencyYearly}

// BackupSchedule is a cluster's backup schedule: its one policy, the time
// of day snapshots are anchored to, and its automatic export.
type BackupSchedule struct {
	AutoExportEnabled bool
	// ExportBucketID and ExportFrequencyType are the automatic export
	// policy; both empty when none is set.
	ExportBucketID                    string
	ExportFrequencyType               string
	UseOrgAndGroupNamesInExportPrefix bool

	// PolicyID identifies the schedule's one policy, whose items are
	// PolicyItems (nil when it has none).
	PolicyID    string
	PolicyItems []PolicyItem
	// ReferenceHourOfDay (0–23, UTC) and ReferenceMinuteOfHour (0–59) are
	// the time of day the policy's snapshots are taken at.
	ReferenceHourOfDay    int
	ReferenceMinuteOfHour int
	RestoreWindowDays     int
}

// Frequencies of a policy item, from the most to the least frequent.
const (
	FrequencyHourly  = "hourly"
	FrequencyDaily   = "daily"
	FrequencyWeekly  = "weekly"
	FrequencyMonthly = "monthly"
	FrequencyYearly  = "yearly"
)

// PolicyFrequencies are the frequency types a policy item may have, from the
// most to the least frequent.
var PolicyFrequencies = []string{FrequencyHourly, FrequencyDaily, FrequencyWeekly, FrequencyMonthly, FrequencyYearly}

// RetentionUnits are the units a policy item's retention is counted in.
var RetentionUnits = []string{"days", "weeks", "months", "years"}

// LastDayOfMonth is the frequencyInterval of a monthly item taken on the
// last day of each month.
const LastDayOfMonth = 40

// DefaultRestoreWindowDays is the restore window of a new schedule.
const DefaultRestoreWindowDays = 7

// PolicyItem is one rule of a backup policy: when a snapshot is taken
// (FrequencyType and FrequencyInterval) and how long it is kept.
type PolicyItem struct {
	ID                string `json:"id"`
	FrequencyType     string `json:"frequencyType"`
	FrequencyInterval int    `json:"frequencyInterval"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

// DefaultPolicyItems are the items Atlas gives a new cluster's policy, each
// with an id from newID: every 6 hours kept 7 days, daily kept 7 days,
// Saturdays kept 4 weeks, the last day of the month kept 12 months and
// December kept 1 year.
func DefaultPolicyItems(newID func() string) []PolicyItem {
	return []PolicyItem{
		{ID: newID(), FrequencyType: FrequencyHourly, FrequencyInterval: 6, RetentionUnit: "days", RetentionValue: 7},
		{ID: newID(), FrequencyType: FrequencyDaily, FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7},
		{ID: newID(), FrequencyType: FrequencyWeekly, FrequencyInterval: 6, RetentionUnit: "weeks", RetentionValue: 4},
		{ID: newID(), FrequencyType: FrequencyMonthly, FrequencyInterval: LastDayOfMonth, RetentionUnit: "months", RetentionValue: 12},
		{ID: newID(), FrequencyType: FrequencyYearly, FrequencyInterval: 12, RetentionUnit: "years", RetentionValue: 1},
	}
}

// allowedIntervals are the frequencyInterval values of each frequency type
// (Atlas's specification): hours between snapshots, the weekday (1 Monday
// … 7 Sunday), the day of the month (or LastDayOfMonth), the month.
var allowedIntervals = map[string][]int{
	FrequencyHourly:  {1, 2, 4, 6, 8, 12},
	FrequencyDaily:   {1},
	FrequencyWeekly:  {1, 2, 3, 4, 5, 6, 7},
	FrequencyMonthly: append(intRange(1, 28), LastDayOfMonth),
	FrequencyYearly:  intRange(1, 12),
}

func intRange(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// retentionDays is a retention in days, months counted as 30 and years as
// 365 days, so that 12 months stay within 1 year.
func retentionDays(unit string, value int) int {
	switch unit {
	case "weeks":
		return 7 * value
	case "months":
		return 30 * value
	case "years":
		return 365 * value
	}
	return value
}

// InvalidBackupPolicy is the error of a schedule change Atlas's rules
// refuse; reason says which rule and the value at fault.
func InvalidBackupPolicy(reason string) *Error {
	return Errorf(CodeInvalidBackupPolicy, "Invalid backup policy: %s", reason)
}

// ValidatePolicyItems checks the items of a policy as Atlas does: known
// frequency types and retention units (INVALID_ENUM_VALUE), an interval
// the frequency type allows, a positive retention, at most one hourly and
// one daily item, and no item kept for less time than a more frequent one
// (INVALID_BACKUP_POLICY).
func ValidatePolicyItems(items []PolicyItem) error {
	for _, it := range items {
		if !slices.Contains(PolicyFrequencies, it.FrequencyType) {
			return Errorf(CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", it.FrequencyType)
		}
		if !slices.Contains(RetentionUnits, it.RetentionUnit) {
			return Errorf(CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", it.RetentionUnit)
		}
		if !slices.Contains(allowedIntervals[it.FrequencyType], it.FrequencyInterval) {
			return InvalidBackupPolicy(fmt.Sprintf("frequencyInterval %d is not allowed for %s policy items.", it.FrequencyInterval, it.FrequencyType))
		}
		if it.RetentionValue < 1 {
			return InvalidBackupPolicy(fmt.Sprintf("retentionValue %d of the %s policy item must be at least 1.", it.RetentionValue, it.FrequencyType))
		}
	}
	for _, f := range []string{FrequencyHourly, FrequencyDaily} {
		n := 0
		for _, it := range items {
			if it.FrequencyType == f {
				n++
			}
		}
		if n > 1 {
			return InvalidBackupPolicy(fmt.Sprintf("a policy has at most one %s policy item, not %d.", f, n))
		}
	}
	rank := func(it PolicyItem) int { return slices.Index(PolicyFrequencies, it.FrequencyType) }
	for _, it := range items {
		for _, more := range items {
			if rank(more) < rank(it) && retentionDays(it.RetentionUnit, it.RetentionValue) < retentionDays(more.RetentionUnit, more.RetentionValue) {
				return InvalidBackupPolicy(fmt.Sprintf("the %s policy item keeps snapshots %d %s, less than the %s policy item's %d %s.",
					it.FrequencyType, it.RetentionValue, it.RetentionUnit, more.FrequencyType, more.RetentionValue, more.RetentionUnit))
			}
		}
	}
	return nil
}

// ValidateReferenceTime checks a schedule's reference hour and minute.
func ValidateReferenceTime(hour, minute int) error {
	if hour < 0 || hour > 23 {
		return InvalidBackupPolicy("referenceHourOfDay " + strconv.Itoa(hour) + " is not between 0 and 23.")
	}
	if minute < 0 || minute > 59 {
		return InvalidBackupPolicy("referenceMinuteOfHour " + strconv.Itoa(minute) + " is not between 0 and 59.")
	}
	return nil
}

// NextSnapshot is the first instant after now at which one of the policy's
// items calls for a snapshot, in UTC; false when the policy has no items.
// Every snapshot is taken at the reference minute; hourly ones every
// FrequencyInterval hours counted from the reference hour, the others at
// the reference hour: daily, weekly on weekday FrequencyInterval (1 Monday
// … 7 Sunday), monthly on day FrequencyInterval (LastDayOfMonth: the
// month's last day), yearly on the first day of month FrequencyInterval.
func (s BackupSchedule) NextSnapshot(now time.Time) (time.Time, bool) {
	now = now.UTC()
	var next time.Time
	for _, it := range s.PolicyItems {
		t := s.nextOf(it, now)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}

// InstantsBetween are the instants in (from, to] at which the policy calls
// for a snapshot, in order, in UTC.
func (s BackupSchedule) InstantsBetween(from, to time.Time) []time.Time {
	var out []time.Time
	for t, ok := s.NextSnapshot(from); ok && !t.After(to); t, ok = s.NextSnapshot(t) {
		out = append(out, t)
	}
	return out
}

// DueAt tells what the one snapshot of instant t is: the policy items that
// call for it (none when t is not one of the policy's instants), its
// frequency type, that of the least frequent of them (Atlas labels a
// snapshot taken for several items with the longest period among them),
// and its expiry, the latest of the items' retentions counted from t.
func (s BackupSchedule) DueAt(t time.Time) (items []PolicyItem, frequencyType string, expiresAt time.Time) {
	t = t.UTC()
	for _, it := range s.PolicyItems {
		if !t.Equal(s.nextOf(it, t.Add(-time.Nanosecond))) {
			continue
		}
		items = append(items, it)
		if frequencyRank(it.FrequencyType) > frequencyRank(frequencyType) {
			frequencyType = it.FrequencyType
		}
		if e := it.ExpiresAt(t); e.After(expiresAt) {
			expiresAt = e
		}
	}
	return items, frequencyType, expiresAt
}

// frequencyRank orders frequency types from the most frequent (hourly, 0)
// to the least; -1 for none.
func frequencyRank(frequencyType string) int {
	return slices.Index(PolicyFrequencies, frequencyType)
}

// ExpiresAt is when a snapshot taken for the item at created expires: its
// retention later, months and years counted on the calendar.
func (it PolicyItem) ExpiresAt(created time.Time) time.Time {
	switch it.RetentionUnit {
	case "weeks":
		return created.AddDate(0, 0, 7*it.RetentionValue)
	case "months":
		return created.AddDate(0, it.RetentionValue, 0)
	case "years":
		return created.AddDate(it.RetentionValue, 0, 0)
	}
	return created.AddDate(0, 0, it.RetentionValue)
}

// RetainedUntil is the expiry that the schedule's items give a snapshot
// taken at created for the items with the given ids: the latest of their
// retentions; false when none of them is an item of the schedule any more.
func (s BackupSchedule) RetainedUntil(created time.Time, itemIDs []string) (time.Time, bool) {
	var until time.Time
	for _, it := range s.PolicyItems {
		if slices.Contains(itemIDs, it.ID) {
			if e := it.ExpiresAt(created); e.After(until) {
				until = e
			}
		}
	}
	return until, !until.IsZero()
}

// nextOf is the first instant after now at which item calls for a
// snapshot.
func (s BackupSchedule) nextOf(it PolicyItem, now time.Time) time.Time {
	y, mo, d := now.Date()
	at := func(y int, mo time.Month, d int) time.Time {
		return time.Date(y, mo, d, s.ReferenceHourOfDay, s.ReferenceMinuteOfHour, 0, 0, time.UTC)
	}
	switch it.FrequencyType {
	case FrequencyHourly:
		step := time.Duration(max(it.FrequencyInterval, 1)) * time.Hour
		t := at(y, mo, d)
		for t.After(now) {
			t = t.Add(-step)
		}
		for !t.After(now) {
			t = t.Add(step)
		}
		return t
	case FrequencyDaily:
		t := at(y, mo, d)
		if !t.After(now) {
			t = t.AddDate(0, 0, 1)
		}
		return t
	case FrequencyWeekly:
		weekday := time.Weekday(it.FrequencyInterval % 7)
		t := at(y, mo, d+(int(weekday)-int(now.Weekday())+7)%7)
		if !t.After(now) {
			t = t.AddDate(0, 0, 7)
		}
		return t
	case FrequencyMonthly:
		for i := 0; ; i++ {
			day := it.FrequencyInterval
			if day == LastDayOfMonth {
				day = time.Date(y, mo+time.Month(i)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			}
			if t := at(y, mo+time.Month(i), day); t.After(now) {
				return t
			}
		}
	default: // yearly
		for i := 0; ; i++ {
			if t := at(y+i, time.Month(it.FrequencyInterval), 1); t.After(now) {
				return t
			}
		}
	}
}
