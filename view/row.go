package view

import (
	"slices"
	"time"
	"unsafe"

	"github.com/allot-dev/allot"
)

// row is the compact form of one allot.Resource inside a snapshot.
//
// Why: a snapshot holds every resource of a tenant, and most of an
// allot.Resource is repeated text (the project id, six enumeration and code
// strings) and wide types (time.Time is 24 bytes, a string header 16, and
// each id its own allocation). Here the codes are small indices into tables,
// the expiry time is Unix seconds, the ids are spans of one byte arena per
// snapshot, and the project id lives once in the snapshot: a row is 72
// bytes, and a filter compares integers instead of strings. Rows are turned
// back into allot.Resource values only for the page being answered
// (snapshot.resourceOf), and that conversion is exact: a resource whose
// fields the compact form cannot hold exactly (a time with a fraction or a
// zone, a value outside the enumerations, a status other than 0 and 1, a
// hold or a priority,
// another project's id, an id longer than 255 bytes) keeps its original in
// its rowExt.
type row struct {
	seq     int64
	version int64
	amount  int64
	usage   int64
	expire  int64  // Unix seconds; meaningful when flags&hasExpire
	rtype   uint32 // index into the snapshot's resource types
	ext     uint32 // 0, or 1 + the index of the row's rowExt in the snapshot's exts
	// The resource and order ids: text[off : off+len] of the snapshot.
	idOff, orderOff uint32
	idLen, orderLen uint8
	// Indices into the domain's enumerations: 0 is the empty value, i+1 the
	// i-th value of allot.BusinessTypes and so on.
	business, sub, charging, source, unit uint8
	flags                                 uint8
}

const (
	hasExpire uint8 = 1 << iota
	isSub
	removed
	frozen // status 1; 0 otherwise
)

// rowExt holds what few rows have: a bound asset, or the whole original
// when the compact form cannot represent the resource exactly.
type rowExt struct {
	asset *allot.BoundAsset
	full  *allot.Resource
}

// The enumerations as tables of small indices. Index 0 is the empty value.
var (
	businessCodes = enumTable(allot.BusinessTypes)
	subCodes      = enumTable(allot.SubResourceTypes)
	chargingCodes = enumTable(allot.ChargingModes)
	sourceCodes   = enumTable(allot.ResourceSources)
	unitCodes     = enumTable(allot.Units)
)

type codeTable[T ~string] struct {
	values []T // values[0] == ""
}

func enumTable[T ~string](values []T) codeTable[T] {
	if len(values) >= 255 {
		panic("view: enumeration too large for a uint8 code")
	}
	return codeTable[T]{values: append([]T{""}, values...)}
}

// code returns v's index and whether v is in the table.
func (t codeTable[T]) code(v T) (uint8, bool) {
	i := slices.Index(t.values, v)
	return uint8(i), i >= 0
}

// types interns the resource types of one tenant. It is append-only, and a
// snapshot only reads the indices its rows hold, so a newer snapshot may
// share an older one's table, and copies it to add to it. A tenant has a
// handful of types, so they are found by a linear search until there are
// more than smallTypes of them.
type types struct {
	names []string
	index map[string]uint32 // nil while len(names) <= smallTypes
}

const smallTypes = 16

func newTypes() *types { return &types{} }

// lookup returns name's index.
func (t *types) lookup(name string) (uint32, bool) {
	if t.index != nil {
		i, ok := t.index[name]
		return i, ok
	}
	for i, n := range t.names {
		if n == name {
			return uint32(i), true
		}
	}
	return 0, false
}

// code returns name's index, adding it if new.
func (t *types) code(name string) uint32 {
	if i, ok := t.lookup(name); ok {
		return i
	}
	i := uint32(len(t.names))
	t.names = append(t.names, name)
	if t.index != nil {
		t.index[name] = i
	} else if len(t.names) > smallTypes {
		t.index = make(map[string]uint32, len(t.names))
		for j, n := range t.names {
			t.index[n] = uint32(j)
		}
	}
	return i
}

// clone returns a copy that can grow without touching t.
func (t *types) clone() *types {
	c := &types{names: slices.Clip(t.names)}
	if t.index != nil {
		c.index = make(map[string]uint32, len(t.index))
		for k, v := range t.index {
			c.index[k] = v
		}
	}
	return c
}

// maxArena bounds a snapshot's text arena so that offsets fit a uint32.
const maxArena = 1<<32 - 1

