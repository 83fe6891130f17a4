package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

var reserveSeeds = []string{
	`{"project_id":"bench-p","resource_id":"res-0","amount":2,"ttl":604800,"idempotency_key":"r-1"}`,
	`{"project_id":"p","resource_type":"VIDEO_2D_MIN","amount":"12.5","ttl":60,"allow_split":true,"idempotency_key":"k","user_id":"u","app_user_id":"a"}`,
	` { "ttl" : -0 , "amount" : -0.5e+3 , "allow_split" : false , "idempotency_key" : "k" } `,
	"{\n\t\"amount\":0.001,\r\n\"ttl\":1,\"resource_id\":\"r\"}",
	`{}`, `{"amount":1}`, `{"ttl":1}`, `{"ttl":1,"ttl":2}`, `{"ttl":1.5}`, `{"ttl":1e3}`, `{"ttl":"60"}`, `{"ttl":null}`,
	`{"ttl":01}`, `{"ttl":-1}`, `{"ttl":9223372036854775807}`, `{"ttl":9223372036854775808}`, `{"ttl":-9223372036854775809}`,
	`{"ttl":true}`, `{"ttl":{}}`, `{"TTL":1}`, `{"ttl":1}x`, `{"ttl":1,}`, `{"ttl":-}`,
	`{"amount":1,"amount":2}`, `{"Amount":1}`, `{"amount":01}`, `{"amount":null}`, `{"amount":"abc"}`, `{"amount":1e400}`,
	`{"allow_split":null}`, `{"allow_split":"true"}`, `{"project_id":null}`, `{"project_id":"p\u0041"}`, `{"project_id":"pé"}`,
	`{"amount":1} {}`, `[]`, `"x"`, ``, ` `, `{"extra":1}`, `{"reservation_id":"rsv-1"}`,
}

var commitSeeds = []string{
	`{"amount":1,"idempotency_key":"c-1"}`,
	` { "idempotency_key" : "k" , "amount" : "0.5" } `,
	`{"amount":0}`, `{}`, `{"idempotency_key":"k"}`, `{"amount":1,"amount":1}`, `{"amount":null}`, `{"amount":true}`,
	`{"amount":"x"}`, `{"amount":-1}`, `{"amount":1.}`, `{"amount":1e}`, `{"Amount":1}`, `{"idempotency_key":1}`,
	`{"idempotency_key":"k\u0041"}`, `{"idempotency_key":"k","idempotency_key":"k"}`, `{"ttl":1}`, `{"amount":1}x`, `[]`, ``,
}

// slowReserveRequest is DecodeReserveRequest as it was before the fast
// path: encoding/json with the strict key scan, for every body.
func slowReserveRequest(body []byte) (allot.ReserveRequest, error) {
	var b struct {
		ProjectID      string `json:"project_id"`
		ResourceID     string `json:"resource_id"`
		ResourceType   string `json:"resource_type"`
		Amount         number `json:"amount"`
		TTL            *int64 `json:"ttl"`
		IdempotencyKey string `json:"idempotency_key"`
		AllowSplit     bool   `json:"allow_split"`
		UserID         string `json:"user_id"`
		AppUserID      string `json:"app_user_id"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return allot.ReserveRequest{}, err
	}
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.ReserveRequest{}, err
	}
	if b.TTL == nil {
		return allot.ReserveRequest{}, allot.Invalid("ttl", "is required: the seconds the hold lasts unless committed or released")
	}
	return allot.ReserveRequest{ProjectID: b.ProjectID, ResourceID: b.ResourceID, ResourceType: b.ResourceType,
		Amount: amount, TTL: *b.TTL, IdempotencyKey: b.IdempotencyKey, AllowSplit: b.AllowSplit,
		Attribution: allot.Attribution{UserID: b.UserID, AppUserID: b.AppUserID}}, nil
}

// slowCommitRequest is DecodeCommitRequest as it was before the fast path.
func slowCommitRequest(id string, body []byte) (allot.CommitRequest, error) {
	var b struct {
		Amount         number `json:"amount"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return allot.CommitRequest{}, err
	}
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.CommitRequest{}, err
	}
	return allot.CommitRequest{ReservationID: id, Amount: amount, IdempotencyKey: b.IdempotencyKey}, nil
}

