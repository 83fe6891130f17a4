package allottest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/app"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

const allSources = "PURCHASED,ADMIN_ALLOCATED,SP_ALLOCATED"

func video(amount int64) allot.PackageRequest {
	return allot.PackageRequest{ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(amount)}
}

// must fails the test on a refused operation: must(t)(srv.Admin().X(...)).
func must(t *testing.T) func(allot.OpResult, error) allot.OpResult {
	t.Helper()
	return func(out allot.OpResult, err error) allot.OpResult {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// listIDs lists the project's packages through the official SDK.
func listIDs(t *testing.T, srv *allottest.Server) map[string]float32 {
	t.Helper()
	resp, err := srv.Client().ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: allSources})
	if err != nil {
		t.Fatalf("ListTenantResources: %v", err)
	}
	got := map[string]float32{}
	for _, r := range *resp.Resources {
		got[*r.ResourceId] = *r.Usage
	}
	if int(resp.Count) != len(got) {
		t.Fatalf("count %v, but %d resources", resp.Count, len(got))
	}
	return got
}

func TestRunServesTheSDK(t *testing.T) {
	t.Parallel()
	srv := allottest.Run(t)
	if srv.ProjectID != allottest.ProjectID || srv.AK != allottest.AccessKey || srv.SK != allottest.SecretKey || srv.Token != allottest.Token || srv.Region != "cn-north-4" {
		t.Fatalf("default credentials: %+v", srv)
	}
	if got := listIDs(t, srv); len(got) != 0 {
		t.Fatalf("a new server lists %v, want nothing", got)
	}
	p := must(t)(srv.Admin().Purchase(video(100)))
	must(t)(srv.Admin().Consume(allot.ConsumeRequest{ResourceID: p.Resource.ResourceID, Amount: allottest.Units(7)}))
	if got := listIDs(t, srv); len(got) != 1 || got[p.Resource.ResourceID] != 7 {
		t.Fatalf("after a purchase and a consume of 7: %v", got)
	}
	// The token of the seed works too, over plain HTTP.
	req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/v1/"+srv.ProjectID+"/tenants/resources?resource_source=PURCHASED", nil)
	req.Header.Set("X-Auth-Token", srv.Token)
	if status, body := do(t, req); status != 200 || !strings.Contains(body, p.Resource.ResourceID) {
		t.Fatalf("with the token: %d %s", status, body)
	}
	entries, err := srv.Admin().Ledger()
	if err != nil || len(entries) != 2 || entries[0].Op != allot.OpPurchase || entries[1].Op != allot.OpConsume {
		t.Fatalf("ledger: %v, %v", entries, err)
	}
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestParallelServersShareNothing: two servers with the same fixed
// credentials, one project id, side by side.
func TestParallelServersShareNothing(t *testing.T) {
	t.Parallel()
	a, b := allottest.Run(t), allottest.Run(t)
	if a.Endpoint == b.Endpoint {
		t.Fatalf("both servers at %s", a.Endpoint)
	}
	pa := must(t)(a.Admin().Purchase(video(1)))
	if got := listIDs(t, b); len(got) != 0 {
		t.Fatalf("server b lists %v, bought on server a", got)
	}
	if got := listIDs(t, a); len(got) != 1 || got[pa.Resource.ResourceID] != 0 {
		t.Fatalf("server a lists %v", got)
	}
	for i := range 4 {
		t.Run("parallel", func(t *testing.T) {
			t.Parallel()
			srv := allottest.Run(t)
			for range i + 1 {
				must(t)(srv.Admin().Purchase(video(1)))
			}
			if got := listIDs(t, srv); len(got) != i+1 {
				t.Fatalf("server %d lists %d packages, want %d", i, len(got), i+1)
			}
		})
	}
}

// TestReset: back to the seed, with no snapshot of before surviving: the
// package bought after the reset gets the tenant the same version number
// the list cached before it.
func TestReset(t *testing.T) {
	t.Parallel()
	srv := allottest.Run(t)
	old := must(t)(srv.Admin().Purchase(allot.PackageRequest{ResourceID: "res-before", ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(5)}))
	if got := listIDs(t, srv); len(got) != 1 {
		t.Fatalf("before reset: %v", got)
	}
	srv.Faults(api.FaultRule{Op: "CountTenantResources", Status: 500})
	// A token made during the test, used once so the server caches it.
	token, _, err := app.NewToken(t.Context(), srv.Store(), srv.ProjectID, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	withToken := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/v1/"+srv.ProjectID+"/tenants/resources?resource_source=PURCHASED", nil)
		req.Header.Set("X-Auth-Token", token)
		status, _ := do(t, req)
		return status
	}
	if got := withToken(); got != 200 {
		t.Fatalf("a new token: %d", got)
	}
	srv.Reset()
	if got := withToken(); got != 401 {
		t.Fatalf("a token made before the reset: %d, want 401 at once (no cached credential survives)", got)
	}
	if got := listIDs(t, srv); len(got) != 0 {
		t.Fatalf("after reset: %v, want nothing", got)
	}
	fresh := must(t)(srv.Admin().Purchase(allot.PackageRequest{ResourceID: "res-after", ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(5)}))
	if got := listIDs(t, srv); len(got) != 1 || got["res-after"] != 0 {
		t.Fatalf("after reset and a new purchase: %v, want only res-after (not %s)", got, old.Resource.ResourceID)
	}
	_ = fresh
	// The faults and the recorded requests went with the reset.
	if _, err := srv.Client().CountTenantResources(&model.CountTenantResourcesRequest{}); err != nil {
		t.Fatalf("CountTenantResources after reset: %v (the fault rule should be gone)", err)
	}
	for _, r := range srv.Requests() {
		if r.At.Before(time.Now().Add(-time.Hour)) {
			t.Fatalf("old request survived: %+v", r)
		}
	}
	// An order id may be bought again: the idempotency records are gone.
	must(t)(srv.Admin().Purchase(allot.PackageRequest{ResourceID: "res-before", OrderID: "order-1", ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(5)}))
	srv.Reset()
	must(t)(srv.Admin().Purchase(allot.PackageRequest{ResourceID: "res-before", OrderID: "order-1", ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(6)}))
}

// TestClock: the clock drives package and token expiry and the ledger's
// times; the SDK's signatures, made with the real time, still pass.
func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	seed := append(allottest.DefaultSeed(), []byte(`{"kind":"token","project_id":"allottest-project","token":"short-lived-token","expires_at":"2030-01-01T01:00:00Z"}`+"\n")...)
	srv := allottest.Run(t, allottest.WithSeedData(seed), allottest.WithClock(start))
	if got := srv.Clock().Now(); !got.Equal(start) {
		t.Fatalf("clock reads %v, want %v (frozen at the start)", got, start)
	}
	req := video(10)
	req.ExpireTime = start.Add(30 * 24 * time.Hour)
	p := must(t)(srv.Admin().Purchase(req))
	if at := p.Entries[0].At; !at.Equal(start) {
		t.Fatalf("ledger entry at %v, want the clock's %v", at, start)
	}
	tokenStatus := func() int {
		r, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/v1/"+srv.ProjectID+"/tenants/resources?resource_source=PURCHASED", nil)
		r.Header.Set("X-Auth-Token", "short-lived-token")
		status, _ := do(t, r)
		return status
	}
	if got := tokenStatus(); got != 200 {
		t.Fatalf("token before expiry: %d", got)
	}
	srv.Clock().Advance(31 * 24 * time.Hour)
	_, err := srv.Admin().Consume(allot.ConsumeRequest{ResourceID: p.Resource.ResourceID, Amount: allottest.Units(1)})
	if allot.ErrorCodeOf(err) != allot.ECONFLICT || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("consume after expiry: %v, want ECONFLICT expired", err)
	}
	if got := tokenStatus(); got != 401 {
		t.Fatalf("token after the clock passed its expiry: %d, want 401", got)
	}
	if got := listIDs(t, srv); len(got) != 1 {
		t.Fatalf("the SDK, signing with the real time 31 days before the clock, lists %v", got)
	}
}

