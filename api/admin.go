package api

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

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
	s.mux.Handle("POST /admin/v1/reservations", s.adminOnly(s.handleReserve))
	s.mux.Handle("GET /admin/v1/reservations", s.adminOnly(s.handleListReservations))
	s.mux.Handle("POST /admin/v1/reservations/{reservation_id}/commit", s.adminOnly(s.handleCommit))
	s.mux.Handle("POST /admin/v1/reservations/{reservation_id}/release", s.adminOnly(s.handleRelease))
	s.mux.Handle("POST /admin/v1/consume:batch", s.adminOnly(s.handleConsumeBatch))
	s.mux.Handle("GET /admin/v1/ledger", s.adminOnly(s.handleLedger))
	s.mux.Handle("GET /admin/v1/usage", s.adminOnly(s.handleUsage))
	s.mux.Handle("GET /admin/v1/drift", s.adminOnly(s.handleDrift))
	s.credentialRoutes()
	s.catalogRoutes()
	s.webhookRoutes()
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	s.mux.HandleFunc("/", s.handleNotFound)
}

type adminHandler func(w http.ResponseWriter, r *http.Request, actor allot.Actor)

// adminOnly authenticates an admin key.
func (s *Server) adminOnly(h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(reason, msg string) {
			s.cfg.Observer.AuthFailure(reason)
			logAuthFailure(s.logger, r, reason, "") // the admin key is a secret: never logged
			info := infoFrom(r.Context())
			info.auth, info.authReason, info.authMessage = "failed", reason, msg
			w.Header().Set("WWW-Authenticate", `Bearer realm="allot-admin"`)
			s.writeError(w, r, unauthenticated(msg))
		}
		if len(r.Header.Values("Authorization")) > 1 {
			refuse("duplicate_header", "Authorization is given more than once; send it once")
			return
		}
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == "" || len(key) > 4096 {
			refuse("missing_admin_key", "send an admin key as 'Authorization: Bearer KEY'")
			return
		}
		hash := sha256.Sum256([]byte(key))
		k, err := s.cfg.Store.FindAdminKey(r.Context(), hash[:])
		if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
			refuse("unknown_admin_key", "the admin key is unknown")
			return
		} else if err != nil {
			s.writeError(w, r, err)
			return
		}
		if msg, expired := expiredAdminKey(k, s.cfg.Now()); expired {
			refuse("expired_admin_key", msg)
			return
		}
		infoFrom(r.Context()).projectID = k.SPProjectID
		infoFrom(r.Context()).auth = "admin_key"
		if err := s.limit.allow("admin:" + k.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, allot.Actor{ID: k.ID, Role: k.Role, SPProjectID: k.SPProjectID})
	})
}

// readBody reads the request body for one of the Decode functions.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, allot.Invalid("body", "could not be read")
	}
	return body, nil
}

// decoded reads the body and decodes it with decode, answering the error
// itself when either fails.
func decoded[T any](s *Server, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, error)) (T, bool) {
	body, err := readBody(r)
	var v T
	if err == nil {
		v, err = decode(body)
	}
	if err != nil {
		s.writeError(w, r, err)
		return v, false
	}
	return v, true
}

// EncodeResult returns the status and the JSON body with which the
// management plane answers a lifecycle operation: 201 when it created a
// package, 200 otherwise (a replay included). The CLI prints the same body.
func EncodeResult(out allot.OpResult) (status int, body []byte, err error) {
	status = http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	if body, ok := appendOpResult(make([]byte, 0, 640), &out); ok {
		return status, body, nil
	}
	body, err = json.Marshal(out)
	return status, body, err
}

func (s *Server) writeResult(w http.ResponseWriter, out allot.OpResult, err error, r *http.Request) {
	var status int
	var body []byte
	if err == nil {
		status, body, err = EncodeResult(out)
		infoFrom(r.Context()).entries = out.Entries
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, status, body)
}

func ref(r *http.Request) allot.ResourceRef {
	return allot.ResourceRef{ProjectID: r.PathValue("project_id"), ResourceID: r.PathValue("resource_id")}
}

func (s *Server) handleAddPackage(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if req, ok := decoded(s, w, r, DecodePackageRequest); ok {
		out, err := s.cfg.Service.AddPackage(r.Context(), actor, req)
		s.writeResult(w, out, err, r)
	}
}

