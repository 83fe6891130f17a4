package apitest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// Spec codes of the default catalog (docs/catalog.jsonl) the tests order.
const (
	specChannel = "hws.resource.type.metastudio.modeling.avatarlive.channel"
	specFlexus  = "hws.resource.type.metastudio.flexus.2d.basic"
	specOneOff  = "hws.resource.type.metastudio.avatarmodeling.number"
)

// tokenTransport sends what the SDK signs with a token instead: the
// request the SDK built, with X-Auth-Token for its signature headers.
type tokenTransport struct{ token string }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	r.Header.Del("X-Sdk-Date")
	r.Header.Set("X-Auth-Token", t.token)
	return http.DefaultTransport.RoundTrip(r)
}

// orderClients are the two SDK clients the Terraform provider's
// huaweicloud_metastudio_instance uses: MetaStudio and BSS v2 (a global
// client that finds its domain id through IAM, here allot).
type orderClients struct {
	ms  *metastudio.MetaStudioClient
	bss *bss.BssClient
}

func (e *env) orderClients(t *testing.T, project, mode string) orderClients {
	t.Helper()
	ak, sk := e.credential(t, project)
	httpConfig := func() *config.HttpConfig {
		c := config.DefaultHttpConfig().WithTimeout(10 * time.Second)
		if mode == "token" {
			c = c.WithHttpRoundTripper(tokenTransport{token: e.token(t, project, time.Now().Add(time.Hour))})
		}
		return c
	}
	msCreds, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	msHC, err := metastudio.MetaStudioClientBuilder().WithEndpoints([]string{e.url}).WithCredential(msCreds).WithHttpConfig(httpConfig()).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	bssCreds, err := global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithIamEndpointOverride(e.url).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	bssHC, err := bss.BssClientBuilder().WithEndpoints([]string{e.url}).WithCredential(bssCreds).WithHttpConfig(httpConfig()).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return orderClients{ms: metastudio.NewMetaStudioClient(msHC), bss: bss.NewBssClient(bssHC)}
}

// defaultCatalog is the catalog allot ships, read the way allot catalog
// import reads it.
func defaultCatalog(t *testing.T) []allot.CatalogSpec {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "catalog.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := api.DecodeCatalog(b)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func specOf(t *testing.T, specs []allot.CatalogSpec, code string) allot.CatalogSpec {
	t.Helper()
	i := slices.IndexFunc(specs, func(c allot.CatalogSpec) bool { return c.SpecCode == code })
	if i < 0 {
		t.Fatalf("the default catalog has no %s", code)
	}
	return specs[i]
}

// testOrders drives the Terraform provider's create, read and delete of a
// huaweicloud_metastudio_instance, call for call, with AK/SK and with a
// token, starting where the provider starts: the auto-pay agreement.
func testOrders(t *testing.T, e *env) {
	specs := defaultCatalog(t)
	if err := e.store.PutCatalog(context.Background(), specs); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"aksk", "token"} {
		t.Run(mode, func(t *testing.T) {
			c := e.orderClients(t, tenantA, mode)
			t.Run("lifecycle", func(t *testing.T) { testOrderLifecycle(t, e, c, specOf(t, specs, specChannel)) })
			t.Run("flexus", func(t *testing.T) { testOrderFlexus(t, e, c, specOf(t, specs, specFlexus)) })
			t.Run("errors", func(t *testing.T) { testOrderErrors(t, e, c, mode) })
		})
	}
}

