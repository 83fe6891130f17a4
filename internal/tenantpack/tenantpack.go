// Package tenantpack encodes every resource of one project at one project
// version as one blob, for the stores' first read of a big tenant: a store
// keeps a project's pack beside its rows, reads the pack and the rows
// changed after its version, and merges them (Merge).
//
// Why: the first request of a tenant (after a restart, or once the read
// model evicted it) reads all of its rows, and the drivers spend one to two
// microseconds per row on the columns: 100 to 200 ms or more for a
// 100,000-row tenant, where one blob of the same rows reads and decodes in
// a fraction of that. A pack is derived data and may lag behind; merging
// it with the rows changed after its version is exact because every change
// to a resource sets its version to the project's new version, in the
// transaction that makes the change, and a project's version only grows.
// A pack that does not decode, or was written under another schema
// version, is to be ignored and the columns read.
package tenantpack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/allot-dev/allot"
)

// The layout: "allotpk", a format byte, then unsigned varints for the
// schema version, the pack's project version, the number of dictionary
// strings and the number of rows; the dictionary (each string as a varint
// length and its bytes); then the rows in seq order. A row is signed
// varints for seq, version, amount, usage, held, priority and status, a
// flags byte, the expiry (Unix seconds) if it has one, the resource id and
// the order id as strings, the dictionary indices of its resource type and
// its five enumerations, and the bound asset's id and name if it has one.

const (
	packMagic  = "allotpk"
	packFormat = 1

	// MinRows is the size from which a tenant gets a pack: smaller ones
	// read their columns in a few milliseconds.
	MinRows = 4096
)

const (
	packSub uint8 = 1 << iota
	packRemoved
	packExpire
	packAsset
)

// Encode returns the pack of rs, a project's resources at version in
// seq order, under schema version schema.
func Encode(schema int, version int64, rs []allot.Resource) []byte {
	dict := map[string]uint64{}
	var words []string
	word := func(s string) uint64 {
		i, ok := dict[s]
		if !ok {
			i = uint64(len(words))
			dict[s] = i
			words = append(words, s)
		}
		return i
	}
	body := make([]byte, 0, len(rs)*64)
	for i := range rs {
		r := &rs[i]
		for _, v := range [...]int64{r.Seq, r.Version, int64(r.Amount), int64(r.Usage), int64(r.Held), int64(r.Priority), int64(r.Status)} {
			body = binary.AppendVarint(body, v)
		}
		var flags uint8
		if r.IsSubResource {
			flags |= packSub
		}
		if r.Removed {
			flags |= packRemoved
		}
		if !r.ExpireTime.IsZero() {
			flags |= packExpire
		}
		if r.BoundAsset != nil {
			flags |= packAsset
		}
		body = append(body, flags)
		if flags&packExpire != 0 {
			body = binary.AppendVarint(body, r.ExpireTime.Unix())
		}
		body = appendPackString(appendPackString(body, r.ResourceID), r.OrderID)
		for _, s := range [...]string{r.ResourceType, string(r.BusinessType), string(r.SubResourceType),
			string(r.ChargingMode), string(r.Source), string(r.Unit)} {
			body = binary.AppendUvarint(body, word(s))
		}
		if r.BoundAsset != nil {
			body = appendPackString(appendPackString(body, r.BoundAsset.AssetID), r.BoundAsset.AssetName)
		}
	}
	b := make([]byte, 0, len(body)+64+len(words)*16)
	b = append(b, packMagic...)
	b = append(b, packFormat)
	for _, v := range [...]uint64{uint64(schema), uint64(version), uint64(len(words)), uint64(len(rs))} {
		b = binary.AppendUvarint(b, v)
	}
	for _, w := range words {
		b = appendPackString(b, w)
	}
	return append(b, body...)
}

func appendPackString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// ErrBad is what Decode returns for a blob it cannot read.
var ErrBad = errors.New("malformed tenant pack")

