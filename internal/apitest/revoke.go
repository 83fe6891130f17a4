package apitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"
)

// testRevocation: a credential revoked through the management API is
// refused by the next request, on the same node at once; an expired one is
// refused from its first use; lists show no secret.
func testRevocation(t *testing.T, e *env) {
	a := startAdmin(t, e)
	admin := a.key(t, "ops", allot.RoleAdmin, "")
	list := func(t *testing.T, ak, sk string) error {
		t.Helper()
		_, err := e.sdk(t, ak, sk, tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
		return err
	}

	t.Run("access key", func(t *testing.T) {
		var created struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
		}
		if status, msg := a.call(t, admin, "POST", "/admin/v1/credentials", `{"project_id":"`+tenantA+`"}`, &created); status != 201 {
			t.Fatalf("create: %d %s", status, msg)
		}
		if err := list(t, created.AccessKey, created.SecretKey); err != nil {
			t.Fatalf("the new access key does not work: %v", err)
		}
		var listed struct {
			Credentials []allot.CredentialInfo `json:"credentials"`
		}
		status, raw := a.call(t, admin, "GET", "/admin/v1/credentials?project_id="+tenantA, "", &listed)
		if status != 200 || strings.Contains(raw, created.SecretKey) || !strings.Contains(raw, `"access_key":"`+created.AccessKey+`"`) {
			t.Fatalf("list: %d %s", status, raw)
		}
		if status, msg := a.call(t, admin, "DELETE", "/admin/v1/credentials/"+created.AccessKey, "", nil); status != 204 {
			t.Fatalf("revoke: %d %s", status, msg)
		}
		// The signature is right; the key is revoked: refused at once, as an unknown key.
		serviceError(t, list(t, created.AccessKey, created.SecretKey), 401, "APIG.0301", "unknown")
		a.call(t, admin, "GET", "/admin/v1/credentials?project_id="+tenantA, "", &listed)
		for _, c := range listed.Credentials {
			if c.AccessKey == created.AccessKey && c.RevokedAt.IsZero() {
				t.Fatalf("the list shows the revoked key without revoked_at: %+v", c)
			}
		}
		a.refuse(t, admin, "DELETE", "/admin/v1/credentials/"+created.AccessKey, "", 404, "ALLOT.NOT_FOUND")
	})

	t.Run("expired access key", func(t *testing.T) {
		var created struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
		}
		past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		if status, msg := a.call(t, admin, "POST", "/admin/v1/credentials", `{"project_id":"`+tenantA+`","expires_at":"`+past+`"}`, &created); status != 201 {
			t.Fatalf("create: %d %s", status, msg)
		}
		serviceError(t, list(t, created.AccessKey, created.SecretKey), 401, "APIG.0301", "expired at "+past)
		// One that expires later works until then.
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if status, msg := a.call(t, admin, "POST", "/admin/v1/credentials", `{"project_id":"`+tenantA+`","expires_at":"`+future+`"}`, &created); status != 201 {
			t.Fatalf("create: %d %s", status, msg)
		}
		if err := list(t, created.AccessKey, created.SecretKey); err != nil {
			t.Fatalf("a key that expires in an hour does not work: %v", err)
		}
	})

	t.Run("token", func(t *testing.T) {
		tok := e.token(t, tenantA, time.Now().Add(time.Hour))
		path := "/v1/" + tenantA + "/tenants/resources-count"
		if resp, body := e.get(t, path, http.Header{"X-Auth-Token": {tok}}); resp.StatusCode != 200 {
			t.Fatalf("the token does not work: %d %.200s", resp.StatusCode, body)
		}
		h := sha256.Sum256([]byte(tok))
		id := hex.EncodeToString(h[:8])
		status, raw := a.call(t, admin, "GET", "/admin/v1/tokens?project_id="+tenantA, "", nil)
		if status != 200 || !strings.Contains(raw, `"id":"`+id+`"`) || strings.Contains(raw, tok) || strings.Contains(raw, hex.EncodeToString(h[:])) {
			t.Fatalf("list: %d %s", status, raw)
		}
		if status, msg := a.call(t, admin, "DELETE", "/admin/v1/tokens/"+id, "", nil); status != 204 {
			t.Fatalf("revoke: %d %s", status, msg)
		}
		resp, body := e.get(t, path, http.Header{"X-Auth-Token": {tok}})
		if resp.StatusCode != 401 || !contains(body, `"APIG.0301"`) {
			t.Fatalf("a revoked token: %d %.200s", resp.StatusCode, body)
		}
	})

	t.Run("admin key", func(t *testing.T) {
		doomed := a.key(t, "doomed", allot.RoleAdmin, "")
		status, raw := a.call(t, doomed, "GET", "/admin/v1/admin-keys", "", nil)
		if status != 200 || !strings.Contains(raw, `"name":"doomed"`) || strings.Contains(raw, doomed) {
			t.Fatalf("list: %d %s", status, raw)
		}
		if status, msg := a.call(t, admin, "DELETE", "/admin/v1/admin-keys/doomed", "", nil); status != 204 {
			t.Fatalf("revoke: %d %s", status, msg)
		}
		a.refuse(t, doomed, "GET", "/admin/v1/admin-keys", "", 401, "ALLOT.UNAUTHENTICATED")
		// The name stays taken.
		h := sha256.Sum256([]byte("another"))
		err := a.store.(allot.AdminKeys).CreateAdminKey(context.Background(), allot.AdminKey{ID: "doomed", Hash: h[:], Role: allot.RoleAdmin})
		if allot.ErrorCodeOf(err) != allot.ECONFLICT {
			t.Fatalf("a new key named like a revoked one: %v, want %s", err, allot.ECONFLICT)
		}
	})

	t.Run("expired admin key", func(t *testing.T) {
		h := sha256.Sum256([]byte("key-of-old"))
		err := a.store.(allot.AdminKeys).CreateAdminKey(context.Background(), allot.AdminKey{ID: "old", Hash: h[:], Role: allot.RoleAdmin,
			ExpiresAt: time.Now().Add(-time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		a.refuse(t, "key-of-old", "GET", "/admin/v1/admin-keys", "", 401, "ALLOT.UNAUTHENTICATED", "expired at")
	})

	t.Run("sp key", func(t *testing.T) {
		sp := a.key(t, "sp-1-key", allot.RoleSP, spProj)
		a.refuse(t, sp, "GET", "/admin/v1/credentials?project_id="+tenantA, "", 403, "ALLOT.FORBIDDEN")
		a.refuse(t, sp, "DELETE", "/admin/v1/admin-keys/ops", "", 403, "ALLOT.FORBIDDEN")
	})
}

// RunShared runs the tests of two nodes on one database. open returns two
// stores opened separately on the same new database.
func RunShared(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	t.Run("RevocationBound", func(t *testing.T) {
		t.Parallel()
		testRevocationBound(t, open)
	})
}

// testRevocationBound: node A revokes an access key; node B, with its own
// store and cache, refuses it once api.RevocationBound has passed on its
// clock. B's clock stands still unless the test moves it (signatures are
// checked against it with 15 minutes of skew), so nothing waits.
func testRevocationBound(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	first, second := open(t)
	key, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture()
	if err := first.Import(context.Background(), fx.batch); err != nil {
		t.Fatal(err)
	}
	node := func(store allot.Store, now func() time.Time) *env {
		cfg := app.Config{Store: store, Keyring: keyring, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"}
		if now != nil {
			cfg.Tune = func(_ string, c *api.Config) { c.Now = now }
		}
		a, err := app.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(context.Background()) })
		return &env{t: t, app: a, store: a.Store, url: a.TenantURL(), keyring: keyring, fx: fx}
	}
	var ahead atomic.Int64 // how far B's clock has been moved on
	base := time.Now()
	nodeA := node(first, nil)
	nodeB := node(second, func() time.Time { return base.Add(time.Duration(ahead.Load())) })
	a := startAdmin(t, nodeA)
	admin := a.key(t, "ops", allot.RoleAdmin, "")

	ak, sk := nodeA.credential(t, tenantA)
	list := func(e *env) error {
		_, err := e.sdk(t, ak, sk, tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
		return err
	}
	for _, e := range []*env{nodeA, nodeB} { // both cache the key
		if err := list(e); err != nil {
			t.Fatal(err)
		}
	}
	if status, msg := a.call(t, admin, "DELETE", "/admin/v1/credentials/"+ak, "", nil); status != 204 {
		t.Fatalf("revoke: %d %s", status, msg)
	}
	serviceError(t, list(nodeA), 401, "APIG.0301") // at once on the node that revoked it
	// B may serve it from its cache until the bound; past it, B asks its store.
	ahead.Store(int64(api.RevocationBound + time.Second))
	serviceError(t, list(nodeB), 401, "APIG.0301")

	// Expiry is checked on every request, also of a key B has cached.
	sealed, err := keyring.Seal([]byte(sk), []byte(ak+"-2"))
	if err != nil {
		t.Fatal(err)
	}
	bNow := base.Add(time.Duration(ahead.Load())).Truncate(time.Second)
	if err := first.CreateCredential(context.Background(), allot.Credential{AccessKey: ak + "-2", ProjectID: tenantA, SecretCiphertext: sealed,
		ExpiresAt: bNow.Add(5 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	_, err = nodeB.sdk(t, ak+"-2", sk, tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
	if err != nil {
		t.Fatalf("a key that expires in 5 s on B's clock: %v", err)
	}
	ahead.Add(int64(6 * time.Second)) // past the expiry, within the cache's lifetime
	_, err = nodeB.sdk(t, ak+"-2", sk, tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
	serviceError(t, err, 401, "APIG.0301", "expired at")
}
