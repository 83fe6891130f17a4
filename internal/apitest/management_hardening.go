package apitest

import (
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// testManagementHardening: over HTTP, a retry is answered only to a
// credential that may make the request, an SP cannot probe projects it does
// not serve, and bad text is a 400 naming the field on every store.
func testManagementHardening(t *testing.T, e *env) {
	a := startAdmin(t, e)
	admin := a.key(t, "ops", allot.RoleAdmin, "")
	sp1 := a.key(t, "sp-1-key", allot.RoleSP, spProj)
	if err := e.store.CreateProject(t.Context(), allot.Project{ID: "sp-2", Name: "Another SP", RegionID: regionID}); err != nil {
		t.Fatal(err)
	}
	sp2 := a.key(t, "sp-2-key", allot.RoleSP, "sp-2")

	a.must(t, admin, "POST", "/admin/v1/packages", `{"project_id":"`+spProj+`","resource_id":"h-pool","resource_source":"PURCHASED","order_id":"h-order","resource_type":"spec.h","business_type":"LIVE_2D","charging_mode":"ONE_TIME","unit":"CHANNEL","amount":10}`, 201)
	out := a.must(t, sp1, "POST", "/admin/v1/allocations", `{"sp_project_id":"`+spProj+`","customer_project_id":"`+tenantA+`","resource_spec_code":"spec.h","amount":4,"idempotency_key":"h-al"}`, 201)
	res := "/admin/v1/projects/" + tenantA + "/resources/" + out.Resource.ResourceID
	body := `{"amount":1,"reason":"downsize","idempotency_key":"h-r"}`
	a.must(t, admin, "POST", res+"/reclaim", body, 200)

	// Another SP's retry of the admin's key: refused, not replayed; with
	// another body: refused, not a conflict that tells the key exists.
	a.refuse(t, sp2, "POST", res+"/reclaim", body, 403, "ALLOT.FORBIDDEN")
	a.refuse(t, sp2, "POST", res+"/reclaim", `{"amount":2,"idempotency_key":"h-r"}`, 403, "ALLOT.FORBIDDEN")
	a.refuse(t, sp2, "POST", res+"/cancel", `{"idempotency_key":"h-r"}`, 403, "ALLOT.FORBIDDEN")
	if again := a.must(t, sp1, "POST", res+"/reclaim", body, 200); !again.Replayed {
		t.Fatalf("the allocating SP's retry was not a replay: %+v", again)
	}
	// An SP asking about a project it does not serve learns nothing.
	for _, path := range []string{
		"/admin/v1/projects/" + tenantA + "/resources/no-such/reclaim",
		"/admin/v1/projects/" + tenantB + "/resources/no-such/reclaim",
		"/admin/v1/projects/no-such-project/resources/no-such/reclaim",
	} {
		a.refuse(t, sp2, "POST", path, `{"idempotency_key":"probe"}`, 403, "ALLOT.FORBIDDEN")
	}

	// Text no store should see.
	a.refuse(t, admin, "POST", res+"/reclaim", `{"amount":1,"reason":"a\u0000b","idempotency_key":"h-r2"}`, 400, "ALLOT.INVALID", "reason")
	a.refuse(t, admin, "POST", res+"/reclaim", `{"amount":1,"idempotency_key":"k\u0000"}`, 400, "ALLOT.INVALID", "idempotency_key")
	a.refuse(t, admin, "PUT", res+"/asset", `{"asset_id":"as-1","asset_name":"\u0000"}`, 400, "ALLOT.INVALID", "asset_name")
	a.refuse(t, admin, "POST", "/admin/v1/consume", `{"project_id":"..","resource_type":"spec.h","amount":1,"idempotency_key":"c"}`, 400, "ALLOT.INVALID", "project_id")
	a.refuse(t, admin, "POST", "/admin/v1/packages", `{"project_id":"`+tenantB+`","resource_id":"h-x","resource_source":"PURCHASED","order_id":"h-x","resource_type":"spec.h","business_type":"LIVE_2D","charging_mode":"ONE_TIME","unit":"CHANNEL","amount":1,"idempotency_key":"`+strings.Repeat("k", 100_000)+`"}`, 400, "ALLOT.INVALID", "idempotency_key")
}
