// Package secret seals small secrets (access keys' secret keys) with
// AES-256-GCM under a master key that is never stored in the database.
//
// A sealed value is: version byte (1) | key id (8 bytes) | nonce (12 bytes) |
// ciphertext and tag. The key id is the first 8 bytes of SHA-256 of the master
// key, so a Keyring that holds an old key next to the current one can still
// open values sealed before a rotation, and a value sealed under a key the
// keyring lacks fails with a message naming that key id. Callers pass
// associated data (the access key) so a sealed value copied onto another row
// does not open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	formatVersion = 1
	keyIDLen      = 8
	// KeySize is the length of a master key: AES-256.
	KeySize = 32
)

// Keyring holds the current master key, which seals, and older ones, which
// only open.
type Keyring struct {
	current [keyIDLen]byte
	aeads   map[[keyIDLen]byte]cipher.AEAD
}

// NewKeyring returns a keyring that seals with current and opens with current
// or any of old.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[[keyIDLen]byte]cipher.AEAD)}
	for i, key := range append([][]byte{current}, old...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("master key %d is %d bytes, want %d", i, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		if i == 0 {
			k.current = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// KeyID returns the identifier recorded with every value sealed under key.
func KeyID(key []byte) [keyIDLen]byte {
	sum := sha256.Sum256(key)
	var id [keyIDLen]byte
	copy(id[:], sum[:keyIDLen])
	return id
}

// CurrentKeyID returns the hex id of the sealing key, for logs and docs.
func (k *Keyring) CurrentKeyID() string { return hex.EncodeToString(k.current[:]) }

// Seal encrypts plaintext under the current key, bound to aad.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := k.aeads[k.current]
	out := make([]byte, 1+keyIDLen+aead.NonceSize(), 1+keyIDLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = formatVersion
	copy(out[1:], k.current[:])
	nonce := out[1+keyIDLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same aad.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+keyIDLen || sealed[0] != formatVersion {
		return nil, errors.New("secret: not a sealed value of a known format")
	}
	var id [keyIDLen]byte
	copy(id[:], sealed[1:])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("secret: sealed under master key %x, which is not loaded", id)
	}
	body := sealed[1+keyIDLen:]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("secret: sealed value is truncated")
	}
	plain, err := aead.Open(nil, body[:aead.NonceSize()], body[aead.NonceSize():], aad)
	if err != nil {
		return nil, errors.New("secret: sealed value does not open (wrong key or tampered)")
	}
	return plain, nil
}

// SealedKeyID returns the hex id of the master key a value was sealed
// under, and whether the keyring holds that key. It reads only the header:
// start-up uses it to refuse a keyring that cannot open what the database
// holds, without decrypting anything.
func (k *Keyring) SealedKeyID(sealed []byte) (id string, loaded bool) {
	if len(sealed) < 1+keyIDLen || sealed[0] != formatVersion {
		return "", false
	}
	kid := [keyIDLen]byte(sealed[1 : 1+keyIDLen])
	_, loaded = k.aeads[kid]
	return hex.EncodeToString(kid[:]), loaded
}

// LoadKeyFile reads a master key from path. A missing file is an error
// that wraps os.ErrNotExist.
func LoadKeyFile(path string) ([]byte, error) {
	return loadKeyFile(path)
}

// NeedsResealing reports whether sealed was made under a key other than the
// current one (after a rotation).
func (k *Keyring) NeedsResealing(sealed []byte) bool {
	return len(sealed) < 1+keyIDLen || [keyIDLen]byte(sealed[1:1+keyIDLen]) != k.current
}

// ParseKey decodes a master key given as base64 (standard or URL alphabet,
// padded or not) or hex of exactly 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	return nil, fmt.Errorf("a master key must be %d bytes in base64 or hex", KeySize)
}

// NewKey returns a fresh random master key, base64-encoded.
func NewKey() string {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// LoadOrCreateKeyFile reads a master key from path, creating the file with a
// fresh key (mode 0600) when it does not exist. It refuses a file that others
// can read.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, werr := f.WriteString(NewKey() + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, false, werr
		}
		created = true
	} else if !errors.Is(err, os.ErrExist) {
		return nil, false, err
	}
	key, err = loadKeyFile(path)
	return key, created, err
}

func loadKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is readable by others (mode %v): chmod 600 it", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}
