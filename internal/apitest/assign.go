package apitest

import (
	"sort"
	"strconv"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
)

func testAssignRecords(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	client := e.sdk(t, ak, sk, tenantA)
	want := e.fx.batch.Assignments

	// The overview, computed here from the fixture.
	type sum struct{ num, used allot.Quantity }
	sums := map[string]*sum{}
	for _, a := range want {
		if sums[a.ResourceSpecCode] == nil {
			sums[a.ResourceSpecCode] = &sum{}
		}
		sums[a.ResourceSpecCode].num += a.ResourceNum
		sums[a.ResourceSpecCode].used += a.ResourceUsedNum
	}
	specs := make([]string, 0, len(sums))
	for s := range sums {
		specs = append(specs, s)
	}
	sort.Strings(specs)

	var got []model.AllocateSpResourceInfo
	for offset := int32(0); ; offset += 5 {
		resp, err := client.ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{Limit: ptr(int32(5)), Offset: ptr(offset)})
		if err != nil {
			t.Fatal(err)
		}
		if *resp.CustomerProjectId != tenantA || *resp.CustomerName != "Tenant A" || *resp.RegionId != regionID {
			t.Fatalf("tenant fields: %v %v %v", *resp.CustomerProjectId, *resp.CustomerName, *resp.RegionId)
		}
		if int(*resp.ResourceCount) != len(want) {
			t.Fatalf("resource_count %d, want %d", *resp.ResourceCount, len(want))
		}
		ov := *resp.ResourcesOverview
		if len(ov) != len(specs) {
			t.Fatalf("overview has %d specs, want %d", len(ov), len(specs))
		}
		for i, spec := range specs {
			s := sums[spec]
			if *ov[i].ResourceSpecCode != spec || *ov[i].ResourceNum != f64(s.num) || *ov[i].ResourceUsedNum != f64(s.used) ||
				*ov[i].ResourceRemindQuota != f64(s.num-s.used) {
				t.Fatalf("overview %s: %v %v %v, want %v %v %v", spec, *ov[i].ResourceNum, *ov[i].ResourceUsedNum, *ov[i].ResourceRemindQuota,
					f64(s.num), f64(s.used), f64(s.num-s.used))
			}
		}
		page := *resp.Resources
		got = append(got, page...)
		if len(page) < 5 {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("walked %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if *g.AssignmentRecordId != w.RecordID || *g.ResourceSpecCode != w.ResourceSpecCode || *g.ChargingMode != string(w.ChargingMode) ||
			*g.ResourceNum != f64(w.ResourceNum) || *g.ResourceUsedNum != f64(w.ResourceUsedNum) ||
			*g.ResourceAllocateTime != w.AllocateTime.Unix() || *g.ResourceExpireTime != w.ExpireTime.Unix() {
			t.Fatalf("record %d: got %v, want %+v", i, g, w)
		}
	}

	t.Run("tenant without records", func(t *testing.T) {
		ak, sk := e.credential(t, tenantB)
		resp, err := e.sdk(t, ak, sk, tenantB).ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if *resp.ResourceCount != 0 || len(*resp.Resources) != 0 || len(*resp.ResourcesOverview) != 0 || *resp.RegionId != "cn-east-3" {
			t.Fatalf("got %v", resp)
		}
	})
	t.Run("bad paging", func(t *testing.T) {
		_, err := client.ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{Limit: ptr(int32(101))})
		serviceError(t, err, 400, "MSS.00000003", "limit")
		_, err = client.ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{Offset: ptr(int32(-5))})
		serviceError(t, err, 400, "MSS.00000003", "offset")
	})
}

// f64 is the float64 the SDK decodes from the exact decimal.
func f64(q allot.Quantity) float64 {
	f, err := strconv.ParseFloat(decimal(q), 64)
	if err != nil {
		panic(err)
	}
	return f
}
