package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"
)

const (
	demoProject   = "demo-tenant"
	demoSPProject = "demo-sp"
	demoRegion    = "cn-north-4"
)

// demoBatch is a small, varied tenant: every source, several services and
// billing modes, a frozen and a bound resource, and SP allocations.
func demoBatch(now time.Time) allot.ImportBatch {
	day := 24 * time.Hour
	q := func(units int64) allot.Quantity { return allot.Quantity(units * allot.QuantityScale) }
	res := func(id string, bt allot.BusinessType, rt string, src allot.ResourceSource, cm allot.ChargingMode, unit allot.Unit, amount, usage int64, expire time.Duration) allot.Resource {
		return allot.Resource{
			ProjectID: demoProject, ResourceID: id, ResourceType: rt, BusinessType: bt, ChargingMode: cm,
			Source: src, Unit: unit, Amount: q(amount), Usage: q(usage), ExpireTime: now.Add(expire).Truncate(time.Second),
		}
	}
	rs := []allot.Resource{
		res("res-voice-001", "VOICE_CLONE", "VOICE_CLONE_NUM", allot.SourcePurchased, "ONE_TIME", "NUM", 5, 2, 300*day),
		res("res-video-001", "VIDEO_2D", "VIDEO_2D_MIN", allot.SourcePurchased, "PERIODIC", "MIN", 1000, 125, 30*day),
		res("res-live-001", "LIVE_2D", "Interaction.basic.channel", allot.SourceSPAllocated, "ONE_TIME", "CHANNEL", 2, 1, 90*day),
		res("res-tts-001", "SYNTHETICS_SOUND", "TTS_CHARS", allot.SourceAdminAllocated, "ON_DEMAND", "TEN_THOUSAND_WORDS", 500, 42, 365*day),
		res("res-model-001", "MODELING_2D", "MODELING_2D_NUM", allot.SourcePurchased, "ONE_TIME", "NUM", 3, 3, 10*day),
		res("res-flexus-001", "FLEXUS_2D", "FLEXUS_2D_PACKAGE", allot.SourcePurchased, "PERIODIC", "MIN", 600, 0, 60*day),
	}
	rs[1].OrderID = "order-demo-0001"
	rs[2].BoundAsset = &allot.BoundAsset{AssetID: "asset-demo-01", AssetName: "Demo anchor"}
	rs[4].Status = allot.StatusFrozen
	rs[5].IsSubResource, rs[5].SubResourceType = true, "video_time_flexus_2d_model"
	rs[5].Amount = allot.Quantity(612_500_000) // 612.5 minutes: quantities are exact decimals
	return allot.ImportBatch{
		Projects: []allot.Project{
			{ID: demoSPProject, Name: "Demo service provider", RegionID: demoRegion, CreatedAt: now},
			{ID: demoProject, Name: "Demo tenant", RegionID: demoRegion, SPProjectID: demoSPProject, CreatedAt: now},
		},
		Resources: rs,
		Assignments: []allot.Assignment{
			{RecordID: "assign-demo-001", SPProjectID: demoSPProject, CustomerProjectID: demoProject, ResourceSpecCode: "Interaction.basic.channel",
				ChargingMode: "ONE_TIME", ResourceNum: q(2), ResourceUsedNum: q(1), AllocateTime: now.Add(-7 * day), ExpireTime: now.Add(90 * day)},
			{RecordID: "assign-demo-002", SPProjectID: demoSPProject, CustomerProjectID: demoProject, ResourceSpecCode: "VIDEO_2D_MIN",
				ChargingMode: "PERIODIC", ResourceNum: q(120), ResourceUsedNum: q(30), AllocateTime: now.Add(-2 * day), ExpireTime: now.Add(30 * day)},
		},
	}
}

// fixedCredential is an AK/SK pair given by the operator rather than
// generated; the zero value means none was given.
type fixedCredential struct{ ak, sk string }

