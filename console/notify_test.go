package console_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// failingReceiver is a real loopback receiver that answers every request
// with 500 and counts them.
func failingReceiver(t *testing.T) (string, *atomic.Int64) {
	hits := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		http.Error(w, "receiver down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// call sends a management API request with key and decodes the answer.
func (e *env) call(key, method, path, body string, out any) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.admin+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// webhook adds a resource.left webhook with key through the management API.
func (e *env) webhook(key, receiver string) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := fmt.Sprintf(`{"url":%q,"secret":"0123456789abcdef-secret","events":["resource.left"]}`, receiver)
	if status := e.call(key, "POST", "/admin/v1/webhooks", body, &out); status != http.StatusCreated {
		e.t.Fatalf("create webhook: %d", status)
	}
	return out.ID
}

type loggedDelivery struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Attempts []struct {
		StatusCode int `json:"status_code"`
	} `json:"attempts"`
}

// deliveries reads a webhook's delivery log through the management API.
func (e *env) deliveries(key, hook string) []loggedDelivery {
	e.t.Helper()
	var log struct {
		Deliveries []loggedDelivery `json:"deliveries"`
	}
	if status := e.call(key, "GET", "/admin/v1/webhooks/"+hook+"/deliveries", "", &log); status != http.StatusOK {
		e.t.Fatalf("deliveries of %s: %d", hook, status)
	}
	return log.Deliveries
}

// failOneDelivery makes cust-1 cross its RESOURCE_LEFT threshold, so each
// subscribed webhook gets one resource.left delivery, and waits until every
// one of hooks has it failed (the receiver always answers 500).
func (e *env) failOneDelivery(hooks map[string]string) map[string]loggedDelivery {
	e.t.Helper()
	props := `{"threshold_percent": 50}`
	if err := e.app.Service.SetNoticeConfig(e.t.Context(), allot.NoticeConfig{ProjectID: "cust-1", Type: allot.NoticeResourceLeft, SendMsg: true, Properties: &props}); err != nil {
		e.t.Fatal(err)
	}
	// pkg-1 has 100 units, 25 used: 30 more leave 45, under half.
	if status := e.call(e.rootKey, "POST", "/admin/v1/consume", `{"project_id":"cust-1","resource_id":"pkg-1","amount":30,"idempotency_key":"cross"}`, nil); status != http.StatusOK {
		e.t.Fatalf("consume: %d", status)
	}
	out := map[string]loggedDelivery{}
	for deadline := time.Now().Add(15 * time.Second); len(out) < len(hooks); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("the deliveries did not fail in time: %v", out)
		}
		for hook, key := range hooks {
			if ds := e.deliveries(key, hook); len(ds) == 1 && ds[0].State == "failed" {
				out[hook] = ds[0]
			}
		}
	}
	return out
}

