package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// chromium is Debian's package; CI installs it (.ci/run).
const chromium = "/usr/bin/chromium"

// newChrome starts a headless Chromium with a fresh profile, at a desktop
// window size, and returns its context.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser tests need Chromium at %s (Debian: apt-get install chromium; see docs/console.md): %v", chromium, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return ctx
}

// shot saves a screenshot of the page as docs/screenshots/NAME.png when
// ALLOT_SCREENSHOTS names a directory; CI leaves it unset, so the tree
// stays clean.
func shot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	dir := os.Getenv("ALLOT_SCREENSHOTS")
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if dir == "" {
			return nil
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("..", dir) // relative to the module root, not this package
		}
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Location())
		t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return get(t, ctx, sel+" "+name, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, sel, chromedp.Text(chromedp.CSS(sel)))
}

// unlabelled lists the form controls of the page that have no label.
func unlabelled(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return get(t, ctx, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
		.filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)`))
}

// css is a CSS selector: the first match.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// signInBrowser signs the browser in on plane prefix of base.
func signInBrowser(t *testing.T, ctx context.Context, base, prefix, key, screenshot string) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(base+prefix+"signin"),
		chromedp.WaitVisible(css("#key")),
		chromedp.SendKeys(css("#key"), key),
		shot(t, screenshot),
		chromedp.Click(css("form.card button[type=submit]")),
		chromedp.WaitVisible(css("nav[aria-label=Main]")),
	)
}

// TestBrowser drives the console and the portal in headless Chromium, as
// an operator and a tenant would, against allot built by app.Open.
func TestBrowser(t *testing.T) {
	e := start(t, storeOpeners()["SQLite"])
	ctx := newChrome(t)

	// Sign in; the overview lists the tenants.
	signInBrowser(t, ctx, e.admin, "/console/", e.rootKey, "signin")
	run(t, ctx, "overview", chromedp.WaitVisible(css(`tr[data-project-id="cust-1"]`)), shot(t, "overview"))
	if drift := text(t, ctx, "#drift-status"); !strings.Contains(drift, "No drift") {
		t.Errorf("drift status %q", drift)
	}

	// Keyboard: the first Tab reaches the skip link, the next the navigation.
	var focused []string
	for range 2 {
		run(t, ctx, "tab", chromedp.KeyEvent("\t"))
		focused = append(focused, get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.textContent.trim()`)))
	}
	if len(focused) != 2 || focused[0] != "Skip to content" || focused[1] != "Overview" {
		t.Errorf("Tab moves focus to %q, want the skip link, then Overview", focused)
	}

	// Open a tenant: its usage bars show the tenant API's numbers.
	run(t, ctx, "open tenant", chromedp.Click(css(`a[href="/console/tenants/cust-1"]`)), chromedp.WaitVisible(css(`tr[data-resource-id="pkg-1"]`)))
	checkBars(t, ctx, e, "cust-1")
	if bad := unlabelled(t, ctx); len(bad) > 0 {
		t.Errorf("the tenant page has controls without a label: %v", bad)
	}

	// Allocate from the SP, with the confirmation, clicking Confirm twice.
	run(t, ctx, "allocate form",
		chromedp.Click(css(`a[href^="/console/actions/allocate"]`)),
		chromedp.WaitVisible(css("#f-resource_spec_code")),
		chromedp.SendKeys(css("#f-resource_spec_code"), spec),
		chromedp.SendKeys(css("#f-amount"), "40"),
		shot(t, "allocate"),
	)
	if bad := unlabelled(t, ctx); len(bad) > 0 {
		t.Errorf("the allocate form has controls without a label: %v", bad)
	}
	run(t, ctx, "review",
		chromedp.Click(css("#review")),
		chromedp.WaitVisible(css("#confirm")),
		shot(t, "allocate-confirm"),
	)
	if amount := text(t, ctx, `dd[data-field="amount"]`); amount != "40" {
		t.Errorf("the confirmation shows amount %q, want 40", amount)
	}
	// Send the confirmed form twice, as a retry does: the form is pointed
	// at another window, so this page, and its form, stay to be sent again.
	_ = get(t, ctx, "retarget the form", chromedp.Evaluate[chromedp.Void](`document.getElementById("action-form").target = "answer"`))
	before := e.posts.Load()
	for i := range int64(2) {
		run(t, ctx, "confirm", chromedp.Click(css("#confirm")))
		// The log line of a request is written just after its answer.
		for deadline := time.Now().Add(5 * time.Second); e.posts.Load()-before < i+1 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if sent := e.posts.Load() - before; sent != 2 {
		t.Fatalf("the form was sent %d times, want 2", sent)
	}
	report, err := e.app.Reader.AssignmentReport(t.Context(), "cust-1", allot.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if report.Count != 1 || report.Records[0].ResourceNum != 40*allot.QuantityScale {
		t.Fatalf("after a double submit: %d allocation records (%+v), want one of 40", report.Count, report.Records)
	}
	rec := report.Records[0].RecordID
	run(t, ctx, "the tenant page", chromedp.Navigate(e.admin+"/console/tenants/cust-1"))
	run(t, ctx, "the new package", chromedp.WaitVisible(css(`tr[data-resource-id="`+rec+`"]`)), shot(t, "tenant"))
	if grants := get(t, ctx, "ledger", chromedp.Nodes(chromedp.CSSAll(`tr.entry[data-op="sp_grant_in"]`))); len(grants) != 1 {
		t.Errorf("the ledger shows %d sp_grant_in entries, want 1", len(grants))
	}
	checkBars(t, ctx, e, "cust-1")

	// The SP's pool shrank by what it gave.
	run(t, ctx, "SP page", chromedp.Navigate(e.admin+"/console/sps/sp-1"), chromedp.WaitVisible(css(`tr[data-resource-id="pool-1"]`)), shot(t, "sp"))
	if used := attr(t, ctx, `tr[data-resource-id="pool-1"] svg.bar`, "data-used"); used != "40" {
		t.Errorf("the pool shows %s used, want 40", used)
	}

	// A refused consume shows the API's message.
	_, want := e.app.Service.Consume(t.Context(), allot.Actor{ID: "root", Role: allot.RoleAdmin},
		allot.ConsumeRequest{ProjectID: "cust-1", ResourceID: "pkg-1", Amount: 1000 * allot.QuantityScale, IdempotencyKey: "oracle"})
	if want == nil {
		t.Fatal("the oracle's consume went through")
	}
	run(t, ctx, "refused consume",
		chromedp.Navigate(e.admin+"/console/actions/consume?project_id=cust-1&resource_id=pkg-1"),
		chromedp.WaitVisible(css("#f-amount")),
		chromedp.SendKeys(css("#f-amount"), "1000"),
		chromedp.Click(css("#review")),
		chromedp.WaitVisible(css("#confirm")),
		chromedp.Click(css("#confirm")),
		chromedp.WaitVisible(css("#page-error")),
		shot(t, "consume-refused"),
	)
	if shown := text(t, ctx, "#page-error"); shown != allot.ErrorMessageOf(want) {
		t.Errorf("the refused consume shows %q, want the API's %q", shown, allot.ErrorMessageOf(want))
	}

	run(t, ctx, "credentials", chromedp.Navigate(e.admin+"/console/credentials"), chromedp.WaitVisible(css("#n-adm-name")), shot(t, "credentials"))
	if bad := unlabelled(t, ctx); len(bad) > 0 {
		t.Errorf("the credentials page has controls without a label: %v", bad)
	}

	// Phone width: the tenant page reflows and does not scroll sideways.
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.admin+"/console/tenants/cust-1"),
		chromedp.WaitVisible(css(`tr[data-resource-id="pkg-1"]`)), shot(t, "tenant-phone"))
	if get(t, ctx, "phone overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
		t.Error("at phone width the page scrolls sideways")
	}
	run(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// Sign out: the console refuses access.
	run(t, ctx, "sign out", chromedp.Click(css(".signout button")), chromedp.WaitVisible(css("#key")),
		chromedp.Navigate(e.admin+"/console/tenants/cust-1"), chromedp.WaitVisible(css("#key")))
	if url := get(t, ctx, "location", chromedp.Location()); !strings.Contains(url, "/console/signin") {
		t.Errorf("after sign-out the tenant page leads to %s, want the sign-in page", url)
	}

	// An SP key cannot open another SP's customer.
	signInBrowser(t, ctx, e.admin, "/console/", e.spKey, "signin-sp")
	run(t, ctx, "other SP's customer", chromedp.Navigate(e.admin+"/console/tenants/cust-2"), chromedp.WaitVisible(css("#page-error")))
	if refusal := text(t, ctx, "#page-error"); !strings.Contains(refusal, "cannot read") {
		t.Errorf("an SP key on another SP's customer sees %q", refusal)
	}

	// The tenant portal, with a token.
	token, _, err := app.NewToken(t.Context(), e.store, "cust-1", e.clock.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, e.tenant, "/portal/", token, "portal-signin")
	run(t, ctx, "portal", chromedp.WaitVisible(css(`tr[data-resource-id="`+rec+`"]`)), shot(t, "portal"))
	checkBars(t, ctx, e, "cust-1")
}

