package storetest

import (
	"fmt"
	"testing"

	"github.com/allot-dev/allot"
)

// testConsumeBatch: each event of a batch gets its own outcome, in order;
// a duplicate key counts once, inside a batch and across batches; a refused
// event (over the amount, unknown package, unreadable) refuses nothing else.
func testConsumeBatch(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	e.mustAdd(t, pkg("cust-a", "q", "MIN", 10, future))
	ev := func(project, id string, n int64, key string) allot.ConsumeEvent {
		return allot.ConsumeEvent{Request: allot.ConsumeRequest{ProjectID: project, ResourceID: id, Amount: units(n), IdempotencyKey: key}}
	}
	unreadable := allot.Invalid("amount", "is not a number")
	events := []allot.ConsumeEvent{
		ev("lone", "p", 2, "b1"),   // applied
		ev("lone", "p", 2, "b1"),   // the same event again: replayed
		ev("lone", "p", 3, "b1"),   // the same key for another request: refused
		ev("cust-a", "q", 1, "b1"), // the same key in another project: applied
		ev("lone", "p", 20, "b2"),  // over the amount: refused
		ev("lone", "nope", 1, "b3"),
		{Refused: unreadable},
		ev("lone", "p", 1, "b4"), // applied
	}
	outs, err := e.svc.ConsumeBatch(e.ctx, admin, events)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		outcome string
		code    allot.ErrorCode
	}{{"applied", ""}, {"replayed", ""}, {"refused", allot.ECONFLICT}, {"applied", ""}, {"refused", allot.ECONFLICT},
		{"refused", allot.ENOTFOUND}, {"refused", allot.EINVALID}, {"applied", ""}}
	if len(outs) != len(want) {
		t.Fatalf("%d outcomes for %d events", len(outs), len(events))
	}
	outcome := func(o allot.ConsumeOutcome) string {
		switch {
		case o.Err != nil:
			return "refused"
		case o.Result.Replayed:
			return "replayed"
		}
		return "applied"
	}
	for i, w := range want {
		if got := outcome(outs[i]); got != w.outcome || allot.ErrorCodeOf(outs[i].Err) != w.code {
			t.Errorf("event %d: %s %v, want %s %s", i, got, outs[i].Err, w.outcome, w.code)
		}
	}
	if outs[6].Err != unreadable {
		t.Errorf("unreadable event: %v, want its own reason", outs[6].Err)
	}
	if outs[1].Result.Entries[0].Seq != outs[0].Result.Entries[0].Seq {
		t.Errorf("the replay answers entry %d, the first %d", outs[1].Result.Entries[0].Seq, outs[0].Result.Entries[0].Seq)
	}
	e.expect(t, "lone", "p", units(10), units(3))
	e.expect(t, "cust-a", "q", units(10), units(1))

	// A second batch: b1 and b4 replay, b2 now fits.
	outs, err = e.svc.ConsumeBatch(e.ctx, admin, []allot.ConsumeEvent{ev("lone", "p", 2, "b1"), ev("lone", "p", 1, "b4"), ev("lone", "p", 2, "b2")})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"replayed", "replayed", "applied"} {
		if got := outcome(outs[i]); got != w {
			t.Errorf("second batch, event %d: %s %v, want %s", i, got, outs[i].Err, w)
		}
	}
	e.expect(t, "lone", "p", units(10), units(5))

	// Many events at once on one package: exactly what fits is applied.
	var many []allot.ConsumeEvent
	for i := range allot.MaxConsumeBatch {
		many = append(many, allot.ConsumeEvent{Request: allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p",
			Amount: allot.QuantityScale / 100, IdempotencyKey: fmt.Sprintf("m-%d", i)}})
	}
	outs, err = e.svc.ConsumeBatch(e.ctx, admin, many)
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for i, o := range outs {
		switch allot.ErrorCodeOf(o.Err) {
		case "":
			applied++
		case allot.ECONFLICT:
		default:
			t.Errorf("event %d: %v", i, o.Err)
		}
	}
	if applied != 500 {
		t.Errorf("%d of 1,000 events of 0.01 applied to a package with 5 left, want 500", applied)
	}
	e.expect(t, "lone", "p", units(10), units(10))

	// The batch as a whole.
	if _, err := e.svc.ConsumeBatch(e.ctx, admin, nil); allot.ErrorCodeOf(err) != allot.EINVALID {
		t.Errorf("empty batch: %v, want EINVALID", err)
	}
	if _, err := e.svc.ConsumeBatch(e.ctx, admin, append(many, many[0])); allot.ErrorCodeOf(err) != allot.EINVALID {
		t.Errorf("1,001 events: %v, want EINVALID", err)
	}
	if _, err := e.svc.ConsumeBatch(e.ctx, spA, events[:1]); allot.ErrorCodeOf(err) != allot.EFORBIDDEN {
		t.Errorf("an sp key: %v, want EFORBIDDEN", err)
	}
}