// Decode returns the resources of projectID that b holds, the
// version it holds them at and the schema version it was written under.
func Decode(b []byte, projectID string) (rs []allot.Resource, version int64, schema int, err error) {
	d := packDecoder{b: b}
	if len(b) < len(packMagic)+1 || string(b[:len(packMagic)]) != packMagic || b[len(packMagic)] != packFormat {
		return nil, 0, 0, ErrBad
	}
	d.i = len(packMagic) + 1
	sch, ver, nwords, nrows := d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()
	// Every word takes a byte at least, every row more than ten: counts
	// past that are a malformed pack, not something to allocate for.
	if d.err != nil || nwords > uint64(len(b)) || nrows > uint64(len(b))/10 || sch > 1<<30 || ver > 1<<62 {
		return nil, 0, 0, ErrBad
	}
	words := make([]string, nwords)
	for i := range words {
		words[i] = d.str()
	}
	word := func() string {
		i := d.uvarint()
		if i >= uint64(len(words)) {
			d.err = ErrBad
			return ""
		}
		return words[i]
	}
	rs = make([]allot.Resource, nrows)
	for i := range rs {
		r := &rs[i]
		r.ProjectID = projectID
		r.Seq, r.Version = d.varint(), d.varint()
		r.Amount, r.Usage, r.Held = allot.Quantity(d.varint()), allot.Quantity(d.varint()), allot.Quantity(d.varint())
		r.Priority, r.Status = int(d.varint()), allot.ResourceStatus(d.varint())
		flags := d.byte()
		r.IsSubResource, r.Removed = flags&packSub != 0, flags&packRemoved != 0
		if flags&packExpire != 0 {
			r.ExpireTime = time.Unix(d.varint(), 0).UTC()
		}
		r.ResourceID, r.OrderID = d.str(), d.str()
		r.ResourceType = word()
		r.BusinessType = allot.BusinessType(word())
		r.SubResourceType = allot.SubResourceType(word())
		r.ChargingMode = allot.ChargingMode(word())
		r.Source = allot.ResourceSource(word())
		r.Unit = allot.Unit(word())
		if flags&packAsset != 0 {
			r.BoundAsset = &allot.BoundAsset{AssetID: d.str(), AssetName: d.str()}
		}
		if d.err != nil {
			return nil, 0, 0, fmt.Errorf("%w: row %d of %d", d.err, i, nrows)
		}
	}
	if d.err != nil || d.i != len(b) {
		return nil, 0, 0, ErrBad
	}
	return rs, int64(ver), int(sch), nil
}

// packDecoder reads a pack; its first failure sticks in err, and every
// read after it returns zero values.
type packDecoder struct {
	b   []byte
	i   int
	err error
}

func (d *packDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.err = ErrBad
		return 0
	}
	d.i += n
	return v
}

func (d *packDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.err = ErrBad
		return 0
	}
	d.i += n
	return v
}

func (d *packDecoder) byte() uint8 {
	if d.err != nil || d.i >= len(d.b) {
		d.err = ErrBad
		return 0
	}
	d.i++
	return d.b[d.i-1]
}

func (d *packDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)-d.i) {
		d.err = ErrBad
		return ""
	}
	if n == 0 {
		return ""
	}
	s := string(d.b[d.i : d.i+int(n)])
	d.i += int(n)
	return s
}

// Merge returns base (a project's resources at some version, in seq
// order) with changed (every resource changed after that version, in seq
// order) applied: a changed resource replaces the one of its seq, or is
// new. base is reused when nothing is new.
func Merge(base, changed []allot.Resource) []allot.Resource {
	out := base
	var added []allot.Resource
	j := 0
	for _, c := range changed {
		for j < len(base) && base[j].Seq < c.Seq {
			j++
		}
		if j < len(base) && base[j].Seq == c.Seq {
			base[j] = c
			continue
		}
		added = append(added, c)
	}
	if len(added) == 0 {
		return out
	}
	// New resources have higher seqs than the old ones, as seqs are handed
	// out in order; merging keeps the order whatever they are.
	out = make([]allot.Resource, 0, len(base)+len(added))
	i, k := 0, 0
	for i < len(base) || k < len(added) {
		if k == len(added) || (i < len(base) && base[i].Seq < added[k].Seq) {
			out = append(out, base[i])
			i++
		} else {
			out = append(out, added[k])
			k++
		}
	}
	return out
}

// Saver saves packs in the background, one at a time per project: a
// tenant's first read should not wait for the writer. A save that fails
// is dropped: the pack is a cache, and the next full read tries again.
type Saver struct {
	mu      sync.Mutex
	closed  bool
	running map[string]bool
	wg      sync.WaitGroup
}

// Later runs save for projectID in the background, unless a save for the
// project is running or the Saver is closed.
func (p *Saver) Later(projectID string, save func(context.Context) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.running[projectID] {
		return
	}
	if p.running == nil {
		p.running = map[string]bool{}
	}
	p.running[projectID] = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		save(ctx) // a cache: a failed save is retried by a later read
		p.mu.Lock()
		delete(p.running, projectID)
		p.mu.Unlock()
	}()
}

// Close waits for the saves running and refuses new ones.
func (p *Saver) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Wait()
}

// Wait waits for the saves running.
func (p *Saver) Wait() { p.wg.Wait() }