func createOrder(t *testing.T, c orderClients, lines ...model.PublicCloudServiceOrder) string {
	t.Helper()
	resp, err := c.ms.CreateMetaStudioOrders(&model.CreateMetaStudioOrdersRequest{Body: &model.CreateMetaStudioOrdersReq{CloudServices: &lines}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.OrderId == nil || *resp.OrderId == "" {
		t.Fatal("CreateMetaStudioOrders answered no order_id")
	}
	return *resp.OrderId
}

func testOrderLifecycle(t *testing.T, e *env, c orderClients, spec allot.CatalogSpec) {
	// resourceCreate signs the auto-pay agreement first and checks for 200.
	signed, err := c.ms.SignSpecialAgreement(&model.SignSpecialAgreementRequest{Body: &model.SpecialAgreementSignReq{AgreementType: "AUTO_PAY", ToSign: true}})
	if err != nil || signed.HttpStatusCode != 200 {
		t.Fatalf("SignSpecialAgreement: %v %+v", err, signed)
	}
	before := time.Now().UTC().Truncate(time.Second)
	// resourceCreate: the provider's body, is_auto_pay 1, one subscription.
	orderID := createOrder(t, c, model.PublicCloudServiceOrder{IsAutoPay: ptr(int32(1)), PeriodType: 2, PeriodNum: 1,
		IsAutoRenew: ptr(int32(0)), SubscriptionNum: 1, ResourceSpecCode: spec.SpecCode})
	after := time.Now().UTC()

	// common.WaitOrderComplete: order_info.status must reach 5.
	details, err := c.bss.ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{OrderId: orderID})
	if err != nil {
		t.Fatal(err)
	}
	info := details.OrderInfo
	if info == nil || info.Status == nil || *info.Status != 5 || *info.OrderId != orderID || *info.OrderType != 1 {
		t.Fatalf("order details %+v", details)
	}
	created, err := time.Parse(time.RFC3339, *info.CreateTime)
	if err != nil || created.Before(before) || created.After(after) {
		t.Fatalf("order created %v (%v), want between %v and %v", *info.CreateTime, err, before, after)
	}
	if details.TotalCount == nil || *details.TotalCount != 1 || len(*details.OrderLineItems) != 1 {
		t.Fatalf("order lines %+v", details.OrderLineItems)
	}
	item := (*details.OrderLineItems)[0]
	if *item.ProductSpecDesc != spec.SpecCode || *item.PeriodType != 2 || *item.PeriodNum != 1 || *item.SubscriptionNum != 1 {
		t.Errorf("order line %+v", item)
	}
	wantExpiry := created.AddDate(0, 1, 0)

	// common.WaitOrderAllResourceComplete: the order's resources, the
	// first one's id becoming the Terraform resource id.
	q, err := c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OrderId: &orderID}})
	if err != nil {
		t.Fatal(err)
	}
	if q.TotalCount == nil || *q.TotalCount != 1 || len(*q.Data) != 1 {
		t.Fatalf("resource query %+v", q)
	}
	inst := (*q.Data)[0]
	resourceID := *inst.ResourceId
	if *inst.IsMainResource != 1 || *inst.Status != 2 || *inst.ResourceSpecCode != spec.SpecCode || *inst.ServiceTypeCode != "hws.service.type.metastudio" ||
		*inst.ExpireTime != wantExpiry.Format(time.RFC3339) || *inst.ProjectId != tenantA {
		t.Errorf("resource %+v", inst)
	}

	// resourceMetaStudioRead: ListTenantResources?resource_source=PURCHASED&resource_id=.
	read := func() []model.ResourceItemInfo {
		t.Helper()
		resp, err := c.ms.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", ResourceId: &resourceID})
		if err != nil {
			t.Fatal(err)
		}
		return *resp.Resources
	}
	got := read()
	if len(got) != 1 {
		t.Fatalf("read %d resources, want 1", len(got))
	}
	r := got[0]
	if *r.OrderId != orderID || r.ChargingMode.Value() != "PERIODIC" || *r.ResourceType != spec.ResourceType || r.BusinessType.Value() != string(spec.BusinessType) ||
		r.Unit.Value() != string(spec.Unit) || *r.Amount != float32Of(spec.Amount) || *r.Usage != 0 || *r.ResourceExpireTime != wantExpiry.Format(time.RFC3339) {
		t.Errorf("read %+v", r)
	}

	// resourceMetaStudioDelete: common.UnsubscribePrePaidResource, then
	// the read until the list is empty.
	un, err := c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{
		ResourceIds: []string{resourceID}, UnsubscribeType: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if un.OrderIds == nil || len(*un.OrderIds) != 1 || (*un.OrderIds)[0] == orderID {
		t.Fatalf("unsubscribe answered %+v", un)
	}
	if got := read(); len(got) != 0 {
		t.Fatalf("after unsubscribe the read lists %+v", got)
	}
	// The unsubscription is an order of its own, type 4.
	ud, err := c.bss.ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{OrderId: (*un.OrderIds)[0]})
	if err != nil {
		t.Fatal(err)
	}
	if *ud.OrderInfo.OrderType != 4 || *ud.OrderInfo.Status != 5 {
		t.Errorf("unsubscription order %+v", ud.OrderInfo)
	}
	// Unsubscribing again changes nothing.
	again, err := c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{
		ResourceIds: []string{resourceID}, UnsubscribeType: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(*again.OrderIds) != 0 {
		t.Errorf("a second unsubscribe answered %v", *again.OrderIds)
	}
	// The ledger holds the purchase and the cancel; nothing drifts.
	entries, _, err := e.store.LedgerEntries(context.Background(), allot.LedgerQuery{ProjectID: tenantA, ResourceID: resourceID, Page: allot.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Op != allot.OpPurchase || entries[0].Ref != orderID || entries[0].AmountDelta != spec.Amount ||
		entries[1].Op != allot.OpCancel || entries[1].AmountDelta != -spec.Amount || entries[1].IdempotencyKey != (*un.OrderIds)[0] {
		t.Errorf("ledger %+v", entries)
	}
	if ds, err := e.store.Drift(context.Background()); err != nil || len(ds) != 0 {
		t.Errorf("drift %v %v", ds, err)
	}
}

func testOrderFlexus(t *testing.T, e *env, c orderClients, spec allot.CatalogSpec) {
	orderID := createOrder(t, c,
		model.PublicCloudServiceOrder{PeriodType: 3, PeriodNum: 1, SubscriptionNum: 2, ResourceSpecCode: spec.SpecCode},
		model.PublicCloudServiceOrder{PeriodType: 6, PeriodNum: 1, SubscriptionNum: 3, ResourceSpecCode: specOneOff})
	q, err := c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OrderId: &orderID, Limit: ptr(int32(100))}})
	if err != nil {
		t.Fatal(err)
	}
	data := *q.Data
	if want := 1 + len(spec.SubResources) + 1; *q.TotalCount != int32(want) || len(data) != want {
		t.Fatalf("%d resources, want %d", len(data), want)
	}
	main := *data[0].ResourceId
	for i, sr := range spec.SubResources {
		d := data[1+i]
		if *d.IsMainResource != 0 || *d.ParentResourceId != main || *d.ResourceTypeCode != sr.ResourceType || d.SpecSize.String() != decimal(2*sr.Amount) {
			t.Errorf("sub-resource %d: %+v, want %s × 2 under %s", i, d, sr.ResourceType, main)
		}
	}
	if *data[len(data)-1].IsMainResource != 1 || *data[len(data)-1].ResourceSpecCode != specOneOff {
		t.Errorf("the one-off line's resource %+v", data[len(data)-1])
	}
	onlyMain, err := c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OrderId: &orderID, OnlyMainResource: ptr(int32(1))}})
	if err != nil {
		t.Fatal(err)
	}
	if *onlyMain.TotalCount != 2 || *(*onlyMain.Data)[0].ResourceId != main {
		t.Errorf("only main resources: %+v", onlyMain)
	}
	// By id, as BSS answers: a main resource brings its sub-resources
	// unless only_main_resource is 1; a sub-resource named is listed alone.
	for _, c2 := range []struct {
		ids      []string
		onlyMain int32
		want     int
	}{{[]string{main}, 0, 1 + len(spec.SubResources)}, {[]string{main}, 1, 1}, {[]string{*data[1].ResourceId}, 1, 1}, {[]string{*data[1].ResourceId}, 0, 1}} {
		byID, err := c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{ResourceIds: &c2.ids, OnlyMainResource: &c2.onlyMain}})
		if err != nil {
			t.Fatal(err)
		}
		if int(*byID.TotalCount) != c2.want || *(*byID.Data)[0].ResourceId != c2.ids[0] {
			t.Errorf("resource_ids %v only_main_resource %d: %d resources, want %d", c2.ids, c2.onlyMain, *byID.TotalCount, c2.want)
		}
	}
	// The tenant API lists the packages with the order's id.
	list, err := c.ms.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", OrderId: &orderID, Limit: ptr(int32(100))})
	if err != nil {
		t.Fatal(err)
	}
	if int(list.Count) != len(data) {
		t.Errorf("ListTenantResources by order lists %v, want %d", list.Count, len(data))
	}
	// A one-off package cannot be unsubscribed; a sub-resource is not named.
	_, err = c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{
		ResourceIds: []string{*data[len(data)-1].ResourceId}, UnsubscribeType: 1}})
	serviceError(t, err, 400, "MSS.00000003", "resource_ids[0]")
	_, err = c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{
		ResourceIds: []string{*data[1].ResourceId}, UnsubscribeType: 1}})
	serviceError(t, err, 400, "MSS.00000003", "sub-resource")
	// Unsubscribing the main resource closes its sub-resources too.
	if _, err := c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{
		ResourceIds: []string{main}, UnsubscribeType: 1}}); err != nil {
		t.Fatal(err)
	}
	closed, err := c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OrderId: &orderID, StatusList: &[]int32{3}, Limit: ptr(int32(100))}})
	if err != nil {
		t.Fatal(err)
	}
	if *closed.TotalCount != int32(1+len(spec.SubResources)) {
		t.Errorf("%d closed resources, want %d", *closed.TotalCount, 1+len(spec.SubResources))
	}
}

