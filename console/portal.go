package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// Portal is the tenant portal, served under /portal/ on the tenant
// listener: a tenant signs in with one of its tokens and sees its packages,
// their expiry and its allocation records. The one thing it changes is the
// tenant's notice configurations.
type Portal struct {
	h   *handler
	p   *plane
	mux *http.ServeMux
}

// NewPortal returns the tenant portal.
func NewPortal(cfg Config) *Portal {
	h := newHandler(cfg)
	pt := &Portal{h: h, p: &plane{h: h, prefix: "/portal/", cookie: "allot_portal", kind: allot.SessionToken}, mux: http.NewServeMux()}
	m := pt.mux
	m.HandleFunc("GET /portal/static/console.css", serveStyle)
	m.HandleFunc("GET /portal/signin", func(w http.ResponseWriter, r *http.Request) { pt.p.signInPage(w, r, "", http.StatusOK) })
	m.HandleFunc("POST /portal/signin", pt.signIn)
	m.Handle("POST /portal/signout", pt.p.authed(pt.p.signOut))
	m.Handle("GET /portal/{$}", pt.p.authed(pt.home))
	m.Handle("POST /portal/notice", pt.p.authed(pt.setNotice))
	m.HandleFunc("/portal/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, "/portal/", allot.Errorf(allot.ENOTFOUND, "there is no page %s %s", r.Method, r.URL.Path))
	})
	return pt
}

func (pt *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header())
	pt.mux.ServeHTTP(w, r)
}

func (pt *Portal) signIn(w http.ResponseWriter, r *http.Request) {
	if !pt.p.checkSignIn(r) {
		pt.h.fail(w, r, nil, pt.p.prefix, allot.Errorf(allot.EFORBIDDEN, "the sign-in form is stale or came from another site: reload it"))
		return
	}
	token := r.PostFormValue("key")
	if token == "" || len(token) > 4096 {
		pt.p.signInPage(w, r, "key: enter a token of your project", http.StatusUnauthorized)
		return
	}
	t, err := pt.h.cfg.Store.FindToken(r.Context(), hashOf(token))
	if allot.ErrorCodeOf(err) == allot.ENOTFOUND || err == nil && !pt.h.cfg.Now().Before(t.ExpiresAt) {
		pt.p.signInPage(w, r, "key: this token is unknown, revoked or expired", http.StatusUnauthorized)
		return
	} else if err != nil {
		pt.h.fail(w, r, nil, pt.p.prefix, err)
		return
	}
	if err := pt.p.signIn(w, r, token); err != nil {
		pt.h.fail(w, r, nil, pt.p.prefix, err)
		return
	}
	pt.p.setCookie(w, r, pt.p.cookie+"_signin", "", time.Time{})
	http.Redirect(w, r, "/portal/", http.StatusSeeOther)
}

type portalData struct {
	Project      allot.Project
	Packages     []pkg
	Pager        pager
	Timeline     []mark
	TimelineDays int
	Expiring     int
	Report       allot.AssignmentReport
	ReportPager  pager
	Notices      []noticeForm
}

// noticeForm is the form of one notice configuration: its fields, named by
// the API's JSON keys, so that the API's message lands next to its field.
type noticeForm struct {
	Type       allot.NoticeType
	SendMsg    bool
	Properties string
	Error      string
	Field      string // the field Error names ("" none)
	Saved      bool
}

// home is the tenant's one page; the project is the token's, in every read.
func (pt *Portal) home(w http.ResponseWriter, r *http.Request, s *session) {
	pt.homeWith(w, r, s, http.StatusOK, nil)
}

// homeWith renders the home page; refused, when set, is the submitted
// notice form to show again with its error instead of the stored one.
func (pt *Portal) homeWith(w http.ResponseWriter, r *http.Request, s *session, status int, refused *noticeForm) {
	ctx := r.Context()
	var d portalData
	err := checkPages(r, "page", "apage")
	if err == nil {
		d.Project, err = pt.h.cfg.Store.FindProject(ctx, s.project)
	}
	if err != nil {
		pt.h.fail(w, r, s, "/portal/", err)
		return
	}
	pg := pageOf(r, "page", pageSize)
	res, err := pt.h.cfg.Reader.ListResources(ctx, s.project, allSources(), pg)
	if err == nil {
		d.Packages, d.Pager = packages(res.Resources), newPager(r, "page", pg, res.Count)
		now := pt.h.cfg.Now()
		d.TimelineDays = timelineDays
		d.Timeline, d.Expiring, err = soonest(ctx, pt.h.cfg.Reader, s.project, now)
	}
	ap := pageOf(r, "apage", pageSize)
	if err == nil {
		d.Report, err = pt.h.cfg.Reader.AssignmentReport(ctx, s.project, ap)
		d.ReportPager = newPager(r, "apage", ap, d.Report.Count)
	}
	for _, t := range []allot.NoticeType{allot.NoticeResourceLeft, allot.NoticeResourceExpire} {
		if err != nil {
			break
		}
		if refused != nil && refused.Type == t {
			d.Notices = append(d.Notices, *refused)
			continue
		}
		var c allot.NoticeConfig
		c, err = pt.h.cfg.Service.NoticeConfig(ctx, s.project, t)
		f := noticeForm{Type: t, SendMsg: c.SendMsg, Saved: r.URL.Query().Get("saved") == string(t)}
		if c.Properties != nil {
			f.Properties = *c.Properties
		}
		d.Notices = append(d.Notices, f)
	}
	if err != nil {
		pt.h.fail(w, r, s, "/portal/", err)
		return
	}
	pt.h.render(w, r, status, "portal", page{Title: "Your packages", Prefix: "/portal/", Session: s, Data: d})
}

// setNotice takes a notice configuration form: it becomes the tenant API's
// JSON body, decoded by the API's decoder and stored by the service call of
// SetTenantNoticeConfiguration, for the session's project only. An empty
// properties field sends none. A refusal shows the form again with the
// API's message next to the field it names.
func (pt *Portal) setNotice(w http.ResponseWriter, r *http.Request, s *session) {
	f := noticeForm{Type: allot.NoticeType(r.PostFormValue("type")), SendMsg: r.PostFormValue("send_msg") != "", Properties: r.PostFormValue("properties")}
	body := map[string]any{"type": string(f.Type), "send_msg": f.SendMsg}
	if f.Properties != "" {
		body["properties"] = f.Properties
	}
	raw, err := json.Marshal(body)
	var c allot.NoticeConfig
	if err == nil {
		c, err = api.DecodeNoticeConfig(s.project, raw)
	}
	if err == nil {
		err = pt.h.cfg.Service.SetNoticeConfig(r.Context(), c)
	}
	switch {
	case err == nil:
		http.Redirect(w, r, "/portal/?"+url.Values{"saved": {string(c.Type)}}.Encode()+"#notices", http.StatusSeeOther)
	case allot.ErrorCodeOf(err) == allot.EINVALID:
		f.Error = allot.ErrorMessageOf(err)
		f.Field, _, _ = strings.Cut(f.Error, ":")
		if !slices.Contains(allot.NoticeTypes, f.Type) {
			// Not one of the page's forms: say so on the page.
			pt.h.fail(w, r, s, "/portal/", err)
			return
		}
		// The page's links (its pagers) lead to the home page, not here.
		home := r.Clone(r.Context())
		home.URL = &url.URL{Path: "/portal/"}
		pt.homeWith(w, home, s, http.StatusBadRequest, &f)
	default:
		pt.h.fail(w, r, s, "/portal/", err)
	}
}
