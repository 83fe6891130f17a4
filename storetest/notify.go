package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunNotify runs the suite of notifications: notice configurations kept
// byte for byte, the once-per-crossing rule through every balance change,
// the outbox written with (and only with) the transaction that caused it,
// webhook scoping, delivery claims and leases, and the expiry sweep. open
// returns a new, empty store whose clock is clock.
func RunNotify(t *testing.T, open func(t *testing.T, clock allot.Clock) allot.Store) {
	tests := map[string]func(*testing.T, *ledgerEnv, *allot.ManualClock){
		"NoticeConfig":        testNoticeConfig,
		"OncePerCrossing":     testOncePerCrossing,
		"CrossingByAmount":    testCrossingByAmount,
		"ConcurrentCrossing":  testConcurrentCrossing,
		"RolledBackNoEvent":   testRolledBackNoEvent,
		"WebhookScope":        testWebhookScope,
		"Claims":              testClaims,
		"ExpirySweep":         testExpirySweep,
		"ReservationExpired":  testReservationExpiredEvent,
		"CrossingByReserve":   testCrossingByReserve,
		"ReclaimRearmsSPPool": testReclaimRearms,
		"OutboxRetention":     testOutboxRetention,
		"FailedDeliveries":    testFailedDeliveries,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now().UTC().Truncate(time.Second)
			clock := allot.NewManualClock(start)
			clock.Freeze(true)
			clock.Set(start)
			fn(t, newLedgerEnv(t, open(t, clock)), clock)
		})
	}
}

// claimRound makes each read of events claim later than the one before.
var claimRound atomic.Int64

// fakeSeal stands in for the keyring: the suite checks that the store
// keeps what it is given.
func fakeSeal(string, []byte) ([]byte, error) { return []byte("sealed"), nil }

func strPtr(s string) *string { return &s }

func (e *ledgerEnv) mustNotice(t *testing.T, project string, typ allot.NoticeType, props string) {
	t.Helper()
	if err := e.svc.SetNoticeConfig(e.ctx, allot.NoticeConfig{ProjectID: project, Type: typ, SendMsg: true, Properties: strPtr(props)}); err != nil {
		t.Fatalf("SetNoticeConfig: %v", err)
	}
}

// mustWebhook adds a webhook of actor for events and returns its id.
func (e *ledgerEnv) mustWebhook(t *testing.T, actor allot.Actor, project string, events ...string) string {
	t.Helper()
	w, err := e.svc.CreateWebhook(e.ctx, actor, allot.CreateWebhookRequest{URL: "http://127.0.0.1:9/hook", Secret: "0123456789abcdef0123",
		Events: events, ProjectID: project}, fakeSeal)
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return w.ID
}

// events returns the events delivered to a webhook, oldest first, decoded
// from the bodies a dispatcher would send.
func (e *ledgerEnv) events(t *testing.T, webhookID string, clock *allot.ManualClock) []allot.Event {
	t.Helper()
	ds, err := e.l.Deliveries(e.ctx, webhookID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, d := range ds {
		ids[d.ID] = true
	}
	// The bodies come from claims: claim everything, each time later than
	// the last claim's lease of a millisecond.
	at := clock.Now().Add(time.Duration(claimRound.Add(1)) * time.Hour)
	claims, err := e.l.ClaimDeliveries(e.ctx, at, time.Millisecond, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []allot.Event
	for _, c := range claims {
		if !ids[c.DeliveryID] {
			continue
		}
		var ev allot.Event
		if err := json.Unmarshal(c.Body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b allot.Event) int { return a.At.Compare(b.At) })
	return out
}

func (e *ledgerEnv) consume(t *testing.T, project, id string, amount allot.Quantity, key string) {
	t.Helper()
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: project, ResourceID: id, Amount: amount, IdempotencyKey: key}); err != nil {
		t.Fatalf("consume %s: %v", key, err)
	}
}

func (e *ledgerEnv) refund(t *testing.T, project, id string, amount allot.Quantity, key string) {
	t.Helper()
	if _, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: allot.ResourceRef{ProjectID: project, ResourceID: id},
		Amount: amount, Reason: "correction", IdempotencyKey: key}); err != nil {
		t.Fatalf("refund %s: %v", key, err)
	}
}

