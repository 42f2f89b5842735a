package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/snapexport/snapexport"
)

// DefaultExportFrequency is the frequency of an export policy set without
// one.
const DefaultExportFrequency = "monthly"

// newBackupSchedule is the schedule of a cluster registered at created:
// Atlas's default policy, anchored at the hour and minute of the
// registration, without automatic export.
func newBackupSchedule(created time.Time) snapexport.BackupSchedule {
	created = created.UTC()
	return snapexport.BackupSchedule{PolicyID: NewID(), PolicyItems: snapexport.DefaultPolicyItems(NewID),
		ReferenceHourOfDay: created.Hour(), ReferenceMinuteOfHour: created.Minute(), RestoreWindowDays: snapexport.DefaultRestoreWindowDays}
}

// ExportPolicyInput is the export object of a schedule PATCH.
type ExportPolicyInput struct {
	BucketID      string
	FrequencyType string // empty: DefaultExportFrequency
}

// PolicyInput is the policy of a schedule PATCH: its items replace the
// policy's. An item with an ID changes that item of the policy; one
// without is added with a new id; items left out are removed.
type PolicyInput struct {
	ID    string // empty or the policy's own
	Items []snapexport.PolicyItem
}

// ScheduleInput is a schedule PATCH; nil fields keep their value.
type ScheduleInput struct {
	// ClusterName, when set, must be the name of the cluster patched.
	ClusterName                       *string
	AutoExportEnabled                 *bool
	Export                            *ExportPolicyInput
	UseOrgAndGroupNamesInExportPrefix *bool
	Policy                            *PolicyInput
	ReferenceHourOfDay                *int
	ReferenceMinuteOfHour             *int
	RestoreWindowDays                 *int
	// UpdateSnapshots gives the cluster's scheduled snapshots the
	// retention their policy items have once the PATCH is applied.
	UpdateSnapshots bool
}

// check applies the rules that need no stored data.
func (in *ScheduleInput) check(name string) error {
	if in.ClusterName != nil && *in.ClusterName != name {
		return snapexport.Errorf(snapexport.CodeAttributeReadOnly,
			"The attribute clusterName is read-only and cannot be changed by the user: the path names cluster %s, the body %s.", name, *in.ClusterName)
	}
	if in.Export != nil {
		// Atlas refuses an export policy sent without autoExportEnabled
		// (reported by the Terraform provider).
		if in.AutoExportEnabled == nil {
			return snapexport.InvalidBackupPolicy("autoExportEnabled must be specified with an export policy.")
		}
		if in.Export.FrequencyType == "" {
			in.Export.FrequencyType = DefaultExportFrequency
		}
		if !slices.Contains(snapexport.ExportFrequencies, in.Export.FrequencyType) {
			return snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", in.Export.FrequencyType)
		}
	}
	if in.Policy != nil {
		if err := snapexport.ValidatePolicyItems(in.Policy.Items); err != nil {
			return err
		}
	}
	if in.RestoreWindowDays != nil && *in.RestoreWindowDays < 1 {
		return snapexport.InvalidBackupPolicy(fmt.Sprintf("restoreWindowDays %d must be at least 1.", *in.RestoreWindowDays))
	}
	return nil
}