// demoCredential reads ALLOT_DEMO_AK and ALLOT_DEMO_SK, which fix the demo
// tenant's credential so developers can hard-code it. Both or neither: one
// without the other would silently fall back to a random pair.
func (m *Main) demoCredential() (fixedCredential, error) {
	f := fixedCredential{ak: m.Getenv("ALLOT_DEMO_AK"), sk: m.Getenv("ALLOT_DEMO_SK")}
	switch {
	case f.ak == "" && f.sk == "":
		return f, nil
	case f.sk == "":
		return f, usageError{errors.New("ALLOT_DEMO_AK is set but ALLOT_DEMO_SK is not: set both to fix the demo credential, or neither for a random one")}
	case f.ak == "":
		return f, usageError{errors.New("ALLOT_DEMO_SK is set but ALLOT_DEMO_AK is not: set both to fix the demo credential, or neither for a random one")}
	}
	if err := allot.ValidateID("ALLOT_DEMO_AK", f.ak); err != nil {
		return f, usageError{err}
	}
	if len(f.sk) > 128 {
		return f, usageError{allot.Invalid("ALLOT_DEMO_SK", "is longer than 128 characters")}
	}
	for i := 0; i < len(f.sk); i++ {
		// Printable ASCII only: the secret is printed, pasted into code and
		// passed through environments, where anything else gets mangled.
		if c := f.sk[i]; c <= ' ' || c > '~' {
			return f, usageError{allot.Invalid("ALLOT_DEMO_SK", "has a character that is not printable ASCII (or is a space)")}
		}
	}
	return f, nil
}

// demo makes sure the demo tenant exists, gives it a credential (fixed's,
// when given, else a fresh one) and a fresh token, and prints how to call the
// API with them.
func (m *Main) demo(ctx context.Context, store allot.Store, keyring *secret.Keyring, fixed fixedCredential, endpoint, adminEndpoint string) error {
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := store.FindProject(ctx, demoProject); allot.ErrorCodeOf(err) == allot.ENOTFOUND {
		if err := store.Import(ctx, demoBatch(now)); err != nil {
			return fmt.Errorf("seeding the demo tenant: %w", err)
		}
	} else if err != nil {
		return err
	}
	if err := loadDefaultCatalog(ctx, store); err != nil {
		return fmt.Errorf("loading the default spec catalog: %w", err)
	}
	ak, sk := fixed.ak, fixed.sk
	var err error
	if ak != "" {
		if _, err := app.EnsureCredential(ctx, store, keyring, demoProject, ak, sk); err != nil {
			return fmt.Errorf("ALLOT_DEMO_AK/ALLOT_DEMO_SK: %w", err)
		}
	} else if ak, sk, err = newCredential(ctx, store, keyring, demoProject, time.Time{}); err != nil {
		return err
	}
	token, expires, err := newToken(ctx, store, demoProject, 24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, `
Demo tenant ready.
  endpoint:    %[1]s
  project id:  %[2]s   region: %[3]s
  access key:  %[4]s
  secret key:  %[5]s
  token:       %[6]s   (expires %[7]s)

Try it with the token:
  curl -s -H 'X-Auth-Token: %[6]s' '%[1]s/v1/%[2]s/tenants/resources?resource_source=PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED&limit=5'
  curl -s -H 'X-Auth-Token: %[6]s' '%[1]s/v1/%[2]s/tenants/resource/assignrecourd'

Or with the official Go SDK (github.com/huaweicloud/huaweicloud-sdk-go-v3), AK/SK signed:
  auth := basic.NewCredentialsBuilder().WithAk("%[4]s").WithSk("%[5]s").WithProjectId("%[2]s").Build()
  client := metastudio.NewMetaStudioClient(metastudio.MetaStudioClientBuilder().
      WithEndpoints([]string{"%[1]s"}).WithCredential(auth).Build())
  resp, err := client.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})

Or look: the tenant portal is %[1]s/portal/ (sign in with the token).

`, endpoint, demoProject, demoRegion, ak, sk, token, expires.Format(time.RFC3339))
	if adminEndpoint == "" {
		return nil
	}
	key, err := newAdminKey(ctx, store, "demo-admin-"+demoKeySuffix(), "")
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, `The management API (operators only; keep it private), with an admin key:
  admin key:   %[1]s
  console:     %[2]s/console/ (sign in with the admin key)
  curl -s -H 'Authorization: Bearer %[1]s' -d '{"project_id":"%[3]s","resource_id":"res-video-001","amount":2.5,"idempotency_key":"demo-consume-1"}' '%[2]s/admin/v1/consume'
  curl -s -H 'Authorization: Bearer %[1]s' '%[2]s/admin/v1/ledger?project_id=%[3]s'

`, key, adminEndpoint, demoProject)
	return nil
}

// demoKeySuffix tells apart the admin keys of successive demo starts.
func demoKeySuffix() string {
	ak, _ := allot.NewAccessKeyPair()
	return strings.ToLower(ak[:6])
}

// loadDefaultCatalog puts allot's shipped spec catalog into an empty
// catalog; a catalog the operator imported is never touched.
func loadDefaultCatalog(ctx context.Context, store allot.Store) error {
	specs, err := store.Catalog(ctx)
	if err != nil || len(specs) > 0 {
		return err
	}
	if specs, err = api.DecodeCatalog(allot.DefaultCatalog); err != nil {
		return err
	}
	return store.PutCatalog(ctx, specs)
}
