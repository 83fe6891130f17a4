package api

import (
	"strconv"
	"time"

	"github.com/allot-dev/allot"
)

// fastConsumeBody decodes the common shape of a consume body without
// encoding/json: one flat object whose keys are consumeBody's (exact case,
// each once), whose values are strings without escapes or bytes outside
// printable ASCII, an amount that is a JSON number or such a string, and
// true or false for allow_split. It reports false for anything else (null,
// escapes, unknown or repeated keys, a value of the wrong JSON type, bad
// syntax, a second value), and decodeJSON then decides, so every body that
// is refused gets the message it always got. FuzzFastConsumeBody holds the
// two to the same result for every body the fast path takes.
func fastConsumeBody(body []byte, b *consumeBody) bool {
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
		bit, vok := p.drawField(key, &d)
		if !vok || seen&bit != 0 {
			return false
		}
		seen |= bit
		more, ok = p.after()
	}
	return ok
}

// open, member and after walk one flat JSON object and nothing after it
// but space: open reads the opening brace (more: a member follows; ok
// false on bad syntax), member a member's key and its colon, leaving the
// value to the caller, and after what follows a value (more: another
// member). The callers refuse a key seen twice, and leave every body the
// walk refuses to decodeJSON.
func (p *fastParser) open() (more, ok bool) {
	p.space()
	if !p.byte('{') {
		return false, false
	}
	p.space()
	if p.byte('}') {
		p.space()
		return false, p.i == len(p.b)
	}
	return true, true
}

func (p *fastParser) member() ([]byte, bool) {
	key, ok := p.str()
	if !ok {
		return nil, false
	}
	p.space()
	if !p.byte(':') {
		return nil, false
	}
	p.space()
	return key, true
}

func (p *fastParser) after() (more, ok bool) {
	p.space()
	if p.byte(',') {
		p.space()
		return true, true
	}
	if p.byte('}') {
		p.space()
		return false, p.i == len(p.b)
	}
	return false, false
}

// drawFields are where the keys of a body that draws units (a consume, a
// reserve) go.
type drawFields struct {
	ProjectID, ResourceID, ResourceType, IdempotencyKey, UserID, AppUserID *string
	Amount                                                                 *number
	AllowSplit                                                             *bool
}

// drawField reads the value of key into d and returns the key's bit; false
// if the key is not one of d's or the value is not one the fast path takes.
func (p *fastParser) drawField(key []byte, d *drawFields) (uint16, bool) {
	var dst *string
	var bit uint16
	switch string(key) {
	case "project_id":
		dst, bit = d.ProjectID, 1<<0
	case "resource_id":
		dst, bit = d.ResourceID, 1<<1
	case "resource_type":
		dst, bit = d.ResourceType, 1<<2
	case "idempotency_key":
		dst, bit = d.IdempotencyKey, 1<<3
	case "user_id":
		dst, bit = d.UserID, 1<<4
	case "app_user_id":
		dst, bit = d.AppUserID, 1<<5
	case "allow_split":
		switch {
		case p.literal("true"):
			*d.AllowSplit = true
		case p.literal("false"):
			*d.AllowSplit = false
		default:
			return 0, false
		}
		return 1 << 6, true
	case "amount":
		text, ok := p.amount()
		if !ok {
			return 0, false
		}
		*d.Amount = number{text: string(text), set: true}
		return 1 << 7, true
	default:
		return 0, false
	}
	s, ok := p.str()
	if !ok {
		return 0, false
	}
	*dst = string(s)
	return bit, true
}

// amount reads an amount: a JSON number, or a plain string (which
// number.quantity parses).
func (p *fastParser) amount() ([]byte, bool) {
	if p.peek() == '"' {
		return p.str()
	}
	return p.number()
}

// appendOpResult appends the JSON of out, byte for byte what json.Marshal
// writes, for the common answer: one package without a bound asset or an
// assignment, every time within years 0-9999 at a whole-minute offset. It
// reports false for anything else, and EncodeResult then uses
// json.Marshal. FuzzAppendOpResult holds the two to the same bytes.
func appendOpResult(b []byte, out *allot.OpResult) ([]byte, bool) {
	r := &out.Resource
	if out.Assignment != nil || len(out.Split) > 0 || r.BoundAsset != nil {
		return nil, false
	}
	b = append(b, `{"resource":{"project_id":`...)
	b = appendString(b, r.ProjectID)
	b = append(b, `,"resource_id":`...)
	b = appendString(b, r.ResourceID)
	if r.OrderID != "" {
		b = append(b, `,"order_id":`...)
		b = appendString(b, r.OrderID)
	}
	ok := true
	if !r.ExpireTime.IsZero() {
		b = append(b, `,"resource_expire_time":`...)
		b, ok = appendJSONTime(b, r.ExpireTime)
	}
	b = appendResourceFields(b, r)
	if r.Priority != 0 {
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(r.Priority), 10)
	}
	if r.Held != 0 {
		b = append(b, `,"held":`...)
		b = r.Held.AppendDecimal(b)
	}
	if r.Removed {
		b = append(b, `,"removed":true`...)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, r.Version, 10)
	b = append(b, `},"entries":`...)
	b, eok := appendEntries(b, out.Entries)
	ok = ok && eok
	if out.Replayed {
		b = append(b, `,"replayed":true`...)
	}
	return append(b, '}'), ok
}

// appendEntries appends es as json.Marshal writes a []allot.LedgerEntry;
// false if a time is one appendJSONTime refuses.
func appendEntries(b []byte, es []allot.LedgerEntry) ([]byte, bool) {
	if es == nil {
		return append(b, `null`...), true
	}
	ok := true
	b = append(b, '[')
	for i := range es {
		e := &es[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"project_id":`...)
		b = appendString(b, e.ProjectID)
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, e.Seq, 10)
		b = append(b, `,"resource_id":`...)
		b = appendString(b, e.ResourceID)
		b = append(b, `,"at":`...)
		var tok bool
		if b, tok = appendJSONTime(b, e.At); !tok {
			ok = false
		}
		b = append(b, `,"actor":`...)
		b = appendString(b, e.Actor)
		b = append(b, `,"op":`...)
		b = appendString(b, string(e.Op))
		b = append(b, `,"amount_delta":`...)
		b = e.AmountDelta.AppendDecimal(b)
		b = append(b, `,"usage_delta":`...)
		b = e.UsageDelta.AppendDecimal(b)
		if e.HeldDelta != 0 {
			b = append(b, `,"held_delta":`...)
			b = e.HeldDelta.AppendDecimal(b)
		}
		b = appendOptString(b, `,"idempotency_key":`, e.IdempotencyKey)
		b = appendOptString(b, `,"reason":`, e.Reason)
		b = appendOptString(b, `,"ref":`, e.Ref)
		b = appendOptString(b, `,"user_id":`, e.UserID)
		b = appendOptString(b, `,"app_user_id":`, e.AppUserID)
		b = append(b, '}')
	}
	b = append(b, ']')
	return b, ok
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

// appendJSONTime appends t as time.Time's MarshalJSON does; false outside
// years 0-9999 or at an offset that is not whole minutes below a day,
// where MarshalJSON refuses or writes otherwise.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}
