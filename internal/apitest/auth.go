package apitest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

const listPath = "/v1/" + tenantA + "/tenants/resources?resource_source=PURCHASED"

func testAuth(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	t.Run("wrong secret key", func(t *testing.T) {
		_, err := e.sdk(t, ak, sk+"x", tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
		serviceError(t, err, 401, "APIG.0301", "Incorrect IAM authentication information")
	})
	t.Run("unknown access key", func(t *testing.T) {
		_, err := e.sdk(t, "AKNOTKNOWN0000000000", sk, tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
		serviceError(t, err, 401, "APIG.0301", "unknown")
	})
	t.Run("stale X-Sdk-Date", func(t *testing.T) {
		// The SDK signs with the X-Sdk-Date the request carries.
		stale := time.Now().Add(-16 * time.Minute).UTC().Format("20060102T150405Z")
		req := listQuery{sources: allSources}.sdk()
		req.XSdkDate = &stale
		_, err := e.sdk(t, ak, sk, tenantA).ListTenantResources(req)
		serviceError(t, err, 401, "APIG.0303", "signature expired", "signature time:"+stale, "server time:")
	})
	t.Run("future X-Sdk-Date within skew", func(t *testing.T) {
		resp, body := e.signedGet(t, listPath, ak, sk, time.Now().Add(14*time.Minute), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("missing credentials", func(t *testing.T) {
		resp, body := e.get(t, listPath, http.Header{})
		if resp.StatusCode != 401 || !contains(body, `"APIG.0301"`) || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("credential of another project", func(t *testing.T) {
		bak, bsk := e.credential(t, tenantB)
		_, err := e.sdk(t, bak, bsk, tenantA).ListTenantResources(listQuery{sources: allSources}.sdk())
		serviceError(t, err, 403, "MSS.00010009", "urlTenantId is not equal tokenTenantId")
		_, err = e.sdk(t, bak, bsk, tenantA).ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{})
		serviceError(t, err, 403, "MSS.00010009")
	})
	t.Run("X-Project-Id differs from the path", func(t *testing.T) {
		resp, body := e.signedGet(t, listPath, ak, sk, time.Now(), http.Header{"X-Project-Id": {tenantB}})
		if resp.StatusCode != 403 || !contains(body, `"MSS.00010009"`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("lockout after more than 5 failures", func(t *testing.T) {
		lak, lsk := e.credential(t, tenantA)
		for i := range 5 {
			if resp, _ := e.signedGet(t, listPath, lak, "wrong", time.Now(), nil); resp.StatusCode != 401 {
				t.Fatalf("failure %d: status %d", i, resp.StatusCode)
			}
		}
		// Five failures do not lock: a good request resets the count.
		if resp, body := e.signedGet(t, listPath, lak, lsk, time.Now(), nil); resp.StatusCode != 200 {
			t.Fatalf("after 5 failures: %d %s", resp.StatusCode, body)
		}
		for range 6 {
			e.signedGet(t, listPath, lak, "wrong", time.Now(), nil)
		}
		resp, body := e.signedGet(t, listPath, lak, lsk, time.Now(), nil)
		if resp.StatusCode != 401 || !contains(body, "locked") {
			t.Fatalf("after 6 failures the right secret got %d %s", resp.StatusCode, body)
		}
		// Other keys are not affected.
		if resp, body := e.signedGet(t, listPath, ak, sk, time.Now(), nil); resp.StatusCode != 200 {
			t.Fatalf("other key: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("token", func(t *testing.T) {
		tok := e.token(t, tenantA, time.Now().Add(time.Hour))
		resp, body := e.get(t, listPath+"&limit=3", http.Header{"X-Auth-Token": {tok}})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var got struct {
			Resources []map[string]json.RawMessage `json:"resources"`
			Count     json.RawMessage              `json:"count"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := listQuery{sources: []string{"PURCHASED"}}.expect(e.fx.byProject[tenantA])
		if string(got.Count) != itoa(len(want)) || len(got.Resources) != 3 {
			t.Fatalf("count %s, %d items; want %d, 3", got.Count, len(got.Resources), len(want))
		}
		// Quantities are exact decimals and status an integer on the wire.
		for i, item := range got.Resources {
			if string(item["amount"]) != decimal(want[i].Amount) || string(item["usage"]) != decimal(want[i].Usage) {
				t.Fatalf("item %d: amount %s usage %s, want %s %s", i, item["amount"], item["usage"], decimal(want[i].Amount), decimal(want[i].Usage))
			}
			if string(item["status"]) != itoa(int(want[i].Status)) {
				t.Fatalf("item %d: status %s", i, item["status"])
			}
		}

		for name, c := range map[string]struct {
			token  string
			status int
			code   string
		}{
			"expired": {e.token(t, tenantA, time.Now().Add(-time.Second)), 401, "APIG.0301"},
			"unknown": {"not-a-token", 401, "APIG.0301"},
			"other":   {e.token(t, tenantB, time.Now().Add(time.Hour)), 403, "MSS.00010009"},
		} {
			resp, body := e.get(t, listPath, http.Header{"X-Auth-Token": {c.token}})
			if resp.StatusCode != c.status || !contains(body, `"`+c.code+`"`) {
				t.Fatalf("%s token: %d %s", name, resp.StatusCode, body)
			}
		}
	})
	t.Run("project id discovered through IAM", func(t *testing.T) {
		creds, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithIamEndpointOverride(e.url).SafeBuild()
		if err != nil {
			t.Fatal(err)
		}
		hc, err := metastudio.MetaStudioClientBuilder().
			WithRegion(region.NewRegion(regionID, e.url)).
			WithCredential(creds).
			SafeBuild()
		if err != nil {
			t.Fatalf("SDK could not discover the project: %v", err)
		}
		resp, err := metastudio.NewMetaStudioClient(hc).ListTenantResources(listQuery{sources: allSources}.sdk())
		if err != nil {
			t.Fatal(err)
		}
		if int(resp.Count) != len(e.fx.byProject[tenantA]) {
			t.Fatalf("count %v", resp.Count)
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func testTransport(t *testing.T, e *env) {
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/" + tenantA + "/tenants/nothing", 404},
		{"GET", "/", 404},
		{"POST", "/v1/" + tenantA + "/tenants/resources", 405},
		{"DELETE", "/v1/" + tenantA + "/tenants/resource/assignrecourd", 405},
	} {
		req, _ := http.NewRequest(c.method, e.url+c.path, nil)
		resp, body := e.do(t, req)
		var eb struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		if resp.StatusCode != c.status || json.Unmarshal(body, &eb) != nil || eb.Code == "" || eb.Msg == "" || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
}
