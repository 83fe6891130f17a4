package api

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
	p := fastParser{b: body}
	p.space()
	if !p.byte('{') {
		return false
	}
	var seen uint8
	p.space()
	if p.byte('}') {
		p.space()
		return p.i == len(p.b)
	}
	for {
		key, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if !p.byte(':') {
			return false
		}
		p.space()
		bit, ok := p.consumeField(key, b)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		p.space()
		if p.byte(',') {
			p.space()
			continue
		}
		if p.byte('}') {
			break
		}
		return false
	}
	p.space()
	return p.i == len(p.b)
}

// consumeField reads the value of key into b and returns the key's bit;
// false if the key is not consumeBody's or the value is not one the fast
// path takes.
func (p *fastParser) consumeField(key []byte, b *consumeBody) (uint8, bool) {
	var dst *string
	var bit uint8
	switch string(key) {
	case "project_id":
		dst, bit = &b.ProjectID, 1<<0
	case "resource_id":
		dst, bit = &b.ResourceID, 1<<1
	case "resource_type":
		dst, bit = &b.ResourceType, 1<<2
	case "idempotency_key":
		dst, bit = &b.IdempotencyKey, 1<<3
	case "user_id":
		dst, bit = &b.UserID, 1<<4
	case "app_user_id":
		dst, bit = &b.AppUserID, 1<<5
	case "allow_split":
		switch {
		case p.literal("true"):
			b.AllowSplit = true
		case p.literal("false"):
			b.AllowSplit = false
		default:
			return 0, false
		}
		return 1 << 6, true
	case "amount":
		var text []byte
		var ok bool
		if p.peek() == '"' {
			text, ok = p.str()
		} else {
			text, ok = p.number()
		}
		if !ok {
			return 0, false
		}
		b.Amount = number{text: string(text), set: true}
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
