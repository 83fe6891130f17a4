package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunOrders runs the suite of the spec catalog, CreateMetaStudioOrders
// orders and their unsubscription. open returns a new, empty store whose
// clock is clock, so the suite computes every expiry from a time it set.
func RunOrders(t *testing.T, open func(t *testing.T, clock allot.Clock) allot.Store) {
	tests := map[string]func(*testing.T, *ledgerEnv, *allot.ManualClock){
		"Catalog":            testCatalog,
		"CatalogRefused":     testCatalogRefused,
		"Order":              testOrder,
		"OrderRefused":       testOrderRefused,
		"OneOffValidity":     testOneOffValidity,
		"Unsubscribe":        testUnsubscribe,
		"OrdersIsolated":     testOrdersIsolated,
		"UnsubscribeRules":   testUnsubscribeRules,
		"OrderResourcesPage": testOrderResourcesPage,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
			clock := allot.NewManualClock(start)
			clock.Freeze(true)
			clock.Set(start)
			fn(t, newLedgerEnv(t, open(t, clock)), clock)
		})
	}
}

// Catalog specs of the suite: a channel by the month, a Flexus spec of a
// main package and two sub-resources, and a one-off modelling spec.
var (
	specChannel = allot.CatalogSpec{SpecCode: "hws.resource.type.metastudio.modeling.avatarlive.channel", BusinessType: "LIVE_2D",
		ResourceType: "LIVE_CHANNEL_2D", Unit: "CHANNEL", Amount: units(1), PeriodTypes: []int32{2, 3}}
	specFlexus = allot.CatalogSpec{SpecCode: "hws.resource.type.metastudio.flexus.2d.basic", BusinessType: "FLEXUS_2D",
		ResourceType: "FLEXUS_2D_BASIC", Unit: "NUM", Amount: units(1), SubResources: []allot.CatalogSubResource{
			{ResourceType: "FLEXUS_VOICE_CLONE", SubResourceType: "voice_clone_flexus", Unit: "NUM", Amount: units(2)},
			{ResourceType: "FLEXUS_VIDEO_TIME", SubResourceType: "video_time_flexus_2d_model", Unit: "MIN", Amount: units(300)},
		}}
	specModeling = allot.CatalogSpec{SpecCode: "hws.resource.type.metastudio.avatarmodeling.number", BusinessType: "MODELING_2D",
		ResourceType: "MODELING_2D_NUM", Unit: "NUM", Amount: units(1), PeriodTypes: []int32{6}, ValidityDays: 365}
)

func (e *ledgerEnv) mustCatalog(t *testing.T, specs ...allot.CatalogSpec) {
	t.Helper()
	if err := e.store.PutCatalog(e.ctx, specs); err != nil {
		t.Fatal(err)
	}
}

var tenantActor = allot.Actor{ID: "ak:TENANTKEY"}

