package api

import (
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/allot-dev/allot"
)

// The tenant-side configuration operations of the official SDK's Tenant
// Management family (quotas, configurations, notices, agreements, the
// tenant's own asset binding), in the SDK models' shapes. Rules are in
// allot.Tenants; handlers decode, call once and encode.

func (s *Server) tenantSettingsRoutes() {
	s.mux.Handle("POST /v1/{project_id}/tenants/bind-resource", s.tenant(s.handleBindUserAsset))
	s.mux.Handle("POST /v1/{project_id}/user/quotas", s.tenant(s.handleCreateUserQuota))
	s.mux.Handle("GET /v1/{project_id}/user/quotas", s.tenant(s.handleListUserQuotas))
	s.mux.Handle("PUT /v1/{project_id}/user/quotas/{user_id}", s.tenant(s.handleUpdateUserQuota))
	s.mux.Handle("DELETE /v1/{project_id}/user/quotas/{user_id}", s.tenant(s.handleDeleteUserQuota))
	s.mux.Handle("GET /v1/{project_id}/tenants/service-configs", s.tenant(s.handleShowServiceConfigs))
	s.mux.Handle("PUT /v1/{project_id}/tenants/service-configs", s.tenant(s.handleUpdateServiceConfigs))
	s.mux.Handle("POST /v1/{project_id}/tenants/user-configurations", s.tenant(s.handleSetUserConfiguration))
	s.mux.Handle("GET /v1/{project_id}/tenants/user-configurations", s.tenant(s.handleShowUserConfiguration))
	s.mux.Handle("DELETE /v1/{project_id}/tenants/user-configurations", s.tenant(s.handleDeleteUserConfiguration))
	s.mux.Handle("POST /v1/{project_id}/tenants/service-agreements/signed", s.tenant(s.handleSignAgreement))
	s.mux.Handle("POST /v1/{project_id}/tenants/special-agreements/signed", s.tenant(s.handleSignSpecialAgreement))
	s.mux.Handle("GET /v1/{project_id}/data-analysis", s.tenant(s.handleUsageData))
	s.mux.Handle("GET /v1/{project_id}/data-analysis-summary", s.tenant(s.handleSummaryUsageData))
	s.mux.Handle("GET /v1/{project_id}/voice-training-manage/quotas", s.tenant(s.handleVoiceTrainingQuotas))
	s.mux.Handle("GET /v1/{project_id}/voice-training-manage/user/tenant-duration-cfg", s.tenant(s.handleTenantDurationCfg))
}

// tenantBody reads and decodes a tenant request's JSON body into v.
func tenantBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errBodyTooLarge
		}
		return allot.Invalid("body", "could not be read")
	}
	return decodeJSON(body, v)
}

// writeEmpty answers 200 with no body, as the SDK's empty responses expect.
func (s *Server) writeEmpty(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"application/json;charset=UTF-8"}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleBindUserAsset(w http.ResponseWriter, r *http.Request, projectID string) {
	var req struct {
		AssetID      *string `json:"asset_id"`
		BusinessType *string `json:"business_type"`
	}
	if err := tenantBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.AssetID == nil {
		s.writeError(w, r, allot.Invalid("asset_id", "is required"))
		return
	}
	if req.BusinessType == nil {
		s.writeError(w, r, allot.Invalid("business_type", "is required"))
		return
	}
	if err := s.cfg.Tenants.BindUserAsset(r.Context(), projectID, *req.AssetID, *req.BusinessType); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEmpty(w)
}

// quotaDetail is UserQuotaDetail (requests: integers) and
// ListUserQuotaDetail (answers: video_time_* as numbers), field for field.
type quotaDetail struct {
	ModelingCount2dModel       *int64 `json:"modeling_count_2d_model,omitempty"`
	ModelingCount2dModelFlexus *int64 `json:"modeling_count_2d_model_flexus,omitempty"`
	VideoTime2dModel           *int64 `json:"video_time_2d_model,omitempty"`
	VideoTimeFlexus2dModel     *int64 `json:"video_time_flexus_2d_model,omitempty"`
	VoiceCloneBasic            *int64 `json:"voice_clone_basic,omitempty"`
	VoiceCloneMiddle           *int64 `json:"voice_clone_middle,omitempty"`
	VoiceCloneAdvance          *int64 `json:"voice_clone_advance,omitempty"`
	VoiceCloneFlexus           *int64 `json:"voice_clone_flexus,omitempty"`
}