// sameOutcome fails t unless the two decodes agree: the same request, or
// the same error (code, parameter and message).
func sameOutcome(t *testing.T, body string, got, want any, gerr, werr error) {
	t.Helper()
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || allot.ErrorCodeOf(gerr) != allot.ErrorCodeOf(werr) {
		t.Fatalf("%q: error %v, encoding/json gives %v", body, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nfast %+v\nslow %+v", body, got, want)
	}
}

func sameReserveDecode(t *testing.T, body string) {
	t.Helper()
	got, gerr := DecodeReserveRequest([]byte(body))
	want, werr := slowReserveRequest([]byte(body))
	sameOutcome(t, body, got, want, gerr, werr)
	var fast reserveBody
	if fastReserveBody([]byte(body), &fast) {
		var slow reserveBody
		if err := decodeJSON([]byte(body), &slow); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		sameOutcome(t, body, fast, slow, nil, nil)
	}
}

func sameCommitDecode(t *testing.T, body string) {
	t.Helper()
	got, gerr := DecodeCommitRequest("rsv-1", []byte(body))
	want, werr := slowCommitRequest("rsv-1", []byte(body))
	sameOutcome(t, body, got, want, gerr, werr)
	var fast commitBody
	if fastCommitBody([]byte(body), &fast) {
		var slow commitBody
		if err := decodeJSON([]byte(body), &slow); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		sameOutcome(t, body, fast, slow, nil, nil)
	}
}

// FuzzFastReserveBody: a reserve body decodes to the same request, or is
// refused with the same error, as through encoding/json alone; every body
// the fast decoder takes, encoding/json takes too, with the same fields.
func FuzzFastReserveBody(f *testing.F) {
	for _, seed := range reserveSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) { sameReserveDecode(t, body) })
}

// FuzzFastCommitBody: the same for a commit body.
func FuzzFastCommitBody(f *testing.F) {
	for _, seed := range commitSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) { sameCommitDecode(t, body) })
}

// TestFastReservationBodies: the seeds agree with encoding/json; the shapes
// clients send go the fast way, and what the fast way must leave to
// encoding/json it leaves.
func TestFastReservationBodies(t *testing.T) {
	for _, body := range reserveSeeds {
		sameReserveDecode(t, body)
	}
	for _, body := range commitSeeds {
		sameCommitDecode(t, body)
	}
	for _, body := range reserveSeeds[:4] {
		var b reserveBody
		if !fastReserveBody([]byte(body), &b) {
			t.Errorf("fast decoder refused %s", body)
		}
	}
	for _, body := range commitSeeds[:2] {
		var b commitBody
		if !fastCommitBody([]byte(body), &b) {
			t.Errorf("fast decoder refused %s", body)
		}
	}
	for _, body := range []string{`{"ttl":1,"ttl":2}`, `{"ttl":1.5}`, `{"ttl":"60"}`, `{"ttl":null}`, `{"ttl":9223372036854775808}`,
		`{"TTL":1}`, `{"extra":1}`, `{"amount":1} {}`} {
		var b reserveBody
		if fastReserveBody([]byte(body), &b) {
			t.Errorf("fast decoder took %s", body)
		}
	}
	for _, body := range []string{`{"amount":1,"amount":1}`, `{"amount":null}`, `{"ttl":1}`, `{"idempotency_key":"k\u0041"}`} {
		var b commitBody
		if fastCommitBody([]byte(body), &b) {
			t.Errorf("fast decoder took %s", body)
		}
	}
	// The refusals name the parameter, as they always did.
	for body, param := range map[string]string{`{"amount":1}`: "ttl", `{"ttl":1}`: "amount", `{"ttl":1.5,"amount":1}`: "ttl",
		`{"ttl":1,"ttl":2}`: "ttl", `{"TTL":1}`: "TTL", `{"amount":"x","ttl":1}`: "amount"} {
		_, err := DecodeReserveRequest([]byte(body))
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.HasPrefix(err.Error(), "invalid: "+param+": ") {
			t.Errorf("%s: error %v, want one naming %s", body, err, param)
		}
	}
}