func testCatalog(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	got, err := e.store.Catalog(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 || got == nil {
		t.Fatalf("new store's catalog %v, want empty and not nil", got)
	}
	e.mustCatalog(t, specModeling, specFlexus, specChannel)
	got, err = e.store.Catalog(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []allot.CatalogSpec{specFlexus, specChannel, specModeling} // by spec code
	slices.SortFunc(want, func(a, b allot.CatalogSpec) int { return strings.Compare(a.SpecCode, b.SpecCode) })
	if !equalJSON(t, got, want) {
		t.Fatalf("catalog\n%+v\nwant\n%+v", got, want)
	}
	// A put replaces the whole catalog.
	e.mustCatalog(t, specChannel)
	got, err = e.store.Catalog(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !equalJSON(t, got, []allot.CatalogSpec{specChannel}) {
		t.Fatalf("after replace: %+v", got)
	}
}

func testCatalogRefused(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustCatalog(t, specChannel)
	bad := func(f func(*allot.CatalogSpec)) allot.CatalogSpec {
		c := specFlexus
		c.SubResources = slices.Clone(c.SubResources)
		f(&c)
		return c
	}
	for name, c := range map[string]struct {
		specs []allot.CatalogSpec
		want  string
	}{
		"twice":       {[]allot.CatalogSpec{specFlexus, specChannel, specFlexus}, "specs[2].spec_code"},
		"business":    {[]allot.CatalogSpec{specChannel, bad(func(c *allot.CatalogSpec) { c.BusinessType = "NOPE" })}, "specs[1]: business_type"},
		"amount":      {[]allot.CatalogSpec{bad(func(c *allot.CatalogSpec) { c.Amount = 0 })}, "specs[0]: amount"},
		"sub unit":    {[]allot.CatalogSpec{bad(func(c *allot.CatalogSpec) { c.SubResources[1].Unit = "YARD" })}, "specs[0]: sub_resources[1].unit"},
		"sub type":    {[]allot.CatalogSpec{bad(func(c *allot.CatalogSpec) { c.SubResources[0].SubResourceType = "" })}, "specs[0]: sub_resources[0].sub_resource_type"},
		"period type": {[]allot.CatalogSpec{bad(func(c *allot.CatalogSpec) { c.PeriodTypes = []int32{2, 4} })}, "specs[0]: period_types[1]"},
		"validity":    {[]allot.CatalogSpec{bad(func(c *allot.CatalogSpec) { c.ValidityDays = -1 })}, "specs[0]: validity_days"},
		"code":        {[]allot.CatalogSpec{bad(func(c *allot.CatalogSpec) { c.SpecCode = "" })}, "specs[0]: spec_code"},
	} {
		err := e.store.PutCatalog(e.ctx, c.specs)
		wantCode(t, err, allot.EINVALID)
		if msg := allot.ErrorMessageOf(err); !strings.Contains(msg, c.want) {
			t.Errorf("%s: message %q does not name %q", name, msg, c.want)
		}
	}
	got, err := e.store.Catalog(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !equalJSON(t, got, []allot.CatalogSpec{specChannel}) {
		t.Fatalf("a refused put changed the catalog: %+v", got)
	}
}

func testOrder(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustCatalog(t, specChannel, specFlexus, specModeling)
	now := clock.Now()
	o, made, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
		{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 3, IsAutoPay: 1},
		{SpecCode: specFlexus.SpecCode, PeriodType: 3, PeriodNum: 2, SubscriptionNum: 2, IsAutoRenew: 1},
		{SpecCode: specModeling.SpecCode, PeriodType: 6, PeriodNum: 1, SubscriptionNum: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderID == "" || o.Type != allot.OrderNew || !o.CreatedAt.Equal(now) || len(o.Lines) != 3 {
		t.Fatalf("order %+v", o)
	}
	// The oracle: January 31 plus one month is March 3 (Go's AddDate
	// normalises February 31), two years later is 2028-01-31.
	month, years := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), time.Date(2028, 1, 31, 10, 0, 0, 0, time.UTC)
	oneOff := time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)
	type pkg struct {
		rtype  string
		sub    allot.SubResourceType
		mode   allot.ChargingMode
		amount allot.Quantity
		expire time.Time
	}
	want := []pkg{
		{"LIVE_CHANNEL_2D", "", "PERIODIC", units(3), month},
		{"FLEXUS_2D_BASIC", "", "PERIODIC", units(2), years},
		{"FLEXUS_VOICE_CLONE", "voice_clone_flexus", "PERIODIC", units(4), years},
		{"FLEXUS_VIDEO_TIME", "video_time_flexus_2d_model", "PERIODIC", units(600), years},
		{"MODELING_2D_NUM", "", "ONE_TIME", units(1), oneOff},
	}
	stored, err := e.store.OrderResources(e.ctx, allot.OrderResourceQuery{ProjectID: "lone", OrderID: o.OrderID})
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != len(want) || len(stored) != len(want) {
		t.Fatalf("%d packages made, %d stored, want %d", len(made), len(stored), len(want))
	}
	for i, w := range want {
		r := stored[i]
		got := pkg{r.ResourceType, r.SubResourceType, r.ChargingMode, r.Amount, r.ExpireTime}
		if got != w || r.OrderID != o.OrderID || r.Source != allot.SourcePurchased || r.IsSubResource != (w.sub != "") || r.ResourceID != made[i].ResourceID {
			t.Errorf("package %d: %+v, want %+v of order %s", i, r, w, o.OrderID)
		}
	}
	ids := func(rs []allot.Resource) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ResourceID)
		}
		return out
	}
	all := ids(stored)
	lines := [][]string{all[0:1], all[1:4], all[4:5]}
	found, err := e.store.FindOrder(e.ctx, "lone", o.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range found.Lines {
		if !slices.Equal(l.ResourceIDs, lines[i]) {
			t.Errorf("line %d holds %v, want %v", i, l.ResourceIDs, lines[i])
		}
	}
	if found.Lines[0].SpecCode != specChannel.SpecCode || found.Lines[1].PeriodNum != 2 || found.Lines[1].IsAutoRenew != 1 || found.Lines[0].SubscriptionNum != 3 {
		t.Errorf("stored lines %+v", found.Lines)
	}
	// By resource id, across orders.
	byID, err := e.store.OrderResources(e.ctx, allot.OrderResourceQuery{ProjectID: "lone", ResourceIDs: []string{all[3], all[0], "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(byID); !slices.Equal(got, []string{all[0], all[3]}) {
		t.Errorf("by id: %v", got)
	}
	// Every package is a purchase in the ledger, referring to the order.
	entries, _, err := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Fatalf("%d ledger entries, want %d", len(entries), len(want))
	}
	for i, en := range entries {
		if en.Op != allot.OpPurchase || en.Ref != o.OrderID || en.AmountDelta != want[i].amount || en.Actor != tenantActor.ID || !en.At.Equal(now) {
			t.Errorf("entry %d: %+v", i, en)
		}
	}
	mustNoDrift(t, e)
}

func mustNoDrift(t *testing.T, e *ledgerEnv) {
	t.Helper()
	ds, err := e.l.Drift(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Fatalf("drift: %+v", ds)
	}
}

func testOrderRefused(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustCatalog(t, specChannel, specModeling)
	good := allot.OrderLine{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1}
	line := func(f func(*allot.OrderLine)) allot.OrderLine { l := good; f(&l); return l }
	for name, c := range map[string]struct {
		lines []allot.OrderLine
		want  string
	}{
		"none":          {nil, "cloud_services"},
		"unknown spec":  {[]allot.OrderLine{good, line(func(l *allot.OrderLine) { l.SpecCode = "hws.resource.type.metastudio.nope" })}, "cloud_services[1].resource_spec_code"},
		"period type":   {[]allot.OrderLine{line(func(l *allot.OrderLine) { l.PeriodType = 4 })}, "cloud_services[0].period_type"},
		"spec's period": {[]allot.OrderLine{good, line(func(l *allot.OrderLine) { l.PeriodType = 6 })}, "cloud_services[1].period_type"},
		"one-off num":   {[]allot.OrderLine{line(func(l *allot.OrderLine) { l.SpecCode, l.PeriodType, l.PeriodNum = specModeling.SpecCode, 6, 2 })}, "cloud_services[0].period_num"},
		"period num":    {[]allot.OrderLine{line(func(l *allot.OrderLine) { l.PeriodNum = 0 })}, "cloud_services[0].period_num"},
		"subscriptions": {[]allot.OrderLine{line(func(l *allot.OrderLine) { l.SubscriptionNum = 0 })}, "cloud_services[0].subscription_num"},
		"auto renew":    {[]allot.OrderLine{line(func(l *allot.OrderLine) { l.IsAutoRenew = 2 })}, "cloud_services[0].is_auto_renew"},
	} {
		_, _, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: c.lines})
		wantCode(t, err, allot.EINVALID)
		if msg := allot.ErrorMessageOf(err); !strings.Contains(msg, c.want) {
			t.Errorf("%s: message %q does not name %q", name, msg, c.want)
		}
	}
	// The largest subscription count is accepted.
	if _, _, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{good,
		line(func(l *allot.OrderLine) {
			l.SpecCode, l.PeriodType, l.SubscriptionNum = specModeling.SpecCode, 6, allot.MaxSubscriptionNum
		})}}); err != nil {
		t.Fatal(err)
	}
	// Only the order that succeeded wrote packages: a refused order's
	// good first line left nothing behind.
	rs, err := e.store.OrderResources(e.ctx, allot.OrderResourceQuery{ProjectID: "lone"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d packages, want the 2 of the one accepted order", len(rs))
	}
	// An order of a project that does not exist.
	_, _, err = e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "ghost", Lines: []allot.OrderLine{good}})
	wantCode(t, err, allot.ENOTFOUND)
	// A subscription count whose amount passes a package's maximum.
	big := specChannel
	big.SpecCode, big.Amount = "hws.resource.type.metastudio.big", allot.MaxResourceAmount
	e.mustCatalog(t, big)
	_, _, err = e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
		{SpecCode: big.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 2}}})
	wantCode(t, err, allot.EINVALID)
	if msg := allot.ErrorMessageOf(err); !strings.Contains(msg, "cloud_services[0].subscription_num") {
		t.Errorf("too large: %q", msg)
	}
}

