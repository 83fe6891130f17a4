package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/secret"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSweeperFollowsTheClock: with the app on a frozen ManualClock, a hold
// reserved through the management API expires when the clock is moved past
// its TTL, with no request arriving: the sweeper writes a hold_expired entry
// by actor system, stamped with the clock's time, and a commit is then
// refused. Before the TTL nothing expires, however long the test runs.
func TestSweeperFollowsTheClock(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testSweeperFollowsTheClock(t, filepath.Join(t.TempDir(), "allot.db"))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		pgtest.NeedDB(t)
		testSweeperFollowsTheClock(t, pgtest.NewSchemaDSN(t))
	})
}

func testSweeperFollowsTheClock(t *testing.T, dsn string) {
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second)
	clock := allot.NewManualClock(start)
	clock.Freeze(true)
	clock.Set(start)
	store, err := app.OpenStore(ctx, dsn, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateProject(ctx, allot.Project{ID: "tenant", Name: "T", RegionID: "r"}); err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte("key-of-ops"))
	if err := store.CreateAdminKey(ctx, allot.AdminKey{ID: "ops", Hash: hash[:], Role: allot.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	key, _ := secret.ParseKey(secret.NewKey())
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, app.Config{Store: store, Keyring: keyring, Clock: clock, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	post := func(path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", a.AdminURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer key-of-ops")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := post("/admin/v1/packages", `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN",`+
		`"business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":10}`); status != 201 {
		t.Fatalf("package: %d %s", status, b)
	}
	status, b := post("/admin/v1/reservations", `{"project_id":"tenant","resource_id":"pkg","amount":4,"ttl":60,"idempotency_key":"job"}`)
	var held allot.ReservationResult
	if err := json.Unmarshal(b, &held); err != nil || status != 201 {
		t.Fatalf("reserve: %d %s", status, b)
	}
	if !held.ExpiresAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("expires at %v, want the clock's %v plus the TTL", held.ExpiresAt, start.Add(time.Minute))
	}

	// One second short of the TTL: a sweep at that reading expires nothing.
	clock.Advance(59 * time.Second)
	if n, err := a.Service.ExpireHolds(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("a sweep before the TTL expired %d (%v)", n, err)
	}
	clock.Advance(time.Second)
	var v allot.Reservation
	for v.State != allot.ReservationExpired { // the app's sweeper, not a request
		if v, err = store.FindReservation(ctx, held.ReservationID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !v.SettledAt.Equal(clock.Now()) {
		t.Fatalf("settled at %v, want the clock's %v", v.SettledAt, clock.Now())
	}
	es, _, err := store.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "tenant", ResourceID: "pkg", Page: allot.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if last.Op != allot.OpHoldExpired || last.Actor != allot.SystemActor || last.HeldDelta != -4*allot.QuantityScale ||
		last.Ref != held.ReservationID || !last.At.Equal(clock.Now()) {
		t.Fatalf("last entry %+v, want hold_expired by system at the clock's time", last)
	}
	if status, b := post("/admin/v1/reservations/"+held.ReservationID+"/commit", `{"amount":1,"idempotency_key":"c"}`); status != 409 {
		t.Fatalf("commit of the expired hold: %d %s, want 409", status, b)
	}
	if d, err := store.Drift(ctx); err != nil || len(d) != 0 {
		t.Fatalf("drift: %+v %v", d, err)
	}
}

// TestSweeperAtStart: holds that fell due while no process ran are
// released by the first sweep of the next one, with no request and no
// clock move after it starts.
func TestSweeperAtStart(t *testing.T) {
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second)
	clock := allot.NewManualClock(start)
	clock.Freeze(true)
	clock.Set(start)
	store, err := app.OpenStore(ctx, filepath.Join(t.TempDir(), "allot.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateProject(ctx, allot.Project{ID: "tenant", Name: "T", RegionID: "r"}); err != nil {
		t.Fatal(err)
	}
	svc := &allot.Service{Store: store}
	root := allot.Actor{ID: "ops", Role: allot.RoleAdmin}
	if _, err := svc.AddPackage(ctx, root, allot.PackageRequest{ProjectID: "tenant", ResourceID: "pkg", Source: allot.SourcePurchased, OrderID: "o1",
		ResourceType: "MIN", BusinessType: "VIDEO_2D", ChargingMode: "ONE_TIME", Unit: "MIN", Amount: 10 * allot.QuantityScale}); err != nil {
		t.Fatal(err)
	}
	held, err := svc.Reserve(ctx, root, allot.ReserveRequest{ProjectID: "tenant", ResourceID: "pkg", Amount: allot.QuantityScale, TTL: 30, IdempotencyKey: "job"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour) // while nothing runs

	key, _ := secret.ParseKey(secret.NewKey())
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, app.Config{Store: store, Keyring: keyring, Clock: clock, Addr: "127.0.0.1:0", AdminAddr: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	var v allot.Reservation
	for v.State != allot.ReservationExpired {
		if v, err = store.FindReservation(ctx, held.ReservationID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !v.SettledAt.Equal(clock.Now()) {
		t.Fatalf("settled at %v, want the clock's %v", v.SettledAt, clock.Now())
	}
}
