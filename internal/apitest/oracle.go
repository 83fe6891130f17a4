package apitest

import (
	"slices"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
)

// listQuery is a list request as the test states it. match is the oracle: a
// second, independent statement of the documented filter semantics.
type listQuery struct {
	sources, business, resource []string
	resourceID, orderID         string
	chargingMode, subResource   string
	start, end                  *time.Time
	status                      *int32
	limit, offset               *int32
}

func (q listQuery) match(r allot.Resource) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	eq := func(want, v string) bool { return want == "" || want == v }
	if !in(q.sources, string(r.Source)) || !in(q.business, string(r.BusinessType)) || !in(q.resource, r.ResourceType) {
		return false
	}
	if !eq(q.resourceID, r.ResourceID) || !eq(q.orderID, r.OrderID) ||
		!eq(q.chargingMode, string(r.ChargingMode)) || !eq(q.subResource, string(r.SubResourceType)) {
		return false
	}
	if q.status != nil && int32(r.Status) != *q.status {
		return false
	}
	if q.start != nil || q.end != nil {
		// start <= t <= end; no expiry never matches a window.
		if r.ExpireTime.IsZero() {
			return false
		}
		t := r.ExpireTime.Unix()
		if q.start != nil && t < q.start.Unix() || q.end != nil && t > q.end.Unix() {
			return false
		}
	}
	return true
}

// expect returns all matches of q in list order.
func (q listQuery) expect(all []allot.Resource) []allot.Resource {
	var out []allot.Resource
	for _, r := range all {
		if q.match(r) {
			out = append(out, r)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func join(list []string) *string {
	if list == nil {
		return nil
	}
	return ptr(strings.Join(list, ","))
}

func timeString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return ptr(t.Format(time.RFC3339))
}

func (q listQuery) sdk() *model.ListTenantResourcesRequest {
	req := &model.ListTenantResourcesRequest{
		ResourceSource:          strings.Join(q.sources, ","),
		Business:                join(q.business),
		Resource:                join(q.resource),
		Limit:                   q.limit,
		Offset:                  q.offset,
		Status:                  q.status,
		ResourceExpireStartTime: timeString(q.start),
		ResourceExpireEndTime:   timeString(q.end),
	}
	if q.resourceID != "" {
		req.ResourceId = &q.resourceID
	}
	if q.orderID != "" {
		req.OrderId = &q.orderID
	}
	if q.chargingMode != "" {
		req.ChargingMode = &q.chargingMode
	}
	if q.subResource != "" {
		req.SubResource = &q.subResource
	}
	return req
}

var allSources = []string{"PURCHASED", "SP_ALLOCATED", "ADMIN_ALLOCATED"}
