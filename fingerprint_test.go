package allot

import (
	"reflect"
	"testing"
	"time"
)

// TestFingerprintGolden pins the canonical form and the fingerprint of every
// idempotent request type. Idempotency records keep these bytes across
// releases: if this test fails, a stored key would stop replaying. Do not
// update the expected values; add a new version instead.
func TestFingerprintGolden(t *testing.T) {
	expire := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	amount := Quantity(2500)
	priority := 70
	for _, c := range []struct {
		name      string
		req       request
		canonical string
		want      string
	}{
		{"purchase", PackageRequest{ProjectID: "p", ResourceID: "r", Source: SourcePurchased, OrderID: "o-1", ResourceType: "VIDEO_2D_MIN",
			BusinessType: "VIDEO_2D", SubResourceType: "", IsSubResource: false, ChargingMode: "PERIODIC", Unit: "MIN",
			Amount: 1000 * QuantityScale, ExpireTime: expire},
			"package\nproject_id=1:p\nresource_id=1:r\nresource_source=9:PURCHASED\norder_id=3:o-1\nresource_type=12:VIDEO_2D_MIN\n" +
				"business_type=8:VIDEO_2D\nsub_resource_type=0:\nis_sub_resource=5:false\ncharging_mode=8:PERIODIC\nunit=3:MIN\n" +
				"amount=10:1000000000\nexpire_time=10:1893456000\nidempotency_key=0:\n",
			"v1:35811c6f95e6a63229fda2a247c5affe9e51bf4a70acc1148976706d07679936"},
		{"grant", PackageRequest{ProjectID: "p", Source: SourceAdminAllocated, ResourceType: "TTS", BusinessType: "VOICE_CLONE",
			SubResourceType: "TTS", IsSubResource: true, ChargingMode: "ONE_TIME", Unit: "TIME", Amount: 3 * QuantityScale,
			IdempotencyKey: "grant-1"},
			"package\nproject_id=1:p\nresource_id=0:\nresource_source=15:ADMIN_ALLOCATED\norder_id=0:\nresource_type=3:TTS\n" +
				"business_type=11:VOICE_CLONE\nsub_resource_type=3:TTS\nis_sub_resource=4:true\ncharging_mode=8:ONE_TIME\nunit=4:TIME\n" +
				"amount=7:3000000\nexpire_time=0:\nidempotency_key=7:grant-1\n",
			"v1:8897e78c22306dfbf8c1f048a05a01dfdb7074d1a8c651298d039d8acb696658"},
		{"allocate", AllocateRequest{SPProjectID: "sp", CustomerProjectID: "c", ResourceSpecCode: "CHANNEL", Amount: 12 * QuantityScale,
			SPResourceID: "pool", ExpireTime: expire, IdempotencyKey: "a-1"},
			"allocate\nsp_project_id=2:sp\ncustomer_project_id=1:c\nresource_spec_code=7:CHANNEL\namount=8:12000000\n" +
				"sp_resource_id=4:pool\nexpire_time=10:1893456000\nidempotency_key=3:a-1\n",
			"v1:96f7b6c823678be74f4ea2d7493422c54ffa3930664ab60142736d576ff47f7c"},
		{"reclaim", ReclaimRequest{ResourceRef: ResourceRef{"c", "r"}, Amount: &amount, Reason: "line\none", IdempotencyKey: "k"},
			"reclaim\nproject_id=1:c\nresource_id=1:r\namount=4:2500\nreason=8:line\none\nidempotency_key=1:k\n",
			"v1:3f33d5e4482b92e20bb4ec4bc9ae2543e4d91375219dccddadabb0a1e9f7c225"},
		{"reclaim all", ReclaimRequest{ResourceRef: ResourceRef{"c", "r"}, IdempotencyKey: "k"},
			"reclaim\nproject_id=1:c\nresource_id=1:r\namount=0:\nreason=0:\nidempotency_key=1:k\n",
			"v1:3c6d20274c84c73671e80837bd58187586ddd8ac3c6ad0fe8ccc73a684641f4e"},
		{"cancel", ReclaimRequest{ResourceRef: ResourceRef{"c", "r"}, Cancel: true, Reason: "done", IdempotencyKey: "k"},
			"cancel\nproject_id=1:c\nresource_id=1:r\namount=0:\nreason=4:done\nidempotency_key=1:k\n",
			"v1:c6cf9ea7ba7353b2fa8eff6769b3b63893b129719cce249657efef10f65f3bbb"},
		{"consume by id", ConsumeRequest{ProjectID: "c", ResourceID: "r", Amount: 1250, IdempotencyKey: "use-1"},
			"consume\nproject_id=1:c\nresource_id=1:r\nresource_type=0:\namount=4:1250\nidempotency_key=5:use-1\n",
			"v1:e900f47202d6eb457009192c704e4fc30f265530259fdda06c21a1980cbea3b4"},
		{"consume by type", ConsumeRequest{ProjectID: "c", ResourceType: "VIDEO_2D_MIN", Amount: 2000, IdempotencyKey: "use-2"},
			"consume\nproject_id=1:c\nresource_id=0:\nresource_type=12:VIDEO_2D_MIN\namount=4:2000\nidempotency_key=5:use-2\n",
			"v1:ec302e8613ae4aa9eb9db7c16b75625b0f68a36b867817596725447a6eabd9a6"},
		{"refund", RefundRequest{ResourceRef: ResourceRef{"c", "r"}, Amount: 250, Reason: `retry, with "quotes"`, IdempotencyKey: "rf-1"},
			"refund\nproject_id=1:c\nresource_id=1:r\namount=3:250\nreason=20:retry, with \"quotes\"\nidempotency_key=4:rf-1\n",
			"v1:29a834843044e62e0df4c08b4bccc1e9f3c02a1ca7af0eae16d36d9b34e61d90"},
		// Fields added later are written after the original ones and only
		// when set: the consumes above keep their fingerprints.
		{"split consume for a user", ConsumeRequest{ProjectID: "c", ResourceType: "VIDEO_2D_MIN", Amount: 30 * QuantityScale, AllowSplit: true,
			IdempotencyKey: "use-3", Attribution: Attribution{UserID: "u-1", AppUserID: "app-7"}},
			"consume\nproject_id=1:c\nresource_id=0:\nresource_type=12:VIDEO_2D_MIN\namount=8:30000000\nidempotency_key=5:use-3\n" +
				"allow_split=4:true\nuser_id=3:u-1\napp_user_id=5:app-7\n",
			"v1:ca721232c73d4d7584c930465e1c71307e1aca1a1d1576556cda10affba2c704"},
		{"grant with priority", PackageRequest{ProjectID: "p", Source: SourceAdminAllocated, ResourceType: "TTS", BusinessType: "VOICE_CLONE",
			ChargingMode: "ONE_TIME", Unit: "TIME", Amount: 3 * QuantityScale, IdempotencyKey: "grant-2", Priority: &priority},
			"package\nproject_id=1:p\nresource_id=0:\nresource_source=15:ADMIN_ALLOCATED\norder_id=0:\nresource_type=3:TTS\n" +
				"business_type=11:VOICE_CLONE\nsub_resource_type=0:\nis_sub_resource=5:false\ncharging_mode=8:ONE_TIME\nunit=4:TIME\n" +
				"amount=7:3000000\nexpire_time=0:\nidempotency_key=7:grant-2\npriority=2:70\n",
			"v1:b89fdd4103cc7d00a14edb10211abcb0d593680b720a2fdf0781e0557e5675b3"},
		{"reserve by type", ReserveRequest{ProjectID: "c", ResourceType: "VIDEO_2D_MIN", Amount: 5 * QuantityScale, TTL: 900, AllowSplit: true,
			IdempotencyKey: "rsv-1", Attribution: Attribution{UserID: "u-1", AppUserID: "app-7"}},
			"reserve\nproject_id=1:c\nresource_id=0:\nresource_type=12:VIDEO_2D_MIN\namount=7:5000000\nttl=3:900\nallow_split=4:true\n" +
				"user_id=3:u-1\napp_user_id=5:app-7\nidempotency_key=5:rsv-1\n",
			"v1:9b7994f69632c6c0947136b64ca3cb389f787d42bb1d66726f76af2992d554c0"},
		{"reserve by id", ReserveRequest{ProjectID: "c", ResourceID: "r", Amount: 1 * QuantityScale, TTL: 60, IdempotencyKey: "rsv-2"},
			"reserve\nproject_id=1:c\nresource_id=1:r\nresource_type=0:\namount=7:1000000\nttl=2:60\nallow_split=5:false\n" +
				"user_id=0:\napp_user_id=0:\nidempotency_key=5:rsv-2\n",
			"v1:e110e7cff24781eb9081232d23759f43fbea4e95c00a1939421d3f28078a7ae2"},
		{"commit", CommitRequest{ReservationID: "rsv-0123456789abcdef", Amount: 700000, IdempotencyKey: "c-1"},
			"commit\nreservation_id=20:rsv-0123456789abcdef\namount=6:700000\nidempotency_key=3:c-1\n",
			"v1:0e8c4519173fe0a81664787f1bac7e10747ac3dff892a1dc0ec07d40be73e942"},
		{"release", ReleaseRequest{ReservationID: "rsv-0123456789abcdef"},
			"release\nreservation_id=20:rsv-0123456789abcdef\n",
			"v1:7bca39b15a66307c8a7b7357cd1f5e578bb15a72a4683eb3c67d02b9fbda67ef"},
	} {
		if got := string(c.req.canonical()); got != c.canonical {
			t.Errorf("%s: canonical form\n%q\nwant\n%q", c.name, got, c.canonical)
		}
		if got := c.req.canonical().fingerprint(); got != c.want {
			t.Errorf("%s: fingerprint %s, want %s", c.name, got, c.want)
		}
	}
}