func (d *quotaDetail) fields() []**int64 {
	return []**int64{&d.ModelingCount2dModel, &d.ModelingCount2dModelFlexus, &d.VideoTime2dModel, &d.VideoTimeFlexus2dModel,
		&d.VoiceCloneBasic, &d.VoiceCloneMiddle, &d.VoiceCloneAdvance, &d.VoiceCloneFlexus}
}

func (d *quotaDetail) limits() map[string]int64 {
	out := map[string]int64{}
	for i, f := range d.fields() {
		if *f != nil {
			out[allot.QuotaFields[i]] = **f
		}
	}
	return out
}

func (s *Server) handleCreateUserQuota(w http.ResponseWriter, r *http.Request, projectID string) {
	var req struct {
		UserID *string      `json:"user_id"`
		Quota  *quotaDetail `json:"quota"`
	}
	if err := tenantBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.UserID == nil {
		s.writeError(w, r, allot.Invalid("user_id", "is required"))
		return
	}
	if req.Quota == nil {
		s.writeError(w, r, allot.Invalid("quota", "is required"))
		return
	}
	if err := s.cfg.Tenants.CreateUserQuota(r.Context(), projectID, allot.UserQuota{UserID: *req.UserID, Limits: req.Quota.limits()}); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEmpty(w)
}

func (s *Server) handleUpdateUserQuota(w http.ResponseWriter, r *http.Request, projectID string) {
	var req struct {
		Quota *quotaDetail `json:"quota"`
	}
	if err := tenantBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Quota == nil {
		s.writeError(w, r, allot.Invalid("quota", "is required"))
		return
	}
	if _, err := s.cfg.Tenants.UpdateUserQuota(r.Context(), projectID, allot.UserQuota{UserID: r.PathValue("user_id"), Limits: req.Quota.limits()}); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEmpty(w)
}

