package apitest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
)

// Run runs the whole end-to-end suite against stores made by open. Each
// top-level group gets its own server and freshly loaded store.
func Run(t *testing.T, open func(t *testing.T) allot.Store) {
	groups := map[string]func(*testing.T, *env){
		"ListFilters":         testListFilters,
		"ListErrors":          testListErrors,
		"AssignRecords":       testAssignRecords,
		"Auth":                testAuth,
		"Transport":           testTransport,
		"Freshness":           testFreshness,
		"StablePaging":        testStablePaging,
		"Management":          testManagement,
		"Summaries":           testSummaries,
		"CredentialHeaders":   testCredentialHeaders,
		"MalformedAccessKey":  testMalformedAccessKey,
		"Revocation":          testRevocation,
		"ManagementHardening": testManagementHardening,
		"Orders":              testOrders,
		"Surface":             testSurface,
		"Probe":               testProbe,
		"Exports":             testExports,
		"NoticeConfigs":       testNoticeConfigs,
	}
	t.Run("Lockout", func(t *testing.T) {
		t.Parallel()
		testLockout(t, open)
	})
	t.Run("Clock", func(t *testing.T) {
		t.Parallel()
		testClock(t, open)
	})
	t.Run("Webhooks", func(t *testing.T) {
		t.Parallel()
		testWebhooks(t, open)
	})
	t.Run("RateLimit", func(t *testing.T) {
		t.Parallel()
		testRateLimit(t, open)
	})
	for name, fn := range groups {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, start(t, open))
		})
	}
}

// testFreshness: a read that starts after a write was acknowledged sees it,
// both for a new resource and for a new assignment.
func testFreshness(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	q := listQuery{sources: allSources, limit: ptr(int32(100)), offset: ptr(int32(200))}
	for i := range 5 {
		resp, err := client.ListTenantResources(q.sdk())
		if err != nil {
			t.Fatal(err)
		}
		if want := len(e.fx.byProject[tenantA]); int(resp.Count) != want {
			t.Fatalf("round %d: count %v, want %d", i, resp.Count, want)
		}
		r := allot.Resource{ProjectID: tenantA, ResourceID: fmt.Sprintf("fresh-%d", i), ResourceType: "VIDEO_2D_MIN",
			BusinessType: "VIDEO_2D", ChargingMode: "ONE_TIME", Source: "PURCHASED", Unit: "MIN", Amount: 5 * allot.QuantityScale}
		a := allot.Assignment{RecordID: fmt.Sprintf("fresh-assign-%d", i), SPProjectID: spProj, CustomerProjectID: tenantA,
			ResourceSpecCode: "spec.fresh", ChargingMode: "ONE_TIME", ResourceNum: allot.QuantityScale, AllocateTime: baseTime, ExpireTime: baseTime}
		if err := e.store.Import(context.Background(), allot.ImportBatch{Resources: []allot.Resource{r}, Assignments: []allot.Assignment{a}}); err != nil {
			t.Fatal(err)
		}
		e.fx.byProject[tenantA] = append(e.fx.byProject[tenantA], r)
		resp, err = client.ListTenantResources(q.sdk())
		if err != nil {
			t.Fatal(err)
		}
		page := *resp.Resources
		if len(page) == 0 {
			t.Fatalf("round %d: new resource not listed", i)
		}
		checkItem(t, page[len(page)-1], r)
		rec, err := client.ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{Limit: ptr(int32(100))})
		if err != nil {
			t.Fatal(err)
		}
		if int(*rec.ResourceCount) != len(e.fx.batch.Assignments)+i+1 {
			t.Fatalf("round %d: resource_count %d", i, *rec.ResourceCount)
		}
	}
}

// testStablePaging walks every page of one tenant while another tenant
// writes: every match is returned exactly once.
func testStablePaging(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 500; i++ {
			r := allot.Resource{ProjectID: tenantB, ResourceID: fmt.Sprintf("busy-%d", i), ResourceType: "TTS_CHARS",
				BusinessType: "SYNTHETICS_SOUND", ChargingMode: "ON_DEMAND", Source: "PURCHASED", Unit: "TIME", Amount: allot.QuantityScale}
			if err := e.store.Import(ctx, allot.ImportBatch{Resources: []allot.Resource{r}}); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for range 3 {
		q := listQuery{sources: allSources}
		checkItems(t, listAll(t, e, client, q, 9), q.expect(e.fx.byProject[tenantA]))
	}
	cancel()
	wg.Wait()
}
