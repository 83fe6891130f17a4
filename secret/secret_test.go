package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := ParseKey(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	ring, err := NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ring.Seal([]byte("sk-plain"), []byte("AK1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("sk-plain")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := ring.Open(sealed, []byte("AK1"))
	if err != nil || string(got) != "sk-plain" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := ring.Open(sealed, []byte("AK2")); err == nil {
		t.Fatal("opened with other associated data")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := ring.Open(tampered, []byte("AK1")); err == nil {
		t.Fatal("opened a tampered value")
	}

	// Rotation: a ring with k2 current and k1 old opens the old value and
	// reports it needs resealing; a ring without k1 names the missing key.
	rotated, err := NewKeyring(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealed, []byte("AK1")); err != nil || string(got) != "sk-plain" {
		t.Fatalf("rotated Open = %q, %v", got, err)
	}
	if !rotated.NeedsResealing(sealed) || ring.NeedsResealing(sealed) {
		t.Fatal("NeedsResealing wrong")
	}
	only2, _ := NewKeyring(k2)
	if _, err := only2.Open(sealed, []byte("AK1")); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Fatalf("Open without the key: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	if _, err := ParseKey("short"); err == nil {
		t.Fatal("accepted a short key")
	}
	if _, err := ParseKey(strings.Repeat("ab", 32)); err != nil {
		t.Fatalf("hex key: %v", err)
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("accepted a world-readable key file")
	}
}
