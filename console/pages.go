package console

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
)

// expiringDays is what "expiring soon" means on the overview.
const expiringDays = 30

type tenantRow struct {
	allot.Project
	Packages, Expiring int
	Low                []string // resource types of which less than a tenth is free
}

// overview lists the tenants the credential may see, a page at a time,
// each with its packages expiring soon and its resource types low on
// units, and (for an admin) the ledger's drift.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	if err := checkPages(r, "page", "dpage"); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	pg := pageOf(r, "page", pageSize)
	ps, count, err := c.h.cfg.Store.ListProjects(ctx, allot.ProjectQuery{SPProjectID: s.actor.ProjectScope(), Page: pg})
	if err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	now := c.h.cfg.Now()
	rows := make([]tenantRow, len(ps))
	for i, p := range ps {
		rows[i].Project = p
		all, err := c.h.cfg.Reader.ListResources(ctx, p.ID, allSources(), allot.Page{})
		if err == nil {
			rows[i].Packages = all.Count
			var soon allot.ResourcePage
			soon, err = c.h.cfg.Reader.ListResources(ctx, p.ID, expiringFilter(now, expiringDays), allot.Page{})
			rows[i].Expiring = soon.Count
		}
		var sums []allot.UsageSummary
		if err == nil {
			sums, err = c.h.cfg.Summaries.ResourceUsage(ctx, p.ID, allSources())
		}
		if err != nil {
			c.h.fail(w, r, s, "/console/", err)
			return
		}
		for _, u := range sums {
			if u.Amount > 0 && (u.Amount-u.Usage)*10 < u.Amount {
				rows[i].Low = append(rows[i].Low, u.ResourceType)
			}
		}
	}
	data := struct {
		Tenants    []tenantRow
		Pager      pager
		Drift      []allot.Drift
		DriftRead  bool
		Deliveries []FailedDelivery
		DPager     pager
		Webhooks   bool
		Days       int
	}{Tenants: rows, Pager: newPager(r, "page", pg, count), Days: expiringDays}
	if s.actor.Role == allot.RoleAdmin {
		data.Drift, err = c.h.cfg.Service.Drift(ctx, s.actor)
		if err != nil {
			c.h.fail(w, r, s, "/console/", err)
			return
		}
		data.DriftRead = true
	}
	if fd := c.h.cfg.FailedDeliveries; fd != nil {
		data.Webhooks = true
		dp := pageOf(r, "dpage", deliveriesPage)
		ds, count, err := fd(ctx, s.actor, dp)
		if err != nil {
			c.h.fail(w, r, s, "/console/", err)
			return
		}
		data.DPager = newPager(r, "dpage", dp, count)
		data.Deliveries = ds
	}
	var msg string
	if id := r.URL.Query().Get("redelivered"); id != "" && allot.ValidateID("delivery_id", id) == nil {
		msg = "Delivery " + id + " is pending again: it is sent within moments."
	}
	c.h.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Prefix: "/console/", Session: s, Flash: msg, Data: data})
}

// ledgerQuery reads the ledger filters of a tenant page: from and to
// (dates, or RFC 3339 times), resource and op.
func ledgerQuery(r *http.Request, projectID string, p allot.Page) (allot.LedgerQuery, error) {
	q := allot.LedgerQuery{ProjectID: projectID, ResourceID: r.URL.Query().Get("resource"), Op: allot.Op(r.URL.Query().Get("op")), Page: p}
	for _, b := range []struct {
		name string
		end  bool
		dst  **time.Time
	}{{"from", false, &q.From}, {"to", true, &q.To}} {
		v := r.URL.Query().Get(b.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, derr := time.Parse("2006-01-02", v)
			if derr != nil {
				return q, allot.Invalid(b.name, "must be a date (2006-01-02) or an RFC 3339 time")
			}
			if t = d; b.end {
				t = d.Add(24*time.Hour - time.Second) // the whole day
			}
		}
		*b.dst = &t
	}
	return q, nil
}

