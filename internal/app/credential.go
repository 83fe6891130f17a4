package app

import (
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// SealCredential is allot.NewCredential for a credential that never
// expires: the secret key sealed under keyring, bound to its access key.
func SealCredential(keyring *secret.Keyring, projectID, accessKey, secretKey string, createdAt time.Time) (allot.Credential, error) {
	return allot.NewCredential(keyring, projectID, accessKey, secretKey, createdAt, time.Time{})
}
