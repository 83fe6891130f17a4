package console

import (
	"net/http"
	"time"

	"github.com/allot-dev/allot"
)

// The credentials page lists access keys, tokens and admin keys (never a
// secret), issues new ones (the secret is shown once, in the answer to the
// form, and never again) and revokes them. Like the management API, only
// an admin key may.

func mayManageCredentials(s *session) error {
	if s.actor.Role != allot.RoleAdmin {
		return allot.Errorf(allot.EFORBIDDEN, "managing credentials needs an admin key")
	}
	return nil
}

type credentialsData struct {
	Project   string
	Keys      []allot.CredentialInfo
	Tokens    []allot.TokenInfo
	AdminKeys []allot.AdminKeyInfo
	// Secret is a new credential's secret, in this answer only.
	Secret, SecretLabel string
	Issue               struct{ AccessKey, Token, AdminKey bool }
}

func (c *Console) credentials(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderCredentials(w, r, s, http.StatusOK, r.URL.Query().Get("project_id"), "", "", "")
}

func (c *Console) renderCredentials(w http.ResponseWriter, r *http.Request, s *session, status int, project, label, secret, msg string) {
	if err := mayManageCredentials(s); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	ctx := r.Context()
	d := credentialsData{Project: project, Secret: secret, SecretLabel: label}
	var err error
	if project != "" {
		err = allot.ValidateID("project_id", project)
	}
	if err == nil {
		d.Keys, err = c.h.cfg.Store.ListCredentials(ctx, project)
	}
	if err == nil {
		d.Tokens, err = c.h.cfg.Store.ListTokens(ctx, project)
	}
	if err == nil {
		d.AdminKeys, err = c.h.cfg.Store.ListAdminKeys(ctx)
	}
	if err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	d.Issue.AccessKey, d.Issue.Token, d.Issue.AdminKey = c.h.cfg.Issue.AccessKey != nil, c.h.cfg.Issue.Token != nil, c.h.cfg.Issue.AdminKey != nil
	c.h.render(w, r, status, "credentials", page{Title: "Credentials", Prefix: "/console/", Session: s, Error: msg, Flash: flashOf(r), Data: d})
}

func flashOf(r *http.Request) string {
	if r.URL.Query().Get("revoked") == "1" {
		return "Revoked."
	}
	return ""
}

// createCredential issues an access key, a token or an admin key and shows
// its secret in this answer only.
func (c *Console) createCredential(w http.ResponseWriter, r *http.Request, s *session) {
	if err := mayManageCredentials(s); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	ctx := r.Context()
	project := r.PostFormValue("project_id")
	var (
		label, secret string
		err           error
	)
	switch kind := r.PathValue("kind"); {
	case kind == "access-key" && c.h.cfg.Issue.AccessKey != nil:
		var expires time.Time
		if err = allot.ValidateID("project_id", project); err == nil {
			expires, err = optionalDuration(c.h.cfg.Now(), "expires_in", r.PostFormValue("expires_in"))
		}
		var ak string
		if err == nil {
			ak, secret, err = c.h.cfg.Issue.AccessKey(ctx, project, expires)
		}
		label = "Secret key of access key " + ak
	case kind == "token" && c.h.cfg.Issue.Token != nil:
		ttl := time.Hour
		if v := r.PostFormValue("ttl"); v != "" {
			if ttl, err = time.ParseDuration(v); err != nil || ttl <= 0 {
				err = allot.Invalid("ttl", "must be a positive duration such as 1h or 30m")
			}
		}
		if err == nil {
			err = allot.ValidateID("project_id", project)
		}
		var expires time.Time
		if err == nil {
			secret, expires, err = c.h.cfg.Issue.Token(ctx, project, ttl)
		}
		label = "Token of project " + project + ", valid until " + expires.UTC().Format(time.RFC3339)
	case kind == "admin-key" && c.h.cfg.Issue.AdminKey != nil:
		name, sp := r.PostFormValue("name"), r.PostFormValue("sp_project_id")
		var expires time.Time
		if expires, err = optionalDuration(c.h.cfg.Now(), "expires_in", r.PostFormValue("expires_in")); err == nil {
			secret, err = c.h.cfg.Issue.AdminKey(ctx, name, sp, expires)
		}
		label = "Admin key " + name
		project = ""
	default:
		err = allot.Errorf(allot.ENOTFOUND, "there is no credential kind %q to issue", kind)
	}
	if err != nil {
		c.renderCredentials(w, r, s, statusOf(err), project, "", "", allot.ErrorMessageOf(err))
		return
	}
	c.renderCredentials(w, r, s, http.StatusCreated, project, label, secret, "")
}

func optionalDuration(now time.Time, param, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return time.Time{}, allot.Invalid(param, "must be a positive duration such as 720h")
	}
	return now.UTC().Truncate(time.Second).Add(d), nil
}

func (c *Console) revokeCredential(w http.ResponseWriter, r *http.Request, s *session) {
	if err := mayManageCredentials(s); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	ctx := r.Context()
	id := r.PostFormValue("id")
	var err error
	switch r.PathValue("kind") {
	case "access-key":
		err = c.h.cfg.Store.RevokeCredential(ctx, id)
	case "token":
		err = c.h.cfg.Store.RevokeToken(ctx, id)
	case "admin-key":
		if err = allot.ValidateID("name", id); err == nil {
			err = c.h.cfg.Store.RevokeAdminKey(ctx, id)
		}
	default:
		err = allot.Errorf(allot.ENOTFOUND, "there is no credential kind %q", r.PathValue("kind"))
	}
	if err != nil {
		c.renderCredentials(w, r, s, statusOf(err), "", "", "", allot.ErrorMessageOf(err))
		return
	}
	http.Redirect(w, r, "/console/credentials?revoked=1", http.StatusSeeOther)
}

func statusOf(err error) int {
	switch allot.ErrorCodeOf(err) {
	case allot.EINVALID:
		return http.StatusBadRequest
	case allot.EFORBIDDEN:
		return http.StatusForbidden
	case allot.ENOTFOUND:
		return http.StatusNotFound
	case allot.ECONFLICT:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
