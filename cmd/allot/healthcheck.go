package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck GETs a readiness URL and succeeds only on 200. It is the
// container image's HEALTHCHECK: a scratch image has no curl or wget. Every
// failure, a bad flag included, exits 1: container runtimes read 1 as
// unhealthy and reserve 2.
func (m *Main) healthcheck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	url := fs.String("url", m.defaultHealthURL(), "readiness URL to GET; healthy only if it answers 200 (default from ALLOT_ADDR when set)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("healthcheck: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return fmt.Errorf("healthcheck: --timeout %v: must be positive", *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: --url %q: %w", *url, err)
	}
	// A redirect is not readiness: the answer of the URL itself counts.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s", *url, resp.Status)
	}
	fmt.Fprintf(m.Stdout, "GET %s: %s\n", *url, resp.Status)
	return nil
}

// defaultHealthURL is /readyz on serve's tenant address: ALLOT_ADDR when
// set (a wildcard host is reached on loopback), else serve's default, which
// is also where the container image listens.
func (m *Main) defaultHealthURL() string {
	host, port := "127.0.0.1", "8080"
	if addr := m.Getenv("ALLOT_ADDR"); addr != "" {
		if h, p, err := net.SplitHostPort(addr); err == nil {
			host, port = h, p
		}
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz"
}
