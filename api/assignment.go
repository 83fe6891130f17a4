package api

import (
	"net/http"

	"github.com/allot-dev/allot"
)

// AllocateSpResourceInfo and AllocateSpResourceSummaryInfo are the wire
// shapes of the SDK's models: quantities are JSON numbers (Double), times
// are integer Unix seconds (Long).
type AllocateSpResourceInfo struct {
	AssignmentRecordID   string         `json:"assignment_record_id"`
	ResourceSpecCode     string         `json:"resource_spec_code"`
	ChargingMode         string         `json:"charging_mode"`
	ResourceNum          allot.Quantity `json:"resource_num"`
	ResourceUsedNum      allot.Quantity `json:"resource_used_num"`
	ResourceAllocateTime int64          `json:"resource_allocate_time"`
	ResourceExpireTime   int64          `json:"resource_expire_time"`
}

// AllocateSpResourceSummaryInfo is one entry of resources_overview.
type AllocateSpResourceSummaryInfo struct {
	ResourceSpecCode    string         `json:"resource_spec_code"`
	ResourceNum         allot.Quantity `json:"resource_num"`
	ResourceUsedNum     allot.Quantity `json:"resource_used_num"`
	ResourceRemindQuota allot.Quantity `json:"resource_remind_quota"`
}

// AssignRecordResponse is the answer of GET /v1/{project_id}/tenants/resource/assignrecourd.
type AssignRecordResponse struct {
	CustomerProjectID string                          `json:"customer_project_id"`
	CustomerName      string                          `json:"customer_name"`
	RegionID          string                          `json:"region_id"`
	ResourceCount     int                             `json:"resource_count"`
	Resources         []AllocateSpResourceInfo        `json:"resources"`
	ResourcesOverview []AllocateSpResourceSummaryInfo `json:"resources_overview"`
}

// handleAssignRecords serves GET /v1/{project_id}/tenants/resource/assignrecourd
// (the path's spelling is the published contract).
func (s *Server) handleAssignRecords(w http.ResponseWriter, r *http.Request, projectID string) {
	page, err := parseAssignQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.cfg.Reader.AssignmentReport(r.Context(), projectID, page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := AssignRecordResponse{
		CustomerProjectID: rep.Project.ID,
		CustomerName:      rep.Project.Name,
		RegionID:          rep.Project.RegionID,
		ResourceCount:     rep.Count,
		Resources:         make([]AllocateSpResourceInfo, len(rep.Records)),
		ResourcesOverview: make([]AllocateSpResourceSummaryInfo, len(rep.Overview)),
	}
	for i, a := range rep.Records {
		out.Resources[i] = AllocateSpResourceInfo{
			AssignmentRecordID:   a.RecordID,
			ResourceSpecCode:     a.ResourceSpecCode,
			ChargingMode:         string(a.ChargingMode),
			ResourceNum:          a.ResourceNum,
			ResourceUsedNum:      a.ResourceUsedNum,
			ResourceAllocateTime: a.AllocateTime.Unix(),
			ResourceExpireTime:   a.ExpireTime.Unix(),
		}
	}
	for i, o := range rep.Overview {
		out.ResourcesOverview[i] = AllocateSpResourceSummaryInfo{
			ResourceSpecCode:    o.ResourceSpecCode,
			ResourceNum:         o.ResourceNum,
			ResourceUsedNum:     o.ResourceUsedNum,
			ResourceRemindQuota: o.RemainingQuota,
		}
	}
	s.writeJSON(w, http.StatusOK, out)
}
