package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/allot-dev/allot"
)

// The management plane: operators and service providers run their business
// through it (purchases, allocations, reclaims, freezes, metering). It has
// its own listener and its own credentials (admin keys, sent as
// "Authorization: Bearer KEY"), never a tenant's AK/SK. Bodies and answers
// are JSON; errors have the tenant API's shape with ALLOT.* codes.

// NewAdminServer builds the management server.
func NewAdminServer(cfg Config) *Server {
	s := newServer(cfg)
	s.admin = true
	s.adminRoutes()
	return s
}

func (s *Server) adminRoutes() {
	res := "/admin/v1/projects/{project_id}/resources/{resource_id}"
	s.mux.Handle("POST /admin/v1/packages", s.adminOnly(s.handleAddPackage))
	s.mux.Handle("POST /admin/v1/allocations", s.adminOnly(s.handleAllocate))
	s.mux.Handle("POST "+res+"/reclaim", s.adminOnly(s.handleReclaim))
	s.mux.Handle("POST "+res+"/cancel", s.adminOnly(s.handleCancel))
	s.mux.Handle("POST "+res+"/freeze", s.adminOnly(s.handleStatus(allot.StatusFrozen)))
	s.mux.Handle("POST "+res+"/unfreeze", s.adminOnly(s.handleStatus(allot.StatusNormal)))
	s.mux.Handle("PUT "+res+"/asset", s.adminOnly(s.handleBindAsset))
	s.mux.Handle("DELETE "+res+"/asset", s.adminOnly(s.handleUnbindAsset))
	s.mux.Handle("POST "+res+"/refund", s.adminOnly(s.handleRefund))
	s.mux.Handle("POST /admin/v1/consume", s.adminOnly(s.handleConsume))
	s.mux.Handle("GET /admin/v1/ledger", s.adminOnly(s.handleLedger))
	s.mux.Handle("GET /admin/v1/drift", s.adminOnly(s.handleDrift))
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	s.mux.HandleFunc("/", s.handleNotFound)
}

// trustedActorKey carries the actor of an in-process call. Only Invoke sets
// it; nothing a client sends can.
type trustedActorKey struct{}

// Invoke runs one management request in-process as actor, through the same
// routes, decoding and validation as over HTTP, and returns the status and
// JSON body. The CLI uses it: whoever can open the database is an admin.
func (s *Server) Invoke(ctx context.Context, actor allot.Actor, method, target string, body []byte) (int, []byte) {
	req := httptest.NewRequestWithContext(context.WithValue(ctx, trustedActorKey{}, actor), method, target, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

type adminHandler func(w http.ResponseWriter, r *http.Request, actor allot.Actor)

// adminOnly authenticates an admin key.
func (s *Server) adminOnly(h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if actor, ok := r.Context().Value(trustedActorKey{}).(allot.Actor); ok {
			h(w, r, actor) // an in-process call from Invoke
			return
		}
		refuse := func(reason, msg string) {
			s.cfg.Observer.AuthFailure(reason)
			w.Header().Set("WWW-Authenticate", `Bearer realm="allot-admin"`)
			s.writeError(w, r, unauthenticated(msg))
		}
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == "" || len(key) > 4096 {
			refuse("missing_admin_key", "send an admin key as 'Authorization: Bearer KEY'")
			return
		}
		hash := sha256.Sum256([]byte(key))
		k, err := s.cfg.AdminKeys.FindAdminKey(r.Context(), hash[:])
		if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
			refuse("unknown_admin_key", "the admin key is unknown")
			return
		} else if err != nil {
			s.writeError(w, r, err)
			return
		}
		infoFrom(r.Context()).projectID = k.SPProjectID
		if err := s.limit.allow("admin:" + k.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, allot.Actor{ID: k.ID, Role: k.Role, SPProjectID: k.SPProjectID})
	})
}

// decodeBody reads a JSON body into v, refusing unknown fields so a typo is
// not silently ignored. Quantities are read as number by the request
// types below and converted with quantity, which names the field.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errBodyTooLarge
		}
		return allot.Invalid("body", "could not be read")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return allot.Invalid("body", "is not a valid JSON request: %v", err)
	}
	if dec.More() {
		return allot.Invalid("body", "has more than one JSON value")
	}
	return nil
}