// fuzzReservationResult builds an answer from fuzzed parts.
func fuzzReservationResult(s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint16) allot.ReservationResult {
	at := time.Unix(sec, nsec%1e9)
	if flags&1 != 0 {
		at = at.In(time.FixedZone("z", off))
	} else {
		at = at.UTC()
	}
	out := allot.ReservationResult{Reservation: allot.Reservation{ReservationID: s1, ProjectID: s2, State: allot.ReservationOpen,
		Amount: allot.Quantity(n1), Committed: allot.Quantity(n2), Holds: []allot.Hold{{ResourceID: s2, Amount: allot.Quantity(n1), Committed: allot.Quantity(n2)}},
		CreatedAt: at, ExpiresAt: at.Add(time.Duration(n2 % 1e12)), Actor: s2, IdempotencyKey: s1},
		Entries: []allot.LedgerEntry{{ProjectID: s2, Seq: n1, ResourceID: s2, At: at, Actor: s2, Op: allot.OpReserve, HeldDelta: allot.Quantity(n1),
			IdempotencyKey: s1, Ref: s1}}, Replayed: flags&2 != 0, Created: flags&4 != 0}
	if flags&8 != 0 {
		out.State, out.SettledAt = allot.ReservationState(s2), at
	}
	if flags&16 != 0 {
		out.UserID, out.AppUserID = s1, s2
		out.Entries[0].UserID, out.Entries[0].AppUserID, out.Entries[0].Reason = s1, s2, s2
	}
	switch {
	case flags&32 != 0:
		out.Holds = nil
	case flags&64 != 0:
		out.Holds = []allot.Hold{}
	case flags&128 != 0:
		out.Holds = append(out.Holds, allot.Hold{ResourceID: s1, Amount: allot.Quantity(-n2)})
	}
	switch {
	case flags&256 != 0:
		out.Entries = nil
	case flags&512 != 0:
		out.Entries = []allot.LedgerEntry{}
	case flags&1024 != 0:
		out.Entries = append(out.Entries, allot.LedgerEntry{ProjectID: s1, Seq: n2, ResourceID: s1, At: at.Add(time.Second), Actor: s1,
			Op: allot.OpCommit, UsageDelta: allot.Quantity(n2), AmountDelta: allot.Quantity(n1)})
	}
	if flags&2048 != 0 {
		out.CreatedAt = time.Time{}
	}
	return out
}

// FuzzAppendReservationResult: every answer the hand-written encoder takes,
// it encodes to exactly json.Marshal's bytes.
func FuzzAppendReservationResult(f *testing.F) {
	f.Add("rsv-019ae3b1c2d40123456789abcdef", "bench-p", int64(2_000_000), int64(1_000_000), int64(1764700000), int64(0), 0, uint16(0))
	f.Add("p<&>\u2028", "r\xff\"", int64(-3), int64(9e18), int64(-62135596800), int64(123456789), 3600, uint16(0xffff))
	f.Add("p", "r", int64(0), int64(0), int64(253402300800), int64(999999999), -5*3600-30*60, uint16(1|2|8|16|128|1024))
	f.Add("\n", "\\", int64(1), int64(2), int64(0), int64(1), 24*3600, uint16(1|32|2048))
	f.Fuzz(func(t *testing.T, s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint16) {
		out := fuzzReservationResult(s1, s2, n1, n2, sec, nsec, off, flags)
		want, werr := json.Marshal(out)
		got, ok := appendReservationResult(nil, &out)
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

// TestEncodeReservationResultOfASettle: the answers of a reserve and of a
// commit go the hand-written way, with their statuses.
func TestEncodeReservationResultOfASettle(t *testing.T) {
	for flags, status := range map[uint16]int{4: 201, 8 | 1024: 200, 2 | 8: 200} {
		out := fuzzReservationResult("rsv-019ae3b1c2d40123456789abcdef", "p", 2_000_000, 1_000_000, 1764700000, 0, 0, flags)
		if _, ok := appendReservationResult(nil, &out); !ok {
			t.Fatalf("flags %d: the answer did not go the hand-written way", flags)
		}
		got, body, err := EncodeReservationResult(out)
		want, _ := json.Marshal(out)
		if err != nil || got != status || !bytes.Equal(body, want) {
			t.Fatalf("EncodeReservationResult: %d %s %v, want %d %s", got, body, err, status, want)
		}
	}
}
