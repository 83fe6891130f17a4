package allot

import "time"

// Credential is an access key pair scoped to one project. The secret key is
// needed in plaintext to verify signatures, so it is kept only as
// SecretCiphertext, sealed under a master key the database never sees.
type Credential struct {
	AccessKey        string
	ProjectID        string
	SecretCiphertext []byte
	CreatedAt        time.Time
}

// Token is a bearer token scoped to one project. Only the SHA-256 hash of the
// token is kept; the token itself is shown once, when it is created.
type Token struct {
	Hash      []byte
	ProjectID string
	ExpiresAt time.Time
	CreatedAt time.Time
}
