package api

import (
	"encoding/json"
	"net/http"

	"github.com/allot-dev/allot"
)

// EncodeReservationResult returns the status and the JSON body with which
// the management plane answers a reservation step: 201 when it made the
// reservation, 200 otherwise (a replay included). The CLI prints the same
// body.
func EncodeReservationResult(out allot.ReservationResult) (status int, body []byte, err error) {
	status = http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	if body, ok := appendReservationResult(make([]byte, 0, 1024), &out); ok {
		return status, body, nil
	}
	body, err = json.Marshal(out)
	return status, body, err
}

// ParseReservationQuery reads the query of GET /admin/v1/reservations:
// project_id (required), state, limit, offset.
func ParseReservationQuery(rawQuery string) (allot.ReservationQuery, error) {
	var rq allot.ReservationQuery
	q, err := parseQuery(rawQuery)
	if err != nil {
		return rq, err
	}
	if rq.Page, err = q.page(); err != nil {
		return rq, err
	}
	if rq.ProjectID, err = q.id("project_id"); err == nil && rq.ProjectID == "" {
		err = allot.Invalid("project_id", "is required")
	}
	if err != nil {
		return rq, err
	}
	state, _, err := q.optional("state")
	if err != nil {
		return rq, err
	}
	if state != "" {
		v, err := allot.ParseEnum("state", state, allot.ReservationStates)
		if err != nil {
			return rq, err
		}
		rq.State = v
	}
	return rq, nil
}

// EncodeReservationPage is the body of a reservation list: one page and
// the number of all matches.
func EncodeReservationPage(vs []allot.Reservation, count int) ([]byte, error) {
	if vs == nil {
		vs = []allot.Reservation{}
	}
	return json.Marshal(struct {
		Count        int                 `json:"count"`
		Reservations []allot.Reservation `json:"reservations"`
	}{count, vs})
}

func (s *Server) writeReservation(w http.ResponseWriter, r *http.Request, out allot.ReservationResult, err error) {
	var status int
	var body []byte
	if err == nil {
		status, body, err = EncodeReservationResult(out)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, status, body)
}

func (s *Server) handleReserve(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if req, ok := decoded(s, w, r, DecodeReserveRequest); ok {
		out, err := s.cfg.Service.Reserve(r.Context(), actor, req)
		s.writeReservation(w, r, out, err)
	}
}

func (s *Server) handleCommit(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	decode := func(body []byte) (allot.CommitRequest, error) {
		return DecodeCommitRequest(r.PathValue("reservation_id"), body)
	}
	if req, ok := decoded(s, w, r, decode); ok {
		out, err := s.cfg.Service.Commit(r.Context(), actor, req)
		s.writeReservation(w, r, out, err)
	}
}

func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	decode := func(body []byte) (allot.ReleaseRequest, error) {
		return DecodeReleaseRequest(r.PathValue("reservation_id"), body)
	}
	if req, ok := decoded(s, w, r, decode); ok {
		out, err := s.cfg.Service.Release(r.Context(), actor, req)
		s.writeReservation(w, r, out, err)
	}
}

// handleListReservations serves GET /admin/v1/reservations?project_id=&state=&limit=&offset=.
func (s *Server) handleListReservations(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	rq, err := ParseReservationQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	vs, count, err := s.cfg.Service.ListReservations(r.Context(), actor, rq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := EncodeReservationPage(vs, count)
	s.writeEncoded(w, r, body, err)
}
