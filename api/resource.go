package api

import (
	"net/http"

	"github.com/allot-dev/allot"
)

// ResourceItem is ResourceItemInfo on the wire, field for field as the
// official SDK's model decodes it: optional fields that are unset are left
// out; amount and usage are JSON numbers, status an integer.
type ResourceItem struct {
	ResourceID         string         `json:"resource_id"`
	OrderID            string         `json:"order_id,omitempty"`
	BoundAsset         *BoundAsset    `json:"bound_asset,omitempty"`
	ResourceExpireTime string         `json:"resource_expire_time,omitempty"`
	ResourceType       string         `json:"resource_type"`
	BusinessType       string         `json:"business_type"`
	SubResourceType    string         `json:"sub_resource_type,omitempty"`
	IsSubResource      bool           `json:"is_sub_resource"`
	ChargingMode       string         `json:"charging_mode"`
	ResourceSource     string         `json:"resource_source"`
	Amount             allot.Quantity `json:"amount"`
	Usage              allot.Quantity `json:"usage"`
	Status             int32          `json:"status"`
	Unit               string         `json:"unit"`
}

// BoundAsset is BoundAssetInfo on the wire.
type BoundAsset struct {
	AssetID   string `json:"asset_id"`
	AssetName string `json:"asset_name,omitempty"`
}

// ListResourcesResponse is the answer of GET /v1/{project_id}/tenants/resources.
type ListResourcesResponse struct {
	Resources []ResourceItem `json:"resources"`
	Count     int            `json:"count"`
}

// rfc3339Seconds is how the reference writes times: 2021-01-10T08:43:17Z.
const rfc3339Seconds = "2006-01-02T15:04:05Z"

func toResourceItem(r *allot.Resource) ResourceItem {
	item := ResourceItem{
		ResourceID:      r.ResourceID,
		OrderID:         r.OrderID,
		ResourceType:    r.ResourceType,
		BusinessType:    string(r.BusinessType),
		SubResourceType: string(r.SubResourceType),
		IsSubResource:   r.IsSubResource,
		ChargingMode:    string(r.ChargingMode),
		ResourceSource:  string(r.Source),
		Amount:          r.Amount,
		Usage:           r.Usage,
		Status:          int32(r.Status),
		Unit:            string(r.Unit),
	}
	if r.BoundAsset != nil {
		item.BoundAsset = &BoundAsset{AssetID: r.BoundAsset.AssetID, AssetName: r.BoundAsset.AssetName}
	}
	if !r.ExpireTime.IsZero() {
		item.ResourceExpireTime = r.ExpireTime.UTC().Format(rfc3339Seconds)
	}
	return item
}

// handleListResources serves GET /v1/{project_id}/tenants/resources.
func (s *Server) handleListResources(w http.ResponseWriter, r *http.Request, projectID string) {
	filter, page, err := parseResourceQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buf := bufPool.Get().(*[]byte)
	b := append((*buf)[:0], listResponseStart...)
	first := true
	count, err := s.cfg.Reader.VisitResources(r.Context(), projectID, &filter, page, func(res *allot.Resource) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendResourceItem(b, res)
	})
	if err != nil {
		bufPool.Put(buf)
		s.writeError(w, r, err)
		return
	}
	*buf = appendListResponseEnd(b, count)
	s.writeBody(w, http.StatusOK, *buf)
	if cap(*buf) <= 64<<10 { // do not keep an outsized buffer alive
		bufPool.Put(buf)
	}
}
