package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// adminEnv is the management API beside the tenant API, over the same store.
type adminEnv struct {
	*env
	url string
}

func startAdmin(t *testing.T, e *env) *adminEnv {
	t.Helper()
	type ledgerStore interface {
		allot.LedgerStore
		allot.AdminKeys
	}
	ls, ok := e.store.(ledgerStore)
	if !ok {
		t.Fatalf("%T has no ledger", e.store)
	}
	srv := api.NewAdminServer(api.Config{Store: e.store, Keyring: e.keyring, Service: &allot.Service{Store: ls}, Ledger: ls, AdminKeys: ls})
	if err := srv.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return &adminEnv{env: e, url: srv.URL()}
}

func (a *adminEnv) key(t *testing.T, name string, role allot.Role, sp string) string {
	t.Helper()
	key := "key-of-" + name
	hash := sha256.Sum256([]byte(key))
	if err := a.store.(allot.AdminKeys).CreateAdminKey(context.Background(), allot.AdminKey{ID: name, Hash: hash[:], Role: role, SPProjectID: sp, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return key
}

// call sends one management request and decodes the answer into out.
func (a *adminEnv) call(t *testing.T, key, method, path, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, raw := a.do(t, req)
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: no X-Request-Id", method, path)
	}
	var e struct {
		Code string `json:"error_code"`
	}
	json.Unmarshal(raw, &e)
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, e.Code + " " + string(raw)
}

func (a *adminEnv) must(t *testing.T, key, method, path, body string, wantStatus int) allot.OpResult {
	t.Helper()
	var out allot.OpResult
	if status, msg := a.call(t, key, method, path, body, &out); status != wantStatus {
		t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, status, msg, wantStatus)
	}
	return out
}

func (a *adminEnv) refuse(t *testing.T, key, method, path, body string, status int, code string, mentions ...string) {
	t.Helper()
	got, msg := a.call(t, key, method, path, body, nil)
	if got != status || !strings.HasPrefix(msg, code+" ") {
		t.Fatalf("%s %s %s: %d %s, want %d %s", method, path, body, got, msg, status, code)
	}
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Fatalf("%s %s: %q does not mention %q", method, path, msg, m)
		}
	}
}

// sdkResource lists one resource of tenantA through the SDK (nil if absent).
func sdkResource(t *testing.T, client interface {
	ListTenantResources(*model.ListTenantResourcesRequest) (*model.ListTenantResourcesResponse, error)
}, source, id string) *model.ResourceItemInfo {
	t.Helper()
	resp, err := client.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: source, ResourceId: &id})
	if err != nil {
		t.Fatal(err)
	}
	if len(*resp.Resources) == 0 {
		return nil
	}
	return &(*resp.Resources)[0]
}

