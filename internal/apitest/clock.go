package apitest

import (
	"net/http"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// testClock: expiry follows allot's clock, the signature check the wall
// clock. With the clock moved two hours on, a token that had an hour left
// is refused, while an AK/SK request signed with the real time still
// passes: every SDK signs X-Sdk-Date with the real time.
func testClock(t *testing.T, open func(t *testing.T) allot.Store) {
	clock := allot.NewManualClock(time.Now())
	e := start(t, open, func(c *app.Config) { c.Clock = clock })
	ak, sk := e.credential(t, tenantA)
	tok := e.token(t, tenantA, time.Now().Add(time.Hour))
	withToken := http.Header{"X-Auth-Token": {tok}}
	if resp, body := e.get(t, listPath, withToken); resp.StatusCode != 200 {
		t.Fatalf("token before the clock moved: %d %s", resp.StatusCode, body)
	}
	clock.Advance(2 * time.Hour)
	if resp, body := e.get(t, listPath, withToken); resp.StatusCode != 401 {
		t.Fatalf("token an hour past its expiry on allot's clock: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.signedGet(t, listPath, ak, sk, time.Now(), nil); resp.StatusCode != 200 {
		t.Fatalf("AK/SK signed with the real time after the clock moved: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.signedGet(t, listPath, ak, sk, clock.Now(), nil); resp.StatusCode != 401 {
		t.Fatalf("AK/SK signed with allot's clock, two hours from the real time: %d, want 401", resp.StatusCode)
	}
}
