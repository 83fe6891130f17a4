package console_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// resource reads a package through the read model the tenant API serves.
func resource(t *testing.T, e *env, project, id string) *allot.Resource {
	t.Helper()
	f := &allot.ResourceFilter{ResourceID: id}
	page, err := e.app.Reader.ListResources(t.Context(), project, f, allot.Page{Limit: 1})
	if err != nil || len(page.Resources) != 1 {
		t.Fatalf("resource %s of %s: %v (%d found)", id, project, err, len(page.Resources))
	}
	return page.Resources[0]
}

func usageOf(t *testing.T, e *env, project, id string) string {
	t.Helper()
	return resource(t, e, project, id).Usage.String()
}

// submit fills the form of op with values, reviews it and confirms it, as
// a person would; it returns the confirmation's form values, for a resend.
func (b *browser) submit(op, query string, values url.Values) (url.Values, answer) {
	b.t.Helper()
	form := b.get("/console/actions/" + op + "?" + query)
	if form.status != http.StatusOK {
		b.t.Fatalf("form %s: %d\n%s", op, form.status, form.body)
	}
	v := url.Values{"csrf": {hidden(b.t, form.body, "csrf")}, "idempotency_key": {hidden(b.t, form.body, "idempotency_key")}, "step": {"review"}}
	for k, vs := range values {
		v[k] = vs
	}
	review := b.post("/console/actions/"+op, v)
	if review.status != http.StatusOK || !strings.Contains(review.body, "Confirm") {
		return v, review
	}
	v.Set("step", "commit")
	return v, b.post("/console/actions/"+op, v)
}

// TestAllocateOnce: an allocation through the console makes the customer's
// package, shrinks the SP's pool and writes the ledger; the same form sent
// again (a double click, a retry) counts once.
func TestAllocateOnce(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.spKey)
		sent, a := b.submit("allocate", "sp_project_id=sp-1&customer_project_id=cust-1",
			url.Values{"sp_project_id": {"sp-1"}, "customer_project_id": {"cust-1"}, "resource_spec_code": {spec}, "amount": {"40"}})
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/tenants/cust-1?done=allocate") {
			t.Fatalf("allocate: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
		}
		again := b.post("/console/actions/allocate", sent)
		if again.status != http.StatusSeeOther || !strings.Contains(again.header.Get("Location"), "replayed=1") {
			t.Fatalf("the same form again: %d to %q", again.status, again.header.Get("Location"))
		}
		report, err := e.app.Reader.AssignmentReport(t.Context(), "cust-1", allot.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if report.Count != 1 || report.Records[0].ResourceNum != 40*allot.QuantityScale {
			t.Fatalf("allocation records: %+v, want one of 40", report.Records)
		}
		if got := usageOf(t, e, "sp-1", "pool-1"); got != "40" {
			t.Errorf("the pool gave away %s, want 40", got)
		}
		page := b.get(a.header.Get("Location"))
		rec := report.Records[0].RecordID
		for _, want := range []string{`data-resource-id="` + rec + `"`, `data-op="sp_grant_in"`, "Allocate from a service provider: done"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the tenant page lacks %s", want)
			}
		}
		es, n, err := e.store.LedgerEntries(t.Context(), allot.LedgerQuery{ProjectID: "sp-1", Op: allot.OpSPGrantOut, Page: allot.Page{Limit: 10}})
		if err != nil || n != 1 || es[0].UsageDelta != 40*allot.QuantityScale {
			t.Errorf("the pool's grant-out entries: %+v (%d) %v, want one of 40", es, n, err)
		}
	})
}

