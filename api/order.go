package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
)

// Orders: MetaStudio's CreateMetaStudioOrders on the tenant plane, and the
// three BSS v2 billing operations the Terraform provider's
// huaweicloud_metastudio_instance polls (order details, the subscription
// resources query, unsubscribe). BSS is a global service: its paths carry
// no project, so the caller's project is the one its credential belongs to
// (global below).

// orderRoutes adds the order routes to the tenant plane.
func (s *Server) orderRoutes() {
	s.mux.Handle("POST /v1/{project_id}/mss/public/orders", s.tenantAs(s.handleCreateOrder))
	s.mux.Handle("GET /v2/orders/customer-orders/details/{order_id}", s.global(s.handleOrderDetails))
	s.mux.Handle("POST /v2/orders/suscriptions/resources/query", s.global(s.handleQueryResources))
	s.mux.Handle("POST /v2/orders/subscriptions/resources/unsubscribe", s.global(s.handleUnsubscribe))
	s.mux.HandleFunc("GET /v3/auth/domains", s.handleIAMDomains)
}

// metaStudioService is the BSS service type code of MetaStudio.
const metaStudioService = "hws.service.type.metastudio"

// bssTime is BSS's time format: UTC, to the second.
const bssTime = "2006-01-02T15:04:05Z"

// CreateOrderRequest is CreateMetaStudioOrdersReq on the wire.
type CreateOrderRequest struct {
	CloudServices []CloudServiceOrder `json:"cloud_services"`
}

// CloudServiceOrder is PublicCloudServiceOrder on the wire.
type CloudServiceOrder struct {
	IsAutoPay        *int32 `json:"is_auto_pay"`
	PeriodType       int32  `json:"period_type"`
	PeriodNum        int32  `json:"period_num"`
	IsAutoRenew      *int32 `json:"is_auto_renew"`
	SubscriptionNum  int32  `json:"subscription_num"`
	ResourceSpecCode string `json:"resource_spec_code"`
}

// DecodeCreateOrderRequest decodes the body of CreateMetaStudioOrders.
func DecodeCreateOrderRequest(projectID string, body []byte) (allot.OrderRequest, error) {
	var b CreateOrderRequest
	if err := decodeJSON(body, &b); err != nil {
		return allot.OrderRequest{}, err
	}
	req := allot.OrderRequest{ProjectID: projectID}
	for _, l := range b.CloudServices {
		line := allot.OrderLine{SpecCode: l.ResourceSpecCode, PeriodType: l.PeriodType, PeriodNum: l.PeriodNum, SubscriptionNum: l.SubscriptionNum}
		if l.IsAutoPay != nil {
			line.IsAutoPay = *l.IsAutoPay
		}
		if l.IsAutoRenew != nil {
			line.IsAutoRenew = *l.IsAutoRenew
		}
		req.Lines = append(req.Lines, line)
	}
	return req, nil
}

// handleCreateOrder serves POST /v1/{project_id}/mss/public/orders.
func (s *Server) handleCreateOrder(w http.ResponseWriter, r *http.Request, c caller) {
	body, err := readBody(r)
	var req allot.OrderRequest
	if err == nil {
		req, err = DecodeCreateOrderRequest(c.projectID, body)
	}
	var o allot.Order
	if err == nil {
		o, _, err = s.cfg.Service.CreateOrder(r.Context(), allot.Actor{ID: c.credential}, req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, struct {
		OrderID string `json:"order_id"`
	}{o.OrderID})
}

// global wraps a handler of a global (BSS) API, whose path names no
// project: the caller's project is its credential's. A domain id the SDK
// sends (X-Domain-Id) must be that project's, which is how allot's IAM
// answers name a project's domain.
func (s *Server) global(h func(http.ResponseWriter, *http.Request, caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.auth.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		infoFrom(r.Context()).projectID = c.projectID
		if err := s.limit.allow(c.credential); err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, name := range []string{"X-Domain-Id", "X-Project-Id"} {
			if v := r.Header.Values(name); len(v) > 0 && (len(v) != 1 || v[0] != c.projectID) {
				s.cfg.Observer.AuthFailure("project_mismatch")
				s.writeError(w, r, allot.Errorf(allot.EFORBIDDEN, "urlTenantId is not equal tokenTenantId: %s does not match the project of the credential", name))
				return
			}
		}
		h(w, r, c)
	})
}

