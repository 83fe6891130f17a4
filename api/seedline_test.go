package api

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

func TestDecodeSeedLine(t *testing.T) {
	c, err := DecodeSeedLine([]byte(`{"kind":"credential","project_id":"p","access_key":"AK1","secret_key":"secret-key-1","expires_at":"2031-01-02T03:04:05Z"}`), fixtureNow)
	if err != nil || c.Credential == nil || c.Credential.SecretKey != "secret-key-1" || !c.Credential.ExpiresAt.Equal(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)) || c.Key() != "credential AK1" {
		t.Fatalf("credential: %+v, %v", c.Credential, err)
	}
	tok, err := DecodeSeedLine([]byte(`{"kind":"token","project_id":"p","token":"token-token-1"}`), fixtureNow)
	if err != nil || tok.Token == nil || !tok.Token.ExpiresAt.Equal(fixtureNow.Add(seedTokenTTL)) {
		t.Fatalf("token: %+v, %v", tok.Token, err)
	}
	if want := "token " + allot.TokenID(TokenHash("token-token-1")); tok.Key() != want {
		t.Errorf("token key %q, want %q (never the token itself)", tok.Key(), want)
	}
	k, err := DecodeSeedLine([]byte(`{"kind":"admin_key","name":"sp-ops","key":"admin-key-1","sp_project_id":"sp"}`), fixtureNow)
	if err != nil || k.AdminKey == nil || k.AdminKey.Role != allot.RoleSP || k.Key() != "admin_key sp-ops" {
		t.Fatalf("admin key: %+v, %v", k.AdminKey, err)
	}
	// An import line is a seed line too.
	if p, err := DecodeSeedLine([]byte(`{"kind":"project","project_id":"p","name":"P","region_id":"r"}`), fixtureNow); err != nil || p.Project == nil {
		t.Fatalf("project: %v", err)
	}

	for line, param := range map[string]string{
		`{"kind":"credential","project_id":"p","access_key":"","secret_key":"secret-key-1"}`:                       "access_key",
		`{"kind":"credential","project_id":"p","access_key":"A K","secret_key":"secret-key-1"}`:                    "access_key",
		`{"kind":"credential","project_id":"p","access_key":"AK","secret_key":"short"}`:                            "secret_key",
		`{"kind":"credential","project_id":"","access_key":"AK","secret_key":"secret-key-1"}`:                      "project_id",
		`{"kind":"credential","project_id":"p","access_key":"AK","secret_key":"secret-key-1","expires_at":"soon"}`: "expires_at",
		`{"kind":"token","project_id":"p","token":"has space in it"}`:                                              "token",
		`{"kind":"admin_key","name":"ops","key":"admin-key-1","role":"root"}`:                                      "role",
		`{"kind":"admin_key","name":"","key":"admin-key-1"}`:                                                       "name",
		`{"kind":"secret"}`: "kind",
	} {
		_, err := DecodeSeedLine([]byte(line), fixtureNow)
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.Contains(allot.ErrorMessageOf(err), param) {
			t.Errorf("%s: %v, want EINVALID naming %s", line, err, param)
		}
	}
}

// TestImportRefusesSeedKinds: a secret in plain text belongs in a seed
// file only; `allot import` refuses it and says where it goes.
func TestImportRefusesSeedKinds(t *testing.T) {
	for _, line := range []string{
		`{"kind":"credential","project_id":"p","access_key":"AK1","secret_key":"secret-key-1"}`,
		`{"kind":"token","project_id":"p","token":"token-token-1"}`,
		`{"kind":"admin_key","name":"ops","key":"admin-key-1"}`,
	} {
		_, err := DecodeImportLine([]byte(line), fixtureNow)
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.Contains(allot.ErrorMessageOf(err), "--seed") {
			t.Errorf("import of %s: %v", line, err)
		}
		if bytes.Contains([]byte(allot.ErrorMessageOf(err)), []byte("secret-key-1")) {
			t.Errorf("the refusal repeats the secret: %v", err)
		}
	}
}
