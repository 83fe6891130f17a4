package storetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// testReservationReplay holds the answers of a reservation step whose key
// was recorded already, or refused, to what they always were: a step
// records its key without looking it up first, and falls back to the
// ordinary lookup only when that fails.
func testReservationReplay(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	ref := allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}
	req := reserveReq("lone", "p", 4, 600, "job-1")
	first := e.mustReserve(t, req)
	if !first.Created || first.Replayed {
		t.Fatalf("first reserve: %+v", first)
	}

	// A replay answers the first answer, byte for byte but the flags, even
	// once the package is frozen and the step itself would be refused.
	if _, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusFrozen, "unpaid"); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Reserve(e.ctx, admin, req)
	if err != nil || !again.Replayed || again.Created {
		t.Fatalf("replayed reserve of a frozen package: %+v %v", again, err)
	}
	sameAnswer(t, "reserve", again, first)
	if _, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
	changed := req
	changed.Amount = units(1)
	_, err = e.svc.Reserve(e.ctx, admin, changed)
	wantCode(t, err, allot.ECONFLICT)
	if err == nil || !strings.Contains(err.Error(), `idempotency_key "job-1" was used for a different request`) {
		t.Fatalf("reused reserve key: %v", err)
	}

	// A refused reserve leaves its key unused: the same request goes
	// through once there is room.
	over := reserveReq("lone", "p", 7, 600, "job-2")
	_, err = e.svc.Reserve(e.ctx, admin, over)
	wantCode(t, err, allot.ECONFLICT)

	// A commit refused (more than is held) leaves its key unused too.
	tooMuch := allot.CommitRequest{ReservationID: first.ReservationID, Amount: units(5), IdempotencyKey: "c-1"}
	_, err = e.svc.Commit(e.ctx, admin, tooMuch)
	wantCode(t, err, allot.EINVALID)
	commit := allot.CommitRequest{ReservationID: first.ReservationID, Amount: units(3), IdempotencyKey: "c-1"}
	done, err := e.svc.Commit(e.ctx, admin, commit)
	if err != nil || done.Replayed || done.State != allot.ReservationCommitted {
		t.Fatalf("commit after a refused one with its key: %+v %v", done, err)
	}
	// The reservation is committed now, so the step itself would be
	// refused: the replay answers the commit.
	replay, err := e.svc.Commit(e.ctx, admin, commit)
	if err != nil || !replay.Replayed {
		t.Fatalf("replayed commit: %+v %v", replay, err)
	}
	sameAnswer(t, "commit", replay, done)
	_, err = e.svc.Commit(e.ctx, admin, tooMuch)
	wantCode(t, err, allot.ECONFLICT)
	if err == nil || !strings.Contains(err.Error(), `idempotency_key "c-1" was used for a different request`) {
		t.Fatalf("reused commit key: %v", err)
	}
	_, err = e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: first.ReservationID, Amount: units(1), IdempotencyKey: "c-2"})
	wantCode(t, err, allot.ECONFLICT)

	if out, err := e.svc.Reserve(e.ctx, admin, over); err != nil || out.Replayed || !out.Created {
		t.Fatalf("a refused reserve key used again: %+v %v", out, err)
	}
	e.expect(t, "lone", "p", units(10), units(3))
	if got := e.held(t, "lone", "p"); got != units(7) {
		t.Fatalf("held %s, want 7", got)
	}

	// A release, then its replay, then a release of what was committed.
	second, err := e.svc.Reserve(e.ctx, admin, over)
	if err != nil || !second.Replayed {
		t.Fatalf("replayed second reserve: %+v %v", second, err)
	}
	rel, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: second.ReservationID})
	if err != nil || rel.Replayed || rel.State != allot.ReservationReleased {
		t.Fatalf("release: %+v %v", rel, err)
	}
	relAgain, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: second.ReservationID})
	if err != nil || !relAgain.Replayed {
		t.Fatalf("replayed release: %+v %v", relAgain, err)
	}
	sameAnswer(t, "release", relAgain, rel)
	_, err = e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: first.ReservationID})
	wantCode(t, err, allot.ECONFLICT)
	if got := e.held(t, "lone", "p"); got != 0 {
		t.Fatalf("held %s after the release, want 0", got)
	}

	// One entry per step applied: reserve, reserve, commit, release.
	all, _, err := e.svc.LedgerEntries(e.ctx, admin, allot.LedgerQuery{ProjectID: "lone", Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[allot.Op]int{}
	for _, en := range all {
		ops[en.Op]++
	}
	if ops[allot.OpReserve] != 2 || ops[allot.OpCommit] != 1 || ops[allot.OpRelease] != 1 {
		t.Fatalf("entries by op %v, want 2 reserves, 1 commit, 1 release", ops)
	}
	e.noDrift(t)
}

// sameAnswer fails t unless the JSON of got is the JSON of want with
// got's flags.
func sameAnswer(t *testing.T, step string, got, want allot.ReservationResult) {
	t.Helper()
	want.Replayed, want.Created = got.Replayed, got.Created
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("replayed %s answers\n%s\nwant\n%s", step, g, w)
	}
}