// TestStoredAnswerGolden pins the JSON an idempotency record keeps of an
// answer, and that it reads back to the same OpResult. The tags are those
// release 1 wrote, so a change here breaks the replay of stored keys.
func TestStoredAnswerGolden(t *testing.T) {
	at := time.Date(2026, 12, 2, 5, 15, 47, 0, time.UTC)
	expire := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	out := OpResult{
		Resource: Resource{ProjectID: "c", ResourceID: "r", OrderID: "o", BoundAsset: &BoundAsset{AssetID: "a", AssetName: "n"},
			ExpireTime: expire, ResourceType: "TTS", BusinessType: "VOICE_CLONE", SubResourceType: "TTS", IsSubResource: true,
			ChargingMode: "ONE_TIME", Source: SourceSPAllocated, Amount: 1500000, Usage: 250000, Status: StatusFrozen, Unit: "TIME",
			Removed: true, Seq: 3, Version: 7},
		Assignment: &Assignment{RecordID: "r", SPProjectID: "sp", CustomerProjectID: "c", ResourceSpecCode: "TTS", ChargingMode: "ONE_TIME",
			ResourceNum: 1500000, ResourceUsedNum: 250000, AllocateTime: at, ExpireTime: expire, SPResourceID: "pool", Seq: 4, Version: 7},
		Entries: []LedgerEntry{{ProjectID: "c", Seq: 9, ResourceID: "r", At: at, Actor: "admin-1", Op: OpReclaim,
			AmountDelta: -500000, UsageDelta: 0, IdempotencyKey: "k", Reason: "why", Ref: "r"}},
	}
	const want = `{"resource":{"project_id":"c","resource_id":"r","order_id":"o","bound_asset":{"asset_id":"a","asset_name":"n"},` +
		`"resource_expire_time":"2030-01-01T00:00:00Z","resource_type":"TTS","business_type":"VOICE_CLONE","sub_resource_type":"TTS",` +
		`"is_sub_resource":true,"charging_mode":"ONE_TIME","resource_source":"SP_ALLOCATED","amount":1.5,"usage":0.25,"status":1,` +
		`"unit":"TIME","removed":true,"seq":3,"version":7},` +
		`"assignment":{"assignment_record_id":"r","sp_project_id":"sp","customer_project_id":"c","resource_spec_code":"TTS",` +
		`"charging_mode":"ONE_TIME","resource_num":1.5,"resource_used_num":0.25,"resource_allocate_time":"2026-12-02T05:15:47Z",` +
		`"resource_expire_time":"2030-01-01T00:00:00Z","sp_resource_id":"pool","seq":4,"version":7},` +
		`"entries":[{"project_id":"c","seq":9,"resource_id":"r","at":"2026-12-02T05:15:47Z","actor":"admin-1","op":"reclaim",` +
		`"amount_delta":-0.5,"usage_delta":0,"idempotency_key":"k","reason":"why","ref":"r"}]}`
	b, err := encodeAnswer(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("stored answer\n%s\nwant\n%s", b, want)
	}
	back, err := decodeAnswer(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, out) {
		t.Fatalf("read back\n%+v\nwant\n%+v", back, out)
	}
}