// handleIAMDomains answers IAM's GET /v3/auth/domains for a signed request,
// with the caller's project as its domain: the SDK's global clients (BSS)
// ask it for the domain id when none is configured.
func (s *Server) handleIAMDomains(w http.ResponseWriter, r *http.Request) {
	c, err := s.auth.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	infoFrom(r.Context()).projectID = c.projectID
	type domain struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	}
	s.writeJSON(w, http.StatusOK, struct {
		Domains []domain `json:"domains"`
	}{[]domain{{ID: c.projectID, Name: c.projectID, Enabled: true}}})
}

// OrderInfo is CustomerOrderV3 on the wire.
type OrderInfo struct {
	OrderID             string  `json:"order_id"`
	CustomerID          string  `json:"customer_id"`
	ServiceTypeCode     string  `json:"service_type_code"`
	ServiceTypeName     string  `json:"service_type_name"`
	SourceType          int32   `json:"source_type"`
	Status              int32   `json:"status"`
	OrderType           int32   `json:"order_type"`
	AmountAfterDiscount float64 `json:"amount_after_discount"`
	OfficialAmount      float64 `json:"official_amount"`
	MeasureID           int32   `json:"measure_id"`
	CreateTime          string  `json:"create_time"`
	PaymentTime         string  `json:"payment_time"`
	Currency            string  `json:"currency"`
}

// OrderLineItem is OrderLineItemEntityV2 on the wire.
type OrderLineItem struct {
	OrderLineItemID     string  `json:"order_line_item_id"`
	OrderID             string  `json:"order_id"`
	ServiceTypeCode     string  `json:"service_type_code"`
	ServiceTypeName     string  `json:"service_type_name"`
	ProductSpecDesc     string  `json:"product_spec_desc,omitempty"`
	PeriodType          int32   `json:"period_type,omitempty"`
	PeriodNum           int32   `json:"period_num,omitempty"`
	SubscriptionNum     int32   `json:"subscription_num,omitempty"`
	EffectiveTime       string  `json:"effective_time"`
	ExpireTime          string  `json:"expire_time,omitempty"`
	AmountAfterDiscount float64 `json:"amount_after_discount"`
	OfficialAmount      float64 `json:"official_amount"`
	Currency            string  `json:"currency"`
}

// OrderDetails is ShowCustomerOrderDetailsResponse on the wire.
type OrderDetails struct {
	TotalCount     int             `json:"total_count"`
	OrderInfo      OrderInfo       `json:"order_info"`
	OrderLineItems []OrderLineItem `json:"order_line_items"`
}