// TestBrowserNotifications drives the overview's failed deliveries and the
// portal's notice configurations in headless Chromium: a receiver that
// always answers 500 exhausts the retries, the operator sees the failure
// and redelivers it; the tenant sets a notice configuration and the
// official SDK reads it back.
func TestBrowserNotifications(t *testing.T) {
	e := start(t, storeOpeners()["SQLite"])
	receiver, hits := failingReceiver(t)
	hook := e.webhook(e.rootKey, receiver+"/hook")
	d := e.failOneDelivery(map[string]string{hook: e.rootKey})[hook]
	ctx := newChrome(t)

	signInBrowser(t, ctx, e.admin, "/console/", e.rootKey, "signin")
	row := `tr[data-delivery-id="` + d.ID + `"]`
	run(t, ctx, "overview", chromedp.WaitVisible(css(row)), chromedp.ScrollIntoView(css("#deliveries-h")), shot(t, "overview-failed"))
	if got, want := text(t, ctx, row+" td.num"), strconv.Itoa(len(d.Attempts)); got != want {
		t.Errorf("the overview shows %s attempts, the API's log %s", got, want)
	}
	if answer := text(t, ctx, row); !strings.Contains(answer, "HTTP 500") || !strings.Contains(answer, receiver+"/hook") {
		t.Errorf("the failed delivery's row shows %q", answer)
	}
	before := hits.Load()
	run(t, ctx, "redeliver", chromedp.Click(css(row+" button.redeliver")), chromedp.WaitVisible(css("#confirm")), shot(t, "redeliver-confirm"))
	if hits.Load() != before {
		t.Error("the confirmation page redelivered")
	}
	run(t, ctx, "confirm", chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("p.flash")))
	for deadline := time.Now().Add(10 * time.Second); hits.Load() == before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the redelivery never reached the receiver")
		}
	}
	e.waitAttempts(e.rootKey, hook, len(d.Attempts))

	// The tenant sets RESOURCE_EXPIRE in the portal.
	token, _, err := app.NewToken(t.Context(), e.store, "cust-1", e.clock.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, e.tenant, "/portal/", token, "portal-signin")
	props := `{"days_before": [30, 7, 1]}`
	run(t, ctx, "notice form",
		chromedp.WaitVisible(css("#f-RESOURCE_EXPIRE-properties")),
		chromedp.Click(css("#f-RESOURCE_EXPIRE-send_msg")),
		chromedp.SendKeys(css("#f-RESOURCE_EXPIRE-properties"), props),
		chromedp.Click(css("#save-RESOURCE_EXPIRE")),
		chromedp.WaitVisible(css("#notice-RESOURCE_EXPIRE p.flash")),
		chromedp.ScrollIntoView(css("#notices-h")),
		shot(t, "portal-notices"),
	)
	if bad := unlabelled(t, ctx); len(bad) > 0 {
		t.Errorf("the portal has controls without a label: %v", bad)
	}
	// Refused input: the API's message next to the field.
	run(t, ctx, "refused notice form",
		chromedp.SetValue(css("#f-RESOURCE_LEFT-properties"), strings.Repeat("x", allot.MaxPropertiesLen+1)),
		chromedp.Click(css("#save-RESOURCE_LEFT")),
		chromedp.WaitVisible(css("#e-RESOURCE_LEFT-properties")),
	)
	if msg := text(t, ctx, "#e-RESOURCE_LEFT-properties"); !strings.HasPrefix(msg, "properties: ") {
		t.Errorf("the refused form shows %q next to properties", msg)
	}

	ak, sk := credential(t, e, "cust-1")
	auth, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId("cust-1").SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := metastudio.MetaStudioClientBuilder().WithEndpoints([]string{e.tenant}).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second)).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	client := metastudio.NewMetaStudioClient(hc)
	// RESOURCE_LEFT is still what failOneDelivery set: the refused form changed nothing.
	for typ, want := range map[string]string{"RESOURCE_EXPIRE": props, "RESOURCE_LEFT": `{"threshold_percent": 50}`} {
		resp, err := client.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: typ})
		if err != nil {
			t.Fatalf("SDK ShowTenantNoticeConfiguration %s: %v", typ, err)
		}
		got := ""
		if resp.Properties != nil {
			got = *resp.Properties
		}
		if sent := resp.SendMsg != nil && *resp.SendMsg; got != want || !sent {
			t.Errorf("%s through the SDK: send_msg %v, properties %q; want true, %q", typ, sent, got, want)
		}
	}
}