// TestFaultsAndRequests: an injected fault reaches the SDK as the real
// service's error; the ring shows it, and the ledger entries of a
// management call.
func TestFaultsAndRequests(t *testing.T) {
	t.Parallel()
	srv := allottest.Run(t)
	srv.Faults(api.FaultRule{Op: "ListTenantResources", Count: 1, Status: 429})
	_, err := srv.Client().ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: allSources})
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) || se.StatusCode != 429 || se.ErrorCode != "APIG.0308" {
		t.Fatalf("with a 429 fault: %v", err)
	}
	if got := listIDs(t, srv); len(got) != 0 { // count 1: used up
		t.Fatalf("after the fault: %v", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || !reqs[0].Fault || reqs[0].Status != 429 || reqs[1].Fault || reqs[1].Status != 200 ||
		reqs[1].Auth != "aksk" || reqs[1].Operation != "ListTenantResources" || reqs[1].AccessKey != srv.AK {
		b, _ := json.Marshal(reqs)
		t.Fatalf("recorded: %s", b)
	}
}

// TestWithSeedFile: a seed of the user's own, with its own credentials.
func TestWithSeedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "seed.jsonl")
	os.WriteFile(path, []byte(`{"kind":"project","project_id":"team-a","name":"Team A","region_id":"cn-east-3"}
{"kind":"resource","project_id":"team-a","resource_id":"voice-1","resource_type":"VOICE_CLONE_NUM","business_type":"VOICE_CLONE","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":5,"usage":2,"unit":"NUM","resource_expire_time":"2099-01-01T00:00:00Z"}
{"kind":"credential","project_id":"team-a","access_key":"TEAMAACCESSKEY000001","secret_key":"team-a-secret-key-0001"}
`), 0o600)
	srv := allottest.Run(t, allottest.WithSeed(path))
	if srv.ProjectID != "team-a" || srv.AK != "TEAMAACCESSKEY000001" || srv.Region != "cn-east-3" || srv.AdminKey != allottest.AdminKey {
		t.Fatalf("from the seed: %+v", srv)
	}
	if got := listIDs(t, srv); len(got) != 1 || got["voice-1"] != 2 {
		t.Fatalf("seeded: %v", got)
	}
	must(t)(srv.Admin().Consume(allot.ConsumeRequest{ResourceID: "voice-1", Amount: allottest.Units(1)}))
	srv.Reset()
	if got := listIDs(t, srv); got["voice-1"] != 2 {
		t.Fatalf("after reset: %v, want the seed's usage 2", got)
	}
}

