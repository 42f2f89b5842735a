package api

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// v20230101Schedule is the schedule's first version, replaced by
// 2024-08-05 (Atlas answers it with these Deprecation and Sunset headers).
// Its body differs only in the copy settings' items, which are always
// empty here.
var v20230101Schedule = version{Date: "2023-01-01", Deprecated: date("2024-08-05"), Sunset: date("2027-07-01")}

type exportPolicyView struct {
	ExportBucketID string `json:"exportBucketId"`
	FrequencyType  string `json:"frequencyType"`
}

type policyItemView struct {
	FrequencyInterval int    `json:"frequencyInterval"`
	FrequencyType     string `json:"frequencyType"`
	ID                string `json:"id"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

type policyView struct {
	ID          string           `json:"id"`
	PolicyItems []policyItemView `json:"policyItems"`
}

// scheduleView is a cluster's backup schedule with Atlas's fields in
// Atlas's order. There are no copy settings: snapshots are not copied to
// other regions.
type scheduleView struct {
	AutoExportEnabled                 bool              `json:"autoExportEnabled"`
	ClusterID                         string            `json:"clusterId"`
	ClusterName                       string            `json:"clusterName"`
	CopyPolicyItemsEnabled            bool              `json:"copyPolicyItemsEnabled"`
	CopySettings                      []any             `json:"copySettings"`
	Export                            *exportPolicyView `json:"export,omitempty"`
	Links                             []link            `json:"links"`
	NextSnapshot                      string            `json:"nextSnapshot,omitempty"`
	Policies                          []policyView      `json:"policies"`
	ReferenceHourOfDay                int               `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour             int               `json:"referenceMinuteOfHour"`
	RestoreWindowDays                 int               `json:"restoreWindowDays"`
	UseOrgAndGroupNamesInExportPrefix bool              `json:"useOrgAndGroupNamesInExportPrefix"`
}

func (c *call) scheduleView(cl *snapexport.Cluster) scheduleView {
	s := cl.Schedule
	self := c.baseURL() + "/api/atlas/v2/groups/" + cl.ProjectID + "/clusters/" + url.PathEscape(cl.Name) + "/backup/schedule"
	policy := policyView{ID: s.PolicyID, PolicyItems: []policyItemView{}}
	for _, it := range s.PolicyItems {
		policy.PolicyItems = append(policy.PolicyItems, policyItemView{FrequencyInterval: it.FrequencyInterval, FrequencyType: it.FrequencyType,
			ID: it.ID, RetentionUnit: it.RetentionUnit, RetentionValue: it.RetentionValue})
	}
	v := scheduleView{AutoExportEnabled: s.AutoExportEnabled, ClusterID: cl.ID, ClusterName: cl.Name, CopySettings: []any{},
		Links: []link{
			{Href: self, Rel: "self"},
			{Href: c.baseURL() + "/api/public/v1.0/groups/" + cl.ProjectID, Rel: "https://cloud.mongodb.com/group"},
		},
		Policies:           []policyView{policy},
		ReferenceHourOfDay: s.ReferenceHourOfDay, ReferenceMinuteOfHour: s.ReferenceMinuteOfHour, RestoreWindowDays: s.RestoreWindowDays,
		UseOrgAndGroupNamesInExportPrefix: s.UseOrgAndGroupNamesInExportPrefix}
	if s.ExportBucketID != "" {
		v.Export = &exportPolicyView{ExportBucketID: s.ExportBucketID, FrequencyType: s.ExportFrequencyType}
	}
	if next, ok := s.NextSnapshot(c.srv.Service.Time()); ok {
		v.NextSnapshot = formatTime(next)
	}
	return v
}

func getSchedule(c *call) (*response, error) {
	cl, err := c.cluster()
	if err != nil {
		return nil, err
	}
	return ok(c.scheduleView(cl))
}

func deleteSchedule(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	cl, err := c.srv.Service.DeleteBackupSchedule(c.r.Context(), c.project.ID, name)
	if err != nil {
		return nil, err
	}
	return ok(c.scheduleView(cl))
}

// scheduleWritable are the attributes a schedule PATCH may carry.
// clusterName, which the Atlas CLI always sends, must be the path's;
// updateSnapshots gives the retention of the PATCHed items to the
// snapshots taken for them; deleteSnapshots is accepted and changes
// nothing (snapshots of removed items stay until they expire, as in
// Atlas's default); copySettings and
// copyPolicyItemsEnabled only with their empty values. The SDK's
// policies: null is dropped by readObject.
var scheduleWritable = []string{"autoExportEnabled", "clusterName", "copyPolicyItemsEnabled", "copySettings", "deleteSnapshots", "export", "policies",
	"referenceHourOfDay", "referenceMinuteOfHour", "restoreWindowDays", "updateSnapshots", "useOrgAndGroupNamesInExportPrefix"}

var scheduleReadOnly = []string{"clusterId", "links", "nextSnapshot"}

// noCopies refuses copy settings: snapshots are not copied to other
// regions here.
var noCopies = snapexport.InvalidBackupPolicy("copySettings must be empty: snapexport keeps no copies of snapshots in other regions.")