func testOrderErrors(t *testing.T, e *env, c orderClients, mode string) {
	line := model.PublicCloudServiceOrder{PeriodType: 2, PeriodNum: 1, SubscriptionNum: 1, ResourceSpecCode: specChannel}
	bad := line
	bad.ResourceSpecCode = "hws.resource.type.metastudio.unknown"
	_, err := c.ms.CreateMetaStudioOrders(&model.CreateMetaStudioOrdersRequest{Body: &model.CreateMetaStudioOrdersReq{CloudServices: &[]model.PublicCloudServiceOrder{line, bad}}})
	serviceError(t, err, 400, "MSS.00000003", "cloud_services[1].resource_spec_code")
	bad = line
	bad.PeriodType = 4
	_, err = c.ms.CreateMetaStudioOrders(&model.CreateMetaStudioOrdersRequest{Body: &model.CreateMetaStudioOrdersReq{CloudServices: &[]model.PublicCloudServiceOrder{bad}}})
	serviceError(t, err, 400, "MSS.00000003", "cloud_services[0].period_type")
	_, err = c.ms.CreateMetaStudioOrders(&model.CreateMetaStudioOrdersRequest{Body: &model.CreateMetaStudioOrdersReq{CloudServices: &[]model.PublicCloudServiceOrder{}}})
	serviceError(t, err, 400, "MSS.00000003", "cloud_services")
	_, err = c.bss.ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{OrderId: "order-nope"})
	serviceError(t, err, 404, "APIG.0101", "order-nope")
	_, err = c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OnlyMainResource: ptr(int32(2))}})
	serviceError(t, err, 400, "MSS.00000003", "only_main_resource")
	_, err = c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{ResourceIds: []string{"nope"}, UnsubscribeType: 1}})
	serviceError(t, err, 404, "APIG.0101", "resource_ids[0]")
	_, err = c.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{ResourceIds: []string{"nope"}, UnsubscribeType: 2}})
	serviceError(t, err, 400, "MSS.00000003", "unsubscribe_type")

	// Tenant isolation: tenant B's BSS client does not see A's order.
	orderID := createOrder(t, c, line)
	other := e.orderClients(t, tenantB, mode)
	_, err = other.bss.ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{OrderId: orderID})
	serviceError(t, err, 404, "APIG.0101")
	q, err := other.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OrderId: &orderID}})
	if err != nil {
		t.Fatal(err)
	}
	if *q.TotalCount != 0 {
		t.Errorf("tenant B sees %d resources of A's order", *q.TotalCount)
	}
	mine, err := c.bss.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{OrderId: &orderID}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.bss.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{Body: &bssmodel.UnsubscribeResourcesReq{ResourceIds: []string{*(*mine.Data)[0].ResourceId}, UnsubscribeType: 1}})
	serviceError(t, err, 404, "APIG.0101")
}