func testOneOffValidity(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	forever := specModeling
	forever.SpecCode, forever.ValidityDays = "hws.resource.type.metastudio.forever", 0
	e.mustCatalog(t, specModeling, forever)
	clock.Set(clock.Now().Add(90 * time.Minute))
	o, made, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
		{SpecCode: specModeling.SpecCode, PeriodType: 6, PeriodNum: 1, SubscriptionNum: 4},
		{SpecCode: forever.SpecCode, PeriodType: 6, PeriodNum: 1, SubscriptionNum: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 31, 11, 30, 0, 0, time.UTC); !made[0].ExpireTime.Equal(want) || made[0].Amount != units(4) || made[0].ChargingMode != "ONE_TIME" {
		t.Errorf("one-off package %+v, want expiry %v", made[0], want)
	}
	if !made[1].ExpireTime.IsZero() {
		t.Errorf("validity 0 made expiry %v, want none", made[1].ExpireTime)
	}
	if !o.CreatedAt.Equal(time.Date(2026, 1, 31, 11, 30, 0, 0, time.UTC)) {
		t.Errorf("order time %v", o.CreatedAt)
	}
}

func testUnsubscribe(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustCatalog(t, specFlexus, specChannel)
	o, made, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
		{SpecCode: specFlexus.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1},
		{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Use some of a sub-resource: the cancel takes back only the rest.
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: made[2].ResourceID,
		Amount: units(100), IdempotencyKey: "use-1"}); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(time.Hour))
	_, err = e.svc.Unsubscribe(e.ctx, tenantActor, allot.UnsubscribeRequest{ProjectID: "lone", ResourceIDs: []string{made[1].ResourceID}, Type: 1})
	wantCode(t, err, allot.EINVALID) // a sub-resource
	u, err := e.svc.Unsubscribe(e.ctx, tenantActor, allot.UnsubscribeRequest{ProjectID: "lone", ResourceIDs: []string{made[0].ResourceID}, Type: 1, Reason: "no longer needed"})
	if err != nil {
		t.Fatal(err)
	}
	if u.OrderID == "" || u.OrderID == o.OrderID || u.Type != allot.OrderUnsubscribe {
		t.Fatalf("unsubscription %+v", u)
	}
	rs, err := e.store.OrderResources(e.ctx, allot.OrderResourceQuery{ProjectID: "lone", OrderID: o.OrderID})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if want := i < 3; r.Removed != want {
			t.Errorf("package %d (%s) removed %v, want %v", i, r.ResourceType, r.Removed, want)
		}
	}
	if rs[2].Amount != units(100) || rs[2].Usage != units(100) {
		t.Errorf("the used sub-resource kept amount %s usage %s, want 100 and 100", rs[2].Amount, rs[2].Usage)
	}
	entries, _, err := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var cancels []allot.LedgerEntry
	for _, en := range entries {
		if en.Op == allot.OpCancel {
			cancels = append(cancels, en)
		}
	}
	wantTake := []allot.Quantity{-units(1), -units(2), -units(200)}
	if len(cancels) != 3 {
		t.Fatalf("%d cancel entries, want 3", len(cancels))
	}
	for i, en := range cancels {
		if en.AmountDelta != wantTake[i] || en.IdempotencyKey != u.OrderID || en.Reason != "no longer needed" || en.ResourceID != made[i].ResourceID || !en.At.Equal(clock.Now()) {
			t.Errorf("cancel %d: %+v", i, en)
		}
	}
	stored, err := e.store.FindOrder(e.ctx, "lone", u.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Type != allot.OrderUnsubscribe || len(stored.Lines) != 1 || !slices.Equal(stored.Lines[0].ResourceIDs, []string{made[0].ResourceID, made[1].ResourceID, made[2].ResourceID}) {
		t.Errorf("stored unsubscription %+v", stored)
	}
	// Again: nothing is left to cancel, nothing is written.
	again, err := e.svc.Unsubscribe(e.ctx, tenantActor, allot.UnsubscribeRequest{ProjectID: "lone", ResourceIDs: []string{made[0].ResourceID}, Type: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again.OrderID != "" {
		t.Errorf("a second unsubscription made order %s", again.OrderID)
	}
	after, _, err := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(entries) {
		t.Errorf("a second unsubscription wrote %d entries", len(after)-len(entries))
	}
	mustNoDrift(t, e)
}

func testUnsubscribeRules(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustCatalog(t, specChannel, specModeling)
	_, made, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
		{SpecCode: specModeling.SpecCode, PeriodType: 6, PeriodNum: 1, SubscriptionNum: 1},
		{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	plain := e.mustAdd(t, pkg("lone", "bought-elsewhere", "VIDEO_2D_MIN", 10, future))
	for name, c := range map[string]struct {
		req  allot.UnsubscribeRequest
		code allot.ErrorCode
		want string
	}{
		"one-off":    {allot.UnsubscribeRequest{ResourceIDs: []string{made[0].ResourceID}, Type: 1}, allot.EINVALID, "resource_ids[0]"},
		"no order":   {allot.UnsubscribeRequest{ResourceIDs: []string{plain.ResourceID}, Type: 1}, allot.EINVALID, "resource_ids[0]"},
		"missing":    {allot.UnsubscribeRequest{ResourceIDs: []string{made[1].ResourceID, "nope"}, Type: 1}, allot.ENOTFOUND, "resource_ids[1]"},
		"type 2":     {allot.UnsubscribeRequest{ResourceIDs: []string{made[1].ResourceID}, Type: 2}, allot.EINVALID, "unsubscribe_type"},
		"none":       {allot.UnsubscribeRequest{Type: 1}, allot.EINVALID, "resource_ids"},
		"repeated":   {allot.UnsubscribeRequest{ResourceIDs: []string{made[1].ResourceID, made[1].ResourceID}, Type: 1}, allot.EINVALID, "resource_ids[1]"},
		"eleven ids": {allot.UnsubscribeRequest{ResourceIDs: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ","), Type: 1}, allot.EINVALID, "resource_ids"},
	} {
		c.req.ProjectID = "lone"
		_, err := e.svc.Unsubscribe(e.ctx, tenantActor, c.req)
		wantCode(t, err, c.code)
		if msg := allot.ErrorMessageOf(err); !strings.Contains(msg, c.want) {
			t.Errorf("%s: message %q does not name %q", name, msg, c.want)
		}
	}
	// "missing" named a good resource first: all or nothing, it stays.
	rs, err := e.store.OrderResources(e.ctx, allot.OrderResourceQuery{ProjectID: "lone", ResourceIDs: []string{made[1].ResourceID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Removed {
		t.Fatalf("a refused unsubscription cancelled %+v", rs)
	}
	mustNoDrift(t, e)
}

func testOrdersIsolated(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustCatalog(t, specChannel)
	o, made, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
		{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.FindOrder(e.ctx, "cust-a", o.OrderID)
	wantCode(t, err, allot.ENOTFOUND)
	for _, q := range []allot.OrderResourceQuery{{ProjectID: "cust-a", OrderID: o.OrderID}, {ProjectID: "cust-a", ResourceIDs: []string{made[0].ResourceID}}} {
		rs, err := e.store.OrderResources(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 0 {
			t.Errorf("project cust-a sees %+v", rs)
		}
	}
	_, err = e.svc.Unsubscribe(e.ctx, tenantActor, allot.UnsubscribeRequest{ProjectID: "cust-a", ResourceIDs: []string{made[0].ResourceID}, Type: 1})
	wantCode(t, err, allot.ENOTFOUND)
}

// equalJSON compares two values by their JSON, the form specs are stored in.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// testOrderResourcesPage: a page of the ordered packages read in the store
// is the fixture's, filtered by project and order and cut by the test.
func testOrderResourcesPage(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustCatalog(t, specChannel, specFlexus)
	// A package added with an order id of its own is listed too.
	e.mustAdd(t, pkg("lone", "imported", "VIDEO_2D_MIN", 10, future))
	oracle := []string{"imported"} // ordered ids of "lone", in order of creation
	byOrder := map[string][]string{}
	var orderIDs []string
	for i := range 3 {
		o, made, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "lone", Lines: []allot.OrderLine{
			{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: int32(i + 1)},
			{SpecCode: specFlexus.SpecCode, PeriodType: 3, PeriodNum: 1, SubscriptionNum: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		orderIDs = append(orderIDs, o.OrderID)
		for _, r := range made {
			oracle = append(oracle, r.ResourceID)
			byOrder[o.OrderID] = append(byOrder[o.OrderID], r.ResourceID)
		}
	}
	if _, _, err := e.svc.CreateOrder(e.ctx, tenantActor, allot.OrderRequest{ProjectID: "cust-a", Lines: []allot.OrderLine{
		{SpecCode: specChannel.SpecCode, PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1}}}); err != nil {
		t.Fatal(err)
	}
	if len(oracle) < 6 {
		t.Fatalf("the fixture made %d packages", len(oracle))
	}
	check := func(q allot.OrderResourceQuery, all []string) {
		t.Helper()
		for _, limit := range []int{1, 4, 100} {
			for off := 0; off <= len(all)+1; off++ {
				rs, count, err := e.store.OrderResourcesPage(e.ctx, q, allot.Page{Limit: limit, Offset: off})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range rs {
					got = append(got, r.ResourceID)
				}
				from, to := allot.Page{Limit: limit, Offset: off}.Window(len(all))
				if count != len(all) || !slices.Equal(got, all[from:to]) {
					t.Fatalf("%+v, limit %d, offset %d: %v of %d, want %v of %d", q, limit, off, got, count, all[from:to], len(all))
				}
			}
		}
	}
	check(allot.OrderResourceQuery{ProjectID: "lone"}, oracle)
	check(allot.OrderResourceQuery{ProjectID: "lone", OrderID: orderIDs[1]}, byOrder[orderIDs[1]])
	check(allot.OrderResourceQuery{ProjectID: "lone", OrderID: "no-such-order"}, nil)
	// The page agrees with the whole list, resource for resource.
	whole, err := e.store.OrderResources(e.ctx, allot.OrderResourceQuery{ProjectID: "lone"})
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := e.store.OrderResourcesPage(e.ctx, allot.OrderResourceQuery{ProjectID: "lone"}, allot.Page{Limit: 1000})
	if err != nil || !equalJSON(t, page, whole) {
		t.Fatalf("the page differs from the list: %v", err)
	}
}