// UpdateBackupSchedule changes a cluster's backup schedule: its policy's
// items, reference time, restore window and automatic export. The export
// bucket must be one of the project's, and automatic export needs an
// export policy.
func (s *Service) UpdateBackupSchedule(ctx context.Context, projectID, name string, in ScheduleInput) (*snapexport.Cluster, error) {
	if err := in.check(name); err != nil {
		return nil, err
	}
	return s.changeBackupSchedule(ctx, projectID, name, func(tx snapexport.Tx, c *snapexport.Cluster) error {
		sched := &c.Schedule
		if in.AutoExportEnabled != nil {
			sched.AutoExportEnabled = *in.AutoExportEnabled
		}
		if in.Export != nil {
			if _, err := tx.ExportBucket(ctx, projectID, in.Export.BucketID); err != nil {
				if errors.Is(err, snapexport.ErrNotFound) {
					return bucketNotFound(in.Export.BucketID)
				}
				return err
			}
			sched.ExportBucketID, sched.ExportFrequencyType = in.Export.BucketID, in.Export.FrequencyType
		}
		if in.UseOrgAndGroupNamesInExportPrefix != nil {
			sched.UseOrgAndGroupNamesInExportPrefix = *in.UseOrgAndGroupNamesInExportPrefix
		}
		if sched.AutoExportEnabled && sched.ExportBucketID == "" {
			return snapexport.InvalidBackupPolicy("autoExportEnabled requires an export policy (export.exportBucketId).")
		}
		if in.Policy != nil {
			items, err := patchedPolicyItems(c, *in.Policy)
			if err != nil {
				return err
			}
			sched.PolicyItems = items
		}
		hour, minute := sched.ReferenceHourOfDay, sched.ReferenceMinuteOfHour
		if in.ReferenceHourOfDay != nil {
			hour = *in.ReferenceHourOfDay
		}
		if in.ReferenceMinuteOfHour != nil {
			minute = *in.ReferenceMinuteOfHour
		}
		if err := snapexport.ValidateReferenceTime(hour, minute); err != nil {
			return err
		}
		sched.ReferenceHourOfDay, sched.ReferenceMinuteOfHour = hour, minute
		if in.RestoreWindowDays != nil {
			sched.RestoreWindowDays = *in.RestoreWindowDays
		}
		if in.UpdateSnapshots {
			return reapplyRetention(ctx, tx, c, s.now())
		}
		return nil
	})
}

// patchedPolicyItems are the items of c's policy once in replaces them,
// ordered from the most to the least frequent.
func patchedPolicyItems(c *snapexport.Cluster, in PolicyInput) ([]snapexport.PolicyItem, error) {
	if in.ID != "" && in.ID != c.Schedule.PolicyID {
		return nil, snapexport.InvalidBackupPolicy(fmt.Sprintf("policy %s is not the policy of cluster %s, %s.", in.ID, c.Name, c.Schedule.PolicyID))
	}
	var items []snapexport.PolicyItem
	for _, it := range in.Items {
		switch {
		case it.ID == "":
			it.ID = NewID()
		case !slices.ContainsFunc(c.Schedule.PolicyItems, func(p snapexport.PolicyItem) bool { return p.ID == it.ID }):
			return nil, snapexport.InvalidBackupPolicy(fmt.Sprintf("policy item %s is not an item of the policy of cluster %s.", it.ID, c.Name))
		case slices.ContainsFunc(items, func(p snapexport.PolicyItem) bool { return p.ID == it.ID }):
			return nil, snapexport.InvalidBackupPolicy(fmt.Sprintf("policy item %s is given twice.", it.ID))
		}
		items = append(items, it)
	}
	slices.SortStableFunc(items, func(a, b snapexport.PolicyItem) int {
		return slices.Index(snapexport.PolicyFrequencies, a.FrequencyType) - slices.Index(snapexport.PolicyFrequencies, b.FrequencyType)
	})
	return items, nil
}

// DeleteBackupSchedule removes every item of a cluster's backup policy, as
// Atlas's DELETE of the schedule does; the policy, its reference time and
// the export settings stay.
func (s *Service) DeleteBackupSchedule(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return s.changeBackupSchedule(ctx, projectID, name, func(_ snapexport.Tx, c *snapexport.Cluster) error {
		c.Schedule.PolicyItems = nil
		return nil
	})
}

// changeBackupSchedule applies change to the schedule of a project's
// cluster and writes it, in one transaction.
func (s *Service) changeBackupSchedule(ctx context.Context, projectID, name string, change func(snapexport.Tx, *snapexport.Cluster) error) (*snapexport.Cluster, error) {
	var c *snapexport.Cluster
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if c, err = s.cluster(ctx, tx, projectID, name); err != nil {
			return err
		}
		if err := change(tx, c); err != nil {
			return err
		}
		return tx.UpdateClusterSchedule(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