// TestRefusedAction: a refused consume shows the API's message next to the
// field it names, and changes nothing.
func TestRefusedAction(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		_, a := b.submit("consume", "project_id=cust-1&resource_id=pkg-1", url.Values{"project_id": {"cust-1"}, "resource_id": {"pkg-1"}, "amount": {"1000"}})
		if a.status == http.StatusSeeOther || a.status == http.StatusOK {
			t.Fatalf("consume of more than is left: %d\n%s", a.status, a.body)
		}
		_, want := e.app.Service.Consume(t.Context(), allot.Actor{ID: "root", Role: allot.RoleAdmin},
			allot.ConsumeRequest{ProjectID: "cust-1", ResourceID: "pkg-1", Amount: 1000 * allot.QuantityScale, IdempotencyKey: "oracle"})
		if want == nil {
			t.Fatal("the service accepted the oracle's consume")
		}
		// The message names no field: it is shown above the form.
		if msg := allot.ErrorMessageOf(want); !strings.Contains(a.body, `id="page-error">`+escape(msg)+`</p>`) {
			t.Errorf("the form does not show %q:\n%s", msg, a.body)
		}
		// A message that names a field is shown next to it.
		_, zero := b.submit("consume", "", url.Values{"project_id": {"cust-1"}, "resource_id": {"pkg-1"}, "amount": {"0"}})
		_, want = e.app.Service.Consume(t.Context(), allot.Actor{ID: "root", Role: allot.RoleAdmin},
			allot.ConsumeRequest{ProjectID: "cust-1", ResourceID: "pkg-1", IdempotencyKey: "oracle-2"})
		msg := allot.ErrorMessageOf(want)
		if !strings.HasPrefix(msg, "amount:") || zero.status != http.StatusBadRequest ||
			!strings.Contains(zero.body, `<p class="field-error" id="e-amount">`+escape(msg)+`</p>`) {
			t.Errorf("amount 0: %d, want %q next to the amount field:\n%s", zero.status, msg, zero.body)
		}
		_, bad := b.submit("consume", "", url.Values{"project_id": {"cust-1"}, "resource_id": {"pkg-1"}, "amount": {"lots"}})
		if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="e-amount">amount: must be a number`) {
			t.Errorf("a non-number: %d\n%s", bad.status, bad.body)
		}
		if got := usageOf(t, e, "cust-1", "pkg-1"); got != "25" {
			t.Errorf("usage is %s after refused consumes, want 25", got)
		}
	})
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestSPScope: an SP key sees its own project and customers, and cannot
// open another SP's customer or act on it.
func TestSPScope(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.spKey)
		over := b.get("/console/overview")
		if !strings.Contains(over.body, `data-project-id="cust-1"`) || strings.Contains(over.body, "cust-2") || strings.Contains(over.body, `data-project-id="sp-2"`) {
			t.Errorf("the SP's overview lists other SPs' projects:\n%s", over.body)
		}
		for _, path := range []string{"/console/tenants/cust-2", "/console/sps/sp-2", "/console/tenants/cust-2/ledger.csv", "/console/tenants/nobody", "/console/credentials"} {
			if a := b.get(path); a.status != http.StatusForbidden {
				t.Errorf("GET %s: %d, want 403", path, a.status)
			}
		}
		if a := b.get("/console/tenants/cust-1"); a.status != http.StatusOK {
			t.Errorf("its own customer: %d", a.status)
		}
		if a := b.get("/console/sps/sp-1"); a.status != http.StatusOK || !strings.Contains(a.body, "Customers (1)") ||
			!strings.Contains(a.body, `<tr data-project-id="cust-1">`) || strings.Contains(a.body, `<tr data-project-id="sp-1">`) {
			t.Errorf("its own page: %d, want its one customer listed\n%s", a.status, a.body)
		}
		_, a := b.submit("reclaim", "project_id=cust-2&resource_id=pkg-2", url.Values{"project_id": {"cust-2"}, "resource_id": {"pkg-2"}, "reason": {"mine"}})
		if a.status != http.StatusForbidden {
			t.Errorf("reclaim from another SP's customer: %d, want 403", a.status)
		}
	})
}

// TestLedgerCSV: the export has the filtered ledger, every entry, in order.
func TestLedgerCSV(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		admin := allot.Actor{ID: "root", Role: allot.RoleAdmin}
		for i := range 3 {
			_, err := e.app.Service.Consume(t.Context(), admin, allot.ConsumeRequest{ProjectID: "cust-1", ResourceID: "pkg-1",
				Amount: allot.QuantityScale, IdempotencyKey: "k" + string(rune('0'+i))})
			if err != nil {
				t.Fatal(err)
			}
		}
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		a := b.get("/console/tenants/cust-1/ledger.csv?op=consume")
		if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("CSV: %d %s", a.status, a.header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want, n, err := e.store.LedgerEntries(t.Context(), allot.LedgerQuery{ProjectID: "cust-1", Op: allot.OpConsume, Page: allot.Page{Limit: 100}})
		if err != nil || n != 3 {
			t.Fatalf("oracle: %d entries, %v", n, err)
		}
		if len(rows) != 1+len(want) {
			t.Fatalf("%d rows, want a header and %d entries:\n%s", len(rows), len(want), a.body)
		}
		for i, e := range want {
			if rows[i+1][4] != "consume" || rows[i+1][5+1] != e.UsageDelta.String() || rows[i+1][9] != e.IdempotencyKey {
				t.Errorf("row %d is %v, want %+v", i+1, rows[i+1], e)
			}
		}
		if a := b.get("/console/tenants/cust-1/ledger.csv?op=nonsense"); a.status != http.StatusBadRequest || !strings.Contains(a.body, "op: must be") {
			t.Errorf("an unknown op: %d\n%s", a.status, a.body)
		}
	})
}

// TestPaging: a tenant's packages and ledger are paged on the server, and
// the pages together hold every package once.
func TestPaging(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		var batch allot.ImportBatch
		for i := range 44 {
			r := *resource(t, e, "cust-1", "pkg-1")
			r.ResourceID, r.Seq, r.Version, r.OrderID = fmt.Sprintf("bulk-%02d", i), 0, 0, ""
			batch.Resources = append(batch.Resources, r)
		}
		if err := e.store.Import(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		seen := map[string]int{}
		for page := 1; page <= 3; page++ {
			a := b.get(fmt.Sprintf("/console/tenants/cust-1?page=%d", page))
			rows := rowRe.FindAllStringSubmatch(a.body, -1)
			if want := []int{20, 20, 6}[page-1]; len(rows) != want {
				t.Errorf("page %d has %d package rows, want %d", page, len(rows), want)
			}
			for _, m := range rows {
				seen[m[1]]++
			}
			if want := fmt.Sprintf("page %d of 3 (46)", page); !strings.Contains(a.body, want) {
				t.Errorf("page %d lacks %q", page, want)
			}
		}
		for _, bad := range []string{"page=0", "page=x", "lpage=-1", "apage=1.5"} {
			param, _, _ := strings.Cut(bad, "=")
			if a := b.get("/console/tenants/cust-1?" + bad); a.status != http.StatusBadRequest || !strings.Contains(a.body, param+": must be a page number") {
				t.Errorf("%s: %d, want 400 naming %s", bad, a.status, param)
			}
		}
		if len(seen) != 46 {
			t.Errorf("the pages hold %d distinct packages, want 46", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("package %s is on %d pages", id, n)
			}
		}
	})
}

var rowRe = regexp.MustCompile(`<tr class="package[^"]*" data-resource-id="([^"]+)"`)

// TestTimelineSoonest: the expiry timeline shows the soonest packages first,
// also when they were added after a page of later ones.
func TestTimelineSoonest(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		base := *resource(t, e, "cust-2", "pkg-2") // expires in 60 days
		var batch allot.ImportBatch
		for i := range 25 {
			r := base
			r.ResourceID, r.Seq, r.Version, r.OrderID = fmt.Sprintf("later-%02d", i), 0, 0, ""
			batch.Resources = append(batch.Resources, r)
		}
		soon := base
		soon.ResourceID, soon.Seq, soon.Version, soon.OrderID = "soon", 0, 0, ""
		soon.ExpireTime = e.now.Add(2 * 24 * time.Hour)
		batch.Resources = append(batch.Resources, soon)
		if err := e.store.Import(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		page := b.get("/console/tenants/cust-2").body
		if !strings.Contains(page, "the next 90 days (27 packages)") {
			t.Errorf("the timeline does not count 27 packages")
		}
		_, list, _ := strings.Cut(page, `<ol class="timeline-list">`)
		first := regexp.MustCompile(`<li><strong>([^<]+)</strong>`).FindStringSubmatch(list)
		if first == nil || first[1] != "soon" {
			t.Errorf("the timeline starts with %v, want the package that expires in 2 days", first)
		}
	})
}
