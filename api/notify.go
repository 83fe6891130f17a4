package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// Notifications on both planes: the tenant's notice configurations
// (SetTenantNoticeConfiguration, ShowTenantNoticeConfiguration) and the
// operator's webhooks with their delivery log.

// noticeConfigBody is SetTenantNoticeConfigurationReq and
// ShowTenantNoticeConfigurationResponse on the wire.
type noticeConfigBody struct {
	Type       string  `json:"type"`
	SendMsg    *bool   `json:"send_msg,omitempty"`
	Properties *string `json:"properties,omitempty"`
}

// DecodeNoticeConfig decodes the body of
// POST /v1/{project_id}/tenants/notice-configurations.
func DecodeNoticeConfig(projectID string, body []byte) (allot.NoticeConfig, error) {
	var b noticeConfigBody
	if err := decodeJSON(body, &b); err != nil {
		return allot.NoticeConfig{}, err
	}
	if b.Type == "" {
		return allot.NoticeConfig{}, allot.Invalid("type", "is required")
	}
	if err := allot.ValidateNoticeType("type", b.Type); err != nil {
		return allot.NoticeConfig{}, err
	}
	c := allot.NoticeConfig{ProjectID: projectID, Type: allot.NoticeType(b.Type), Properties: b.Properties}
	if b.SendMsg != nil {
		c.SendMsg = *b.SendMsg
	}
	return c, nil
}

func (s *Server) handleSetNoticeConfig(w http.ResponseWriter, r *http.Request, projectID string) {
	body, err := readBody(r)
	var c allot.NoticeConfig
	if err == nil {
		c, err = DecodeNoticeConfig(projectID, body)
	}
	if err == nil {
		err = s.cfg.Service.SetNoticeConfig(r.Context(), c)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The SDK's response has no body: 200, nothing, and X-Request-Id.
	w.WriteHeader(http.StatusOK)
}

// handleShowNoticeConfig answers with the configuration of one type. type
// is required; limit and offset, which the SDK may send, are checked and
// otherwise have no effect: a project has one configuration per type.
func (s *Server) handleShowNoticeConfig(w http.ResponseWriter, r *http.Request, projectID string) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := q.page(); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, ok, err := q.get("type")
	if err == nil && (!ok || t == "") {
		err = allot.Invalid("type", "is required")
	}
	if err == nil {
		err = allot.ValidateNoticeType("type", t)
	}
	var c allot.NoticeConfig
	if err == nil {
		c, err = s.cfg.Service.NoticeConfig(r.Context(), projectID, allot.NoticeType(t))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, noticeConfigBody{Type: string(c.Type), SendMsg: &c.SendMsg, Properties: c.Properties})
}

// webhookAAD binds a webhook's sealed secret to its id.
func webhookAAD(id string) []byte { return []byte("allot-webhook:" + id) }

// SealWebhookSecret returns the sealer Service.CreateWebhook takes: the
// secret encrypted under the keyring, bound to the webhook's id.
func SealWebhookSecret(k *secret.Keyring) func(id string, s []byte) ([]byte, error) {
	return func(id string, s []byte) ([]byte, error) { return k.Seal(s, webhookAAD(id)) }
}

// OpenWebhookSecret opens what SealWebhookSecret sealed.
func OpenWebhookSecret(k *secret.Keyring, id string, sealed []byte) ([]byte, error) {
	return k.Open(sealed, webhookAAD(id))
}

// DecodeWebhookRequest decodes the body of POST /admin/v1/webhooks. A
// missing secret is generated (32 random bytes, hex): the answer shows it
// once.
func DecodeWebhookRequest(body []byte) (allot.CreateWebhookRequest, error) {
	var b struct {
		URL       string   `json:"url"`
		Secret    string   `json:"secret"`
		Events    []string `json:"events"`
		ProjectID string   `json:"project_id"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return allot.CreateWebhookRequest{}, err
	}
	req := allot.CreateWebhookRequest{URL: b.URL, Secret: b.Secret, Events: b.Events, ProjectID: b.ProjectID}
	if req.Secret == "" {
		var k [32]byte
		rand.Read(k[:])
		req.Secret = hex.EncodeToString(k[:])
	}
	return req, req.Validate()
}

// CreatedWebhook is the answer to a webhook's creation: the only time its
// secret is shown.
type CreatedWebhook struct {
	allot.Webhook
	Secret string `json:"secret"`
}

// EncodeWebhooks is the body of GET /admin/v1/webhooks (and the CLI's list).
func EncodeWebhooks(ws []allot.Webhook) ([]byte, error) {
	return json.Marshal(struct {
		Webhooks []allot.Webhook `json:"webhooks"`
	}{ws})
}

// EncodeDeliveries is the body of GET /admin/v1/webhooks/{id}/deliveries.
func EncodeDeliveries(ds []allot.Delivery) ([]byte, error) {
	return json.Marshal(struct {
		Deliveries []allot.Delivery `json:"deliveries"`
	}{ds})
}

func (s *Server) webhookRoutes() {
	s.mux.Handle("POST /admin/v1/webhooks", s.adminOnly(s.handleCreateWebhook))
	s.mux.Handle("GET /admin/v1/webhooks", s.adminOnly(s.handleListWebhooks))
	s.mux.Handle("DELETE /admin/v1/webhooks/{webhook_id}", s.adminOnly(s.handleDeleteWebhook))
	s.mux.Handle("GET /admin/v1/webhooks/{webhook_id}/deliveries", s.adminOnly(s.handleDeliveries))
	s.mux.Handle("POST /admin/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", s.adminOnly(s.handleRedeliver))
}

func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	req, ok := decoded(s, w, r, DecodeWebhookRequest)
	if !ok {
		return
	}
	wh, err := s.cfg.Service.CreateWebhook(r.Context(), actor, req, SealWebhookSecret(s.cfg.Keyring))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, CreatedWebhook{Webhook: wh, Secret: req.Secret})
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	ws, err := s.cfg.Service.ListWebhooks(r.Context(), actor)
	var body []byte
	if err == nil {
		body, err = EncodeWebhooks(ws)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, http.StatusOK, body)
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if err := s.cfg.Service.DeleteWebhook(r.Context(), actor, r.PathValue("webhook_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDeliveries(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	q, err := parseQuery(r.URL.RawQuery)
	limit := 100
	if err == nil {
		limit, err = q.integer("limit", 100, 1, 1000)
	}
	var ds []allot.Delivery
	if err == nil {
		ds, err = s.cfg.Service.Deliveries(r.Context(), actor, r.PathValue("webhook_id"), limit)
	}
	var body []byte
	if err == nil {
		body, err = EncodeDeliveries(ds)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, http.StatusOK, body)
}

func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	id := r.PathValue("delivery_id")
	if err := s.cfg.Service.Redeliver(r.Context(), actor, r.PathValue("webhook_id"), id, s.cfg.Now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, map[string]string{"delivery_id": id, "state": string(allot.DeliveryPending)})
}