// handleOrderDetails serves GET /v2/orders/customer-orders/details/{order_id}.
// An order is complete (status 5) once it is answered: its packages were
// written in the transaction that made it.
func (s *Server) handleOrderDetails(w http.ResponseWriter, r *http.Request, c caller) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := q.integer("limit", 10, 1, 100)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	offset, err := q.integer("offset", 0, 0, allot.MaxOrderLines)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("order_id")
	if err := allot.ValidateID("order_id", id); err != nil {
		s.writeError(w, r, err)
		return
	}
	o, err := s.cfg.Store.FindOrder(r.Context(), c.projectID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	at := o.CreatedAt.UTC().Format(bssTime)
	out := OrderDetails{TotalCount: len(o.Lines), OrderLineItems: []OrderLineItem{},
		OrderInfo: OrderInfo{OrderID: o.OrderID, CustomerID: o.ProjectID, ServiceTypeCode: metaStudioService, ServiceTypeName: "MetaStudio",
			SourceType: 1, Status: 5, OrderType: int32(o.Type), MeasureID: 1, CreateTime: at, PaymentTime: at, Currency: "CNY"}}
	var expires []time.Time
	if rs, err := s.cfg.Store.OrderResources(r.Context(), allot.OrderResourceQuery{ProjectID: c.projectID, OrderID: o.OrderID}); err != nil {
		s.writeError(w, r, err)
		return
	} else if o.Type == allot.OrderNew {
		for _, l := range o.Lines {
			i := slices.IndexFunc(rs, func(r allot.Resource) bool { return len(l.ResourceIDs) > 0 && r.ResourceID == l.ResourceIDs[0] })
			var e time.Time
			if i >= 0 {
				e = rs[i].ExpireTime
			}
			expires = append(expires, e)
		}
	}
	for i := offset; i < len(o.Lines) && i < offset+limit; i++ {
		l := o.Lines[i]
		item := OrderLineItem{OrderLineItemID: o.OrderID + "-" + strconv.Itoa(i+1), OrderID: o.OrderID, ServiceTypeCode: metaStudioService,
			ServiceTypeName: "MetaStudio", ProductSpecDesc: l.SpecCode, PeriodType: l.PeriodType, PeriodNum: l.PeriodNum,
			SubscriptionNum: l.SubscriptionNum, EffectiveTime: at, Currency: "CNY"}
		if i < len(expires) && !expires[i].IsZero() {
			item.ExpireTime = expires[i].UTC().Format(bssTime)
		}
		out.OrderLineItems = append(out.OrderLineItems, item)
	}
	s.writeJSON(w, http.StatusOK, out)
}

// QueryResourcesRequest is QueryResourcesReq on the wire.
type QueryResourcesRequest struct {
	ResourceIDs      []string `json:"resource_ids"`
	OrderID          *string  `json:"order_id"`
	OnlyMainResource *int32   `json:"only_main_resource"`
	StatusList       []int32  `json:"status_list"`
	Offset           *int32   `json:"offset"`
	Limit            *int32   `json:"limit"`
	ExpireTimeBegin  *string  `json:"expire_time_begin"`
	ExpireTimeEnd    *string  `json:"expire_time_end"`
	ServiceTypeCode  *string  `json:"service_type_code"`
	CustomerID       *string  `json:"customer_id"`
}

// OrderInstance is OrderInstanceV2 on the wire.
type OrderInstance struct {
	ID               string         `json:"id"`
	ResourceID       string         `json:"resource_id"`
	ResourceName     string         `json:"resource_name"`
	RegionCode       string         `json:"region_code"`
	ServiceTypeCode  string         `json:"service_type_code"`
	ServiceTypeName  string         `json:"service_type_name"`
	ResourceTypeCode string         `json:"resource_type_code"`
	ResourceSpecCode string         `json:"resource_spec_code,omitempty"`
	ProjectID        string         `json:"project_id"`
	ParentResourceID string         `json:"parent_resource_id,omitempty"`
	IsMainResource   int32          `json:"is_main_resource"`
	Status           int32          `json:"status"`
	EffectiveTime    string         `json:"effective_time,omitempty"`
	ExpireTime       string         `json:"expire_time,omitempty"`
	ExpirePolicy     int32          `json:"expire_policy"`
	SpecSize         allot.Quantity `json:"spec_size"`
	UpdateTime       string         `json:"update_time,omitempty"`
}

// BSS resource states.
const (
	bssInUse   = 2
	bssClosed  = 3 // unsubscribed (cancelled)
	bssFrozen  = 4
	bssExpired = 5
)

