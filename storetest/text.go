package storetest

import (
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// testBadText sends every operation values no store should see: a NUL,
// bytes that are not UTF-8, control characters, values over the limit and
// ids the router would clean away. Each is EINVALID naming the field, the
// same on every store, and writes nothing.
func testBadText(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("sp-a", "pool", "CHANNEL", 100, future))
	alloc, err := e.svc.Allocate(e.ctx, admin, allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(10), IdempotencyKey: "a"})
	if err != nil {
		t.Fatal(err)
	}
	id := alloc.Resource.ResourceID
	ref := allot.ResourceRef{ProjectID: "cust-a", ResourceID: id}
	v0 := MustTenantVersion(t, e.store, "cust-a")

	ids := []string{"\x00", "a\x00b", "\xff\xfe", strings.Repeat("a", 65), ".", "..", "a/b", "é"}
	keys := []string{"\x00", "k\x00", "\xff\xfe", strings.Repeat("k", 129), "a\nb", "a\tb", "\u0085", "\x7f"}
	texts := []string{"\x00", "why\x00", "\xff\xfe", strings.Repeat("r", 1025), "\u0085", "\x1b[31m"}
	names := []string{"\x00", "\xff\xfe", strings.Repeat("n", 256), "a\nb", "\u009b"}

	type field struct {
		op, param string
		bad       []string
		call      func(v string) error
	}
	purchase := func(mut func(*allot.PackageRequest, string)) func(string) error {
		return func(v string) error {
			r := pkg("lone", "x", "CHANNEL", 1, future)
			mut(&r, v)
			_, err := e.svc.AddPackage(e.ctx, admin, r)
			return err
		}
	}
	allocate := func(mut func(*allot.AllocateRequest, string)) func(string) error {
		return func(v string) error {
			r := allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(1), IdempotencyKey: "b"}
			mut(&r, v)
			_, err := e.svc.Allocate(e.ctx, admin, r)
			return err
		}
	}
	reclaim := func(cancel bool, mut func(*allot.ReclaimRequest, string)) func(string) error {
		return func(v string) error {
			one := units(1)
			r := allot.ReclaimRequest{ResourceRef: ref, IdempotencyKey: "r", Cancel: cancel}
			if !cancel {
				r.Amount = &one
			}
			mut(&r, v)
			_, err := e.svc.Reclaim(e.ctx, admin, r)
			return err
		}
	}
	consume := func(mut func(*allot.ConsumeRequest, string)) func(string) error {
		return func(v string) error {
			r := allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: id, Amount: units(1), IdempotencyKey: "c"}
			mut(&r, v)
			_, err := e.svc.Consume(e.ctx, admin, r)
			return err
		}
	}
	refund := func(mut func(*allot.RefundRequest, string)) func(string) error {
		return func(v string) error {
			r := allot.RefundRequest{ResourceRef: ref, Amount: units(1), Reason: "r", IdempotencyKey: "f"}
			mut(&r, v)
			_, err := e.svc.Refund(e.ctx, admin, r)
			return err
		}
	}
	withRef := func(param string, f func(allot.ResourceRef) error) func(string) error {
		return func(v string) error {
			r := ref
			if param == "project_id" {
				r.ProjectID = v
			} else {
				r.ResourceID = v
			}
			return f(r)
		}
	}
	status := func(r allot.ResourceRef) error {
		_, err := e.svc.SetStatus(e.ctx, admin, r, allot.StatusFrozen, "")
		return err
	}
	bind := func(r allot.ResourceRef) error {
		_, err := e.svc.BindAsset(e.ctx, admin, r, &allot.BoundAsset{AssetID: "as-1"})
		return err
	}
	fields := []field{
		{"purchase", "project_id", ids, purchase(func(r *allot.PackageRequest, v string) { r.ProjectID = v })},
		{"purchase", "resource_id", ids, purchase(func(r *allot.PackageRequest, v string) { r.ResourceID = v })},
		{"purchase", "order_id", ids, purchase(func(r *allot.PackageRequest, v string) { r.OrderID = v })},
		{"purchase", "resource_type", ids, purchase(func(r *allot.PackageRequest, v string) { r.ResourceType = v })},
		{"purchase", "idempotency_key", keys, purchase(func(r *allot.PackageRequest, v string) { r.IdempotencyKey = v })},
		{"grant", "idempotency_key", keys, purchase(func(r *allot.PackageRequest, v string) {
			r.Source, r.OrderID, r.IdempotencyKey = allot.SourceAdminAllocated, "", v
		})},
		{"allocate", "sp_project_id", ids, allocate(func(r *allot.AllocateRequest, v string) { r.SPProjectID = v })},
		{"allocate", "customer_project_id", ids, allocate(func(r *allot.AllocateRequest, v string) { r.CustomerProjectID = v })},
		{"allocate", "resource_spec_code", ids, allocate(func(r *allot.AllocateRequest, v string) { r.ResourceSpecCode = v })},
		{"allocate", "sp_resource_id", ids, allocate(func(r *allot.AllocateRequest, v string) { r.SPResourceID = v })},
		{"allocate", "idempotency_key", keys, allocate(func(r *allot.AllocateRequest, v string) { r.IdempotencyKey = v })},
		{"reclaim", "project_id", ids, reclaim(false, func(r *allot.ReclaimRequest, v string) { r.ProjectID = v })},
		{"reclaim", "resource_id", ids, reclaim(false, func(r *allot.ReclaimRequest, v string) { r.ResourceID = v })},
		{"reclaim", "reason", texts, reclaim(false, func(r *allot.ReclaimRequest, v string) { r.Reason = v })},
		{"reclaim", "idempotency_key", keys, reclaim(false, func(r *allot.ReclaimRequest, v string) { r.IdempotencyKey = v })},
		{"cancel", "project_id", ids, reclaim(true, func(r *allot.ReclaimRequest, v string) { r.ProjectID = v })},
		{"cancel", "resource_id", ids, reclaim(true, func(r *allot.ReclaimRequest, v string) { r.ResourceID = v })},
		{"cancel", "reason", texts, reclaim(true, func(r *allot.ReclaimRequest, v string) { r.Reason = v })},
		{"cancel", "idempotency_key", keys, reclaim(true, func(r *allot.ReclaimRequest, v string) { r.IdempotencyKey = v })},
		{"freeze", "project_id", ids, withRef("project_id", status)},
		{"freeze", "resource_id", ids, withRef("resource_id", status)},
		{"freeze", "reason", texts, func(v string) error {
			_, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusFrozen, v)
			return err
		}},
		{"bind", "project_id", ids, withRef("project_id", bind)},
		{"bind", "resource_id", ids, withRef("resource_id", bind)},
		{"bind", "asset_id", ids, func(v string) error {
			_, err := e.svc.BindAsset(e.ctx, admin, ref, &allot.BoundAsset{AssetID: v})
			return err
		}},
		{"bind", "asset_name", names, func(v string) error {
			_, err := e.svc.BindAsset(e.ctx, admin, ref, &allot.BoundAsset{AssetID: "as-1", AssetName: v})
			return err
		}},
		{"unbind", "resource_id", ids, withRef("resource_id", func(r allot.ResourceRef) error {
			_, err := e.svc.BindAsset(e.ctx, admin, r, nil)
			return err
		})},
		{"consume", "project_id", ids, consume(func(r *allot.ConsumeRequest, v string) { r.ProjectID = v })},
		{"consume", "resource_id", ids, consume(func(r *allot.ConsumeRequest, v string) { r.ResourceID = v })},
		{"consume", "resource_type", ids, consume(func(r *allot.ConsumeRequest, v string) { r.ResourceID, r.ResourceType = "", v })},
		{"consume", "idempotency_key", keys, consume(func(r *allot.ConsumeRequest, v string) { r.IdempotencyKey = v })},
		{"refund", "project_id", ids, refund(func(r *allot.RefundRequest, v string) { r.ProjectID = v })},
		{"refund", "resource_id", ids, refund(func(r *allot.RefundRequest, v string) { r.ResourceID = v })},
		{"refund", "reason", texts, refund(func(r *allot.RefundRequest, v string) { r.Reason = v })},
		{"refund", "idempotency_key", keys, refund(func(r *allot.RefundRequest, v string) { r.IdempotencyKey = v })},
		{"create project", "name", names, func(v string) error {
			p := NewProject("named", "")
			p.Name = v
			return e.store.CreateProject(e.ctx, p)
		}},
		{"create project", "project_id", ids, func(v string) error { return e.store.CreateProject(e.ctx, NewProject(v, "")) }},
		// An import names the item first, then the field.
		{"import", "resource lone/imported: bound_asset.asset_name", names, func(v string) error {
			r := NewResource("lone", "imported")
			r.BoundAsset = &allot.BoundAsset{AssetID: "as-1", AssetName: v}
			return e.store.Import(e.ctx, allot.ImportBatch{Resources: []allot.Resource{r}})
		}},
		{"ledger", "project_id", ids, func(v string) error {
			_, _, err := e.svc.LedgerEntries(e.ctx, admin, allot.LedgerQuery{ProjectID: v, Page: allot.Page{Limit: 1}})
			return err
		}},
		{"ledger", "resource_id", ids, func(v string) error {
			_, _, err := e.svc.LedgerEntries(e.ctx, admin, allot.LedgerQuery{ProjectID: "cust-a", ResourceID: v, Page: allot.Page{Limit: 1}})
			return err
		}},
	}
	for _, f := range fields {
		for _, v := range f.bad {
			err := f.call(v)
			if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.HasPrefix(allot.ErrorMessageOf(err), f.param+": ") {
				t.Errorf("%s with %s %q: %v, want EINVALID naming %s", f.op, f.param, trim(v), err, f.param)
			}
		}
	}
	if got := MustTenantVersion(t, e.store, "cust-a"); got != v0 {
		t.Fatalf("refused requests moved cust-a's version from %d to %d", v0, got)
	}
	for _, id := range []string{"x", "imported"} {
		if _, ok := e.resource(t, "lone", id); ok {
			t.Fatalf("refused resource %s was written", id)
		}
	}
	if _, err := e.store.FindProject(e.ctx, "named"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("a refused project was written: %v", err)
	}

	// A reason may span lines; it is stored and read back as sent.
	reason := "line one\n\tline two, ünïcode"
	out, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(0), Reason: reason, IdempotencyKey: "f"})
	wantCode(t, err, allot.EINVALID) // amount 0: the reason itself passed
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: id, Amount: units(2), IdempotencyKey: "c"}); err != nil {
		t.Fatal(err)
	}
	if out, err = e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(1), Reason: reason, IdempotencyKey: "f"}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := e.svc.LedgerEntries(e.ctx, admin, allot.LedgerQuery{ProjectID: "cust-a", ResourceID: id, Page: allot.Page{Limit: 10}})
	if err != nil || len(entries) == 0 || entries[len(entries)-1].Reason != reason || out.Entries[0].Reason != reason {
		t.Fatalf("reason read back: %+v %v", entries, err)
	}
	// An asset name may be any one-line UTF-8 text.
	if _, err := e.svc.BindAsset(e.ctx, admin, ref, &allot.BoundAsset{AssetID: "as-1", AssetName: "Anna's 2D avatar — v2"}); err != nil {
		t.Fatal(err)
	}
}

func trim(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
