package api

import (
	"testing"
	"time"
)

// FuzzImportLine: any line is either refused with an error or becomes one
// item that passes its own validation; it never panics.
func FuzzImportLine(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"project","project_id":"p","name":"P","region_id":"r"}`,
		`{"kind":"resource","project_id":"p","resource_id":"r","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":12.5,"usage":1,"unit":"MIN","resource_expire_time":"2027-01-01T00:00:00Z"}`,
		`{"kind":"assignment","sp_project_id":"s","customer_project_id":"c","assignment_record_id":"a","resource_spec_code":"x","charging_mode":"ONE_TIME","resource_num":3,"resource_used_num":1,"resource_allocate_time":1,"resource_expire_time":2}`,
		`{"kind":"resource","amount":"1e400"}`, `[]`, `{"kind":1}`, `{"kind":"project","Kind":"resource"}`,
		`{"kind":"resource","bound_asset":{"asset_id":"a","asset_id":"b"}}`,
	} {
		f.Add(seed)
	}
	now := time.Unix(1700000000, 0).UTC()
	f.Fuzz(func(t *testing.T, line string) {
		item, err := DecodeImportLine([]byte(line), now)
		if err != nil {
			if item.Key() != "" {
				t.Fatalf("refused line still named an item %q", item.Key())
			}
			return
		}
		n := 0
		var verr error
		if item.Project != nil {
			n, verr = n+1, item.Project.Validate()
		}
		if item.Resource != nil {
			n, verr = n+1, item.Resource.Validate()
		}
		if item.Assignment != nil {
			n, verr = n+1, item.Assignment.Validate()
		}
		if n != 1 || verr != nil || item.Key() == "" {
			t.Fatalf("accepted line made %d items (key %q): %v", n, item.Key(), verr)
		}
	})
}

var fixtureNow = time.Unix(1700000000, 0).UTC()