func countType(evs []allot.Event, typ string) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func testNoticeConfig(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	// Unset: SendMsg false, no properties.
	c, err := e.svc.NoticeConfig(e.ctx, "lone", allot.NoticeResourceLeft)
	if err != nil || c.SendMsg || c.Properties != nil {
		t.Fatalf("unset: %+v, %v", c, err)
	}
	for _, props := range []string{` {"threshold_percent" : 20 } `, "not json at all", "", "{\"days_before\":[7]}\n"} {
		want := allot.NoticeConfig{ProjectID: "lone", Type: allot.NoticeResourceExpire, SendMsg: true, Properties: strPtr(props)}
		if err := e.svc.SetNoticeConfig(e.ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.NoticeConfig(e.ctx, "lone", allot.NoticeResourceExpire)
		if err != nil || got.Properties == nil || *got.Properties != props || !got.SendMsg {
			t.Fatalf("properties %q came back as %+v, %v", props, got, err)
		}
	}
	// Without properties: none come back.
	if err := e.svc.SetNoticeConfig(e.ctx, allot.NoticeConfig{ProjectID: "lone", Type: allot.NoticeResourceExpire}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.NoticeConfig(e.ctx, "lone", allot.NoticeResourceExpire); got.Properties != nil || got.SendMsg {
		t.Fatalf("replaced: %+v", got)
	}
	// Another project's configuration is not this one's.
	if got, _ := e.svc.NoticeConfig(e.ctx, "sp-a", allot.NoticeResourceExpire); got.Properties != nil {
		t.Fatalf("sp-a sees lone's configuration: %+v", got)
	}
	err = e.svc.SetNoticeConfig(e.ctx, allot.NoticeConfig{ProjectID: "nobody", Type: allot.NoticeResourceLeft})
	if got, want := allot.ErrorCodeOf(err), allot.ENOTFOUND; got != want {
		t.Fatalf("unknown project: got %v, want %v", got, want)
	}
	err = e.svc.SetNoticeConfig(e.ctx, allot.NoticeConfig{ProjectID: "lone", Type: "RESOURCE_OTHER"})
	if got, want := allot.ErrorCodeOf(err), allot.EINVALID; got != want {
		t.Fatalf("bad type: got %v, want %v", got, want)
	}
	// The parsed settings.
	set := allot.NoticeConfig{Type: allot.NoticeResourceLeft, Properties: strPtr(`{"threshold_percent": 12.5, "threshold_amount": 5}`)}.Settings()
	if set.ThresholdPercent == nil || *set.ThresholdPercent != 12_500_000 || set.ThresholdAmount == nil || *set.ThresholdAmount != units(5) {
		t.Fatalf("settings: %+v", set)
	}
	days := allot.NoticeConfig{Type: allot.NoticeResourceExpire, Properties: strPtr(`{"days_before": [30, 7, 1, 7, 0, -3]}`)}.Settings().DaysBefore
	if !slices.Equal(days, []int{1, 7, 30}) {
		t.Fatalf("days_before: %v", days)
	}
}

// testOncePerCrossing walks a package of 100 with a 20% threshold through
// consumes and refunds, against an independent count of the crossings.
func testOncePerCrossing(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 100, future))
	e.mustNotice(t, "lone", allot.NoticeResourceLeft, `{"threshold_percent": 20}`)
	hook := e.mustWebhook(t, admin, "lone", allot.EventResourceLeft, allot.EventResourceDepleted)
	threshold := units(20)
	remaining := units(100)
	wantLeft, wantDepleted := 0, 0
	step := func(delta allot.Quantity, key string) {
		t.Helper()
		before := remaining
		if delta > 0 {
			e.consume(t, "lone", "p", delta, key)
		} else {
			e.refund(t, "lone", "p", -delta, key)
		}
		remaining -= delta
		if before > threshold && remaining <= threshold {
			wantLeft++
		}
		if before > 0 && remaining <= 0 {
			wantDepleted++
		}
	}
	step(units(79), "c1")  // 21: above
	step(1_500_000, "c2")  // 19.5: crossed
	step(units(1), "c3")   // 18.5
	step(-500_000, "r1")   // 19: still at or below
	step(-1_000_000, "r2") // 20: at, still
	step(units(1), "c4")   // 19
	step(-2_000_000, "r3") // 21: above again, re-armed
	step(units(1), "c5")   // 20: crossed again
	step(units(20), "c6")  // 0: depleted
	step(-units(30), "r4") // 30
	step(units(30), "c7")  // 0: both again
	evs := e.events(t, hook, clock)
	if got := countType(evs, allot.EventResourceLeft); got != wantLeft || wantLeft != 3 {
		t.Fatalf("resource.left: got %d, want %d (3)", got, wantLeft)
	}
	if got := countType(evs, allot.EventResourceDepleted); got != wantDepleted || wantDepleted != 2 {
		t.Fatalf("resource.depleted: got %d, want %d (2)", got, wantDepleted)
	}
	first := evs[0]
	if first.Type != allot.EventResourceLeft || first.ProjectID != "lone" || first.ResourceID != "p" || first.Remaining != 19_500_000 ||
		first.Amount != units(100) || first.Usage != 80_500_000 || first.Threshold == nil || *first.Threshold != threshold || !first.SendMsg || first.ID == "" {
		t.Fatalf("first event: %+v", first)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Fatalf("event id %s twice", ev.ID)
		}
		seen[ev.ID] = true
	}
	// A replay changes nothing and sends nothing.
	e.consume(t, "lone", "p", units(30), "c7")
	if got := len(e.events(t, hook, clock)); got != len(evs) {
		t.Fatalf("after a replay: %d events, want %d", got, len(evs))
	}
}

