package api

import (
	"net/http"

	"github.com/allot-dev/allot"
)

// The sibling read APIs of the official SDK's tenant family:
// CountTenantResources and ShowResourceUsage, with the SDK model's exact
// shapes, computed from the same data as the list.

type resourcesCount struct {
	BusinessType   string `json:"business_type"`
	Count          int    `json:"count"`
	ChargingMode   string `json:"charging_mode"`
	ResourceSource string `json:"resource_source"`
}

type resourceUsageInfo struct {
	ResourceType    string         `json:"resource_type"`
	BusinessType    string         `json:"business_type"`
	SubResourceType string         `json:"sub_resource_type,omitempty"`
	IsSubResource   bool           `json:"is_sub_resource"`
	ChargingMode    string         `json:"charging_mode"`
	ResourceSource  string         `json:"resource_source"`
	Amount          allot.Quantity `json:"amount"`
	Usage           allot.Quantity `json:"usage"`
	Unit            string         `json:"unit"`
}

// parseCountQuery reads business and the expiry window of
// GET /v1/{project_id}/tenants/resources-count. Every source is counted.
func parseCountQuery(raw string) (allot.ResourceFilter, error) {
	f := allot.ResourceFilter{Sources: allot.ResourceSources}
	q, err := parseQuery(raw)
	if err != nil {
		return f, err
	}
	if f.Businesses, err = enumList(q, "business", allot.BusinessTypes); err != nil {
		return f, err
	}
	return f, q.expiryWindow(&f)
}

// parseUsageQuery reads resource and business of
// GET /v1/{project_id}/tenants/resources-usage.
func parseUsageQuery(raw string) (allot.ResourceFilter, error) {
	f := allot.ResourceFilter{Sources: allot.ResourceSources}
	q, err := parseQuery(raw)
	if err != nil {
		return f, err
	}
	if f.Businesses, err = enumList(q, "business", allot.BusinessTypes); err != nil {
		return f, err
	}
	f.ResourceTypes, err = q.resourceTypes()
	return f, err
}

func (s *Server) handleCountResources(w http.ResponseWriter, r *http.Request, projectID string) {
	f, err := parseCountQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	counts, err := s.cfg.Summaries.CountResources(r.Context(), projectID, &f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		ResourcesCount []resourcesCount `json:"resources_count"`
	}{make([]resourcesCount, len(counts))}
	for i, c := range counts {
		out.ResourcesCount[i] = resourcesCount{BusinessType: string(c.BusinessType), Count: c.Count, ChargingMode: string(c.ChargingMode), ResourceSource: string(c.Source)}
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleResourceUsage(w http.ResponseWriter, r *http.Request, projectID string) {
	f, err := parseUsageQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sums, err := s.cfg.Summaries.ResourceUsage(r.Context(), projectID, &f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Resources []resourceUsageInfo `json:"resources"`
	}{make([]resourceUsageInfo, len(sums))}
	for i, u := range sums {
		out.Resources[i] = resourceUsageInfo{ResourceType: u.ResourceType, BusinessType: string(u.BusinessType), SubResourceType: string(u.SubResourceType),
			IsSubResource: u.IsSubResource, ChargingMode: string(u.ChargingMode), ResourceSource: string(u.Source), Amount: u.Amount, Usage: u.Usage, Unit: string(u.Unit)}
	}
	s.writeJSON(w, http.StatusOK, out)
}
