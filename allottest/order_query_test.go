package allottest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"
)

// TestSubscriptionQueryPages: the BSS subscription query without filters,
// paged in the store, answers each page and the total of the fixture's
// ordered packages, cut by the test; with an order id, that order's only;
// with a filter (status_list), the same packages as without.
func TestSubscriptionQueryPages(t *testing.T) {
	srv := allottest.Run(t)
	admin := srv.Admin()
	before, err := srv.Store().OrderResources(t.Context(), allot.OrderResourceQuery{ProjectID: srv.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	var oracle []string // every ordered package of the project, oldest first
	for _, r := range before {
		oracle = append(oracle, r.ResourceID)
	}
	byOrder := map[string][]string{}
	for i := range 7 {
		order := fmt.Sprintf("order-page-%d", i) // a purchase is keyed by its order id
		id := fmt.Sprintf("pkg-page-%d", i)
		if _, err := admin.Purchase(allot.PackageRequest{ResourceID: id, OrderID: order, ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D",
			ChargingMode: "ONE_TIME", Unit: "MIN", Amount: allottest.Units(10)}); err != nil {
			t.Fatal(err)
		}
		oracle = append(oracle, id)
		byOrder[order] = append(byOrder[order], id)
	}
	query := func(body string) ([]string, int) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.Endpoint+"/v2/orders/suscriptions/resources/query", strings.NewReader(body))
		req.Header.Set("X-Auth-Token", srv.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		}
		var out struct {
			Data []struct {
				ResourceID string `json:"resource_id"`
			} `json:"data"`
			TotalCount int `json:"total_count"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range out.Data {
			ids = append(ids, d.ResourceID)
		}
		return ids, out.TotalCount
	}
	check := func(extra string, all []string) {
		t.Helper()
		for _, limit := range []int{1, 3, 500} {
			for off := 0; off <= len(all)+1; off++ {
				got, total := query(fmt.Sprintf(`{%s"offset":%d,"limit":%d}`, extra, off, limit))
				from, to := allot.Page{Limit: limit, Offset: off}.Window(len(all))
				if total != len(all) || !slices.Equal(got, all[from:to]) {
					t.Fatalf("%s offset %d limit %d: %v of %d, want %v of %d", extra, off, limit, got, total, all[from:to], len(all))
				}
			}
		}
	}
	check("", oracle)
	check(`"order_id":"order-page-3",`, byOrder["order-page-3"])
	check(`"order_id":"no-such-order",`, nil)
	// Every package here is in effect (status 2): the filtered path, which
	// pages in allot, agrees.
	check(`"status_list":[2],`, oracle)
}
