package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// field is one control of an action's form, named by the API's JSON key so
// that an error the API names lands next to it.
type field struct {
	Name, Label, Kind string // Kind: text, number, select, check
	Options           []string
	Help              string
	Value             string
	Error             string
}

// action is one operation of the management API, as a form: its fields, and
// how its body runs, decoded by the API's own decoder and applied by the
// service method the API calls.
type action struct {
	Op, Title string
	// OnResource: the form acts on one package (project_id and resource_id
	// come from the link, like the API's path).
	OnResource bool
	// Keyed: the operation takes an idempotency key (freeze, unfreeze and
	// binding an asset set a state and need none).
	Keyed  bool
	Fields []field
	Run    func(ctx context.Context, svc *allot.Service, actor allot.Actor, ref allot.ResourceRef, body []byte) (allot.OpResult, error)
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

var (
	reasonField = field{Name: "reason", Label: "Reason", Kind: "text", Help: "recorded in the ledger"}
	expireField = field{Name: "resource_expire_time", Label: "Expires at", Kind: "text", Help: "RFC 3339, e.g. 2027-01-01T00:00:00Z; empty: as the API decides"}
)

var actions = map[string]action{
	"package": {Op: "package", Title: "Purchase or grant a package", Keyed: true, Fields: []field{
		{Name: "project_id", Label: "Project", Kind: "text"},
		{Name: "resource_source", Label: "Source", Kind: "select", Options: []string{string(allot.SourcePurchased), string(allot.SourceAdminAllocated)}},
		{Name: "resource_type", Label: "Resource type", Kind: "text"},
		{Name: "business_type", Label: "Business type", Kind: "select", Options: strs(allot.BusinessTypes)},
		{Name: "charging_mode", Label: "Billing mode", Kind: "select", Options: strs(allot.ChargingModes)},
		{Name: "unit", Label: "Unit", Kind: "select", Options: strs(allot.Units)},
		{Name: "amount", Label: "Amount", Kind: "number"},
		expireField,
		{Name: "order_id", Label: "Order id", Kind: "text"},
	}, Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, _ allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodePackageRequest(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.AddPackage(ctx, actor, req)
	}},
	"allocate": {Op: "allocate", Title: "Allocate from a service provider", Keyed: true, Fields: []field{
		{Name: "sp_project_id", Label: "Service provider", Kind: "text"},
		{Name: "customer_project_id", Label: "Customer", Kind: "text"},
		{Name: "resource_spec_code", Label: "Resource spec", Kind: "text"},
		{Name: "amount", Label: "Amount", Kind: "number"},
		{Name: "sp_resource_id", Label: "From the SP's package", Kind: "text", Help: "empty: the SP's packages of the spec, in burn-down order"},
		expireField,
	}, Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, _ allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodeAllocateRequest(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.Allocate(ctx, actor, req)
	}},
	"consume": {Op: "consume", Title: "Consume", Keyed: true, Fields: []field{
		{Name: "project_id", Label: "Project", Kind: "text"},
		{Name: "resource_id", Label: "Package", Kind: "text", Help: "or a resource type below"},
		{Name: "resource_type", Label: "Resource type", Kind: "text"},
		{Name: "amount", Label: "Amount", Kind: "number"},
		{Name: "allow_split", Label: "Split across packages", Kind: "check"},
		{Name: "user_id", Label: "User id", Kind: "text"},
	}, Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, _ allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodeConsumeRequest(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.Consume(ctx, actor, req)
	}},
	"reclaim": {Op: "reclaim", Title: "Reclaim", OnResource: true, Keyed: true, Fields: []field{
		{Name: "amount", Label: "Amount", Kind: "number", Help: "empty: everything unused"}, reasonField,
	}, Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodeReclaimRequest(ref, body, false)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.Reclaim(ctx, actor, req)
	}},
	"cancel": {Op: "cancel", Title: "Cancel", OnResource: true, Keyed: true, Fields: []field{reasonField},
		Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
			req, err := api.DecodeReclaimRequest(ref, body, true)
			if err != nil {
				return allot.OpResult{}, err
			}
			return svc.Reclaim(ctx, actor, req)
		}},
	"refund": {Op: "refund", Title: "Refund", OnResource: true, Keyed: true, Fields: []field{
		{Name: "amount", Label: "Amount", Kind: "number"}, reasonField,
	}, Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodeRefundRequest(ref, body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.Refund(ctx, actor, req)
	}},
	"freeze":   statusAction("freeze", "Freeze", allot.StatusFrozen),
	"unfreeze": statusAction("unfreeze", "Unfreeze", allot.StatusNormal),
	"asset": {Op: "asset", Title: "Bind an asset", OnResource: true, Fields: []field{
		{Name: "asset_id", Label: "Asset id", Kind: "text"}, {Name: "asset_name", Label: "Asset name", Kind: "text"},
	}, Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		asset, err := api.DecodeBindAssetRequest(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.BindAsset(ctx, actor, ref, &asset)
	}},
}

func statusAction(op, title string, status allot.ResourceStatus) action {
	return action{Op: op, Title: title, OnResource: true, Fields: []field{reasonField},
		Run: func(ctx context.Context, svc *allot.Service, actor allot.Actor, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
			reason, err := api.DecodeStatusRequest(body)
			if err != nil {
				return allot.OpResult{}, err
			}
			return svc.SetStatus(ctx, actor, ref, status, reason)
		}}
}

// actionPage is what the action template shows: the form (step "review"),
// or the confirmation (step "commit") with what will change.
type actionPage struct {
	Action  action
	Fields  []field
	Ref     allot.ResourceRef
	Key     string // the idempotency key minted with the form
	Step    string
	Current *pkg // the package acted on, before the change
	Back    string
}

