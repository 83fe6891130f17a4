package storetest

import (
	"testing"

	"github.com/allot-dev/allot"
)

// testMissingProject: every write naming a project that does not exist is
// refused and leaves no row behind, which a later project of that id would
// inherit. PostgreSQL keeps no foreign keys on the tables the write path
// appends to (its migration 12): the project lock each write takes first
// is what refuses these, and this test is what holds it.
func testMissingProject(t *testing.T, open func(t *testing.T) allot.Store) {
	s := open(t)
	svc := &allot.Service{Store: s}
	ctx := t.Context()
	const ghost = "ghost"
	grant := pkg(ghost, "g-1", "VIDEO", 10, future)
	grant.Source, grant.OrderID, grant.IdempotencyKey = allot.SourceAdminAllocated, "", "k-grant"
	writes := map[string]func() error{
		"AddPackage": func() error { _, err := svc.AddPackage(ctx, admin, grant); return err },
		"Consume": func() error {
			_, err := svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: ghost, ResourceID: "g-1", Amount: units(1), IdempotencyKey: "k-consume"})
			return err
		},
		"ConsumeBatch": func() error {
			outs, err := svc.ConsumeBatch(ctx, admin, []allot.ConsumeEvent{{Request: allot.ConsumeRequest{
				ProjectID: ghost, ResourceID: "g-1", Amount: units(1), IdempotencyKey: "k-batch"}}})
			if err == nil && len(outs) == 1 {
				err = outs[0].Err
			}
			return err
		},
		"Reserve": func() error {
			_, err := svc.Reserve(ctx, admin, allot.ReserveRequest{ProjectID: ghost, ResourceID: "g-1", Amount: units(1), TTL: 60, IdempotencyKey: "k-reserve"})
			return err
		},
		"Import": func() error {
			return s.Import(ctx, allot.ImportBatch{Resources: []allot.Resource{NewResource(ghost, "g-2")}})
		},
	}
	for name, write := range writes {
		if err := write(); err == nil {
			t.Errorf("%s on a missing project: no error", name)
		} else if c := allot.ErrorCodeOf(err); c != allot.ENOTFOUND && c != allot.EINVALID {
			t.Errorf("%s on a missing project: %v, want not found or invalid", name, err)
		}
	}
	MustImport(t, s, allot.ImportBatch{Projects: []allot.Project{NewProject(ghost, "")}})
	if d, err := s.TenantChanges(ctx, ghost, 0); err != nil || len(d.Resources) != 0 {
		t.Errorf("the new project inherited resources: %+v %v", d.Resources, err)
	}
	if es, n, err := svc.LedgerEntries(ctx, admin, allot.LedgerQuery{ProjectID: ghost, Page: allot.Page{Limit: 10}}); err != nil || n != 0 {
		t.Errorf("the new project inherited ledger entries: %+v %v", es, err)
	}
	if vs, n, err := svc.ListReservations(ctx, admin, allot.ReservationQuery{ProjectID: ghost, Page: allot.Page{Limit: 10}}); err != nil || n != 0 {
		t.Errorf("the new project inherited reservations: %+v %v", vs, err)
	}
	// Its keys are unused: the same requests now apply, none replays.
	if _, err := svc.AddPackage(ctx, admin, grant); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: ghost, ResourceID: "g-1", Amount: units(1), IdempotencyKey: "k-consume"})
	if err != nil || out.Replayed {
		t.Errorf("consume after the project exists: %+v %v, want applied", out, err)
	}
}
