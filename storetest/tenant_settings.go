package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunTenantSettings runs the suite of allot.TenantSettings and of the rules
// built on it: settings kept per tenant, the usage entries and user charges
// read from the ledger, and user quotas binding consume, reserve and commit
// inside Update. open returns a new, empty store for one test.
func RunTenantSettings(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("Settings", func(t *testing.T) { t.Parallel(); testSettings(t, open(t)) })
	t.Run("UsageEntries", func(t *testing.T) { t.Parallel(); testUsageEntries(t, open(t)) })
	t.Run("Quotas", func(t *testing.T) { t.Parallel(); testQuotas(t, open(t)) })
	t.Run("Bind", func(t *testing.T) { t.Parallel(); testTenantBind(t, open(t)) })
}

func code(err error) allot.ErrorCode { return allot.ErrorCodeOf(err) }

func testSettings(t *testing.T, s allot.Store) {
	ctx := t.Context()
	MustCreateProject(t, s, NewProject("p-1", ""))
	MustCreateProject(t, s, NewProject("p-2", ""))
	put := func(p, name, v string) {
		t.Helper()
		if err := s.PutSetting(ctx, allot.Setting{ProjectID: p, Kind: allot.SettingUserQuota, Name: name, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"u-c", "u-a", "u-b"} {
		put("p-1", n, `{"n":"`+n+`"}`)
	}
	put("p-2", "u-a", `{"n":"other"}`)
	put("p-1", "u-a", `{"n":"again"}`) // replaces

	if err := s.InsertSetting(ctx, allot.Setting{ProjectID: "p-1", Kind: allot.SettingUserQuota, Name: "u-a", Value: []byte(`{}`)}); code(err) != allot.ECONFLICT {
		t.Fatalf("InsertSetting of an existing name: %v, want ECONFLICT", err)
	}
	if err := s.InsertSetting(ctx, allot.Setting{ProjectID: "p-1", Kind: allot.SettingUserConfig, Name: "u-a", Value: []byte(`{}`)}); err != nil {
		t.Fatalf("the same name in another kind: %v", err)
	}
	if err := s.PutSetting(ctx, allot.Setting{ProjectID: "nobody", Kind: allot.SettingUserConfig, Value: []byte(`{}`)}); code(err) != allot.ENOTFOUND {
		t.Fatalf("PutSetting on a missing project: %v, want ENOTFOUND", err)
	}
	got, err := s.FindSetting(ctx, "p-1", allot.SettingUserQuota, "u-a")
	if err != nil || string(got.Value) != `{"n":"again"}` || got.UpdatedAt.IsZero() || got.ProjectID != "p-1" {
		t.Fatalf("FindSetting: %+v %v", got, err)
	}
	if got, err := s.FindSetting(ctx, "p-2", allot.SettingUserQuota, "u-a"); err != nil || string(got.Value) != `{"n":"other"}` {
		t.Fatalf("the other tenant's: %s %v", got.Value, err)
	}
	if _, err := s.FindSetting(ctx, "p-2", allot.SettingUserQuota, "u-b"); code(err) != allot.ENOTFOUND {
		t.Fatalf("another tenant's name: %v, want ENOTFOUND", err)
	}

	list, n, err := s.ListSettings(ctx, "p-1", allot.SettingUserQuota, "", allot.Page{Limit: 2, Offset: 1})
	if err != nil || n != 3 || len(list) != 2 || list[0].Name != "u-b" || list[1].Name != "u-c" {
		t.Fatalf("ListSettings page: %d %+v %v", n, list, err)
	}
	if list, n, err := s.ListSettings(ctx, "p-1", allot.SettingUserQuota, "", allot.Page{Limit: 2, Offset: 5}); err != nil || n != 3 || len(list) != 0 {
		t.Fatalf("ListSettings past the end: %d %d %v", n, len(list), err)
	}
	if list, n, err := s.ListSettings(ctx, "p-1", allot.SettingUserQuota, "u-b", allot.Page{Limit: 10}); err != nil || n != 1 || len(list) != 1 || string(list[0].Value) != `{"n":"u-b"}` {
		t.Fatalf("ListSettings of one name: %d %+v %v", n, list, err)
	}
	if err := s.DeleteSetting(ctx, "p-2", allot.SettingUserQuota, "u-b"); code(err) != allot.ENOTFOUND {
		t.Fatalf("deleting another tenant's name: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteSetting(ctx, "p-1", allot.SettingUserQuota, "u-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSetting(ctx, "p-1", allot.SettingUserQuota, "u-b"); code(err) != allot.ENOTFOUND {
		t.Fatalf("deleting twice: %v, want ENOTFOUND", err)
	}
	if _, n, _ := s.ListSettings(ctx, "p-1", allot.SettingUserQuota, "", allot.Page{Limit: 10}); n != 2 {
		t.Fatalf("after the delete: %d settings, want 2", n)
	}

	// Inside Update, a setting reads as committed.
	err = s.Update(ctx, []string{"p-1"}, func(tx allot.Tx) error {
		st, ok, err := tx.Setting("p-1", allot.SettingUserQuota, "u-c")
		if err != nil || !ok || string(st.Value) != `{"n":"u-c"}` {
			return fmt.Errorf("tx.Setting: %+v %v %v", st, ok, err)
		}
		if _, ok, err := tx.Setting("p-1", allot.SettingUserQuota, "u-b"); ok || err != nil {
			return fmt.Errorf("tx.Setting of a deleted one: %v %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// usable returns a package that can be consumed from now on.
func usable(projectID, id, rtype string, business allot.BusinessType, amount int64) allot.Resource {
	r := NewResource(projectID, id)
	r.ResourceType, r.BusinessType, r.Unit = rtype, business, "MIN"
	r.Amount, r.Usage = allot.Quantity(amount*allot.QuantityScale), 0
	r.ExpireTime = time.Now().AddDate(1, 0, 0).UTC().Truncate(time.Second)
	return r
}

var meter = allot.Actor{ID: "meter", Role: allot.RoleAdmin}

func mustConsume(t *testing.T, svc *allot.Service, p, rtype, user string, amount int64) allot.OpResult {
	t.Helper()
	res, err := svc.Consume(t.Context(), meter, allot.ConsumeRequest{ProjectID: p, ResourceType: rtype, Amount: allot.Quantity(amount * allot.QuantityScale),
		IdempotencyKey: fmt.Sprintf("k-%d", time.Now().UnixNano()), Attribution: allot.Attribution{UserID: user}})
	if err != nil {
		t.Fatalf("consume %d of %s for %q: %v", amount, rtype, user, err)
	}
	return res
}

func testUsageEntries(t *testing.T, s allot.Store) {
	ctx := t.Context()
	svc := &allot.Service{Store: s}
	MustCreateProject(t, s, NewProject("p-1", ""))
	MustCreateProject(t, s, NewProject("p-2", ""))
	MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{
		usable("p-1", "v", "VIDEO_2D_MIN", "VIDEO_2D", 100), usable("p-2", "v", "VIDEO_2D_MIN", "VIDEO_2D", 100),
	}})
	want := map[string]allot.Quantity{}
	for i, user := range []string{"u1", "u2", "u1", "", "u1"} {
		mustConsume(t, svc, "p-1", "VIDEO_2D_MIN", user, int64(i+1))
		want[user] += allot.Quantity(int64(i+1) * allot.QuantityScale)
	}
	mustConsume(t, svc, "p-2", "VIDEO_2D_MIN", "u1", 50)
	if _, err := svc.Refund(ctx, meter, allot.RefundRequest{ResourceRef: allot.ResourceRef{ProjectID: "p-1", ResourceID: "v"},
		Amount: allot.QuantityScale, Reason: "bad take", IdempotencyKey: "refund-1"}); err != nil {
		t.Fatal(err)
	}

	// Paging by AfterSeq walks every usage entry of p-1 once, in seq order.
	var all []allot.UsageEntry
	q := allot.UsageQuery{ProjectID: "p-1", Limit: 2}
	for {
		page, err := s.UsageEntries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			break
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
	if len(all) != 6 {
		t.Fatalf("%d usage entries, want 5 consumes and a refund (no import entry): %+v", len(all), all)
	}
	var sum allot.Quantity
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatal("entries out of seq order")
		}
		if e.ResourceType != "VIDEO_2D_MIN" || e.BusinessType != "VIDEO_2D" || e.Unit != "MIN" || e.Source != allot.SourcePurchased || e.ResourceID != "v" {
			t.Fatalf("entry attributes: %+v", e)
		}
		sum += e.UsageDelta
	}
	if last := all[5]; last.Op != allot.OpRefund || last.UsageDelta != -allot.QuantityScale {
		t.Fatalf("the refund: %+v", last)
	}
	if sum != 14*allot.QuantityScale {
		t.Fatalf("net usage %s, want 14", sum)
	}
	u1, err := s.UsageEntries(ctx, allot.UsageQuery{ProjectID: "p-1", UserID: "u1", Limit: 100})
	if err != nil || len(u1) != 3 {
		t.Fatalf("u1's entries: %d %v", len(u1), err)
	}
	future := time.Now().Add(time.Hour)
	if none, err := s.UsageEntries(ctx, allot.UsageQuery{ProjectID: "p-1", From: &future, Limit: 100}); err != nil || len(none) != 0 {
		t.Fatalf("entries from the future: %d %v", len(none), err)
	}
	at := all[0].At
	if none, err := s.UsageEntries(ctx, allot.UsageQuery{ProjectID: "p-1", To: &at, Limit: 100}); err != nil || len(none) != 0 {
		t.Fatalf("To is exclusive: %d %v", len(none), err)
	}
	if _, err := s.UsageEntries(ctx, allot.UsageQuery{ProjectID: "p-1"}); code(err) != allot.EINVALID {
		t.Fatalf("no limit: %v, want EINVALID", err)
	}

	// UserCharges: each user's own usage, on its own project.
	for user, w := range want {
		if user == "" {
			continue
		}
		rows, err := s.UserCharges(ctx, "p-1", user)
		if err != nil || len(rows) != 1 || rows[0].Usage != w || rows[0].Held != 0 || rows[0].BusinessType != "VIDEO_2D" {
			t.Fatalf("charges of %s: %+v %v, want %s", user, rows, err, w)
		}
	}
	if rows, err := s.UserCharges(ctx, "p-1", ""); err != nil || len(rows) != 0 {
		t.Fatalf("charges of no user: %+v %v", rows, err)
	}
	if rows, err := s.UserCharges(ctx, "p-2", "u1"); err != nil || len(rows) != 1 || rows[0].Usage != 50*allot.QuantityScale {
		t.Fatalf("u1 on p-2: %+v %v", rows, err)
	}

	// AggregateUsage over the store: one day bucket holding the net usage.
	buckets, err := allot.AggregateUsage(ctx, s, allot.UsageFilter{ProjectID: "p-1", Group: allot.GroupHour})
	if err != nil {
		t.Fatal(err)
	}
	var total allot.Quantity
	number := 0
	for _, b := range buckets {
		total += b.Usage
		number += b.Number
	}
	if total != sum || number != 5 {
		t.Fatalf("buckets %+v: total %s number %d, want %s and 5", buckets, total, number, sum)
	}
}

func setQuota(t *testing.T, s allot.Store, p, user string, limits map[string]int64) {
	t.Helper()
	b, _ := json.Marshal(allot.UserQuota{UserID: user, Limits: limits})
	if err := s.PutSetting(t.Context(), allot.Setting{ProjectID: p, Kind: allot.SettingUserQuota, Name: user, Value: b}); err != nil {
		t.Fatal(err)
	}
}

func setControl(t *testing.T, s allot.Store, p string, on bool) {
	t.Helper()
	b, _ := json.Marshal(allot.ServiceConfigs{SeparatelyControlled: on})
	if err := s.PutSetting(t.Context(), allot.Setting{ProjectID: p, Kind: allot.SettingServiceConfigs, Value: b}); err != nil {
		t.Fatal(err)
	}
}

func testQuotas(t *testing.T, s allot.Store) {
	ctx := context.Background()
	svc := &allot.Service{Store: s}
	MustCreateProject(t, s, NewProject("p-1", ""))
	MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{
		usable("p-1", "v", "VIDEO_2D_MIN", "VIDEO_2D", 100), usable("p-1", "m", "MODEL", "MODELING_2D", 100),
	}})
	consume := func(user string, amount int64) error {
		_, err := svc.Consume(ctx, meter, allot.ConsumeRequest{ProjectID: "p-1", ResourceType: "VIDEO_2D_MIN", Amount: allot.Quantity(amount * allot.QuantityScale),
			IdempotencyKey: fmt.Sprintf("q-%d", time.Now().UnixNano()), Attribution: allot.Attribution{UserID: user}})
		return err
	}
	setQuota(t, s, "p-1", "u1", map[string]int64{"video_time_2d_model": 10})
	// Sub-account control off: the quota does not bind.
	if err := consume("u1", 11); err != nil {
		t.Fatalf("with control off: %v", err)
	}
	setControl(t, s, "p-1", true)
	if err := consume("u1", 1); code(err) != allot.ECONFLICT {
		t.Fatalf("past the quota: %v, want ECONFLICT", err)
	}
	setQuota(t, s, "p-1", "u2", map[string]int64{"video_time_2d_model": 10, "modeling_count_2d_model": 0})
	if err := consume("u2", 6); err != nil {
		t.Fatal(err)
	}
	if err := consume("u2", 6); code(err) != allot.ECONFLICT {
		t.Fatalf("6 then 6 of 10: %v, want ECONFLICT", err)
	}
	if rows, _ := s.UserCharges(ctx, "p-1", "u2"); len(rows) != 1 || rows[0].Usage != 6*allot.QuantityScale {
		t.Fatalf("a refused consume changed the usage: %+v", rows)
	}
	if err := consume("u2", 4); err != nil {
		t.Fatalf("up to the quota exactly: %v", err)
	}
	// Another field's limit does not touch this one; a user without a quota
	// and a consume without a user are not limited.
	if _, err := svc.Consume(ctx, meter, allot.ConsumeRequest{ProjectID: "p-1", ResourceType: "MODEL", Amount: allot.QuantityScale,
		IdempotencyKey: "model-1", Attribution: allot.Attribution{UserID: "u2"}}); code(err) != allot.ECONFLICT {
		t.Fatalf("a zero quota: %v, want ECONFLICT", err)
	}
	if err := consume("u3", 50); err != nil {
		t.Fatal(err)
	}
	if err := consume("", 5); err != nil {
		t.Fatal(err)
	}
	setQuota(t, s, "p-1", "u2", map[string]int64{"video_time_2d_model": allot.Unlimited})
	if err := consume("u2", 6); err != nil {
		t.Fatalf("unlimited: %v", err)
	}

	// Reservations: a hold counts as used; the commit settles within the quota.
	setQuota(t, s, "p-1", "u4", map[string]int64{"video_time_2d_model": 5})
	reserve := func(amount int64, key string) (allot.ReservationResult, error) {
		return svc.Reserve(ctx, meter, allot.ReserveRequest{ProjectID: "p-1", ResourceType: "VIDEO_2D_MIN", Amount: allot.Quantity(amount * allot.QuantityScale),
			TTL: 600, IdempotencyKey: key, Attribution: allot.Attribution{UserID: "u4"}})
	}
	v, err := reserve(4, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reserve(2, "r-2"); code(err) != allot.ECONFLICT {
		t.Fatalf("a hold past the quota: %v, want ECONFLICT", err)
	}
	if rows, _ := s.UserCharges(ctx, "p-1", "u4"); len(rows) != 1 || rows[0].Held != 4*allot.QuantityScale || rows[0].Usage != 0 {
		t.Fatalf("u4 holding 4: %+v", rows)
	}
	// The quota is lowered under the hold: its commit is refused, then
	// settles once the quota allows it.
	setQuota(t, s, "p-1", "u4", map[string]int64{"video_time_2d_model": 2})
	commit := allot.CommitRequest{ReservationID: v.ReservationID, Amount: 3 * allot.QuantityScale, IdempotencyKey: "c-1"}
	if _, err := svc.Commit(ctx, meter, commit); code(err) != allot.ECONFLICT {
		t.Fatalf("a commit past a lowered quota: %v, want ECONFLICT", err)
	}
	setQuota(t, s, "p-1", "u4", map[string]int64{"video_time_2d_model": 3})
	commit.IdempotencyKey = "c-2"
	if _, err := svc.Commit(ctx, meter, commit); err != nil {
		t.Fatal(err)
	}
	if rows, _ := s.UserCharges(ctx, "p-1", "u4"); len(rows) != 1 || rows[0].Held != 0 || rows[0].Usage != 3*allot.QuantityScale {
		t.Fatalf("u4 after the commit: %+v", rows)
	}
	if d, err := s.Drift(ctx); err != nil || len(d) != 0 {
		t.Fatalf("drift: %+v %v", d, err)
	}
}

func testTenantBind(t *testing.T, s allot.Store) {
	ctx := t.Context()
	tenants := &allot.Tenants{Store: s}
	MustCreateProject(t, s, NewProject("p-1", ""))
	MustCreateProject(t, s, NewProject("p-2", ""))
	frozen := usable("p-1", "c-0", "Interaction.basic.channel", "CHAT_2D", 1)
	frozen.Status = allot.StatusFrozen
	MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{
		frozen, usable("p-1", "c-1", "Interaction.basic.channel", "CHAT_2D", 1), usable("p-1", "v-1", "VOICE", "VOICE_CLONE", 1),
		usable("p-2", "c-1", "Interaction.basic.channel", "CHAT_2D", 1),
	}})
	if err := tenants.BindUserAsset(ctx, "p-1", "a-1", "Interaction.basic.channel"); err != nil {
		t.Fatal(err)
	}
	if err := tenants.BindUserAsset(ctx, "p-1", "a-1", "Interaction.basic.channel"); err != nil {
		t.Fatalf("binding again: %v", err)
	}
	if err := tenants.BindUserAsset(ctx, "p-1", "a-2", "Interaction.basic.channel"); code(err) != allot.EINVALID {
		t.Fatalf("none free (one frozen): %v, want EINVALID", err)
	}
	if err := tenants.BindUserAsset(ctx, "p-1", "a-3", "CHAT_2D"); code(err) != allot.EINVALID {
		t.Fatalf("by business type, none free: %v, want EINVALID", err)
	}
	if err := tenants.BindUserAsset(ctx, "p-1", "a-4", "VOICE_CLONE"); err != nil {
		t.Fatalf("by business type: %v", err)
	}
	var binds []string
	entries, _, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-1", Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Op == allot.OpBindAsset {
			binds = append(binds, e.ResourceID+"="+e.Ref)
		}
	}
	if fmt.Sprint(binds) != "[c-1=a-1 v-1=a-4]" {
		t.Fatalf("bind entries %v", binds)
	}
	// p-2's package is p-2's: binding on p-1 never reached it.
	if entries, _, _ := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-2", Page: allot.Page{Limit: 100}}); len(entries) != 1 {
		t.Fatalf("p-2 has %d entries, want its import only", len(entries))
	}
	if d, err := s.Drift(ctx); err != nil || len(d) != 0 {
		t.Fatalf("drift: %+v %v", d, err)
	}
}
