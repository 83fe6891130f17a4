package metrics

import (
	"context"
	"time"

	"github.com/allot-dev/allot"
)

// Wrap returns s with the calls on the request path timed. It wraps the
// whole store contract (allot.Store), so every method a store has reaches
// the store: the ones not overridden here pass through untimed.
func (m *Metrics) Wrap(s allot.Store) allot.Store { return &timedStore{Store: s, m: m} }

type timedStore struct {
	allot.Store
	m *Metrics
}

var _ allot.Store = (*timedStore)(nil)

func (t *timedStore) Ping(ctx context.Context) error {
	defer t.m.observeStore("ping", time.Now())
	return t.Store.Ping(ctx)
}

func (t *timedStore) TenantVersion(ctx context.Context, projectID string) (int64, error) {
	defer t.m.observeStore("tenant_version", time.Now())
	return t.Store.TenantVersion(ctx, projectID)
}

func (t *timedStore) TenantChanges(ctx context.Context, projectID string, since int64) (allot.TenantDelta, error) {
	defer t.m.observeStore("tenant_changes", time.Now())
	return t.Store.TenantChanges(ctx, projectID, since)
}

func (t *timedStore) FindCredential(ctx context.Context, accessKey string) (allot.Credential, error) {
	defer t.m.observeStore("find_credential", time.Now())
	return t.Store.FindCredential(ctx, accessKey)
}

func (t *timedStore) FindToken(ctx context.Context, hash []byte) (allot.Token, error) {
	defer t.m.observeStore("find_token", time.Now())
	return t.Store.FindToken(ctx, hash)
}

func (t *timedStore) Update(ctx context.Context, projectIDs []string, fn func(allot.Tx) error) error {
	defer t.m.observeStore("update", time.Now())
	return t.Store.Update(ctx, projectIDs, fn)
}

func (t *timedStore) LedgerEntries(ctx context.Context, q allot.LedgerQuery) ([]allot.LedgerEntry, int, error) {
	defer t.m.observeStore("ledger_entries", time.Now())
	return t.Store.LedgerEntries(ctx, q)
}

func (t *timedStore) Drift(ctx context.Context) ([]allot.Drift, error) {
	defer t.m.observeStore("drift", time.Now())
	return t.Store.Drift(ctx)
}

// Tenant settings and usage reads.

func (t *timedStore) PutSetting(ctx context.Context, s allot.Setting) error {
	defer t.m.observeStore("put_setting", time.Now())
	return t.Store.PutSetting(ctx, s)
}

func (t *timedStore) FindSetting(ctx context.Context, projectID string, kind allot.SettingKind, name string) (allot.Setting, error) {
	defer t.m.observeStore("find_setting", time.Now())
	return t.Store.FindSetting(ctx, projectID, kind, name)
}

func (t *timedStore) ListSettings(ctx context.Context, projectID string, kind allot.SettingKind, name string, p allot.Page) ([]allot.Setting, int, error) {
	defer t.m.observeStore("list_settings", time.Now())
	return t.Store.ListSettings(ctx, projectID, kind, name, p)
}

func (t *timedStore) DeleteSetting(ctx context.Context, projectID string, kind allot.SettingKind, name string) error {
	defer t.m.observeStore("delete_setting", time.Now())
	return t.Store.DeleteSetting(ctx, projectID, kind, name)
}

func (t *timedStore) UsageEntries(ctx context.Context, q allot.UsageQuery) ([]allot.UsageEntry, error) {
	defer t.m.observeStore("usage_entries", time.Now())
	return t.Store.UsageEntries(ctx, q)
}

func (t *timedStore) UserCharges(ctx context.Context, projectID, userID string) ([]allot.ChargeRow, error) {
	defer t.m.observeStore("user_charges", time.Now())
	return t.Store.UserCharges(ctx, projectID, userID)
}

func (t *timedStore) InsertSetting(ctx context.Context, s allot.Setting) error {
	defer t.m.observeStore("insert_setting", time.Now())
	return t.Store.InsertSetting(ctx, s)
}
