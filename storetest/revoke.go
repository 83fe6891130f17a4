package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// The listed types carry no secret: no ciphertext, no hash, no token. A
// field of bytes is how one would come back, so none may have one.
func testListedTypes(t *testing.T) {
	for _, v := range []any{allot.CredentialInfo{}, allot.TokenInfo{}, allot.AdminKeyInfo{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Array || strings.Contains(strings.ToLower(f.Name), "hash") ||
				strings.Contains(strings.ToLower(f.Name), "secret") {
				t.Errorf("%s.%s (%s) may carry a secret", typ.Name(), f.Name, f.Type)
			}
		}
	}
}

func testListCredentials(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateProject(t, s, NewProject("p-2", ""))
		MustCreateProject(t, s, NewProject("p-3", ""))
		b := NewCredential("AK-B", "p-1")
		b.ExpiresAt = Epoch.Add(time.Hour)
		MustCreateCredential(t, s, b)
		MustCreateCredential(t, s, NewCredential("AK-A", "p-1"))
		MustCreateCredential(t, s, NewCredential("AK-C", "p-2"))
		want1 := []allot.CredentialInfo{
			{AccessKey: "AK-A", ProjectID: "p-1", CreatedAt: Epoch},
			{AccessKey: "AK-B", ProjectID: "p-1", CreatedAt: Epoch, ExpiresAt: Epoch.Add(time.Hour)},
		}
		checkCredentialInfos(t, mustListCredentials(t, s, "p-1"), want1)
		all := append(want1, allot.CredentialInfo{AccessKey: "AK-C", ProjectID: "p-2", CreatedAt: Epoch})
		checkCredentialInfos(t, mustListCredentials(t, s, ""), all)
		checkCredentialInfos(t, mustListCredentials(t, s, "p-3"), nil)
		// What a list shows, encoded, holds none of the ciphertext.
		out, _ := json.Marshal(all)
		if ct := string(NewCredential("", "").SecretCiphertext[2:6]); strings.Contains(string(out), ct) {
			t.Errorf("listed credentials carry the ciphertext: %s", out)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateCredential(t, s, NewCredential("AK1", "p-1"))
		_, err := s.ListCredentials(t.Context(), "no-such-project")
		wantCode(t, err, allot.ENOTFOUND)
	})
}

func testRevokeCredential(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateCredential(t, s, NewCredential("AK1", "p-1"))
		keep := MustCreateCredential(t, s, NewCredential("AK2", "p-1"))
		before, n := time.Now().UTC().Truncate(time.Second), s.Revocations()
		if err := s.RevokeCredential(t.Context(), "AK1"); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		if got := s.Revocations(); got != n+1 {
			t.Errorf("Revocations went from %d to %d, want one more", n, got)
		}
		_, err := s.FindCredential(t.Context(), "AK1")
		wantCode(t, err, allot.ENOTFOUND)
		got, err := s.FindCredential(t.Context(), "AK2")
		if err != nil {
			t.Fatal(err)
		}
		checkCredential(t, got, keep)
		list := mustListCredentials(t, s, "p-1")
		if r := list[0].RevokedAt; len(list) != 2 || r.Before(before) || r.After(after) || !list[1].RevokedAt.IsZero() {
			t.Fatalf("list after revoking AK1: %+v, want AK1 revoked at the store's current time and AK2 not", list)
		}
		// The revoked key keeps its row: its access key is not given again.
		wantCode(t, s.CreateCredential(t.Context(), NewCredential("AK1", "p-1")), allot.ECONFLICT)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateCredential(t, s, NewCredential("AK1", "p-1"))
		wantCode(t, s.RevokeCredential(t.Context(), "AK2"), allot.ENOTFOUND)
		wantCode(t, s.RevokeCredential(t.Context(), "ak1"), allot.ENOTFOUND)
		n := s.Revocations()
		if err := s.RevokeCredential(t.Context(), "AK1"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.RevokeCredential(t.Context(), "AK1"), allot.ENOTFOUND) // revoked already
		if got := s.Revocations(); got != n+1 {
			t.Errorf("Revocations went from %d to %d, want one more: refused revocations do not count", n, got)
		}
	})

	// Expiry is the caller's to enforce (the auth layer checks it on every
	// request, cached or not): the store returns an expired key as it is.
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		c := NewCredential("AK1", "p-1")
		c.ExpiresAt = Epoch.AddDate(-1, 0, 0)
		want := MustCreateCredential(t, s, c)
		got, err := s.FindCredential(t.Context(), "AK1")
		if err != nil {
			t.Fatalf("an expired access key must be found, got %v", err)
		}
		checkCredential(t, got, want)
		if !sameTime(got.ExpiresAt, want.ExpiresAt) || !got.Expired(Epoch) || got.Expired(Epoch.AddDate(-2, 0, 0)) {
			t.Errorf("ExpiresAt: got %v, want %v", got.ExpiresAt, want.ExpiresAt)
		}
	})
}

