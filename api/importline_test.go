package api

import (
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// FuzzImportLine: any line is either refused with an error or becomes one
// item that passes its own validation; it never panics.
func FuzzImportLine(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"project","project_id":"p","name":"P","region_id":"r"}`,
		`{"kind":"resource","project_id":"p","resource_id":"r","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":12.5,"usage":1,"unit":"MIN","resource_expire_time":"2027-01-01T00:00:00Z"}`,
		`{"kind":"assignment","sp_project_id":"s","customer_project_id":"c","assignment_record_id":"a","resource_spec_code":"x","charging_mode":"ONE_TIME","resource_num":3,"resource_used_num":1,"resource_allocate_time":1,"resource_expire_time":2}`,
		`{"kind":"resource","amount":"1e400"}`, `[]`, `{"kind":1}`, `{"kind":"project","Kind":"resource"}`,
		`{"kind":"resource","bound_asset":{"asset_id":"a","asset_id":"b"}}`,
		`{"kind":"credential","project_id":"p","access_key":"AK","secret_key":"secret-key-1","expires_at":"2030-01-01T00:00:00Z"}`,
		`{"kind":"token","project_id":"p","token":"token-token-1"}`,
		`{"kind":"admin_key","name":"n","key":"admin-key-1","role":"sp","sp_project_id":"s"}`,
	} {
		f.Add(seed)
	}
	now := time.Unix(1700000000, 0).UTC()
	f.Fuzz(func(t *testing.T, line string) {
		checkSeedLine(t, line, now)
		item, err := DecodeImportLine([]byte(line), now)
		if err != nil {
			if item.Key() != "" {
				t.Fatalf("refused line still named an item %q", item.Key())
			}
			return
		}
		n := 0
		var verr error
		if item.Project != nil {
			n, verr = n+1, item.Project.Validate()
		}
		if item.Resource != nil {
			n, verr = n+1, item.Resource.Validate()
		}
		if item.Assignment != nil {
			n, verr = n+1, item.Assignment.Validate()
		}
		if n != 1 || verr != nil || item.Key() == "" {
			t.Fatalf("accepted line made %d items (key %q): %v", n, item.Key(), verr)
		}
	})
}

// checkSeedLine: a seed line is an import line or one of the seed kinds;
// an accepted one is exactly one item with its secret in range.
func checkSeedLine(t *testing.T, line string, now time.Time) {
	item, err := DecodeSeedLine([]byte(line), now)
	_, importErr := DecodeImportLine([]byte(line), now)
	if importErr == nil && err != nil {
		t.Fatalf("an import line is refused as a seed line: %v", err)
	}
	if err != nil {
		return
	}
	n := 0
	for _, set := range []bool{item.Project != nil, item.Resource != nil, item.Assignment != nil, item.Credential != nil, item.Token != nil, item.AdminKey != nil} {
		if set {
			n++
		}
	}
	if n != 1 || item.Key() == "" {
		t.Fatalf("accepted seed line made %d items (key %q)", n, item.Key())
	}
	switch {
	case item.Credential != nil:
		if seedSecret("secret_key", item.Credential.SecretKey) != nil || checkAccessKey(item.Credential.AccessKey) != nil {
			t.Fatalf("accepted credential %+v", item.Credential)
		}
	case item.Token != nil:
		if seedSecret("token", item.Token.Token) != nil || item.Token.ExpiresAt.IsZero() {
			t.Fatalf("accepted token %+v", item.Token)
		}
	case item.AdminKey != nil:
		k := allot.AdminKey{ID: item.AdminKey.Name, Hash: TokenHash(item.AdminKey.Key), Role: item.AdminKey.Role, SPProjectID: item.AdminKey.SPProjectID}
		if seedSecret("key", item.AdminKey.Key) != nil || k.Validate() != nil {
			t.Fatalf("accepted admin key %+v", item.AdminKey)
		}
	}
}

var fixtureNow = time.Unix(1700000000, 0).UTC()
