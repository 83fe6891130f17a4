package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestServeDemoConsole: allot serve --demo prints where the console and
// the portal are, and the printed admin key and token sign in to them.
func TestServeDemoConsole(t *testing.T) {
	tm := newTestMain(t)
	_, out := tm.serve(t, "--demo")
	text := out.String()
	console := regexp.MustCompile(`console:\s+(\S+/console/) \(sign in with the admin key\)`).FindStringSubmatch(text)
	portal := regexp.MustCompile(`the tenant portal is (\S+/portal/) \(sign in with the token\)`).FindStringSubmatch(text)
	key := regexp.MustCompile(`(?m)^\s+admin key:\s+(\S+)`).FindStringSubmatch(text)
	token := regexp.MustCompile(`token:\s+(\S+)`).FindStringSubmatch(text)
	if console == nil || portal == nil || key == nil || token == nil {
		t.Fatalf("the console, the portal or their credentials are not printed:\n%s", text)
	}
	for _, c := range []struct{ base, secret, page, want string }{
		{console[1], key[1], "overview", `data-project-id="demo-tenant"`},
		{portal[1], token[1], "", `data-resource-id="res-video-001"`},
	} {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		get := func(u string) (int, string) {
			resp, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		status, page := get(c.base + "signin")
		m := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)
		if status != http.StatusOK || m == nil {
			t.Fatalf("%ssignin: %d\n%s", c.base, status, page)
		}
		u, _ := url.Parse(c.base)
		req, _ := http.NewRequest(http.MethodPost, c.base+"signin", strings.NewReader(url.Values{"token": {m[1]}, "key": {c.secret}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.Scheme+"://"+u.Host)
		resp, err := client.Do(req) // follows the redirect to the first page
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), c.want) {
			t.Errorf("signed in to %s: %d, want a page with %s\n%s", c.base, resp.StatusCode, c.want, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", c.base, csp)
		}
	}
}