func testListTokens(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateProject(t, s, NewProject("p-2", ""))
		MustCreateProject(t, s, NewProject("p-3", ""))
		expired := NewToken("secret-2", "p-1")
		expired.ExpiresAt = Epoch.Add(-time.Hour)
		toks := []allot.Token{NewToken("secret-1", "p-1"), expired, NewToken("secret-3", "p-2")}
		for _, tok := range toks {
			MustCreateToken(t, s, tok)
		}
		// The id is the hex of the hash's first 8 bytes, computed here
		// from the secret without allot.TokenID.
		info := func(secret string, tok allot.Token) allot.TokenInfo {
			h := sha256.Sum256([]byte(secret))
			return allot.TokenInfo{ID: hex.EncodeToString(h[:8]), ProjectID: tok.ProjectID, CreatedAt: tok.CreatedAt, ExpiresAt: tok.ExpiresAt}
		}
		want1 := sortTokenInfos([]allot.TokenInfo{info("secret-1", toks[0]), info("secret-2", toks[1])})
		checkTokenInfos(t, mustListTokens(t, s, "p-1"), want1)
		checkTokenInfos(t, mustListTokens(t, s, ""), append(want1, info("secret-3", toks[2])))
		checkTokenInfos(t, mustListTokens(t, s, "p-3"), nil)
		out, _ := json.Marshal(mustListTokens(t, s, ""))
		for _, secret := range []string{"secret-1", "secret-2", "secret-3"} {
			h := sha256.Sum256([]byte(secret))
			if strings.Contains(string(out), secret) || strings.Contains(string(out), hex.EncodeToString(h[:])) {
				t.Errorf("listed tokens carry a token or its hash: %s", out)
			}
		}
		_, err := s.ListTokens(t.Context(), "no-such-project")
		wantCode(t, err, allot.ENOTFOUND)
	})
}

func testRevokeToken(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		tok := MustCreateToken(t, s, NewToken("secret-1", "p-1"))
		keep := MustCreateToken(t, s, NewToken("secret-2", "p-1"))
		n := s.Revocations()
		if err := s.RevokeToken(t.Context(), allot.TokenID(tok.Hash)); err != nil {
			t.Fatal(err)
		}
		if got := s.Revocations(); got != n+1 {
			t.Errorf("Revocations went from %d to %d, want one more", n, got)
		}
		_, err := s.FindToken(t.Context(), tok.Hash)
		wantCode(t, err, allot.ENOTFOUND)
		got, err := s.FindToken(t.Context(), keep.Hash)
		if err != nil {
			t.Fatal(err)
		}
		checkToken(t, got, keep)
		for _, ti := range mustListTokens(t, s, "p-1") {
			if revoked := ti.ID == allot.TokenID(tok.Hash); revoked == ti.RevokedAt.IsZero() {
				t.Errorf("token %s: RevokedAt %v", ti.ID, ti.RevokedAt)
			}
		}
		wantCode(t, s.RevokeToken(t.Context(), allot.TokenID(tok.Hash)), allot.ENOTFOUND) // revoked already
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		tok := MustCreateToken(t, s, NewToken("secret-1", "p-1"))
		id := []byte(allot.TokenID(tok.Hash))
		if id[len(id)-1] == '0' { // another last digit: the id of no token
			id[len(id)-1] = '1'
		} else {
			id[len(id)-1] = '0'
		}
		wantCode(t, s.RevokeToken(t.Context(), string(id)), allot.ENOTFOUND)
		if _, err := s.FindToken(t.Context(), tok.Hash); err != nil {
			t.Fatalf("a refused revocation revoked the token: %v", err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		tok := MustCreateToken(t, s, NewToken("secret-1", "p-1"))
		id := allot.TokenID(tok.Hash)
		for _, bad := range []string{"", id[:15], id + "0", strings.ToUpper(id) + "X", hex.EncodeToString(tok.Hash), "zzzzzzzzzzzzzzzz"} {
			wantCode(t, s.RevokeToken(t.Context(), bad), allot.EINVALID)
		}
		if _, err := s.FindToken(t.Context(), tok.Hash); err != nil {
			t.Fatalf("a refused revocation revoked the token: %v", err)
		}
	})

	// Two tokens whose hashes share the first 8 bytes share an id; revoking
	// by it would be a guess, so it revokes neither.
	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		a, b := NewToken("secret-1", "p-1"), NewToken("secret-1", "p-1")
		b.Hash = append([]byte(nil), a.Hash...)
		b.Hash[31] ^= 1
		MustCreateToken(t, s, a)
		MustCreateToken(t, s, b)
		wantCode(t, s.RevokeToken(t.Context(), allot.TokenID(a.Hash)), allot.ECONFLICT)
		for _, tok := range []allot.Token{a, b} {
			if _, err := s.FindToken(t.Context(), tok.Hash); err != nil {
				t.Fatalf("a refused revocation revoked a token: %v", err)
			}
		}
	})
}

