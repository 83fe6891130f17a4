package api

import (
	"strconv"

	"github.com/allot-dev/allot"
)

// reserveBody is the body of POST /admin/v1/reservations as sent.
type reserveBody struct {
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

// commitBody is the body of a commit as sent.
type commitBody struct {
	Amount         number `json:"amount"`
	IdempotencyKey string `json:"idempotency_key"`
}

// fastReserveBody decodes the common shape of a reserve body without
// encoding/json, like fastConsumeBody: one flat object of reserveBody's keys
// (exact case, each once), plain strings, an amount that is a JSON number or
// such a string, true or false for allow_split, and a ttl that is a JSON
// integer within int64. It reports false for anything else, and decodeJSON
// then decides. FuzzFastReserveBody holds the two to the same result.
func fastReserveBody(body []byte, b *reserveBody) bool {
	d := drawFields{ProjectID: &b.ProjectID, ResourceID: &b.ResourceID, ResourceType: &b.ResourceType, Amount: &b.Amount,
		IdempotencyKey: &b.IdempotencyKey, AllowSplit: &b.AllowSplit, UserID: &b.UserID, AppUserID: &b.AppUserID}
	return fastObject(body, func(p *fastParser, key []byte) (uint16, bool) {
		if string(key) != "ttl" {
			return p.drawField(key, &d)
		}
		text, ok := p.integer()
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(string(text), 10, 64)
		if err != nil {
			return 0, false
		}
		b.TTL = &n
		return 1 << 8, true
	})
}

// fastCommitBody decodes the common shape of a commit body, like
// fastConsumeBody; FuzzFastCommitBody holds it to decodeJSON.
func fastCommitBody(body []byte, b *commitBody) bool {
	return fastObject(body, func(p *fastParser, key []byte) (uint16, bool) {
		switch string(key) {
		case "amount":
			text, ok := p.amount()
			if !ok {
				return 0, false
			}
			b.Amount = number{text: string(text), set: true}
			return 1 << 0, true
		case "idempotency_key":
			s, ok := p.str()
			if !ok {
				return 0, false
			}
			b.IdempotencyKey = string(s)
			return 1 << 1, true
		}
		return 0, false
	})
}

// appendReservationResult appends the JSON of out, byte for byte what
// json.Marshal writes, when every time is within years 0-9999 at a
// whole-minute offset (appendJSONTime). It reports false otherwise, and
// EncodeReservationResult then uses json.Marshal.
// FuzzAppendReservationResult holds the two to the same bytes.
func appendReservationResult(b []byte, out *allot.ReservationResult) ([]byte, bool) {
	v := &out.Reservation
	b = append(b, `{"reservation_id":`...)
	b = appendString(b, v.ReservationID)
	b = append(b, `,"project_id":`...)
	b = appendString(b, v.ProjectID)
	b = append(b, `,"state":`...)
	b = appendString(b, string(v.State))
	b = append(b, `,"amount":`...)
	b = v.Amount.AppendDecimal(b)
	b = append(b, `,"committed":`...)
	b = v.Committed.AppendDecimal(b)
	b = append(b, `,"holds":`...)
	if v.Holds == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, '[')
		for i := range v.Holds {
			h := &v.Holds[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"resource_id":`...)
			b = appendString(b, h.ResourceID)
			b = append(b, `,"amount":`...)
			b = h.Amount.AppendDecimal(b)
			b = append(b, `,"committed":`...)
			b = h.Committed.AppendDecimal(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"created_at":`...)
	b, ok := appendJSONTime(b, v.CreatedAt)
	b = append(b, `,"expires_at":`...)
	b, tok := appendJSONTime(b, v.ExpiresAt)
	ok = ok && tok
	if !v.SettledAt.IsZero() {
		b = append(b, `,"settled_at":`...)
		b, tok = appendJSONTime(b, v.SettledAt)
		ok = ok && tok
	}
	b = append(b, `,"actor":`...)
	b = appendString(b, v.Actor)
	b = append(b, `,"idempotency_key":`...)
	b = appendString(b, v.IdempotencyKey)
	b = appendOptString(b, `,"user_id":`, v.UserID)
	b = appendOptString(b, `,"app_user_id":`, v.AppUserID)
	b = append(b, `,"entries":`...)
	b, tok = appendEntries(b, out.Entries)
	ok = ok && tok
	if out.Replayed {
		b = append(b, `,"replayed":true`...)
	}
	return append(b, '}'), ok
}
