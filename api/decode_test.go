package api

import (
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// TestDecodeRefusesAmbiguousBodies: a body another JSON parser could read
// differently is refused, naming the key; a body that is no JSON object is
// refused in plain words, never with Go's type names.
func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	consume := func(body []byte) error { _, err := DecodeConsumeRequest(body); return err }
	bind := func(body []byte) error { _, err := DecodeBindAssetRequest(body); return err }
	importLine := func(body []byte) error { _, err := DecodeImportLine(body, fixtureNow); return err }
	for _, c := range []struct {
		name   string
		decode func([]byte) error
		body   string
		want   string // the message starts with it
	}{
		{"duplicated key", consume, `{"project_id":"p","amount":1,"amount":1000,"idempotency_key":"k"}`, "amount: is given more than once"},
		{"duplicated key, same value", bind, `{"asset_id":"a","asset_id":"a"}`, "asset_id: is given more than once"},
		{"key in another case", consume, `{"project_id":"p","Amount":1,"idempotency_key":"k"}`, `Amount: is not a known field (keys are case-sensitive: did you mean "amount"?)`},
		{"key in another case beside the key", consume, `{"project_id":"p","amount":1,"AMOUNT":5,"idempotency_key":"k"}`, `AMOUNT: is not a known field`},
		{"unknown key", consume, `{"project_id":"p","colour":"red"}`, "colour: is not a known field"},
		{"nested duplicate", importLine, `{"kind":"resource","bound_asset":{"asset_id":"a","asset_id":"b"}}`, "not a valid import object: bound_asset.asset_id: is given more than once"},
		{"nested case", importLine, `{"kind":"resource","bound_asset":{"Asset_ID":"a"}}`, `not a valid import object: bound_asset.Asset_ID: is not a known field (keys are case-sensitive: did you mean "bound_asset.asset_id"?)`},
		{"import key in another case", importLine, `{"kind":"project","Kind":"resource"}`, "not a valid import object: Kind: is not a known field"},
		{"array", consume, `[{"amount":1}]`, "body: must be a JSON object"},
		{"string", consume, `"amount"`, "body: must be a JSON object"},
		{"number", bind, `12`, "body: must be a JSON object"},
		{"null", bind, `null`, "body: must be a JSON object"},
		{"empty", bind, ``, "body: must be a JSON object"},
		{"two objects", bind, `{"asset_id":"a"} {}`, "body: has more than one JSON value"},
		{"not JSON", bind, `{asset_id}`, "body: is not valid JSON"},
		{"wrong type", bind, `{"asset_id":5}`, "asset_id: must be a string, not a JSON number"},
		{"wrong type, enum", func(b []byte) error { _, err := DecodePackageRequest(b); return err }, `{"business_type":{"a":1}}`, "business_type: must be a string, not a JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.decode([]byte(c.body))
			if allot.ErrorCodeOf(err) != allot.EINVALID {
				t.Fatalf("%s: %v, want EINVALID", c.body, err)
			}
			msg := allot.ErrorMessageOf(err)
			if !strings.HasPrefix(msg, c.want) {
				t.Fatalf("%s: %q, want it to start with %q", c.body, msg, c.want)
			}
			for _, goism := range []string{"Go ", "struct", "allot.", "api.", "json:"} {
				if strings.Contains(msg, goism) {
					t.Fatalf("%s: %q speaks of Go (%q)", c.body, msg, goism)
				}
			}
		})
	}
	// What stays accepted: the same key in two different objects, maps of
	// any keys, a quantity as a decimal string.
	if _, err := DecodeImportLine([]byte(`{"kind":"resource","project_id":"p","resource_id":"r","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":"1.5","unit":"MIN","bound_asset":{"asset_id":"p"}}`), fixtureNow); err != nil {
		t.Fatal(err)
	}
	req, err := DecodeConsumeRequest([]byte(`{"project_id":"p","resource_id":"r","amount":"2.000001","idempotency_key":"k"}`))
	if err != nil || req.Amount != 2*allot.QuantityScale+1 {
		t.Fatalf("%+v %v", req, err)
	}
}

// TestQuantityForms: the one quantity reader takes a JSON number or a
// decimal string and refuses anything else, naming the field.
func TestQuantityForms(t *testing.T) {
	for body, want := range map[string]allot.Quantity{
		`1.5`: 1500000, `"1.5"`: 1500000, `3`: 3000000, `"1e3"`: 1000 * allot.QuantityScale, `0.000001`: 1,
	} {
		req, err := DecodeConsumeRequest([]byte(`{"amount":` + body + `}`))
		if err != nil || req.Amount != want {
			t.Errorf("amount %s: %v %v, want %v", body, req.Amount, err, want)
		}
	}
	for body, want := range map[string]string{
		`null`: "amount: must be a number", `true`: "amount: must be a number", `{}`: "amount: must be a number",
		`[1]`: "amount: must be a number", `""`: "amount: must be a number", `"lots"`: `amount: "lots" is not a decimal number`,
		`-1`: "amount: -1 is negative", `"1.0000001"`: "amount: 1.0000001 has more than 6 decimal places",
	} {
		_, err := DecodeConsumeRequest([]byte(`{"amount":` + body + `}`))
		if msg := allot.ErrorMessageOf(err); !strings.HasPrefix(msg, want) {
			t.Errorf("amount %s: %q, want %q", body, msg, want)
		}
	}
	if _, err := DecodeConsumeRequest([]byte(`{}`)); allot.ErrorMessageOf(err) != "amount: is required" {
		t.Errorf("absent amount: %v", err)
	}
	if req, err := DecodeReclaimRequest(allot.ResourceRef{}, []byte(`{"idempotency_key":"k"}`), false); err != nil || req.Amount != nil {
		t.Errorf("a reclaim without amount takes all: %+v %v", req, err)
	}
}
