package api

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/allot-dev/allot"
)

// fastImportLine decodes the common shape of an import line without
// encoding/json: one flat object whose keys are importLine's (exact case,
// each once), whose values are strings without escapes or bytes outside
// printable ASCII, integers, numbers, true or false, as importLine's
// fields take them. It reports false for anything else (nested objects,
// null, escapes, unknown or repeated keys, a value of the wrong JSON type,
// bad syntax), and decodeJSON then decides, so every line that is refused
// gets the message it always got. FuzzFastImportLine holds the two to the
// same result for every line the fast path takes.
func fastImportLine(b []byte, l *importLine) bool {
	p := fastParser{b: b}
	p.space()
	if !p.byte('{') {
		return false
	}
	var seen uint32
	p.space()
	if p.peek() == '}' {
		p.i++
	} else {
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
			bit, ok := p.field(key, l)
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
	}
	p.space()
	return p.i == len(p.b)
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) byte(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes and returns its
// contents.
func (p *fastParser) str() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 {
		return nil, false
	}
	s := p.b[p.i : p.i+end]
	for _, c := range s {
		if notPlain[c] {
			return nil, false
		}
	}
	p.i += end + 1
	return s, true
}

// notPlain marks the bytes a fast string may not hold: controls, the
// backslash and everything outside ASCII.
var notPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '\\' || c >= 0x7f
	}
	return t
}()

func (p *fastParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// integer reads a JSON integer: -?(0|[1-9][0-9]*), not followed by a
// fraction or an exponent.
func (p *fastParser) integer() ([]byte, bool) {
	start := p.i
	p.byte('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return nil, false
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' || '0' <= c && c <= '9' {
		return nil, false
	}
	return p.b[start:p.i], true
}

// number reads a JSON number literal.
func (p *fastParser) number() ([]byte, bool) {
	start := p.i
	p.byte('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return nil, false
	}
	if p.byte('.') && !p.digits() {
		return nil, false
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return nil, false
		}
	}
	if c := p.peek(); '0' <= c && c <= '9' {
		return nil, false
	}
	return p.b[start:p.i], true
}

func (p *fastParser) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// field reads the value of key into l and returns the key's bit; false if
// the key is not importLine's or the value is not one the fast path takes.
func (p *fastParser) field(key []byte, l *importLine) (uint32, bool) {
	var dst *string
	var bit uint32
	switch string(key) {
	case "kind":
		dst, bit = &l.Kind, 1<<0
	case "project_id":
		dst, bit = &l.ProjectID, 1<<1
	case "name":
		dst, bit = &l.Name, 1<<2
	case "region_id":
		dst, bit = &l.RegionID, 1<<3
	case "sp_project_id":
		dst, bit = &l.SPProjectID, 1<<4
	case "resource_id":
		dst, bit = &l.ResourceID, 1<<5
	case "order_id":
		dst, bit = &l.OrderID, 1<<6
	case "resource_type":
		dst, bit = &l.ResourceType, 1<<7
	case "customer_project_id":
		dst, bit = &l.CustomerProjectID, 1<<8
	case "assignment_record_id":
		dst, bit = &l.RecordID, 1<<9
	case "resource_spec_code":
		dst, bit = &l.ResourceSpecCode, 1<<10
	case "access_key":
		dst, bit = &l.AccessKey, 1<<11
	case "secret_key":
		dst, bit = &l.SecretKey, 1<<12
	case "token":
		dst, bit = &l.Token, 1<<13
	case "key":
		dst, bit = &l.Key, 1<<14
	case "expires_at":
		dst, bit = &l.ExpiresAt, 1<<15
	case "business_type", "sub_resource_type", "charging_mode", "resource_source", "unit", "role":
		s, ok := p.str()
		if !ok {
			return 0, false
		}
		v := string(s)
		switch string(key) {
		case "business_type":
			l.BusinessType, bit = allot.BusinessType(v), 1<<16
		case "sub_resource_type":
			l.SubResourceType, bit = allot.SubResourceType(v), 1<<17
		case "charging_mode":
			l.ChargingMode, bit = allot.ChargingMode(v), 1<<18
		case "resource_source":
			l.ResourceSource, bit = allot.ResourceSource(v), 1<<19
		case "unit":
			l.Unit, bit = allot.Unit(v), 1<<20
		default:
			l.Role, bit = allot.Role(v), 1<<21
		}
		return bit, true
	case "is_sub_resource":
		switch {
		case p.literal("true"):
			l.IsSubResource = true
		case p.literal("false"):
			l.IsSubResource = false
		default:
			return 0, false
		}
		return 1 << 22, true
	case "status":
		n, ok := p.integer()
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseInt(string(n), 10, 32)
		if err != nil {
			return 0, false
		}
		l.Status = allot.ResourceStatus(v)
		return 1 << 23, true
	case "resource_allocate_time":
		n, ok := p.integer()
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return 0, false
		}
		l.AllocateTime = &v
		return 1 << 24, true
	case "resource_expire_time":
		start := p.i
		if p.peek() == '"' {
			if _, ok := p.str(); !ok {
				return 0, false
			}
		} else if _, ok := p.number(); !ok {
			return 0, false
		}
		l.ExpireTime = json.RawMessage(append([]byte(nil), p.b[start:p.i]...))
		return 1 << 25, true
	case "amount", "usage", "resource_num", "resource_used_num":
		var text []byte
		if p.peek() == '"' {
			s, ok := p.str()
			if !ok {
				return 0, false
			}
			text = s
		} else {
			n, ok := p.number()
			if !ok {
				return 0, false
			}
			text = n
		}
		n := number{text: string(text), set: true}
		switch string(key) {
		case "amount":
			l.Amount, bit = n, 1<<26
		case "usage":
			l.Usage, bit = n, 1<<27
		case "resource_num":
			l.ResourceNum, bit = n, 1<<28
		default:
			l.ResourceUsedNum, bit = n, 1<<29
		}
		return bit, true
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
