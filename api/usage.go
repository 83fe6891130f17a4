package api

import (
	"net/http"
	"time"

	"github.com/allot-dev/allot"
)

// The data-analysis and voice training reads: usage from the ledger's
// consume, commit and refund entries, aggregated by allot.AggregateUsage,
// and the tenant's voice packages.

// maxUsageLimit is the largest limit of GET .../data-analysis.
const maxUsageLimit = 1000

// usageParams reads the filters both data-analysis routes share.
func usageParams(q query, r *http.Request, f *allot.UsageFilter) (unit string, err error) {
	if f.UserID, _, err = q.optional("user_id"); err != nil {
		return "", err
	}
	if f.ResourceType, _, err = q.optional("resource_type"); err != nil {
		return "", err
	}
	var business allot.BusinessType
	if business, err = enumValue(q, "business_type", allot.BusinessTypes); err != nil {
		return "", err
	}
	f.BusinessType = string(business)
	if unit, err = enumValue(q, "unit", []string{"MIN", "HOUR"}); err != nil {
		return "", err
	}
	if unit == "" {
		unit = "MIN"
	}
	if vs := r.Header.Values("X-App-UserId"); len(vs) > 1 {
		return "", allot.Invalid("X-App-UserId", "is given %d times; give it once", len(vs))
	} else if len(vs) == 1 {
		f.AppUserID = vs[0]
	}
	return unit, nil
}

type usageItem struct {
	ResourceType    string  `json:"resource_type"`
	BusinessType    string  `json:"business_type"`
	SubResourceType string  `json:"sub_resource_type,omitempty"`
	IsSubResource   bool    `json:"is_sub_resource"`
	ChargingMode    string  `json:"charging_mode"`
	ResourceSource  string  `json:"resource_source"`
	Usage           float64 `json:"usage"`
	Unit            string  `json:"unit"`
}

type timeUsage struct {
	Time           string      `json:"time"`
	ResourcesUsage []usageItem `json:"resources_usage"`
}