// actionForm renders an action's form, prefilled from the query, with an
// idempotency key minted now: every submission of this form, a double
// click or a retry, carries the same key and so counts once.
func (c *Console) actionForm(w http.ResponseWriter, r *http.Request, s *session) {
	def, ok := actions[r.PathValue("op")]
	if !ok {
		c.h.fail(w, r, s, "/console/", allot.Errorf(allot.ENOTFOUND, "there is no action %q", r.PathValue("op")))
		return
	}
	ap := actionPage{Action: def, Step: "review", Key: "console-" + randomID()[:32]}
	ap.Ref = allot.ResourceRef{ProjectID: r.URL.Query().Get("project_id"), ResourceID: r.URL.Query().Get("resource_id")}
	ap.Fields = fill(def.Fields, r.URL.Query())
	c.renderAction(w, r, s, http.StatusOK, ap, "")
}

func fill(fs []field, v url.Values) []field {
	out := make([]field, len(fs))
	for i, f := range fs {
		f.Value = v.Get(f.Name)
		out[i] = f
	}
	return out
}

func (c *Console) renderAction(w http.ResponseWriter, r *http.Request, s *session, status int, ap actionPage, msg string) {
	if ap.Ref.ProjectID != "" && allot.ValidateID("project_id", ap.Ref.ProjectID) == nil {
		ap.Back = "/console/tenants/" + pathEscape(ap.Ref.ProjectID)
	}
	if ap.Action.OnResource && ap.Ref.ProjectID != "" && ap.Ref.ResourceID != "" {
		// The package as it is now, for the confirmation; only if the
		// credential may read it.
		if c.h.cfg.Service.MayRead(r.Context(), s.actor, ap.Ref.ProjectID) == nil {
			f := allSources()
			f.ResourceID = ap.Ref.ResourceID
			if res, err := c.h.cfg.Reader.ListResources(r.Context(), ap.Ref.ProjectID, f, allot.Page{Limit: 1}); err == nil && len(res.Resources) == 1 {
				p := packages(res.Resources)[0]
				ap.Current = &p
			}
		}
	}
	c.h.render(w, r, status, "action", page{Title: ap.Action.Title, Prefix: "/console/", Session: s, Error: msg, Data: ap})
}

// action takes a submitted form: "review" shows the confirmation, "commit"
// runs the operation once and redirects (POST, redirect, GET); a refusal
// shows the form again with the API's message next to the field it names.
func (c *Console) action(w http.ResponseWriter, r *http.Request, s *session) {
	def, ok := actions[r.PathValue("op")]
	if !ok {
		c.h.fail(w, r, s, "/console/", allot.Errorf(allot.ENOTFOUND, "there is no action %q", r.PathValue("op")))
		return
	}
	ap := actionPage{Action: def, Fields: fill(def.Fields, r.PostForm), Key: r.PostFormValue("idempotency_key"), Step: "review",
		Ref: allot.ResourceRef{ProjectID: r.PostFormValue("project_id"), ResourceID: r.PostFormValue("resource_id")}}
	body, err := formBody(def, ap.Fields, ap.Key)
	if err == nil && r.PostFormValue("step") != "commit" {
		ap.Step = "commit"
		c.renderAction(w, r, s, http.StatusOK, ap, "")
		return
	}
	var res allot.OpResult
	if err == nil {
		res, err = def.Run(r.Context(), c.h.cfg.Service, s.actor, ap.Ref, body)
	}
	if err != nil {
		status, msg := http.StatusBadRequest, allot.ErrorMessageOf(err)
		switch allot.ErrorCodeOf(err) {
		case allot.EFORBIDDEN:
			status = http.StatusForbidden
		case allot.ENOTFOUND:
			status = http.StatusNotFound
		case allot.ECONFLICT:
			status = http.StatusConflict
		case allot.EINVALID:
		default:
			c.h.fail(w, r, s, "/console/", err)
			return
		}
		placeError(ap.Fields, msg)
		c.renderAction(w, r, s, status, ap, msg)
		return
	}
	project := res.Resource.ProjectID
	q := url.Values{"done": {def.Op}, "resource": {res.Resource.ResourceID}}
	if res.Replayed {
		q.Set("replayed", "1")
	}
	http.Redirect(w, r, "/console/tenants/"+pathEscape(project)+"?"+q.Encode(), http.StatusSeeOther)
}

// placeError puts msg next to the field whose name it starts with, as the
// API's messages do ("amount: must be positive"). It reports whether one
// matched.
func placeError(fs []field, msg string) bool {
	name, _, ok := strings.Cut(msg, ":")
	if !ok {
		return false
	}
	for i := range fs {
		if fs[i].Name == name {
			fs[i].Error = msg
			return true
		}
	}
	return false
}

// formBody builds the API's JSON body from a form: the same bytes a client
// of the management API would send, for the API's decoder.
func formBody(def action, fs []field, key string) ([]byte, error) {
	b := map[string]any{}
	for _, f := range fs {
		switch {
		case f.Kind == "check":
			if f.Value != "" {
				b[f.Name] = true
			}
		case f.Value == "":
		case f.Kind == "number":
			if !json.Valid([]byte(f.Value)) || strings.ContainsAny(f.Value, `"{}[]tfn`) {
				return nil, allot.Invalid(f.Name, "must be a number")
			}
			b[f.Name] = json.Number(f.Value)
		default:
			b[f.Name] = f.Value
		}
	}
	if def.Keyed {
		b["idempotency_key"] = key // the service checks it
	}
	return json.Marshal(b)
}
