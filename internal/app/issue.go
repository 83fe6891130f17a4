package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// NewToken issues a random token for projectID, valid for ttl from now;
// only its hash is stored. The CLI, the demo and allottest make tokens here.
func NewToken(ctx context.Context, store allot.Store, projectID string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	token := "allot-" + randomText()
	now = now.UTC().Truncate(time.Second)
	expires := now.Add(ttl)
	err := store.CreateToken(ctx, allot.Token{Hash: api.TokenHash(token), ProjectID: projectID, ExpiresAt: expires, CreatedAt: now})
	return token, expires, err
}

// NewAdminKey issues a random management key named name: an
// administrator's, or one acting for the SP project sp when sp is set.
func NewAdminKey(ctx context.Context, store allot.AdminKeys, name, sp string, now time.Time) (string, error) {
	k, key := AdminKeyRecord(name, sp, now, time.Time{})
	if err := k.Validate(); err != nil {
		return "", err
	}
	return key, store.CreateAdminKey(ctx, k)
}

// AdminKeyRecord draws a new management key and returns the record that
// stores it (its hash only) and the key itself, shown once. A zero expires
// never expires.
func AdminKeyRecord(name, sp string, now, expires time.Time) (allot.AdminKey, string) {
	key := "allot-admin-" + randomText()
	return allot.AdminKey{ID: name, Hash: api.TokenHash(key), Role: RoleOf(sp), SPProjectID: sp,
		CreatedAt: now.UTC().Truncate(time.Second), ExpiresAt: expires}, key
}

// RoleOf is the role of an admin key acting for sp ("" : an administrator).
func RoleOf(sp string) allot.Role {
	if sp != "" {
		return allot.RoleSP
	}
	return allot.RoleAdmin
}

// randomText is 256 random bits, URL-safe.
func randomText() string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}