func (s *Server) handleUsageData(w http.ResponseWriter, r *http.Request, projectID string) {
	f := allot.UsageFilter{ProjectID: projectID, Group: allot.GroupDay}
	q, err := parseQuery(r.URL.RawQuery)
	var page allot.Page
	var unit string
	if err == nil {
		page, err = usagePage(q)
	}
	if err == nil {
		f.From, f.To, err = requiredWindow(q)
	}
	if err == nil {
		unit, err = usageParams(q, r, &f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buckets, err := allot.AggregateUsage(r.Context(), s.cfg.Store, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var days []timeUsage
	for _, b := range buckets {
		at := b.Start.Format(rfc3339Seconds)
		if len(days) == 0 || days[len(days)-1].Time != at {
			days = append(days, timeUsage{Time: at, ResourcesUsage: []usageItem{}})
		}
		v, u := allot.InUnit(b.Usage, b.Unit, unit)
		d := &days[len(days)-1]
		d.ResourcesUsage = append(d.ResourcesUsage, usageItem{ResourceType: b.ResourceType, BusinessType: string(b.BusinessType),
			SubResourceType: string(b.SubResourceType), IsSubResource: b.IsSubResource, ChargingMode: string(b.ChargingMode),
			ResourceSource: string(b.Source), Usage: v, Unit: string(u)})
	}
	from, to := page.Window(len(days))
	s.writeJSON(w, http.StatusOK, struct {
		Count    int         `json:"count"`
		TimeList []timeUsage `json:"time_list"`
	}{len(days), append([]timeUsage{}, days[from:to]...)})
}

func usagePage(q query) (allot.Page, error) {
	limit, err := q.integer("limit", defaultLimit, 1, maxUsageLimit)
	if err != nil {
		return allot.Page{}, err
	}
	offset, err := q.integer("offset", 0, 0, maxOffset)
	return allot.Page{Limit: limit, Offset: offset}, err
}

// requiredWindow reads start_time and end_time, both required, start first.
func requiredWindow(q query) (from, to *time.Time, err error) {
	for _, p := range []struct {
		name string
		t    **time.Time
	}{{"start_time", &from}, {"end_time", &to}} {
		if *p.t, err = q.time(p.name); err != nil {
			return nil, nil, err
		}
		if *p.t == nil {
			return nil, nil, allot.Invalid(p.name, "is required")
		}
	}
	if !from.Before(*to) {
		return nil, nil, allot.Invalid("end_time", "must be after start_time")
	}
	return from, to, nil
}

func (s *Server) handleSummaryUsageData(w http.ResponseWriter, r *http.Request, projectID string) {
	f := allot.UsageFilter{ProjectID: projectID, Group: allot.GroupDay}
	q, err := parseQuery(r.URL.RawQuery)
	var unit string
	if err == nil {
		unit, err = usageParams(q, r, &f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buckets, err := allot.AggregateUsage(r.Context(), s.cfg.Store, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var total float64
	number := 0
	for _, b := range buckets {
		v, _ := allot.InUnit(b.Usage, b.Unit, unit)
		total += v
		number += b.Number
	}
	s.writeJSON(w, http.StatusOK, struct {
		ResourceType string  `json:"resource_type,omitempty"`
		BusinessType string  `json:"business_type,omitempty"`
		Number       int     `json:"number"`
		Usage        float64 `json:"usage"`
		Unit         string  `json:"unit"`
	}{f.ResourceType, f.BusinessType, number, total, unit})
}

type voiceResource struct {
	ResourceSource        string `json:"resource_source"`
	AssetID               string `json:"asset_id,omitempty"`
	ResourceID            string `json:"resource_id"`
	ResourceNums          int64  `json:"resource_nums"`
	ResourceAvailableNums int64  `json:"resource_available_nums"`
	ResourceType          string `json:"resource_type"`
	ChargeMode            string `json:"charge_mode"`
	ExpireTime            string `json:"expire_time,omitempty"`
	Status                int32  `json:"status"`
}

func (s *Server) handleVoiceTrainingQuotas(w http.ResponseWriter, r *http.Request, projectID string) {
	q, err := parseQuery(r.URL.RawQuery)
	var page allot.Page
	if err == nil {
		page, err = q.page()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pkgs, avail, err := s.cfg.Tenants.VoiceTraining(r.Context(), projectID, s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from, to := page.Window(len(pkgs))
	out := struct {
		Count                 int              `json:"count"`
		ResourceAvailableNums map[string]int64 `json:"resource_available_nums"`
		Resources             []voiceResource  `json:"resources"`
	}{Count: len(pkgs), Resources: []voiceResource{}, ResourceAvailableNums: map[string]int64{
		"basic": avail["BASIC"], "middle": avail["MIDDLE"], "advance": avail["ADVANCE"], "flexus": avail["FLEXUS"],
	}}
	for _, p := range pkgs[from:to] {
		res := p.Resource
		v := voiceResource{ResourceSource: string(res.Source), ResourceID: res.ResourceID, ResourceNums: int64(res.Amount / allot.QuantityScale),
			ResourceAvailableNums: p.Available, ResourceType: p.Level, ChargeMode: string(res.ChargingMode), Status: int32(res.Status)}
		if res.BoundAsset != nil {
			v.AssetID = res.BoundAsset.AssetID
		}
		if !res.ExpireTime.IsZero() {
			v.ExpireTime = res.ExpireTime.UTC().Format(rfc3339Seconds)
		}
		out.Resources = append(out.Resources, v)
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleTenantDurationCfg(w http.ResponseWriter, r *http.Request, projectID string) {
	c, err := s.cfg.Tenants.TenantDurationCfg(r.Context(), projectID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"tenant_id": projectID,
		"basic_min": c.BasicMin, "basic_max": c.BasicMax, "basic_advice_value": c.BasicAdvice,
		"middle_min": c.MiddleMin, "middle_max": c.MiddleMax, "middle_advice_value": c.MiddleAdvice,
		"advance_min": c.AdvanceMin, "advance_max": c.AdvanceMax, "advance_advice_value": c.AdvanceAdvice,
		"flexus_min": c.FlexusMin, "flexus_max": c.FlexusMax, "flexus_advice_value": c.FlexusAdvice,
		"cmww_min": c.CmwwMin, "cmww_max": c.CmwwMax, "cmww_advice_value": c.CmwwAdvice,
		"ljzn_min": c.LjznMin, "ljzn_max": c.LjznMax, "ljzn_advice_value": c.LjznAdvice,
		"short_assess_min": c.ShortAssessMin, "short_assess_max": c.ShortAssessMax,
	})
}