func testManagement(t *testing.T, e *env) {
	a := startAdmin(t, e)
	admin := a.key(t, "ops", allot.RoleAdmin, "")
	sp := a.key(t, "sp-1-key", allot.RoleSP, spProj)
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	res := "/admin/v1/projects/" + tenantA + "/resources/"

	t.Run("auth", func(t *testing.T) {
		a.refuse(t, "", "POST", "/admin/v1/consume", `{}`, 401, "ALLOT.UNAUTHENTICATED")
		a.refuse(t, "not-a-key", "POST", "/admin/v1/consume", `{}`, 401, "ALLOT.UNAUTHENTICATED")
		// A tenant's AK/SK is no management credential.
		req, _ := http.NewRequest("GET", a.url+"/admin/v1/ledger?project_id="+tenantA, nil)
		req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+ak+", SignedHeaders=x-sdk-date, Signature=00")
		if resp, _ := a.do(t, req); resp.StatusCode != 401 {
			t.Fatalf("AK/SK on the management API: %d", resp.StatusCode)
		}
		a.refuse(t, sp, "POST", "/admin/v1/packages", `{"project_id":"`+tenantA+`","resource_source":"PURCHASED","order_id":"o-x","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":1}`, 403, "ALLOT.FORBIDDEN")
		a.refuse(t, admin, "GET", "/admin/v1/packages", "", 405, "ALLOT.METHOD_NOT_ALLOWED")
	})

	purchase := `{"project_id":"` + tenantA + `","resource_id":"pkg-1","resource_source":"PURCHASED","order_id":"order-pkg-1","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","unit":"MIN","amount":120.5,"resource_expire_time":"2030-01-01T00:00:00Z"}`
	t.Run("purchase", func(t *testing.T) {
		out := a.must(t, admin, "POST", "/admin/v1/packages", purchase, 201)
		if out.Resource.ResourceID != "pkg-1" || out.Entries[0].Actor != "ops" {
			t.Fatalf("%+v", out)
		}
		if again := a.must(t, admin, "POST", "/admin/v1/packages", purchase, 200); !again.Replayed {
			t.Fatal("re-sent order not replayed")
		}
		item := sdkResource(t, client, "PURCHASED", "pkg-1")
		if item == nil || *item.Amount != 120.5 || *item.Usage != 0 || *item.ResourceExpireTime != "2030-01-01T00:00:00Z" || *item.OrderId != "order-pkg-1" {
			t.Fatalf("SDK sees %v", item)
		}
		a.refuse(t, admin, "POST", "/admin/v1/packages", strings.Replace(purchase, `"amount":120.5`, `"amount":"lots"`, 1), 400, "ALLOT.INVALID", "amount")
		a.refuse(t, admin, "POST", "/admin/v1/packages", strings.Replace(purchase, `"unit"`, `"units"`, 1), 400, "ALLOT.INVALID", "units")
		a.refuse(t, admin, "POST", "/admin/v1/packages", strings.Replace(purchase, `"amount":120.5`, `"amount":1.0000001`, 1), 400, "ALLOT.INVALID", "amount", "decimal places")
	})

	t.Run("consume, freeze, bind, refund", func(t *testing.T) {
		a.must(t, admin, "POST", "/admin/v1/consume", `{"project_id":"`+tenantA+`","resource_id":"pkg-1","amount":20.25,"idempotency_key":"m-1"}`, 200)
		a.must(t, admin, "POST", "/admin/v1/consume", `{"project_id":"`+tenantA+`","resource_id":"pkg-1","amount":20.25,"idempotency_key":"m-1"}`, 200)
		if item := sdkResource(t, client, "PURCHASED", "pkg-1"); *item.Usage != 20.25 {
			t.Fatalf("usage %v after a consume and its retry", *item.Usage)
		}
		a.refuse(t, admin, "POST", "/admin/v1/consume", `{"project_id":"`+tenantA+`","resource_id":"pkg-1","amount":1000,"idempotency_key":"m-2"}`, 409, "ALLOT.CONFLICT")
		a.must(t, admin, "POST", res+"pkg-1/freeze", `{"reason":"unpaid invoice"}`, 200)
		if item := sdkResource(t, client, "PURCHASED", "pkg-1"); *item.Status != 1 {
			t.Fatalf("status %v after freeze", *item.Status)
		}
		a.refuse(t, admin, "POST", "/admin/v1/consume", `{"project_id":"`+tenantA+`","resource_id":"pkg-1","amount":1,"idempotency_key":"m-3"}`, 409, "ALLOT.CONFLICT", "frozen")
		a.must(t, admin, "POST", res+"pkg-1/unfreeze", `{}`, 200)
		a.must(t, admin, "PUT", res+"pkg-1/asset", `{"asset_id":"asset-9","asset_name":"Host"}`, 200)
		if item := sdkResource(t, client, "PURCHASED", "pkg-1"); item.BoundAsset == nil || *item.BoundAsset.AssetId != "asset-9" || *item.Status != 0 {
			t.Fatalf("after bind: %v", item)
		}
		a.must(t, admin, "DELETE", res+"pkg-1/asset", "", 200)
		a.must(t, admin, "POST", res+"pkg-1/refund", `{"amount":0.25,"reason":"render failed","idempotency_key":"rf-1"}`, 200)
		if item := sdkResource(t, client, "PURCHASED", "pkg-1"); *item.Usage != 20 || item.BoundAsset != nil {
			t.Fatalf("after refund and unbind: %v", item)
		}
	})

	t.Run("sp allocation and reclaim", func(t *testing.T) {
		a.must(t, admin, "POST", "/admin/v1/packages", `{"project_id":"`+spProj+`","resource_id":"sp-pool","resource_source":"PURCHASED","order_id":"sp-order","resource_type":"spec.live","business_type":"LIVE_2D","charging_mode":"ONE_TIME","unit":"CHANNEL","amount":10}`, 201)
		out := a.must(t, sp, "POST", "/admin/v1/allocations", `{"sp_project_id":"`+spProj+`","customer_project_id":"`+tenantA+`","resource_spec_code":"spec.live","amount":4,"idempotency_key":"al-1"}`, 201)
		id := out.Assignment.RecordID
		a.refuse(t, sp, "POST", "/admin/v1/allocations", `{"sp_project_id":"`+spProj+`","customer_project_id":"`+tenantA+`","resource_spec_code":"spec.live","amount":7,"idempotency_key":"al-2"}`, 409, "ALLOT.CONFLICT")
		a.refuse(t, sp, "POST", "/admin/v1/allocations", `{"sp_project_id":"`+spProj+`","customer_project_id":"`+tenantB+`","resource_spec_code":"spec.live","amount":1,"idempotency_key":"al-3"}`, 400, "ALLOT.INVALID", "customer")
		if item := sdkResource(t, client, "SP_ALLOCATED", id); item == nil || *item.Amount != 4 || item.BusinessType.Value() != "LIVE_2D" {
			t.Fatalf("SDK sees allocation %v", item)
		}
		rec, err := client.ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{Limit: ptr(int32(100))})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range *rec.Resources {
			if *r.AssignmentRecordId == id && *r.ResourceNum == 4 && *r.ResourceSpecCode == "spec.live" {
				found = true
			}
		}
		if !found || int(*rec.ResourceCount) != len(e.fx.batch.Assignments)+1 {
			t.Fatalf("assignment %s not in assignrecourd (count %d)", id, *rec.ResourceCount)
		}
		a.must(t, admin, "POST", "/admin/v1/consume", `{"project_id":"`+tenantA+`","resource_id":"`+id+`","amount":1,"idempotency_key":"m-sp"}`, 200)
		a.must(t, sp, "POST", res+id+"/reclaim", `{"amount":2,"reason":"downsize","idempotency_key":"rc-1"}`, 200)
		if item := sdkResource(t, client, "SP_ALLOCATED", id); *item.Amount != 2 || *item.Usage != 1 {
			t.Fatalf("after reclaim: %v", item)
		}
		// Cancelling: the package leaves the list (an empty list is how the
		// official Terraform provider tells a package is gone).
		a.must(t, sp, "POST", res+id+"/cancel", `{"reason":"ended","idempotency_key":"cn-1"}`, 200)
		if item := sdkResource(t, client, "SP_ALLOCATED", id); item != nil {
			t.Fatalf("cancelled package still listed: %v", item)
		}
		var ledger struct {
			Count   int                 `json:"count"`
			Entries []allot.LedgerEntry `json:"entries"`
		}
		if status, msg := a.call(t, sp, "GET", "/admin/v1/ledger?project_id="+spProj+"&resource_id=sp-pool", "", &ledger); status != 200 || ledger.Count != 4 {
			t.Fatalf("sp pool ledger: %d %s", status, msg)
		}
		a.refuse(t, sp, "GET", "/admin/v1/ledger?project_id="+tenantB, "", 403, "ALLOT.FORBIDDEN")
		a.refuse(t, admin, "GET", "/admin/v1/ledger", "", 400, "ALLOT.INVALID", "project_id")
	})

	t.Run("no drift", func(t *testing.T) {
		var d struct {
			Drift []allot.Drift `json:"drift"`
		}
		if status, msg := a.call(t, admin, "GET", "/admin/v1/drift", "", &d); status != 200 || len(d.Drift) != 0 {
			t.Fatalf("drift: %d %s", status, msg)
		}
		a.refuse(t, sp, "GET", "/admin/v1/drift", "", 403, "ALLOT.FORBIDDEN")
	})
}
