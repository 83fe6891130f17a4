package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// NewAdminKey returns a key whose hash is the SHA-256 of secret: an
// administrator's when spID is empty, else one acting for that SP.
func NewAdminKey(id, secret, spID string) allot.AdminKey {
	k := allot.AdminKey{ID: id, Hash: hash(secret), Role: allot.RoleAdmin, SPProjectID: spID, CreatedAt: Epoch}
	if spID != "" {
		k.Role = allot.RoleSP
	}
	return k
}

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testAdminKeys(t *testing.T, open func(t *testing.T) allot.Store) {
	// setup returns a store with the project sp-1 and its admin keys.
	setup := func(t *testing.T) (allot.Store, allot.AdminKeys) {
		t.Helper()
		s := open(t)
		k, ok := s.(allot.AdminKeys)
		if !ok {
			t.Fatalf("%T does not implement allot.AdminKeys", s)
		}
		MustCreateProject(t, s, NewProject("sp-1", ""))
		return s, k
	}
	mustCreate := func(t *testing.T, ks allot.AdminKeys, k allot.AdminKey) {
		t.Helper()
		if err := ks.CreateAdminKey(t.Context(), k); err != nil {
			t.Fatalf("CreateAdminKey %s: %v", k.ID, err)
		}
	}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		_, ks := setup(t)
		root := NewAdminKey("root", "root-secret", "")
		sp := NewAdminKey("sp-key", "sp-secret", "sp-1")
		sp.CreatedAt = time.Time{} // set by the store
		before := time.Now().UTC().Truncate(time.Second)
		mustCreate(t, ks, root)
		mustCreate(t, ks, sp)
		after := time.Now()
		got, err := ks.FindAdminKey(t.Context(), root.Hash)
		if err != nil {
			t.Fatal(err)
		}
		checkAdminKey(t, got, root)
		got, err = ks.FindAdminKey(t.Context(), sp.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if c := got.CreatedAt; !sameTime(c, c.Truncate(time.Second)) || c.Before(before) || c.After(after) {
			t.Errorf("a zero CreatedAt was stored as %v, want the current time in whole seconds, UTC", c)
		}
		sp.CreatedAt = got.CreatedAt
		checkAdminKey(t, got, sp)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, ks := setup(t)
		root := NewAdminKey("root", "root-secret", "")
		mustCreate(t, ks, root)
		other := append([]byte(nil), root.Hash...)
		other[len(other)-1] ^= 1
		for _, h := range [][]byte{hash("nobody"), other, root.Hash[:16], nil} {
			_, err := ks.FindAdminKey(t.Context(), h)
			wantCode(t, err, allot.ENOTFOUND)
		}
		// An sp key of a missing project.
		wantCode(t, ks.CreateAdminKey(t.Context(), NewAdminKey("sp-2", "sp-2", "ghost")), allot.ENOTFOUND)
		_, err := ks.FindAdminKey(t.Context(), hash("sp-2"))
		wantCode(t, err, allot.ENOTFOUND)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		_, ks := setup(t)
		root := NewAdminKey("root", "root-secret", "")
		mustCreate(t, ks, root)
		wantCode(t, ks.CreateAdminKey(t.Context(), NewAdminKey("root", "other", "")), allot.ECONFLICT)
		wantCode(t, ks.CreateAdminKey(t.Context(), NewAdminKey("root-2", "root-secret", "")), allot.ECONFLICT)
		// The refused keys left nothing behind, and the first is unchanged.
		_, err := ks.FindAdminKey(t.Context(), hash("other"))
		wantCode(t, err, allot.ENOTFOUND)
		got, err := ks.FindAdminKey(t.Context(), root.Hash)
		if err != nil {
			t.Fatal(err)
		}
		checkAdminKey(t, got, root)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, ks := setup(t)
		for name, k := range map[string]allot.AdminKey{
			"no id":             {Hash: hash("x"), Role: allot.RoleAdmin},
			"unknown role":      {ID: "x", Hash: hash("x"), Role: "root"},
			"sp key without sp": {ID: "x", Hash: hash("x"), Role: allot.RoleSP},
			"admin key with sp": {ID: "x", Hash: hash("x"), Role: allot.RoleAdmin, SPProjectID: "sp-1"},
			"no hash":           {ID: "x", Role: allot.RoleAdmin},
		} {
			if err := ks.CreateAdminKey(t.Context(), k); allot.ErrorCodeOf(err) != allot.EINVALID {
				t.Errorf("%s: got %v, want %s", name, err, allot.EINVALID)
			}
		}
		_, err := ks.FindAdminKey(t.Context(), hash("x"))
		wantCode(t, err, allot.ENOTFOUND)
	})
}

// checkAdminKey fails the test unless got equals want, hash bytes included.
func checkAdminKey(tb testing.TB, got, want allot.AdminKey) {
	tb.Helper()
	if got.ID != want.ID || !bytes.Equal(got.Hash, want.Hash) || got.Role != want.Role || got.SPProjectID != want.SPProjectID ||
		!sameTime(got.CreatedAt, want.CreatedAt) {
		tb.Errorf("admin key:\n got %+v\nwant %+v", got, want)
	}
}
