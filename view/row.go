package view

import (
	"slices"
	"time"

	"github.com/allot-dev/allot"
)

// row is the compact form of one allot.Resource inside a snapshot.
//
// Why: a snapshot holds every resource of a tenant, and most of an
// allot.Resource is repeated text (the project id, six enumeration and code
// strings) and wide types (time.Time is 24 bytes, a string header 16). Here
// the codes are small indices into tables, the expiry time is Unix seconds,
// and the project id lives once in the snapshot, so a row is about half of
// an allot.Resource, and a filter compares integers instead of strings.
// Rows are turned back into allot.Resource values only for the page being
// answered (snapshot.resource), and that conversion is exact: a resource
// whose fields the compact form cannot hold exactly (a time with a fraction
// or a zone, a value outside the enumerations, another project's id) keeps
// its original in ext.full.
type row struct {
	id      string
	order   string
	ext     *rowExt // nil for most rows
	seq     int64
	version int64
	amount  int64
	usage   int64
	expire  int64 // Unix seconds; meaningful when flags&hasExpire
	status  int32
	rtype   uint32 // index into the snapshot's resource types
	// Indices into the domain's enumerations: 0 is the empty value, i+1 the
	// i-th value of allot.BusinessTypes and so on.
	business, sub, charging, source, unit uint8
	flags                                 uint8
}

const (
	hasExpire uint8 = 1 << iota
	isSub
	removed
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
// share an older one's table and add to its own copy.
type types struct {
	names []string
	index map[string]uint32
}

func newTypes() *types { return &types{index: make(map[string]uint32)} }

// code returns name's index, adding it if new.
func (t *types) code(name string) uint32 {
	if i, ok := t.index[name]; ok {
		return i
	}
	i := uint32(len(t.names))
	t.names = append(t.names, name)
	t.index[name] = i
	return i
}

// clone returns a copy that can grow without touching t.
func (t *types) clone() *types {
	c := &types{names: slices.Clone(t.names), index: make(map[string]uint32, len(t.index))}
	for k, v := range t.index {
		c.index[k] = v
	}
	return c
}

// compact returns r's row, with resource types interned in ts, for a
// snapshot of project projectID.
func compact(r *allot.Resource, projectID string, ts *types) row {
	w := row{id: r.ResourceID, order: r.OrderID, seq: r.Seq, version: r.Version,
		amount: int64(r.Amount), usage: int64(r.Usage), status: int32(r.Status), rtype: ts.code(r.ResourceType)}
	exact := r.ProjectID == projectID
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
	if r.IsSubResource {
		w.flags |= isSub
	}
	if r.Removed {
		w.flags |= removed
	}
	if r.BoundAsset != nil {
		w.ext = &rowExt{asset: r.BoundAsset}
	}
	if !exact {
		full := *r
		w.ext = &rowExt{full: &full}
	}
	return w
}

// resource writes the allot.Resource of w into r.
func (s *snapshot) resourceOf(w *row, r *allot.Resource) {
	if w.ext != nil && w.ext.full != nil {
		*r = *w.ext.full
		return
	}
	*r = allot.Resource{
		ProjectID:       s.project.ID,
		ResourceID:      w.id,
		OrderID:         w.order,
		ResourceType:    s.types.names[w.rtype],
		BusinessType:    businessCodes.values[w.business],
		SubResourceType: subCodes.values[w.sub],
		IsSubResource:   w.flags&isSub != 0,
		ChargingMode:    chargingCodes.values[w.charging],
		Source:          sourceCodes.values[w.source],
		Amount:          allot.Quantity(w.amount),
		Usage:           allot.Quantity(w.usage),
		Status:          allot.ResourceStatus(w.status),
		Unit:            unitCodes.values[w.unit],
		Removed:         w.flags&removed != 0,
		Seq:             w.seq,
		Version:         w.version,
	}
	if w.flags&hasExpire != 0 {
		r.ExpireTime = time.Unix(w.expire, 0).UTC()
	}
	if w.ext != nil {
		r.BoundAsset = w.ext.asset
	}
}

// resource returns the allot.Resource at index i.
func (s *snapshot) resource(i int) *allot.Resource {
	r := new(allot.Resource)
	s.resourceOf(&s.rows[i], r)
	return r
}