// TestResetLiftsLockouts: a test that makes the key lock itself out with
// bad signatures leaves the next test, after a reset, a working key.
func TestResetLiftsLockouts(t *testing.T) {
	t.Parallel()
	srv := allottest.Run(t)
	bad := srv.ClientFor(srv.AK, "not-the-secret-key-00000000000000000000", srv.ProjectID)
	for range 7 {
		bad.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: allSources})
	}
	_, err := srv.Client().ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: allSources})
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) || se.StatusCode != 401 || !strings.Contains(se.ErrorMessage, "locked") {
		t.Fatalf("the right secret after 7 bad signatures: %v, want 401 locked (else this test shows nothing)", err)
	}
	srv.Reset()
	if got := listIDs(t, srv); len(got) != 0 {
		t.Fatalf("after reset: %v", got)
	}
}

// TestAdminHelpers runs every helper once and checks its effect through
// the SDK.
func TestAdminHelpers(t *testing.T) {
	t.Parallel()
	seed := []byte(`{"kind":"project","project_id":"sp-1","name":"Provider","region_id":"cn-north-4"}
{"kind":"project","project_id":"customer-1","name":"Customer","region_id":"cn-north-4","sp_project_id":"sp-1"}
{"kind":"credential","project_id":"customer-1","access_key":"CUSTOMERACCESSKEY001","secret_key":"customer-secret-key-1"}
`)
	srv := allottest.Run(t, allottest.WithSeedData(seed))
	adm := srv.Admin()
	live := allot.PackageRequest{ProjectID: "sp-1", ResourceType: "Interaction.basic.channel", BusinessType: "LIVE_2D", ChargingMode: "ONE_TIME", Unit: "CHANNEL", Amount: allottest.Units(10)}
	must(t)(adm.Purchase(live))
	alloc := must(t)(adm.Allocate(allot.AllocateRequest{SPProjectID: "sp-1", ResourceSpecCode: "Interaction.basic.channel", Amount: allottest.Units(4)}))
	grant := must(t)(adm.Grant(video(50)))
	must(t)(adm.Consume(allot.ConsumeRequest{ResourceID: grant.Resource.ResourceID, Amount: allottest.Units(20)}))
	must(t)(adm.Refund(allot.RefundRequest{ResourceRef: allot.ResourceRef{ResourceID: grant.Resource.ResourceID}, Amount: allottest.Units(5), Reason: "outage"}))
	if got := listIDs(t, srv); len(got) != 2 || got[grant.Resource.ResourceID] != 15 || got[alloc.Resource.ResourceID] != 0 {
		t.Fatalf("after grant, allocation, consume 20, refund 5: %v", got)
	}
	rec, err := srv.Client().ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{})
	if err != nil || rec.ResourceCount == nil || *rec.ResourceCount != 1 {
		t.Fatalf("assignment records: %v, %v", rec, err)
	}

	must(t)(adm.Freeze(grant.Resource.ResourceID, "audit"))
	if _, err := adm.Consume(allot.ConsumeRequest{ResourceID: grant.Resource.ResourceID, Amount: allottest.Units(1)}); allot.ErrorCodeOf(err) != allot.ECONFLICT {
		t.Fatalf("consume of a frozen package: %v, want ECONFLICT", err)
	}
	must(t)(adm.Unfreeze(grant.Resource.ResourceID, "done"))
	two := allottest.Units(2)
	must(t)(adm.Reclaim(allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ResourceID: alloc.Resource.ResourceID}, Amount: &two}))
	must(t)(adm.Cancel(grant.Resource.ResourceID, "closed"))
	got := listIDs(t, srv)
	if _, listed := got[grant.Resource.ResourceID]; listed || len(got) != 1 {
		t.Fatalf("after cancelling the grant: %v, want only the allocation", got)
	}
	entries, err := adm.Ledger()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		ops = append(ops, string(e.Op))
	}
	if got, want := strings.Join(ops, " "), "sp_grant_in admin_grant consume refund freeze unfreeze reclaim cancel"; got != want {
		t.Fatalf("the customer's ledger: %s, want %s", got, want)
	}
}