// compact returns r's row, with its resource type interned in s.types and
// its ids appended to s.text. prev, when not nil, is the row r replaces: its
// ids are reused when they are the same, so a change in place adds nothing
// to the arena.
func (s *snapshot) compact(r *allot.Resource, prev *row) row {
	w := row{seq: r.Seq, version: r.Version, amount: int64(r.Amount), usage: int64(r.Usage), rtype: s.types.code(r.ResourceType)}
	exact := r.ProjectID == s.project.ID
	var ok [5]bool
	w.business, ok[0] = businessCodes.code(r.BusinessType)
	w.sub, ok[1] = subCodes.code(r.SubResourceType)
	w.charging, ok[2] = chargingCodes.code(r.ChargingMode)
	w.source, ok[3] = sourceCodes.code(r.Source)
	w.unit, ok[4] = unitCodes.code(r.Unit)
	exact = exact && ok == [5]bool{true, true, true, true, true}
	if r.ExpireTime != (time.Time{}) {
		w.flags |= hasExpire
		w.expire = r.ExpireTime.Unix()
		// The stores return times as time.Unix(sec, 0).UTC(); anything else
		// (a fraction, a zone) would not survive the round trip.
		exact = exact && r.ExpireTime == time.Unix(w.expire, 0).UTC()
	}
	switch r.Status {
	case allot.StatusNormal:
	case allot.StatusFrozen:
		w.flags |= frozen
	default:
		exact = false
	}
	if r.IsSubResource {
		w.flags |= isSub
	}
	if r.Removed {
		w.flags |= removed
	}
	// Holds and burn-down priorities are the management plane's: a row
	// with either keeps its original.
	exact = exact && r.Held == 0 && r.Priority == 0
	exact = exact && len(r.ResourceID) <= 255 && len(r.OrderID) <= 255 &&
		len(s.text)+len(r.ResourceID)+len(r.OrderID) <= maxArena && len(s.exts) < maxArena
	if !exact {
		full := *r
		w.ext = s.addExt(rowExt{full: &full})
		return w
	}
	if r.BoundAsset != nil {
		w.ext = s.addExt(rowExt{asset: r.BoundAsset})
	}
	reuse := prev != nil && s.full(prev) == nil
	if reuse && textOf(s.text, prev.idOff, prev.idLen) == r.ResourceID {
		w.idOff, w.idLen = prev.idOff, prev.idLen
	} else {
		w.idOff, w.idLen = appendText(&s.text, r.ResourceID)
	}
	if reuse && textOf(s.text, prev.orderOff, prev.orderLen) == r.OrderID {
		w.orderOff, w.orderLen = prev.orderOff, prev.orderLen
	} else {
		w.orderOff, w.orderLen = appendText(&s.text, r.OrderID)
	}
	return w
}

func (s *snapshot) addExt(e rowExt) uint32 {
	s.exts = append(s.exts, e)
	return uint32(len(s.exts))
}

// full returns the original of a row the compact form cannot hold, or nil.
func (s *snapshot) full(w *row) *allot.Resource {
	if w.ext == 0 {
		return nil
	}
	return s.exts[w.ext-1].full
}

func appendText(text *[]byte, s string) (off uint32, n uint8) {
	off = uint32(len(*text))
	*text = append(*text, s...)
	return off, uint8(len(s))
}

// textOf returns text[off : off+n] as a string without copying: the arena
// is append-only, so bytes once written never change.
func textOf(text []byte, off uint32, n uint8) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&text[off], int(n))
}

// id returns w's resource id.
func (s *snapshot) id(w *row) string {
	if full := s.full(w); full != nil {
		return full.ResourceID
	}
	return textOf(s.text, w.idOff, w.idLen)
}

// resourceOf writes the allot.Resource of w into r.
func (s *snapshot) resourceOf(w *row, r *allot.Resource) {
	if full := s.full(w); full != nil {
		*r = *full
		return
	}
	*r = allot.Resource{
		ProjectID:       s.project.ID,
		ResourceID:      textOf(s.text, w.idOff, w.idLen),
		OrderID:         textOf(s.text, w.orderOff, w.orderLen),
		ResourceType:    s.types.names[w.rtype],
		BusinessType:    businessCodes.values[w.business],
		SubResourceType: subCodes.values[w.sub],
		IsSubResource:   w.flags&isSub != 0,
		ChargingMode:    chargingCodes.values[w.charging],
		Source:          sourceCodes.values[w.source],
		Amount:          allot.Quantity(w.amount),
		Usage:           allot.Quantity(w.usage),
		Unit:            unitCodes.values[w.unit],
		Removed:         w.flags&removed != 0,
		Seq:             w.seq,
		Version:         w.version,
	}
	if w.flags&hasExpire != 0 {
		r.ExpireTime = time.Unix(w.expire, 0).UTC()
	}
	if w.flags&frozen != 0 {
		r.Status = allot.StatusFrozen
	}
	if w.ext != 0 {
		r.BoundAsset = s.exts[w.ext-1].asset
	}
}

// resource returns the allot.Resource at index i.
func (s *snapshot) resource(i int) *allot.Resource {
	r := new(allot.Resource)
	s.resourceOf(&s.rows[i], r)
	return r
}
