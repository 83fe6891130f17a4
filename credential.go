package allot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Credential is an access key pair scoped to one project. The secret key is
// needed in plaintext to verify signatures, so it is kept only as
// SecretCiphertext, sealed under a master key the database never sees.
type Credential struct {
	AccessKey        string
	ProjectID        string
	SecretCiphertext []byte
	CreatedAt        time.Time
	// ExpiresAt is when the key stops working; zero: never.
	ExpiresAt time.Time
}

// Expired reports whether the key no longer works at now.
func (c Credential) Expired(now time.Time) bool { return expired(c.ExpiresAt, now) }

// Token is a bearer token scoped to one project. Only the SHA-256 hash of the
// token is kept; the token itself is shown once, when it is created.
type Token struct {
	Hash      []byte
	ProjectID string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// TokenIDLen is the length of a token id: the hex of the hash's first 8
// bytes. The same string labels the token in logs and rate limits. 64 bits
// of a SHA-256 hash say nothing about the token, and two tokens share an id
// only after about 2^32 tokens.
const TokenIDLen = 16

// TokenID names the token with this hash in lists and revocations.
func TokenID(hash []byte) string {
	if len(hash) < TokenIDLen/2 {
		return hex.EncodeToString(hash)
	}
	return hex.EncodeToString(hash[:TokenIDLen/2])
}

// ValidateTokenID checks that id is a token id as TokenID writes it.
func ValidateTokenID(param, id string) error {
	if len(id) != TokenIDLen {
		return Invalid(param, "must be %d lowercase hex digits, as token list shows", TokenIDLen)
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return Invalid(param, "must be %d lowercase hex digits, as token list shows", TokenIDLen)
		}
	}
	return nil
}

// CredentialInfo is what a list shows of an access key: never its secret.
type CredentialInfo struct {
	AccessKey string    `json:"access_key"`
	ProjectID string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: never
	RevokedAt time.Time `json:"revoked_at,omitzero"` // zero: not revoked
}

// TokenInfo is what a list shows of a token: its id, never the token or
// its full hash.
type TokenInfo struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}

// TokenHashRange returns the smallest and largest SHA-256 hashes whose
// TokenID is id, a valid token id: a store finds the tokens an id names as
// one range of its hash index.
func TokenHashRange(id string) (lo, hi []byte) {
	prefix, _ := hex.DecodeString(id)
	lo = make([]byte, 32)
	hi = make([]byte, 32)
	copy(lo, prefix)
	copy(hi, prefix)
	for i := len(prefix); i < len(hi); i++ {
		hi[i] = 0xff
	}
	return lo, hi
}

// Sealer seals a secret under the master key, bound to associated data that
// must be given again to open it; secret.Keyring is the one allot uses.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
}

// NewCredential is the one way a credential is made: its secret key sealed
// bound to its access key, so a sealed value copied onto another access
// key's row does not open. Times are kept to the second, in UTC; a zero
// expiresAt never expires.
func NewCredential(s Sealer, projectID, accessKey, secretKey string, createdAt, expiresAt time.Time) (Credential, error) {
	sealed, err := s.Seal([]byte(secretKey), []byte(accessKey))
	if err != nil {
		return Credential{}, err
	}
	c := Credential{AccessKey: accessKey, ProjectID: projectID, SecretCiphertext: sealed, CreatedAt: createdAt.UTC().Truncate(time.Second)}
	if !expiresAt.IsZero() {
		c.ExpiresAt = expiresAt.UTC().Truncate(time.Second)
	}
	return c, nil
}

// IssueCredential makes a new random access key pair for projectID with
// NewCredential and stores it. The secret key is returned once, here.
func IssueCredential(ctx context.Context, store interface {
	CreateCredential(context.Context, Credential) error
}, s Sealer, projectID string, now, expiresAt time.Time) (c Credential, secretKey string, err error) {
	ak, sk := NewAccessKeyPair()
	if c, err = NewCredential(s, projectID, ak, sk, now, expiresAt); err != nil {
		return Credential{}, "", err
	}
	if err := store.CreateCredential(ctx, c); err != nil {
		return Credential{}, "", err
	}
	return c, sk, nil
}

// NewAccessKeyPair returns a new random access key (20 upper-case letters
// and digits, like the cloud's) and secret key (40 letters and digits).
func NewAccessKeyPair() (accessKey, secretKey string) {
	return randomString(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
		randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
}

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		rand.Read(buf)
		// Reject the top of the byte range so every character is equally likely.
		if int(buf[0]) >= 256-256%len(alphabet) {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}
