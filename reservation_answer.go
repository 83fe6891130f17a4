package allot

import (
	"encoding/json"
	"time"
)

// storedReservationV1 is the answer an idempotency record of a reservation
// step keeps. Like storedAnswerV1 its shape is its own and frozen.
type storedReservationV1 struct {
	ReservationID  string          `json:"reservation_id"`
	ProjectID      string          `json:"project_id"`
	State          string          `json:"state"`
	Amount         Quantity        `json:"amount"`
	Committed      Quantity        `json:"committed"`
	Holds          []storedHoldV1  `json:"holds"`
	CreatedAt      time.Time       `json:"created_at"`
	ExpiresAt      time.Time       `json:"expires_at"`
	SettledAt      time.Time       `json:"settled_at,omitzero"`
	Actor          string          `json:"actor"`
	IdempotencyKey string          `json:"idempotency_key"`
	UserID         string          `json:"user_id,omitempty"`
	AppUserID      string          `json:"app_user_id,omitempty"`
	Entries        []storedEntryV1 `json:"entries"`
}

type storedHoldV1 struct {
	ResourceID string   `json:"resource_id"`
	Amount     Quantity `json:"amount"`
	Committed  Quantity `json:"committed"`
}

func encodeReservation(out ReservationResult) ([]byte, error) {
	v := out.Reservation
	a := storedReservationV1{ReservationID: v.ReservationID, ProjectID: v.ProjectID, State: string(v.State), Amount: v.Amount,
		Committed: v.Committed, CreatedAt: v.CreatedAt, ExpiresAt: v.ExpiresAt, SettledAt: v.SettledAt, Actor: v.Actor,
		IdempotencyKey: v.IdempotencyKey, UserID: v.UserID, AppUserID: v.AppUserID, Entries: storeEntries(out.Entries),
		Holds: make([]storedHoldV1, len(v.Holds))}
	for i, h := range v.Holds {
		//lint:ignore S1016 a conversion would tie the frozen shape to the domain type
		a.Holds[i] = storedHoldV1{ResourceID: h.ResourceID, Amount: h.Amount, Committed: h.Committed}
	}
	if b, ok := appendReservation(make([]byte, 0, 768), &a); ok {
		return b, nil
	}
	return json.Marshal(a)
}

func decodeReservation(b []byte) (ReservationResult, error) {
	var a storedReservationV1
	if err := json.Unmarshal(b, &a); err != nil {
		return ReservationResult{}, err
	}
	out := ReservationResult{Reservation: Reservation{ReservationID: a.ReservationID, ProjectID: a.ProjectID,
		State: ReservationState(a.State), Amount: a.Amount, Committed: a.Committed, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt,
		SettledAt: a.SettledAt, Actor: a.Actor, IdempotencyKey: a.IdempotencyKey,
		Attribution: Attribution{UserID: a.UserID, AppUserID: a.AppUserID}, Holds: make([]Hold, len(a.Holds))},
		Entries: loadEntries(a.Entries)}
	for i, h := range a.Holds {
		//lint:ignore S1016 a conversion would tie the frozen shape to the domain type
		out.Holds[i] = Hold{ResourceID: h.ResourceID, Amount: h.Amount, Committed: h.Committed}
	}
	return out, nil
}

// onceReservation is once for a reservation step.
func onceReservation(tx Tx, id idem, op func() (ReservationResult, error)) (ReservationResult, error) {
	return onceAs(tx, id, op, encodeReservation, decodeReservation, func(o *ReservationResult) {
		o.Replayed, o.Created = true, false
	})
}

// appendReservation appends the JSON of a, byte for byte what json.Marshal
// writes, when every string is printable ASCII that JSON and encoding/json's
// HTML escaping leave as it is and every time is within years 0-9999 at a
// whole-minute offset (answerWriter). It reports false for anything else,
// and encodeReservation then uses json.Marshal. FuzzAppendReservation holds
// the two to the same bytes.
func appendReservation(b []byte, a *storedReservationV1) ([]byte, bool) {
	w := answerWriter{b: b, ok: true}
	w.raw(`{"reservation_id":`)
	w.str(a.ReservationID)
	w.raw(`,"project_id":`)
	w.str(a.ProjectID)
	w.raw(`,"state":`)
	w.str(a.State)
	w.raw(`,"amount":`)
	w.b = a.Amount.AppendDecimal(w.b)
	w.raw(`,"committed":`)
	w.b = a.Committed.AppendDecimal(w.b)
	w.raw(`,"holds":`)
	if a.Holds == nil {
		w.raw(`null`)
	} else {
		w.raw(`[`)
		for i := range a.Holds {
			h := &a.Holds[i]
			if i > 0 {
				w.raw(`,`)
			}
			w.raw(`{"resource_id":`)
			w.str(h.ResourceID)
			w.raw(`,"amount":`)
			w.b = h.Amount.AppendDecimal(w.b)
			w.raw(`,"committed":`)
			w.b = h.Committed.AppendDecimal(w.b)
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	w.raw(`,"created_at":`)
	w.time(a.CreatedAt)
	w.raw(`,"expires_at":`)
	w.time(a.ExpiresAt)
	if !a.SettledAt.IsZero() {
		w.raw(`,"settled_at":`)
		w.time(a.SettledAt)
	}
	w.raw(`,"actor":`)
	w.str(a.Actor)
	w.raw(`,"idempotency_key":`)
	w.str(a.IdempotencyKey)
	w.opt(`,"user_id":`, a.UserID)
	w.opt(`,"app_user_id":`, a.AppUserID)
	w.raw(`,"entries":`)
	w.entries(a.Entries)
	w.raw(`}`)
	return w.b, w.ok
}