// TestFailedDeliveries: the overview lists the failed deliveries of the
// webhooks the key owns (an SP key its own only), without the URL's query,
// and redelivers one through a confirmed, CSRF-checked form.
func TestFailedDeliveries(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		receiver, hits := failingReceiver(t)
		adminHook := e.webhook(e.rootKey, receiver+"/hook?token=receiver-token-123")
		spHook := e.webhook(e.spKey, receiver+"/sp")
		failed := e.failOneDelivery(map[string]string{adminHook: e.rootKey, spHook: e.spKey})

		admin := e.browser(e.admin)
		admin.mustSignIn("/console/", e.rootKey)
		ov := admin.get("/console/overview")
		if ov.status != http.StatusOK {
			t.Fatalf("overview: %d", ov.status)
		}
		for hook, d := range failed {
			row := rowOf(t, ov.body, `data-delivery-id="`+d.ID+`"`)
			want := fmt.Sprintf(`<td class="num">%d</td>`, len(d.Attempts))
			if len(d.Attempts) < 2 || !strings.Contains(row, want) || !strings.Contains(row, "HTTP 500") || !strings.Contains(row, "resource.left") || !strings.Contains(row, hook) {
				t.Errorf("the row of %s does not show %d attempts, HTTP 500 and resource.left:\n%s", d.ID, len(d.Attempts), row)
			}
		}
		if !strings.Contains(ov.body, receiver+"/hook") || strings.Contains(ov.body, "receiver-token-123") {
			t.Errorf("the overview must show the webhook's URL without its query")
		}

		// An SP key sees its own webhook's delivery only.
		sp := e.browser(e.admin)
		sp.mustSignIn("/console/", e.spKey)
		spv := sp.get("/console/overview")
		if !strings.Contains(spv.body, failed[spHook].ID) || strings.Contains(spv.body, failed[adminHook].ID) || strings.Contains(spv.body, receiver+"/hook") {
			t.Errorf("the SP's overview must list %s and not the admin's %s:\n%s", failed[spHook].ID, failed[adminHook].ID, spv.body)
		}
		// ... and cannot redeliver the admin's, even with a good form token.
		csrf := hidden(t, spv.body, "csrf")
		for _, step := range []string{"", "commit"} {
			a := sp.post("/console/deliveries/redeliver", url.Values{"csrf": {csrf}, "webhook_id": {adminHook}, "delivery_id": {failed[adminHook].ID}, "step": {step}})
			if a.status != http.StatusNotFound {
				t.Errorf("an SP redelivering the admin's delivery (step %q): %d, want 404", step, a.status)
			}
		}

		// Without the form token nothing is redelivered.
		before := hits.Load()
		form := url.Values{"webhook_id": {adminHook}, "delivery_id": {failed[adminHook].ID}, "step": {"commit"}}
		if a := admin.post("/console/deliveries/redeliver", form); a.status != http.StatusForbidden || !strings.Contains(a.body, "token is missing or stale") {
			t.Errorf("a redeliver without the form token: %d, want 403", a.status)
		}
		time.Sleep(200 * time.Millisecond) // ten dispatch rounds
		if ds := e.deliveries(e.rootKey, adminHook); ds[0].State != "failed" || len(ds[0].Attempts) != len(failed[adminHook].Attempts) || hits.Load() != before {
			t.Fatalf("a refused redeliver changed the delivery: %+v, %d requests more", ds[0], hits.Load()-before)
		}

		// With it: a confirmation, then the redelivery.
		form.Set("csrf", hidden(t, ov.body, "csrf"))
		form.Del("step")
		conf := admin.post("/console/deliveries/redeliver", form)
		if conf.status != http.StatusOK || hidden(t, conf.body, "step") != "commit" || !strings.Contains(conf.body, failed[adminHook].ID) {
			t.Fatalf("the redeliver confirmation: %d\n%s", conf.status, conf.body)
		}
		time.Sleep(100 * time.Millisecond)
		if hits.Load() != before {
			t.Fatal("the confirmation page redelivered")
		}
		form.Set("step", "commit")
		done := admin.post("/console/deliveries/redeliver", form)
		if done.status != http.StatusSeeOther || !strings.Contains(done.header.Get("Location"), "redelivered=") {
			t.Fatalf("redeliver: %d %s\n%s", done.status, done.header.Get("Location"), done.body)
		}
		for deadline := time.Now().Add(10 * time.Second); hits.Load() == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the redelivery never reached the receiver")
			}
		}
		e.waitAttempts(e.rootKey, adminHook, len(failed[adminHook].Attempts))
		if ds := e.deliveries(e.spKey, spHook); len(ds[0].Attempts) != len(failed[spHook].Attempts) {
			t.Errorf("redelivering the admin's delivery touched the SP's")
		}
		if flash := admin.get(done.header.Get("Location")); !strings.Contains(flash.body, "is pending again") {
			t.Errorf("the overview after a redelivery does not say so")
		}
		if bad := admin.get("/console/overview?dpage=x"); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "dpage: must be a page number") {
			t.Errorf("a bad dpage: %d", bad.status)
		}
	})
}

// waitAttempts waits until the delivery log of hook records more than had
// attempts: the receiver's answer comes before its attempt is recorded.
func (e *env) waitAttempts(key, hook string, had int) {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ds := e.deliveries(key, hook)
		if len(ds[0].Attempts) > had {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after the redelivery the log has %d attempts, had %d", len(ds[0].Attempts), had)
		}
	}
}

// rowOf returns the table row of page that carries marker.
func rowOf(t *testing.T, page, marker string) string {
	t.Helper()
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("the page has no row %s:\n%s", marker, page)
	}
	j := strings.Index(page[i:], "</tr>")
	return page[i : i+j]
}

