package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
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

// EnsureCredential makes sure access key ak exists for projectID with secret
// key sk: it is created, sealed, when absent, and reused when it exists with
// exactly that project and secret. It is how fixed, hard-coded credentials
// (ALLOT_DEMO_AK/ALLOT_DEMO_SK) survive restarts. An access key that belongs
// to another project, or holds another secret, is ECONFLICT: silently
// replacing it would break whoever uses it now. created reports whether the
// key was new.
func EnsureCredential(ctx context.Context, store allot.Store, keyring *secret.Keyring, projectID, ak, sk string) (created bool, err error) {
	c, err := SealCredential(keyring, projectID, ak, sk, time.Now())
	if err != nil {
		return false, err
	}
	err = store.CreateCredential(ctx, c)
	if allot.ErrorCodeOf(err) != allot.ECONFLICT {
		return err == nil, err
	}
	// It exists (perhaps created a moment ago by another node with the same
	// settings): accept it only if it is the same credential.
	have, err := store.FindCredential(ctx, ak)
	if err != nil {
		return false, err
	}
	if have.ProjectID != projectID {
		return false, allot.Errorf(allot.ECONFLICT, "access key %s already belongs to project %s, not %s: choose another access key", ak, have.ProjectID, projectID)
	}
	stored, err := keyring.Open(have.SecretCiphertext, []byte(ak))
	if err != nil {
		return false, fmt.Errorf("opening the secret key of access key %s: %w", ak, err)
	}
	if subtle.ConstantTimeCompare(stored, []byte(sk)) != 1 {
		return false, allot.Errorf(allot.ECONFLICT, "access key %s already exists for project %s with another secret key: give its secret key, or choose another access key", ak, projectID)
	}
	return false, nil
}
