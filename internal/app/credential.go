package app

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// SealCredential is the one way a secret key is made storable: sealed under
// the keyring's current master key and bound to its access key, so a sealed
// value copied onto another access key's row does not open.
func SealCredential(keyring *secret.Keyring, projectID, accessKey, secretKey string, createdAt time.Time) (allot.Credential, error) {
	sealed, err := keyring.Seal([]byte(secretKey), []byte(accessKey))
	if err != nil {
		return allot.Credential{}, err
	}
	return allot.Credential{AccessKey: accessKey, ProjectID: projectID, SecretCiphertext: sealed, CreatedAt: createdAt.UTC().Truncate(time.Second)}, nil
}

// IssueCredential creates a random access key pair for projectID and stores
// it sealed. The secret key is returned once, here.
func IssueCredential(ctx context.Context, store allot.Store, keyring *secret.Keyring, projectID string) (ak, sk string, err error) {
	ak, sk = RandomString(20, UpperAlnum), RandomString(40, Alnum)
	c, err := SealCredential(keyring, projectID, ak, sk, time.Now())
	if err != nil {
		return "", "", err
	}
	return ak, sk, store.CreateCredential(ctx, c)
}

// Alphabets of generated access keys and secret keys.
const (
	UpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	Alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// RandomString returns n characters drawn uniformly from alphabet.
func RandomString(n int, alphabet string) string {
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
