package api

import (
	"encoding/json"
	"time"

	"github.com/allot-dev/allot"
)

// ImportItem is what one JSON Lines import line holds: exactly one of a
// project, a resource or an assignment.
type ImportItem struct {
	Project    *allot.Project
	Resource   *allot.Resource
	Assignment *allot.Assignment
}

// Key names the item for duplicate checks and messages, e.g.
// "resource p1/r1"; it is unique per entity within one import.
func (it ImportItem) Key() string {
	switch {
	case it.Project != nil:
		return "project " + it.Project.ID
	case it.Resource != nil:
		return "resource " + it.Resource.ProjectID + "/" + it.Resource.ResourceID
	case it.Assignment != nil:
		return "assignment " + it.Assignment.RecordID
	}
	return ""
}

// AddTo appends the item to b.
func (it ImportItem) AddTo(b *allot.ImportBatch) {
	switch {
	case it.Project != nil:
		b.Projects = append(b.Projects, *it.Project)
	case it.Resource != nil:
		b.Resources = append(b.Resources, *it.Resource)
	case it.Assignment != nil:
		b.Assignments = append(b.Assignments, *it.Assignment)
	}
}

// importLine holds every field any kind of line may carry; kind decides
// which are read.
type importLine struct {
	Kind string `json:"kind"`

	// project
	ProjectID   string `json:"project_id"`
	Name        string `json:"name"`
	RegionID    string `json:"region_id"`
	SPProjectID string `json:"sp_project_id"`

	// resource (ResourceItemInfo names)
	ResourceID      string                `json:"resource_id"`
	OrderID         string                `json:"order_id"`
	BoundAsset      *allot.BoundAsset     `json:"bound_asset"`
	ExpireTime      json.RawMessage       `json:"resource_expire_time"`
	ResourceType    string                `json:"resource_type"`
	BusinessType    allot.BusinessType    `json:"business_type"`
	SubResourceType allot.SubResourceType `json:"sub_resource_type"`
	IsSubResource   bool                  `json:"is_sub_resource"`
	ChargingMode    allot.ChargingMode    `json:"charging_mode"`
	ResourceSource  allot.ResourceSource  `json:"resource_source"`
	Amount          number                `json:"amount"`
	Usage           number                `json:"usage"`
	Status          allot.ResourceStatus  `json:"status"`
	Unit            allot.Unit            `json:"unit"`

	// assignment (AllocateSpResourceInfo names)
	CustomerProjectID string `json:"customer_project_id"`
	RecordID          string `json:"assignment_record_id"`
	ResourceSpecCode  string `json:"resource_spec_code"`
	ResourceNum       number `json:"resource_num"`
	ResourceUsedNum   number `json:"resource_used_num"`
	AllocateTime      *int64 `json:"resource_allocate_time"`
}

// DecodeImportLine decodes and validates one line of an import file (JSON
// Lines of projects, resources and assignments; docs/admin.md). now is the
// creation time of a project. It follows the management bodies' rules:
// one JSON object, no unknown, repeated or wrongly cased keys, quantities
// as numbers or decimal strings.
func DecodeImportLine(line []byte, now time.Time) (ImportItem, error) {
	var l importLine
	if err := decodeJSON(line, &l); err != nil {
		return ImportItem{}, &allot.Error{Code: allot.EINVALID, Message: "not a valid import object: " + allot.ErrorMessageOf(err)}
	}
	switch l.Kind {
	case "project":
		p := allot.Project{ID: l.ProjectID, Name: l.Name, RegionID: l.RegionID, SPProjectID: l.SPProjectID, CreatedAt: now}
		if err := p.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Project: &p}, nil
	case "resource":
		r := allot.Resource{
			ProjectID: l.ProjectID, ResourceID: l.ResourceID, OrderID: l.OrderID, BoundAsset: l.BoundAsset,
			ResourceType: l.ResourceType, BusinessType: l.BusinessType, SubResourceType: l.SubResourceType,
			IsSubResource: l.IsSubResource, ChargingMode: l.ChargingMode, Source: l.ResourceSource,
			Status: l.Status, Unit: l.Unit,
		}
		var err error
		if r.Amount, err = l.Amount.quantity("amount", true); err != nil {
			return ImportItem{}, err
		}
		if r.Usage, err = l.Usage.quantity("usage", false); err != nil {
			return ImportItem{}, err
		}
		if len(l.ExpireTime) > 0 && string(l.ExpireTime) != "null" {
			var s string
			if err := json.Unmarshal(l.ExpireTime, &s); err != nil {
				return ImportItem{}, allot.Invalid("resource_expire_time", "must be an RFC 3339 string")
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return ImportItem{}, allot.Invalid("resource_expire_time", "%q is not an RFC 3339 time", truncate(s))
			}
			r.ExpireTime = t.UTC().Truncate(time.Second)
		}
		if err := r.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Resource: &r}, nil
	case "assignment":
		a := allot.Assignment{
			RecordID: l.RecordID, SPProjectID: l.SPProjectID, CustomerProjectID: l.CustomerProjectID,
			ResourceSpecCode: l.ResourceSpecCode, ChargingMode: l.ChargingMode,
		}
		var err error
		if a.ResourceNum, err = l.ResourceNum.quantity("resource_num", true); err != nil {
			return ImportItem{}, err
		}
		if a.ResourceUsedNum, err = l.ResourceUsedNum.quantity("resource_used_num", false); err != nil {
			return ImportItem{}, err
		}
		if l.AllocateTime == nil {
			return ImportItem{}, allot.Invalid("resource_allocate_time", "is required (Unix seconds)")
		}
		a.AllocateTime = time.Unix(*l.AllocateTime, 0).UTC()
		var expire int64
		if err := json.Unmarshal(l.ExpireTime, &expire); err != nil {
			return ImportItem{}, allot.Invalid("resource_expire_time", "is required for an assignment, as Unix seconds")
		}
		a.ExpireTime = time.Unix(expire, 0).UTC()
		if err := a.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Assignment: &a}, nil
	case "":
		return ImportItem{}, allot.Invalid("kind", "is required: project, resource or assignment")
	}
	return ImportItem{}, allot.Invalid("kind", "%q is not one of project, resource, assignment", truncate(l.Kind))
}
