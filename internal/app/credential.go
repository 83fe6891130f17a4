package app

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// SealCredential is allot.NewCredential for a credential that never
// expires: the secret key sealed under keyring, bound to its access key.
func SealCredential(keyring *secret.Keyring, projectID, accessKey, secretKey string, createdAt time.Time) (allot.Credential, error) {
	return allot.NewCredential(keyring, projectID, accessKey, secretKey, createdAt, time.Time{})
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
