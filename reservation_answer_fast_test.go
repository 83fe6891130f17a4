package allot

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// fuzzStoredReservation builds a stored reservation answer from fuzzed
// parts.
func fuzzStoredReservation(s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint16) storedReservationV1 {
	at := time.Unix(sec, nsec%1e9)
	if flags&1 != 0 {
		at = at.In(time.FixedZone("z", off))
	} else {
		at = at.UTC()
	}
	a := storedReservationV1{ReservationID: s1, ProjectID: s2, State: "open", Amount: Quantity(n1), Committed: Quantity(n2),
		Holds: []storedHoldV1{{ResourceID: s2, Amount: Quantity(n1), Committed: Quantity(n2)}}, CreatedAt: at,
		ExpiresAt: at.Add(time.Duration(n2 % 1e12)), Actor: "admin-1", IdempotencyKey: s1,
		Entries: []storedEntryV1{{ProjectID: s2, Seq: n1, ResourceID: s2, At: at, Actor: "admin-1", Op: "reserve", HeldDelta: Quantity(n1),
			IdempotencyKey: s1, Ref: s1}}}
	if flags&2 != 0 {
		a.State, a.SettledAt = s2, at
	}
	if flags&4 != 0 {
		a.UserID, a.AppUserID = s1, s2
		a.Entries[0].UserID, a.Entries[0].AppUserID, a.Entries[0].Reason = s1, s2, s1
	}
	switch {
	case flags&8 != 0:
		a.Holds = nil
	case flags&16 != 0:
		a.Holds = []storedHoldV1{}
	case flags&32 != 0:
		a.Holds = append(a.Holds, storedHoldV1{ResourceID: s1, Amount: Quantity(-n2)})
	}
	switch {
	case flags&64 != 0:
		a.Entries = nil
	case flags&128 != 0:
		a.Entries = []storedEntryV1{}
	case flags&256 != 0:
		a.Entries = append(a.Entries, storedEntryV1{ProjectID: s1, Seq: n2, ResourceID: s1, At: at.Add(time.Second), Actor: s2,
			Op: "commit", UsageDelta: Quantity(n2), HeldDelta: Quantity(-n1)})
	}
	if flags&512 != 0 {
		a.CreatedAt = time.Time{}
	}
	return a
}

// FuzzAppendReservation: every stored reservation answer the hand-written
// encoder takes, it encodes to exactly json.Marshal's bytes (a replay
// decodes them); what it refuses, json.Marshal encodes.
func FuzzAppendReservation(f *testing.F) {
	f.Add("rsv-019ae3b1c2d40123456789abcdef", "bench-p", int64(2_000_000), int64(1_000_000), int64(1764700000), int64(0), 0, uint16(0))
	f.Add("p<&>", "r\u00e9", int64(-3), int64(9e18), int64(-62135596800), int64(123456789), 3600, uint16(0xffff))
	f.Add("p", "r", int64(0), int64(0), int64(253402300800), int64(999999999), -5*3600-30*60, uint16(1|2|4|32|256))
	f.Add("\"", "\\", int64(1), int64(2), int64(0), int64(1), 24*3600, uint16(1|8|512))
	f.Fuzz(func(t *testing.T, s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint16) {
		a := fuzzStoredReservation(s1, s2, n1, n2, sec, nsec, off, flags)
		want, werr := json.Marshal(a)
		got, ok := appendReservation(nil, &a)
		if !ok {
			return
		}
		if werr != nil {
			t.Fatalf("hand encoder took an answer json.Marshal refuses (%v): %s", werr, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("hand encoder:\n%s\njson.Marshal:\n%s", got, want)
		}
	})
}

// TestAppendReservationTakesASettle: the answers of a reserve and of its
// commit go the fast way and decode back to themselves.
func TestAppendReservationTakesASettle(t *testing.T) {
	at := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	open := ReservationResult{Created: true, Reservation: Reservation{ReservationID: "rsv-019ae3b1c2d40123456789abcdef", ProjectID: "p",
		State: ReservationOpen, Amount: 2 * QuantityScale, Holds: []Hold{{ResourceID: "r", Amount: 2 * QuantityScale}}, CreatedAt: at,
		ExpiresAt: at.Add(time.Hour), Actor: "admin-1", IdempotencyKey: "k", Attribution: Attribution{UserID: "u"}},
		Entries: []LedgerEntry{{ProjectID: "p", Seq: 7, ResourceID: "r", At: at, Actor: "admin-1", Op: OpReserve, HeldDelta: 2 * QuantityScale,
			IdempotencyKey: "k", Ref: "rsv-019ae3b1c2d40123456789abcdef", UserID: "u"}}}
	done := open
	done.Created, done.State, done.Committed, done.SettledAt = false, ReservationCommitted, QuantityScale, at.Add(time.Minute)
	done.Holds = []Hold{{ResourceID: "r", Amount: 2 * QuantityScale, Committed: QuantityScale}}
	done.Entries = []LedgerEntry{{ProjectID: "p", Seq: 8, ResourceID: "r", At: done.SettledAt, Actor: "admin-1", Op: OpCommit,
		UsageDelta: QuantityScale, HeldDelta: -2 * QuantityScale, IdempotencyKey: "c", Ref: done.ReservationID, UserID: "u"}}
	for _, out := range []ReservationResult{open, done} {
		b, err := encodeReservation(out)
		if err != nil {
			t.Fatal(err)
		}
		var a storedReservationV1
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		if _, ok := appendReservation(nil, &a); !ok {
			t.Fatalf("%s: the answer did not go the fast way", out.State)
		}
		if want, _ := json.Marshal(a); !bytes.Equal(b, want) {
			t.Fatalf("encodeReservation:\n%s\njson.Marshal:\n%s", b, want)
		}
		back, err := decodeReservation(b)
		if err != nil {
			t.Fatal(err)
		}
		back.Created = out.Created
		g, _ := json.Marshal(back)
		w, _ := json.Marshal(out)
		if !bytes.Equal(g, w) {
			t.Fatalf("decoded\n%s\nwant\n%s", g, w)
		}
	}
}
