package view

import (
	"math"
	"time"

	"github.com/allot-dev/allot"
)

// compiled is an allot.ResourceFilter translated to a snapshot's codes, so
// that testing a row compares small integers: each list becomes a bit set
// of the codes it accepts. It answers exactly as ResourceFilter.Match does
// on the row's allot.Resource (FuzzFilterIndex holds the two equal).
type compiled struct {
	f *allot.ResourceFilter
	// none: some condition no row can meet (a value that is in no row's
	// table), so the filter matches nothing.
	none bool

	types                     []uint64 // bit i: type i accepted; nil: any type
	business, source          uint64   // bit i: code i accepted; 0: any
	charging, sub             uint8    // 0: any
	status                    int32
	hasStatus                 bool
	expires                   bool  // the filter bounds the expiry time
	expireFrom, expireTo      int64 // inclusive bounds, Unix seconds
	resourceID, orderID       string
	hasResourceID, hasOrderID bool
}

func (s *snapshot) compile(f *allot.ResourceFilter) *compiled {
	c := &compiled{f: f, status: -1}
	if len(f.ResourceTypes) > 0 {
		c.types = make([]uint64, (len(s.types.names)+63)/64)
		known := false
		for _, t := range f.ResourceTypes {
			if i, ok := s.types.lookup(t); ok {
				c.types[i/64] |= 1 << (i % 64)
				known = true
			}
		}
		c.none = c.none || !known
	}
	c.business, c.none = codeSet(businessCodes, f.Businesses, c.none)
	c.source, c.none = codeSet(sourceCodes, f.Sources, c.none)
	if f.ChargingMode != "" {
		code, ok := chargingCodes.code(f.ChargingMode)
		c.charging, c.none = code, c.none || !ok
	}
	if f.SubResource != "" {
		code, ok := subCodes.code(f.SubResource)
		c.sub, c.none = code, c.none || !ok
	}
	if f.Status != nil {
		c.status, c.hasStatus = int32(*f.Status), true
	}
	if f.ExpireStart != nil || f.ExpireEnd != nil {
		c.expires = true
		c.expireFrom, c.expireTo = math.MinInt64, math.MaxInt64
		// Rows hold whole seconds t. t >= start in time is t >= start
		// rounded up to a second; t <= end is t <= end rounded down.
		if f.ExpireStart != nil {
			c.expireFrom = ceilSeconds(*f.ExpireStart)
		}
		if f.ExpireEnd != nil {
			c.expireTo = f.ExpireEnd.Unix() // Unix rounds towards minus infinity
		}
	}
	c.resourceID, c.hasResourceID = f.ResourceID, f.ResourceID != ""
	c.orderID, c.hasOrderID = f.OrderID, f.OrderID != ""
	return c
}

func ceilSeconds(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 && sec < math.MaxInt64 {
		sec++
	}
	return sec
}

// codeSet returns the bit set of the codes of values (0 for no values) and
// whether the filter can match nothing: values were given, none of them known.
func codeSet[T ~string](t codeTable[T], values []T, none bool) (uint64, bool) {
	if len(values) == 0 {
		return 0, none
	}
	var set uint64
	for _, v := range values {
		if i, ok := t.code(v); ok {
			set |= 1 << i
		}
	}
	return set, none || set == 0
}

// match reports whether the row passes the filter.
func (c *compiled) match(s *snapshot, w *row) bool {
	if w.ext != 0 {
		if full := s.full(w); full != nil {
			return c.f.Match(full)
		}
	}
	if c.none || w.flags&removed != 0 {
		return false
	}
	if c.source != 0 && c.source&(1<<w.source) == 0 {
		return false
	}
	if c.business != 0 && c.business&(1<<w.business) == 0 {
		return false
	}
	if c.types != nil && (int(w.rtype/64) >= len(c.types) || c.types[w.rtype/64]&(1<<(w.rtype%64)) == 0) {
		return false
	}
	if c.hasResourceID && textOf(s.text, w.idOff, w.idLen) != c.resourceID {
		return false
	}
	if c.hasOrderID && textOf(s.text, w.orderOff, w.orderLen) != c.orderID {
		return false
	}
	if c.charging != 0 && w.charging != c.charging {
		return false
	}
	if c.sub != 0 && w.sub != c.sub {
		return false
	}
	if c.hasStatus && int32(w.flags&frozen/frozen) != c.status {
		return false
	}
	if c.expires {
		if w.flags&hasExpire == 0 || w.expire < c.expireFrom || w.expire > c.expireTo {
			return false
		}
	}
	return true
}