type tenantData struct {
	Project      allot.Project
	Packages     []pkg
	Pager        pager
	Timeline     []mark
	TimelineDays int
	Expiring     int
	Report       allot.AssignmentReport
	ReportPager  pager
	Reservations []allot.Reservation
	ResRead      bool
	Ledger       []allot.LedgerEntry
	LedgerPager  pager
	Filter       struct{ From, To, Resource, Op string }
	Ops          []allot.Op
	CSV          string
	Admin        bool
}

// tenant is a tenant's page: packages with usage bars, the expiry
// timeline, allocation records, open reservations and the ledger.
func (c *Console) tenant(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("project_id")
	if err := c.h.cfg.Service.MayRead(ctx, s.actor, id); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	d, err := c.tenantData(r, s, id)
	if err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	c.h.render(w, r, http.StatusOK, "tenant", page{Title: "Tenant " + id, Prefix: "/console/", Session: s, Flash: flash(r), Data: d})
}

func (c *Console) tenantData(r *http.Request, s *session, id string) (tenantData, error) {
	ctx := r.Context()
	var d tenantData
	if err := checkPages(r, "page", "apage", "lpage", "cpage"); err != nil {
		return d, err
	}
	var err error
	if d.Project, err = c.h.cfg.Store.FindProject(ctx, id); err != nil {
		return d, err
	}
	pg := pageOf(r, "page", pageSize)
	res, err := c.h.cfg.Reader.ListResources(ctx, id, allSources(), pg)
	if err != nil {
		return d, err
	}
	d.Packages, d.Pager = packages(res.Resources), newPager(r, "page", pg, res.Count)
	now := c.h.cfg.Now()
	d.TimelineDays = timelineDays
	if d.Timeline, d.Expiring, err = soonest(ctx, c.h.cfg.Reader, id, now); err != nil {
		return d, err
	}
	ap := pageOf(r, "apage", pageSize)
	if d.Report, err = c.h.cfg.Reader.AssignmentReport(ctx, id, ap); err != nil {
		return d, err
	}
	d.ReportPager = newPager(r, "apage", ap, d.Report.Count)
	d.Admin = s.actor.Role == allot.RoleAdmin
	if d.Admin {
		// Reservations are an admin's business (ListReservations).
		d.Reservations, _, err = c.h.cfg.Service.ListReservations(ctx, s.actor, allot.ReservationQuery{ProjectID: id, State: allot.ReservationOpen, Page: allot.Page{Limit: pageSize}})
		if err != nil {
			return d, err
		}
		d.ResRead = true
	}
	lp := pageOf(r, "lpage", ledgerSize)
	q, err := ledgerQuery(r, id, lp)
	if err != nil {
		return d, err
	}
	var n int
	if d.Ledger, n, err = c.h.cfg.Service.LedgerEntries(ctx, s.actor, q); err != nil {
		return d, err
	}
	d.LedgerPager = newPager(r, "lpage", lp, n)
	qs := r.URL.Query()
	d.Filter.From, d.Filter.To, d.Filter.Resource, d.Filter.Op = qs.Get("from"), qs.Get("to"), qs.Get("resource"), qs.Get("op")
	d.Ops = allot.Ops
	csvq := r.URL.Query()
	csvq.Del("page")
	csvq.Del("apage")
	csvq.Del("lpage")
	d.CSV = "/console/tenants/" + pathEscape(id) + "/ledger.csv"
	if e := csvq.Encode(); e != "" {
		d.CSV += "?" + e
	}
	return d, nil
}

