package storetest

import (
	"testing"

	"github.com/allot-dev/allot"
)

// testWipe checks test mode's reset at the store: every row of every kind
// goes, the schema stays, the same ids can be written again, and caches over
// the store learn of it through Revocations.
func testWipe(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	batch := allot.ImportBatch{
		Projects:    []allot.Project{NewProject("sp-1", ""), NewProject("p-1", "sp-1")},
		Resources:   []allot.Resource{NewResource("p-1", "r-1"), NewResource("sp-1", "r-2")},
		Assignments: []allot.Assignment{NewAssignment("a-1", "sp-1", "p-1")},
	}
	fill := func() {
		t.Helper()
		MustImport(t, s, batch)
		MustCreateCredential(t, s, allot.Credential{AccessKey: "AK1", ProjectID: "p-1", SecretCiphertext: []byte("sealed"), CreatedAt: Epoch})
		MustCreateToken(t, s, allot.Token{Hash: hash("token-1"), ProjectID: "p-1", ExpiresAt: Epoch.AddDate(1, 0, 0), CreatedAt: Epoch})
		if err := s.CreateAdminKey(ctx, NewAdminKey("admin-1", "key-1", "")); err != nil {
			t.Fatalf("CreateAdminKey: %v", err)
		}
	}
	fill()
	if _, n, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-1", Page: allot.Page{Limit: 10}}); err != nil || n == 0 {
		t.Fatalf("before Wipe: LedgerEntries = %d, %v; want the import's entries", n, err)
	}
	seen := s.Revocations()

	if err := s.Wipe(ctx); err != nil {
		t.Fatalf("Wipe: %v", err)
	}
	if got := s.Revocations(); got <= seen {
		t.Errorf("Revocations after Wipe = %d, want more than %d", got, seen)
	}
	for _, id := range []string{"sp-1", "p-1"} {
		_, err := s.FindProject(ctx, id)
		wantCode(t, err, allot.ENOTFOUND)
	}
	_, err := s.FindCredential(ctx, "AK1")
	wantCode(t, err, allot.ENOTFOUND)
	_, err = s.FindToken(ctx, hash("token-1"))
	wantCode(t, err, allot.ENOTFOUND)
	_, err = s.FindAdminKey(ctx, hash("key-1"))
	wantCode(t, err, allot.ENOTFOUND)
	if keys, err := s.ListAdminKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("ListAdminKeys after Wipe = %v, %v; want none", keys, err)
	}
	if creds, err := s.ListCredentials(ctx, ""); err != nil || len(creds) != 0 {
		t.Errorf("ListCredentials after Wipe = %v, %v; want none", creds, err)
	}
	if _, n, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-1", Page: allot.Page{Limit: 10}}); err == nil && n != 0 {
		t.Errorf("LedgerEntries after Wipe: %d entries, want none", n)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after Wipe: %v (the schema must stay)", err)
	}

	// The same ids are free again, and a wiped store is as good as new.
	fill()
	d := MustTenantChanges(t, s, "p-1", 0)
	checkResources(t, d.Resources, batch.Resources[:1])
	if err := s.Wipe(ctx); err != nil {
		t.Fatalf("second Wipe: %v", err)
	}
}