func (s *Server) handleDeleteUserQuota(w http.ResponseWriter, r *http.Request, projectID string) {
	if err := s.cfg.Tenants.DeleteUserQuota(r.Context(), projectID, r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEmpty(w)
}

type userQuotaInfo struct {
	UserID string         `json:"user_id"`
	Quota  map[string]any `json:"quota"`
	Usage  map[string]any `json:"usage"`
}

func (s *Server) handleListUserQuotas(w http.ResponseWriter, r *http.Request, projectID string) {
	q, err := parseQuery(r.URL.RawQuery)
	var page allot.Page
	var userID string
	if err == nil {
		page, err = q.page()
	}
	if err == nil {
		userID, _, err = q.optional("user_id")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	quotas, n, err := s.cfg.Tenants.UserQuotas(r.Context(), projectID, userID, page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Count  int             `json:"count"`
		Assets []userQuotaInfo `json:"assets"`
	}{Count: n, Assets: []userQuotaInfo{}}
	for _, u := range quotas {
		info := userQuotaInfo{UserID: u.UserID, Quota: map[string]any{}, Usage: map[string]any{}}
		for _, f := range allot.QuotaFields {
			limit, ok := u.Limits[f]
			if !ok {
				limit = allot.Unlimited
			}
			info.Quota[f] = limit
			used := u.Used[f]
			if f == "video_time_2d_model" || f == "video_time_flexus_2d_model" {
				info.Usage[f] = used // a decimal number of minutes
			} else {
				info.Usage[f] = int64(used / allot.QuantityScale)
			}
		}
		out.Assets = append(out.Assets, info)
	}
	s.writeJSON(w, http.StatusOK, out)
}

type subAccountControl struct {
	SeparatelyControlled *bool   `json:"separately_controlled,omitempty"`
	SubAccountType       *string `json:"sub_account_type,omitempty"`
}

type serviceConfigsResponse struct {
	SubAccountControlConfig subAccountControl `json:"sub_account_control_config"`
	IsAIMarkOn              bool              `json:"is_ai_mark_on"`
	TenantID                string            `json:"tenant_id,omitempty"`
}

func toServiceConfigs(c allot.ServiceConfigs) serviceConfigsResponse {
	out := serviceConfigsResponse{IsAIMarkOn: c.AIMarkOn}
	out.SubAccountControlConfig.SeparatelyControlled = &c.SeparatelyControlled
	if c.SubAccountType != "" {
		out.SubAccountControlConfig.SubAccountType = &c.SubAccountType
	}
	return out
}

func (s *Server) handleShowServiceConfigs(w http.ResponseWriter, r *http.Request, projectID string) {
	c, err := s.cfg.Tenants.ServiceConfigs(r.Context(), projectID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, toServiceConfigs(c))
}

func (s *Server) handleUpdateServiceConfigs(w http.ResponseWriter, r *http.Request, projectID string) {
	var req struct {
		SubAccountControlConfig *subAccountControl `json:"sub_account_control_config"`
		IsAIMarkOn              *bool              `json:"is_ai_mark_on"`
	}
	if err := tenantBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := allot.ServiceConfigsPatch{AIMarkOn: req.IsAIMarkOn}
	if c := req.SubAccountControlConfig; c != nil {
		p.SeparatelyControlled, p.SubAccountType = c.SeparatelyControlled, c.SubAccountType
	}
	c, err := s.cfg.Tenants.UpdateServiceConfigs(r.Context(), projectID, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toServiceConfigs(c)
	out.TenantID = projectID
	s.writeJSON(w, http.StatusOK, out)
}

type collectionInfo struct {
	CollectionType *string  `json:"collection_type"`
	CollectionIDs  []string `json:"collection_ids"`
}

func (s *Server) changeUserConfiguration(w http.ResponseWriter, r *http.Request, projectID string, remove bool) {
	var req struct {
		MyCollections []collectionInfo `json:"my_collections"`
	}
	if err := tenantBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	change := allot.Collections{}
	for _, c := range req.MyCollections {
		if c.CollectionType == nil {
			s.writeError(w, r, allot.Invalid("my_collections.collection_type", "is required"))
			return
		}
		change[*c.CollectionType] = append(change[*c.CollectionType], c.CollectionIDs...)
	}
	if _, err := s.cfg.Tenants.ChangeUserConfiguration(r.Context(), projectID, change, remove); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEmpty(w)
}

func (s *Server) handleSetUserConfiguration(w http.ResponseWriter, r *http.Request, projectID string) {
	s.changeUserConfiguration(w, r, projectID, false)
}

func (s *Server) handleDeleteUserConfiguration(w http.ResponseWriter, r *http.Request, projectID string) {
	s.changeUserConfiguration(w, r, projectID, true)
}

func (s *Server) handleShowUserConfiguration(w http.ResponseWriter, r *http.Request, projectID string) {
	q, err := parseQuery(r.URL.RawQuery)
	var page allot.Page
	if err == nil {
		page, err = q.page()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.cfg.Tenants.UserConfiguration(r.Context(), projectID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		MyCollections []collectionInfo `json:"my_collections"`
	}{MyCollections: []collectionInfo{}}
	for _, typ := range allot.CollectionTypes {
		ids, ok := c[typ]
		if !ok {
			continue
		}
		from, to := page.Window(len(ids))
		out.MyCollections = append(out.MyCollections, collectionInfo{CollectionType: &typ, CollectionIDs: slices.Clip(ids[from:to])})
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleSignAgreement(w http.ResponseWriter, r *http.Request, projectID string) {
	a, err := s.cfg.Tenants.SignAgreement(r.Context(), projectID, allot.AgreementService, true, s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, struct {
		CurrentVersion string `json:"current_version"`
		NeedToSign     bool   `json:"need_to_sign"`
		SignedVersion  string `json:"signed_version"`
		SignedTime     string `json:"signed_time"`
	}{allot.AgreementVersion, false, a.SignedVersion, a.SignedAt.UTC().Format(rfc3339Seconds)})
}

func (s *Server) handleSignSpecialAgreement(w http.ResponseWriter, r *http.Request, projectID string) {
	var req struct {
		AgreementType *string `json:"agreement_type"`
		ToSign        *bool   `json:"to_sign"`
	}
	if err := tenantBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.AgreementType == nil {
		s.writeError(w, r, allot.Invalid("agreement_type", "is required"))
		return
	}
	if req.ToSign == nil {
		s.writeError(w, r, allot.Invalid("to_sign", "is required"))
		return
	}
	a, err := s.cfg.Tenants.SignAgreement(r.Context(), projectID, *req.AgreementType, *req.ToSign, s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		AgreementType  string `json:"agreement_type"`
		CurrentVersion string `json:"current_version"`
		SignedVersion  string `json:"signed_version,omitempty"`
		SignedTime     string `json:"signed_time,omitempty"`
	}{AgreementType: a.Type, CurrentVersion: allot.AgreementVersion, SignedVersion: a.SignedVersion}
	if !a.SignedAt.IsZero() {
		out.SignedTime = a.SignedAt.UTC().Format(rfc3339Seconds)
	}
	s.writeJSON(w, http.StatusOK, out)
}

// DecodeDurationCfg decodes an operator's duration configuration: the keys
// of ShowTenantDurationCfg's answer (basic_min, ...), each over base.
func DecodeDurationCfg(body []byte, base allot.DurationCfg) (allot.DurationCfg, error) {
	err := decodeJSON(body, &base)
	return base, err
}