func testCrossingByAmount(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 10, future))
	e.mustNotice(t, "lone", allot.NoticeResourceLeft, `{"threshold_amount": 5}`)
	hook := e.mustWebhook(t, admin, "", allot.EventResourceLeft)
	e.consume(t, "lone", "p", units(4), "c1") // 6
	e.consume(t, "lone", "p", units(1), "c2") // 5: at the threshold
	e.consume(t, "lone", "p", units(1), "c3") // 4
	evs := e.events(t, hook, clock)
	if len(evs) != 1 || evs[0].Remaining != units(5) || *evs[0].Threshold != units(5) {
		t.Fatalf("events: %+v", evs)
	}
	// An increase of the amount lifts it above: re-armed.
	if _, err := e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}, Amount: ptrQ(units(1)), IdempotencyKey: "rc"}); err != nil {
		t.Fatal(err)
	}
	if got := len(e.events(t, hook, clock)); got != 1 {
		t.Fatalf("a reclaim that lowers the remaining amount while below: %d events, want 1", got)
	}
}

func ptrQ(q allot.Quantity) *allot.Quantity { return &q }

// testConcurrentCrossing: 50 concurrent consumes of 1.7 from 100 with a
// 20% threshold cross it exactly once.
func testConcurrentCrossing(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 100, future))
	e.mustNotice(t, "lone", allot.NoticeResourceLeft, `{"threshold_percent": 20}`)
	hook := e.mustWebhook(t, admin, "lone", allot.EventResourceLeft)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			_, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: 1_700_000, IdempotencyKey: fmt.Sprint("k", i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs := e.events(t, hook, clock)
	if len(evs) != 1 || evs[0].Type != allot.EventResourceLeft {
		t.Fatalf("got %d events (%+v), want one resource.left", len(evs), evs)
	}
	// Remaining after the crossing consume: the first at or below 20 of
	// 100 - 1.7n, n = 47: 20.1 > 20, n = 48: 18.4.
	if got, want := evs[0].Remaining, allot.Quantity(18_400_000); got != want {
		t.Fatalf("remaining: got %s, want %s", got, want)
	}
}

var errRollback = errors.New("roll back")