// handleQueryResources serves POST /v2/orders/suscriptions/resources/query
// (so spelled by BSS): the caller's ordered packages, by order or by id.
func (s *Server) handleQueryResources(w http.ResponseWriter, r *http.Request, c caller) {
	body, err := readBody(r)
	var b QueryResourcesRequest
	if err == nil {
		err = decodeJSON(body, &b)
	}
	if err == nil {
		err = b.validate()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := allot.OrderResourceQuery{ProjectID: c.projectID, ResourceIDs: b.ResourceIDs}
	if b.OrderID != nil {
		q.OrderID = *b.OrderID
	}
	out := struct {
		Data       []OrderInstance `json:"data"`
		TotalCount int             `json:"total_count"`
	}{Data: []OrderInstance{}}
	if b.ServiceTypeCode != nil && *b.ServiceTypeCode != metaStudioService {
		s.writeJSON(w, http.StatusOK, out) // allot holds MetaStudio resources only
		return
	}
	onlyMain := b.OnlyMainResource != nil && *b.OnlyMainResource == 1
	offset, limit := 0, 10
	if b.Offset != nil {
		offset = int(*b.Offset)
	}
	if b.Limit != nil {
		limit = int(*b.Limit)
	}
	// Without a filter the store reads the page itself; a filter allot
	// applies here (status, expiry, main resources, ids with their
	// sub-resources) needs every ordered package.
	paged := len(q.ResourceIDs) == 0 && len(b.StatusList) == 0 && deref0(b.ExpireTimeBegin) == "" && deref0(b.ExpireTimeEnd) == "" && !onlyMain
	var rs []allot.Resource
	if paged {
		rs, out.TotalCount, err = s.cfg.Store.OrderResourcesPage(r.Context(), q, allot.Page{Limit: limit, Offset: offset})
	} else {
		rs, err = s.cfg.Store.OrderResources(r.Context(), q)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	orders := map[string]*allot.Order{}
	orderOf := func(id string) (*allot.Order, error) {
		o, ok := orders[id]
		if !ok {
			found, err := s.cfg.Store.FindOrder(r.Context(), c.projectID, id)
			if err == nil {
				o = &found
			} else if allot.ErrorCodeOf(err) != allot.ENOTFOUND { // not found: a package imported with an order id of its own
				return nil, err
			}
			orders[id] = o
		}
		return o, nil
	}
	if len(q.ResourceIDs) > 0 && !onlyMain {
		// As BSS does: a main resource named brings its sub-resources.
		ids := slices.Clone(q.ResourceIDs)
		for _, res := range rs {
			o, err := orderOf(res.OrderID)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if o == nil {
				continue
			}
			if l, main := o.Line(res.ResourceID); main {
				ids = append(ids, l.ResourceIDs[1:]...)
			}
		}
		if len(ids) > len(q.ResourceIDs) {
			q.ResourceIDs = ids
			if rs, err = s.cfg.Store.OrderResources(r.Context(), q); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	p, err := s.cfg.Store.FindProject(r.Context(), c.projectID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.cfg.Now()
	begin, _ := optionalTime("expire_time_begin", deref0(b.ExpireTimeBegin))
	end, _ := optionalTime("expire_time_end", deref0(b.ExpireTimeEnd))
	match := rs // without a filter: the page as read
	if paged {
		offset = 0
	} else {
		match = nil
		for _, res := range rs {
			if onlyMain && res.IsSubResource && !slices.Contains(b.ResourceIDs, res.ResourceID) {
				continue // a sub-resource named by its id is listed whatever only_main_resource says
			}
			if len(b.StatusList) > 0 && !slices.Contains(b.StatusList, bssStatus(res, now)) {
				continue
			}
			if !begin.IsZero() && (res.ExpireTime.IsZero() || res.ExpireTime.Before(begin)) || !end.IsZero() && (res.ExpireTime.IsZero() || res.ExpireTime.After(end)) {
				continue
			}
			match = append(match, res)
		}
		out.TotalCount = len(match)
	}
	for i := offset; i < len(match) && i < offset+limit; i++ {
		res := match[i]
		o, err := orderOf(res.OrderID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		inst := OrderInstance{ID: res.ResourceID, ResourceID: res.ResourceID, ResourceName: res.ResourceType, RegionCode: p.RegionID,
			ServiceTypeCode: metaStudioService, ServiceTypeName: "MetaStudio", ResourceTypeCode: res.ResourceType, ProjectID: c.projectID,
			IsMainResource: 1, Status: bssStatus(res, now), SpecSize: res.Amount}
		if res.IsSubResource {
			inst.IsMainResource = 0 // a sub-resource no order line names (an imported package)
		}
		if !res.ExpireTime.IsZero() {
			inst.ExpireTime = res.ExpireTime.UTC().Format(bssTime)
		}
		if o != nil {
			inst.EffectiveTime = o.CreatedAt.UTC().Format(bssTime)
			if l, main := o.Line(res.ResourceID); l != nil {
				inst.ResourceSpecCode = l.SpecCode
				if !main {
					inst.IsMainResource, inst.ParentResourceID = 0, l.ResourceIDs[0]
				}
			}
		}
		out.Data = append(out.Data, inst)
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (b *QueryResourcesRequest) validate() error {
	if len(b.ResourceIDs) > 50 {
		return allot.Invalid("resource_ids", "holds more than 50 ids")
	}
	for i, id := range b.ResourceIDs {
		if err := allot.ValidateID("resource_ids["+strconv.Itoa(i)+"]", id); err != nil {
			return err
		}
	}
	if b.OrderID != nil && *b.OrderID != "" {
		if err := allot.ValidateID("order_id", *b.OrderID); err != nil {
			return err
		}
	}
	if b.OnlyMainResource != nil && *b.OnlyMainResource != 0 && *b.OnlyMainResource != 1 {
		return allot.Invalid("only_main_resource", "must be 0 or 1")
	}
	for i, st := range b.StatusList {
		if st < bssInUse || st > bssExpired {
			return allot.Invalid("status_list["+strconv.Itoa(i)+"]", "must be 2 (in use), 3 (closed), 4 (frozen) or 5 (expired)")
		}
	}
	if b.Offset != nil && *b.Offset < 0 {
		return allot.Invalid("offset", "must be 0 or more")
	}
	if b.Limit != nil && (*b.Limit < 1 || *b.Limit > 500) {
		return allot.Invalid("limit", "must be between 1 and 500")
	}
	if _, err := optionalTime("expire_time_begin", deref0(b.ExpireTimeBegin)); err != nil {
		return err
	}
	if _, err := optionalTime("expire_time_end", deref0(b.ExpireTimeEnd)); err != nil {
		return err
	}
	if b.ServiceTypeCode != nil && *b.ServiceTypeCode == "" {
		return allot.Invalid("service_type_code", "must not be empty; leave it out to match every service")
	}
	return nil
}

// bssStatus is a package's BSS resource state at now.
func bssStatus(r allot.Resource, now time.Time) int32 {
	switch {
	case r.Removed:
		return bssClosed
	case r.Status == allot.StatusFrozen:
		return bssFrozen
	case !r.ExpireTime.IsZero() && !now.Before(r.ExpireTime):
		return bssExpired
	}
	return bssInUse
}

func deref0(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// UnsubscribeRequest is UnsubscribeResourcesReq on the wire.
type UnsubscribeRequest struct {
	ResourceIDs           []string `json:"resource_ids"`
	UnsubscribeType       int32    `json:"unsubscribe_type"`
	UnsubscribeReasonType *int32   `json:"unsubscribe_reason_type"`
	UnsubscribeReason     *string  `json:"unsubscribe_reason"`
}

// handleUnsubscribe serves POST /v2/orders/subscriptions/resources/unsubscribe.
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request, c caller) {
	body, err := readBody(r)
	var b UnsubscribeRequest
	if err == nil {
		err = decodeJSON(body, &b)
	}
	if err == nil && b.UnsubscribeReasonType != nil && (*b.UnsubscribeReasonType < 1 || *b.UnsubscribeReasonType > 5) {
		err = allot.Invalid("unsubscribe_reason_type", "must be between 1 and 5")
	}
	var o allot.Order
	if err == nil {
		o, err = s.cfg.Service.Unsubscribe(r.Context(), allot.Actor{ID: c.credential}, allot.UnsubscribeRequest{
			ProjectID: c.projectID, ResourceIDs: b.ResourceIDs, Type: b.UnsubscribeType, Reason: deref0(b.UnsubscribeReason)})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		OrderIDs []string `json:"order_ids"`
	}{OrderIDs: []string{}}
	if o.OrderID != "" {
		out.OrderIDs = append(out.OrderIDs, o.OrderID)
	}
	s.writeJSON(w, http.StatusOK, out)
}
