package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// NewCredential returns a credential whose ciphertext holds the bytes most
// likely to be mangled on the way: NUL, 0xFF, invalid UTF-8, a trailing NUL.
func NewCredential(accessKey, projectID string) allot.Credential {
	return allot.Credential{
		AccessKey:        accessKey,
		ProjectID:        projectID,
		SecretCiphertext: []byte{0x00, 0x01, 0xff, 0xfe, 'a', 0xc3, 0x28, '\'', 0x00},
		CreatedAt:        Epoch,
	}
}

// NewToken returns a token of a project whose hash is the SHA-256 of secret.
func NewToken(secret, projectID string) allot.Token {
	return allot.Token{Hash: hash(secret), ProjectID: projectID, ExpiresAt: Epoch.Add(time.Hour), CreatedAt: Epoch}
}

func testCreateCredential(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		want := MustCreateCredential(t, s, NewCredential("AK1", "p-1"))
		MustCreateCredential(t, s, NewCredential("AK2", "p-1"))
		got, err := s.FindCredential(t.Context(), "AK1")
		if err != nil {
			t.Fatal(err)
		}
		checkCredential(t, got, want)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateProject(t, s, NewProject("p-2", ""))
		want := MustCreateCredential(t, s, NewCredential("AK1", "p-1"))
		again := NewCredential("AK1", "p-2")
		again.SecretCiphertext = []byte("other")
		wantCode(t, s.CreateCredential(t.Context(), again), allot.ECONFLICT)
		got, err := s.FindCredential(t.Context(), "AK1")
		if err != nil {
			t.Fatal(err)
		}
		checkCredential(t, got, want)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		wantCode(t, s.CreateCredential(t.Context(), NewCredential("AK1", "no-such-project")), allot.ENOTFOUND)
		_, err := s.FindCredential(t.Context(), "AK1")
		wantCode(t, err, allot.ENOTFOUND)
	})
}

func testFindCredential(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateCredential(t, s, NewCredential("AK1", "p-1"))
		for _, key := range []string{"AK2", "ak1", "AK1 ", ""} {
			_, err := s.FindCredential(t.Context(), key)
			wantCode(t, err, allot.ENOTFOUND)
		}
	})
}

func testCreateToken(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		want := MustCreateToken(t, s, NewToken("secret-1", "p-1"))
		MustCreateToken(t, s, NewToken("secret-2", "p-1"))
		got, err := s.FindToken(t.Context(), want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		checkToken(t, got, want)
	})

	// The contract names no code for a second token with the same hash; a
	// store must refuse it rather than replace the first, and refuses it as
	// a broken uniqueness rule.
	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateProject(t, s, NewProject("p-2", ""))
		want := MustCreateToken(t, s, NewToken("secret-1", "p-1"))
		wantCode(t, s.CreateToken(t.Context(), NewToken("secret-1", "p-2")), allot.ECONFLICT)
		got, err := s.FindToken(t.Context(), want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		checkToken(t, got, want)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		tok := NewToken("secret-1", "no-such-project")
		wantCode(t, s.CreateToken(t.Context(), tok), allot.ENOTFOUND)
		_, err := s.FindToken(t.Context(), tok.Hash)
		wantCode(t, err, allot.ENOTFOUND)
	})
}

func testFindToken(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		tok := NewToken("secret-1", "p-1")
		tok.CreatedAt = Epoch.AddDate(-2, 0, 0)
		tok.ExpiresAt = Epoch.AddDate(-1, 0, 0)
		want := MustCreateToken(t, s, tok)
		got, err := s.FindToken(t.Context(), want.Hash)
		if err != nil {
			t.Fatalf("an expired token must be found, got %v", err)
		}
		checkToken(t, got, want)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		tok := MustCreateToken(t, s, NewToken("secret-1", "p-1"))
		other := append([]byte(nil), tok.Hash...)
		other[len(other)-1] ^= 1
		for _, hash := range [][]byte{other, tok.Hash[:16], nil} {
			_, err := s.FindToken(t.Context(), hash)
			wantCode(t, err, allot.ENOTFOUND)
		}
	})
}

func checkToken(tb testing.TB, got, want allot.Token) {
	tb.Helper()
	if !bytes.Equal(got.Hash, want.Hash) || got.ProjectID != want.ProjectID ||
		!sameTime(got.ExpiresAt, want.ExpiresAt) || !sameTime(got.CreatedAt, want.CreatedAt) {
		tb.Errorf("token:\n got %+v\nwant %+v", got, want)
	}
}

// checkCredential fails the test unless got equals want, ciphertext bytes included.
func checkCredential(tb testing.TB, got, want allot.Credential) {
	tb.Helper()
	if got.AccessKey != want.AccessKey || got.ProjectID != want.ProjectID ||
		!bytes.Equal(got.SecretCiphertext, want.SecretCiphertext) || !sameTime(got.CreatedAt, want.CreatedAt) {
		tb.Errorf("credential:\n got %+v\nwant %+v", got, want)
	}
}
