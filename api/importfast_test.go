package api

import (
	"reflect"
	"testing"
	"time"
)

// FuzzFastImportLine: every line the fast decoder takes, encoding/json (with
// the strict key scan) takes too, with exactly the same fields; the fast
// decoder never panics. Lines it does not take go to encoding/json, so
// their messages are unchanged.
func FuzzFastImportLine(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"project","project_id":"bench-000001","name":"bench tenant 1","region_id":"cn-north-4"}`,
		`{"kind":"resource","project_id":"bench-000000","resource_id":"res-00000000","order_id":"order-00000000","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","resource_source":"PURCHASED","amount":100,"usage":0,"status":0,"unit":"MIN","resource_expire_time":"2030-01-01T00:00:00Z"}`,
		` { "kind" : "resource" , "amount" : "12.5" , "usage" : -0.5e+3 , "is_sub_resource" : true , "status" : 1 } `,
		`{"kind":"assignment","sp_project_id":"s","customer_project_id":"c","assignment_record_id":"a","resource_spec_code":"x","charging_mode":"ONE_TIME","resource_num":3,"resource_used_num":1,"resource_allocate_time":1,"resource_expire_time":2}`,
		`{"kind":"admin_key","name":"n","key":"admin-key-1","role":"sp","sp_project_id":"s","expires_at":"2030-01-01T00:00:00Z"}`,
		`{"kind":"credential","project_id":"p","access_key":"AK","secret_key":"secret-key-1","token":"t","sub_resource_type":"X"}`,
		`{}`, `{"kind":"project","kind":"project"}`, `{"Kind":"project"}`, `{"status":2147483648}`, `{"status":01}`,
		`{"amount":1.}`, `{"amount":1e}`, `{"resource_allocate_time":1.5}`, `{"is_sub_resource":null}`,
		`{"kind":"resource"}x`, `{"kind":"res\u0041"}`, `{"kind":"résource"}`, `{"bound_asset":{"asset_id":"a"}}`,
		`{"amount":-}`, `{"resource_expire_time":"a"`, `{"kind":"project",}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var fast importLine
		if !fastImportLine([]byte(line), &fast) {
			return
		}
		var slow importLine
		if err := decodeJSON([]byte(line), &slow); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", line, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", line, fast, slow)
		}
	})
}

// TestFastImportLineTakesTheCommonShape: the lines allot's own files are
// made of go the fast way (otherwise the fuzz target would hold nothing).
func TestFastImportLineTakesTheCommonShape(t *testing.T) {
	for _, line := range []string{
		`{"kind":"project","project_id":"bench-000001","name":"bench tenant 1","region_id":"cn-north-4"}`,
		`{"kind":"resource","project_id":"bench-000000","resource_id":"res-00000000","order_id":"order-00000000","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","resource_source":"PURCHASED","amount":100,"usage":0,"status":0,"unit":"MIN","resource_expire_time":"2030-01-01T00:00:00Z"}`,
		`{"kind":"assignment","sp_project_id":"s","customer_project_id":"c","assignment_record_id":"a","resource_spec_code":"x","charging_mode":"ONE_TIME","resource_num":3,"resource_used_num":1,"resource_allocate_time":1,"resource_expire_time":2}`,
	} {
		var l importLine
		if !fastImportLine([]byte(line), &l) {
			t.Errorf("fast decoder refused %s", line)
		}
	}
	for _, line := range []string{`{"kind":"project","kind":"project"}`, `{"Kind":"project"}`, `{"kind":"project"} {}`, `{"bound_asset":{"asset_id":"a"}}`} {
		var l importLine
		if fastImportLine([]byte(line), &l) {
			t.Errorf("fast decoder took %s", line)
		}
	}
}

// BenchmarkDecodeImportLine: one resource line of the benchmark file, the
// fast way and through encoding/json with the strict key scan.
func BenchmarkDecodeImportLine(b *testing.B) {
	line := []byte(`{"kind":"resource","project_id":"bench-000000","resource_id":"res-00000000","order_id":"order-00000000","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","resource_source":"PURCHASED","amount":100,"usage":0,"status":0,"unit":"MIN","resource_expire_time":"2030-01-01T00:00:00Z"}`)
	now := time.Unix(1700000000, 0).UTC()
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var l importLine
			if !fastImportLine(line, &l) {
				b.Fatal("refused")
			}
			if _, err := l.item(now, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			var l importLine
			if err := decodeJSON(line, &l); err != nil {
				b.Fatal(err)
			}
			if _, err := l.item(now, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
