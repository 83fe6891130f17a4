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
	p := fastParser{b: body}
	var seen uint16
	more, ok := p.open()
	for ok && more {
		key, kok := p.member()
		if !kok {
			return false
		}
		var (
			bit uint16
			vok bool
		)
		if string(key) == "ttl" {
			bit, vok = 1<<8, p.ttl(&b.TTL)
		} else {
			bit, vok = p.drawField(key, &d)
		}
		if !vok || seen&bit != 0 {
			return false
		}
		seen |= bit
		more, ok = p.after()
	}
	return ok
}

// ttl reads a JSON integer within int64 into *dst.
func (p *fastParser) ttl(dst **int64) bool {
	text, ok := p.integer()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return false
	}
	*dst = &n
	return true
}

// fastCommitBody decodes the common shape of a commit body, like
// fastConsumeBody; FuzzFastCommitBody holds it to decodeJSON.
func fastCommitBody(body []byte, b *commitBody) bool {
	p := fastParser{b: body}
	var seen uint16
	more, ok := p.open()
	for ok && more {
		key, kok := p.member()
		if !kok {
			return false
		}
		var (
			bit uint16
			vok bool
		)
		switch string(key) {
		case "amount":
			var text []byte
			if text, vok = p.amount(); vok {
				b.Amount = number{text: string(text), set: true}
			}
			bit = 1 << 0
		case "idempotency_key":
			var s []byte
			if s, vok = p.str(); vok {
				b.IdempotencyKey = string(s)
			}
			bit = 1 << 1
		}
		if !vok || seen&bit != 0 {
			return false
		}
		seen |= bit
		more, ok = p.after()
	}
	return ok
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
