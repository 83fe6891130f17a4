package api

import (
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/allot-dev/allot"
)

// The list response is the hot path's largest cost after the network, so it
// is encoded by hand into a pooled buffer instead of through reflection:
// the same JSON that encoding/json would write for ListResourcesResponse
// (a test holds the two equal), at a fraction of the allocations.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// listResponseStart and appendListResponseEnd frame the items of a list
// answer, which the handler appends one by one as they are visited.
const listResponseStart = `{"resources":[`

func appendListResponseEnd(b []byte, count int) []byte {
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	return append(b, '}')
}

func appendResourceItem(b []byte, r *allot.Resource) []byte {
	b = append(b, `{"resource_id":`...)
	b = appendString(b, r.ResourceID)
	if r.OrderID != "" {
		b = append(b, `,"order_id":`...)
		b = appendString(b, r.OrderID)
	}
	if r.BoundAsset != nil {
		b = append(b, `,"bound_asset":{"asset_id":`...)
		b = appendString(b, r.BoundAsset.AssetID)
		if r.BoundAsset.AssetName != "" {
			b = append(b, `,"asset_name":`...)
			b = appendString(b, r.BoundAsset.AssetName)
		}
		b = append(b, '}')
	}
	if !r.ExpireTime.IsZero() {
		b = append(b, `,"resource_expire_time":"`...)
		b = r.ExpireTime.UTC().AppendFormat(b, rfc3339Seconds)
		b = append(b, '"')
	}
	b = appendResourceFields(b, r)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does:
// quotes, backslashes and control characters escaped, <, > and & escaped
// for HTML safety, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029
// escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendResourceFields appends the fields from resource_type to unit that
// the tenant list item and the management answer share, in the order both
// JSON forms have them.
func appendResourceFields(b []byte, r *allot.Resource) []byte {
	b = append(b, `,"resource_type":`...)
	b = appendString(b, r.ResourceType)
	b = append(b, `,"business_type":`...)
	b = appendString(b, string(r.BusinessType))
	if r.SubResourceType != "" {
		b = append(b, `,"sub_resource_type":`...)
		b = appendString(b, string(r.SubResourceType))
	}
	b = append(b, `,"is_sub_resource":`...)
	b = strconv.AppendBool(b, r.IsSubResource)
	b = append(b, `,"charging_mode":`...)
	b = appendString(b, string(r.ChargingMode))
	b = append(b, `,"resource_source":`...)
	b = appendString(b, string(r.Source))
	b = append(b, `,"amount":`...)
	b = r.Amount.AppendDecimal(b)
	b = append(b, `,"usage":`...)
	b = r.Usage.AppendDecimal(b)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"unit":`...)
	b = appendString(b, string(r.Unit))
	return b
}