// checkBars compares every usage bar of the page with the tenant API's
// numbers, read through the official SDK.
func checkBars(t *testing.T, ctx context.Context, e *env, project string) {
	t.Helper()
	ak, sk := credential(t, e, project)
	auth, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := metastudio.MetaStudioClientBuilder().WithEndpoints([]string{e.tenant}).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second)).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	client := metastudio.NewMetaStudioClient(hc)
	resp, err := client.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED"})
	if err != nil || resp.HttpStatusCode != http.StatusOK || resp.Resources == nil {
		t.Fatalf("SDK ListTenantResources: %v", err)
	}
	for _, r := range *resp.Resources {
		sel := `tr[data-resource-id="` + *r.ResourceId + `"] svg.bar`
		amount, usage, width := attr(t, ctx, sel, "data-amount"), attr(t, ctx, sel, "data-used"), attr(t, ctx, sel+" rect.used", "width")
		if got, want := amount+"/"+usage, fmt.Sprint(*r.Amount)+"/"+fmt.Sprint(*r.Usage); got != want {
			t.Errorf("%s: the bar shows %s (amount/used), the API %s", *r.ResourceId, got, want)
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(width, "%"), 64)
		if want := float64(*r.Usage) / float64(*r.Amount) * 100; err != nil || pct < want-0.01 || pct > want+0.01 {
			t.Errorf("%s: the used segment is %s wide, want %.2f%% (%v of %v)", *r.ResourceId, width, want, *r.Usage, *r.Amount)
		}
	}
}

// credential issues an AK/SK pair for project as the CLI does.
func credential(t *testing.T, e *env, project string) (string, string) {
	t.Helper()
	c, sk, err := allot.IssueCredential(t.Context(), e.store, e.keyring, project, e.clock.Now().UTC().Truncate(time.Second), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return c.AccessKey, sk
}