// testAdminKeyRevocation: list, revoke and expiry of admin keys.
func testAdminKeyRevocation(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Parallel()
	s := open(t)
	ks := s.(allot.AdminKeys)
	MustCreateProject(t, s, NewProject("sp-1", ""))
	root := NewAdminKey("root", "root-secret", "")
	root.ExpiresAt = Epoch.Add(time.Hour)
	sp := NewAdminKey("sp-key", "sp-secret", "sp-1")
	for _, k := range []allot.AdminKey{sp, root} {
		if err := ks.CreateAdminKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ks.FindAdminKey(t.Context(), root.Hash)
	if err != nil {
		t.Fatal(err)
	}
	checkAdminKey(t, got, root)
	if !sameTime(got.ExpiresAt, root.ExpiresAt) {
		t.Errorf("ExpiresAt: got %v, want %v", got.ExpiresAt, root.ExpiresAt)
	}
	want := []allot.AdminKeyInfo{
		{ID: "root", Role: allot.RoleAdmin, CreatedAt: Epoch, ExpiresAt: Epoch.Add(time.Hour)},
		{ID: "sp-key", Role: allot.RoleSP, SPProjectID: "sp-1", CreatedAt: Epoch},
	}
	list := mustListAdminKeys(t, ks)
	checkAdminKeyInfos(t, list, want)
	out, _ := json.Marshal(list)
	if strings.Contains(string(out), hex.EncodeToString(root.Hash)) || strings.Contains(string(out), "root-secret") {
		t.Errorf("listed admin keys carry a secret: %s", out)
	}

	wantCode(t, ks.RevokeAdminKey(t.Context(), "nobody"), allot.ENOTFOUND)
	n := s.Revocations()
	if err := ks.RevokeAdminKey(t.Context(), "sp-key"); err != nil {
		t.Fatal(err)
	}
	if got := s.Revocations(); got != n+1 {
		t.Errorf("Revocations went from %d to %d, want one more", n, got)
	}
	_, err = ks.FindAdminKey(t.Context(), sp.Hash)
	wantCode(t, err, allot.ENOTFOUND)
	wantCode(t, ks.RevokeAdminKey(t.Context(), "sp-key"), allot.ENOTFOUND) // revoked already
	if _, err := ks.FindAdminKey(t.Context(), root.Hash); err != nil {
		t.Fatalf("revoking sp-key revoked root: %v", err)
	}
	list = mustListAdminKeys(t, ks)
	if len(list) != 2 || list[1].RevokedAt.IsZero() || !list[0].RevokedAt.IsZero() {
		t.Fatalf("list after revoking sp-key: %+v", list)
	}
	// The name stays taken: ledger entries name their actor by it.
	wantCode(t, ks.CreateAdminKey(t.Context(), NewAdminKey("sp-key", "new-secret", "sp-1")), allot.ECONFLICT)
}

// testSharedRevocation: a revocation through one store is seen by the
// other's next lookup, though not by its in-memory count.
func testSharedRevocation(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	first, second := open(t)
	MustCreateProject(t, first, NewProject("p-1", ""))
	MustCreateCredential(t, first, NewCredential("AK1", "p-1"))
	tok := MustCreateToken(t, first, NewToken("secret-1", "p-1"))
	k := NewAdminKey("root", "root-secret", "")
	if err := first.(allot.AdminKeys).CreateAdminKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if _, err := second.FindCredential(t.Context(), "AK1"); err != nil {
		t.Fatal(err)
	}
	n := second.Revocations()
	if err := first.RevokeCredential(t.Context(), "AK1"); err != nil {
		t.Fatal(err)
	}
	if err := first.RevokeToken(t.Context(), allot.TokenID(tok.Hash)); err != nil {
		t.Fatal(err)
	}
	if err := first.(allot.AdminKeys).RevokeAdminKey(t.Context(), "root"); err != nil {
		t.Fatal(err)
	}
	_, err := second.FindCredential(t.Context(), "AK1")
	wantCode(t, err, allot.ENOTFOUND)
	_, err = second.FindToken(t.Context(), tok.Hash)
	wantCode(t, err, allot.ENOTFOUND)
	_, err = second.(allot.AdminKeys).FindAdminKey(t.Context(), k.Hash)
	wantCode(t, err, allot.ENOTFOUND)
	if got := second.Revocations(); got != n {
		t.Errorf("the second store counts %d revocations, want %d: the count is of revocations made through it", got, n)
	}
}

func mustListCredentials(tb testing.TB, s allot.Store, projectID string) []allot.CredentialInfo {
	tb.Helper()
	l, err := s.ListCredentials(tb.Context(), projectID)
	if err != nil {
		tb.Fatalf("ListCredentials(%q): %v", projectID, err)
	}
	return l
}

func mustListTokens(tb testing.TB, s allot.Store, projectID string) []allot.TokenInfo {
	tb.Helper()
	l, err := s.ListTokens(tb.Context(), projectID)
	if err != nil {
		tb.Fatalf("ListTokens(%q): %v", projectID, err)
	}
	return l
}

func mustListAdminKeys(tb testing.TB, ks allot.AdminKeys) []allot.AdminKeyInfo {
	tb.Helper()
	l, err := ks.ListAdminKeys(tb.Context())
	if err != nil {
		tb.Fatalf("ListAdminKeys: %v", err)
	}
	return l
}

func sortTokenInfos(ts []allot.TokenInfo) []allot.TokenInfo {
	if len(ts) == 2 && ts[0].ID > ts[1].ID {
		ts[0], ts[1] = ts[1], ts[0]
	}
	return ts
}

// checkInfos compares two lists item by item with same, reporting them
// whole under what.
func checkInfos[T any](tb testing.TB, what string, got, want []T, same func(g, w T) bool) {
	tb.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = same(got[i], want[i])
	}
	if !ok {
		tb.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func checkCredentialInfos(tb testing.TB, got, want []allot.CredentialInfo) {
	tb.Helper()
	checkInfos(tb, "credentials", got, want, func(g, w allot.CredentialInfo) bool {
		return g.AccessKey == w.AccessKey && g.ProjectID == w.ProjectID && sameTime(g.CreatedAt, w.CreatedAt) &&
			sameOptionalTime(g.ExpiresAt, w.ExpiresAt) && sameOptionalTime(g.RevokedAt, w.RevokedAt)
	})
}

func checkTokenInfos(tb testing.TB, got, want []allot.TokenInfo) {
	tb.Helper()
	checkInfos(tb, "tokens", got, want, func(g, w allot.TokenInfo) bool {
		return g.ID == w.ID && g.ProjectID == w.ProjectID && sameTime(g.CreatedAt, w.CreatedAt) &&
			sameTime(g.ExpiresAt, w.ExpiresAt) && sameOptionalTime(g.RevokedAt, w.RevokedAt)
	})
}

func checkAdminKeyInfos(tb testing.TB, got, want []allot.AdminKeyInfo) {
	tb.Helper()
	checkInfos(tb, "admin keys", got, want, func(g, w allot.AdminKeyInfo) bool {
		return g.ID == w.ID && g.Role == w.Role && g.SPProjectID == w.SPProjectID && sameTime(g.CreatedAt, w.CreatedAt) &&
			sameOptionalTime(g.ExpiresAt, w.ExpiresAt) && sameOptionalTime(g.RevokedAt, w.RevokedAt)
	})
}

// sameOptionalTime is sameTime where zero means "none".
func sameOptionalTime(got, want time.Time) bool {
	if want.IsZero() {
		return got.IsZero()
	}
	return sameTime(got, want)
}
