package apitest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
)

// listAll walks every page of q through the SDK, checking count on each page.
func listAll(t *testing.T, e *env, client sdkClient, q listQuery, limit int32) []model.ResourceItemInfo {
	t.Helper()
	var all []model.ResourceItemInfo
	want := len(q.expect(e.fx.byProject[tenantA]))
	for offset := int32(0); ; offset += limit {
		q.limit, q.offset = ptr(limit), ptr(offset)
		resp, err := client.ListTenantResources(q.sdk())
		if err != nil {
			t.Fatalf("offset %d: %v", offset, err)
		}
		if got := int(resp.Count); got != want {
			t.Fatalf("offset %d: count %d, want %d", offset, got, want)
		}
		if resp.Resources == nil {
			t.Fatalf("offset %d: no resources array", offset)
		}
		page := *resp.Resources
		if len(page) > int(limit) {
			t.Fatalf("page of %d > limit %d", len(page), limit)
		}
		all = append(all, page...)
		if len(page) < int(limit) {
			return all
		}
	}
}

type sdkClient interface {
	ListTenantResources(*model.ListTenantResourcesRequest) (*model.ListTenantResourcesResponse, error)
}

// checkItems compares SDK items with the fixture resources, field by field.
func checkItems(t *testing.T, got []model.ResourceItemInfo, want []allot.Resource) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i := range want {
		checkItem(t, got[i], want[i])
	}
}

func checkItem(t *testing.T, g model.ResourceItemInfo, w allot.Resource) {
	t.Helper()
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	opt := func(s string) string {
		if s == "" {
			return "<nil>"
		}
		return s
	}
	expire := "<nil>"
	if !w.ExpireTime.IsZero() {
		expire = w.ExpireTime.UTC().Format("2006-01-02T15:04:05Z")
	}
	asset, wantAsset := "<nil>", "<nil>"
	if g.BoundAsset != nil {
		asset = str(g.BoundAsset.AssetId) + "/" + str(g.BoundAsset.AssetName)
	}
	if w.BoundAsset != nil {
		wantAsset = w.BoundAsset.AssetID + "/" + opt(w.BoundAsset.AssetName)
	}
	checks := []struct{ field, got, want string }{
		{"resource_id", str(g.ResourceId), w.ResourceID},
		{"order_id", str(g.OrderId), opt(w.OrderID)},
		{"bound_asset", asset, wantAsset},
		{"resource_expire_time", str(g.ResourceExpireTime), expire},
		{"resource_type", str(g.ResourceType), w.ResourceType},
		{"business_type", g.BusinessType.Value(), string(w.BusinessType)},
		{"sub_resource_type", str(g.SubResourceType), opt(string(w.SubResourceType))},
		{"is_sub_resource", fmt.Sprint(g.IsSubResource != nil && *g.IsSubResource), fmt.Sprint(w.IsSubResource)},
		{"charging_mode", g.ChargingMode.Value(), string(w.ChargingMode)},
		{"resource_source", str(g.ResourceSource), string(w.Source)},
		{"amount", fmt.Sprint(*g.Amount), fmt.Sprint(float32Of(w.Amount))},
		{"usage", fmt.Sprint(*g.Usage), fmt.Sprint(float32Of(w.Usage))},
		{"status", fmt.Sprint(*g.Status), fmt.Sprint(int32(w.Status))},
		{"unit", g.Unit.Value(), string(w.Unit)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Fatalf("resource %s: %s = %s, want %s", w.ResourceID, c.field, c.got, c.want)
		}
	}
}

