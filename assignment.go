package allot

import "time"

// Assignment is one allocation record: a service provider allocated
// ResourceNum units of a resource spec to one of its customer projects.
type Assignment struct {
	RecordID          string       `json:"assignment_record_id"`
	SPProjectID       string       `json:"sp_project_id"`
	CustomerProjectID string       `json:"customer_project_id"`
	ResourceSpecCode  string       `json:"resource_spec_code"`
	ChargingMode      ChargingMode `json:"charging_mode"`
	ResourceNum       Quantity     `json:"resource_num"`
	ResourceUsedNum   Quantity     `json:"resource_used_num"`
	AllocateTime      time.Time    `json:"resource_allocate_time"`
	ExpireTime        time.Time    `json:"resource_expire_time"`
	// SPResourceID is the service provider's package the units came from,
	// for allocations made through allot (empty for imported records).
	SPResourceID string `json:"sp_resource_id,omitempty"`

	// Seq and Version play the same roles as on Resource; Seq orders a
	// customer's records oldest first. Assigned by the store.
	Seq     int64 `json:"seq"`
	Version int64 `json:"version"`
}

// MaxUnixSeconds is the documented upper bound of the API's Unix times.
const MaxUnixSeconds = 2147483647

// Validate checks every field a caller supplies, naming the first bad one.
func (a *Assignment) Validate() error {
	if err := ValidateID("assignment_record_id", a.RecordID); err != nil {
		return err
	}
	if err := ValidateID("sp_project_id", a.SPProjectID); err != nil {
		return err
	}
	if err := ValidateID("customer_project_id", a.CustomerProjectID); err != nil {
		return err
	}
	if a.SPProjectID == a.CustomerProjectID {
		return Invalid("customer_project_id", "must differ from sp_project_id")
	}
	if err := ValidateID("resource_spec_code", a.ResourceSpecCode); err != nil {
		return err
	}
	if _, err := ParseEnum("charging_mode", string(a.ChargingMode), ChargingModes); err != nil {
		return err
	}
	if a.ResourceNum < 0 || a.ResourceNum > MaxQuantity {
		return Invalid("resource_num", "must be between 0 and 2147483647")
	}
	if a.ResourceUsedNum < 0 || a.ResourceUsedNum > a.ResourceNum {
		return Invalid("resource_used_num", "must be between 0 and resource_num (%s)", a.ResourceNum)
	}
	for _, t := range []struct {
		param string
		at    time.Time
	}{{"resource_allocate_time", a.AllocateTime}, {"resource_expire_time", a.ExpireTime}} {
		if s := t.at.Unix(); s < 0 || s > MaxUnixSeconds {
			return Invalid(t.param, "must be a Unix time in seconds between 0 and 2147483647")
		}
	}
	return nil
}

// AssignmentSummary sums a customer's records of one resource spec.
// RemainingQuota is ResourceNum - ResourceUsedNum: what the customer can
// still use of what its service providers allocated to it.
type AssignmentSummary struct {
	ResourceSpecCode string
	ResourceNum      Quantity
	ResourceUsedNum  Quantity
	RemainingQuota   Quantity
}

// AssignmentReport is what a customer project sees of its allocations: one
// page of records, the number of all records, and the per-spec overview over
// all records (not only the page), ordered by resource spec code.
type AssignmentReport struct {
	Project  Project
	Count    int
	Records  []Assignment
	Overview []AssignmentSummary
}