// TestStoredReservationGolden pins the JSON an idempotency record keeps of
// a reservation step, and that it reads back to the same answer.
func TestStoredReservationGolden(t *testing.T) {
	at := time.Date(2026, 12, 2, 5, 15, 47, 0, time.UTC)
	out := ReservationResult{
		Reservation: Reservation{ReservationID: "rsv-1", ProjectID: "c", State: ReservationCommitted, Amount: 30 * QuantityScale,
			Committed: 25 * QuantityScale, Holds: []Hold{{ResourceID: "a", Amount: 20 * QuantityScale, Committed: 20 * QuantityScale},
				{ResourceID: "b", Amount: 10 * QuantityScale, Committed: 5 * QuantityScale}},
			CreatedAt: at, ExpiresAt: at.Add(time.Hour), SettledAt: at.Add(time.Minute), Actor: "admin-1", IdempotencyKey: "k",
			Attribution: Attribution{UserID: "u", AppUserID: "app"}},
		Entries: []LedgerEntry{{ProjectID: "c", Seq: 3, ResourceID: "b", At: at, Actor: "admin-1", Op: OpCommit,
			UsageDelta: 5 * QuantityScale, HeldDelta: -10 * QuantityScale, IdempotencyKey: "c", Ref: "rsv-1", UserID: "u", AppUserID: "app"}},
	}
	const want = `{"reservation_id":"rsv-1","project_id":"c","state":"committed","amount":30,"committed":25,` +
		`"holds":[{"resource_id":"a","amount":20,"committed":20},{"resource_id":"b","amount":10,"committed":5}],` +
		`"created_at":"2026-12-02T05:15:47Z","expires_at":"2026-12-02T06:15:47Z","settled_at":"2026-12-02T05:16:47Z",` +
		`"actor":"admin-1","idempotency_key":"k","user_id":"u","app_user_id":"app",` +
		`"entries":[{"project_id":"c","seq":3,"resource_id":"b","at":"2026-12-02T05:15:47Z","actor":"admin-1","op":"commit",` +
		`"amount_delta":0,"usage_delta":5,"idempotency_key":"c","ref":"rsv-1","held_delta":-10,"user_id":"u","app_user_id":"app"}]}`
	b, err := encodeReservation(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("stored answer\n%s\nwant\n%s", b, want)
	}
	back, err := decodeReservation(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, out) {
		t.Fatalf("read back\n%+v\nwant\n%+v", back, out)
	}
}