func testListFilters(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	all := e.fx.byProject[tenantA]
	window := func(days int) *time.Time { return ptr(baseTime.Add(time.Duration(days) * 24 * time.Hour)) }
	// An expiry that exists in the fixture, to prove both bounds are inclusive.
	var edge time.Time
	for _, r := range all {
		if !r.ExpireTime.IsZero() {
			edge = r.ExpireTime
			break
		}
	}
	cases := map[string]listQuery{
		"all sources":           {sources: allSources},
		"one source":            {sources: []string{"PURCHASED"}},
		"two sources":           {sources: []string{"SP_ALLOCATED", "ADMIN_ALLOCATED"}},
		"business":              {sources: allSources, business: []string{"VOICE_CLONE"}},
		"two businesses":        {sources: allSources, business: []string{"LIVE_2D", "VIDEO_2D"}},
		"resource type":         {sources: allSources, resource: []string{"VIDEO_2D_MIN"}},
		"two resource types":    {sources: allSources, resource: []string{"TTS_CHARS", "Interaction.basic.channel"}},
		"resource id":           {sources: allSources, resourceID: "res-0017"},
		"resource id other src": {sources: []string{"PURCHASED"}, resourceID: "res-0017"},
		"unknown resource id":   {sources: allSources, resourceID: "res-9999"},
		"order id":              {sources: allSources, orderID: "order-3"},
		"charging mode":         {sources: allSources, chargingMode: "ON_DEMAND"},
		"sub resource":          {sources: allSources, subResource: "voice_clone_flexus"},
		"status normal":         {sources: allSources, status: ptr(int32(0))},
		"status frozen":         {sources: allSources, status: ptr(int32(1))},
		"expire start":          {sources: allSources, start: window(200)},
		"expire end":            {sources: allSources, end: window(100)},
		"expire window":         {sources: allSources, start: window(50), end: window(150)},
		"expire edge inclusive": {sources: allSources, start: &edge, end: &edge},
		"combination": {sources: []string{"PURCHASED", "ADMIN_ALLOCATED"}, business: []string{"VOICE_CLONE", "LIVE_2D", "VIDEO_2D", "CHAT_2D"},
			chargingMode: "ONE_TIME", status: ptr(int32(0)), start: window(10), end: window(300)},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			want := q.expect(all)
			if name == "expire edge inclusive" && len(want) == 0 {
				t.Fatal("fixture has no resource on the window edge")
			}
			got := listAll(t, e, client, q, 7)
			checkItems(t, got, want)
		})
	}
	t.Run("default limit is 10", func(t *testing.T) {
		resp, err := client.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED"})
		if err != nil {
			t.Fatal(err)
		}
		checkItems(t, *resp.Resources, all[:10])
		if int(resp.Count) != len(all) {
			t.Fatalf("count %v, want %d", resp.Count, len(all))
		}
	})
	t.Run("limit 100 and offset past the end", func(t *testing.T) {
		q := listQuery{sources: allSources, limit: ptr(int32(100)), offset: ptr(int32(200))}
		resp, err := client.ListTenantResources(q.sdk())
		if err != nil {
			t.Fatal(err)
		}
		checkItems(t, *resp.Resources, all[200:])
		q.offset = ptr(int32(2147483647))
		resp, err = client.ListTenantResources(q.sdk())
		if err != nil {
			t.Fatal(err)
		}
		if len(*resp.Resources) != 0 || int(resp.Count) != len(all) {
			t.Fatalf("past the end: %d items, count %v", len(*resp.Resources), resp.Count)
		}
	})
	t.Run("tenant with no resources", func(t *testing.T) {
		ak, sk := e.credential(t, tenantC)
		resp, err := e.sdk(t, ak, sk, tenantC).ListTenantResources(listQuery{sources: allSources}.sdk())
		if err != nil {
			t.Fatal(err)
		}
		if resp.Resources == nil || len(*resp.Resources) != 0 || resp.Count != 0 {
			t.Fatalf("got %+v", resp)
		}
	})
	t.Run("isolation: same resource ids, other tenant", func(t *testing.T) {
		ak, sk := e.credential(t, tenantB)
		q := listQuery{sources: allSources, limit: ptr(int32(100))}
		resp, err := e.sdk(t, ak, sk, tenantB).ListTenantResources(q.sdk())
		if err != nil {
			t.Fatal(err)
		}
		checkItems(t, *resp.Resources, q.expect(e.fx.byProject[tenantB]))
	})
}

func testListErrors(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	cases := []struct {
		name  string
		req   *model.ListTenantResourcesRequest
		param string
	}{
		{"no resource_source", &model.ListTenantResourcesRequest{}, "resource_source"},
		{"unknown source", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED,STOLEN"}, "resource_source"},
		{"empty item in source list", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED,"}, "resource_source"},
		{"limit 0", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Limit: ptr(int32(0))}, "limit"},
		{"limit 101", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Limit: ptr(int32(101))}, "limit"},
		{"negative offset", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Offset: ptr(int32(-1))}, "offset"},
		{"unknown business", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Business: ptr("VOICE_CLONE,TELEPORT")}, "business"},
		{"unknown charging mode", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", ChargingMode: ptr("MONTHLY")}, "charging_mode"},
		{"unknown sub resource", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", SubResource: ptr("flexus")}, "sub_resource"},
		{"status 2", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Status: ptr(int32(2))}, "status"},
		{"bad start time", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", ResourceExpireStartTime: ptr("2021-13-01")}, "resource_expire_start_time"},
		{"bad end time", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", ResourceExpireEndTime: ptr("yesterday")}, "resource_expire_end_time"},
		{"start after end", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED",
			ResourceExpireStartTime: ptr("2026-02-01T00:00:00Z"), ResourceExpireEndTime: ptr("2026-01-01T00:00:00Z")}, "resource_expire_start_time"},
		{"empty business", &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Business: ptr("")}, "business"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := client.ListTenantResources(c.req)
			serviceError(t, err, 400, "MSS.00000003", c.param)
		})
	}
	t.Run("raw query errors", func(t *testing.T) {
		for _, raw := range []string{"resource_source", "resource_source=", "resource_source=PURCHASED&limit=abc",
			"resource_source=PURCHASED&limit=1&limit=2"} {
			resp, body := e.signedGet(t, "/v1/"+tenantA+"/tenants/resources?"+raw, ak, sk, time.Now(), nil)
			if resp.StatusCode != 400 || !contains(body, `"error_code":"MSS.00000003"`) || !contains(body, `"error_msg"`) {
				t.Fatalf("%s: %d %s", raw, resp.StatusCode, body)
			}
		}
	})
}

func contains(body []byte, s string) bool { return bytes.Contains(body, []byte(s)) }