// ledgerCSV streams a tenant's ledger, with the page's filters, as CSV: a
// page of entries at a time, so a long ledger is never held whole.
func (c *Console) ledgerCSV(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("project_id")
	q, err := ledgerQuery(r, id, allot.Page{Limit: 1000})
	if err == nil {
		// The first page is read before the header goes out, so a refusal
		// is still an error page.
		_, _, err = c.h.cfg.Service.LedgerEntries(ctx, s.actor, allot.LedgerQuery{ProjectID: id, ResourceID: q.ResourceID, Op: q.Op, From: q.From, To: q.To, Page: allot.Page{Limit: 1}})
	}
	if err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ledger-`+id+`.csv"`)
	out := csv.NewWriter(w)
	out.Write([]string{"project_id", "seq", "at", "resource_id", "op", "amount_delta", "usage_delta", "held_delta", "actor", "idempotency_key", "reason", "ref", "user_id", "app_user_id"})
	for {
		es, n, err := c.h.cfg.Service.LedgerEntries(ctx, s.actor, q)
		if err != nil {
			// The header is out: the cut-off file ends with a line that says so.
			out.Write([]string{"error", allot.ErrorMessageOf(err)})
			break
		}
		for _, e := range es {
			out.Write([]string{e.ProjectID, strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339), e.ResourceID, string(e.Op),
				e.AmountDelta.String(), e.UsageDelta.String(), e.HeldDelta.String(), e.Actor, e.IdempotencyKey, e.Reason, e.Ref, e.UserID, e.AppUserID})
		}
		out.Flush()
		q.Page.Offset += len(es)
		if len(es) == 0 || q.Page.Offset >= n {
			break
		}
	}
	out.Flush()
}

type spData struct {
	tenantData
	Customers []tenantRow
	CPager    pager
	// CustomerCount is the SP's customers: the projects of its scope but
	// its own.
	CustomerCount int
}

// sp is a service provider's page: its packages (its pools: what it gave
// away and what is left) and its customers, each with what it was allocated.
func (c *Console) sp(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("project_id")
	if err := c.h.cfg.Service.MayRead(ctx, s.actor, id); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	if s.actor.Role == allot.RoleSP && s.actor.SPProjectID != id {
		c.h.fail(w, r, s, "/console/", allot.Errorf(allot.EFORBIDDEN, "this credential acts for service provider %s, not %s", s.actor.SPProjectID, id))
		return
	}
	td, err := c.tenantData(r, s, id)
	if err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	d := spData{tenantData: td}
	cp := pageOf(r, "cpage", pageSize)
	ps, count, err := c.h.cfg.Store.ListProjects(ctx, allot.ProjectQuery{SPProjectID: id, Page: cp})
	if err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	for _, p := range ps {
		if p.ID == id {
			continue // the SP itself: its pools are above
		}
		rep, err := c.h.cfg.Reader.AssignmentReport(ctx, p.ID, allot.Page{})
		if err != nil {
			c.h.fail(w, r, s, "/console/", err)
			return
		}
		row := tenantRow{Project: p, Packages: rep.Count}
		for _, o := range rep.Overview {
			row.Low = append(row.Low, o.ResourceSpecCode+": "+o.ResourceNum.String()+" allocated, "+o.ResourceUsedNum.String()+" used, "+o.RemainingQuota.String()+" left")
		}
		d.Customers = append(d.Customers, row)
	}
	d.CPager, d.CustomerCount = newPager(r, "cpage", cp, count), max(count-1, 0)
	c.h.render(w, r, http.StatusOK, "sp", page{Title: "Service provider " + id, Prefix: "/console/", Session: s, Flash: flash(r), Data: d})
}

// flash is the message a finished action redirects with: only the
// operation's name and a resource id, both checked, so a link cannot make
// the console say anything else.
func flash(r *http.Request) string {
	q := r.URL.Query()
	def, ok := actions[q.Get("done")]
	if !ok {
		return ""
	}
	msg := def.Title + ": done"
	if id := q.Get("resource"); id != "" && allot.ValidateID("resource_id", id) == nil {
		msg += " (package " + id + ")"
	}
	if q.Get("replayed") == "1" {
		msg += "; it had been done already with this form, so nothing changed this time"
	}
	return msg
}

// Actions reports whether package rows link to the actions: on the
// console's pages, not the portal's.
func (tenantData) Actions() bool { return true }

// Actions: the portal changes nothing.
func (portalData) Actions() bool { return false }