// number holds a quantity's JSON text as sent, a number or a string, so
// that quantity can convert it exactly and name the field in any error
// (encoding/json's own errors do not name it).
type number string

func (n *number) UnmarshalJSON(b []byte) error {
	*n = number(strings.Trim(string(b), `"`))
	return nil
}

// decode reads the body into v, answering the error itself when it cannot.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeBody(r, v); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// quantity converts a JSON number exactly, naming param in any error.
func quantity(param string, n number) (allot.Quantity, error) {
	if n == "" {
		return 0, allot.Invalid(param, "is required")
	}
	q, err := allot.ParseQuantity(string(n))
	if err != nil {
		return 0, allot.Invalid(param, "%v", err)
	}
	return q, nil
}

func optionalTime(param, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, allot.Invalid(param, "%q is not an RFC 3339 time", truncate(s))
	}
	return t.UTC().Truncate(time.Second), nil
}

func (s *Server) writeResult(w http.ResponseWriter, out allot.OpResult, err error, r *http.Request) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	s.writeJSON(w, status, out)
}

func ref(r *http.Request) allot.ResourceRef {
	return allot.ResourceRef{ProjectID: r.PathValue("project_id"), ResourceID: r.PathValue("resource_id")}
}

func (s *Server) handleAddPackage(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	var body struct {
		ProjectID       string                `json:"project_id"`
		ResourceID      string                `json:"resource_id"`
		Source          allot.ResourceSource  `json:"resource_source"`
		OrderID         string                `json:"order_id"`
		ResourceType    string                `json:"resource_type"`
		BusinessType    allot.BusinessType    `json:"business_type"`
		SubResourceType allot.SubResourceType `json:"sub_resource_type"`
		IsSubResource   bool                  `json:"is_sub_resource"`
		ChargingMode    allot.ChargingMode    `json:"charging_mode"`
		Unit            allot.Unit            `json:"unit"`
		Amount          number                `json:"amount"`
		ExpireTime      string                `json:"resource_expire_time"`
		IdempotencyKey  string                `json:"idempotency_key"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	req := allot.PackageRequest{ProjectID: body.ProjectID, ResourceID: body.ResourceID, Source: body.Source, OrderID: body.OrderID,
		ResourceType: body.ResourceType, BusinessType: body.BusinessType, SubResourceType: body.SubResourceType,
		IsSubResource: body.IsSubResource, ChargingMode: body.ChargingMode, Unit: body.Unit, IdempotencyKey: body.IdempotencyKey}
	var err error
	if req.Amount, err = quantity("amount", body.Amount); err == nil {
		req.ExpireTime, err = optionalTime("resource_expire_time", body.ExpireTime)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.cfg.Service.AddPackage(r.Context(), actor, req)
	s.writeResult(w, out, err, r)
}

func (s *Server) handleAllocate(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	var body struct {
		SPProjectID       string `json:"sp_project_id"`
		CustomerProjectID string `json:"customer_project_id"`
		ResourceSpecCode  string `json:"resource_spec_code"`
		Amount            number `json:"amount"`
		SPResourceID      string `json:"sp_resource_id"`
		ExpireTime        string `json:"resource_expire_time"`
		IdempotencyKey    string `json:"idempotency_key"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	req := allot.AllocateRequest{SPProjectID: body.SPProjectID, CustomerProjectID: body.CustomerProjectID,
		ResourceSpecCode: body.ResourceSpecCode, SPResourceID: body.SPResourceID, IdempotencyKey: body.IdempotencyKey}
	var err error
	if req.Amount, err = quantity("amount", body.Amount); err == nil {
		req.ExpireTime, err = optionalTime("resource_expire_time", body.ExpireTime)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.cfg.Service.Allocate(r.Context(), actor, req)
	s.writeResult(w, out, err, r)
}

type reclaimBody struct {
	Amount         number `json:"amount"`
	Reason         string `json:"reason"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (s *Server) reclaim(w http.ResponseWriter, r *http.Request, actor allot.Actor, cancel bool) {
	var body reclaimBody
	if !s.decode(w, r, &body) {
		return
	}
	req := allot.ReclaimRequest{ResourceRef: ref(r), Reason: body.Reason, IdempotencyKey: body.IdempotencyKey, Cancel: cancel}
	if body.Amount != "" {
		q, err := quantity("amount", body.Amount)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		req.Amount = &q
	}
	out, err := s.cfg.Service.Reclaim(r.Context(), actor, req)
	s.writeResult(w, out, err, r)
}

func (s *Server) handleReclaim(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	s.reclaim(w, r, actor, false)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	s.reclaim(w, r, actor, true)
}

func (s *Server) handleStatus(status allot.ResourceStatus) adminHandler {
	return func(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
		var body struct {
			Reason string `json:"reason"`
		}
		if !s.decode(w, r, &body) {
			return
		}
		out, err := s.cfg.Service.SetStatus(r.Context(), actor, ref(r), status, body.Reason)
		s.writeResult(w, out, err, r)
	}
}

func (s *Server) handleBindAsset(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	var body allot.BoundAsset
	if !s.decode(w, r, &body) {
		return
	}
	out, err := s.cfg.Service.BindAsset(r.Context(), actor, ref(r), &body)
	s.writeResult(w, out, err, r)
}

func (s *Server) handleUnbindAsset(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	out, err := s.cfg.Service.BindAsset(r.Context(), actor, ref(r), nil)
	s.writeResult(w, out, err, r)
}

func (s *Server) handleConsume(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	var body struct {
		ProjectID      string `json:"project_id"`
		ResourceID     string `json:"resource_id"`
		ResourceType   string `json:"resource_type"`
		Amount         number `json:"amount"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	amount, err := quantity("amount", body.Amount)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.cfg.Service.Consume(r.Context(), actor, allot.ConsumeRequest{ProjectID: body.ProjectID, ResourceID: body.ResourceID,
		ResourceType: body.ResourceType, Amount: amount, IdempotencyKey: body.IdempotencyKey})
	switch {
	case err != nil:
		s.cfg.Observer.ConsumeOutcome(string(allot.ErrorCodeOf(err)))
	case out.Replayed:
		s.cfg.Observer.ConsumeOutcome("replayed")
	default:
		s.cfg.Observer.ConsumeOutcome("accepted")
	}
	s.writeResult(w, out, err, r)
}

func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	var body reclaimBody
	if !s.decode(w, r, &body) {
		return
	}
	amount, err := quantity("amount", body.Amount)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.cfg.Service.Refund(r.Context(), actor, allot.RefundRequest{ResourceRef: ref(r), Amount: amount, Reason: body.Reason, IdempotencyKey: body.IdempotencyKey})
	s.writeResult(w, out, err, r)
}

// handleLedger serves GET /admin/v1/ledger?project_id=&resource_id=&from=&to=&limit=&offset=.
// An SP key sees the ledger of its own project and of its customers.
func (s *Server) handleLedger(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var lq allot.LedgerQuery
	if lq.Page, err = q.page(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if lq.ProjectID, err = q.id("project_id"); err == nil && lq.ProjectID == "" {
		err = allot.Invalid("project_id", "is required")
	}
	if err == nil {
		lq.ResourceID, err = q.id("resource_id")
	}
	if err == nil {
		lq.From, err = q.time("from")
	}
	if err == nil {
		lq.To, err = q.time("to")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, count, err := s.cfg.Service.LedgerEntries(r.Context(), actor, lq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if entries == nil {
		entries = []allot.LedgerEntry{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Count   int                 `json:"count"`
		Entries []allot.LedgerEntry `json:"entries"`
	}{count, entries})
}

// handleDrift serves GET /admin/v1/drift: what allot verify reports.
func (s *Server) handleDrift(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	drift, err := s.cfg.Service.Drift(r.Context(), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if drift == nil {
		drift = []allot.Drift{}
	}
	s.cfg.Observer.DriftFound(len(drift))
	s.writeJSON(w, http.StatusOK, struct {
		Drift []allot.Drift `json:"drift"`
	}{drift})
}
