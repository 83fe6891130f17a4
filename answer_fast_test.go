package allot

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// fuzzAnswer builds a stored answer from fuzzed parts.
func fuzzAnswer(s1, s2 string, n1, n2 int64, sec int64, nsec int64, off int, flags uint8) storedAnswerV1 {
	at := time.Unix(sec, nsec%1e9)
	if flags&1 != 0 {
		at = at.In(time.FixedZone("z", off))
	} else {
		at = at.UTC()
	}
	r := storedResourceV1{ProjectID: s1, ResourceID: s2, ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC",
		Source: "PURCHASED", Amount: Quantity(n1), Usage: Quantity(n2), Status: int(n1 % 3), Unit: "MIN", Seq: n1, Version: n2}
	if flags&2 != 0 {
		r.OrderID, r.SubResourceType, r.Removed, r.Priority, r.Held = s2, s1, true, int(n2%7), Quantity(n1/3)
		r.ExpireTime = at
	}
	if flags&4 != 0 {
		r.IsSubResource = true
	}
	e := storedEntryV1{ProjectID: s1, Seq: n2, ResourceID: s2, At: at, Actor: "admin-1", Op: "consume", AmountDelta: Quantity(-n1), UsageDelta: Quantity(n2)}
	if flags&8 != 0 {
		e.IdempotencyKey, e.Reason, e.Ref, e.HeldDelta, e.UserID, e.AppUserID = s1, s2, s1+s2, Quantity(n1), s2, s1
	}
	a := storedAnswerV1{Resource: r, Entries: []storedEntryV1{e}}
	switch {
	case flags&16 != 0:
		a.Entries = nil
	case flags&32 != 0:
		a.Entries = []storedEntryV1{}
	case flags&64 != 0:
		a.Entries = append(a.Entries, e)
	}
	if flags&128 != 0 {
		a.Split = []storedResourceV1{r}
	}
	return a
}

// FuzzAppendAnswer: every answer the hand-written encoder takes, it encodes
// to exactly json.Marshal's bytes (a stored answer is replayed from them);
// what it refuses, json.Marshal encodes.
func FuzzAppendAnswer(f *testing.F) {
	f.Add("bench-p", "res-0", int64(1_000_000), int64(5), int64(1764700000), int64(0), 0, uint8(0))
	f.Add("p<&>", "r\u00e9", int64(-3), int64(9e18), int64(-62135596800), int64(123456789), 3600, uint8(255))
	f.Add("p", "r", int64(0), int64(0), int64(253402300800), int64(999999999), -5*3600-30*60, uint8(1|2|8))
	f.Add("\"", "\\", int64(1), int64(2), int64(0), int64(1), 24*3600, uint8(1|64))
	f.Fuzz(func(t *testing.T, s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint8) {
		a := fuzzAnswer(s1, s2, n1, n2, sec, nsec, off, flags)
		want, werr := json.Marshal(a)
		got, ok := appendAnswer(nil, &a)
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

// TestAppendAnswerTakesAConsume: a consume's answer goes the fast way and
// decodes back to itself.
func TestAppendAnswerTakesAConsume(t *testing.T) {
	at := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	out := OpResult{Resource: Resource{ProjectID: "p", ResourceID: "r", ResourceType: "MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC",
		Source: SourcePurchased, Amount: 10 * QuantityScale, Usage: 3, Unit: "MIN", Seq: 4, Version: 9, ExpireTime: at.AddDate(1, 0, 0)},
		Entries: []LedgerEntry{{ProjectID: "p", Seq: 7, ResourceID: "r", At: at, Actor: "admin-1", Op: OpConsume, UsageDelta: 3, IdempotencyKey: "k", UserID: "u"}}}
	a := storedAnswerV1{Resource: storeResource(out.Resource), Entries: storeEntries(out.Entries)}
	if _, ok := appendAnswer(nil, &a); !ok {
		t.Fatal("a consume's answer did not go the fast way")
	}
	b, err := encodeAnswer(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(a)
	if !bytes.Equal(b, want) {
		t.Fatalf("encodeAnswer:\n%s\njson.Marshal:\n%s", b, want)
	}
	back, err := decodeAnswer(b)
	if err != nil || back.Resource != out.Resource || len(back.Entries) != 1 || back.Entries[0] != out.Entries[0] {
		t.Fatalf("decoded %+v %v, want %+v", back, err, out)
	}
}
