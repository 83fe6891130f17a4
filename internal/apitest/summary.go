package apitest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
)

func testSummaries(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	all := e.fx.byProject[tenantA]

	t.Run("count", func(t *testing.T) {
		start, end := baseTime.Add(30*24*time.Hour), baseTime.Add(200*24*time.Hour)
		for _, q := range []listQuery{
			{sources: allSources},
			{sources: allSources, business: []string{"LIVE_2D", "VOICE_CLONE"}},
			{sources: allSources, start: &start, end: &end},
		} {
			want := map[string]int{}
			for _, r := range q.expect(all) {
				want[fmt.Sprint(r.BusinessType, "/", r.ChargingMode, "/", r.Source)]++
			}
			req := &model.CountTenantResourcesRequest{Business: join(q.business), ResourceExpireStartTime: timeString(q.start), ResourceExpireEndTime: timeString(q.end)}
			resp, err := client.CountTenantResources(req)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, c := range *resp.ResourcesCount {
				got[fmt.Sprint(*c.BusinessType, "/", *c.ChargingMode, "/", *c.ResourceSource)] = int(c.Count)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("counts %v\nwant %v", got, want)
			}
		}
		_, err := client.CountTenantResources(&model.CountTenantResourcesRequest{Business: ptr("NOPE")})
		serviceError(t, err, 400, "MSS.00000003", "business")
	})

	t.Run("usage", func(t *testing.T) {
		for _, q := range []listQuery{
			{sources: allSources},
			{sources: allSources, resource: []string{"VIDEO_2D_MIN", "TTS_CHARS"}, business: []string{"VIDEO_2D", "LIVE_2D", "CHAT_2D"}},
		} {
			type sum struct{ amount, usage allot.Quantity }
			want := map[string]*sum{}
			for _, r := range q.expect(all) {
				k := strings.Join([]string{r.ResourceType, string(r.BusinessType), string(r.SubResourceType), fmt.Sprint(r.IsSubResource), string(r.ChargingMode), string(r.Source), string(r.Unit)}, "/")
				if want[k] == nil {
					want[k] = &sum{}
				}
				want[k].amount += r.Amount
				want[k].usage += r.Usage
			}
			resp, err := client.ShowResourceUsage(&model.ShowResourceUsageRequest{Resource: join(q.resource), Business: join(q.business)})
			if err != nil {
				t.Fatal(err)
			}
			got := *resp.Resources
			if len(got) != len(want) {
				t.Fatalf("%d groups, want %d", len(got), len(want))
			}
			for _, g := range got {
				sub := ""
				if g.SubResourceType != nil {
					sub = *g.SubResourceType
				}
				k := strings.Join([]string{*g.ResourceType, g.BusinessType.Value(), sub, fmt.Sprint(*g.IsSubResource), g.ChargingMode.Value(), *g.ResourceSource, g.Unit.Value()}, "/")
				w := want[k]
				if w == nil || *g.Amount != float32Of(w.amount) || *g.Usage != float32Of(w.usage) {
					t.Fatalf("group %s: amount %v usage %v, want %+v", k, *g.Amount, *g.Usage, w)
				}
			}
			keys := make([]string, 0, len(got))
			for _, g := range got {
				keys = append(keys, *g.ResourceType)
			}
			if !slices.IsSorted(keys) {
				t.Fatalf("groups not ordered by resource type: %v", keys)
			}
		}
	})
}
