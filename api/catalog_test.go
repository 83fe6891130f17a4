package api_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// TestDecodeCatalog: a JSON array and JSON Lines of the same specs decode
// alike; an error names the spec by its position in the form given.
func TestDecodeCatalog(t *testing.T) {
	a := `{"spec_code":"spec.a","business_type":"VIDEO_2D","resource_type":"VIDEO_2D_MIN","unit":"MIN","amount":"12.5","period_types":[6],"validity_days":30}`
	b := `{"spec_code":"spec.b","business_type":"FLEXUS_2D","resource_type":"FLEXUS","unit":"NUM","amount":1,` +
		`"sub_resources":[{"resource_type":"FLEXUS_VOICE","sub_resource_type":"voice_clone_flexus","unit":"NUM","amount":2}]}`
	fromLines, err := api.DecodeCatalog([]byte(a + "\n\n" + b + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	fromArray, err := api.DecodeCatalog([]byte(" [" + a + "," + b + "]"))
	if err != nil {
		t.Fatal(err)
	}
	want := []allot.CatalogSpec{
		{SpecCode: "spec.a", BusinessType: "VIDEO_2D", ResourceType: "VIDEO_2D_MIN", Unit: "MIN", Amount: 125 * allot.QuantityScale / 10, PeriodTypes: []int32{6}, ValidityDays: 30},
		{SpecCode: "spec.b", BusinessType: "FLEXUS_2D", ResourceType: "FLEXUS", Unit: "NUM", Amount: allot.QuantityScale,
			SubResources: []allot.CatalogSubResource{{ResourceType: "FLEXUS_VOICE", SubResourceType: "voice_clone_flexus", Unit: "NUM", Amount: 2 * allot.QuantityScale}}},
	}
	if !reflect.DeepEqual(fromLines, want) || !reflect.DeepEqual(fromArray, want) {
		t.Fatalf("lines %+v\narray %+v\nwant %+v", fromLines, fromArray, want)
	}
	for body, msg := range map[string]string{
		a + "\n" + strings.Replace(b, `"unit":"NUM","amount":2`, `"unit":"NUM","amount":-2`, 1): "line 2: sub_resources[0].amount",
		"[" + a + "," + a + "]":                    "specs[1]: spec_code: spec.a is given twice (also specs[0])",
		a + "\n\n" + a:                             "line 3: spec_code: spec.a is given twice (also line 1)",
		strings.Replace(a, `"unit"`, `"units"`, 1): "line 1: units",
		"[" + a + ",":                              "body: is not valid JSON",
		"  \n ":                                    "body: holds no spec",
		strings.Replace(a, `[6]`, `[6,6]`, 1):      "line 1: period_types[1]",
	} {
		_, err := api.DecodeCatalog([]byte(body))
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.Contains(allot.ErrorMessageOf(err), msg) {
			t.Errorf("%.40q: got %v, want a message with %q", body, err, msg)
		}
	}
}

// FuzzDecodeCreateOrderRequest: any body a tenant sends is decoded or
// refused as EINVALID, never a panic or an internal error, and a decoded
// request keeps every line the body had.
func FuzzDecodeCreateOrderRequest(f *testing.F) {
	f.Add([]byte(`{"cloud_services":[{"is_auto_pay":1,"period_type":2,"period_num":1,"is_auto_renew":0,"subscription_num":1,"resource_spec_code":"hws.resource.type.metastudio.modeling.avatarlive.channel"}]}`))
	f.Add([]byte(`{"cloud_services":[]}`))
	f.Add([]byte(`{"cloud_services":[{"period_type":"2"}]}`))
	f.Add([]byte(`{"cloud_services":[{"period_type":2,"period_type":3}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := api.DecodeCreateOrderRequest("p-1", body)
		if err != nil {
			if allot.ErrorCodeOf(err) != allot.EINVALID {
				t.Fatalf("%q: %v is not EINVALID", body, err)
			}
			return
		}
		var raw struct {
			CloudServices []json.RawMessage `json:"cloud_services"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("decoded %q, which encoding/json refuses: %v", body, err)
		}
		if len(raw.CloudServices) != len(req.Lines) || req.ProjectID != "p-1" {
			t.Fatalf("%q: %d lines decoded, the body has %d", body, len(req.Lines), len(raw.CloudServices))
		}
	})
}
