package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
)

// TestIdempotencyUpgrade opens a database that a build at schema version 10
// left with idempotency records (a WITHOUT ROWID table then). Migration 11
// moves them to the rowid table: every record reads back whole, a key
// recorded before is still refused, and a new key is recorded after them.
func TestIdempotencyUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "allot.db")
	if err := sqlite.MigrateTo(ctx, path, 10); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	for _, stmt := range []string{
		`INSERT INTO projects (id, name, region_id, sp_project_id, created_at, version, next_seq) VALUES
			('p', 'P', 'r', NULL, 0, 1, 1), ('q', 'Q', 'r', NULL, 0, 1, 1)`,
		`INSERT INTO idempotency (project_id, key, fingerprint, result, created_at) VALUES
			('p', 'consume:k1', 'fp-1', X'7b2261223a317d', 100), ('q', 'consume:k1', 'fp-2', X'7b7d', 200)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := MustOpen(t, path)
	err := s.Update(ctx, []string{"p", "q"}, func(tx allot.Tx) error {
		for _, want := range []allot.IdempotencyRecord{
			{ProjectID: "p", Key: "consume:k1", Fingerprint: "fp-1", Result: []byte(`{"a":1}`)},
			{ProjectID: "q", Key: "consume:k1", Fingerprint: "fp-2", Result: []byte(`{}`)},
		} {
			got, ok, err := tx.Idempotency(want.ProjectID, want.Key)
			if err != nil || !ok || got.Fingerprint != want.Fingerprint || string(got.Result) != string(want.Result) {
				t.Errorf("record %s/%s after the upgrade: %+v %v %v", want.ProjectID, want.Key, got, ok, err)
			}
		}
		if err := tx.SaveIdempotency(allot.IdempotencyRecord{ProjectID: "p", Key: "consume:k1", Fingerprint: "x", Result: []byte(`{}`)}); allot.ErrorCodeOf(err) != allot.ECONFLICT {
			t.Errorf("a key recorded before the upgrade saved again: %v, want a conflict", err)
		}
		return tx.SaveIdempotency(allot.IdempotencyRecord{ProjectID: "p", Key: "consume:k2", Fingerprint: "fp-3", Result: []byte(`{}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT COUNT(*) FROM idempotency WHERE id IS NOT NULL`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d records with a rowid (%v), want 3", n, err)
	}
}
