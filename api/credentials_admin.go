package api

import (
	"net/http"
	"time"

	"github.com/allot-dev/allot"
)

// The management API of credentials: list and revoke access keys, tokens
// and admin keys, and issue access keys. Only an admin key may: an SP key
// acts for one service provider's business, and credentials open every
// door of the projects they belong to.

func (s *Server) credentialRoutes() {
	s.mux.Handle("GET /admin/v1/credentials", s.adminOnly(s.handleListCredentials))
	s.mux.Handle("POST /admin/v1/credentials", s.adminOnly(s.handleCreateCredential))
	s.mux.Handle("DELETE /admin/v1/credentials/{access_key}", s.adminOnly(s.handleRevokeCredential))
	s.mux.Handle("GET /admin/v1/tokens", s.adminOnly(s.handleListTokens))
	s.mux.Handle("DELETE /admin/v1/tokens/{id}", s.adminOnly(s.handleRevokeToken))
	s.mux.Handle("GET /admin/v1/admin-keys", s.adminOnly(s.handleListAdminKeys))
	s.mux.Handle("DELETE /admin/v1/admin-keys/{name}", s.adminOnly(s.handleRevokeAdminKey))
}

func mayManageCredentials(actor allot.Actor) error {
	if actor.Role != allot.RoleAdmin {
		return allot.Errorf(allot.EFORBIDDEN, "managing credentials needs an admin key")
	}
	return nil
}

// projectFilter reads the optional project_id of a list.
func projectFilter(r *http.Request) (string, error) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	return q.id("project_id")
}

func (s *Server) handleListCredentials(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	err := mayManageCredentials(actor)
	var project string
	if err == nil {
		project, err = projectFilter(r)
	}
	var list []allot.CredentialInfo
	if err == nil {
		list, err = s.cfg.Store.ListCredentials(r.Context(), project)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []allot.CredentialInfo{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Credentials []allot.CredentialInfo `json:"credentials"`
	}{list})
}

// handleCreateCredential issues an access key pair; the secret key is in
// this answer only.
func (s *Server) handleCreateCredential(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if err := mayManageCredentials(actor); err != nil {
		s.writeError(w, r, err)
		return
	}
	type credentialBody struct {
		ProjectID string `json:"project_id"`
		ExpiresAt string `json:"expires_at"`
	}
	body, ok := decoded(s, w, r, func(b []byte) (v credentialBody, err error) { return v, decodeJSON(b, &v) })
	if !ok {
		return
	}
	err := allot.ValidateID("project_id", body.ProjectID)
	var expires time.Time
	if err == nil {
		expires, err = optionalTime("expires_at", body.ExpiresAt)
	}
	if err == nil && s.cfg.Keyring == nil {
		err = allot.Errorf(allot.EINTERNAL, "this server has no master key to seal secret keys with")
	}
	now := s.cfg.Now().UTC().Truncate(time.Second)
	var (
		c  allot.Credential
		sk string
	)
	if err == nil {
		c, sk, err = allot.IssueCredential(r.Context(), s.cfg.Store, s.cfg.Keyring, body.ProjectID, now, expires)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, struct {
		allot.CredentialInfo
		SecretKey string `json:"secret_key"`
	}{allot.CredentialInfo{AccessKey: c.AccessKey, ProjectID: c.ProjectID, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt}, sk})
}

func (s *Server) handleRevokeCredential(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	err := mayManageCredentials(actor)
	if err == nil {
		err = s.cfg.Store.RevokeCredential(r.Context(), r.PathValue("access_key"))
	}
	s.writeRevoked(w, r, err)
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	err := mayManageCredentials(actor)
	var project string
	if err == nil {
		project, err = projectFilter(r)
	}
	var list []allot.TokenInfo
	if err == nil {
		list, err = s.cfg.Store.ListTokens(r.Context(), project)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []allot.TokenInfo{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Tokens []allot.TokenInfo `json:"tokens"`
	}{list})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	err := mayManageCredentials(actor)
	if err == nil {
		err = s.cfg.Store.RevokeToken(r.Context(), r.PathValue("id"))
	}
	s.writeRevoked(w, r, err)
}

func (s *Server) handleListAdminKeys(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	err := mayManageCredentials(actor)
	var list []allot.AdminKeyInfo
	if err == nil {
		list, err = s.cfg.Store.ListAdminKeys(r.Context())
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []allot.AdminKeyInfo{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		AdminKeys []allot.AdminKeyInfo `json:"admin_keys"`
	}{list})
}

func (s *Server) handleRevokeAdminKey(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	err := mayManageCredentials(actor)
	if err == nil {
		err = allot.ValidateID("name", r.PathValue("name"))
	}
	if err == nil {
		err = s.cfg.Store.RevokeAdminKey(r.Context(), r.PathValue("name"))
	}
	s.writeRevoked(w, r, err)
}

// writeRevoked answers a revocation: 204 No Content, or the error.
func (s *Server) writeRevoked(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
