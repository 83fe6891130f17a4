package tenantpack

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// randomResources returns n resources of project p in seq order with every
// field drawn at random: the enumerations from their values, the texts
// from a few shapes (empty, short, with separators and non-ASCII).
func randomResources(r *rand.Rand, p string, n int) []allot.Resource {
	text := func() string {
		return []string{"", "x", "a|b", "ü \"q\"", strconv.Itoa(r.IntN(1 << 20))}[r.IntN(5)]
	}
	pick := func(n int) int { return r.IntN(n) }
	rs := make([]allot.Resource, n)
	seq := int64(0)
	for i := range rs {
		seq += 1 + r.Int64N(3)
		rs[i] = allot.Resource{
			ProjectID: p, ResourceID: "r-" + strconv.Itoa(i), OrderID: text(),
			ResourceType:    "type-" + strconv.Itoa(pick(4)),
			BusinessType:    allot.BusinessTypes[pick(len(allot.BusinessTypes))],
			SubResourceType: allot.SubResourceTypes[pick(len(allot.SubResourceTypes))],
			IsSubResource:   pick(2) == 0,
			ChargingMode:    allot.ChargingModes[pick(len(allot.ChargingModes))],
			Source:          allot.ResourceSources[pick(len(allot.ResourceSources))],
			Unit:            allot.Units[pick(len(allot.Units))],
			Amount:          allot.Quantity(r.Int64N(int64(allot.MaxResourceAmount))),
			Status:          allot.ResourceStatus(pick(2)),
			Priority:        pick(101),
			Removed:         pick(5) == 0,
			Seq:             seq,
			Version:         1 + r.Int64N(1000),
		}
		rs[i].Usage = rs[i].Amount / 2
		rs[i].Held = rs[i].Amount / 4
		if pick(2) == 0 {
			rs[i].ExpireTime = time.Unix(r.Int64N(1<<33), 0).UTC()
		}
		if pick(3) == 0 {
			rs[i].BoundAsset = &allot.BoundAsset{AssetID: "asset-" + strconv.Itoa(i), AssetName: text()}
		}
	}
	return rs
}

// TestRoundTrip: every field of every row survives, and so do the version
// and the schema.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 500} {
		rs := randomResources(r, "p", n)
		got, version, schema, err := Decode(Encode(10, 99, rs), "p")
		if err != nil || version != 99 || schema != 10 {
			t.Fatalf("%d rows: version %d schema %d err %v", n, version, schema, err)
		}
		if len(got) != len(rs) {
			t.Fatalf("%d rows decode to %d", n, len(got))
		}
		for i := range rs {
			if !reflect.DeepEqual(got[i], rs[i]) || got[i].ExpireTime != rs[i].ExpireTime {
				t.Fatalf("row %d:\ngot  %+v\nwant %+v", i, got[i], rs[i])
			}
		}
	}
}

// TestMerge holds Merge to a map keyed by seq, sorted: changes replace the
// rows of their seq, and new seqs join in order.
func TestMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		base := randomResources(r, "p", r.IntN(40))
		all := randomResources(r, "p", len(base)+r.IntN(10)) // the same seqs for the first rows, then new ones
		for i := range base {
			all[i].Seq = base[i].Seq
		}
		var changed []allot.Resource
		for i := range all {
			if i >= len(base) || r.IntN(3) == 0 {
				changed = append(changed, all[i])
			}
		}
		slices.SortFunc(changed, func(a, b allot.Resource) int { return int(a.Seq - b.Seq) })
		want := map[int64]allot.Resource{}
		for _, x := range base {
			want[x.Seq] = x
		}
		for _, x := range changed {
			want[x.Seq] = x
		}
		got := Merge(slices.Clone(base), changed)
		if len(got) != len(want) {
			t.Fatalf("%d rows merged, want %d", len(got), len(want))
		}
		for i, x := range got {
			if i > 0 && got[i-1].Seq >= x.Seq {
				t.Fatalf("row %d: seq %d after %d", i, x.Seq, got[i-1].Seq)
			}
			if !reflect.DeepEqual(x, want[x.Seq]) {
				t.Fatalf("seq %d: got %+v, want %+v", x.Seq, x, want[x.Seq])
			}
		}
	}
}

// FuzzDecode decodes arbitrary bytes as a pack: no panic, and a pack that
// decodes encodes back to one that decodes to the same resources.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(10, 5, randomResources(rand.New(rand.NewPCG(5, 6)), "p", 20)))
	f.Add(Encode(1, 1, nil))
	f.Add([]byte(packMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, version, schema, err := Decode(b, "p")
		if err != nil {
			return
		}
		again, v2, s2, err := Decode(Encode(schema, version, rs), "p")
		if err != nil || v2 != version || s2 != schema {
			t.Fatalf("re-encoded pack: version %d schema %d err %v, want %d %d", v2, s2, err, version, schema)
		}
		if !reflect.DeepEqual(again, rs) {
			t.Fatalf("re-encoded pack decodes to other resources")
		}
	})
}
