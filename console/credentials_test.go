package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

// TestAccessKeyLifecycle: an access key issued on the credentials page signs
// the official SDK's requests; its secret is on that page only; revoking it
// on the page refuses the SDK's next request. An SP key may not manage
// credentials.
func TestAccessKeyLifecycle(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		creds := b.get("/console/credentials?project_id=cust-1")
		a := b.post("/console/credentials/access-key", url.Values{"csrf": {hidden(t, creds.body, "csrf")}, "project_id": {"cust-1"}})
		if a.status != http.StatusCreated {
			t.Fatalf("create access key: %d\n%s", a.status, a.body)
		}
		if got := a.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("the page with the secret has Cache-Control %q, want no-store", got)
		}
		sk := secretOf(t, a.body)
		_, label, _ := strings.Cut(a.body, "Secret key of access key ")
		ak, _, _ := strings.Cut(label, "</h2>")
		if n, err := sdkList(t, e, ak, sk, "cust-1"); err != nil || n != 2 {
			t.Fatalf("the SDK with the new key: %d packages, %v; want cust-1's 2", n, err)
		}
		list := b.get("/console/credentials?project_id=cust-1")
		if !strings.Contains(list.body, ak) || strings.Contains(list.body, sk) {
			t.Fatalf("the list does not show the access key, or shows its secret")
		}
		if a := b.post("/console/credentials/access-key/revoke", url.Values{"csrf": {hidden(t, list.body, "csrf")}, "id": {ak}}); a.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d\n%s", a.status, a.body)
		}
		// The tenant plane caches credentials for a moment; a revocation
		// through the same store value is seen at once.
		if _, err := sdkList(t, e, ak, sk, "cust-1"); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("the SDK with the revoked key: %v, want 401", err)
		}
		if a := b.post("/console/credentials/access-key", url.Values{"csrf": {hidden(t, list.body, "csrf")}, "project_id": {"nobody"}}); a.status != http.StatusNotFound {
			t.Errorf("an access key for a missing project: %d, want 404", a.status)
		}

		sp := e.browser(e.admin)
		sp.mustSignIn("/console/", e.spKey)
		if a := sp.get("/console/credentials"); a.status != http.StatusForbidden {
			t.Errorf("an SP key on the credentials page: %d, want 403", a.status)
		}
		page := sp.get("/console/overview")
		if a := sp.post("/console/credentials/admin-key", url.Values{"csrf": {hidden(t, page.body, "csrf")}, "name": {"mine"}}); a.status != http.StatusForbidden {
			t.Errorf("an SP key issuing an admin key: %d, want 403", a.status)
		}
	})
}

// sdkList lists a project's packages through the official SDK, AK/SK signed.
func sdkList(t *testing.T, e *env, ak, sk, project string) (int, error) {
	t.Helper()
	auth, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := metastudio.MetaStudioClientBuilder().WithEndpoints([]string{e.tenant}).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second)).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := metastudio.NewMetaStudioClient(hc).ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED"})
	if err != nil {
		return 0, err
	}
	return int(resp.Count), nil
}