// testRolledBackNoEvent: an event written in a transaction that fails is
// gone with it, deliveries included; a failed consume emits nothing.
func testRolledBackNoEvent(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 10, future))
	e.mustNotice(t, "lone", allot.NoticeResourceLeft, `{"threshold_amount": 5}`)
	hook := e.mustWebhook(t, admin, "lone", allot.EventResourceLeft, allot.EventResourceDepleted)
	err := e.l.Update(e.ctx, []string{"lone"}, func(tx allot.Tx) error {
		ok, err := tx.InsertEvent(allot.Event{ID: "evt-rolled-back", Type: allot.EventResourceLeft, ProjectID: "lone", At: tx.Now()}, []byte(`{}`))
		if err != nil || !ok {
			return fmt.Errorf("insert: %v %v", ok, err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	_, err = e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(11), IdempotencyKey: "too-much"})
	if allot.ErrorCodeOf(err) != allot.ECONFLICT {
		t.Fatalf("over-consume: %v", err)
	}
	if evs := e.events(t, hook, clock); len(evs) != 0 {
		t.Fatalf("events after rollbacks: %+v", evs)
	}
	st, err := e.l.OutboxStats(e.ctx)
	if err != nil || st.Pending != 0 {
		t.Fatalf("outbox: %+v, %v", st, err)
	}
	// The same id written for real is kept once.
	for range 2 {
		err = e.l.Update(e.ctx, []string{"lone"}, func(tx allot.Tx) error {
			_, err := tx.InsertEvent(allot.Event{ID: "evt-once", Type: allot.EventResourceLeft, ProjectID: "lone", At: tx.Now()}, []byte(`{"id":"evt-once"}`))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := e.l.OutboxStats(e.ctx); st.Pending != 1 {
		t.Fatalf("pending after one event: %d", st.Pending)
	}
}

// testWebhookScope: an admin webhook gets every project's events, an SP's
// its customers' only, a project's webhook that project's only; an SP
// cannot add one for another SP's customer, nor see, delete or redeliver
// another owner's.
func testWebhookScope(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	for _, p := range []string{"cust-a", "cust-b", "lone"} {
		e.mustAdd(t, pkg(p, "p", "VIDEO_2D_MIN", 10, future))
	}
	all := e.mustWebhook(t, admin, "", allot.EventResourceDepleted)
	ofA := e.mustWebhook(t, spA, "", allot.EventResourceDepleted)
	ofLone := e.mustWebhook(t, admin, "lone", allot.EventResourceDepleted)
	leftOnly := e.mustWebhook(t, admin, "", allot.EventResourceLeft)
	_, err := e.svc.CreateWebhook(e.ctx, spA, allot.CreateWebhookRequest{URL: "https://example.com/h", Secret: "0123456789abcdef", Events: []string{allot.EventResourceLeft}, ProjectID: "cust-b"}, fakeSeal)
	if got, want := allot.ErrorCodeOf(err), allot.EFORBIDDEN; got != want {
		t.Fatalf("SP a for cust-b: got %v, want %v", got, want)
	}
	for _, p := range []string{"cust-a", "cust-b", "lone"} {
		e.consume(t, p, "p", units(10), "all")
	}
	projects := func(hook string) []string {
		var ps []string
		for _, ev := range e.events(t, hook, clock) {
			ps = append(ps, ev.ProjectID)
		}
		slices.Sort(ps)
		return ps
	}
	if got := projects(all); !slices.Equal(got, []string{"cust-a", "cust-b", "lone"}) {
		t.Fatalf("admin webhook: %v", got)
	}
	if got := projects(ofA); !slices.Equal(got, []string{"cust-a"}) {
		t.Fatalf("SP a's webhook: %v", got)
	}
	if got := projects(ofLone); !slices.Equal(got, []string{"lone"}) {
		t.Fatalf("lone's webhook: %v", got)
	}
	if ds, _ := e.l.Deliveries(e.ctx, leftOnly, 10); len(ds) != 0 {
		t.Fatalf("a resource.left webhook got %d deliveries of resource.depleted", len(ds))
	}
	list, err := e.svc.ListWebhooks(e.ctx, spA)
	if err != nil || len(list) != 1 || list[0].ID != ofA {
		t.Fatalf("SP a lists %+v, %v", list, err)
	}
	if list, _ := e.svc.ListWebhooks(e.ctx, admin); len(list) != 4 {
		t.Fatalf("admin lists %d webhooks, want 4", len(list))
	}
	for _, err := range []error{e.svc.DeleteWebhook(e.ctx, spB, ofA), e.svc.DeleteWebhook(e.ctx, spA, all), e.svc.Redeliver(e.ctx, spB, ofA, "x", clock.Now())} {
		if got, want := allot.ErrorCodeOf(err), allot.ENOTFOUND; got != want {
			t.Fatalf("another owner's webhook: got %v, want %v", got, want)
		}
	}
	if _, err := e.svc.Deliveries(e.ctx, spB, ofA, 10); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("SP b reads SP a's deliveries: %v", err)
	}
	if err := e.svc.DeleteWebhook(e.ctx, spA, ofA); err != nil {
		t.Fatal(err)
	}
	if _, err := e.l.FindWebhook(e.ctx, ofA); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("deleted webhook: %v", err)
	}
	for _, bad := range []allot.CreateWebhookRequest{
		{URL: "ftp://example.com/h", Secret: "0123456789abcdef", Events: []string{allot.EventResourceLeft}},
		{URL: "https://example.com/h", Secret: "short", Events: []string{allot.EventResourceLeft}},
		{URL: "https://example.com/h", Secret: "0123456789abcdef", Events: []string{"resource.other"}},
		{URL: "/relative", Secret: "0123456789abcdef", Events: []string{allot.EventResourceLeft}},
	} {
		if _, err := e.svc.CreateWebhook(e.ctx, admin, bad, fakeSeal); allot.ErrorCodeOf(err) != allot.EINVALID {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}

// testClaims: a claimed delivery is not claimed again until its lease runs
// out; an attempt recorded under a lapsed claim is refused; a failed
// delivery is redelivered with the same event.
func testClaims(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 10, future))
	hook := e.mustWebhook(t, admin, "lone", allot.EventResourceDepleted)
	e.consume(t, "lone", "p", units(10), "all")
	now := clock.Now()
	first, err := e.l.ClaimDeliveries(e.ctx, now, time.Minute, 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim: %d, %v", len(first), err)
	}
	if again, _ := e.l.ClaimDeliveries(e.ctx, now.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("claimed twice within the lease: %d", len(again))
	}
	if first[0].URL != "http://127.0.0.1:9/hook" || string(first[0].SecretCiphertext) != "sealed" {
		t.Fatalf("claim: %+v", first[0])
	}
	// The lease runs out: another dispatcher takes it over.
	second, err := e.l.ClaimDeliveries(e.ctx, now.Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(second) != 1 || second[0].DeliveryID != first[0].DeliveryID || string(second[0].Body) != string(first[0].Body) {
		t.Fatalf("takeover: %+v, %v", second, err)
	}
	ok, err := e.l.RecordAttempt(e.ctx, first[0], allot.AttemptOutcome{Attempt: allot.Attempt{At: now, StatusCode: 200}, State: allot.DeliveryDelivered})
	if err != nil || ok {
		t.Fatalf("an attempt under a lapsed claim was recorded: %v, %v", ok, err)
	}
	ok, err = e.l.RecordAttempt(e.ctx, second[0], allot.AttemptOutcome{Attempt: allot.Attempt{At: now, StatusCode: 500, LatencyMS: 3}, State: allot.DeliveryFailed})
	if err != nil || !ok {
		t.Fatalf("record: %v, %v", ok, err)
	}
	ds, err := e.svc.Deliveries(e.ctx, admin, hook, 10)
	if err != nil || len(ds) != 1 || ds[0].State != allot.DeliveryFailed || len(ds[0].Attempts) != 1 || ds[0].Attempts[0].StatusCode != 500 {
		t.Fatalf("log: %+v, %v", ds, err)
	}
	if c, _ := e.l.ClaimDeliveries(e.ctx, now.Add(time.Hour), time.Minute, 10); len(c) != 0 {
		t.Fatalf("a failed delivery was claimed")
	}
	if err := e.svc.Redeliver(e.ctx, admin, hook, ds[0].ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	third, err := e.l.ClaimDeliveries(e.ctx, now.Add(time.Hour), time.Minute, 10)
	if err != nil || len(third) != 1 || string(third[0].Body) != string(first[0].Body) || third[0].Attempts != 1 {
		t.Fatalf("redelivery: %+v, %v", third, err)
	}
	if _, err := e.l.RecordAttempt(e.ctx, third[0], allot.AttemptOutcome{Attempt: allot.Attempt{At: now, StatusCode: 204}, State: allot.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	ds, _ = e.svc.Deliveries(e.ctx, admin, hook, 10)
	if ds[0].State != allot.DeliveryDelivered || len(ds[0].Attempts) != 2 || ds[0].Attempts[1].StatusCode != 204 || ds[0].DeliveredAt.IsZero() {
		t.Fatalf("after redelivery: %+v", ds[0])
	}
	if st, _ := e.l.OutboxStats(e.ctx); st.Pending != 0 {
		t.Fatalf("pending: %d", st.Pending)
	}
	if err := e.svc.Redeliver(e.ctx, admin, hook, "no-such", now); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("unknown delivery: %v", err)
	}
}

// testExpirySweep: with the clock advanced, a package expiring in 7 days
// and days_before [7] yields exactly one resource.expiring, however often
// the sweep runs; after its expiry, one resource.expired.
func testExpirySweep(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	now := clock.Now()
	e.mustAdd(t, pkg("lone", "soon", "VIDEO_2D_MIN", 10, now.AddDate(0, 0, 8)))
	e.mustAdd(t, pkg("lone", "later", "VIDEO_2D_MIN", 10, now.AddDate(0, 0, 60)))
	e.mustAdd(t, pkg("cust-a", "other", "VIDEO_2D_MIN", 10, now.AddDate(0, 0, 8))) // no configuration
	e.mustNotice(t, "lone", allot.NoticeResourceExpire, `{"days_before": [7]}`)
	hook := e.mustWebhook(t, admin, "", allot.EventResourceExpiring, allot.EventResourceExpired)
	sweep := func(at time.Time) int {
		t.Helper()
		n, err := e.svc.SweepExpiry(e.ctx, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sweep(clock.Now()); n != 0 {
		t.Fatalf("8 days before: %d events", n)
	}
	clock.Advance(24*time.Hour + time.Second)
	for i := range 3 {
		want := 0
		if i == 0 {
			want = 1
		}
		if n := sweep(clock.Now()); n != want {
			t.Fatalf("sweep %d, 7 days before: %d events, want %d", i, n, want)
		}
	}
	clock.Advance(8 * 24 * time.Hour)
	if n := sweep(clock.Now()); n != 1 {
		t.Fatalf("after expiry: %d events, want 1", n)
	}
	evs := e.events(t, hook, clock)
	if len(evs) != 2 || evs[0].Type != allot.EventResourceExpiring || evs[0].DaysBefore != 7 || evs[0].ResourceID != "soon" ||
		evs[1].Type != allot.EventResourceExpired || evs[1].ResourceID != "soon" {
		t.Fatalf("events: %+v", evs)
	}
}

func testReservationExpiredEvent(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 10, future))
	hook := e.mustWebhook(t, admin, "lone", allot.EventReservationExpired)
	v := e.mustReserve(t, reserveReq("lone", "p", 3, 60, "r1"))
	clock.Advance(61 * time.Second)
	if n, err := e.svc.ExpireHolds(e.ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("expire: %d, %v", n, err)
	}
	evs := e.events(t, hook, clock)
	if len(evs) != 1 || evs[0].ReservationID != v.ReservationID || evs[0].Amount != units(3) {
		t.Fatalf("events: %+v", evs)
	}
}

// testCrossingByReserve: a hold counts against the remaining amount, and
// its release re-arms the threshold.
func testCrossingByReserve(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 10, future))
	e.mustNotice(t, "lone", allot.NoticeResourceLeft, `{"threshold_amount": 5}`)
	hook := e.mustWebhook(t, admin, "lone", allot.EventResourceLeft)
	v := e.mustReserve(t, reserveReq("lone", "p", 6, 600, "r1")) // 4 left
	if _, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: v.ReservationID}); err != nil {
		t.Fatal(err)
	}
	e.mustReserve(t, reserveReq("lone", "p", 6, 600, "r2"))
	if got := len(e.events(t, hook, clock)); got != 2 {
		t.Fatalf("events: %d, want 2", got)
	}
}

// testReclaimRearms: an SP's pool is drawn down by an allocation and
// refilled by a reclaim of the customer's units.
func testReclaimRearms(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("sp-a", "pool", "VIDEO_2D_MIN", 100, future))
	e.mustNotice(t, "sp-a", allot.NoticeResourceLeft, `{"threshold_percent": 50}`)
	hook := e.mustWebhook(t, spA, "", allot.EventResourceLeft)
	alloc := func(key string, n int64) string {
		t.Helper()
		out, err := e.svc.Allocate(e.ctx, spA, allot.AllocateRequest{SPProjectID: "sp-a", SPResourceID: "pool", CustomerProjectID: "cust-a",
			ResourceSpecCode: "VIDEO_2D_MIN", Amount: units(n), IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return out.Resource.ResourceID
	}
	g1 := alloc("g1", 60) // pool 40 left: crossed
	if _, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "cust-a", ResourceID: g1}, IdempotencyKey: "back"}); err != nil {
		t.Fatal(err)
	}
	alloc("g2", 60) // crossed again
	evs := e.events(t, hook, clock)
	if len(evs) != 2 || evs[0].ProjectID != "sp-a" || evs[0].ResourceID != "pool" {
		t.Fatalf("events: %+v", evs)
	}
}

