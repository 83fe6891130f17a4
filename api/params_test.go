package api

import (
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

func TestParseResourceQuery(t *testing.T) {
	f, p, err := parseResourceQuery("resource_source=PURCHASED,%20ADMIN_ALLOCATED&business=LIVE_2D&resource=a.b,c&resource_id=r1&order_id=o1" +
		"&charging_mode=ONE_TIME&sub_resource=voice_clone_flexus&status=1&limit=100&offset=2147483647" +
		"&resource_expire_start_time=2021-01-10T08:43:17Z&resource_expire_end_time=2021-01-10T10:43:17%2B02:00&unknown=ignored")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p, (allot.Page{Limit: 100, Offset: 2147483647}); got != want {
		t.Fatalf("page %+v, want %+v", got, want)
	}
	if len(f.Sources) != 2 || f.Sources[1] != allot.SourceAdminAllocated || f.Businesses[0] != "LIVE_2D" ||
		strings.Join(f.ResourceTypes, "|") != "a.b|c" || f.ResourceID != "r1" || f.OrderID != "o1" ||
		f.ChargingMode != "ONE_TIME" || f.SubResource != "voice_clone_flexus" || f.Status == nil || *f.Status != 1 {
		t.Fatalf("filter %+v", f)
	}
	// Both times name the same instant: an equal window is valid.
	if !f.ExpireStart.Equal(*f.ExpireEnd) || !f.ExpireStart.Equal(time.Date(2021, 1, 10, 8, 43, 17, 0, time.UTC)) {
		t.Fatalf("window %v..%v", f.ExpireStart, f.ExpireEnd)
	}

	_, p, err = parseResourceQuery("resource_source=SP_ALLOCATED")
	if err != nil || p != (allot.Page{Limit: 10}) {
		t.Fatalf("defaults: %+v %v", p, err)
	}
}

func TestParseResourceQueryErrors(t *testing.T) {
	cases := map[string]string{
		"":                          "resource_source",
		"resource_source":           "resource_source",
		"resource_source=":          "resource_source",
		"resource_source=purchased": "resource_source",
		"resource_source=PURCHASED,,SP_ALLOCATED":                         "resource_source",
		"resource_source=PURCHASED&resource_source=PURCHASED":             "resource_source",
		"resource_source=PURCHASED&limit=0":                               "limit",
		"resource_source=PURCHASED&limit=101":                             "limit",
		"resource_source=PURCHASED&limit=1.5":                             "limit",
		"resource_source=PURCHASED&limit=":                                "limit",
		"resource_source=PURCHASED&offset=-1":                             "offset",
		"resource_source=PURCHASED&offset=2147483648":                     "offset",
		"resource_source=PURCHASED&business=X":                            "business",
		"resource_source=PURCHASED&resource=a%2Fb":                        "resource",
		"resource_source=PURCHASED&resource_id=":                          "resource_id",
		"resource_source=PURCHASED&order_id=a%20b":                        "order_id",
		"resource_source=PURCHASED&charging_mode=x":                       "charging_mode",
		"resource_source=PURCHASED&sub_resource=x":                        "sub_resource",
		"resource_source=PURCHASED&status=2":                              "status",
		"resource_source=PURCHASED&status=-1":                             "status",
		"resource_source=PURCHASED&resource_expire_start_time=2021-01-10": "resource_expire_start_time",
		"resource_source=PURCHASED&resource_expire_end_time=tomorrow":     "resource_expire_end_time",
		"resource_source=PURCHASED&resource_expire_start_time=2022-01-01T00:00:00Z&resource_expire_end_time=2021-01-01T00:00:00Z": "resource_expire_start_time",
		"resource_source=%zz": "query",
	}
	for raw, param := range cases {
		_, _, err := parseResourceQuery(raw)
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.HasPrefix(allot.ErrorMessageOf(err), param+":") {
			t.Errorf("%q: got %v, want EINVALID naming %s", raw, err, param)
		}
	}
}

func TestParseAssignQuery(t *testing.T) {
	if p, err := parseAssignQuery("limit=5&offset=7"); err != nil || p != (allot.Page{Limit: 5, Offset: 7}) {
		t.Fatalf("%+v %v", p, err)
	}
	for _, raw := range []string{"limit=0", "offset=x", "limit=1&limit=2"} {
		if _, err := parseAssignQuery(raw); allot.ErrorCodeOf(err) != allot.EINVALID {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

// FuzzParseResourceQuery: any query either parses into values within the
// documented ranges and enumerations, or is refused with EINVALID naming a
// parameter; it never panics.
func FuzzParseResourceQuery(f *testing.F) {
	for _, seed := range []string{
		"resource_source=PURCHASED", "resource_source=PURCHASED,SP_ALLOCATED&limit=5&offset=10",
		"resource_source&limit=10", "resource_source=ADMIN_ALLOCATED&business=LIVE_2D,VIDEO_2D&status=1",
		"resource_source=PURCHASED&resource_expire_start_time=2021-01-10T08:43:17Z", "%zz=1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		filter, p, err := parseResourceQuery(raw)
		if err != nil {
			if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.Contains(allot.ErrorMessageOf(err), ":") {
				t.Fatalf("%q: error %v is not a parameter error", raw, err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > 100 || p.Offset < 0 || p.Offset > 2147483647 {
			t.Fatalf("%q: page %+v out of range", raw, p)
		}
		if len(filter.Sources) == 0 {
			t.Fatalf("%q: parsed without resource_source", raw)
		}
		for _, s := range filter.Sources {
			if !s.Valid() {
				t.Fatalf("%q: source %q", raw, s)
			}
		}
		for _, b := range filter.Businesses {
			if !b.Valid() {
				t.Fatalf("%q: business %q", raw, b)
			}
		}
		if filter.ChargingMode != "" && !filter.ChargingMode.Valid() || filter.SubResource != "" && !filter.SubResource.Valid() {
			t.Fatalf("%q: enum out of range: %+v", raw, filter)
		}
		if filter.Status != nil && !filter.Status.Valid() {
			t.Fatalf("%q: status %d", raw, *filter.Status)
		}
	})
}
