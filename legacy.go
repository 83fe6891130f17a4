package allot

import (
	"encoding/json"
	"time"
)

// Release 1 stored, as the fingerprint of a request, the JSON of its request
// struct, and as the answer the JSON of OpResult. Its records carry no
// version prefix. They must still replay, so their shapes are frozen here as
// release 1 wrote them: these types are never changed, whatever becomes of
// the request types.

type packageRequestR1 struct {
	ProjectID       string          `json:"project_id"`
	ResourceID      string          `json:"resource_id,omitempty"`
	Source          ResourceSource  `json:"resource_source"`
	OrderID         string          `json:"order_id,omitempty"`
	ResourceType    string          `json:"resource_type"`
	BusinessType    BusinessType    `json:"business_type"`
	SubResourceType SubResourceType `json:"sub_resource_type,omitempty"`
	IsSubResource   bool            `json:"is_sub_resource,omitempty"`
	ChargingMode    ChargingMode    `json:"charging_mode"`
	Unit            Unit            `json:"unit"`
	Amount          Quantity        `json:"amount"`
	ExpireTime      time.Time       `json:"resource_expire_time,omitzero"`
	IdempotencyKey  string          `json:"idempotency_key,omitempty"`
}

type allocateRequestR1 struct {
	SPProjectID       string    `json:"sp_project_id"`
	CustomerProjectID string    `json:"customer_project_id"`
	ResourceSpecCode  string    `json:"resource_spec_code"`
	Amount            Quantity  `json:"amount"`
	SPResourceID      string    `json:"sp_resource_id,omitempty"`
	ExpireTime        time.Time `json:"resource_expire_time,omitzero"`
	IdempotencyKey    string    `json:"idempotency_key"`
}

type reclaimRequestR1 struct {
	ProjectID      string    `json:"project_id"`
	ResourceID     string    `json:"resource_id"`
	Amount         *Quantity `json:"amount,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	Cancel         bool      `json:"cancel,omitempty"`
}

type consumeRequestR1 struct {
	ProjectID      string   `json:"project_id"`
	ResourceID     string   `json:"resource_id,omitempty"`
	ResourceType   string   `json:"resource_type,omitempty"`
	Amount         Quantity `json:"amount"`
	IdempotencyKey string   `json:"idempotency_key"`
}

type refundRequestR1 struct {
	ProjectID      string   `json:"project_id"`
	ResourceID     string   `json:"resource_id"`
	Amount         Quantity `json:"amount"`
	Reason         string   `json:"reason"`
	IdempotencyKey string   `json:"idempotency_key"`
}

func (req PackageRequest) legacy() any {
	return packageRequestR1{req.ProjectID, req.ResourceID, req.Source, req.OrderID, req.ResourceType, req.BusinessType,
		req.SubResourceType, req.IsSubResource, req.ChargingMode, req.Unit, req.Amount, req.ExpireTime, req.IdempotencyKey}
}

func (req AllocateRequest) legacy() any {
	//lint:ignore S1016 a conversion would tie the frozen shape to the domain type
	return allocateRequestR1{req.SPProjectID, req.CustomerProjectID, req.ResourceSpecCode, req.Amount, req.SPResourceID,
		req.ExpireTime, req.IdempotencyKey}
}

func (req ReclaimRequest) legacy() any {
	return reclaimRequestR1{req.ProjectID, req.ResourceID, req.Amount, req.Reason, req.IdempotencyKey, req.Cancel}
}

func (req ConsumeRequest) legacy() any {
	return consumeRequestR1{req.ProjectID, req.ResourceID, req.ResourceType, req.Amount, req.IdempotencyKey}
}

func (req RefundRequest) legacy() any {
	return refundRequestR1{req.ProjectID, req.ResourceID, req.Amount, req.Reason, req.IdempotencyKey}
}

// legacyFingerprint is the fingerprint release 1 stored for a request.
func legacyFingerprint(r1 any) (string, error) {
	b, err := json.Marshal(r1)
	return string(b), err
}

// legacyField reads one string field of a release-1 fingerprint (the JSON
// of the request), to tell which scope the record belongs to.
func legacyField(fingerprint, field string) string {
	var m map[string]any
	if json.Unmarshal([]byte(fingerprint), &m) != nil {
		return ""
	}
	s, _ := m[field].(string)
	return s
}

func legacyBool(fingerprint, field string) bool {
	var m map[string]any
	if json.Unmarshal([]byte(fingerprint), &m) != nil {
		return false
	}
	b, _ := m[field].(bool)
	return b
}