// insertEvents writes events of one project to the outbox, one transaction.
func (e *ledgerEnv) insertEvents(t *testing.T, project string, evs ...allot.Event) {
	t.Helper()
	err := e.l.Update(e.ctx, []string{project}, func(tx allot.Tx) error {
		p, err := tx.Project(project)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			ev.ProjectID, ev.SPProjectID, ev.At = project, p.SPProjectID, tx.Now()
			body, _ := json.Marshal(ev)
			if ok, err := tx.InsertEvent(ev, body); err != nil || !ok {
				return fmt.Errorf("insert %s: %v %v", ev.ID, ok, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// claimAll claims every delivery due at at, by delivery id.
func (e *ledgerEnv) claimAll(t *testing.T, at time.Time) map[string]allot.Claim {
	t.Helper()
	cs, err := e.l.ClaimDeliveries(e.ctx, at, time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]allot.Claim{}
	for _, c := range cs {
		out[c.DeliveryID] = c
	}
	return out
}

func (e *ledgerEnv) record(t *testing.T, c allot.Claim, o allot.AttemptOutcome) {
	t.Helper()
	if ok, err := e.l.RecordAttempt(e.ctx, c, o); err != nil || !ok {
		t.Fatalf("record %s: %v, %v", c.DeliveryID, ok, err)
	}
}

func deliveryIDs(t *testing.T, e *ledgerEnv, hook string) []string {
	t.Helper()
	ds, err := e.l.Deliveries(e.ctx, hook, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids
}

// testOutboxRetention: by the clock, finished deliveries older than the
// retention go with their attempts and the events no delivery names any
// more; pending ones, redelivered ones, younger ones and expiry events
// whose id the sweep could derive again stay; a prune transaction deletes
// at most its limit; a retention of 0 prunes nothing.
func testOutboxRetention(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	const day = 24 * time.Hour
	const retention = 7 * day
	e.mustAdd(t, pkg("lone", "p", "VIDEO_2D_MIN", 10, future))
	hook := e.mustWebhook(t, admin, "lone", allot.EventResourceLeft, allot.EventResourceExpiring)
	t0 := clock.Now()
	e.insertEvents(t, "lone",
		allot.Event{ID: "evt-delivered", Type: allot.EventResourceLeft},
		allot.Event{ID: "evt-failed", Type: allot.EventResourceLeft},
		allot.Event{ID: "evt-pending", Type: allot.EventResourceLeft},
		allot.Event{ID: "evt-redelivered", Type: allot.EventResourceLeft},
		allot.Event{ID: "evt-expiring", Type: allot.EventResourceExpiring, ResourceID: "p", ExpireTime: t0.Add(30 * day), DaysBefore: 30},
		allot.Event{ID: "evt-unsubscribed", Type: allot.EventReservationExpired}) // no webhook: no delivery
	d := func(ev string) string { return ev + "." + hook }
	cs := e.claimAll(t, t0)
	if len(cs) != 5 {
		t.Fatalf("claimed %d deliveries, want 5", len(cs))
	}
	done := allot.AttemptOutcome{Attempt: allot.Attempt{At: t0, StatusCode: 204}, State: allot.DeliveryDelivered}
	e.record(t, cs[d("evt-delivered")], done)
	e.record(t, cs[d("evt-redelivered")], done)
	e.record(t, cs[d("evt-expiring")], done)
	e.record(t, cs[d("evt-failed")], allot.AttemptOutcome{Attempt: allot.Attempt{At: t0, StatusCode: 500}, State: allot.DeliveryFailed})
	// Still being retried, next a month on.
	e.record(t, cs[d("evt-pending")], allot.AttemptOutcome{Attempt: allot.Attempt{At: t0, StatusCode: 503}, State: allot.DeliveryPending, NextAt: t0.Add(30 * day)})

	clock.Advance(retention + day)
	now := clock.Now()
	if err := e.svc.Redeliver(e.ctx, admin, hook, d("evt-redelivered"), now); err != nil {
		t.Fatal(err)
	}
	e.insertEvents(t, "lone", allot.Event{ID: "evt-young", Type: allot.EventResourceLeft})
	cs = e.claimAll(t, now)
	e.record(t, cs[d("evt-young")], allot.AttemptOutcome{Attempt: allot.Attempt{At: now, StatusCode: 200}, State: allot.DeliveryDelivered})
	e.record(t, cs[d("evt-redelivered")], allot.AttemptOutcome{Attempt: allot.Attempt{At: now, StatusCode: 500}, State: allot.DeliveryPending, NextAt: now.Add(day)})
	all := []string{d("evt-delivered"), d("evt-expiring"), d("evt-failed"), d("evt-pending"), d("evt-redelivered"), d("evt-young")}
	slices.Sort(all)

	if n, err := e.svc.PruneOutbox(e.ctx, now, 0); err != nil || n != (allot.OutboxPruned{}) {
		t.Fatalf("a retention of 0 pruned %+v, %v", n, err)
	}
	if got := deliveryIDs(t, e, hook); !slices.Equal(got, all) {
		t.Fatalf("after a retention of 0: %v, want %v", got, all)
	}
	// One bounded transaction, then the rest.
	first, err := e.l.PruneOutbox(e.ctx, now.Add(-retention), now, 2)
	if err != nil || first.Deliveries != 2 || first.Attempts != 2 || first.Events > 2 {
		t.Fatalf("a prune of at most 2: %+v, %v", first, err)
	}
	rest, err := e.svc.PruneOutbox(e.ctx, now, retention)
	if err != nil {
		t.Fatal(err)
	}
	// The oracle: three finished deliveries older than the retention, one
	// attempt each; the events of two of them and the unsubscribed one (the
	// expiry event is kept, its package a candidate until a week after it
	// expires).
	if got, want := first.Add(rest), (allot.OutboxPruned{Deliveries: 3, Attempts: 3, Events: 3}); got != want {
		t.Fatalf("pruned %+v, want %+v", got, want)
	}
	left := []string{d("evt-pending"), d("evt-redelivered"), d("evt-young")}
	if got := deliveryIDs(t, e, hook); !slices.Equal(got, left) {
		t.Fatalf("left after the prune: %v, want %v", got, left)
	}
	ds, _ := e.l.Deliveries(e.ctx, hook, 1000)
	for _, x := range ds {
		if want := map[string]int{d("evt-pending"): 1, d("evt-redelivered"): 2, d("evt-young"): 1}[x.ID]; len(x.Attempts) != want {
			t.Fatalf("%s kept %d attempts, want %d", x.ID, len(x.Attempts), want)
		}
	}
	if n, err := e.svc.PruneOutbox(e.ctx, now, retention); err != nil || n != (allot.OutboxPruned{}) {
		t.Fatalf("a second prune: %+v, %v", n, err)
	}
	// The expiry event's id is still known: written again, it is refused.
	err = e.l.Update(e.ctx, []string{"lone"}, func(tx allot.Tx) error {
		ok, err := tx.InsertEvent(allot.Event{ID: "evt-expiring", Type: allot.EventResourceExpiring, ProjectID: "lone", At: tx.Now(), ExpireTime: t0.Add(30 * day)}, []byte(`{}`))
		if err == nil && ok {
			err = errors.New("the expiry event was written twice")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A redelivery still has its event's body.
	cs = e.claimAll(t, now.Add(day))
	if c, ok := cs[d("evt-redelivered")]; !ok || !strings.Contains(string(c.Body), `"id":"evt-redelivered"`) {
		t.Fatalf("the redelivered delivery lost its event: %+v", cs)
	}

	// Past the expiry event's bound and the young delivery's retention.
	clock.Set(t0.Add(38 * day))
	now = clock.Now()
	n, err := e.svc.PruneOutbox(e.ctx, now, retention)
	if want := (allot.OutboxPruned{Deliveries: 1, Attempts: 1, Events: 2}); err != nil || n != want {
		t.Fatalf("the later prune: %+v, %v, want %+v", n, err, want)
	}
	left = []string{d("evt-pending"), d("evt-redelivered")}
	if got := deliveryIDs(t, e, hook); !slices.Equal(got, left) {
		t.Fatalf("left after the later prune: %v, want %v", got, left)
	}
}

// testFailedDeliveries: the failed deliveries across one owner's webhooks,
// most recently failed first, paged, with the last attempt, against an
// oracle built from what the test recorded.
func testFailedDeliveries(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	for _, p := range []string{"cust-a", "cust-b", "lone"} {
		e.mustAdd(t, pkg(p, "p", "VIDEO_2D_MIN", 10, future))
	}
	hooks := map[string]string{ // webhook id: owner
		e.mustWebhook(t, admin, "", allot.EventResourceLeft):     "",
		e.mustWebhook(t, admin, "lone", allot.EventResourceLeft): "",
		e.mustWebhook(t, spA, "", allot.EventResourceLeft):       "sp-a",
		e.mustWebhook(t, spB, "cust-b", allot.EventResourceLeft): "sp-b",
		e.mustWebhook(t, admin, "", allot.EventResourceDepleted): "", // gets nothing
	}
	urls := map[string]string{}
	for id := range hooks {
		w, err := e.l.FindWebhook(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		urls[id] = w.URL
	}
	for i := range 4 {
		for _, p := range []string{"cust-a", "cust-b", "lone"} {
			e.insertEvents(t, p, allot.Event{ID: fmt.Sprintf("evt-%s-%d", p, i), Type: allot.EventResourceLeft})
		}
	}
	t0 := clock.Now()
	cs := e.claimAll(t, t0)
	ids := slices.Sorted(maps.Keys(cs))
	type want struct {
		f     allot.FailedDelivery
		owner string
	}
	var oracle []want
	nth := map[string]int{} // each webhook has deliveries of every state
	for i, id := range ids {
		c := cs[id]
		at := t0.Add(time.Duration(i%7) * time.Second) // ties broken by id
		k := nth[c.WebhookID]
		nth[c.WebhookID]++
		switch k % 4 {
		case 0: // delivered
			e.record(t, c, allot.AttemptOutcome{Attempt: allot.Attempt{At: at, StatusCode: 200}, State: allot.DeliveryDelivered})
			continue
		case 1: // still pending
			e.record(t, c, allot.AttemptOutcome{Attempt: allot.Attempt{At: at, StatusCode: 500}, State: allot.DeliveryPending, NextAt: t0.Add(time.Hour)})
			continue
		case 2: // failed at once
			e.record(t, c, allot.AttemptOutcome{Attempt: allot.Attempt{At: at, Error: "timed out", LatencyMS: 10}, State: allot.DeliveryFailed})
			oracle = append(oracle, want{allot.FailedDelivery{ID: id, WebhookID: c.WebhookID, EventID: c.EventID, Attempts: 1,
				FailedAt: at, Last: allot.Attempt{At: at, Error: "timed out", LatencyMS: 10}}, hooks[c.WebhookID]})
		case 3: // failed on its second attempt
			e.record(t, c, allot.AttemptOutcome{Attempt: allot.Attempt{At: t0.Add(-time.Minute), StatusCode: 500}, State: allot.DeliveryPending, NextAt: t0.Add(-time.Minute)})
			oracle = append(oracle, want{allot.FailedDelivery{ID: id, WebhookID: c.WebhookID, EventID: c.EventID, Attempts: 2,
				FailedAt: at, Last: allot.Attempt{At: at, StatusCode: 503, LatencyMS: 7}}, hooks[c.WebhookID]})
		}
	}
	for id, c := range e.claimAll(t, t0) { // the second attempts
		for _, w := range oracle {
			if w.f.ID == id {
				e.record(t, c, allot.AttemptOutcome{Attempt: w.f.Last, State: allot.DeliveryFailed})
			}
		}
	}
	slices.SortFunc(oracle, func(a, b want) int {
		if c := b.f.FailedAt.Compare(a.f.FailedAt); c != 0 {
			return c
		}
		return strings.Compare(b.f.ID, a.f.ID)
	})
	for _, who := range []allot.Actor{admin, spA, spB} {
		var exp []allot.FailedDelivery
		for _, w := range oracle {
			if who.Role == allot.RoleAdmin || w.owner == who.SPProjectID {
				f := w.f
				f.EventType, f.URL, f.SPProjectID = allot.EventResourceLeft, urls[f.WebhookID], w.owner
				wh, _ := e.l.FindWebhook(e.ctx, f.WebhookID)
				f.ProjectID = wh.ProjectID
				exp = append(exp, f)
			}
		}
		if len(exp) == 0 {
			t.Fatalf("the fixture gives %s no failed delivery", who.ID)
		}
		var got []allot.FailedDelivery
		for off := 0; off < len(exp)+3; off += 3 {
			page, count, err := e.svc.FailedDeliveries(e.ctx, who, allot.Page{Limit: 3, Offset: off})
			if err != nil || count != len(exp) {
				t.Fatalf("%s, offset %d: count %d, %v; want %d", who.ID, off, count, err, len(exp))
			}
			if len(page) > 3 {
				t.Fatalf("%s: a page of %d", who.ID, len(page))
			}
			got = append(got, page...)
		}
		if len(got) != len(exp) {
			t.Fatalf("%s: %d failed deliveries, want %d", who.ID, len(got), len(exp))
		}
		for i := range exp {
			g := got[i]
			if !g.CreatedAt.IsZero() {
				g.CreatedAt = time.Time{}
			}
			if !reflect.DeepEqual(g, exp[i]) {
				t.Fatalf("%s, #%d:\n got %+v\nwant %+v", who.ID, i, g, exp[i])
			}
		}
	}
	tenant := allot.Actor{ID: "no-role"}
	if _, _, err := e.svc.FailedDeliveries(e.ctx, tenant, allot.Page{Limit: 10}); allot.ErrorCodeOf(err) != allot.EFORBIDDEN {
		t.Fatalf("a credential without a role listing failed deliveries: %v", err)
	}
}
