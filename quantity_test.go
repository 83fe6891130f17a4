package allot_test

import (
	"encoding/json"
	"testing"

	"github.com/allot-dev/allot"
)

func TestParseQuantity(t *testing.T) {
	for in, want := range map[string]allot.Quantity{
		"0": 0, "1": 1_000_000, "12.5": 12_500_000, "0.000001": 1, "1e3": 1_000_000_000,
		"2147483647": allot.MaxQuantity, "007.10": 7_100_000,
	} {
		got, err := allot.ParseQuantity(in)
		if err != nil || got != want {
			t.Errorf("ParseQuantity(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "0.0000001", "2147483648", "abc", "1/2", "NaN", "Inf"} {
		if got, err := allot.ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q) = %d, want an error", in, got)
		}
	}
}

func TestQuantityString(t *testing.T) {
	for q, want := range map[allot.Quantity]string{
		0: "0", 1: "0.000001", 1_000_000: "1", 12_500_000: "12.5", 1_234_567: "1.234567", allot.MaxQuantity: "2147483647", -1_500_000: "-1.5",
	} {
		if got := q.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(q), got, want)
		}
		b, _ := json.Marshal(q)
		if string(b) != want {
			t.Errorf("json %d = %s", int64(q), b)
		}
	}
}

func FuzzQuantityRoundTrip(f *testing.F) {
	for _, s := range []string{"0", "1.5", "0.000001", "2147483647", "1e-6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := allot.ParseQuantity(s)
		if err != nil {
			return
		}
		if q < 0 || q > allot.MaxQuantity {
			t.Fatalf("%q parsed to %d, out of range", s, q)
		}
		back, err := allot.ParseQuantity(q.String())
		if err != nil || back != q {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, q, q.String(), back, err)
		}
	})
}

func TestResourceValidate(t *testing.T) {
	ok := allot.Resource{ProjectID: "p", ResourceID: "r", ResourceType: "T", BusinessType: "LIVE_2D", ChargingMode: "ONE_TIME",
		Source: allot.SourcePurchased, Unit: "NUM", Amount: 10, Usage: 10}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for param, mutate := range map[string]func(r *allot.Resource){
		"project_id":           func(r *allot.Resource) { r.ProjectID = "" },
		"resource_id":          func(r *allot.Resource) { r.ResourceID = "a/b" },
		"business_type":        func(r *allot.Resource) { r.BusinessType = "live_2d" },
		"charging_mode":        func(r *allot.Resource) { r.ChargingMode = "" },
		"resource_source":      func(r *allot.Resource) { r.Source = "GIFT" },
		"unit":                 func(r *allot.Resource) { r.Unit = "KG" },
		"sub_resource_type":    func(r *allot.Resource) { r.SubResourceType = "x" },
		"amount":               func(r *allot.Resource) { r.Amount = allot.MaxResourceAmount + 1 },
		"usage":                func(r *allot.Resource) { r.Usage = r.Amount + 1 },
		"status":               func(r *allot.Resource) { r.Status = 2 },
		"bound_asset.asset_id": func(r *allot.Resource) { r.BoundAsset = &allot.BoundAsset{} },
	} {
		r := ok
		mutate(&r)
		err := r.Validate()
		if allot.ErrorCodeOf(err) != allot.EINVALID || len(allot.ErrorMessageOf(err)) < len(param) || allot.ErrorMessageOf(err)[:len(param)] != param {
			t.Errorf("%s: got %v", param, err)
		}
	}
}
