package apitest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
)

// sdkToken returns an official SDK client for project authenticating with
// a token.
func (e *env) sdkToken(t testing.TB, project string) *metastudio.MetaStudioClient {
	t.Helper()
	return e.sdkWithToken(t, e.token(t, project, time.Now().Add(time.Hour)), project)
}

// surfaceProject creates a project with known packages for the tenant
// surface tests and returns its id.
func surfaceProject(t *testing.T, e *env, id string) {
	t.Helper()
	far := time.Now().Add(365 * 24 * time.Hour).UTC().Truncate(time.Second)
	pkg := func(rid, rtype, business, unit string, amount int64, mut ...func(*allot.Resource)) allot.Resource {
		r := allot.Resource{ProjectID: id, ResourceID: rid, ResourceType: rtype, BusinessType: allot.BusinessType(business),
			ChargingMode: "ONE_TIME", Source: "PURCHASED", OrderID: "order-" + rid, Unit: allot.Unit(unit), Amount: allot.Quantity(amount * allot.QuantityScale), ExpireTime: far}
		for _, m := range mut {
			m(&r)
		}
		return r
	}
	batch := allot.ImportBatch{
		Projects: []allot.Project{{ID: id, Name: "Surface " + id, RegionID: regionID, CreatedAt: baseTime}},
		Resources: []allot.Resource{
			pkg("video", "VIDEO_2D_MIN", "VIDEO_2D", "MIN", 100),
			pkg("chan-1", "Interaction.basic.channel", "CHAT_2D", "CHANNEL", 1),
			pkg("chan-2", "Interaction.basic.channel", "CHAT_2D", "CHANNEL", 1),
			pkg("chan-frozen", "Interaction.basic.channel", "CHAT_2D", "CHANNEL", 1, func(r *allot.Resource) { r.Status = allot.StatusFrozen }),
			pkg("voice-basic", "VOICE_CLONE_BASIC", "VOICE_CLONE", "NUM", 5, func(r *allot.Resource) { r.Usage = 2 * allot.QuantityScale }),
			pkg("voice-advance", "VOICE_CLONE_ADVANCE", "VOICE_CLONE", "NUM", 4),
			pkg("voice-flexus", "FLEXUS_VOICE", "VOICE_CLONE", "NUM", 3, func(r *allot.Resource) { r.SubResourceType, r.IsSubResource = "voice_clone_flexus", true }),
		},
	}
	if err := e.store.Import(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// testSurface drives every tenant-side configuration, quota, agreement and
// data-analysis operation through the official SDK, signing with AK/SK and
// with a token, each on its own project.
func testSurface(t *testing.T, e *env) {
	a := startAdmin(t, e)
	admin := a.key(t, "surface-admin", allot.RoleAdmin, "")
	for _, mode := range []string{"aksk", "token"} {
		t.Run(mode, func(t *testing.T) {
			project := "surface-" + mode
			surfaceProject(t, e, project)
			var client *metastudio.MetaStudioClient
			if mode == "aksk" {
				ak, sk := e.credential(t, project)
				client = e.sdk(t, ak, sk, project)
			} else {
				client = e.sdkToken(t, project)
			}
			s := &surface{a: a, admin: admin, project: project, client: client}
			t.Run("quotas", s.quotas)
			t.Run("usage data", s.usageData)
			t.Run("bind", s.bind)
			t.Run("configs", s.configs)
			t.Run("agreements", s.agreements)
			t.Run("voice", s.voice)
			t.Run("errors", s.errors)
		})
	}
	t.Run("no drift", func(t *testing.T) {
		var d struct {
			Drift []allot.Drift `json:"drift"`
		}
		if status, msg := a.call(t, admin, "GET", "/admin/v1/drift", "", &d); status != 200 || len(d.Drift) != 0 {
			t.Fatalf("drift: %d %s", status, msg)
		}
	})
}

type surface struct {
	a       *adminEnv
	admin   string
	project string
	client  *metastudio.MetaStudioClient
	// made records the usage the test made: entry times and deltas per
	// user, the oracle of the data-analysis checks.
	made []madeUsage
}

type madeUsage struct {
	at     time.Time
	user   string
	amount allot.Quantity
}

// consume meters amount minutes of VIDEO_2D_MIN for user; ok says whether
// allot must accept it.
func (s *surface) consume(t *testing.T, user string, amount int, ok bool) {
	t.Helper()
	key := fmt.Sprintf("c-%s-%d", user, time.Now().UnixNano())
	body := fmt.Sprintf(`{"project_id":%q,"resource_type":"VIDEO_2D_MIN","amount":%d,"idempotency_key":%q,"user_id":%q}`, s.project, amount, key, user)
	if !ok {
		s.a.refuse(t, s.admin, "POST", "/admin/v1/consume", body, 409, "ALLOT.CONFLICT", "quota")
		return
	}
	res := s.a.must(t, s.admin, "POST", "/admin/v1/consume", body, 200)
	for _, en := range res.Entries {
		s.made = append(s.made, madeUsage{at: en.At, user: user, amount: en.UsageDelta})
	}
}

func (s *surface) quotaOf(t *testing.T, user string) model.UserQuotaInfo {
	t.Helper()
	resp, err := s.client.ListUserQuotas(&model.ListUserQuotasRequest{UserId: &user})
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Count != 1 || len(*resp.Assets) != 1 {
		t.Fatalf("ListUserQuotas(%s): count %d, %d assets", user, *resp.Count, len(*resp.Assets))
	}
	return (*resp.Assets)[0]
}

// quotas is the scenario: with sub-account control on, a user with a
// quota of 10 minutes consumes 6 then 6; the second is refused and usage
// stays 6; after UpdateUserQuotas(-1) it succeeds.
func (s *surface) quotas(t *testing.T) {
	// Off by default: a quota does not bind until sub-account control is on.
	cfg, err := s.client.ShowTenantServiceConfigs(&model.ShowTenantServiceConfigsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.SubAccountControlConfig; c == nil || c.SeparatelyControlled == nil || *c.SeparatelyControlled {
		t.Fatalf("sub-account control of a new tenant: %+v, want off", c)
	}
	if _, err := s.client.CreateUserQuotas(&model.CreateUserQuotasRequest{Body: &model.CreateUserQuotaInfo{UserId: "u1",
		Quota: &model.UserQuotaDetail{VideoTime2dModel: ptr(int32(10))}}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.client.CreateUserQuotas(&model.CreateUserQuotasRequest{Body: &model.CreateUserQuotaInfo{UserId: "u1", Quota: &model.UserQuotaDetail{}}})
	serviceError(t, err, 409, "MSS.00000003", "u1")

	upd, err := s.client.UpdateTenantServiceConfigs(&model.UpdateTenantServiceConfigsRequest{Body: &model.UpdateTenantServiceConfigsReq{
		SubAccountControlConfig: &model.SubAccountControlConfig{SeparatelyControlled: ptr(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	if !*upd.SubAccountControlConfig.SeparatelyControlled || *upd.TenantId != s.project {
		t.Fatalf("UpdateTenantServiceConfigs: %+v", upd)
	}

	s.consume(t, "u1", 6, true)
	s.consume(t, "u1", 6, false)
	q := s.quotaOf(t, "u1")
	if *q.Usage.VideoTime2dModel != 6 || *q.Quota.VideoTime2dModel != 10 {
		t.Fatalf("after 6 and a refused 6: usage %v of %v, want 6 of 10", *q.Usage.VideoTime2dModel, *q.Quota.VideoTime2dModel)
	}
	if *q.Quota.VoiceCloneBasic != -1 {
		t.Fatalf("an unset field: %v, want -1", *q.Quota.VoiceCloneBasic)
	}
	if _, err := s.client.UpdateUserQuotas(&model.UpdateUserQuotasRequest{UserId: "u1", Body: &model.UpdateUserQuotaInfo{
		Quota: &model.UserQuotaDetail{VideoTime2dModel: ptr(int32(-1))}}}); err != nil {
		t.Fatal(err)
	}
	s.consume(t, "u1", 6, true)
	if q := s.quotaOf(t, "u1"); *q.Usage.VideoTime2dModel != 12 || *q.Quota.VideoTime2dModel != -1 {
		t.Fatalf("after -1: usage %v of %v, want 12 of -1", *q.Usage.VideoTime2dModel, *q.Quota.VideoTime2dModel)
	}

	// Reservations: a hold counts against the quota; its commit settles.
	if _, err := s.client.UpdateUserQuotas(&model.UpdateUserQuotasRequest{UserId: "u1", Body: &model.UpdateUserQuotaInfo{
		Quota: &model.UserQuotaDetail{VideoTime2dModel: ptr(int32(15))}}}); err != nil {
		t.Fatal(err)
	}
	reserve := func(amount int, key string) string {
		return fmt.Sprintf(`{"project_id":%q,"resource_type":"VIDEO_2D_MIN","amount":%d,"ttl":600,"idempotency_key":%q,"user_id":"u1"}`, s.project, amount, key)
	}
	var held allot.ReservationResult
	if status, msg := s.a.call(t, s.admin, "POST", "/admin/v1/reservations", reserve(3, "r-1"), &held); status != 201 {
		t.Fatalf("reserve 3 of the 3 left: %d %s", status, msg)
	}
	s.a.refuse(t, s.admin, "POST", "/admin/v1/reservations", reserve(1, "r-2"), 409, "ALLOT.CONFLICT", "quota")
	var done allot.ReservationResult
	if status, msg := s.a.call(t, s.admin, "POST", "/admin/v1/reservations/"+held.ReservationID+"/commit", `{"amount":3,"idempotency_key":"k-1"}`, &done); status != 200 {
		t.Fatalf("commit: %d %s", status, msg)
	}
	for _, en := range done.Entries {
		s.made = append(s.made, madeUsage{at: en.At, user: "u1", amount: en.UsageDelta})
	}
	if q := s.quotaOf(t, "u1"); *q.Usage.VideoTime2dModel != 15 {
		t.Fatalf("after the commit: usage %v, want 15", *q.Usage.VideoTime2dModel)
	}
	s.consume(t, "u1", 1, false)

	// A user without a quota is not limited; a second user is listed too.
	s.consume(t, "u2", 2, true)
	if _, err := s.client.CreateUserQuotas(&model.CreateUserQuotasRequest{Body: &model.CreateUserQuotaInfo{UserId: "u2",
		Quota: &model.UserQuotaDetail{VoiceCloneBasic: ptr(int32(3))}}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.client.ListUserQuotas(&model.ListUserQuotasRequest{Limit: ptr(int32(1)), Offset: ptr(int32(1))})
	if err != nil {
		t.Fatal(err)
	}
	if *all.Count != 2 || len(*all.Assets) != 1 || (*all.Assets)[0].UserId != "u2" || *(*all.Assets)[0].Usage.VideoTime2dModel != 2 {
		t.Fatalf("ListUserQuotas page 2: %+v", all)
	}
	if _, err := s.client.DeleteUserQuotas(&model.DeleteUserQuotasRequest{UserId: "u2"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.client.DeleteUserQuotas(&model.DeleteUserQuotasRequest{UserId: "u2"})
	serviceError(t, err, 400, "MSS.00000003", "user_id")
	_, err = s.client.UpdateUserQuotas(&model.UpdateUserQuotasRequest{UserId: "nobody", Body: &model.UpdateUserQuotaInfo{Quota: &model.UserQuotaDetail{}}})
	serviceError(t, err, 400, "MSS.00000003", "user_id")
}

// usageData checks ShowUsageData and ShowSummaryUsageData against the
// usage the quota scenario made, summed here from the consume answers.
func (s *surface) usageData(t *testing.T) {
	if len(s.made) == 0 {
		t.Fatal("no usage to check: the quotas subtest makes it, and runs first")
	}
	type dayKey struct {
		day  string
		user string
	}
	want := map[dayKey]allot.Quantity{}
	for _, m := range s.made {
		d := time.Date(m.at.Year(), m.at.Month(), m.at.Day(), 0, 0, 0, 0, time.UTC).UTC().Format(time.RFC3339)
		want[dayKey{d, m.user}] += m.amount
		want[dayKey{d, ""}] += m.amount
	}
	start := s.made[0].at.Add(-48 * time.Hour).Format(time.RFC3339)
	end := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		user, unit string
	}{{"", "MIN"}, {"u1", "MIN"}, {"u2", "HOUR"}, {"u1", "HOUR"}} {
		req := &model.ShowUsageDataRequest{StartTime: start, EndTime: end, Limit: ptr(int32(1000))}
		if c.user != "" {
			req.UserId = ptr(c.user)
		}
		var unit model.ShowUsageDataRequestUnit
		if err := unit.UnmarshalJSON([]byte(`"` + c.unit + `"`)); err != nil {
			t.Fatal(err)
		}
		req.Unit = &unit
		resp, err := s.client.ShowUsageData(req)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, tl := range *resp.TimeList {
			for _, u := range *tl.ResourcesUsage {
				if *u.ResourceType != "VIDEO_2D_MIN" || u.Unit.Value() != c.unit {
					t.Fatalf("usage of %s in %s, want VIDEO_2D_MIN in %s", *u.ResourceType, u.Unit.Value(), c.unit)
				}
				got[*tl.Time] += float64(*u.Usage)
			}
		}
		wantDays := map[string]float64{}
		for k, q := range want {
			if k.user == c.user {
				v := float64(q) / allot.QuantityScale
				if c.unit == "HOUR" {
					v /= 60
				}
				wantDays[k.day] = float64(float32(v))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(wantDays) || int(*resp.Count) != len(wantDays) {
			t.Fatalf("user %q in %s: %v (count %d), want %v", c.user, c.unit, got, *resp.Count, wantDays)
		}
	}
	// The resource_type filter takes the quota field the SDK documents.
	for rt, n := range map[string]int{"video_time_2d_model": 1, "VIDEO_2D_MIN": 1, "video_time_flexus_2d_model": 0} {
		resp, err := s.client.ShowUsageData(&model.ShowUsageDataRequest{StartTime: start, EndTime: end, ResourceType: ptr(rt)})
		if err != nil {
			t.Fatal(err)
		}
		if days := len(*resp.TimeList); (days > 0) != (n > 0) {
			t.Fatalf("resource_type %s: %d days", rt, days)
		}
	}
	var total allot.Quantity
	number := 0
	for _, m := range s.made {
		total += m.amount
		number++
	}
	sum, err := s.client.ShowSummaryUsageData(&model.ShowSummaryUsageDataRequest{BusinessType: ptr("VIDEO_2D")})
	if err != nil {
		t.Fatal(err)
	}
	if *sum.Usage != float32Of(total) || int(*sum.Number) != number || sum.Unit.Value() != "MIN" || *sum.BusinessType != "VIDEO_2D" {
		t.Fatalf("summary: usage %v number %d unit %s, want %v %d MIN", *sum.Usage, *sum.Number, sum.Unit.Value(), float32Of(total), number)
	}
	sum, err = s.client.ShowSummaryUsageData(&model.ShowSummaryUsageDataRequest{XAppUserId: ptr("nobody")})
	if err != nil {
		t.Fatal(err)
	}
	if *sum.Usage != 0 || *sum.Number != 0 {
		t.Fatalf("summary of an app user with none: %v %d", *sum.Usage, *sum.Number)
	}
	_, err = s.client.ShowUsageData(&model.ShowUsageDataRequest{StartTime: start, EndTime: end, Limit: ptr(int32(1001))})
	serviceError(t, err, 400, "MSS.00000003", "limit")
	_, err = s.client.ShowUsageData(&model.ShowUsageDataRequest{StartTime: end, EndTime: start})
	serviceError(t, err, 400, "MSS.00000003", "end_time")
	_, err = s.client.ShowUsageData(&model.ShowUsageDataRequest{StartTime: "yesterday", EndTime: end})
	serviceError(t, err, 400, "MSS.00000003", "start_time")
}

func (s *surface) boundTo(t *testing.T, asset string) []string {
	t.Helper()
	resp, err := s.client.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED", Limit: ptr(int32(100))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range *resp.Resources {
		if r.BoundAsset != nil && r.BoundAsset.AssetId != nil && *r.BoundAsset.AssetId == asset {
			ids = append(ids, *r.ResourceId)
		}
	}
	return ids
}

func (s *surface) ledgerCount(t *testing.T) int {
	t.Helper()
	var l struct {
		Count int `json:"count"`
	}
	if status, msg := s.a.call(t, s.admin, "GET", "/admin/v1/ledger?project_id="+s.project, "", &l); status != 200 {
		t.Fatalf("ledger: %d %s", status, msg)
	}
	return l.Count
}

func (s *surface) bind(t *testing.T) {
	bind := func(asset, business string) error {
		resp, err := s.client.BindUserAssetResource(&model.BindUserAssetResourceRequest{Body: &model.BindAssetResourceReq{AssetId: &asset, BusinessType: &business}})
		if err == nil && resp.HttpStatusCode != 200 {
			t.Fatalf("bind answered %d, want 200", resp.HttpStatusCode)
		}
		return err
	}
	if err := bind("asset-1", "Interaction.basic.channel"); err != nil {
		t.Fatal(err)
	}
	if got := s.boundTo(t, "asset-1"); !slices.Equal(got, []string{"chan-1"}) {
		t.Fatalf("asset-1 bound to %v, want chan-1", got)
	}
	before := s.ledgerCount(t)
	if err := bind("asset-1", "Interaction.basic.channel"); err != nil {
		t.Fatal(err)
	}
	if got, n := s.boundTo(t, "asset-1"), s.ledgerCount(t); !slices.Equal(got, []string{"chan-1"}) || n != before {
		t.Fatalf("binding again: %v, %d entries (was %d)", got, n, before)
	}
	if err := bind("asset-2", "Interaction.basic.channel"); err != nil {
		t.Fatal(err)
	}
	if got := s.boundTo(t, "asset-2"); !slices.Equal(got, []string{"chan-2"}) {
		t.Fatalf("asset-2 bound to %v, want chan-2", got)
	}
	// The frozen one is not free: none is left.
	serviceError(t, bind("asset-3", "Interaction.basic.channel"), 400, "MSS.00000003", "business_type")
	// No package has the type VOICE_CLONE: its business type matches.
	if err := bind("asset-v", "VOICE_CLONE"); err != nil {
		t.Fatal(err)
	}
	if got := s.boundTo(t, "asset-v"); !slices.Equal(got, []string{"voice-basic"}) {
		t.Fatalf("asset-v bound to %v, want voice-basic", got)
	}
	serviceError(t, bind("asset 4", "VOICE_CLONE"), 400, "MSS.00000003", "asset_id")
	_, err := s.client.BindUserAssetResource(&model.BindUserAssetResourceRequest{Body: &model.BindAssetResourceReq{AssetId: ptr("a")}})
	serviceError(t, err, 400, "MSS.00000003", "business_type")
}

func (s *surface) configs(t *testing.T) {
	voice := model.GetCollectionInfoCollectionTypeEnum().VOICE
	if _, err := s.client.SetTenantUserConfiguration(&model.SetTenantUserConfigurationRequest{Body: &model.SetTenantUserConfigurationReq{
		MyCollections: &[]model.CollectionInfo{{CollectionType: &voice, CollectionIds: &[]string{"v-1", "v-2", "v-3"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.DeleteTenantUserConfiguration(&model.DeleteTenantUserConfigurationRequest{Body: &model.DeleteTenantUserConfigurationReq{
		MyCollections: &[]model.CollectionInfo{{CollectionType: &voice, CollectionIds: &[]string{"v-2"}}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.client.ShowTenantUserConfiguration(&model.ShowTenantUserConfigurationRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if c := *got.MyCollections; len(c) != 1 || c[0].CollectionType.Value() != "VOICE" || !slices.Equal(*c[0].CollectionIds, []string{"v-1", "v-3"}) {
		t.Fatalf("collections: %+v", c)
	}
	if _, err := s.client.SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{
		Type: "RESOURCE_LEFT", SendMsg: ptr(true), Properties: ptr(`{"threshold":10}`)}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.client.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: "RESOURCE_LEFT"})
	if err != nil {
		t.Fatal(err)
	}
	if *n.Type != "RESOURCE_LEFT" || !*n.SendMsg || *n.Properties != `{"threshold":10}` {
		t.Fatalf("notice: %+v", n)
	}
	n, err = s.client.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: "RESOURCE_EXPIRE"})
	if err != nil {
		t.Fatal(err)
	}
	if *n.SendMsg {
		t.Fatal("a notice never set sends messages")
	}
	_, err = s.client.SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{Type: "SOMETIMES"}})
	serviceError(t, err, 400, "MSS.00000003", "type")
}

func (s *surface) agreements(t *testing.T) {
	before := time.Now().Add(-time.Second)
	a, err := s.client.SignAgreement(&model.SignAgreementRequest{})
	if err != nil {
		t.Fatal(err)
	}
	signed, perr := time.Parse(time.RFC3339, *a.SignedTime)
	if a.HttpStatusCode != 200 || *a.SignedVersion != *a.CurrentVersion || *a.NeedToSign || perr != nil || signed.Before(before.Truncate(time.Second)) {
		t.Fatalf("SignAgreement: %d %+v", a.HttpStatusCode, a)
	}
	sp, err := s.client.SignSpecialAgreement(&model.SignSpecialAgreementRequest{Body: &model.SpecialAgreementSignReq{AgreementType: "AUTO_PAY", ToSign: true}})
	if err != nil {
		t.Fatal(err)
	}
	if sp.HttpStatusCode != 200 || *sp.AgreementType != "AUTO_PAY" || *sp.SignedVersion == "" {
		t.Fatalf("SignSpecialAgreement: %d %+v", sp.HttpStatusCode, sp)
	}
	// Signing again keeps the first signature.
	again, err := s.client.SignSpecialAgreement(&model.SignSpecialAgreementRequest{Body: &model.SpecialAgreementSignReq{AgreementType: "AUTO_PAY", ToSign: true}})
	if err != nil || *again.SignedTime != *sp.SignedTime {
		t.Fatalf("signing again: %v %+v", err, again)
	}
	un, err := s.client.SignSpecialAgreement(&model.SignSpecialAgreementRequest{Body: &model.SpecialAgreementSignReq{AgreementType: "AUTO_PAY", ToSign: false}})
	if err != nil || un.HttpStatusCode != 200 || un.SignedVersion != nil {
		t.Fatalf("withdrawing: %v %+v", err, un)
	}
	_, err = s.client.SignSpecialAgreement(&model.SignSpecialAgreementRequest{Body: &model.SpecialAgreementSignReq{AgreementType: "FREE_LUNCH", ToSign: true}})
	serviceError(t, err, 400, "MSS.00000003", "agreement_type")
}

func (s *surface) voice(t *testing.T) {
	resp, err := s.client.ShowVoiceTrainingQuotas(&model.ShowVoiceTrainingQuotasRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n := resp.ResourceAvailableNums
	if *resp.Count != 3 || *n.Basic != 3 || *n.Advance != 4 || *n.Flexus != 3 || *n.Middle != 0 {
		t.Fatalf("voice quotas: count %d, available %+v", *resp.Count, n)
	}
	levels := map[string]string{}
	for _, r := range *resp.Resources {
		levels[*r.ResourceId] = r.ResourceType.Value()
	}
	if fmt.Sprint(levels) != "map[voice-advance:ADVANCE voice-basic:BASIC voice-flexus:FLEXUS]" {
		t.Fatalf("levels: %v", levels)
	}
	cfg, err := s.client.ShowTenantDurationCfg(&model.ShowTenantDurationCfgRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.TenantId != s.project || *cfg.BasicMin != allot.DefaultDurationCfg.BasicMin || *cfg.ShortAssessMax != allot.DefaultDurationCfg.ShortAssessMax {
		t.Fatalf("duration cfg: %+v", cfg)
	}
}

// errors: refusals carry MSS codes and a request id, name the parameter,
// and a tenant never reaches another's settings.
func (s *surface) errors(t *testing.T) {
	_, err := s.client.CreateUserQuotas(&model.CreateUserQuotasRequest{Body: &model.CreateUserQuotaInfo{UserId: "u9",
		Quota: &model.UserQuotaDetail{VideoTime2dModel: ptr(int32(-2))}}})
	serviceError(t, err, 400, "MSS.00000003", "quota.video_time_2d_model")
	_, err = s.client.ListUserQuotas(&model.ListUserQuotasRequest{Limit: ptr(int32(0))})
	serviceError(t, err, 400, "MSS.00000003", "limit")
	_, err = s.client.UpdateTenantServiceConfigs(&model.UpdateTenantServiceConfigsRequest{Body: &model.UpdateTenantServiceConfigsReq{
		SubAccountControlConfig: &model.SubAccountControlConfig{SubAccountType: ptr("ROOT")}}})
	serviceError(t, err, 400, "MSS.00000003", "sub_account_type")
	// Each project sees its own quotas only: both projects have a u1.
	resp, err := s.client.ListUserQuotas(&model.ListUserQuotasRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Count != 1 || (*resp.Assets)[0].UserId != "u1" {
		t.Fatalf("quotas of %s: %+v", s.project, resp)
	}
}
