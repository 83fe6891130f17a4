package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// reflectEncode is the oracle: what encoding/json writes for the same response.
func reflectEncode(t testing.TB, rs []*allot.Resource, count int) []byte {
	out := ListResourcesResponse{Resources: make([]ResourceItem, len(rs)), Count: count}
	for i, r := range rs {
		out.Resources[i] = toResourceItem(r)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendListResponseMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "plain", `quote " and \ backslash`, "<tag>&amp;", "tab\tnew\nline\r", "\x00\x1f\x7f", "é漢字🙂", "bad \xff utf8", "sep\u2028\u2029"}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	for n := range 200 {
		var rs []*allot.Resource
		for range rng.IntN(5) {
			r := &allot.Resource{ResourceID: pick(), OrderID: pick(), ResourceType: pick(), BusinessType: allot.BusinessType(pick()),
				SubResourceType: allot.SubResourceType(pick()), IsSubResource: rng.IntN(2) == 0, ChargingMode: allot.ChargingMode(pick()),
				Source: allot.ResourceSource(pick()), Amount: allot.Quantity(rng.Int64N(1e13)), Usage: allot.Quantity(rng.Int64N(1e7)),
				Status: allot.ResourceStatus(rng.IntN(2)), Unit: allot.Unit(pick())}
			if rng.IntN(2) == 0 {
				r.BoundAsset = &allot.BoundAsset{AssetID: pick(), AssetName: pick()}
			}
			if rng.IntN(2) == 0 {
				r.ExpireTime = time.Unix(rng.Int64N(4e9), 0).In(time.FixedZone("x", 3600))
			}
			rs = append(rs, r)
		}
		count := rng.IntN(1000)
		got, want := appendListResponse(nil, rs, count), reflectEncode(t, rs, count)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", n, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "<>&", "\xff", "\u2028", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

func BenchmarkListResponse(b *testing.B) {
	rs := make([]*allot.Resource, 10)
	for i := range rs {
		rs[i] = &allot.Resource{ResourceID: "res-0001", OrderID: "order-1", ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D",
			ChargingMode: "ONE_TIME", Source: "PURCHASED", Amount: 12_500_000, Usage: 1_000_000, Unit: "MIN", ExpireTime: time.Unix(1e9, 0)}
	}
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = appendListResponse(buf[:0], rs, 100)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			reflectEncode(b, rs, 100)
		}
	})
}

// appendListResponse is the list answer as the handler frames it, for
// tests and benchmarks that have the page as a slice.
func appendListResponse(b []byte, rs []*allot.Resource, count int) []byte {
	b = append(b, listResponseStart...)
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendResourceItem(b, r)
	}
	return appendListResponseEnd(b, count)
}