// TestPortalNotices: a tenant sets its notice configurations in the portal,
// for its own project only, with the API's validation and messages, and
// only with the form's token.
func TestPortalNotices(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		token, _, err := app.NewToken(ctx, e.store, "cust-1", e.clock.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser(e.tenant)
		b.mustSignIn("/portal/", token)
		home := b.get("/portal/")
		if home.status != http.StatusOK || !strings.Contains(home.body, `id="notice-RESOURCE_LEFT"`) || !strings.Contains(home.body, `id="notice-RESOURCE_EXPIRE"`) ||
			strings.Contains(home.body, "not part of allot yet") {
			t.Fatalf("the portal does not show both notice forms: %d\n%s", home.status, home.body)
		}
		csrf := hidden(t, home.body, "csrf")
		stored := func(project string, typ allot.NoticeType) allot.NoticeConfig {
			c, err := e.app.Service.NoticeConfig(ctx, project, typ)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		// No form token: refused, nothing stored.
		props := `{"days_before": [30, 7]}`
		form := url.Values{"type": {"RESOURCE_EXPIRE"}, "send_msg": {"1"}, "properties": {props}}
		if a := b.post("/portal/notice", form); a.status != http.StatusForbidden {
			t.Errorf("a notice form without its token: %d, want 403", a.status)
		}
		if c := stored("cust-1", allot.NoticeResourceExpire); c.SendMsg || c.Properties != nil {
			t.Fatalf("a refused form stored %+v", c)
		}

		form.Set("csrf", csrf)
		a := b.post("/portal/notice", form)
		if a.status != http.StatusSeeOther {
			t.Fatalf("set RESOURCE_EXPIRE: %d\n%s", a.status, a.body)
		}
		if c := stored("cust-1", allot.NoticeResourceExpire); !c.SendMsg || c.Properties == nil || *c.Properties != props {
			t.Fatalf("stored %+v, want send_msg and %s", c, props)
		}
		if c := stored("cust-2", allot.NoticeResourceExpire); c.SendMsg || c.Properties != nil {
			t.Fatalf("another tenant's configuration changed: %+v", c)
		}
		again := b.get(a.header.Get("Location"))
		expire := rowOfForm(t, again.body, "notice-RESOURCE_EXPIRE")
		if !strings.Contains(expire, "Saved.") || !strings.Contains(expire, " checked") || !strings.Contains(expire, "{&#34;days_before&#34;: [30, 7]}") {
			t.Errorf("the saved form does not show what was stored:\n%s", expire)
		}

		// Unchecked send_msg and empty properties: the API's body without them.
		if a := b.post("/portal/notice", url.Values{"csrf": {csrf}, "type": {"RESOURCE_EXPIRE"}}); a.status != http.StatusSeeOther {
			t.Fatalf("clear RESOURCE_EXPIRE: %d", a.status)
		}
		if c := stored("cust-1", allot.NoticeResourceExpire); c.SendMsg || c.Properties != nil {
			t.Errorf("after clearing: %+v", c)
		}

		// Too long properties: the API's message next to the field.
		long := strings.Repeat("x", allot.MaxPropertiesLen+1)
		bad := b.post("/portal/notice", url.Values{"csrf": {csrf}, "type": {"RESOURCE_LEFT"}, "send_msg": {"1"}, "properties": {long}})
		if bad.status != http.StatusBadRequest {
			t.Fatalf("too long properties: %d", bad.status)
		}
		left := rowOfForm(t, bad.body, "notice-RESOURCE_LEFT")
		if !strings.Contains(left, `aria-invalid="true"`) || !strings.Contains(left, `<p class="field-error" id="e-RESOURCE_LEFT-properties">properties: `) {
			t.Errorf("the refused form does not show the message next to properties:\n%s", left)
		}
		if c := stored("cust-1", allot.NoticeResourceLeft); c.SendMsg || c.Properties != nil {
			t.Errorf("a refused form stored %+v", c)
		}
		if a := b.post("/portal/notice", url.Values{"csrf": {csrf}, "type": {"RESOURCE_SOON"}}); a.status != http.StatusBadRequest ||
			!strings.Contains(a.body, "type: must be RESOURCE_EXPIRE or RESOURCE_LEFT") {
			t.Errorf("an unknown type: %d", a.status)
		}
	})
}

// rowOfForm returns the form with id of page.
func rowOfForm(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("the page has no form %s:\n%s", id, page)
	}
	j := strings.Index(page[i:], "</form>")
	return page[i : i+j]
}
