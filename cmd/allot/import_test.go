package main

import (
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// FuzzImportLine: any line is either refused with an error or becomes one
// item that passes its own validation; it never panics.
func FuzzImportLine(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"project","project_id":"p","name":"P","region_id":"r"}`,
		`{"kind":"resource","project_id":"p","resource_id":"r","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":12.5,"usage":1,"unit":"MIN","resource_expire_time":"2027-01-01T00:00:00Z"}`,
		`{"kind":"assignment","sp_project_id":"s","customer_project_id":"c","assignment_record_id":"a","resource_spec_code":"x","charging_mode":"ONE_TIME","resource_num":3,"resource_used_num":1,"resource_allocate_time":1,"resource_expire_time":2}`,
		`{"kind":"resource","amount":"1e400"}`, `[]`, `{"kind":1}`,
	} {
		f.Add(seed)
	}
	now := time.Unix(1700000000, 0).UTC()
	f.Fuzz(func(t *testing.T, line string) {
		var b allot.ImportBatch
		key, err := addLine(&b, []byte(line), now)
		if err != nil {
			if key != "" {
				t.Fatalf("refused line still named an item %q", key)
			}
			return
		}
		n := len(b.Projects) + len(b.Resources) + len(b.Assignments)
		if n != 1 || key == "" {
			t.Fatalf("accepted line made %d items, key %q", n, key)
		}
		var verr error
		switch {
		case len(b.Projects) == 1:
			verr = b.Projects[0].Validate()
		case len(b.Resources) == 1:
			verr = b.Resources[0].Validate()
		default:
			verr = b.Assignments[0].Validate()
		}
		if verr != nil || !strings.Contains(key, " ") {
			t.Fatalf("accepted an invalid item: %v (key %q)", verr, key)
		}
	})
}