func (s *Server) handleAllocate(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if req, ok := decoded(s, w, r, DecodeAllocateRequest); ok {
		out, err := s.cfg.Service.Allocate(r.Context(), actor, req)
		s.writeResult(w, out, err, r)
	}
}

func (s *Server) reclaim(w http.ResponseWriter, r *http.Request, actor allot.Actor, cancel bool) {
	decode := func(body []byte) (allot.ReclaimRequest, error) { return DecodeReclaimRequest(ref(r), body, cancel) }
	if req, ok := decoded(s, w, r, decode); ok {
		out, err := s.cfg.Service.Reclaim(r.Context(), actor, req)
		s.writeResult(w, out, err, r)
	}
}

func (s *Server) handleReclaim(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	s.reclaim(w, r, actor, false)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	s.reclaim(w, r, actor, true)
}

func (s *Server) handleStatus(status allot.ResourceStatus) adminHandler {
	return func(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
		if reason, ok := decoded(s, w, r, DecodeStatusRequest); ok {
			out, err := s.cfg.Service.SetStatus(r.Context(), actor, ref(r), status, reason)
			s.writeResult(w, out, err, r)
		}
	}
}

func (s *Server) handleBindAsset(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if asset, ok := decoded(s, w, r, DecodeBindAssetRequest); ok {
		out, err := s.cfg.Service.BindAsset(r.Context(), actor, ref(r), &asset)
		s.writeResult(w, out, err, r)
	}
}

func (s *Server) handleUnbindAsset(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	out, err := s.cfg.Service.BindAsset(r.Context(), actor, ref(r), nil)
	s.writeResult(w, out, err, r)
}

func (s *Server) handleConsume(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	req, ok := decoded(s, w, r, DecodeConsumeRequest)
	if !ok {
		return
	}
	out, err := s.cfg.Service.Consume(r.Context(), actor, req)
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
	decode := func(body []byte) (allot.RefundRequest, error) { return DecodeRefundRequest(ref(r), body) }
	if req, ok := decoded(s, w, r, decode); ok {
		out, err := s.cfg.Service.Refund(r.Context(), actor, req)
		s.writeResult(w, out, err, r)
	}
}

// ParseLedgerQuery reads the query of GET /admin/v1/ledger:
// project_id (required), resource_id, from, to, limit, offset.
func ParseLedgerQuery(rawQuery string) (allot.LedgerQuery, error) {
	var lq allot.LedgerQuery
	q, err := parseQuery(rawQuery)
	if err != nil {
		return lq, err
	}
	if lq.Page, err = q.page(); err != nil {
		return lq, err
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
	return lq, err
}

// EncodeLedgerPage is the body of a ledger answer: one page of entries and
// the number of all matches.
func EncodeLedgerPage(entries []allot.LedgerEntry, count int) ([]byte, error) {
	if entries == nil {
		entries = []allot.LedgerEntry{}
	}
	return json.Marshal(struct {
		Count   int                 `json:"count"`
		Entries []allot.LedgerEntry `json:"entries"`
	}{count, entries})
}

// EncodeDrift is the body of a drift answer.
func EncodeDrift(drift []allot.Drift) ([]byte, error) {
	if drift == nil {
		drift = []allot.Drift{}
	}
	return json.Marshal(struct {
		Drift []allot.Drift `json:"drift"`
	}{drift})
}

// writeEncoded writes a body made by one of the Encode functions.
func (s *Server) writeEncoded(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, http.StatusOK, body)
}

// handleLedger serves GET /admin/v1/ledger?project_id=&resource_id=&from=&to=&limit=&offset=.
// An SP key sees the ledger of its own project and of its customers.
func (s *Server) handleLedger(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	lq, format, err := ParseLedgerExport(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if format == "csv" {
		s.handleLedgerCSV(w, r, actor, lq)
		return
	}
	entries, count, err := s.cfg.Service.LedgerEntries(r.Context(), actor, lq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := EncodeLedgerPage(entries, count)
	s.writeEncoded(w, r, body, err)
}

// handleDrift serves GET /admin/v1/drift: what allot verify reports.
func (s *Server) handleDrift(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	drift, err := s.cfg.Service.Drift(r.Context(), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Observer.DriftFound(len(drift))
	body, err := EncodeDrift(drift)
	s.writeEncoded(w, r, body, err)
}