// TestAdminReservations: Reserve, Commit and Release through the helpers;
// the SDK sees settled usage only, and a hold nobody settles comes back
// when the test moves the clock past its TTL, without any request.
func TestAdminReservations(t *testing.T) {
	t.Parallel()
	srv := allottest.Run(t, allottest.WithClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	adm := srv.Admin()
	pkg := must(t)(adm.Grant(video(50)))
	id := pkg.Resource.ResourceID
	reserve := func(n int64, ttl int64) allot.ReservationResult {
		t.Helper()
		r, err := adm.Reserve(allot.ReserveRequest{ResourceID: id, Amount: allottest.Units(n), TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	job := reserve(10, 3600)
	if got := listIDs(t, srv)[id]; got != 0 {
		t.Fatalf("usage %v while 10 are held, want 0: holds are not usage", got)
	}
	if _, err := adm.Commit(job.ReservationID, allottest.Units(7)); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, srv)[id]; got != 7 {
		t.Fatalf("usage %v after committing 7 of 10, want 7", got)
	}
	failed := reserve(20, 3600)
	if _, err := adm.Release(failed.ReservationID); err != nil {
		t.Fatal(err)
	}
	forgotten := reserve(40, 60) // 43 left: 7 used, nothing else held
	if _, err := adm.Reserve(allot.ReserveRequest{ResourceID: id, Amount: allottest.Units(4), TTL: 60}); allot.ErrorCodeOf(err) != allot.ECONFLICT {
		t.Fatalf("a fourth hold over what is left: %v, want ECONFLICT", err)
	}
	srv.Clock().Advance(2 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, err := adm.Ledger()
		if err != nil {
			t.Fatal(err)
		}
		expired := false
		for _, e := range entries {
			expired = expired || (e.Op == allot.OpHoldExpired && e.Ref == forgotten.ReservationID)
		}
		if expired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no hold_expired entry 10 s after the clock passed the hold's TTL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := adm.Commit(forgotten.ReservationID, allottest.Units(1)); allot.ErrorCodeOf(err) != allot.ECONFLICT {
		t.Fatalf("commit of an expired hold: %v, want ECONFLICT", err)
	}
	reserve(43, 60) // everything unused is available again
}
