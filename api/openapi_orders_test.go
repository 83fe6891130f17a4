package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// orderFixture is what the order calls of the contract name: an order of
// projA with one channel package, and a second whose package holds units
// for an open reservation (its unsubscription is a conflict).
type orderFixture struct {
	orderID, mainID, heldID string
	catalog                 string // the default catalog as a JSON array
}

func newOrderFixture(t *testing.T, store allot.Store, svc *allot.Service) orderFixture {
	t.Helper()
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join("..", "docs", "catalog.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := api.DecodeCatalog(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutCatalog(ctx, specs); err != nil {
		t.Fatal(err)
	}
	array, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	order := func() (string, string) {
		o, made, err := svc.CreateOrder(ctx, allot.Actor{ID: "ak:AKCONTRACT"}, allot.OrderRequest{ProjectID: projA, Lines: []allot.OrderLine{
			{SpecCode: "hws.resource.type.metastudio.modeling.avatarlive.channel", PeriodType: 2, PeriodNum: 1, SubscriptionNum: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		return o.OrderID, made[0].ResourceID
	}
	f := orderFixture{catalog: string(array)}
	f.orderID, f.mainID = order()
	_, f.heldID = order()
	if _, err := svc.Reserve(ctx, allot.Actor{ID: "ops", Role: allot.RoleAdmin}, allot.ReserveRequest{ProjectID: projA, ResourceID: f.heldID,
		Amount: allot.QuantityScale, TTL: 3600, IdempotencyKey: "fixture-order-hold"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func orderCalls(c *contract) []call {
	f := c.orders
	orders := "/v1/" + projA + "/mss/public/orders"
	details := "/v2/orders/customer-orders/details/" + f.orderID
	query := "/v2/orders/suscriptions/resources/query"
	unsub := "/v2/orders/subscriptions/resources/unsubscribe"
	domains := "/v3/auth/domains"
	good := `{"cloud_services":[{"is_auto_pay":1,"period_type":2,"period_num":1,"is_auto_renew":0,"subscription_num":1,"resource_spec_code":"hws.resource.type.metastudio.modeling.avatarlive.channel"}]}`
	header := func(k, v string) http.Header { return http.Header{k: {v}} }
	tenant := func(name, method, target string, a auth, body string, want int, v verdict) call {
		return call{name: name, server: "tenant", method: method, target: target, auth: a, body: body, want: want, doc: v}
	}
	admin := func(name, method, target string, a auth, body string, want int, v verdict) call {
		k := call{name: name, server: "admin", method: method, target: target, auth: a, body: body, want: want, doc: v}
		if strings.HasPrefix(body, "[") {
			k.header = header("Content-Type", "application/json")
		}
		return k
	}
	var calls []call
	add := func(k ...call) { calls = append(calls, k...) }
	add(
		tenant("order", "POST", orders, signed, good, 200, docAccepts),
		tenant("order with a token", "POST", orders, withToken, good, 200, docAccepts),
		tenant("order unknown spec", "POST", orders, signed, strings.Replace(good, "avatarlive.channel", "nothing", 1), 400, docAccepts),
		tenant("order spec's period type", "POST", orders, signed, strings.Replace(good, `"period_type":2`, `"period_type":6`, 1), 400, docAccepts),
		tenant("order period type 4", "POST", orders, signed, strings.Replace(good, `"period_type":2`, `"period_type":4`, 1), 400, docRefuses),
		tenant("order unknown field", "POST", orders, signed, strings.Replace(good, `"is_auto_pay"`, `"auto_pay"`, 1), 400, docRefuses),
		tenant("order no lines", "POST", orders, signed, `{"cloud_services":[]}`, 400, docRefuses),
		tenant("order no credentials", "POST", orders, noAuth, good, 401, docRefuses),
		tenant("order bad signature", "POST", orders, badSig, good, 401, docAccepts),
		tenant("order another project", "POST", strings.Replace(orders, projA, projB, 1), signed, good, 403, docAccepts),

		tenant("order details", "GET", details, signed, "", 200, docAccepts),
		tenant("order details page", "GET", details+"?limit=1&offset=0", withToken, "", 200, docAccepts),
		tenant("order details limit 0", "GET", details+"?limit=0", signed, "", 400, docRefuses),
		tenant("order details unknown order", "GET", "/v2/orders/customer-orders/details/order-nothing", signed, "", 404, docAccepts),
		call{name: "order details another domain", server: "tenant", method: "GET", target: details, auth: signed, header: header("X-Domain-Id", projB), want: 403},
		tenant("order details no credentials", "GET", details, noAuth, "", 401, docRefuses),

		tenant("resource query by order", "POST", query, signed, `{"order_id":"`+f.orderID+`"}`, 200, docAccepts),
		tenant("resource query every filter", "POST", query, withToken, `{"resource_ids":["`+f.mainID+`"],"only_main_resource":1,"status_list":[2],"limit":5,"offset":0,`+
			`"expire_time_begin":"2020-01-01T00:00:00Z","expire_time_end":"2100-01-01T00:00:00Z","service_type_code":"hws.service.type.metastudio","customer_id":"c"}`, 200, docAccepts),
		tenant("resource query another service", "POST", query, signed, `{"service_type_code":"hws.service.type.obs"}`, 200, docAccepts),
		tenant("resource query only_main_resource 2", "POST", query, signed, `{"only_main_resource":2}`, 400, docRefuses),
		call{name: "resource query another project", server: "tenant", method: "POST", target: query, auth: signed, body: `{}`, header: header("X-Project-Id", projB), want: 403},
		tenant("resource query no credentials", "POST", query, noAuth, `{}`, 401, docRefuses),

		tenant("unsubscribe", "POST", unsub, signed, `{"resource_ids":["`+f.mainID+`"],"unsubscribe_type":1,"unsubscribe_reason_type":5,"unsubscribe_reason":"contract"}`, 200, docAccepts),
		tenant("unsubscribe again", "POST", unsub, withToken, `{"resource_ids":["`+f.mainID+`"],"unsubscribe_type":1}`, 200, docAccepts),
		tenant("unsubscribe unknown resource", "POST", unsub, signed, `{"resource_ids":["nothing"],"unsubscribe_type":1}`, 404, docAccepts),
		tenant("unsubscribe held units", "POST", unsub, signed, `{"resource_ids":["`+f.heldID+`"],"unsubscribe_type":1}`, 409, docAccepts),
		tenant("unsubscribe renewals only", "POST", unsub, signed, `{"resource_ids":["`+f.heldID+`"],"unsubscribe_type":2}`, 400, docAccepts),
		tenant("unsubscribe no ids", "POST", unsub, signed, `{"resource_ids":[],"unsubscribe_type":1}`, 400, docRefuses),
		call{name: "unsubscribe another domain", server: "tenant", method: "POST", target: unsub, auth: signed, body: `{"resource_ids":["x"],"unsubscribe_type":1}`, header: header("X-Domain-Id", projB), want: 403},
		tenant("unsubscribe no credentials", "POST", unsub, noAuth, `{"resource_ids":["x"],"unsubscribe_type":1}`, 401, docRefuses),

		tenant("iam domains", "GET", domains, signed, "", 200, docAccepts),
		tenant("iam domains with a token", "GET", domains, withToken, "", 200, docAccepts),
		tenant("iam domains no credentials", "GET", domains, noAuth, "", 401, docRefuses),
		call{name: "iam domains body too large", server: "tenant", method: "GET", target: domains, auth: signed, body: bigBody, want: 413},
		call{name: "iam domains internal error", server: "tenant-broken", method: "GET", target: domains, auth: signed, want: 500},
	)
	for _, r := range []struct{ method, path, body string }{{"POST", orders, good}, {"GET", details, ""}, {"POST", query, `{}`}, {"POST", unsub, `{"resource_ids":["x"],"unsubscribe_type":1}`}} {
		name := r.method + " " + r.path
		tooLarge := tenant(name+" body too large", r.method, r.path, signed, bigJSONBody, 413, docRefuses)
		if r.method == "GET" {
			tooLarge = call{name: name + " body too large", server: "tenant", method: "GET", target: r.path, auth: signed, body: bigBody, want: 413}
		}
		add(tooLarge,
			call{name: name + " rate limited", server: "tenant-limited", method: r.method, target: r.path, auth: signed, body: r.body, want: 429},
			call{name: name + " internal error", server: "tenant-broken", method: r.method, target: r.path, auth: signed, body: r.body, want: 500},
		)
	}

	catalog := "/admin/v1/catalog"
	badUnit := strings.Replace(f.catalog, `"unit":"CHANNEL"`, `"unit":"YARD"`, 1)
	twice := strings.TrimSuffix(f.catalog, "]") + "," + strings.TrimPrefix(f.catalog, "[")
	add(
		admin("catalog", "GET", catalog, adminKey, "", 200, docAccepts),
		admin("catalog by an sp key", "GET", catalog, spKey, "", 200, docAccepts),
		admin("catalog no key", "GET", catalog, noAuth, "", 401, docRefuses),
		admin("catalog replace", "PUT", catalog, adminKey, f.catalog, 200, docAccepts),
		admin("catalog replace by an sp key", "PUT", catalog, spKey, f.catalog, 403, docAccepts),
		admin("catalog replace bad unit", "PUT", catalog, adminKey, badUnit, 400, docRefuses),
		admin("catalog replace spec twice", "PUT", catalog, adminKey, twice, 400, docAccepts),
		admin("catalog replace no key", "PUT", catalog, noAuth, f.catalog, 401, docRefuses),
		admin("catalog replace body too large", "PUT", catalog, adminKey, bigJSONBody, 413, docRefuses),
		call{name: "catalog rate limited", server: "admin-limited", method: "GET", target: catalog, auth: adminKey, want: 429},
		call{name: "catalog replace rate limited", server: "admin-limited", method: "PUT", target: catalog, auth: adminKey, body: f.catalog, header: header("Content-Type", "application/json"), want: 429},
		call{name: "catalog internal error", server: "admin-broken", method: "GET", target: catalog, auth: adminKey, want: 500},
		call{name: "catalog replace internal error", server: "admin-broken", method: "PUT", target: catalog, auth: adminKey, body: f.catalog, header: header("Content-Type", "application/json"), want: 500},
	)
	return calls
}
