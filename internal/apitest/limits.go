package apitest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// testRateLimit: past its burst, one access key gets 429 in the documented
// error shape while another key is unaffected.
func testRateLimit(t *testing.T, open func(t *testing.T) allot.Store) {
	e := start(t, open, func(c *app.Config) { c.RateLimit, c.RateBurst = 1, 5 })
	ak, sk := e.credential(t, tenantA)
	limited := 0
	for range 12 {
		resp, body := e.signedGet(t, listPath, ak, sk, time.Now(), nil)
		switch resp.StatusCode {
		case 200:
		case 429:
			var eb struct {
				Code string `json:"error_code"`
				Msg  string `json:"error_msg"`
			}
			json.Unmarshal(body, &eb)
			if eb.Code != "APIG.0308" || eb.Msg == "" || resp.Header.Get("X-Request-Id") == "" {
				t.Fatalf("429 body %s", body)
			}
			limited++
		default:
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
	}
	// 12 requests in well under a second at 1/s with a burst of 5: at
	// least 6 are refused.
	if limited < 6 {
		t.Fatalf("%d of 12 requests limited, want at least 6", limited)
	}
	other, osk := e.credential(t, tenantA)
	if resp, body := e.signedGet(t, listPath, other, osk, time.Now(), nil); resp.StatusCode != 200 {
		t.Fatalf("another key: %d %s", resp.StatusCode, body)
	}
}
