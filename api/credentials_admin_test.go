package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// credentialFixture is what the contract's credential calls act on, apart
// from the credentials the other calls use.
type credentialFixture struct {
	accessKey string // an access key of projA to revoke
	tokenID   string // a token of projA to revoke
	twinID    string // the id two tokens share
	keyName   string // an admin key to revoke
}

func newCredentialFixture(t *testing.T, store contractStore, keyring *secret.Keyring) credentialFixture {
	t.Helper()
	ctx := context.Background()
	f := credentialFixture{accessKey: "AKDOOMED", keyName: "doomed"}
	sealed, err := keyring.Seal([]byte("secret"), []byte(f.accessKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateCredential(ctx, allot.Credential{AccessKey: f.accessKey, ProjectID: projA, SecretCiphertext: sealed}); err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte("doomed-token"))
	twin := sha256.Sum256([]byte("twin-token"))
	other := twin
	other[31] ^= 1 // the same first 8 bytes: the same id
	for _, h := range [][32]byte{hash, twin, other} {
		if err := store.CreateToken(ctx, allot.Token{Hash: h[:], ProjectID: projA, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	f.tokenID, f.twinID = allot.TokenID(hash[:]), allot.TokenID(twin[:])
	k := sha256.Sum256([]byte("doomed-key"))
	if err := store.CreateAdminKey(ctx, allot.AdminKey{ID: f.keyName, Hash: k[:], Role: allot.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return f
}

// credentialCalls: the management API of credentials, each status it
// documents, and what every management route shares.
func credentialCalls(c *contract) []call {
	admin := func(name, method, target string, a auth, body string, want int, v verdict) call {
		return call{name: name, server: "admin", method: method, target: target, auth: a, body: body, want: want, doc: v}
	}
	// noSecret checks that a list answer holds no secret of the fixture.
	noSecret := func(t *testing.T, body []byte) {
		for _, s := range []string{c.sk, "secret", "token-of-proj-a", c.adminKey} {
			if strings.Contains(string(body), s) {
				t.Errorf("the list shows %q: %s", s, body)
			}
		}
	}
	listed := func(field, want string) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			noSecret(t, body)
			if !strings.Contains(string(body), `"`+field+`":"`+want+`"`) {
				t.Errorf("the list does not show %s %s: %s", field, want, body)
			}
		}
	}
	created := func(t *testing.T, body []byte) {
		var out struct {
			AccessKey string    `json:"access_key"`
			SecretKey string    `json:"secret_key"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := json.Unmarshal(body, &out); err != nil || len(out.AccessKey) != 20 || len(out.SecretKey) != 40 ||
			!out.ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("created credential %s (%v)", body, err)
		}
	}
	f := c.creds
	calls := []call{
		func() call {
			k := admin("credentials list", "GET", "/admin/v1/credentials?project_id="+projA, adminKey, "", 200, docAccepts)
			k.check = listed("access_key", c.ak)
			return k
		}(),
		func() call {
			k := admin("credentials list all", "GET", "/admin/v1/credentials", adminKey, "", 200, docAccepts)
			k.check = listed("access_key", f.accessKey)
			return k
		}(),
		admin("credentials list bad project", "GET", "/admin/v1/credentials?project_id=bad!id", adminKey, "", 400, docRefuses),
		admin("credentials list unknown project", "GET", "/admin/v1/credentials?project_id=nobody", adminKey, "", 404, docAccepts),
		admin("credentials list by an sp key", "GET", "/admin/v1/credentials", spKey, "", 403, docAccepts),
		func() call {
			k := admin("credential create", "POST", "/admin/v1/credentials", adminKey, `{"project_id":"`+projA+`","expires_at":"2030-01-01T00:00:00Z"}`, 201, docAccepts)
			k.check = created
			return k
		}(),
		admin("credential create bad expiry", "POST", "/admin/v1/credentials", adminKey, `{"project_id":"`+projA+`","expires_at":"tomorrow"}`, 400, docRefuses),
		admin("credential create without project", "POST", "/admin/v1/credentials", adminKey, `{}`, 400, docRefuses),
		admin("credential create unknown project", "POST", "/admin/v1/credentials", adminKey, `{"project_id":"nobody"}`, 404, docAccepts),
		admin("credential create by an sp key", "POST", "/admin/v1/credentials", spKey, `{"project_id":"`+projA+`"}`, 403, docAccepts),
		admin("credential create body too large", "POST", "/admin/v1/credentials", adminKey, bigJSONBody, 413, docRefuses),
		admin("credential revoke by an sp key", "DELETE", "/admin/v1/credentials/"+f.accessKey, spKey, "", 403, docAccepts),
		admin("credential revoke", "DELETE", "/admin/v1/credentials/"+f.accessKey, adminKey, "", 204, docAccepts),
		admin("credential revoke again", "DELETE", "/admin/v1/credentials/"+f.accessKey, adminKey, "", 404, docAccepts),
		admin("credential revoke unknown", "DELETE", "/admin/v1/credentials/AKNOBODY", adminKey, "", 404, docAccepts),

		func() call {
			k := admin("tokens list", "GET", "/admin/v1/tokens?project_id="+projA, adminKey, "", 200, docAccepts)
			k.check = listed("id", f.tokenID)
			return k
		}(),
		admin("tokens list all", "GET", "/admin/v1/tokens", adminKey, "", 200, docAccepts),
		admin("tokens list bad project", "GET", "/admin/v1/tokens?project_id=bad!id", adminKey, "", 400, docRefuses),
		admin("tokens list unknown project", "GET", "/admin/v1/tokens?project_id=nobody", adminKey, "", 404, docAccepts),
		admin("tokens list by an sp key", "GET", "/admin/v1/tokens", spKey, "", 403, docAccepts),
		admin("token revoke bad id", "DELETE", "/admin/v1/tokens/"+strings.ToUpper(f.tokenID), adminKey, "", 400, docRefuses),
		admin("token revoke by an sp key", "DELETE", "/admin/v1/tokens/"+f.tokenID, spKey, "", 403, docAccepts),
		admin("token revoke shared id", "DELETE", "/admin/v1/tokens/"+f.twinID, adminKey, "", 409, docAccepts),
		admin("token revoke", "DELETE", "/admin/v1/tokens/"+f.tokenID, adminKey, "", 204, docAccepts),
		admin("token revoke again", "DELETE", "/admin/v1/tokens/"+f.tokenID, adminKey, "", 404, docAccepts),

		func() call {
			k := admin("admin keys list", "GET", "/admin/v1/admin-keys", adminKey, "", 200, docAccepts)
			k.check = listed("name", "sp-1-key")
			return k
		}(),
		admin("admin keys list by an sp key", "GET", "/admin/v1/admin-keys", spKey, "", 403, docAccepts),
		admin("admin key revoke bad name", "DELETE", "/admin/v1/admin-keys/bad!name", adminKey, "", 400, docRefuses),
		admin("admin key revoke by an sp key", "DELETE", "/admin/v1/admin-keys/"+f.keyName, spKey, "", 403, docAccepts),
		admin("admin key revoke", "DELETE", "/admin/v1/admin-keys/"+f.keyName, adminKey, "", 204, docAccepts),
		admin("admin key revoke again", "DELETE", "/admin/v1/admin-keys/"+f.keyName, adminKey, "", 404, docAccepts),
	}
	type route struct{ method, path, body string }
	for _, r := range []route{
		{"GET", "/admin/v1/credentials", ""},
		{"POST", "/admin/v1/credentials", `{"project_id":"` + projA + `"}`},
		{"DELETE", "/admin/v1/credentials/AKCONTRACT", ""},
		{"GET", "/admin/v1/tokens", ""},
		{"DELETE", "/admin/v1/tokens/" + allot.TokenID(tokenHashOf("token-of-proj-a")), ""},
		{"GET", "/admin/v1/admin-keys", ""},
		{"DELETE", "/admin/v1/admin-keys/ops", ""},
	} {
		name := r.method + " " + r.path
		calls = append(calls,
			admin(name+" no key", r.method, r.path, noAuth, r.body, 401, docRefuses),
			admin(name+" unknown key", r.method, r.path, unknownKey, r.body, 401, docAccepts),
			call{name: name + " rate limited", server: "admin-limited", method: r.method, target: r.path, auth: adminKey, body: r.body, want: 429},
			call{name: name + " internal error", server: "admin-broken", method: r.method, target: r.path, auth: adminKey, body: r.body, want: 500},
		)
	}
	return calls
}

func tokenHashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
