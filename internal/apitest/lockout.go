package apitest

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/sign"
)

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// clientFrom returns an HTTP client whose connections leave from ip (all of
// 127.0.0.0/8 is loopback on Linux), so one test plays several clients.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
}

// testLockout: failures from one address never lock the owner out from
// another, while the guessing address is locked.
func testLockout(t *testing.T, open func(t *testing.T) allot.Store) {
	var logs lockedBuffer
	e := start(t, open, func(c *app.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	owner, attacker, sprayer := clientFrom("127.0.0.1"), clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	ak, sk := e.credential(t, tenantA)
	var signatures []string
	get := func(t *testing.T, c *http.Client, ak, sk string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.url+listPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := sign.Sign(req, nil, ak, []byte(sk), time.Now()); err != nil {
			t.Fatal(err)
		}
		auth, _ := sign.ParseAuthorization(req.Header.Get("Authorization"))
		signatures = append(signatures, auth.Signature)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return resp.StatusCode, body.String()
	}

	for i := range 6 {
		if status, body := get(t, attacker, ak, "guess-"+sk); status != 401 || !strings.Contains(body, "APIG.0301") {
			t.Fatalf("guess %d: %d %s", i, status, body)
		}
	}
	if status, body := get(t, owner, ak, sk); status != 200 {
		t.Fatalf("the owner, after six failures from another address: %d %s", status, body)
	}
	// The guessing address is locked for this key, even with the right secret.
	if status, body := get(t, attacker, ak, sk); status != 401 || !strings.Contains(body, "locked") {
		t.Fatalf("the attacker's address with the right secret: %d %s", status, body)
	}
	if status, body := get(t, owner, ak, sk); status != 200 {
		t.Fatalf("the owner again: %d %s", status, body)
	}

	// One address spraying unknown keys is locked for every key, the
	// owner's included, from that address only.
	for i := range 51 {
		if status, _ := get(t, sprayer, "AKSPRAY"+strings.Repeat("X", i%10)+string(rune('A'+i%26)), "x"); status != 401 {
			t.Fatalf("spray %d: %d", i, status)
		}
	}
	if status, body := get(t, sprayer, ak, sk); status != 401 || !strings.Contains(body, "client address is locked") {
		t.Fatalf("the owner's key from the spraying address: %d %s", status, body)
	}
	if status, body := get(t, owner, ak, sk); status != 200 {
		t.Fatalf("the owner after the spray: %d %s", status, body)
	}

	// Every failure is logged with the access key and the client address,
	// never a signature or a secret.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	failures := 0
	for _, line := range lines {
		if !strings.Contains(line, `"msg":"authentication failed"`) {
			continue
		}
		failures++
		if !strings.Contains(line, `"access_key":`) || !strings.Contains(line, `"client_addr":"127.0.0.`) {
			t.Errorf("log line lacks the key or the address: %s", line)
		}
	}
	if failures != 6+1+51+1 {
		t.Errorf("%d authentication failures logged, want %d:\n%s", failures, 6+1+51+1, logs.String())
	}
	if !strings.Contains(logs.String(), `"access_key":"`+ak+`"`) || !strings.Contains(logs.String(), `"client_addr":"127.0.0.2:`) {
		t.Errorf("the attacker's failures are not logged with the owner's key and the attacker's address:\n%s", logs.String())
	}
	for _, secret := range append(signatures, sk) {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds a signature or the secret %q", secret)
		}
	}
}
