package api

import (
	"time"

	"github.com/allot-dev/allot"
)

// How revocation and expiry reach the authenticator's cache.
//
// A cached secret or token is used without asking the store again while it
// is younger than credentialTTL and the store has counted no revocation
// since it was fetched (allot.Store.Revocations). A revocation through the
// same store value, which is what this node's management API and the
// tenant API share, so empties the cache at once; one made elsewhere (another
// node, the CLI) is seen when the entry ages out. Expiry is checked on every
// request, cached or not.

// RevocationBound is how long a node may still accept an access key or
// token after another node (or the CLI) revoked it: the cache's lifetime.
// docs/deploy.md and docs/admin.md state it. Admin keys are not cached: a
// revoked admin key is refused by every node at once.
const RevocationBound = credentialTTL

// fresh reports whether a credential fetched at fetched, when the store's
// Revocations() was seen, may still be used from the cache at now. A clock
// that went back also sends the lookup to the store.
func (a *authenticator) fresh(fetched time.Time, seen uint64, now time.Time) bool {
	age := now.Sub(fetched)
	return age >= 0 && age <= credentialTTL && a.store.Revocations() == seen
}

// expiredKey refuses an access key past its expiry (zero: none).
func expiredKey(accessKey string, expiresAt, now time.Time) error {
	if !(allot.Credential{ExpiresAt: expiresAt}).Expired(now) {
		return nil
	}
	return fail("expired_key", unauthenticated("the access key "+accessKey+" expired at "+expiresAt.UTC().Format(time.RFC3339)))
}

// expiredAdminKey refuses an admin key past its expiry, with the message
// adminOnly sends.
func expiredAdminKey(k allot.AdminKey, now time.Time) (string, bool) {
	if !k.Expired(now) {
		return "", false
	}
	return "the admin key " + k.ID + " expired at " + k.ExpiresAt.UTC().Format(time.RFC3339), true
}
