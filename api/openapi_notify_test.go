package api_test

import (
	"context"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/secret"
)

// The contract's fixture of notifications: two webhooks of the admin (one
// for the calls to delete) and one pending delivery to redeliver.
const (
	contractWebhook  = "wh-contract"
	contractDoomed   = "wh-contract-doomed"
	contractDelivery = "evt-contract." + contractWebhook
)

func notifyFixture(t *testing.T, store allot.Store, keyring *secret.Keyring) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{contractWebhook, contractDoomed} {
		sealed, err := api.SealWebhookSecret(keyring)(id, []byte("0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		// Port 9 (discard) refuses: the delivery stays pending.
		if err := store.CreateWebhook(ctx, allot.Webhook{ID: id, URL: "http://127.0.0.1:9/", Events: []string{allot.EventResourceLeft},
			ProjectID: projA, SecretCiphertext: sealed}); err != nil {
			t.Fatal(err)
		}
	}
	err := store.Update(ctx, []string{projA}, func(tx allot.Tx) error {
		_, err := tx.InsertEvent(allot.Event{ID: "evt-contract", Type: allot.EventResourceLeft, ProjectID: projA, At: tx.Now()}, []byte(`{"id":"evt-contract"}`))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func notifyCalls() []call {
	notice := "/v1/" + projA + "/tenants/notice-configurations"
	hooks := "/admin/v1/webhooks"
	tenant := func(name, method, target string, a auth, body string, want int, v verdict) call {
		return call{name: name, server: "tenant", method: method, target: target, auth: a, body: body, want: want, doc: v}
	}
	admin := func(name, method, target string, a auth, body string, want int, v verdict) call {
		return call{name: name, server: "admin", method: method, target: target, auth: a, body: body, want: want, doc: v}
	}
	set := `{"type":"RESOURCE_LEFT","send_msg":true,"properties":"{\"threshold_percent\": 20}"}`
	hook := `{"url":"https://example.com/hook","events":["resource.left","resource.depleted"],"project_id":"` + projA + `"}`
	var calls []call
	calls = append(calls,
		tenant("notice set", "POST", notice, signed, set, 200, docAccepts),
		tenant("notice set by token", "POST", notice, withToken, `{"type":"RESOURCE_EXPIRE","properties":"{\"days_before\":[7]}"}`, 200, docAccepts),
		tenant("notice set bad type", "POST", notice, signed, `{"type":"RESOURCE_OTHER"}`, 400, docRefuses),
		tenant("notice set without type", "POST", notice, signed, `{"send_msg":true}`, 400, docRefuses),
		tenant("notice set no credentials", "POST", notice, noAuth, set, 401, docRefuses),
		tenant("notice set another project", "POST", "/v1/"+projB+"/tenants/notice-configurations", signed, set, 403, docAccepts),
		call{name: "notice set body too large", server: "tenant", method: "POST", target: notice, auth: signed, body: bigJSONBody, want: 413, doc: docRefuses},
		call{name: "notice set rate limited", server: "tenant-limited", method: "POST", target: notice, auth: signed, body: set, want: 429},
		call{name: "notice set internal error", server: "tenant-broken", method: "POST", target: notice, auth: signed, body: set, want: 500},
		tenant("notice show", "GET", notice+"?type=RESOURCE_LEFT", signed, "", 200, docAccepts),
		tenant("notice show paged", "GET", notice+"?type=RESOURCE_EXPIRE&limit=10&offset=0", withToken, "", 200, docAccepts),
		tenant("notice show without type", "GET", notice, signed, "", 400, docRefuses),
		tenant("notice show bad type", "GET", notice+"?type=NOPE", signed, "", 400, docRefuses),
		tenant("notice show no credentials", "GET", notice+"?type=RESOURCE_LEFT", noAuth, "", 401, docRefuses),
		tenant("notice show another project", "GET", "/v1/"+projB+"/tenants/notice-configurations?type=RESOURCE_LEFT", signed, "", 403, docAccepts),
		call{name: "notice show body too large", server: "tenant", method: "GET", target: notice + "?type=RESOURCE_LEFT", auth: signed, body: bigBody, want: 413},
		call{name: "notice show rate limited", server: "tenant-limited", method: "GET", target: notice + "?type=RESOURCE_LEFT", auth: signed, want: 429},
		call{name: "notice show internal error", server: "tenant-broken", method: "GET", target: notice + "?type=RESOURCE_LEFT", auth: signed, want: 500},

		admin("webhook create", "POST", hooks, adminKey, hook, 201, docAccepts),
		admin("webhook create by an sp key", "POST", hooks, spKey, `{"url":"https://example.com/hook","events":["resource.left"],"project_id":"`+projB+`"}`, 403, docAccepts),
		admin("webhook ftp", "POST", hooks, adminKey, `{"url":"ftp://example.com/hook","events":["resource.left"]}`, 400, docAccepts),
		admin("webhook unknown event", "POST", hooks, adminKey, `{"url":"https://example.com/hook","events":["resource.other"]}`, 400, docRefuses),
		admin("webhook no key", "POST", hooks, noAuth, hook, 401, docRefuses),
		admin("webhook body too large", "POST", hooks, adminKey, bigJSONBody, 413, docRefuses),
		admin("webhooks", "GET", hooks, adminKey, "", 200, docAccepts),
		admin("webhooks of an sp", "GET", hooks, spKey, "", 200, docAccepts),
		admin("webhooks unknown key", "GET", hooks, unknownKey, "", 401, docAccepts),
		admin("deliveries", "GET", hooks+"/"+contractWebhook+"/deliveries?limit=10", adminKey, "", 200, docAccepts),
		admin("deliveries limit 0", "GET", hooks+"/"+contractWebhook+"/deliveries?limit=0", adminKey, "", 400, docRefuses),
		admin("deliveries of another owner", "GET", hooks+"/"+contractWebhook+"/deliveries", spKey, "", 404, docAccepts),
		admin("deliveries no key", "GET", hooks+"/"+contractWebhook+"/deliveries", noAuth, "", 401, docRefuses),
		admin("redeliver", "POST", hooks+"/"+contractWebhook+"/deliveries/"+contractDelivery+"/redeliver", adminKey, "", 202, docAccepts),
		admin("redeliver unknown", "POST", hooks+"/"+contractWebhook+"/deliveries/evt-none/redeliver", adminKey, "", 404, docAccepts),
		admin("redeliver no key", "POST", hooks+"/"+contractWebhook+"/deliveries/"+contractDelivery+"/redeliver", noAuth, "", 401, docRefuses),
		admin("webhook delete", "DELETE", hooks+"/"+contractDoomed, adminKey, "", 204, docAccepts),
		admin("webhook delete again", "DELETE", hooks+"/"+contractDoomed, adminKey, "", 404, docAccepts),
		admin("webhook delete no key", "DELETE", hooks+"/"+contractWebhook, noAuth, "", 401, docRefuses),
	)
	for _, r := range []struct{ method, path, body string }{
		{"POST", hooks, hook}, {"GET", hooks, ""}, {"DELETE", hooks + "/" + contractWebhook, ""},
		{"GET", hooks + "/" + contractWebhook + "/deliveries", ""},
		{"POST", hooks + "/" + contractWebhook + "/deliveries/" + contractDelivery + "/redeliver", ""},
	} {
		name := r.method + " " + r.path
		calls = append(calls,
			call{name: name + " rate limited", server: "admin-limited", method: r.method, target: r.path, auth: adminKey, body: r.body, want: 429},
			call{name: name + " internal error", server: "admin-broken", method: r.method, target: r.path, auth: adminKey, body: r.body, want: 500},
		)
	}
	return calls
}