func updateSchedule(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	o, err := readAttributes(c.r, scheduleWritable, scheduleReadOnly)
	if err != nil {
		return nil, err
	}
	in, err := scheduleInput(o)
	if err != nil {
		return nil, err
	}
	cl, err := c.srv.Service.UpdateBackupSchedule(c.r.Context(), c.project.ID, name, in)
	if err != nil {
		return nil, err
	}
	return ok(c.scheduleView(cl))
}

// scheduleInput reads a schedule PATCH's attributes.
func scheduleInput(o object) (service.ScheduleInput, error) {
	var in service.ScheduleInput
	// Attributes are read in a fixed order, so that the one an error names
	// does not depend on map order.
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"autoExportEnabled", &in.AutoExportEnabled}, {"useOrgAndGroupNamesInExportPrefix", &in.UseOrgAndGroupNamesInExportPrefix}} {
		if v, present, err := o.boolean(b.name, false); err != nil {
			return in, err
		} else if present {
			*b.dst = &v
		}
	}
	update, _, err := o.boolean("updateSnapshots", false)
	if err != nil {
		return in, err
	}
	in.UpdateSnapshots = update
	if _, _, err := o.boolean("deleteSnapshots", false); err != nil {
		return in, err
	}
	if copies, present, err := o.boolean("copyPolicyItemsEnabled", false); err != nil {
		return in, err
	} else if present && copies {
		return in, noCopies
	}
	if raw, present := o["copySettings"]; present {
		var settings []json.RawMessage
		if err := json.Unmarshal(raw, &settings); err != nil {
			return in, wrongType("copySettings")
		}
		if len(settings) > 0 {
			return in, noCopies
		}
	}
	if _, present := o["clusterName"]; present {
		name, err := o.string("clusterName", false)
		if err != nil {
			return in, err
		}
		in.ClusterName = &name
	}
	for _, n := range []struct {
		name string
		dst  **int
	}{{"referenceHourOfDay", &in.ReferenceHourOfDay}, {"referenceMinuteOfHour", &in.ReferenceMinuteOfHour}, {"restoreWindowDays", &in.RestoreWindowDays}} {
		if _, present := o[n.name]; present {
			v, err := o.int32(n.name, false)
			if err != nil {
				return in, err
			}
			*n.dst = &v
		}
	}
	if raw, present := o["export"]; present {
		var e object
		if err := json.Unmarshal(raw, &e); err != nil || e == nil {
			return in, wrongType("export")
		}
		if err := e.only([]string{"exportBucketId", "frequencyType"}, nil); err != nil {
			return in, err
		}
		var policy service.ExportPolicyInput
		var err error
		if policy.BucketID, err = e.objectID("exportBucketId", true); err != nil {
			return in, err
		}
		if policy.FrequencyType, err = e.string("frequencyType", false); err != nil {
			return in, err
		}
		in.Export = &policy
	}
	if raw, present := o["policies"]; present {
		policy, err := policyInput(raw)
		if err != nil {
			return in, err
		}
		in.Policy = policy
	}
	return in, nil
}

// policyInput reads the policies of a PATCH: none (keep the policy) or
// the schedule's one policy with all its items.
func policyInput(raw json.RawMessage) (*service.PolicyInput, error) {
	var policies []object
	if err := json.Unmarshal(raw, &policies); err != nil {
		return nil, wrongType("policies")
	}
	switch len(policies) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, snapexport.InvalidBackupPolicy("a backup schedule has one policy, not " + strconv.Itoa(len(policies)) + ".")
	}
	p := policies[0]
	if p == nil {
		return nil, wrongType("policies")
	}
	if err := p.only([]string{"id", "policyItems"}, nil); err != nil {
		return nil, err
	}
	var in service.PolicyInput
	var err error
	if in.ID, err = p.objectID("id", false); err != nil {
		return nil, err
	}
	rawItems, present := p["policyItems"]
	if !present {
		return nil, missing("policyItems")
	}
	var items []object
	if err := json.Unmarshal(rawItems, &items); err != nil {
		return nil, wrongType("policyItems")
	}
	for _, it := range items {
		if it == nil {
			return nil, wrongType("policyItems")
		}
		if err := it.only([]string{"frequencyInterval", "frequencyType", "id", "retentionUnit", "retentionValue"}, nil); err != nil {
			return nil, err
		}
		var item snapexport.PolicyItem
		if item.ID, err = it.objectID("id", false); err != nil {
			return nil, err
		}
		if item.FrequencyType, err = it.string("frequencyType", true); err != nil {
			return nil, err
		}
		if item.FrequencyInterval, err = it.int32("frequencyInterval", true); err != nil {
			return nil, err
		}
		if item.RetentionUnit, err = it.string("retentionUnit", true); err != nil {
			return nil, err
		}
		if item.RetentionValue, err = it.int32("retentionValue", true); err != nil {
			return nil, err
		}
		in.Items = append(in.Items, item)
	}
	return &in, nil
}
